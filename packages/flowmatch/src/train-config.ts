// A training run's configuration: the fields, torchcfm's recipe as the default, the checks, and what each field builds
// (the model, the path, the optimizer, the learning-rate schedule).
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { COUPLINGS, type CouplingName } from './couplings.js';
import { DATASET_CLASSES, DATASET_NAMES, type DatasetName } from './datasets.js';
import { Adam, AdamW, SGD, constantLr, cosineLr, warmupLr, type ActivationName, type Optimizer, type Schedule } from '@rill/autograd';
import { MLP, type TimeEmbedding } from './mlp.js';
import { UNet } from './unet.js';
import { GaussianPath, SCHEDULERS } from './paths.js';
import { TIME_SAMPLINGS, type TimeSampling } from './time-sampling.js';

/** Everything that defines a training run; plain JSON, stored in every checkpoint. */
export interface TrainConfig {
  /**
   * A 2D dataset name; `mnist` (images, D = 784, passed to the Trainer as custom points and never stored in its
   * checkpoints: readMnist in '@rill/flowmatch/node'); or `custom` for points passed to the Trainer (and stored).
   */
  data: DatasetName | ImageDataName | 'custom';
  /** `normal` (N(0, I)), a dataset name, or `custom`. */
  source: 'normal' | DatasetName | 'custom';
  /** Data dimension D (a positive integer; 2 when data or source is a built-in dataset). */
  dim: number;
  /** Number of training steps (a positive integer); also the length of the cosine schedule. */
  steps: number;
  /** Batch size (a positive integer). */
  batch: number;
  /** The velocity field: `mlp` (hidden, activation, time), or `unet` for square one-channel images (channels). */
  model: 'mlp' | 'unet';
  /** c, the U-Net's channels at full resolution (2c and 4c below; ignored by the MLP). */
  channels: number;
  /** Hidden widths of the MLP. */
  hidden: number[];
  /** Activation between the MLP's layers. */
  activation: ActivationName;
  /** How the MLP sees t. */
  time: TimeEmbedding;
  /** The optimizer: Adam, AdamW or SGD with momentum. */
  optimizer: 'adam' | 'adamw' | 'sgd';
  /** Base learning rate (positive, finite). */
  lr: number;
  /** Weight decay λ ≥ 0 (L2 for adam and sgd, decoupled for adamw; 0 here means none, also for adamw). */
  weightDecay: number;
  /** SGD's momentum, in [0, 1) (ignored by adam and adamw). */
  momentum: number;
  /** Learning-rate schedule over `steps`: constant, or cosine decay to 0. */
  schedule: 'constant' | 'cosine';
  /** Steps of linear warm-up before the schedule (a non-negative integer; 0 = none). */
  warmup: number;
  /** Clip the global gradient norm to this (positive) value, or null for no clipping. */
  clipNorm: number | null;
  /** The probability path (see {@link SCHEDULERS}); `vp` requires the normal source. */
  path: 'linear' | 'cosine' | 'vp';
  /** Standard deviation σ ≥ 0 of the noise added to x_t (I-CFM's σ). */
  sigma: number;
  /** σ_min of the linear path, in [0, 1) (ignored by cosine and vp). */
  sigmaMin: number;
  /** How source samples are paired with data in each batch. */
  coupling: CouplingName;
  /** EMA decay, or 0 for no EMA. */
  ema: number;
  /** How t is drawn: `uniform` on [0, 1) (the reference recipes), or `logit-normal` (σ of a standard normal; SD3's). */
  timeSampling: TimeSampling;
  /** Seed of the run's generator (initialisation, batches, times and noise). */
  seed: number;
  /** Size of the fixed held-out batch the validation loss is computed on. */
  validationSize: number;
  /** K > 0: a class-conditional field u_θ(x, t, y) over the data's K classes (classifier-free guidance); 0: none. */
  classes: number;
  /** Width of the learned class embedding (conditional fields). */
  classDim: number;
  /** Probability that a training label is replaced by the null class ∅, in [0, 1] (Ho & Salimans 2022: 0.1–0.2). */
  pUncond: number;
  /**
   * What the network learns: `velocity` (flow matching), or `score` (denoising score matching as noise prediction ε̂,
   * the diffusion-model baseline; N(0, I) source and independent pairs only; sampled from t = SCORE_T0).
   */
  objective: 'velocity' | 'score';
}

/** The image datasets: their side, and the classes a conditional field on them has. */
export const IMAGE_DATA = {
  /** MNIST's handwritten digits (LeCun et al. 1998): 28 × 28, ten classes. */
  mnist: {
    /** The images' side in pixels. */
    side: 28,
    /** The number of classes. */
    classes: 10,
  },
} as const;
/** One of IMAGE_DATA's names. */
export type ImageDataName = keyof typeof IMAGE_DATA;

/** The velocity fields a config can describe: an MLP on points (or flattened images), or a U-Net on images. */
export type FieldModel = MLP | UNet;

