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
    this.parts = [
      ['norm1', new Norm(cin, o.dtype)],
      ['conv1', new Conv2d(cin, cout, 3, { padding: 1 }, o)],
      ['emb', new Linear(emb, cout, o)],
      ['norm2', new Norm(cout, o.dtype)],
      ['conv2', new Conv2d(cout, cout, 3, { padding: 1 }, o)],
      ...(cin === cout ? [] : [['skip', new Conv2d(cin, cout, 1, {}, o)] as [string, Module]]),
    ];
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
    const emb = 4 * c;
    this.#modules = [
      ['time1', new Linear(16, emb, o)],
      ['time2', new Linear(emb, emb, o)],
      ['in', new Conv2d(inChannels, c, 3, { padding: 1 }, o)],
      ['down0', new ResBlock(c, c, emb, o)],
      ['pool0', new Conv2d(c, 2 * c, 3, { stride: 2, padding: 1 }, o)],
      ['down1', new ResBlock(2 * c, 2 * c, emb, o)],
      ['pool1', new Conv2d(2 * c, 4 * c, 3, { stride: 2, padding: 1 }, o)],
      ['mid', new ResBlock(4 * c, 4 * c, emb, o)],
      ['up1conv', new Conv2d(4 * c, 2 * c, 3, { padding: 1 }, o)],
      ['up1', new ResBlock(4 * c, 2 * c, emb, o)],
      ['up0conv', new Conv2d(2 * c, c, 3, { padding: 1 }, o)],
      ['up0', new ResBlock(2 * c, c, emb, o)],
      ['outNorm', new Norm(c, o.dtype)],
      ['out', new Conv2d(c, inChannels, 3, { padding: 1 }, o)],
    ];
    this.#classEmbedding = classes > 0 ? new Var(T.randn([classes + 1, emb], { generator: o.generator, dtype: o.dtype }), { requiresGrad: true }) : null;
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

  /** `in.weight`, `down0.conv1.weight`, …, `class.embedding`. */
  namedParameters(): [string, Var][] {
    const named = this.#modules.flatMap(([name, m]) => m.namedParameters().map(([n, p]) => [`${name}.${n}`, p] as [string, Var]));
    return this.#classEmbedding ? [...named, ['class.embedding', this.#classEmbedding]] : named;
  }
}
