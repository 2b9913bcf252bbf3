// `rill eval` on a model of images (MNIST): samples at each guidance scale scored by Rill's own referee — the fraction
// the classifier labels as the class asked for, and the Fréchet distance (FD) of its 128-d features to MNIST's test
// set — beside the floor (as many training images vs the test set), and the guidance-sweep figure.
import { fileURLToPath } from 'node:url';
import * as T from '@rill/tensor';
import { accuracy, classify, fieldOf, frechetDistance, guidedField, inChunks, refereeFromCheckpoint, solve, type ConvClassifier, type FieldModel, type Method, type TrainConfig } from '@rill/flowmatch';
import { UsageError, type Values } from './flags.js';
import { samplingField } from './io.js';
import { loadMnist } from './mnist.js';
import { imageGrid } from './plot/raster.js';
import { loadCheckpoint, writeFileAtomic } from '@rill/flowmatch/node';

/** The referee this package ships: trained by `rill referee` (scripts/train-referee.sh), its test accuracy in its meta. */
export const SHIPPED_REFEREE = fileURLToPath(new URL('../referee/mnist.rill', import.meta.url));

/** The referee at `path` (default: the shipped one), and the test accuracy its file records. */
export function loadReferee(command: string, path = SHIPPED_REFEREE): { model: ConvClassifier; testAccuracy: number | null } {
  try {
    const ckpt = loadCheckpoint(path); // errors name the file (and the errno, or what is wrong inside it)
    const acc = ckpt.meta?.testAccuracy;
    return { model: refereeFromCheckpoint(ckpt), testAccuracy: typeof acc === 'number' ? acc : null };
  } catch (e) {
    if (e instanceof T.RillError) throw new UsageError(`rill ${command}: the referee ${e.message}`);
    throw e;
  }
}

/** One guidance scale's scores. */
export interface ImageGuidanceRow {
  /** The guidance scale w. */
  w: number;
  /** Fraction of samples the referee labels as the class they were sampled for. */
  accuracy: number;
  /** Fréchet distance of the samples' referee features to the test set's. */
  fd: number;
  /** The accuracy class by class. */
  perClass: number[];
  /** Network evaluations per sample. */
  nfe: number;
  /** Seconds the sampling took. */
  seconds: number;
}

/** Samples `perClass` images of every class at each w, and scores them; the floor from as many training images. */
export function evaluateImages(v: Values, model: FieldModel, config: TrainConfig, ws: number[]) {
  const K = model.config.classes;
  const n = Number(v.n);
  if (K > 0 && n % K !== 0) throw new UsageError(`rill eval: --n ${n} must be a multiple of the ${K} classes (as many samples of each)`);
  const referee = loadReferee('eval', v.referee === undefined ? undefined : String(v.referee));
  const { train, test } = loadMnist('eval', v);
  const reference = classify(referee.model, test.images).features; // the test set: 10 000 feature vectors
  const g = new T.Generator(Number(v.seed));
  const picks = Array.from({ length: n }, () => g.int(0, train.images.shape[0]));
  const floor = frechetDistance(classify(referee.model, T.gather(train.images, picks)).features, reference);
  const solver = { method: String(v.solver) as Method, steps: Number(v.steps) };
  const perClass = K > 0 ? n / K : n;
  const noise = T.randn([perClass, config.dim], { generator: g }); // the same noise for every class and w
  const rows: ImageGuidanceRow[] = [];
  const grids: Float32Array[][][] = []; // [w][class][sample]
  for (const w of K > 0 ? ws : [1]) {
    const start = performance.now();
    const parts: T.Tensor[] = [];
    let nfe = 0;
    for (let k = 0; k < Math.max(K, 1); k++) {
      const guided = K > 0 ? guidedField(model, k, w) : Object.assign(fieldOf(model), { evaluationsPerCall: 1 });
      const { field, t0, t1 } = samplingField(model, config, guided);
      const run = solve(inChunks(field, 200), noise, { ...solver, t0, t1 });
      parts.push(run.x);
      nfe = run.nfe * guided.evaluationsPerCall;
    }
    const seconds = (performance.now() - start) / 1000;
    const samples = T.concat(parts, 0);
    const wanted = Int32Array.from({ length: samples.shape[0] }, (_, i) => (K > 0 ? Math.floor(i / perClass) : -1));
    const scored = classify(referee.model, samples);
    const byClass = Array.from({ length: K }, (_, k) => accuracy(scored.labels.subarray(k * perClass, (k + 1) * perClass), k));
    rows.push({ w, accuracy: K > 0 ? accuracy(scored.labels, wanted) : NaN, fd: frechetDistance(scored.features, reference), perClass: byClass, nfe, seconds });
    grids.push(parts.map((p) => Array.from({ length: Math.min(3, perClass) }, (_, i) => Float32Array.from(p.data.subarray(i * config.dim, (i + 1) * config.dim)))));
    T.dispose([samples, ...parts, scored.features]);
  }
  if (v.png !== undefined) {
    // rows = classes; for each w, three samples side by side (the same noise in every group)
    const cells = Array.from({ length: Math.max(K, 1) }, (_, k) => grids.flatMap((byW) => byW[k]));
    const colLabels = grids.flatMap((byW, i) => byW[0].map((_, j) => (j === 0 ? `w = ${rows[i].w}` : '')));
    writeFileAtomic(String(v.png), imageGrid(cells, Math.round(Math.sqrt(config.dim)), { rowLabels: cells.map((_, k) => (K > 0 ? `${k}` : '')), colLabels, title: 'Classifier-free guidance: classes × w' }));
  }
  return { n, perClass, solver, floor: { fd: floor }, referee: { path: v.referee === undefined ? 'shipped' : String(v.referee), testAccuracy: referee.testAccuracy }, guidance: rows };
}
