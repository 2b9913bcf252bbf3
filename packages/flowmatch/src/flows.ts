// Normalizing flows: x = φ(z), a stack of invertible layers (RealNVP affine couplings, permutations, ActNorm) with
// exact log-likelihoods by the change of variables — the baseline that flow matching is compared with.
// One file (~330 lines): the layers and the flow that stacks them share the log-det bookkeeping and are read together.
import * as A from '@rill/autograd';
import { Var, type TensorArg } from '@rill/autograd';
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { Activation, Linear, Sequential, type ActivationName, type InitOptions, type Module } from '@rill/autograd';

/**
 * One invertible layer. Conventions: `forward` maps towards the data (z → x), `inverse` back, and
 * `logDetJacobian(u)` = log|det ∂forward/∂u| at the layer's input u, one value per row: shape (B).
 */
export interface FlowLayer extends Module {
  /** u: (B, D) → x: (B, D), towards the data. */
  forward(u: TensorArg): Var;
  /** x: (B, D) → u: (B, D), the exact inverse of forward. */
  inverse(x: TensorArg): Var;
  /** log|det ∂forward/∂u| at u: (B, D), one value per row: (B). */
  logDetJacobian(u: TensorArg): Var;
  /** The inverse and the forward log-determinant at the recovered input, sharing one conditioner pass. */
  inverseWithLogDet(x: TensorArg): [Var, Var];
}

const valueOf = (x: TensorArg) => (x instanceof Var ? x.value : x);
const rows = (x: TensorArg) => valueOf(x).shape[0];
const cols = (x: TensorArg) => valueOf(x).shape[1];
const asVar = (x: TensorArg) => (x instanceof Var ? x : new Var(x));

/**
 * RealNVP's affine coupling (Dinh, Sohl-Dickstein & Bengio, "Density estimation using Real NVP", 2017, eq. 4–6):
 * the first ⌊D/2⌋ coordinates u_a pass through; the others are scaled and shifted by functions of u_a,
 *   x_a = u_a,  x_b = u_b ⊙ exp(s(u_a)) + t(u_a),  s = tanh(ŝ) (log-scales bounded to (−1, 1) for stability),
 * so the inverse needs no inversion of s or t, and the Jacobian is triangular: log|det| = Σ_j s_j(u_a).
 * s and t come from one MLP of u_a whose last layer starts at zero: every coupling starts as the identity.
 */
export class AffineCoupling implements FlowLayer {
  /** The conditioner MLP: ⌊D/2⌋ → hidden… → 2(D − ⌊D/2⌋) outputs, [ŝ, t]; its last Linear starts at zero. */
  readonly net: Sequential;
  /** ⌊D/2⌋: the number of leading coordinates u_a that pass through unchanged. */
  readonly split: number;

  constructor(
    /** The data dimension D, an integer ≥ 2 (otherwise ValueError). */
    readonly dim: number,
    hidden: number[],
    activation: ActivationName = 'tanh',
    options: InitOptions = {},
  ) {
    if (!Number.isInteger(dim) || dim < 2) throw new T.ValueError('AffineCoupling', `dim must be an integer ≥ 2, got ${dim}`);
    this.split = Math.floor(dim / 2);
    const widths = [this.split, ...hidden, 2 * (dim - this.split)];
    const layers: (Linear | Activation)[] = [];
    for (let i = 0; i + 1 < widths.length; i++) {
      layers.push(new Linear(widths[i], widths[i + 1], options));
      if (i + 2 < widths.length) layers.push(new Activation(activation));
    }
    const last = layers[layers.length - 1] as Linear;
    for (const p of last.parameters()) p.assign(T.keep(T.zeros([...p.shape], { dtype: p.dtype })));
    this.net = new Sequential(layers);
  }

  /** The log-scales s and shifts t for the pass-through half u_a: both (B, D − ⌊D/2⌋). */
  #scaleShift(ua: TensorArg): [Var, Var] {
    const st = this.net.forward(ua);
    const db = this.dim - this.split;
    return [A.tanh(A.slice(st, [0, 0], [undefined, db])), A.slice(st, [0, db])];
  }

  #halves(u: TensorArg): [Var, Var] {
    return [A.slice(u, [0, 0], [undefined, this.split]), A.slice(u, [0, this.split])];
  }

  /** x = [u_a, u_b ⊙ exp(s(u_a)) + t(u_a)] for u: (B, D). */
  forward(u: TensorArg): Var {
    const [ua, ub] = this.#halves(u);
    const [s, t] = this.#scaleShift(ua);
    return A.concat([ua, A.add(A.mul(ub, A.exp(s)), t)], 1);
  }

  inverseWithLogDet(x: TensorArg): [Var, Var] {
    const [xa, xb] = this.#halves(x);
    const [s, t] = this.#scaleShift(xa);
    // u_b = (x_b − t) ⊙ exp(−s); the forward log-determinant at u is Σ s(u_a) = Σ s(x_a).
    return [A.concat([xa, A.mul(A.sub(xb, t), A.exp(A.neg(s)))], 1), A.sum(s, 1)];
  }

  /** u = [x_a, (x_b − t(x_a)) ⊙ exp(−s(x_a))] for x: (B, D). */
  inverse(x: TensorArg): Var {
    return this.inverseWithLogDet(x)[0];
  }

  /** Σ_j s_j(u_a) per row: (B). */
  logDetJacobian(u: TensorArg): Var {
    return A.sum(this.#scaleShift(this.#halves(u)[0])[0], 1);
  }

  parameters(): Var[] {
    return this.net.parameters();
  }

  namedParameters(): [string, Var][] {
    return this.net.namedParameters().map(([n, p]) => [`net.${n}`, p]);
  }
}

