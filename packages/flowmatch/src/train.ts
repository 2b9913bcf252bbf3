// The training loop: a Trainer holds model, path, optimizer, EMA and generator; step() is sample → loss → backward → update.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { CheckpointError, optimizerSlots, show, tensorsUnder, trainerCheckpoint, type Checkpoint } from './checkpoint.js';
import { checkConfig, checkTensors, mlpArchitecture, plain } from './architecture.js';
import { COUPLINGS, couple, type CouplingName } from './couplings.js';
import { DATASET_NAMES, sampleDataset, type DatasetName } from './datasets.js';
import { cfmLoss } from './loss.js';
import { EMA, MLP, loadStateDict, stateDict, type ActivationName, type TimeEmbedding } from './nn.js';
import { Adam, AdamW, SGD, clipGradNorm, clipGradNormAsync, constantLr, cosineLr, warmupLr, type Optimizer, type Schedule } from './optim.js';
import { GaussianPath, SCHEDULERS } from './paths.js';

/** Everything that defines a training run; plain JSON, stored in every checkpoint. */
export interface TrainConfig {
  /** A dataset name, or `custom` for points passed to the Trainer. */
  data: DatasetName | 'custom';
  /** `normal` (N(0, I)), a dataset name, or `custom`. */
  source: 'normal' | DatasetName | 'custom';
  /** Data dimension D (a positive integer; 2 when data or source is a built-in dataset). */
  dim: number;
  /** Number of training steps (a positive integer); also the length of the cosine schedule. */
  steps: number;
  /** Batch size (a positive integer). */
  batch: number;
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
  /** Seed of the run's generator (initialisation, batches, times and noise). */
  seed: number;
  /** Size of the fixed held-out batch the validation loss is computed on. */
  validationSize: number;
}

/** torchcfm's 2D tutorial recipe, from standard normal noise to moons: MLP 3→64→64→64→2 SELU, batch 256, Adam 1e-3, σ = 0.01. */
export const DEFAULT_CONFIG: TrainConfig = {
  data: 'moons',
  source: 'normal',
  dim: 2,
  steps: 20_000,
  batch: 256,
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
  seed: 0,
  validationSize: 1024,
};

/** User data for `custom` data or source: rows are drawn uniformly with replacement. */
export interface CustomPoints {
  /** Data points (n ≥ 1, D), finite; needed when config.data is `custom`. Cast to float32. */
  data?: Tensor;
  /** Source points (n ≥ 1, D), finite; needed when config.source is `custom`. Cast to float32. */
  source?: Tensor;
}

/** The probability path a config names (linear with its σ_min, cosine or vp), with the I-CFM noise σ. */
export function makePath(config: Pick<TrainConfig, 'path' | 'sigma' | 'sigmaMin'>): GaussianPath {
  const make = { linear: () => SCHEDULERS.linear(config.sigmaMin), cosine: () => SCHEDULERS.cosine(), vp: () => SCHEDULERS.vp() }[config.path];
  if (!make) throw new T.ValueError('config', `path must be linear, cosine or vp, got '${config.path}'`);
  return new GaussianPath(make(), config.sigma);
}

/** The MLP velocity field a config describes, initialised from `generator`. */
export function makeModel(config: Pick<TrainConfig, 'dim' | 'hidden' | 'activation' | 'time'>, generator?: T.Generator): MLP {
  return new MLP({ dim: config.dim, hidden: config.hidden, activation: config.activation, time: config.time }, { generator });
}

function makeOptimizer(config: TrainConfig, model: MLP): Optimizer {
  const params = model.parameters();
  if (config.optimizer === 'sgd') return new SGD(params, { lr: config.lr, momentum: config.momentum, weightDecay: config.weightDecay });
  if (config.optimizer === 'adamw') return new AdamW(params, { lr: config.lr, weightDecay: config.weightDecay });
  return new Adam(params, { lr: config.lr, weightDecay: config.weightDecay });
}

