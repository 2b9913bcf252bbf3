// A U-Net velocity field u_θ(x, t, y) for images, in the shape of the MIT 6.S184 lab: channels c, 2c, 4c at full,
// half and quarter resolution; residual blocks (group norm, SiLU, 3 × 3 convolution) into which the time embedding
// (Fourier features and an MLP) and the class embedding (with a null class) are added; strided convolutions down,
// upsampling and a convolution up, with skip connections across.
import * as A from '@rill/autograd';
import { Conv2d, Linear, Var, type InitOptions, type Module, type TensorArg } from '@rill/autograd';
import * as T from '@rill/tensor';
import { labelTensor, type Labels } from './mlp.js';

/** The U-Net's shape. */
export interface UNetConfig {
  /** Image channels (1 for MNIST). */
  inChannels?: number;
  /** Image side (28 for MNIST); must be divisible by 4. */
  size?: number;
  /** c: the channels at full resolution (2c and 4c below it); default 32. */
  channels?: number;
  /** K > 0: conditional on K classes (row K of the embedding is the null class ∅); 0: unconditional. */
  classes?: number;
}

/** The largest divisor of `ch` that is at most 8: the groups of a group norm over `ch` channels. */
const groupsFor = (ch: number) => [8, 4, 2, 1].find((g) => ch % g === 0)!;

/** Group norm with its own γ, β (initialised 1 and 0, as PyTorch). */
class Norm implements Module {
  readonly gamma: Var;
  readonly beta: Var;
  constructor(readonly channels: number, dtype?: T.DType) {
    this.gamma = new Var(T.ones([channels], { dtype }), { requiresGrad: true });
    this.beta = new Var(T.zeros([channels], { dtype }), { requiresGrad: true });
  }
  forward(x: TensorArg): Var {
    return A.groupNorm(x, groupsFor(this.channels), this.gamma, this.beta);
  }
  parameters(): Var[] {
    return [this.gamma, this.beta];
  }
  namedParameters(): [string, Var][] {
    return [['gamma', this.gamma], ['beta', this.beta]];
  }
}

