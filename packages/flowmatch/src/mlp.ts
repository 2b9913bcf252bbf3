// The MLP velocity field u_θ(x, t): a perceptron on [x, embed(t)], with the time embeddings of the reference recipes.
import * as A from '@rill/autograd';
import { Activation, Linear, Sequential, Var, loadStateDict, stateDict, type ActivationName, type InitOptions, type Module, type TensorArg } from '@rill/autograd';
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';

/**
 * How the MLP sees time. `concat`: raw t appended to x (the reference recipes). `sinusoidal`: [sin(ωₖt), cos(ωₖt)]
 * with ωₖ = 2ᵏπ, k = 0…K−1 (ω₀ = π: half a period over [0, 1], so t = 0 and t = 1 get different features).
 * `fourier`: random Fourier features with ω = 2πf, K frequencies f ~ N(0, scale²) drawn at init and saved with the
 * weights (Tancik et al., "Fourier Features Let Networks Learn High Frequency Functions", 2020).
 */
export type TimeEmbedding =
  | {
      /** Raw t appended to x as one extra input column. */
      kind: 'concat';
    }
  | {
      /** Fixed sinusoidal features with ωₖ = 2ᵏπ. */
      kind: 'sinusoidal';
      /** K, the number of frequencies (a positive integer): 2K input columns. */
      features: number;
    }
  | {
      /** Random Fourier features with ω = 2πf, f ~ N(0, scale²). */
      kind: 'fourier';
      /** K, the number of frequencies (a positive integer): 2K input columns. */
      features: number;
      /** Standard deviation of the frequencies f; default 1. */
      scale?: number;
    };

/** The shape of an {@link MLP}. */
export interface MLPConfig {
  /** Data dimension D (2 for the toy datasets). */
  dim: number;
  /** Hidden widths, e.g. [64, 64, 64]. */
  hidden: number[];
  /** Activation between the linear layers (none after the last); default `selu`. */
  activation?: ActivationName;
  /** How t enters the network; default `{ kind: 'concat' }`. */
  time?: TimeEmbedding;
  /** K > 0 makes the field conditional on a class y ∈ {0, …, K − 1}, with the index K the null class ∅; 0: none. */
  classes?: number;
  /** Width of the learned class embedding (default 8). */
  classDim?: number;
}

/** Class labels for a batch: one label for every row, or one per row (an int32 (B) tensor or numbers). */
export type Labels = number | readonly number[] | Int32Array | Tensor;

/**
 * Labels as an int32 (B) tensor for a field over K classes, checked: each an integer in [0, K] (K: the null class ∅),
 * one for every row or one per row; left out, every row is ∅. Errors name `op`.
 */
export function labelTensor(op: string, y: Labels | undefined, batch: number, K: number): Tensor {
  const values = y === undefined ? new Array<number>(batch).fill(K) : typeof y === 'number' ? new Array<number>(batch).fill(y) : y instanceof T.Tensor ? Array.from(y.data) : Array.from(y);
  if (values.length !== batch) throw new T.ShapeError(op, `needs ${batch} labels, one per row of x, got ${values.length}`);
  for (const v of values) if (!Number.isInteger(v) || v < 0 || v > K) throw new T.ValueError(op, `a label must be an integer in [0, ${K}] (${K}: the null class), got ${v}`);
  return T.tensor(values, { shape: [batch], dtype: 'int32' });
}

/**
 * The velocity field u_θ(x, t): an MLP from [x, embed(t)] to a velocity of x's dimension.
 * x: (B, D), t: a number (one time for the batch) or (B, 1) → (B, D). With `classes` = K it is u_θ(x, t, y): a learned
 * embedding of y (K + 1 rows, the last for the null class ∅) joins the input, as in the MIT 6.S184 guidance lab and
 * torchcfm's conditional examples.
 */
export class MLP implements Module {
  /** The configuration with its defaults filled in. */
  readonly config: Required<MLPConfig>;
  /** The layers: Linear(D + time width → hidden[0]), activation, …, Linear(hidden[last] → D). */
  readonly net: Sequential;
  /** Angular frequencies ω of the time features (fixed, not trained, saved in the state dict); empty for `concat`. */
  frequencies: number[];

  constructor(config: MLPConfig, options: InitOptions = {}) {
    const { dim, hidden, activation = 'selu', time = { kind: 'concat' }, classes = 0, classDim = 8 } = config;
    if (!Number.isInteger(classes) || classes < 0) throw new T.ValueError('MLP', `classes must be an integer ≥ 0, got ${classes}`);
    if (!Number.isInteger(classDim) || classDim < 1) throw new T.ValueError('MLP', `classDim must be a positive integer, got ${classDim}`);
    if (!Number.isInteger(dim) || dim < 1) throw new T.ValueError('MLP', `dim must be a positive integer, got ${dim}`);
    if (!Array.isArray(hidden) || hidden.some((w) => !Number.isInteger(w) || w < 1)) {
      throw new T.ValueError('MLP', `hidden widths must be positive integers, got [${hidden}]`);
    }
    this.config = { dim, hidden: [...hidden], activation, time, classes, classDim };
    const g = options.generator ?? T.getGenerator();
    if (!['concat', 'sinusoidal', 'fourier'].includes(time?.kind)) {
      throw new T.ValueError('MLP', `time.kind must be concat, sinusoidal or fourier, got ${JSON.stringify(time)}`);
    }
    if (time.kind !== 'concat' && (!Number.isInteger(time.features) || time.features < 1)) {
      throw new T.ValueError('MLP', `time.features must be a positive integer, got ${time.features}`);
    }
    if (time.kind === 'concat') this.frequencies = [];
    else if (time.kind === 'sinusoidal') this.frequencies = Array.from({ length: time.features }, (_, k) => 2 ** k * Math.PI);
    else {
      const f = new Float64Array(time.features);
      g.fillNormal(f, 0, time.scale ?? 1);
      this.frequencies = Array.from(f, (v) => 2 * Math.PI * v);
    }
    const inWidth = dim + (time.kind === 'concat' ? 1 : 2 * this.frequencies.length) + (classes > 0 ? classDim : 0);
    const widths = [inWidth, ...hidden, dim];
    const layers: (Linear | Activation)[] = [];
    for (let i = 0; i + 1 < widths.length; i++) {
      layers.push(new Linear(widths[i], widths[i + 1], { ...options, generator: g }));
      if (i + 2 < widths.length) layers.push(new Activation(activation));
    }
    this.net = new Sequential(layers);
    // nn.Embedding's initialisation: N(0, 1) entries; drawn after the layers, so an unconditional model is unchanged
    this.classEmbedding = classes > 0 ? new Var(T.randn([classes + 1, classDim], { generator: g, dtype: options.dtype }), { requiresGrad: true }) : null;
  }