function makeSchedule(config: TrainConfig): Schedule {
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
  if (c.data !== 'custom' && !DATASET_NAMES.includes(c.data)) bad('data', `'${c.data}' is not a dataset (known: ${DATASET_NAMES.join(', ')}, or a CSV file)`);
  if (c.source !== 'normal' && c.source !== 'custom' && !DATASET_NAMES.includes(c.source)) bad('source', `'${c.source}' is not normal or a dataset`);
  const oneOf = (field: keyof TrainConfig, allowed: readonly string[]) => {
    if (!allowed.includes(c[field] as string)) bad(field, `must be one of ${allowed.join(', ')}, got '${String(c[field])}'`);
  };
  oneOf('path', ['linear', 'cosine', 'vp']);
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
  if (c.path === 'vp' && c.source !== 'normal') bad('source', `must be normal for the vp path (it is a diffusion path from N(0, I)), got ${c.source}`);
}

/**
 * One training run. Deterministic: the model is initialised from and every batch drawn from one Generator seeded by
 * config.seed, so the same config gives the same losses; a checkpoint restores the generator's state too, so
 * resuming reproduces the uninterrupted run bit for bit.
 */
export class Trainer {
  /** The full configuration (defaults filled in), as saved in checkpoints. */
  readonly config: TrainConfig;
  /** The velocity field being trained. */
  readonly model: MLP;
  /** The probability path the config names. */
  readonly path: GaussianPath;
  /** The optimizer the config names, over the model's parameters. */
  readonly optimizer: Optimizer;
  /** The EMA of the parameters, or null when config.ema is 0. */
  readonly ema: EMA | null;
  /** The generator seeded by config.seed: model initialisation, batches, couplings, times and noise. */
  readonly generator: T.Generator;
  /** The training loss of every step so far. */
  readonly losses: number[] = [];
  /** Steps taken so far (also the index into the learning-rate schedule). */
  step = 0;
  #schedule: Schedule;
  #custom: CustomPoints;
  #given: CustomPoints;
  #validation: { z: Tensor; x0: Tensor; t: Tensor; noise: T.GeneratorState } | null = null;

  constructor(config: Partial<TrainConfig> = {}, custom: CustomPoints = {}) {
    this.config = { ...DEFAULT_CONFIG, ...config };
    validateConfig(this.config);
    this.#custom = {};
    this.#given = custom;
    for (const [field, pts] of [['data', custom.data], ['source', custom.source]] as const) {
      if (this.config[field] === 'custom' && !pts) throw new T.ValueError('config', `${field} is custom but no points were given`);
      if (!pts) continue;
      if (pts.rank !== 2 || pts.shape[1] !== this.config.dim || pts.shape[0] < 1) {
        throw new T.ShapeError('config', `${field} points must be (n ≥ 1, ${this.config.dim}), got [${pts.shape}]`);
      }
      for (const v of pts.data) if (!Number.isFinite(v)) throw new T.ValueError('config', `${field} points contain NaN or ±∞`);
      this.#custom[field] = pts.dtype === 'float32' ? pts : T.keep(T.cast(pts, 'float32')); // training runs in float32
    }
    this.generator = new T.Generator(this.config.seed);
    this.model = makeModel(this.config, this.generator);
    this.path = makePath(this.config);
    this.optimizer = makeOptimizer(this.config, this.model);
    this.ema = this.config.ema > 0 ? new EMA(this.model, this.config.ema) : null;
    this.#schedule = makeSchedule(this.config);
  }

  /** n points of the data (z) or the source (x0), drawn from `g`. */
  draw(which: 'data' | 'source', n: number, g: T.Generator = this.generator): Tensor {
    const name = this.config[which];
    if (name === 'normal') return T.randn([n, this.config.dim], { generator: g });
    if (name === 'custom') {
      const pts = this.#custom[which]!;
      return T.gather(pts, Array.from({ length: n }, () => g.int(0, pts.shape[0])));
    }
    return sampleDataset(name, n, { generator: g });
  }

