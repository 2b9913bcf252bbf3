// `rill eval` on a class-conditional model: for each guidance scale w, how often a sample lands in the class it was
// asked for (a k-nearest-neighbour vote among labelled data; the same vote on fresh data is the ceiling) and how
// diverse each class's samples stay (W2 to that class's data, beside the data-vs-data floor); and the grid figure.
import * as T from '@rill/tensor';
import { guidedField, sampleLabeled, solve, wasserstein2, DATASET_CLASSES, type DatasetName, type FieldModel, type TrainConfig } from '@rill/flowmatch';
import { samplingField } from './io.js';
import { writeFigure } from './figure.js';
import type { Chart } from './plot/svg.js';
import { UsageError } from './flags.js';

/** Neighbours in the vote. */
const K_NEIGHBOURS = 15;

/** The majority label among the k nearest reference points of each row of x (ties: the smaller label). */
export function knnLabels(x: T.Tensor, ref: T.Tensor, refLabels: ArrayLike<number>, classes: number, k = K_NEIGHBOURS): Int32Array {
  const [n, d] = x.shape;
  const m = ref.shape[0];
  const kk = Math.min(k, m);
  const out = new Int32Array(n);
  const best = new Float64Array(kk); // the kk smallest distances so far, ascending, and their points
  const who = new Int32Array(kk);
  for (let i = 0; i < n; i++) {
    best.fill(Infinity);
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += (x.data[i * d + c] - ref.data[j * d + c]) ** 2;
      if (!(s < best[kk - 1])) continue;
      let at = kk - 1; // insert s in order, dropping the largest
      for (; at > 0 && best[at - 1] > s; at--) (best[at] = best[at - 1]), (who[at] = who[at - 1]);
      [best[at], who[at]] = [s, j];
    }
    const votes = new Array<number>(classes).fill(0);
    for (let q = 0; q < kk; q++) votes[refLabels[who[q]]]++;
    out[i] = votes.indexOf(Math.max(...votes));
  }
  return out;
}

/** One guidance scale's results. */
export interface GuidanceRow {
  /** The guidance scale w. */
  w: number;
  /** Fraction of samples whose k-NN label is the class they were sampled for. */
  accuracy: number;
  /** W2 of each class's samples to that class's fresh data, averaged over the classes. */
  w2: number;
  /** Network evaluations per class (dopri5; two per call where 0 < w ≠ 1). */
  nfe: number;
  /** Class by class: the accuracy and the W2 (the two above are their means). */
  perClass: { accuracy: number[]; w2: number[] };
}

/** The guidance sweep: per w, class accuracy and per-class W2; the k-NN ceiling and the per-class floor on fresh data. */
export function guidanceSweep(model: FieldModel, config: TrainConfig, spec: string, n: number, seed: number, ws: number[], png?: string) {
  const K = model.config.classes;
  if (!(spec in DATASET_CLASSES) || DATASET_CLASSES[spec as DatasetName] !== K) {
    throw new UsageError(`rill eval: --guidance needs the labelled data the model was trained on, a built-in dataset with ${K} classes; got ${spec}`);
  }
  const g = new T.Generator(seed + 7);
  const ref = sampleLabeled(spec as DatasetName, 1000 * K, { generator: g }); // the vote's reference
  // Fresh data of each class, split in two halves (the first to compare samples with, the pair for the floor)
  const fresh = sampleLabeled(spec as DatasetName, 2 * n * K, { generator: g });
  const halves = Array.from({ length: K }, (_, k) => {
    const all = T.gather(fresh.points, Array.from(fresh.labels.data.keys()).filter((i) => fresh.labels.data[i] === k));
    const m = Math.min(n, Math.floor(all.shape[0] / 2));
    return [T.slice(all, [0], [m]), T.slice(all, [m], [2 * m])];
  });
  const ceiling = knnLabels(fresh.points, ref.points, ref.labels.data, K).filter((v, i) => v === fresh.labels.data[i]).length / fresh.points.shape[0];
  const floor = Array.from({ length: K }, (_, k) => wasserstein2(halves[k][0], halves[k][1])).reduce((a, b) => a + b, 0) / K;
  const rows: GuidanceRow[] = [];
  const charts: Chart[] = [];
  for (const w of ws) {
    let [hits, w2, nfe] = [0, 0, 0];
    const perClass = { accuracy: [] as number[], w2: [] as number[] };
    for (let k = 0; k < K; k++) {
      const guided = guidedField(model, k, w);
      const { field, t0, t1 } = samplingField(model, config, guided);
      const noise = T.randn([n, config.dim], { generator: new T.Generator(seed * 1000 + k) }); // the same noise for every w
      const { x, nfe: calls } = solve(field, noise, { method: 'dopri5', rtol: 1e-4, atol: 1e-4, t0, t1 });
      const right = knnLabels(x, ref.points, ref.labels.data, K).filter((v) => v === k).length;
      hits += right;
      const data = halves[k][0];
      const classW2 = wasserstein2(T.slice(x, [0], [data.shape[0]]), data); // equal sizes (the class's share of fresh data may fall short of n)
      w2 += classW2 / K;
      perClass.accuracy.push(right / n);
      perClass.w2.push(classW2);
      nfe = Math.max(nfe, calls * guided.evaluationsPerCall);
      charts[k * ws.length + rows.length] = {
        title: `class ${k}, w = ${w}`,
        xLabel: 'x₀',
        yLabel: 'x₁',
        equal: true,
        layers: [
          { kind: 'scatter', xy: data.data, color: '#9ecae1', radius: 1.4, opacity: 0.6 },
          { kind: 'scatter', xy: x.data, color: '#d62728', radius: 1.6, opacity: 0.6 },
        ],
      };
    }
    rows.push({ w, accuracy: hits / (n * K), w2, nfe, perClass });
  }
  if (png && config.dim === 2) writeFigure(png, charts, 260, 250, ws.length);
  return { rows, ceiling, floor };
}
