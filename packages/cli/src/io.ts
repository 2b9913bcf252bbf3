// What the commands share: datasets or CSV files as point sets, loading models, writing outputs atomically.
import { existsSync } from 'node:fs';
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { type Checkpoint, DATASET_NAMES, sampleDataset, type DatasetName, modelFromCheckpoint, makePath, type TrainConfig, flowFromCheckpoint, type FlowTrainConfig, type NormalizingFlow, logProb, type FieldModel, asVelocity, guidedDiffField, fieldOf, SCORE_T0, type Field } from '@rill/flowmatch';
import { loadCheckpoint, readCsv, readNpy, writeCsv, writeNpy } from '@rill/flowmatch/node';
import { UsageError } from './flags.js';

/** True for a known dataset name. */
export const isDataset = (s: string): s is DatasetName => (DATASET_NAMES as readonly string[]).includes(s);

/** Whether a path names a NumPy file (by its extension): points are read and written as `.npy` there, CSV elsewhere. */
const isNpy = (path: string) => /\.npy$/i.test(path);

/**
 * Points from a CSV or NumPy `.npy` file, checked to be (n, dim) with at least one row; errors name the flag and the
 * file. `indexCol` drops a CSV's first column (pandas' index).
 */
export function readPoints(command: string, flag: string, path: string, dim?: number, options: { indexCol?: boolean } = {}): Tensor {
  if (!existsSync(path)) {
    throw new UsageError(`rill ${command}: --${flag} '${path}' is neither a dataset (${DATASET_NAMES.join(', ')}) nor an existing CSV or .npy file`);
  }
  let points: Tensor;
  if (isNpy(path)) {
    if (options.indexCol) throw new UsageError(`rill ${command}: --index-col is for CSV files; ${path} is a NumPy file`);
    points = readNpy(path);
    if (points.rank !== 2 || points.shape[0] < 1) {
      throw new UsageError(`rill ${command}: ${path} holds an array of shape (${points.shape.join(', ')}); points are a 2-D array (n ≥ 1, dimensions)`);
    }
    // Training and sampling run in float32: a float64 value beyond ±3.4e38 would become ±∞ there.
    const bad = points.data.findIndex((x) => !(Math.abs(x) <= 3.4028234663852886e38));
    if (bad >= 0) throw new UsageError(`rill ${command}: ${path}: row ${Math.floor(bad / points.shape[1]) + 1} holds ${points.data[bad]}; points must be finite in float32 (|x| ≤ 3.4e38)`);
    if (points.dtype !== 'float32') {
      const read = points;
      points = T.cast(read, 'float32');
      read.dispose();
    }
  } else points = readCsv(path, options).points;
  if (dim !== undefined && points.shape[1] !== dim) {
    throw new UsageError(`rill ${command}: ${path} has ${points.shape[1]} columns but the model works in ${dim} dimensions`);
  }
  return points;
}

/**
 * Points and, when the file has them, their classes: a CSV's `label` column (taken out of the points), or for a
 * `.npy` file the integers in `labelsPath` (one per row). Labels must be integers ≥ 0.
 */
export function readLabeledPoints(command: string, flag: string, path: string, options: { indexCol?: boolean } = {}, labelsPath?: string): { points: Tensor; labels: Tensor | null } {
  const integers = (values: ArrayLike<number>, from: string) => {
    const bad = Array.from(values).findIndex((v) => !(Number.isInteger(v) && v >= 0 && v < 2 ** 31));
    if (bad >= 0) throw new UsageError(`rill ${command}: ${from}: row ${bad + 1} has the label ${values[bad]}; labels are integers 0, 1, …`);
    return T.tensor(Array.from(values), { dtype: 'int32' });
  };
  if (isNpy(path) || !existsSync(path)) {
    const points = readPoints(command, flag, path, undefined, options);
    if (!labelsPath) return { points, labels: null };
    const read = readNpy(labelsPath);
    if (!(read.rank === 1 || (read.rank === 2 && read.shape[1] === 1)) || read.shape[0] !== points.shape[0]) {
      throw new UsageError(`rill ${command}: --labels ${labelsPath} holds an array of shape (${read.shape.join(', ')}); it needs one label per row of ${path}: (${points.shape[0]})`);
    }
    return { points, labels: integers(read.data, labelsPath) };
  }
  if (labelsPath) throw new UsageError(`rill ${command}: --labels is for .npy data; a CSV gives its labels in a column named label`);
  const { points, columns } = readCsv(path, options);
  const at = columns.indexOf('label');
  if (at < 0) return { points, labels: null };
  if (columns.length < 2) throw new UsageError(`rill ${command}: ${path} has only a label column, no coordinates`);
  const [n, d] = points.shape;
  const keep = Array.from({ length: d }, (_, j) => j).filter((j) => j !== at);
  const values = new Float32Array(n * keep.length);
  for (let i = 0; i < n; i++) keep.forEach((j, k) => (values[i * keep.length + k] = points.data[i * d + j]));
  const labels = integers(Array.from({ length: n }, (_, i) => points.data[i * d + at]), path);
  return { points: T.tensor(values, { shape: [n, keep.length] }), labels };
}

/** Writes points to a `.npy` file (float32, (n, d)) or, for any other name, a CSV file with a header x0,x1,… (and label). */
export function writePoints(path: string, points: Tensor, labels?: ArrayLike<number>): void {
  if (isNpy(path)) writeNpy(path, points); // (n, d) only: the caller says how the rows are ordered by class
  else writeCsv(path, points, labels);
}

