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
}

/**
 * The velocity field u_θ(x, t): an MLP from [x, embed(t)] to a velocity of x's dimension.
 * x: (B, D), t: a number (one time for the batch) or (B, 1) → (B, D).
 */
export class MLP implements Module {
  /** The configuration with its defaults filled in. */
  readonly config: Required<MLPConfig>;
  /** The layers: Linear(D + time width → hidden[0]), activation, …, Linear(hidden[last] → D). */
  readonly net: Sequential;
  /** Angular frequencies ω of the time features (fixed, not trained, saved in the state dict); empty for `concat`. */
  frequencies: number[];

  constructor(config: MLPConfig, options: InitOptions = {}) {
    const { dim, hidden, activation = 'selu', time = { kind: 'concat' } } = config;
    if (!Number.isInteger(dim) || dim < 1) throw new T.ValueError('MLP', `dim must be a positive integer, got ${dim}`);
    if (!Array.isArray(hidden) || hidden.some((w) => !Number.isInteger(w) || w < 1)) {
      throw new T.ValueError('MLP', `hidden widths must be positive integers, got [${hidden}]`);
    }
    this.config = { dim, hidden: [...hidden], activation, time };
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
    const inWidth = dim + (time.kind === 'concat' ? 1 : 2 * this.frequencies.length);
    const widths = [inWidth, ...hidden, dim];
    const layers: (Linear | Activation)[] = [];
    for (let i = 0; i + 1 < widths.length; i++) {
      layers.push(new Linear(widths[i], widths[i + 1], { ...options, generator: g }));
      if (i + 2 < widths.length) layers.push(new Activation(activation));
    }
    this.net = new Sequential(layers);
  }

  /** The time input for a batch of B: (B, 1) raw t, or (B, 2K) features. */
  embedTime(t: number | TensorArg, batch: number, dtype: T.DType): TensorArg {
    const tt: TensorArg = typeof t === 'number' ? T.full([batch, 1], t, { dtype }) : t;
    if (this.frequencies.length === 0) return tt;
    const f = T.tensor(this.frequencies, { shape: [1, this.frequencies.length], dtype });
    const angles = A.mul(tt, f); // (B, 1) · (1, K) → (B, K)
    return A.concat([A.sin(angles), A.cos(angles)], 1);
  }

  /** u_θ(x, t): x (B, D), t a number or (B, 1) → (B, D). */
  forward(x: TensorArg, t: number | TensorArg): Var {
    const xv = x instanceof Var ? x.value : x;
    if (xv.rank !== 2 || xv.shape[1] !== this.config.dim) {
      throw new T.ShapeError('MLP', `expects x of shape (B, ${this.config.dim}), got [${xv.shape}]`);
    }
    return this.net.forward(A.concat([x, this.embedTime(t, xv.shape[0], xv.dtype)], 1));
  }

  /** The network's parameters, in layer order. */
  parameters(): Var[] {
    return this.net.parameters();
  }

  /** The network's parameters, named `net.<index>.weight` / `net.<index>.bias`. */
  namedParameters(): [string, Var][] {
    return this.net.namedParameters().map(([n, p]) => [`net.${n}`, p]);
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
