// Training a normalizing flow by exact maximum likelihood: the same loop, data and checkpoints as the CFM Trainer.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { CheckpointError, optimizerSlots, show, tensorsUnder, trainerCheckpoint, type Checkpoint } from './checkpoint.js';
import { checkConfig, checkTensors, flowArchitecture, plain } from './architecture.js';
import { DATASET_NAMES, sampleDataset, type DatasetName } from './datasets.js';
import { NormalizingFlow, Reverse } from './flows.js';
import { Adam, loadStateDict, stateDict, type ActivationName } from '@rill/autograd';
import { MAX_BATCH } from './train-config.js';

/** A flow training run; plain JSON, stored in every checkpoint (kind `flow`). */
export interface FlowTrainConfig {
  /** A built-in dataset name, or `custom` for points passed to the FlowTrainer. Default `moons`. */
  data: DatasetName | 'custom';
  /** Data dimension D, an integer ≥ 2; must be 2 for the built-in datasets. Default 2. */
  dim: number;
  /** Number of training steps (a positive integer). Default 20 000. */
  steps: number;
  /** Batch size (a positive integer). Default 256. */
  batch: number;
  /** Affine couplings, a reversal between each two. Default 6. */
  couplings: number;
  /** Hidden widths of each coupling's conditioner. Default [36, 36]. */
  hidden: number[];
  /** Activation of the conditioners. Default `tanh`. */
  activation: ActivationName;
  /** An ActNorm before each coupling, initialised from data. Default false. */
  actnorm: boolean;
  /** Adam's learning rate (positive, finite), constant. Default 1e-3. */
  lr: number;
  /** Seed of the generator for initialisation and batches. Default 0. */
  seed: number;
  /** Size of the fixed held-out batch the validation loss is computed on. Default 1024. */
  validationSize: number;
}

/**
 * RealNVP on 2D data, sized like the CFM recipe: 6 couplings with conditioners 1→36→36→2 (tanh) hold 8 868 parameters,
 * the CFM MLP 3→64→64→64→2 8 706. Batch 256, Adam 1e-3, as the CFM recipe.
 */
export const DEFAULT_FLOW_CONFIG: FlowTrainConfig = {
  data: 'moons',
  dim: 2,
  steps: 20_000,
  batch: 256,
  couplings: 6,
  hidden: [36, 36],
  activation: 'tanh',
  actnorm: false,
  lr: 1e-3,
  seed: 0,
  validationSize: 1024,
};

/** Checks a flow config for values that cannot work, throwing ValueError that names the field. */
export function validateFlowConfig(c: FlowTrainConfig): void {
  const bad = (field: string, why: string) => {
    throw new T.ValueError('config', `${field} ${why}`);
  };
  for (const field of ['steps', 'batch', 'dim', 'couplings', 'validationSize'] as const) {
    if (!Number.isInteger(c[field]) || c[field] < 1) bad(field, `must be a positive integer, got ${String(c[field])}`);
  }
  for (const field of ['batch', 'validationSize'] as const) if (c[field] > MAX_BATCH) bad(field, `must be ≤ ${MAX_BATCH}, got ${c[field]}`);
  if (c.dim < 2) bad('dim', `must be at least 2 for a coupling flow, got ${c.dim}`);
  if (c.data !== 'custom' && !DATASET_NAMES.includes(c.data)) bad('data', `'${c.data}' is not a dataset (known: ${DATASET_NAMES.join(', ')}, or a CSV file)`);
  if (c.data !== 'custom' && c.dim !== 2) bad('dim', `must be 2 for the built-in 2D datasets, got ${c.dim}`);
  if (!(c.lr > 0) || !Number.isFinite(c.lr)) bad('lr', `must be positive and finite, got ${c.lr}`);
  if (!Array.isArray(c.hidden) || c.hidden.some((w) => !Number.isInteger(w) || w < 1)) bad('hidden', `must be positive integers, got [${c.hidden}]`);
}

