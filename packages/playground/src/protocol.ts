// The messages between the page and the training worker (structured-cloned; typed arrays are transferred).
import type { DatasetName, Method } from '@rill/flowmatch';

export type BackendName = 'js' | 'wasm' | 'gpu' | 'webgpu';

/** Everything the page lets a user choose for a run. */
export interface Settings {
  data: DatasetName | 'custom';
  /** Painted points (x0, y0, x1, y1, …) when data is 'custom'. */
  points?: number[];
  steps: number;
  batch: number;
  hidden: number[];
  activation: 'selu' | 'silu' | 'relu' | 'tanh' | 'gelu';
  optimizer: 'adam' | 'adamw' | 'sgd';
  lr: number;
  path: 'linear' | 'cosine';
  sigma: number;
  coupling: 'independent' | 'ot';
  seed: number;
  backend: BackendName;
  /** Condition on the dataset's classes (classifier-free guidance). */
  conditional: boolean;
}

/** How to sample: the ODE (diffusion 0) or the SDE, from the unconditional field or a class at guidance w. */
export interface Sampling {
  solver: Method;
  steps: number;
  /** A class, or null for the unconditional field. */
  label: number | null;
  guidance: number;
  /** g of the SDE's g·√β_t (0: the ODE). */
  diffusion: number;
}

export type ToWorker =
  | { type: 'train'; settings: Settings; sampling: Sampling }
  | { type: 'stop' }
  | { type: 'snapshot'; sampling: Sampling }
  | { type: 'field'; t: number; exact: boolean; label: number | null; guidance: number }
  | { type: 'compare' }
  | { type: 'save' }
  | { type: 'load'; bytes: ArrayBuffer; backend: BackendName };

/** Positions of the snapshot's points at each of TIMES (row-major (n, 2) each). */
export const TIMES = Array.from({ length: 21 }, (_, i) => i / 20);

export type FromWorker =
  | { type: 'progress'; step: number; steps: number; losses: number[]; stepsPerSecond: number; backend: string }
  | { type: 'snapshot'; step: number; data: Float32Array; trajectory: Float32Array[]; w2: number; nfe: number; solver: string; seconds: number }
  | { type: 'field'; t: number; grid: number; span: number; xy: Float32Array; uv: Float32Array; exact: Float32Array | null }
  | { type: 'compare'; step: number; rows: { solver: Method; nfe: number; w2: number; seconds: number }[] }
  | { type: 'saved'; bytes: ArrayBuffer }
  | { type: 'loaded'; step: number; data: string; classes: number }
  | { type: 'started'; classes: number }
  | { type: 'done'; step: number }
  | { type: 'error'; message: string };
