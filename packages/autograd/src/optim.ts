// Optimizers (SGD with momentum, Adam, AdamW), gradient-norm clipping and learning-rate schedules.
import type { Var } from './engine.js';
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';

/** An optimizer's state, for checkpoints: the step count and named slot tensors (one list per parameter). */
export interface OptimizerState {
  /** Which optimizer wrote it: `'sgd'`, `'adam'` or `'adamw'`; loadState refuses another kind. */
  kind: string;
  /** Steps taken so far (Adam's t for the bias corrections). */
  step: number;
  /** Slot tensors by name (`momentum` for SGD; `m`, `v` for Adam/AdamW), one per parameter in parameter order. */
  slots: Record<string, Tensor[]>;
}

/** A first-order optimizer over a fixed list of parameters (leaf Vars), updated in place from their `.grad`. */
export interface Optimizer {
  /** The parameters it updates, in the order of its state's slot lists. */
  readonly params: Var[];
  /** Learning rate used by the next step (schedules set it). */
  lr: number;
  /** Number of steps taken. */
  readonly stepCount: number;
  /** Updates every parameter from its .grad (parameters without one are skipped). */
  step(): void;
  /** Clears every parameter's .grad (disposing it). */
  zeroGrad(): void;
  /** The step count and slot tensors, for a checkpoint (the live tensors, not copies). */
  state(): OptimizerState;
  /** Restores a state from {@link Optimizer.state}: copies its slot tensors and step count; throws if kind, count, shape or dtype differ. */
  loadState(state: OptimizerState): void;
}

/** Throws ValueError unless lo ≤ v < hi (v finite). */
function inRange(op: string, name: string, v: number, lo: number, hi: number): void {
  if (!(v >= lo && v < hi) || !Number.isFinite(v)) throw new T.ValueError(op, `${name} must be in [${lo}, ${hi}), got ${v}`);
}

/** Slot tensors (momentum, moments) start at zero with each parameter's shape, kept across tidy scopes. */
const zerosLike = (p: Var) => T.keep(T.zeros([...p.shape], { dtype: p.dtype }));

/** Replaces a kept tensor by a new value computed in a tidy scope, disposing the old one. */
function replace(list: Tensor[], i: number, compute: () => Tensor): Tensor {
  const next = T.keep(T.tidy(compute));
  list[i].dispose();
  list[i] = next;
  return next;
}

abstract class Base implements Optimizer {
  /** Learning rate used by the next step (schedules set it); must be ≥ 0 at construction. */
  lr: number;
  /** Steps taken (incremented before each update, so the first step uses t = 1). */
  protected t = 0;
  /** Per-parameter state tensors by slot name, zero-initialised with each parameter's shape and dtype. */
  protected slots: Record<string, Tensor[]>;

  constructor(
    /** The parameters it updates. */
    readonly params: Var[],
    lr: number,
    slotNames: string[],
    /** The optimizer's name as saved in its state: `'sgd'`, `'adam'` or `'adamw'`. */
    readonly kind: string,
  ) {
    if (!(lr >= 0)) throw new T.ValueError(kind, `lr must be ≥ 0, got ${lr}`);
    this.lr = lr;
    this.slots = Object.fromEntries(slotNames.map((n) => [n, params.map(zerosLike)]));
  }

  get stepCount(): number {
    return this.t;
  }

  step(): void {
    this.t++;
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i];
      if (p.grad) p.assign(T.keep(T.tidy(() => this.update(p.value, p.grad!, i))));
    }
  }

  /** The new value of parameter i, given its value and gradient (runs inside tidy). */
  protected abstract update(value: Tensor, grad: Tensor, i: number): Tensor;

  /** Clears every parameter's .grad (disposing it). */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** The kind, step count and slot tensors, for a checkpoint (the live tensors, not copies). */
  state(): OptimizerState {
    return { kind: this.kind, step: this.t, slots: this.slots };
  }

  /**
   * Restores a state from {@link Optimizer.state}: clones its slot tensors (disposing the current ones) and its step count.
   * Throws ValueError for another kind or a missing/short slot list, ShapeError for a slot of another shape or dtype.
   */
  loadState(state: OptimizerState): void {
    if (state.kind !== this.kind) throw new T.ValueError('loadState', `optimizer state is for ${state.kind}, this is ${this.kind}`);
    for (const [name, list] of Object.entries(this.slots)) {
      const given = state.slots[name];
      if (!given || given.length !== list.length) throw new T.ValueError('loadState', `${this.kind} state lacks slot '${name}' for ${list.length} parameters`);
      list.forEach((old, i) => {
        if (given[i].shape.join() !== old.shape.join() || given[i].dtype !== old.dtype) {
          throw new T.ShapeError('loadState', `slot ${name}[${i}] is ${given[i].dtype}[${given[i].shape}], expected ${old.dtype}[${old.shape}]`);
        }
        list[i] = T.keep(T.clone(given[i]));
        old.dispose();
      });
    }
    this.t = state.step;
  }
}