/** Where sampling an ε-prediction model starts: its velocity ẑ-term divides by α_t, 0 at t = 0 (linear, cosine). */
export const SCORE_T0 = 0.01;

/** torchcfm's 2D tutorial recipe, from standard normal noise to moons: MLP 3→64→64→64→2 SELU, batch 256, Adam 1e-3, σ = 0.01. */
export const DEFAULT_CONFIG: TrainConfig = {
  data: 'moons',
  source: 'normal',
  dim: 2,
  steps: 20_000,
  batch: 256,
  model: 'mlp',
  channels: 32,
  hidden: [64, 64, 64],
  activation: 'selu',
  time: { kind: 'concat' },
  optimizer: 'adam',
  lr: 1e-3,
  weightDecay: 0,
  momentum: 0.9,
  schedule: 'constant',
  warmup: 0,
  clipNorm: null,
  path: 'linear',
  sigma: 0.01,
  sigmaMin: 0,
  coupling: 'independent',
  ema: 0,
  timeSampling: 'uniform',
  seed: 0,
  validationSize: 1024,
  classes: 0,
  classDim: 8,
  pUncond: 0.1,
  objective: 'velocity',
};

/** User data for `custom` (or `mnist`) data or source: rows are drawn uniformly with replacement. */
export interface CustomPoints {
  /** Data points (n ≥ 1, D), finite; needed when config.data is `custom` or `mnist` (the images flattened). Cast to float32. */
  data?: Tensor;
  /** Source points (n ≥ 1, D), finite; needed when config.source is `custom`. Cast to float32. */
  source?: Tensor;
  /** The class of each custom data point, int32 (n) in [0, classes); needed when config.classes > 0 and data is custom or mnist. */
  labels?: Tensor;
}

/** The probability path a config names (linear with its σ_min, cosine or vp), with the I-CFM noise σ. */
export function makePath(config: Pick<TrainConfig, 'path' | 'sigma' | 'sigmaMin'>): GaussianPath {
  const make = { linear: () => SCHEDULERS.linear(config.sigmaMin), cosine: () => SCHEDULERS.cosine(), vp: () => SCHEDULERS.vp() }[config.path];
  if (!make) throw new T.ValueError('config', `path must be linear, cosine or vp, got '${config.path}'`);
  return new GaussianPath(make(), config.sigma);
}

/** The velocity field a config describes (its MLP, or its U-Net on side × side images), initialised from `generator`. */
export function makeModel(
  config: Pick<TrainConfig, 'dim' | 'hidden' | 'activation' | 'time'> & Partial<Pick<TrainConfig, 'classes' | 'classDim' | 'model' | 'channels'>>,
  generator?: T.Generator,
): FieldModel {
  const { dim, hidden, activation, time, classes = 0, classDim = 8, model = 'mlp', channels = 32 } = config;
  if (model === 'unet') return new UNet({ size: Math.round(Math.sqrt(dim)), channels, classes }, { generator });
  return new MLP({ dim, hidden, activation, time, classes, classDim }, { generator });
}

/** The optimizer a config names, over the model's parameters. */
export function makeOptimizer(config: TrainConfig, model: FieldModel): Optimizer {
  const params = model.parameters();
  if (config.optimizer === 'sgd') return new SGD(params, { lr: config.lr, momentum: config.momentum, weightDecay: config.weightDecay });
  if (config.optimizer === 'adamw') return new AdamW(params, { lr: config.lr, weightDecay: config.weightDecay });
  return new Adam(params, { lr: config.lr, weightDecay: config.weightDecay });
}

/** The learning rate at each step: the config's schedule, after its warm-up. */
export function makeSchedule(config: TrainConfig): Schedule {
  const base = config.schedule === 'cosine' ? cosineLr(config.lr, config.steps) : constantLr(config.lr);
  return config.warmup > 0 ? warmupLr(config.warmup, base) : base;
}

/** The largest batch (and held-out batch) a training config may ask for: 65 536 rows. */
export const MAX_BATCH = 65_536;