  /** The class embedding (K + 1, classDim), row K the null class; null for an unconditional field. */
  readonly classEmbedding: Var | null;


  /** The time input for a batch of B: (B, 1) raw t, or (B, 2K) features. */
  embedTime(t: number | TensorArg, batch: number, dtype: T.DType): TensorArg {
    const tt: TensorArg = typeof t === 'number' ? T.full([batch, 1], t, { dtype }) : t;
    if (this.frequencies.length === 0) return tt;
    const f = T.tensor(this.frequencies, { shape: [1, this.frequencies.length], dtype });
    const angles = A.mul(tt, f); // (B, 1) · (1, K) → (B, K)
    return A.concat([A.sin(angles), A.cos(angles)], 1);
  }

  /**
   * u_θ(x, t) or u_θ(x, t, y): x (B, D), t a number or (B, 1), y (conditional fields only) the class of each row or of
   * all, K for the null class ∅ (the default when y is left out) → (B, D).
   */
  forward(x: TensorArg, t: number | TensorArg, y?: Labels): Var {
    const xv = x instanceof Var ? x.value : x;
    if (xv.rank !== 2 || xv.shape[1] !== this.config.dim) {
      throw new T.ShapeError('MLP', `expects x of shape (B, ${this.config.dim}), got [${xv.shape}]`);
    }
    const inputs: TensorArg[] = [x, this.embedTime(t, xv.shape[0], xv.dtype)];
    if (this.classEmbedding) inputs.push(A.gather(this.classEmbedding, labelTensor('MLP', y, xv.shape[0], this.config.classes)));
    else if (y !== undefined) throw new T.ValueError('MLP', 'this field is unconditional (classes = 0): it takes no labels');
    return this.net.forward(A.concat(inputs, 1));
  }

  /** The network's parameters, in layer order. */
  parameters(): Var[] {
    return this.classEmbedding ? [...this.net.parameters(), this.classEmbedding] : this.net.parameters();
  }

  /** The network's parameters, named `net.<index>.weight` / `net.<index>.bias`. */
  namedParameters(): [string, Var][] {
    const named: [string, Var][] = this.net.namedParameters().map(([n, p]) => [`net.${n}`, p]);
    return this.classEmbedding ? [...named, ['class.embedding', this.classEmbedding]] : named;
  }

  /** The parameter values by name, plus `time.frequencies` for sinusoidal / Fourier features (see stateDict). */
  stateDict(): Record<string, Tensor> {
    return stateDict(this);
  }

  /** Fixed tensors that are part of the model but not trained: the time features' frequencies. */
  buffers(): Record<string, Tensor> {
    if (this.frequencies.length === 0) return {};
    // One kept tensor, rebuilt only when the frequencies change (a new one per call would leak one per checkpoint).
    if (this.#frequencyTensor?.source !== this.frequencies) {
      this.#frequencyTensor?.tensor.dispose();
      this.#frequencyTensor = { source: this.frequencies, tensor: T.keep(T.tensor(this.frequencies, { dtype: 'float64' })) };
    }
    return { 'time.frequencies': this.#frequencyTensor.tensor };
  }

  #frequencyTensor: { source: number[]; tensor: Tensor } | null = null;

  /**
   * Sets the time frequencies from `buffers['time.frequencies']` (a no-op for `concat` time); throws ValueError if
   * that entry is missing or has another number of values.
   */
  loadBuffers(buffers: Record<string, Tensor>): void {
    const f = buffers['time.frequencies'];
    if (this.frequencies.length === 0) return;
    if (!f || f.size !== this.frequencies.length) throw new T.ValueError('loadStateDict', `time.frequencies: expected ${this.frequencies.length} values`);
    this.frequencies = Array.from(f.data);
  }

  /** Disposes the parameters (for models made only to sample, e.g. samplingModel()). */
  dispose(): void {
    for (const p of this.parameters()) p.value.dispose();
    this.#frequencyTensor?.tensor.dispose();
    this.#frequencyTensor = null;
  }

  /** Loads copies of the given values into the parameters (see the free function loadStateDict). */
  loadStateDict(state: Record<string, Tensor>): void {
    loadStateDict(this, state);
  }

  /** Number of trainable scalars. */
  get parameterCount(): number {
    return this.parameters().reduce((s, p) => s + p.value.size, 0);
  }
}