/** The flow a config describes, initialised from `generator`. */
export function makeFlow(config: Pick<FlowTrainConfig, 'dim' | 'couplings' | 'hidden' | 'activation' | 'actnorm'>, generator?: T.Generator): NormalizingFlow {
  const { dim, couplings, hidden, activation, actnorm } = config;
  return new NormalizingFlow({ dim, couplings, hidden, activation, actnorm }, { generator });
}

/** Trains a NormalizingFlow by minimising the mean negative log-likelihood of data batches (nats per sample). */
export class FlowTrainer {
  /** The full configuration (defaults filled in), as saved in checkpoints. */
  readonly config: FlowTrainConfig;
  /** The flow being trained. */
  readonly model: NormalizingFlow;
  /** Adam over the model's parameters, at config.lr. */
  readonly optimizer: Adam;
  /** The generator seeded by config.seed that initialises the model and draws every batch. */
  readonly generator: T.Generator;
  /** The training loss (NLL, nats per sample) of every step so far. */
  readonly losses: number[] = [];
  /** Steps taken so far. */
  step = 0;
  #data: Tensor | null = null;
  #validation: Tensor | null = null;
  #history: Tensor | null = null;
  #given: Tensor | undefined;

  /** `initialize: false` skips ActNorm's data-dependent initialisation (for weights about to be loaded). */
  constructor(config: Partial<FlowTrainConfig> = {}, custom: { data?: Tensor } = {}, { initialize = true } = {}) {
    this.config = { ...DEFAULT_FLOW_CONFIG, ...config };
    validateFlowConfig(this.config);
    this.#given = custom.data;
    if (this.config.data === 'custom') {
      const pts = custom.data;
      if (!pts) throw new T.ValueError('config', 'data is custom but no points were given');
      if (pts.rank !== 2 || pts.shape[1] !== this.config.dim || pts.shape[0] < 1) {
        throw new T.ShapeError('config', `data points must be (n ≥ 1, ${this.config.dim}), got [${pts.shape}]`);
      }
      for (const v of pts.data) if (!Number.isFinite(v)) throw new T.ValueError('config', 'data points contain NaN or ±∞');
      this.#data = pts.dtype === 'float32' ? pts : T.keep(T.cast(pts, 'float32'));
    }
    this.generator = new T.Generator(this.config.seed);
    this.model = makeFlow(this.config, this.generator);
    this.optimizer = new Adam(this.model.parameters(), { lr: this.config.lr });
    if (this.config.actnorm && initialize) T.tidy(() => this.model.initialize(this.draw(this.config.validationSize, new T.Generator(this.config.seed + 7))));
  }

  /** n data points drawn from `g`. */
  draw(n: number, g: T.Generator = this.generator): Tensor {
    if (this.#data) {
      const pts = this.#data;
      return T.gather(pts, Array.from({ length: n }, () => g.int(0, pts.shape[0])));
    }
    return sampleDataset(this.config.data as DatasetName, n, { generator: g });
  }

  /** One step: a batch, its NLL, backward, Adam. Returns the NLL (nats per sample). */
  trainStep(): number {
    const loss = T.tidy(() => {
      const l = this.model.nll(this.draw(this.config.batch));
      l.backward();
      return l.value.item();
    });
    this.optimizer.step();
    this.optimizer.zeroGrad();
    this.step++;
    this.losses.push(loss);
    return loss;
  }

