// The training loop: a Trainer holds model, path, optimizer, EMA and generator; step() is sample → loss → backward → update.
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { trainerCheckpoint, type Checkpoint } from './checkpoint.js';
import { couple } from './couplings.js';
import { sampleDataset, sampleLabeled } from './datasets.js';
import { cfmLoss, epsilonTarget } from './loss.js';
import { EMA, clipGradNormSteps, stateDict, type Optimizer, type Schedule } from '@rill/autograd';
import type { GaussianPath } from './paths.js';
import { trainerFromCheckpoint } from './train-checkpoint.js';
import { DEFAULT_CONFIG, IMAGE_DATA, makeModel, makeOptimizer, makePath, makeSchedule, validateConfig, type CustomPoints, type FieldModel, type TrainConfig } from './train-config.js';
import type { DatasetName } from './datasets.js';
import { shapeTimes } from './time-sampling.js';

export { DEFAULT_CONFIG, MAX_BATCH, validateConfig, makeModel, makePath, type TrainConfig, type CustomPoints } from './train-config.js';
export { modelFromCheckpoint } from './train-checkpoint.js';

/**
 * One training run. Deterministic: the model is initialised from and every batch drawn from one Generator seeded by
 * config.seed, so the same config gives the same losses; a checkpoint restores the generator's state too, so
 * resuming reproduces the uninterrupted run bit for bit.
 */
export class Trainer {
  /** The full configuration (defaults filled in), as saved in checkpoints. */
  readonly config: TrainConfig;
  /** The velocity field being trained (an MLP, or a U-Net for images). */
  readonly model: FieldModel;
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
  #validation: { z: Tensor; x0: Tensor; t: Tensor; noise: T.GeneratorState; labels?: Int32Array } | null = null;

  constructor(config: Partial<TrainConfig> = {}, custom: CustomPoints = {}) {
    this.config = { ...DEFAULT_CONFIG, ...config };
    validateConfig(this.config);
    this.#custom = {};
    this.#given = custom;
    const image = Object.hasOwn(IMAGE_DATA, this.config.data);
    if (image && !custom.data) throw new T.ValueError('config', `data is ${this.config.data}: pass its images as the custom data points, flattened (n, ${this.config.dim}) (readMnist in @rill/flowmatch/node)`);
    for (const [field, pts] of [['data', custom.data], ['source', custom.source]] as const) {
      if (this.config[field] === 'custom' && !pts) throw new T.ValueError('config', `${field} is custom but no points were given`);
      if (!pts) continue;
      if (pts.rank !== 2 || pts.shape[1] !== this.config.dim || pts.shape[0] < 1) {
        throw new T.ShapeError('config', `${field} points must be (n ≥ 1, ${this.config.dim}), got [${pts.shape}]`);
      }
      for (const v of pts.data) if (!Number.isFinite(v)) throw new T.ValueError('config', `${field} points contain NaN or ±∞`);
      this.#custom[field] = pts.dtype === 'float32' ? pts : T.keep(T.cast(pts, 'float32')); // training runs in float32
    }
    if (this.config.classes > 0 && (this.config.data === 'custom' || image)) this.#custom.labels = checkLabels(custom.labels, custom.data!.shape[0], this.config.classes);
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
    if (name === 'custom' || Object.hasOwn(IMAGE_DATA, name)) {
      const pts = this.#custom[which]!;
      return T.gather(pts, Array.from({ length: n }, () => g.int(0, pts.shape[0])));
    }
    return sampleDataset(name as DatasetName, n, { generator: g });
  }