/** A fixed permutation of the coordinates, x = u·P (here: reversed, so the next coupling transforms the other half). */
export class Reverse implements FlowLayer {
  readonly #p: Tensor;

  constructor(
    /** The data dimension D. */
    readonly dim: number,
  ) {
    const p = new Float32Array(dim * dim);
    for (let i = 0; i < dim; i++) p[i * dim + (dim - 1 - i)] = 1; // column j of u·P is u[:, D − 1 − j]
    this.#p = T.keep(T.tensor(p, { shape: [dim, dim] }));
  }

  readonly #byDType = new Map<T.DType, Tensor>();

  /** P in the input's dtype (cast once per dtype and kept: not a new tensor per call). */
  #perm(dtype: T.DType): Tensor {
    if (dtype === 'float32') return this.#p;
    let p = this.#byDType.get(dtype);
    if (!p) this.#byDType.set(dtype, (p = T.keep(T.cast(this.#p, dtype))));
    return p;
  }

  /** Frees the permutation matrices (the flow's dispose calls it). */
  dispose(): void {
    T.dispose([this.#p, ...this.#byDType.values()]);
    this.#byDType.clear();
  }

  /** x = u·P: the columns of u in reverse order, (B, D). */
  forward(u: TensorArg): Var {
    return A.matmul(u, this.#perm(valueOf(u).dtype));
  }

  /** u = x·Pᵀ (P⁻¹ = Pᵀ; for a reversal, the same as forward), (B, D). */
  inverse(x: TensorArg): Var {
    return A.matmul(x, this.#perm(valueOf(x).dtype), { transB: true }); // P⁻¹ = Pᵀ
  }

  inverseWithLogDet(x: TensorArg): [Var, Var] {
    return [this.inverse(x), this.logDetJacobian(x)];
  }

  /** A permutation has |det| = 1. */
  logDetJacobian(u: TensorArg): Var {
    return new Var(T.zeros([rows(u)], { dtype: valueOf(u).dtype }));
  }

  parameters(): Var[] {
    return [];
  }

  namedParameters(): [string, Var][] {
    return [];
  }
}

/**
 * ActNorm (Kingma & Dhariwal, "Glow", 2018, §3.1): x = u ⊙ exp(logScale) + bias per coordinate, log|det| = Σ logScale.
 * Data-dependent initialisation: `initialize(x)` sets bias and scale so that the inverse maps x to zero mean and
 * unit variance per coordinate.
 */
export class ActNorm implements FlowLayer {
  /** Per-coordinate log-scale, (D); starts at 0. */
  readonly logScale: Var;
  /** Per-coordinate shift, (D); starts at 0. */
  readonly bias: Var;
  /** Whether initialize() has run (NormalizingFlow.initialize skips layers already initialised). */
  initialized = false;

  constructor(
    /** The data dimension D. */
    readonly dim: number,
    options: InitOptions = {},
  ) {
    this.logScale = new Var(T.zeros([dim], { dtype: options.dtype }), { requiresGrad: true });
    this.bias = new Var(T.zeros([dim], { dtype: options.dtype }), { requiresGrad: true });
  }

  /** Sets bias = mean(x) and logScale = log std(x) per coordinate (x: (B, D) at this layer's output side). */
  initialize(x: Tensor): void {
    T.tidy(() => {
      this.bias.assign(T.keep(T.mean(x, 0)));
      this.logScale.assign(T.keep(T.log(T.add(T.sqrt(T.variance(x, 0)), 1e-6))));
    });
    this.initialized = true;
  }

  /** x = u ⊙ exp(logScale) + bias, for u: (B, D). */
  forward(u: TensorArg): Var {
    return A.add(A.mul(u, A.exp(this.logScale)), this.bias);
  }

  /** u = (x − bias) ⊙ exp(−logScale), for x: (B, D). */
  inverse(x: TensorArg): Var {
    return A.mul(A.sub(x, this.bias), A.exp(A.neg(this.logScale)));
  }

  inverseWithLogDet(x: TensorArg): [Var, Var] {
    return [this.inverse(x), this.logDetJacobian(x)];
  }

  /** Σ logScale, the same for every row: (B). */
  logDetJacobian(u: TensorArg): Var {
    // the same Σ logScale for every row: (B)
    return A.mul(A.sum(this.logScale), new Var(T.ones([rows(u)], { dtype: this.logScale.value.dtype })));
  }

  parameters(): Var[] {
    return [this.logScale, this.bias];
  }

  namedParameters(): [string, Var][] {
    return [['logScale', this.logScale], ['bias', this.bias]];
  }
}

/** The architecture of a {@link NormalizingFlow}. */
export interface FlowConfig {
  /** Data dimension D, an integer ≥ 2. */
  dim: number;
  /** Number of affine couplings (a Reverse between each two). */
  couplings: number;
  /** Hidden widths of each coupling's conditioner MLP. */
  hidden: number[];
  /** Activation of the conditioner MLPs; default `tanh`. */
  activation?: ActivationName;
  /** An ActNorm before each coupling (default false). */
  actnorm?: boolean;
}

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * x = φ(z) = f_K ∘ … ∘ f_1(z), z ~ N(0, I). The density of x by the change of variables:
 *   log p_x(x) = log N(z; 0, I) − Σ_k log|det ∂f_k/∂u_k|,  z = φ⁻¹(x), u_k the input of f_k,
 * computed in one pass through the inverses (Dinh et al. 2017, eq. 3).
 */
export class NormalizingFlow implements Module {
  /** f_1 … f_K in the z → x order: per coupling, [Reverse (after the first)], [ActNorm], AffineCoupling. */
  readonly layers: FlowLayer[];
  /** The configuration with its defaults filled in. */
  readonly config: Required<FlowConfig>;

  constructor(config: FlowConfig, options: InitOptions = {}) {
    const { dim, couplings, hidden, activation = 'tanh', actnorm = false } = config;
    if (!Number.isInteger(couplings) || couplings < 1) throw new T.ValueError('NormalizingFlow', `couplings must be a positive integer, got ${couplings}`);
    this.config = { dim, couplings, hidden: [...hidden], activation, actnorm };
    const g = options.generator ?? T.getGenerator();
    this.layers = [];
    for (let k = 0; k < couplings; k++) {
      if (k > 0) this.layers.push(new Reverse(dim));
      if (actnorm) this.layers.push(new ActNorm(dim, options));
      this.layers.push(new AffineCoupling(dim, hidden, activation, { ...options, generator: g }));
    }
  }

  /** z → x through every layer, and Σ_k log|det ∂f_k/∂u_k| per row. */
  forwardWithLogDet(z: TensorArg): [Var, Var] {
    let u = asVar(z);
    let logDet: Var = new Var(T.zeros([rows(z)], { dtype: u.value.dtype }));
    for (const layer of this.layers) {
      logDet = A.add(logDet, layer.logDetJacobian(u));
      u = layer.forward(u);
    }
    return [u, logDet];
  }

  /** x → z through the inverses, and the same Σ_k log|det ∂f_k/∂u_k| per row. */
  inverseWithLogDet(x: TensorArg): [Var, Var] {
    let u = asVar(x);
    let logDet: Var = new Var(T.zeros([rows(x)], { dtype: u.value.dtype }));
    for (const layer of [...this.layers].reverse()) {
      const [prev, ld] = layer.inverseWithLogDet(u);
      logDet = A.add(logDet, ld);
      u = prev;
    }
    return [u, logDet];
  }

  /** x = φ(z) for z: (B, D). */
  forward(z: TensorArg): Var {
    return this.forwardWithLogDet(z)[0];
  }

  /** z = φ⁻¹(x) for x: (B, D). */
  inverse(x: TensorArg): Var {
    return this.inverseWithLogDet(x)[0];
  }

  /** log p(x) per row, (B). */
  logProb(x: TensorArg): Var {
    const [z, logDet] = this.inverseWithLogDet(x);
    const d = cols(x);
    const logPz = A.mul(A.add(A.sum(A.square(z), 1), d * LOG_2PI), -0.5);
    return A.sub(logPz, logDet);
  }

  /** The mean negative log-likelihood in nats per sample (the training loss). */
  nll(x: TensorArg): Var {
    return A.neg(A.mean(this.logProb(x)));
  }

  /** n samples: z ~ N(0, I) from `generator`, pushed through φ (one pass, no graph). */
  sample(n: number, generator?: T.Generator): Tensor {
    return A.noGrad(() => T.tidy(() => T.keep(this.forward(T.randn([n, this.config.dim], { generator })).value)));
  }

  /** ActNorm's data-dependent initialisation: pushes x back through the layers, initialising each ActNorm it meets. */
  initialize(x: Tensor): void {
    A.noGrad(() =>
      T.tidy(() => {
        let u: Tensor = x;
        for (const layer of [...this.layers].reverse()) {
          if (layer instanceof ActNorm && !layer.initialized) layer.initialize(u);
          u = layer.inverse(u).value;
        }
      }),
    );
  }

  parameters(): Var[] {
    return this.layers.flatMap((l) => l.parameters());
  }

  namedParameters(): [string, Var][] {
    return this.layers.flatMap((l, i) => l.namedParameters().map(([n, p]) => [`layers.${i}.${n}`, p] as [string, Var]));
  }
}