  /** One step: draw z and x0, couple them, sample t and the path, loss, backward, clip, optimizer step, EMA. Returns the loss. */
  trainStep(): number {
    const loss = this.#lossAndGradients(this.#drawBatch());
    if (this.config.clipNorm !== null) clipGradNorm(this.model.parameters(), this.config.clipNorm);
    this.#optimizerStep();
    const value = loss.item();
    loss.dispose();
    return this.#record(value);
  }

  /**
   * trainStep without blocking on a read-back: the same update and the same numbers, with every value the host needs
   * read asynchronously — the batch for an OT coupling (paired on the host), the gradient norm for clipping, the
   * loss — so it runs on devices that read back only asynchronously (webgpu).
   */
  async trainStepAsync(): Promise<number> {
    const batch = this.#drawBatch();
    if (this.config.coupling !== 'independent') await T.prefetch([batch.x0, batch.z]);
    const loss = this.#lossAndGradients(batch);
    try {
      if (this.config.clipNorm !== null) await clipGradNormAsync(this.model.parameters(), this.config.clipNorm);
      this.#optimizerStep();
      return this.#record(await loss.itemAsync());
    } finally {
      loss.dispose();
    }
  }

  /** A batch of source samples and data (kept: the caller's next step disposes them). */
  #drawBatch(): { x0: Tensor; z: Tensor } {
    const batch = this.config.batch;
    return { x0: T.keep(this.draw('source', batch)), z: T.keep(this.draw('data', batch)) };
  }

  /** Couples the batch, samples t, computes the CFM loss and backpropagates; returns the loss (kept). Frees the batch. */
  #lossAndGradients(drawn: { x0: Tensor; z: Tensor }): Tensor {
    const { batch, coupling } = this.config;
    const g = this.generator;
    try {
      return T.tidy(() => {
        const paired = couple(coupling, drawn, { generator: g });
        const tValues = this.path.sampleTimeValues(batch, g);
        const t = T.tensor(tValues, { shape: [batch, 1] });
        const l = cfmLoss(this.model, this.path, { z: paired.z, x0: paired.x0, t }, { generator: g, tValues });
        l.backward();
        return T.keep(l.value);
      });
    } finally {
      T.dispose([drawn.x0, drawn.z]);
    }
  }

  /** The learning rate of this step, the optimizer's update, zeroed gradients, EMA, and the step count. */
  #optimizerStep(): void {
    this.optimizer.lr = this.#schedule(this.step);
    this.optimizer.step();
    this.optimizer.zeroGrad();
    this.ema?.update();
    this.step++;
  }

  #record(loss: number): number {
    this.losses.push(loss);
    return loss;
  }

  /**
   * Trains for about `budgetMs` milliseconds (at least one step, at most until config.steps) and returns that chunk's
   * losses: the unit of a loop that must stay responsive — a Web Worker that answers messages between chunks, or a
   * page that redraws. Wall-clock timing decides only how many steps run, never their results (still deterministic).
   */
  trainFor(budgetMs: number): number[] {
    const from = this.losses.length;
    const until = performance.now() + budgetMs;
    do this.trainStep();
    while (this.step < this.config.steps && performance.now() < until);
    return this.losses.slice(from);
  }

  /** trainFor with trainStepAsync: the loop for devices that read back only asynchronously (webgpu). */
  async trainForAsync(budgetMs: number): Promise<number[]> {
    const from = this.losses.length;
    const until = performance.now() + budgetMs;
    do await this.trainStepAsync();
    while (this.step < this.config.steps && performance.now() < until);
    return this.losses.slice(from);
  }

  /** The loss on a fixed held-out batch (drawn once from its own generator), without recording a graph. */
  validationLoss(): number {
    if (!this.#validation) {
      const g = new T.Generator(this.config.seed + 1_000_003);
      const n = this.config.validationSize;
      this.#validation = {
        z: T.keep(this.draw('data', n, g)),
        x0: T.keep(this.draw('source', n, g)),
        t: T.keep(this.path.sampleTimes(n, g)),
        noise: g.getState(),
      };
    }
    const v = this.#validation;
    const g = new T.Generator(0);
    g.setState(v.noise); // the same σ-noise every time
    return T.tidy(() => cfmLoss(this.model, this.path, v, { generator: g }).value.item());
  }

  #history: Tensor | null = null;

  /**
   * Frees every tensor the trainer owns — the model's parameters, the optimizer's slots, the EMA's shadow weights, the
   * held-out batch, the loss history and points it converted — after which it cannot be used. `using trainer = new
   * Trainer(…)` calls it at the end of the block. Points passed in as float32 stay the caller's.
   */
  dispose(): void {
    this.model.dispose();
    for (const list of Object.values(this.optimizer.state().slots)) T.dispose(list);
    if (this.ema) T.dispose([...this.ema.shadow.values()]);
    if (this.#validation) T.dispose([this.#validation.z, this.#validation.x0, this.#validation.t]);
    this.#history?.dispose();
    for (const field of ['data', 'source'] as const) if (this.#custom[field] !== this.#given[field]) this.#custom[field]?.dispose();
  }

  /** dispose() at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** The loss history as one kept tensor, rebuilt only when it has grown (so checkpoints do not leak tensors). */
  #historyTensor(): Tensor {
    if (this.#history?.size !== this.losses.length) {
      this.#history?.dispose();
      this.#history = T.keep(T.tensor(this.losses, { dtype: 'float32' }));
    }
    return this.#history;
  }

  /** Everything needed to resume (or to sample from the model): a Checkpoint to encode as a `.rill` file. */
  checkpoint(meta: Record<string, unknown> = {}): Checkpoint {
    const extra: Record<string, Tensor> = { 'history.loss': this.#historyTensor() };
    if (this.ema) for (const [n, t] of this.ema.shadow) extra[`ema.${n}`] = t;
    // Custom points travel with the model, so that the file resumes (and opens in the playground) on its own.
    for (const field of ['data', 'source'] as const) if (this.#custom[field]) extra[`custom.${field}`] = this.#custom[field]!;
    const head = { kind: 'cfm', config: { ...this.config } as unknown as Record<string, unknown>, step: this.step, rng: this.generator.getState() };
    return trainerCheckpoint(head, stateDict(this.model), this.optimizer.state(), extra, meta);
  }

  /**
   * checkpoint() with every tensor read back first without blocking, so that encoding it reads nothing synchronously:
   * the way to save from a device that reads back only asynchronously (webgpu).
   */
  async checkpointAsync(meta: Record<string, unknown> = {}): Promise<Checkpoint> {
    const ckpt = this.checkpoint(meta);
    await T.prefetch(Object.values(ckpt.tensors));
    return ckpt;
  }

  /**
   * Rebuilds a Trainer from a checkpoint, with the model, optimizer, EMA and generator exactly as they were. Custom
   * points default to those stored in the checkpoint (`custom.data`, `custom.source`); pass them to override.
   * Everything the trainer will hold is checked against the checkpoint's tensors before anything is allocated;
   * problems are errors naming the file (see checkTensors).
   */
  static fromCheckpoint(ckpt: Checkpoint, custom: CustomPoints = {}): Trainer {
    const source = ckpt.source ?? 'checkpoint';
    if (ckpt.kind !== 'cfm') throw new T.ValueError(source, `holds a '${plain(ckpt.kind)}' model, not a flow-matching (cfm) one`);
    const config: TrainConfig = { ...DEFAULT_CONFIG, ...(ckpt.config as Partial<TrainConfig>) };
    const architecture = mlpArchitecture(config as unknown as Record<string, unknown>, source);
    checkConfig(config, DEFAULT_CONFIG, validateConfig, source);
    const slots = config.optimizer === 'sgd' ? ['momentum'] : ['m', 'v']; // what SGD and Adam(W) keep per parameter
    checkTensors(ckpt, architecture, { optimizerSlots: slots, ema: config.ema > 0 ? 'required' : undefined });
    if (!ckpt.rng) throw new T.ValueError(source, 'has no RNG state, so the run cannot resume exactly');
    const optimizer = ckpt.meta?.optimizer ?? config.optimizer;
    if (optimizer !== config.optimizer) throw new CheckpointError(source, `meta.optimizer is ${show(optimizer)} but config.optimizer is '${config.optimizer}'`);
    const optimizerStep = ckpt.meta?.optimizerStep ?? ckpt.step;
    if (!Number.isSafeInteger(optimizerStep) || (optimizerStep as number) < 0) {
      throw new CheckpointError(source, `meta.optimizerStep must be a non-negative integer, got ${show(optimizerStep)}`);
    }
    const history = Object.hasOwn(ckpt.tensors, 'history.loss') ? ckpt.tensors['history.loss'] : undefined;
    if (history && history.rank !== 1) throw new CheckpointError(source, `history.loss must be 1-D (one loss per step), got shape [${history.shape}]`);

    const stored = { data: ckpt.tensors['custom.data'], source: ckpt.tensors['custom.source'] };
    for (const field of ['data', 'source'] as const) {
      const pts = stored[field];
      if (config[field] === 'custom' && !custom[field] && !pts) throw new CheckpointError(source, `config.${field} is custom but the file holds no custom.${field} points`);
      if (!custom[field] && pts && (pts.rank !== 2 || pts.shape[0] < 1 || pts.shape[1] !== config.dim)) {
        throw new CheckpointError(source, `custom.${field} must hold points (n ≥ 1, ${config.dim}), got shape [${pts.shape}]`);
      }
    }
    const trainer = new Trainer(config, { data: custom.data ?? stored.data, source: custom.source ?? stored.source });
    try {
      const pick = (prefix: string) => tensorsUnder(ckpt, prefix);
      loadStateDict(trainer.model, pick('model.'));
      trainer.optimizer.loadState({ kind: config.optimizer, step: optimizerStep as number, slots: optimizerSlots(ckpt) });
      if (trainer.ema) {
        for (const [n, t] of Object.entries(pick('ema.'))) {
          trainer.ema.shadow.get(n)?.dispose();
          trainer.ema.shadow.set(n, T.keep(T.clone(t)));
        }
      }
      trainer.generator.setState(ckpt.rng);
      trainer.step = ckpt.step;
      if (history) for (const loss of history.data) trainer.losses.push(loss); // a loop: a long history is no argument list
    } catch (e) {
      trainer.dispose();
      throw e;
    }
    return trainer;
  }

  /** The model to sample from: a new copy holding the EMA weights when EMA is on (dispose() it), else the model itself. */
  samplingModel(): MLP {
    if (!this.ema) return this.model;
    const copy = makeModel(this.config, new T.Generator(0));
    this.ema.copyTo(copy);
    return copy;
  }
}

/**
 * The model stored in a checkpoint (its EMA weights when `ema` is true and the checkpoint has them). Its tensors are
 * checked against the config before the model is built; problems are errors naming the file (see checkTensors).
 */
export function modelFromCheckpoint(ckpt: Checkpoint, options: { ema?: boolean } = {}): MLP {
  const source = ckpt.source ?? 'checkpoint';
  if (ckpt.kind !== 'cfm') throw new T.ValueError(source, `holds a '${plain(ckpt.kind)}' model, not a flow-matching (cfm) one`);
  const config = { ...DEFAULT_CONFIG, ...(ckpt.config as Partial<TrainConfig>) };
  const useEma = Boolean(options.ema) && Object.keys(ckpt.tensors).some((n) => n.startsWith('ema.'));
  checkTensors(ckpt, mlpArchitecture(config as unknown as Record<string, unknown>, source), { ema: useEma ? 'when-present' : undefined });
  const model = makeModel(config, new T.Generator(0));
  const pick = (prefix: string) => tensorsUnder(ckpt, prefix);
  const weights = useEma ? pick('ema.') : {};
  // EMA weights replace the raw ones; the buffers (time frequencies) always come from the model.
  loadStateDict(model, { ...pick('model.'), ...weights });
  return model;
}