/**
 * SGD with momentum μ (PyTorch's form): b ← μ b + g;  θ ← θ − lr · b.  With weightDecay, g ← g + λ θ first (L2).
 */
export class SGD extends Base {
  constructor(
    params: Var[],
    options: {
      /** Learning rate (≥ 0). */
      lr: number;
      /** Momentum μ in [0, 1); default 0 (plain SGD). */
      momentum?: number;
      /** L2 weight decay λ ≥ 0; default 0. */
      weightDecay?: number;
    },
  ) {
    super(params, options.lr, ['momentum'], 'sgd');
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    inRange('sgd', 'momentum', this.momentum, 0, 1);
    inRange('sgd', 'weightDecay', this.weightDecay, 0, Infinity);
  }
  /** Momentum μ in [0, 1) (default 0). */
  readonly momentum: number;
  /** L2 weight decay λ ≥ 0, added to the gradient as λθ (default 0). */
  readonly weightDecay: number;

  protected update(value: Tensor, grad: Tensor, i: number): Tensor {
    const g = this.weightDecay ? T.add(grad, T.mul(value, this.weightDecay)) : grad;
    const b = this.momentum ? replace(this.slots.momentum, i, () => T.add(T.mul(this.slots.momentum[i], this.momentum), g)) : g;
    return T.sub(value, T.mul(b, this.lr));
  }
}

/** Options of {@link Adam} and {@link AdamW}. */
export interface AdamOptions {
  /** Learning rate (≥ 0). */
  lr: number;
  /** Decay rate β₁ of the first-moment average, in [0, 1); default 0.9. */
  beta1?: number;
  /** Decay rate β₂ of the second-moment average, in [0, 1); default 0.999. */
  beta2?: number;
  /** ε added to √v̂ in the denominator, ≥ 0; default 1e-8. */
  eps?: number;
  /** Weight decay λ ≥ 0: L2 for Adam (default 0), decoupled for AdamW (default 0.01). */
  weightDecay?: number;
}

/**
 * Adam (Kingma & Ba 2015, Algorithm 1), with bias correction:
 * m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;  m̂ = m / (1 − β₁ᵗ);  v̂ = v / (1 − β₂ᵗ);  θ ← θ − lr · m̂ / (√v̂ + ε).
 * weightDecay here is L2 (g ← g + λ θ), as torch.optim.Adam; AdamW decouples it.
 */
export class Adam extends Base {
  /** β₁, the first-moment decay rate (default 0.9). */
  readonly beta1: number;
  /** β₂, the second-moment decay rate (default 0.999). */
  readonly beta2: number;
  /** ε in the denominator √v̂ + ε (default 1e-8). */
  readonly eps: number;
  /** Weight decay λ: L2 (g ← g + λθ) for Adam, default 0; decoupled (θ ← θ(1 − lr·λ)) for AdamW, default 0.01. */
  readonly weightDecay: number;

  constructor(params: Var[], options: AdamOptions, kind = 'adam') {
    super(params, options.lr, ['m', 'v'], kind);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    inRange(kind, 'beta1', this.beta1, 0, 1);
    inRange(kind, 'beta2', this.beta2, 0, 1);
    inRange(kind, 'eps', this.eps, 0, Infinity);
    inRange(kind, 'weightDecay', this.weightDecay, 0, Infinity);
  }

  /** One fused step (T.adamUpdate: one pass on wasm and webgpu); the new moments replace the kept ones. */
  protected update(value: Tensor, grad: Tensor, i: number): Tensor {
    const { beta1, beta2, eps, weightDecay } = this;
    const next = T.adamUpdate(value, grad, this.slots.m[i], this.slots.v[i], {
      lr: this.lr,
      beta1,
      beta2,
      eps,
      step: this.t,
      weightDecay,
      decoupled: this.kind === 'adamw',
    });
    const { m, v } = this.slots;
    m[i].dispose();
    m[i] = T.keep(next.m);
    v[i].dispose();
    v[i] = T.keep(next.v);
    return next.param;
  }
}