/** Checks a config for values that cannot work, throwing ValueError that names the field. */
export function validateConfig(c: TrainConfig): void {
  const bad = (field: string, why: string) => {
    throw new T.ValueError('config', `${field} ${why}`);
  };
  const posInt = (field: keyof TrainConfig) => {
    if (!Number.isInteger(c[field]) || (c[field] as number) < 1) bad(field, `must be a positive integer, got ${String(c[field])}`);
  };
  posInt('steps');
  posInt('batch');
  posInt('dim');
  posInt('validationSize');
  // Batches are drawn whole each step: a config (from a file) must not ask for gigabytes of them.
  if (c.batch > MAX_BATCH) bad('batch', `must be ≤ ${MAX_BATCH}, got ${c.batch}`);
  if (c.validationSize > MAX_BATCH) bad('validationSize', `must be ≤ ${MAX_BATCH}, got ${c.validationSize}`);
  const image = Object.hasOwn(IMAGE_DATA, c.data) ? IMAGE_DATA[c.data as ImageDataName] : null;
  if (c.data !== 'custom' && !image && !DATASET_NAMES.includes(c.data as DatasetName)) bad('data', `'${c.data}' is not a dataset (known: ${DATASET_NAMES.join(', ')}, ${Object.keys(IMAGE_DATA).join(', ')}, or a CSV file)`);
  if (image && c.dim !== image.side ** 2) bad('dim', `must be ${image.side ** 2} for ${c.data} (${image.side} × ${image.side} images), got ${c.dim}`);
  if (image && c.classes !== 0 && c.classes !== image.classes) bad('classes', `must be 0 or ${image.classes} for ${c.data}, got ${c.classes}`);
  const oneOf = (field: keyof TrainConfig, allowed: readonly string[]) => {
    if (!allowed.includes(c[field] as string)) bad(field, `must be one of ${allowed.join(', ')}, got '${String(c[field])}'`);
  };
  oneOf('model', ['mlp', 'unet']);
  if (!Number.isInteger(c.channels) || c.channels < 1 || c.channels > 1024) bad('channels', `must be an integer in [1, 1024], got ${String(c.channels)}`);
  const side = Math.round(Math.sqrt(c.dim));
  if (c.model === 'unet' && (side * side !== c.dim || side % 4 !== 0)) bad('model', `unet needs square images with a side divisible by 4 (D = side²), got D = ${c.dim}`);
  if (c.source !== 'normal' && c.source !== 'custom' && !DATASET_NAMES.includes(c.source)) bad('source', `'${c.source}' is not normal or a dataset`);
  oneOf('path', ['linear', 'cosine', 'vp']);
  oneOf('timeSampling', TIME_SAMPLINGS);
  oneOf('optimizer', ['adam', 'adamw', 'sgd']);
  oneOf('schedule', ['constant', 'cosine']);
  oneOf('coupling', COUPLINGS);
  if (!(c.lr > 0) || !Number.isFinite(c.lr)) bad('lr', `must be positive and finite, got ${c.lr}`);
  if (!Number.isInteger(c.warmup) || c.warmup < 0) bad('warmup', `must be a non-negative integer, got ${c.warmup}`);
  if (!(c.weightDecay >= 0) || !Number.isFinite(c.weightDecay)) bad('weightDecay', `must be finite and ≥ 0, got ${c.weightDecay}`);
  if (!(c.momentum >= 0 && c.momentum < 1)) bad('momentum', `must be in [0, 1), got ${c.momentum}`);
  if (!(c.sigmaMin >= 0 && c.sigmaMin < 1)) bad('sigmaMin', `must be in [0, 1), got ${c.sigmaMin}`);
  if (c.dim !== 2 && (DATASET_NAMES as readonly string[]).some((d) => d === c.data || d === c.source)) {
    bad('dim', `must be 2 for the built-in 2D datasets, got ${c.dim}`);
  }
  if (!(c.sigma >= 0) || !Number.isFinite(c.sigma)) bad('sigma', `must be finite and ≥ 0, got ${c.sigma}`);
  if (!(c.ema === 0 || (c.ema > 0 && c.ema < 1))) bad('ema', `must be 0 (off) or a decay in (0, 1), got ${c.ema}`);
  if (c.clipNorm !== null && !(c.clipNorm > 0)) bad('clipNorm', `must be positive, got ${c.clipNorm}`);
  if (!Number.isInteger(c.classes) || c.classes < 0) bad('classes', `must be an integer ≥ 0, got ${String(c.classes)}`);
  if (!Number.isInteger(c.classDim) || c.classDim < 1) bad('classDim', `must be a positive integer, got ${String(c.classDim)}`);
  if (!(c.pUncond >= 0 && c.pUncond <= 1)) bad('pUncond', `must be in [0, 1], got ${c.pUncond}`);
  if (c.classes > 0 && c.coupling !== 'independent') bad('coupling', `must be independent for a conditional field (an OT pairing would mix the classes' pairs), got '${c.coupling}'`);
  if (c.classes > 0 && c.data !== 'custom' && !image && DATASET_CLASSES[c.data as DatasetName] !== c.classes) {
    const k = DATASET_CLASSES[c.data as DatasetName];
    bad('classes', k ? `must be ${k} for ${c.data}, got ${c.classes}` : `must be 0: ${c.data} has no classes`);
  }
  oneOf('objective', ['velocity', 'score']);
  if (c.objective === 'score' && c.source !== 'normal') bad('source', `must be normal for the score objective (the score of p_t is defined through the Gaussian noise), got ${c.source}`);
  if (c.objective === 'score' && c.coupling !== 'independent') bad('coupling', `must be independent for the score objective, got '${c.coupling}'`);
  if (c.path === 'vp' && c.source !== 'normal') bad('source', `must be normal for the vp path (it is a diffusion path from N(0, I)), got ${c.source}`);
}
