// Neural-network building blocks on @rill/autograd: Linear, Activation, Sequential, and the MLP velocity field.
import * as A from '@rill/autograd';
import { Var, type TensorArg } from '@rill/autograd';
import * as T from '@rill/tensor';
import type { Generator, Tensor } from '@rill/tensor';

/** Anything with trainable parameters, addressable by name (for optimizers, checkpoints and EMA). */
export interface Module {
  /** Trainable parameters in a fixed order. */
  parameters(): Var[];
  /** name → parameter, e.g. `layers.0.weight`. */
  namedParameters(): [string, Var][];
}

/** How a module's parameters are initialised. */
export interface InitOptions {
  /** Random generator for the initial weights (and Fourier frequencies); default: the global generator. */
  generator?: Generator;
  /** Parameter dtype, float32 or float64; default float32. */
  dtype?: T.DType;
}

/**
 * y = x·W + b with x: (B, in), W: (in, out), b: (out). Init as PyTorch's nn.Linear: W and b ~ U(−1/√in, 1/√in)
 * (its kaiming_uniform with a = √5 reduces to this bound). NB: W is stored (in, out), PyTorch's transpose.
 */
export class Linear implements Module {
  /** W, shape (in, out); requires gradients. */
  readonly weight: Var;
  /** b, shape (out); requires gradients. */
  readonly bias: Var;

  constructor(
    /** Input width `in`. */
    readonly inFeatures: number,
    /** Output width `out`. */
    readonly outFeatures: number,
    options: InitOptions = {},
  ) {
    const bound = 1 / Math.sqrt(inFeatures);
    const init = (shape: number[]) =>
      new Var(T.rand(shape, { low: -bound, high: bound, generator: options.generator, dtype: options.dtype }), { requiresGrad: true });
    this.weight = init([inFeatures, outFeatures]);
    this.bias = init([outFeatures]);
  }

  /** x·W + b for x: (B, In), then `activation` when given (one fused op: see Sequential). */
  forward(x: TensorArg, activation?: ActivationName): Var {
    return A.linear(x, this.weight, this.bias, activation);
  }

  /** [weight, bias]. */
  parameters(): Var[] {
    return [this.weight, this.bias];
  }

  /** `weight` and `bias`. */
  namedParameters(): [string, Var][] {
    return [['weight', this.weight], ['bias', this.bias]];
  }
}

/** The activations a model may name, by name: the differentiable functions from @rill/autograd. */
export const ACTIVATIONS: Readonly<Record<'selu' | 'silu' | 'relu' | 'tanh' | 'gelu', (x: TensorArg) => Var>> = {
  /** SELU, λx or λα(eˣ − 1) (Klambauer et al. 2017); the MLP's default. */
  selu: A.selu,
  /** SiLU / swish, x·σ(x). */
  silu: A.silu,
  /** ReLU, max(x, 0). */
  relu: A.relu,
  /** tanh x. */
  tanh: A.tanh,
  /** Exact GELU, x·Φ(x) (Hendrycks & Gimpel 2016). */
  gelu: A.gelu,
};
/** The name of an activation in {@link ACTIVATIONS}: `selu`, `silu`, `relu`, `tanh` or `gelu`. */
export type ActivationName = keyof typeof ACTIVATIONS;

/** An activation as a layer (no parameters). */
export class Activation implements Module {
  constructor(
    /** The activation applied; an unknown name throws ValueError. */
    readonly name: ActivationName,
  ) {
    if (!Object.hasOwn(ACTIVATIONS, name)) {
      throw new T.ValueError('Activation', `unknown activation '${String(name)}' (known: ${Object.keys(ACTIVATIONS).join(', ')})`);
    }
  }
  /** The activation applied elementwise to x (any shape). */
  forward(x: TensorArg): Var {
    return ACTIVATIONS[this.name](x);
  }
  /** None: an empty list. */
  parameters(): Var[] {
    return [];
  }
  /** None: an empty list. */
  namedParameters(): [string, Var][] {
    return [];
  }
}

type Layer = Linear | Activation;

