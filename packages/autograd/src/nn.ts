// Neural-network building blocks on the engine: Module, Linear, Activation, Sequential, state dicts and EMA (as
// PyTorch's torch.nn beside torch.autograd; see docs/design.md for why they live in this package).
import * as T from '@rill/tensor';
import type { Generator, Tensor } from '@rill/tensor';
import { Var, type TensorArg } from './engine.js';
import { gelu, relu, selu, silu, tanh } from './ops.js';
import { linear } from './ops-matmul.js';
import { conv2d } from './ops-conv.js';

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
    return linear(x, this.weight, this.bias, activation);
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

/**
 * A 2-D convolution layer: y = conv2d(x, W) + b with x (N, C_in, H, W), W (C_out, C_in, k, k), b (C_out). Init as
 * PyTorch's nn.Conv2d: W and b ~ U(−1/√fan_in, 1/√fan_in), fan_in = C_in·k·k.
 */
export class Conv2d implements Module {
  /** W, (C_out, C_in, k, k); requires gradients. */
  readonly weight: Var;
  /** b, (C_out); requires gradients. */
  readonly bias: Var;

  constructor(
    /** Input channels C_in. */
    readonly inChannels: number,
    /** Output channels C_out. */
    readonly outChannels: number,
    /** The kernel's side k. */
    readonly kernelSize: number,
    /** Stride and zero padding (numbers or [height, width] pairs). */
    readonly conv: T.Conv2dOptions = {},
    options: InitOptions = {},
  ) {
    const bound = 1 / Math.sqrt(inChannels * kernelSize * kernelSize);
    const init = (shape: number[]) =>
      new Var(T.rand(shape, { low: -bound, high: bound, generator: options.generator, dtype: options.dtype }), { requiresGrad: true });
    this.weight = init([outChannels, inChannels, kernelSize, kernelSize]);
    this.bias = init([outChannels]);
  }

  /** conv2d(x, W) + b for x (N, C_in, H, W). */
  forward(x: TensorArg): Var {
    return conv2d(x, this.weight, this.bias, this.conv);
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
  selu,
  /** SiLU / swish, x·σ(x). */
  silu,
  /** ReLU, max(x, 0). */
  relu,
  /** tanh x. */
  tanh,
  /** Exact GELU, x·Φ(x) (Hendrycks & Gimpel 2016). */
  gelu,
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

/** A module with fixed, untrained tensors saved alongside its parameters (e.g. the MLP's time frequencies). */
export interface WithBuffers {
  /** The buffers by name. */
  buffers(): Record<string, Tensor>;
  /** Sets the buffers from tensors by name (copies). */
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
      this.shadow.set(name, T.keep(T.emaUpdate(old, p.value, this.decay))); // one fused pass on wasm
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