/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", 2019; torch.optim.AdamW's order):
 * θ ← θ − lr · λ θ, then the Adam step on the raw gradient. weightDecay defaults to 0.01.
 */
export class AdamW extends Adam {
  constructor(params: Var[], options: AdamOptions) {
    super(params, { weightDecay: 0.01, ...options }, 'adamw');
  }
}

/**
 * Scales all gradients together so that their global L2 norm is at most maxNorm (PyTorch's clip_grad_norm_:
 * factor maxNorm / (norm + 1e-6) when norm > maxNorm). Returns the norm before clipping.
 */
export function clipGradNorm(params: Var[], maxNorm: number): number {
  const withGrad = gradsToClip(params, maxNorm, 'clipGradNorm');
  const squares = squaredNorms(withGrad);
  try {
    return clipTo(withGrad, squares?.data ?? [], maxNorm);
  } finally {
    squares?.dispose();
  }
}

/**
 * clipGradNorm without blocking: the per-parameter ‖g‖² computed together and read back asynchronously
 * (Tensor.dataAsync), then summed in the same order — the same norm and the same scaled gradients.
 */
export async function clipGradNormAsync(params: Var[], maxNorm: number): Promise<number> {
  const withGrad = gradsToClip(params, maxNorm, 'clipGradNormAsync');
  const squares = squaredNorms(withGrad);
  try {
    return clipTo(withGrad, (await squares?.dataAsync()) ?? [], maxNorm);
  } finally {
    squares?.dispose();
  }
}

/**
 * clipGradNorm in two halves, for a caller that reads the norms itself (the Trainer's step, synchronously or not):
 * `squares`, every gradient's ‖g‖² as one tensor (null without gradients), and `clip(values)`, the clipping once
 * they are read. Returns the norm before clipping, as clipGradNorm does; the caller disposes `squares`.
 */
export function clipGradNormSteps(params: Var[], maxNorm: number): {
  /** Every gradient's ‖g‖² as one tensor (null when no parameter has a gradient); the caller reads and disposes it. */
  squares: Tensor | null;
  /** Clips with the values read from `squares`; returns the norm before clipping. */
  clip(values: ArrayLike<number>): number;
} {
  const withGrad = gradsToClip(params, maxNorm, 'clipGradNorm');
  return { squares: squaredNorms(withGrad), clip: (values) => clipTo(withGrad, values, maxNorm) };
}

function gradsToClip(params: Var[], maxNorm: number, op: string): Var[] {
  if (!(maxNorm > 0)) throw new T.ValueError(op, `maxNorm must be positive, got ${maxNorm}`);
  return params.filter((p) => p.grad);
}

/** ‖g‖² of each gradient, computed together as one (P,) tensor (kept: one read-back, not one per parameter); null for none. */
function squaredNorms(withGrad: Var[]): Tensor | null {
  return withGrad.length === 0 ? null : T.tidy(() => T.keep(T.stack(withGrad.map((p) => T.sum(T.square(p.grad!))))));
}

/** norm = √Σ‖g‖² (summed in order, in float64); g ← g · maxNorm / (norm + 1e-6) for every gradient when norm > maxNorm. */
function clipTo(withGrad: Var[], squares: ArrayLike<number>, maxNorm: number): number {
  let sum = 0;
  for (let i = 0; i < squares.length; i++) sum += squares[i];
  const norm = Math.sqrt(sum);
  if (!(norm > maxNorm)) return norm;
  const factor = maxNorm / (norm + 1e-6);
  for (const p of withGrad) {
    const scaled = T.keep(T.mul(p.grad!, factor));
    p.grad!.dispose();
    p.grad = scaled;
  }
  return norm;
}

/** A learning-rate schedule: the rate for step s (0-based) of `total`. */
export type Schedule = (step: number) => number;

/** The same rate `lr` at every step. */
export const constantLr = (lr: number): Schedule => () => lr;

/** Cosine decay from lr to minLr over `total` steps: minLr + (lr − minLr)(1 + cos(π s / total)) / 2. */
export function cosineLr(lr: number, total: number, minLr = 0): Schedule {
  if (!Number.isInteger(total) || total < 1) throw new T.ValueError('cosineLr', `total must be a positive integer, got ${total}`);
  return (s) => minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * Math.min(s, total)) / total))) / 2;
}

/** Linear warm-up over the first `warmup` steps (rate × (s + 1) / warmup), then `after`. */
export const warmupLr = (warmup: number, after: Schedule): Schedule => (s) => (s < warmup ? (after(s) * (s + 1)) / warmup : after(s));