/** A residual block: h = conv(SiLU(norm(x))) + emb projected to the channels; h = conv(SiLU(norm(h))); h + skip(x). */
class ResBlock implements Module {
  readonly parts: [string, Module][];
  constructor(cin: number, readonly cout: number, emb: number, o: InitOptions) {
    this.parts = resParts(cin, cout, emb).map(([name, part]) => [name, build(part, o)]);
  }
  #get<M>(name: string): M {
    return this.parts.find(([n]) => n === name)![1] as M;
  }
  forward(x: TensorArg, emb: Var): Var {
    let h = this.#get<Conv2d>('conv1').forward(A.silu(this.#get<Norm>('norm1').forward(x)));
    h = A.add(h, A.reshape(this.#get<Linear>('emb').forward(emb), [emb.shape[0], this.cout, 1, 1])); // (N, C) → (N, C, 1, 1)
    h = this.#get<Conv2d>('conv2').forward(A.silu(this.#get<Norm>('norm2').forward(h)));
    const skip = this.parts.some(([n]) => n === 'skip') ? this.#get<Conv2d>('skip').forward(x) : x;
    return A.add(h, skip);
  }
  parameters(): Var[] {
    return this.namedParameters().map(([, p]) => p);
  }
  namedParameters(): [string, Var][] {
    return this.parts.flatMap(([name, m]) => m.namedParameters().map(([n, p]) => [`${name}.${n}`, p] as [string, Var]));
  }
}

/** u_θ(x, t[, y]) on images: x (B, C·S·S) flattened or (B, C, S, S), t a number or (B, 1), y labels → x's shape. */
export class UNet implements Module {
  /** The configuration with defaults filled in. */
  readonly config: Required<UNetConfig>;
  /** Angular frequencies 2ᵏπ (k = 0…7) of the time features. */
  readonly frequencies = Array.from({ length: 8 }, (_, k) => 2 ** k * Math.PI);
  readonly #modules: [string, Module][];
  readonly #classEmbedding: Var | null;

  constructor(config: UNetConfig = {}, options: InitOptions = {}) {
    const { inChannels = 1, size = 28, channels: c = 32, classes = 0 } = config;
    if (size % 4 !== 0) throw new T.ValueError('UNet', `size must be divisible by 4 (two halvings), got ${size}`);
    this.config = { inChannels, size, channels: c, classes };
    const o = { ...options, generator: options.generator ?? T.getGenerator() };
    this.#modules = unetLayout(this.config).map(([name, part]) => [name, build(part, o)]);
    this.#classEmbedding = classes > 0 ? new Var(T.randn([classes + 1, 4 * c], { generator: o.generator, dtype: o.dtype }), { requiresGrad: true }) : null;
  }

  #m<M>(name: string): M {
    return this.#modules.find(([n]) => n === name)![1] as M;
  }

  /** The embedding of t (and of y): Fourier features [sin ωt, cos ωt] → Linear → SiLU → Linear, plus the class's row. */
  embed(t: number | TensorArg, batch: number, dtype: T.DType, y?: Labels): Var {
    const tt = typeof t === 'number' ? T.full([batch, 1], t, { dtype }) : t;
    const angles = A.mul(tt, T.tensor(this.frequencies, { shape: [1, 8], dtype }));
    let e = this.#m<Linear>('time2').forward(A.silu(this.#m<Linear>('time1').forward(A.concat([A.sin(angles), A.cos(angles)], 1))));
    if (this.#classEmbedding) e = A.add(e, A.gather(this.#classEmbedding, labelTensor('UNet', y, batch, this.config.classes)));
    else if (y !== undefined) throw new T.ValueError('UNet', 'this field is unconditional (classes = 0): it takes no labels');
    return e;
  }

  /** u_θ(x, t[, y]). */
  forward(x: TensorArg, t: number | TensorArg, y?: Labels): Var {
    const { inChannels: ch, size: s } = this.config;
    const xv = x instanceof Var ? x.value : x;
    const flat = xv.rank === 2;
    if ((flat && xv.shape[1] !== ch * s * s) || (!flat && xv.shape.join() !== [xv.shape[0], ch, s, s].join())) {
      throw new T.ShapeError('UNet', `expects x of shape (B, ${ch * s * s}) or (B, ${ch}, ${s}, ${s}), got [${xv.shape}]`);
    }
    const b = xv.shape[0];
    const emb = this.embed(t, b, xv.dtype, y);
    const res = (name: string, h: TensorArg) => this.#m<ResBlock>(name).forward(h, emb);
    const conv = (name: string, h: TensorArg) => this.#m<Conv2d>(name).forward(h);
    const h0 = res('down0', conv('in', flat ? A.reshape(x, [b, ch, s, s]) : x)); // (B, c, S, S)
    const h1 = res('down1', conv('pool0', h0)); // (B, 2c, S/2, S/2)
    const h2 = res('mid', conv('pool1', h1)); // (B, 4c, S/4, S/4)
    const u1 = res('up1', A.concat([conv('up1conv', A.upsample2x(h2)), h1], 1)); // (B, 2c, S/2, S/2)
    const u0 = res('up0', A.concat([conv('up0conv', A.upsample2x(u1)), h0], 1)); // (B, c, S, S)
    const out = conv('out', A.silu(this.#m<Norm>('outNorm').forward(u0)));
    return flat ? A.reshape(out, [b, ch * s * s]) : out;
  }

  /** Every parameter, module by module (the class embedding last). */
  parameters(): Var[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** `time1.weight`, …, `down0.conv1.weight`, …, `class.embedding`: the order of {@link unetTensors}. */
  namedParameters(): [string, Var][] {
    const named = this.#modules.flatMap(([name, m]) => m.namedParameters().map(([n, p]) => [`${name}.${n}`, p] as [string, Var]));
    return this.#classEmbedding ? [...named, ['class.embedding', this.#classEmbedding]] : named;
  }

  /** Frees every parameter. */
  dispose(): void {
    for (const p of this.parameters()) p.value.dispose();
  }
}

/** One part of the U-Net, by what it is made of. */
type Part =
  | { kind: 'linear'; inputs: number; outputs: number }
  | { kind: 'conv'; inputs: number; outputs: number; size: number; stride?: number; padding?: number }
  | { kind: 'res'; inputs: number; outputs: number; emb: number }
  | { kind: 'norm'; channels: number };

/** The U-Net's parts in order: what the constructor builds and what {@link unetTensors} lists, from one table. */
function unetLayout({ inChannels, channels: c }: Required<UNetConfig>): [string, Part][] {
  const emb = 4 * c; // the time (and class) embedding's width
  const conv = (inputs: number, outputs: number, stride = 1): Part => ({ kind: 'conv', inputs, outputs, size: 3, stride, padding: 1 });
  const res = (inputs: number, outputs: number): Part => ({ kind: 'res', inputs, outputs, emb });
  return [
    ['time1', { kind: 'linear', inputs: 16, outputs: emb }],
    ['time2', { kind: 'linear', inputs: emb, outputs: emb }],
    ['in', conv(inChannels, c)],
    ['down0', res(c, c)],
    ['pool0', conv(c, 2 * c, 2)],
    ['down1', res(2 * c, 2 * c)],
    ['pool1', conv(2 * c, 4 * c, 2)],
    ['mid', res(4 * c, 4 * c)],
    ['up1conv', conv(4 * c, 2 * c)],
    ['up1', res(4 * c, 2 * c)],
    ['up0conv', conv(2 * c, c)],
    ['up0', res(2 * c, c)],
    ['outNorm', { kind: 'norm', channels: c }],
    ['out', conv(c, inChannels)],
  ];
}

/** A residual block's own parts (the skip convolution only where the channels change). */
function resParts(inputs: number, outputs: number, emb: number): [string, Part][] {
  return [
    ['norm1', { kind: 'norm', channels: inputs }],
    ['conv1', { kind: 'conv', inputs, outputs, size: 3, padding: 1 }],
    ['emb', { kind: 'linear', inputs: emb, outputs }],
    ['norm2', { kind: 'norm', channels: outputs }],
    ['conv2', { kind: 'conv', inputs: outputs, outputs, size: 3, padding: 1 }],
    ...(inputs === outputs ? [] : [['skip', { kind: 'conv', inputs, outputs, size: 1 }] as [string, Part]]),
  ];
}

function build(part: Part, o: InitOptions): Module {
  if (part.kind === 'linear') return new Linear(part.inputs, part.outputs, o);
  if (part.kind === 'conv') return new Conv2d(part.inputs, part.outputs, part.size, { stride: part.stride ?? 1, padding: part.padding ?? 0 }, o);
  if (part.kind === 'norm') return new Norm(part.channels, o.dtype);
  return new ResBlock(part.inputs, part.outputs, part.emb, o);
}

function* partTensors(prefix: string, part: Part): Generator<UNetTensor> {
  if (part.kind === 'linear') yield* [{ name: `${prefix}weight`, shape: [part.inputs, part.outputs] }, { name: `${prefix}bias`, shape: [part.outputs] }];
  else if (part.kind === 'conv') yield* [{ name: `${prefix}weight`, shape: [part.outputs, part.inputs, part.size, part.size] }, { name: `${prefix}bias`, shape: [part.outputs] }];
  else if (part.kind === 'norm') yield* [{ name: `${prefix}gamma`, shape: [part.channels] }, { name: `${prefix}beta`, shape: [part.channels] }];
  else for (const [name, sub] of resParts(part.inputs, part.outputs, part.emb)) yield* partTensors(`${prefix}${name}.`, sub);
}

/** One parameter of a U-Net, as {@link unetTensors} lists it. */
export interface UNetTensor {
  /** Its name, as namedParameters gives it (`down0.conv1.weight`). */
  name: string;
  /** Its shape. */
  shape: number[];
}

/**
 * The names and shapes of a U-Net's parameters, in namedParameters' order, from its config alone (nothing built):
 * what a checkpoint of it must hold (architecture.ts checks files against it before building anything).
 */
export function* unetTensors(config: UNetConfig): Generator<UNetTensor> {
  const full: Required<UNetConfig> = { inChannels: 1, size: 28, channels: 32, classes: 0, ...config };
  for (const [name, part] of unetLayout(full)) yield* partTensors(`${name}.`, part);
  if (full.classes > 0) yield { name: 'class.embedding', shape: [full.classes + 1, 4 * full.channels] };
}