/** Layers applied in order; parameters are named `<index>.weight`, `<index>.bias`. */
export class Sequential implements Module {
  constructor(
    /** The layers (Linear or Activation), applied in order. */
    readonly layers: Layer[],
  ) {}
  /** The layers in order; a Linear followed by an Activation runs as one fused op (the same values, fewer passes). */
  forward(x: TensorArg): Var {
    let h: TensorArg = x;
    for (let i = 0; i < this.layers.length; i++) {
      const [layer, next] = [this.layers[i], this.layers[i + 1]];
      if (layer instanceof Linear && next instanceof Activation) {
        h = layer.forward(h, next.name);
        i++;
      } else h = layer.forward(h);
    }
    return h as Var;
  }
  /** Every layer's parameters, in layer order. */
  parameters(): Var[] {
    return this.layers.flatMap((l) => l.parameters());
  }
  /** Every layer's parameters, named `<index>.<name>` (e.g. `0.weight`). */
  namedParameters(): [string, Var][] {
    return this.layers.flatMap((l, i) => l.namedParameters().map(([n, p]) => [`${i}.${n}`, p] as [string, Var]));
  }
}

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
    const layers: Layer[] = [];
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

/** A module with fixed, untrained tensors saved alongside its parameters (the MLP's time frequencies). */
interface WithBuffers {
  buffers(): Record<string, Tensor>;
  loadBuffers(b: Record<string, Tensor>): void;
}
const hasBuffers = (m: Module): m is Module & WithBuffers => typeof (m as Partial<WithBuffers>).buffers === 'function';

/**
 * A module's parameter values by name (the tensors themselves: copy them to keep a snapshot), plus its buffers.
 * NB: Linear weights are stored (in, out), the transpose of PyTorch's (out, in).
 */
export function stateDict(m: Module): Record<string, Tensor> {
  return { ...Object.fromEntries(m.namedParameters().map(([n, p]) => [n, p.value])), ...(hasBuffers(m) ? m.buffers() : {}) };
}

/** Loads copies of `state`'s tensors into a module's parameters (and buffers); names, shapes and dtypes must match. */
export function loadStateDict(m: Module, state: Record<string, Tensor>): void {
  if (hasBuffers(m)) {
    const buffers = m.buffers();
    m.loadBuffers(state);
    state = Object.fromEntries(Object.entries(state).filter(([n]) => !(n in buffers)));
  }
  const named = m.namedParameters();
  const expected = named.map(([n]) => n).sort().join(', ');
  const given = Object.keys(state).sort().join(', ');
  if (expected !== given) throw new T.ValueError('loadStateDict', `parameter names differ: expected [${expected}], got [${given}]`);
  for (const [name, p] of named) {
    const v = state[name];
    if (v.shape.join() !== p.shape.join() || v.dtype !== p.dtype) {
      throw new T.ShapeError('loadStateDict', `${name} is ${v.dtype}[${v.shape}] but the model has ${p.dtype}[${p.shape}]`);
    }
    p.assign(T.keep(T.clone(v)));
  }
}

/**
 * Exponential moving average of the parameters for sampling: shadow ← decay · shadow + (1 − decay) · θ after each
 * step. `copyTo(model)` loads the averaged weights into another model of the same shape.
 * NB: no bias correction or warm-up: after s steps a fraction decayˢ of the average is still the initial weights
 * (with 0.999: 5 % after 3 000 steps), so use a decay whose horizon 1/(1 − decay) is well below the step count.
 */
export class EMA {
  /** The averaged parameter values by parameter name (kept tensors, initially copies of the source's values). */
  readonly shadow: Map<string, Tensor>;
  constructor(
    /** The module whose parameters are averaged. */
    readonly source: Module,
    /** The decay rate, in (0, 1); default 0.999. */
    readonly decay = 0.999,
  ) {
    if (!(decay > 0 && decay < 1)) throw new T.ValueError('EMA', `decay must be in (0, 1), got ${decay}`);
    this.shadow = new Map(source.namedParameters().map(([n, p]) => [n, T.keep(T.clone(p.value))]));
  }
  /** Folds the source's current parameters in: shadow ← decay · shadow + (1 − decay) · θ. Call after each step. */
  update(): void {
    for (const [name, p] of this.source.namedParameters()) {
      const old = this.shadow.get(name)!;
      this.shadow.set(name, T.keep(T.tidy(() => T.add(T.mul(old, this.decay), T.mul(p.value, 1 - this.decay)))));
      old.dispose();
    }
  }
  /**
   * Loads copies of the averaged weights (and the source's buffers, e.g. time frequencies) into `target`, which
   * must have the same parameter names, shapes and dtypes (see {@link loadStateDict}).
   */
  copyTo(target: Module): void {
    loadStateDict(target, { ...Object.fromEntries(this.shadow), ...(hasBuffers(this.source) ? this.source.buffers() : {}) });
  }
}