/** n points of a named dataset (drawn from `generator`), or the rows of a CSV or `.npy` file. */
export function loadPoints(command: string, flag: string, spec: string, n: number, generator: T.Generator, dim?: number, options: { indexCol?: boolean } = {}): Tensor {
  if (isDataset(spec)) {
    if (dim !== undefined && dim !== 2) throw new UsageError(`rill ${command}: --${flag} ${spec} is 2-dimensional but the model works in ${dim} dimensions`);
    return sampleDataset(spec, n, { generator });
  }
  return readPoints(command, flag, spec, dim, options);
}

/** A model file: the checkpoint and its model (EMA weights when present, unless raw). */
export function loadModel(command: string, path: string, raw = false, ckpt = loadCheckpoint(path)): { ckpt: Checkpoint; model: FieldModel; config: TrainConfig } {
  if (ckpt.kind !== 'cfm') throw new UsageError(`rill ${command}: ${path} holds a '${ckpt.kind}' model, which this command cannot use`);
  const model = modelFromCheckpoint(ckpt, { ema: !raw });
  finiteWeights(command, path, model.parameters());
  return { ckpt, model, config: ckpt.config as unknown as TrainConfig };
}

/**
 * The velocity field a cfm model is sampled with, and the times it is integrated over: the model itself on [0, 1], or
 * for a noise-predicting model (objective score) its ε̂ converted to a velocity, on [SCORE_T0, the path's tMax].
 */
export function samplingField(model: FieldModel, config: TrainConfig, field: Field = fieldOf(model)): { field: Field; t0: number; t1: number } {
  if ((config.objective ?? 'velocity') === 'velocity') return { field, t0: 0, t1: 1 };
  const path = makePath(config);
  return { field: asVelocity(field, path, 'epsilon'), t0: SCORE_T0, t1: path.scheduler.tMax };
}

/** A model whose weights hold NaN or ±∞ (a diverged run) can only produce NaN: refuse it, naming the file. */
export function finiteWeights(command: string, path: string, params: { value: Tensor }[]): void {
  if (!params.every((p) => p.value.data.every(Number.isFinite))) {
    throw new UsageError(`rill ${command}: ${path}: the model's weights contain NaN or ±∞ (a diverged run): retrain it, e.g. with a smaller --lr`);
  }
}

/** Refuses to write results that are not all finite: `what` names them (`samples`, `log-densities`). */
export function finiteOutputs(command: string, values: Tensor, what: string, why: string): void {
  let bad = 0;
  for (const x of values.data) if (!Number.isFinite(x)) bad++;
  if (bad > 0) throw new UsageError(`rill ${command}: ${bad} of the ${values.size} ${what} are NaN or ±∞ (${why}); nothing was written`);
}

/** A model file of either kind: a flow-matching velocity field (cfm) or a normalizing flow. */
export type AnyModel =
  | { kind: 'cfm'; ckpt: Checkpoint; model: FieldModel; config: TrainConfig }
  | { kind: 'flow'; ckpt: Checkpoint; flow: NormalizingFlow; config: FlowTrainConfig };

export function loadAnyModel(command: string, path: string, raw = false): AnyModel {
  const ckpt = loadCheckpoint(path);
  if (ckpt.kind === 'flow') {
    const flow = flowFromCheckpoint(ckpt);
    finiteWeights(command, path, flow.parameters());
    return { kind: 'flow', ckpt, flow, config: ckpt.config as unknown as FlowTrainConfig };
  }
  const { model, config } = loadModel(command, path, raw, ckpt);
  return { kind: 'cfm', ckpt, model, config };
}

/**
 * log p(x) of points under either kind of model, and its cost in network evaluations: a flow's exact change of
 * variables (one pass), or a CFM model's instantaneous change of variables along the ODE (RK4 with `steps` steps),
 * which needs the standard normal source.
 */
export function modelLogProb(
  command: string,
  m: AnyModel,
  points: Tensor,
  options: { steps: number; divergence?: 'exact' | 'hutchinson'; label?: number | null; guidance?: number },
): { logProb: Tensor; nfe: number } {
  if (m.kind === 'flow') return { logProb: T.keep(T.tidy(() => m.flow.logProb(points).value)), nfe: 1 };
  if (m.config.source !== 'normal') {
    throw new UsageError(`rill ${command}: the model maps from '${m.config.source}', whose density is unknown; log p needs a standard normal source`);
  }
  if (m.config.objective === 'score') {
    throw new UsageError(`rill ${command}: log p integrates the velocity's divergence from t = 0; this model predicts noise (objective score), whose velocity is singular at t = 0`);
  }
  const path = makePath(m.config);
  const { model } = m;
  const label = options.label ?? null;
  if (label !== null && model.config.classes === 0) throw new UsageError(`rill ${command}: --class needs a class-conditional model (rill train --cond class)`);
  // the density of the (guided) field of a class, or of the unconditional field: log p_1(x | y) under ũ
  const field = label === null ? Object.assign((x: Parameters<typeof model.forward>[0], t: number) => model.forward(x, t), { evaluationsPerCall: 1 }) : guidedDiffField(model, label, options.guidance ?? 1);
  const result = logProb(field as never, points, { method: 'rk4', steps: options.steps, divergence: options.divergence ?? 'exact', sourceLogProb: (x: Tensor) => path.sourceLogProb(x) });
  return { logProb: result.logProb, nfe: result.nfe * field.evaluationsPerCall };
}


/** Seconds since `start` (a performance.now() value), as text. */
export const seconds = (start: number) => `${((performance.now() - start) / 1000).toFixed(2)} s`;