  /** n data points and their classes (conditional runs): the same draws as draw('data'), with the labels beside. */
  drawLabeled(n: number, g: T.Generator = this.generator): {
    /** The data points, (n, D). */
    z: Tensor;
    /** Their classes. */
    y: Int32Array;
  } {
    const name = this.config.data;
    if (name === 'custom' || Object.hasOwn(IMAGE_DATA, name)) {
      const rows = Array.from({ length: n }, () => g.int(0, this.#custom.data!.shape[0]));
      const labels = this.#custom.labels!.data;
      return { z: T.gather(this.#custom.data!, rows), y: Int32Array.from(rows, (r) => labels[r]) };
    }
    const { points, labels } = sampleLabeled(name as DatasetName, n, { generator: g });
    const y = Int32Array.from(labels.data);
    labels.dispose();
    return { z: points, y };
  }

  /** A batch of data: the points, and their classes for a conditional field (else null). */
  #drawData(batch: number): { z: Tensor; y: Int32Array | null } {
    return this.config.classes > 0 ? this.drawLabeled(batch) : { z: this.draw('data', batch), y: null };
  }

  /**
   * The labels a conditional step trains on: each replaced by the null class K with probability pUncond, so one
   * network learns u(x, t, y) and u(x, t, ∅) (classifier-free guidance, Ho & Salimans 2022). null when unconditional.
   */
  #dropLabels(y: Int32Array | null): Int32Array | undefined {
    if (!y) return undefined;
    const { classes, pUncond } = this.config;
    return y.map((v) => (this.generator.uniform() < pUncond ? classes : v));
  }

  /**
   * One step of the recipe, each line one step of it (docs/3-flow-matching.md, §6). A generator: it yields the tensors
   * the host must read before it goes on — the batch when an OT coupling pairs it on the host, the gradient norms for
   * clipping, the loss — and is handed back their values, so trainStep (which reads them synchronously) and
   * trainStepAsync (which awaits them) are this one implementation. Returns the loss.
   */
  *#step(): Generator<Tensor[], number, ArrayLike<number>[]> {
    const { batch, coupling, clipNorm } = this.config;
    const g = this.generator;
    const x0Drawn = T.keep(this.draw('source', batch)); // 1. x0 ~ p_src…
    const data = this.#drawData(batch); // …z ~ p_data (and its class y, for a conditional field)
    const drawn = { x0: x0Drawn, z: T.keep(data.z) };
    if (coupling !== 'independent') yield [drawn.x0, drawn.z];
    let loss: Tensor;
    try {
      loss = T.tidy(() => {
        const { z, x0 } = couple(coupling, drawn, { generator: g }); // …paired by the coupling (I-CFM: as drawn)
        const tValues = shapeTimes(this.path.sampleTimeValues(batch, g), this.config.timeSampling, this.path.scheduler.tMax); // …and t ~ U[0, 1] (or logit-normal), as host numbers
        const t = T.tensor(tValues, { shape: [batch, 1] });
        const { xt, ut } = this.path.sample({ z, x0, t }, { generator: g, tValues }); // 2. x_t = α_t z + β_t x0 (+σε)
        const vt = this.model.forward(xt, t, this.#dropLabels(data.y)); // 3. the model: u_θ(x_t, t[, y])
        const target = this.config.objective === 'score' ? epsilonTarget(this.path, xt, z, tValues) : ut; // 4. u_t(x_t | z) (or ε)
        const l = A.mse(vt, target); // 5. the loss, mean (u_θ − target)²
        l.backward(); // 6. gradients of every parameter
        return T.keep(l.value);
      });
    } finally {
      T.dispose([drawn.x0, drawn.z]);
    }
    if (clipNorm !== null) {
      const { squares, clip } = clipGradNormSteps(this.model.parameters(), clipNorm);
      clip(squares ? (yield [squares])[0] : []); // the global gradient norm, clipped to clipNorm
      squares?.dispose();
    }
    this.optimizer.lr = this.#schedule(this.step); // 7. the update: Adam (or AdamW, SGD) at this step's rate…
    this.optimizer.step();
    this.optimizer.zeroGrad();
    this.ema?.update(); // …and the average of the weights used for sampling
    this.step++;
    const value = (yield [loss])[0][0];
    loss.dispose();
    this.losses.push(value);
    return value;
  }

  /** One step: draw z and x0, couple them, sample t and the path, loss, backward, clip, optimizer step, EMA. Returns the loss. */
  trainStep(): number {
    const step = this.#step();
    let next = step.next();
    while (!next.done) next = step.next(next.value.map((t) => t.data)); // every read is synchronous here
    return next.value;
  }

  /**
   * trainStep without blocking on a read-back: the same update and the same numbers, with every value the host needs
   * read asynchronously — so it runs on devices that read back only asynchronously (webgpu).
   */
  async trainStepAsync(): Promise<number> {
    const step = this.#step();
    let next = step.next();
    while (!next.done) next = step.next(await Promise.all(next.value.map((t) => t.dataAsync())));
    return next.value;
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
      const labeled = this.config.classes > 0 ? this.drawLabeled(n, g) : null; // a conditional field is validated on its classes
      this.#validation = {
        z: T.keep(labeled ? labeled.z : this.draw('data', n, g)),
        labels: labeled?.y,
        x0: T.keep(this.draw('source', n, g)),
        t: T.keep(this.path.sampleTimes(n, g)),
        noise: g.getState(),
      };
    }
    const v = this.#validation;
    const g = new T.Generator(0);
    g.setState(v.noise); // the same σ-noise every time
    // In chunks of about 2¹⁸ numbers (all of it at once for points; a few hundred images at a time), without a graph:
    // the σ-noise is drawn chunk after chunk from the one generator, the same draws as in one pass.
    const n = v.z.shape[0];
    const rows = Math.max(1, Math.floor(VALIDATION_CHUNK / this.config.dim));
    let total = 0;
    for (let from = 0; from < n; from += rows) {
      const to = Math.min(n, from + rows);
      const part = rows >= n ? v : { z: T.slice(v.z, [from], [to]), x0: T.slice(v.x0, [from], [to]), t: T.slice(v.t, [from], [to]) };
      const labels = v.labels?.subarray(from, to);
      total += A.noGrad(() => T.tidy(() => cfmLoss(this.model, this.path, part, { generator: g, labels, objective: this.config.objective }).value.item())) * (to - from);
      if (part !== v) T.dispose([part.z, part.x0, part.t]);
    }
    return total / n;
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
    for (const field of ['data', 'source', 'labels'] as const) if (this.#custom[field] !== this.#given[field]) this.#custom[field]?.dispose();
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
    // Custom points travel with the model, so that the file resumes (and opens in the playground) on its own; a named
    // image dataset (mnist) does not: it is read again from its files.
    const stored = { data: this.config.data === 'custom', source: this.config.source === 'custom', labels: this.config.data === 'custom' };
    for (const field of ['data', 'source', 'labels'] as const) if (this.#custom[field] && stored[field]) extra[`custom.${field}`] = this.#custom[field]!;
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
   * Rebuilds a Trainer from a checkpoint, with the model, optimizer, EMA and generator exactly as they were (see
   * trainerFromCheckpoint in train-checkpoint.ts).
   */
  static fromCheckpoint(ckpt: Checkpoint, custom: CustomPoints = {}): Trainer {
    return trainerFromCheckpoint(ckpt, custom);
  }

  /** The model to sample from: a new copy holding the EMA weights when EMA is on (dispose() it), else the model itself. */
  samplingModel(): FieldModel {
    if (!this.ema) return this.model;
    const copy = makeModel(this.config, new T.Generator(0));
    this.ema.copyTo(copy);
    return copy;
  }
}

/** Numbers per chunk of the validation loss's batch: D = 2 points in one chunk of 1024, MNIST digits 334 at a time. */
const VALIDATION_CHUNK = 1 << 18;

/** Custom data's labels, checked: an int32 (n) tensor (or castable) of integers in [0, classes). */
function checkLabels(labels: Tensor | undefined, n: number, classes: number): Tensor {
  if (!labels) throw new T.ValueError('config', `classes is ${classes} but no labels were given for the custom data`);
  if (labels.rank !== 1 || labels.shape[0] !== n) throw new T.ShapeError('config', `labels must be one per data point, (${n}), got [${labels.shape}]`);
  for (const v of labels.data) if (!Number.isInteger(v) || v < 0 || v >= classes) throw new T.ValueError('config', `labels must be integers in [0, ${classes}), got ${v}`);
  return labels.dtype === 'int32' ? labels : T.keep(T.cast(labels, 'int32'));
}