  /** The NLL on a fixed held-out batch (drawn once from its own generator). */
  validationLoss(): number {
    this.#validation ??= T.keep(this.draw(this.config.validationSize, new T.Generator(this.config.seed + 1_000_003)));
    return T.tidy(() => this.model.nll(this.#validation!).value.item());
  }

  /**
   * Frees every tensor the trainer owns (parameters, Adam's slots, the held-out batch, the loss history, converted
   * points); `using flow = new FlowTrainer(…)` calls it at the end of the block.
   */
  dispose(): void {
    T.dispose(this.model.parameters().map((p) => p.value));
    for (const layer of this.model.layers) if (layer instanceof Reverse) layer.dispose();
    for (const list of Object.values(this.optimizer.state().slots)) T.dispose(list);
    T.dispose([this.#validation, this.#history].filter((t): t is Tensor => t !== null));
    if (this.#data && this.#data !== this.#given) this.#data.dispose();
  }

  /** dispose() at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Everything needed to resume (or to sample): a Checkpoint of kind `flow` to encode as a `.rill` file. */
  checkpoint(meta: Record<string, unknown> = {}): Checkpoint {
    // the loss history as one kept tensor, rebuilt only when it has grown (checkpoints do not leak tensors)
    if (this.#history?.size !== this.losses.length) {
      this.#history?.dispose();
      this.#history = T.keep(T.tensor(this.losses, { dtype: 'float32' }));
    }
    const head = { kind: 'flow', config: { ...this.config } as unknown as Record<string, unknown>, step: this.step, rng: this.generator.getState() };
    return trainerCheckpoint(head, stateDict(this.model), this.optimizer.state(), { 'history.loss': this.#history }, meta);
  }

  /**
   * Rebuilds a FlowTrainer from a checkpoint: model, Adam state and generator exactly as they were. Everything it
   * will hold is checked against the checkpoint's tensors before anything is allocated (see checkTensors).
   */
  static fromCheckpoint(ckpt: Checkpoint, custom: { data?: Tensor } = {}): FlowTrainer {
    const source = ckpt.source ?? 'checkpoint';
    if (ckpt.kind !== 'flow') throw new T.ValueError(source, `holds a '${plain(ckpt.kind)}' model, not a normalizing flow`);
    const config: FlowTrainConfig = { ...DEFAULT_FLOW_CONFIG, ...(ckpt.config as Partial<FlowTrainConfig>) };
    const architecture = flowArchitecture(config as unknown as Record<string, unknown>, source);
    checkConfig(config, DEFAULT_FLOW_CONFIG, validateFlowConfig, source);
    checkTensors(ckpt, architecture, { optimizerSlots: ['m', 'v'] }); // Adam's moments
    const optimizerStep = ckpt.meta?.optimizerStep ?? ckpt.step;
    if (!Number.isSafeInteger(optimizerStep) || (optimizerStep as number) < 0) {
      throw new CheckpointError(source, `meta.optimizerStep must be a non-negative integer, got ${show(optimizerStep)}`);
    }
    const history = Object.hasOwn(ckpt.tensors, 'history.loss') ? ckpt.tensors['history.loss'] : undefined;
    if (history && history.rank !== 1) throw new CheckpointError(source, `history.loss must be 1-D (one loss per step), got shape [${history.shape}]`);

    const trainer = new FlowTrainer(config, custom, { initialize: false });
    try {
      loadStateDict(trainer.model, tensorsUnder(ckpt, 'model.'));
      trainer.optimizer.loadState({ kind: 'adam', step: optimizerStep as number, slots: optimizerSlots(ckpt) });
      if (ckpt.rng) trainer.generator.setState(ckpt.rng);
      trainer.step = ckpt.step;
      if (history) for (const loss of history.data) trainer.losses.push(loss); // a loop: a long history is no argument list
    } catch (e) {
      trainer.dispose();
      throw e;
    }
    return trainer;
  }
}

/** The flow stored in a checkpoint of kind `flow`; its tensors are checked against the config before it is built. */
export function flowFromCheckpoint(ckpt: Checkpoint): NormalizingFlow {
  const source = ckpt.source ?? 'checkpoint';
  if (ckpt.kind !== 'flow') throw new T.ValueError(source, `holds a '${plain(ckpt.kind)}' model, not a normalizing flow`);
  const config = { ...DEFAULT_FLOW_CONFIG, ...(ckpt.config as Partial<FlowTrainConfig>) };
  checkTensors(ckpt, flowArchitecture(config as unknown as Record<string, unknown>, source));
  const flow = makeFlow(config, new T.Generator(0));
  loadStateDict(flow, tensorsUnder(ckpt, 'model.'));
  for (const layer of flow.layers) if ('initialized' in layer) (layer as { initialized: boolean }).initialized = true;
  return flow;
}
