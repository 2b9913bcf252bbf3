// The Adam update of one parameter as one op: one pass over θ, g, m, v on backends that fuse it (wasm, webgpu), the same
// arithmetic as a composite of elementwise ops elsewhere.
import { getBackend } from './backend.js';
import { ShapeError, ValueError, fmt } from './errors.js';
import { input, needFloat, sameDType, wrap } from './internal.js';
import { sameShape } from './shape.js';
import { add, div, mul, sqrt, square, sub } from './ops.js';
import type { Tensor } from './tensor.js';

/** The hyperparameters of one Adam step (adamUpdate); the names of Kingma & Ba (2015), Algorithm 1. */
export interface AdamHyper {
  /** Learning rate α (the step size). */
  lr: number;
  /** β₁ ∈ [0, 1): decay rate of the first-moment (mean) estimate m, typically 0.9. */
  beta1: number;
  /** β₂ ∈ [0, 1): decay rate of the second-moment (uncentred variance) estimate v, typically 0.999. */
  beta2: number;
  /** ε added to √v̂ in the denominator, typically 1e-8. */
  eps: number;
  /** The step number t ≥ 1 (for the bias corrections 1 − βᵗ). */
  step: number;
  /** λ: L2 (g ← g + λθ, torch.optim.Adam) or, with `decoupled`, AdamW's θ ← θ(1 − lr·λ). */
  weightDecay?: number;
  /** Apply weightDecay as AdamW's decoupled decay rather than as L2 on the gradient (default false). */
  decoupled?: boolean;
}

/**
 * The scalars of one update, as the kernels take them: g ← g + l2·θ; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
 * θ ← θ·decay − lr · (m / bc1) / (√(v / bc2) + ε), with bc = 1 − βᵗ (Kingma & Ba 2015, Algorithm 1;
 * decay = 1 − lr·λ for AdamW, Loshchilov & Hutter 2019).
 */
export interface AdamScalars {
  /** β₁. */
  beta1: number;
  /** 1 − β₁. */
  oneMinusBeta1: number;
  /** β₂. */
  beta2: number;
  /** 1 − β₂. */
  oneMinusBeta2: number;
  /** 1 − β₁ᵗ: the bias correction of m. */
  bc1: number;
  /** 1 − β₂ᵗ: the bias correction of v. */
  bc2: number;
  /** ε. */
  eps: number;
  /** Learning rate. */
  lr: number;
  /** λ of L2 weight decay (added to the gradient as λθ); 0 when decoupled. */
  l2: number;
  /** The factor θ is scaled by before the step: 1 − lr·λ for AdamW (decoupled), else 1. */
  decay: number;
}

/** The order the fused kernels (wasm's `adam`, WebGPU's ADAM) read the scalars in: Backend.fusedUpdate('adam', …). */
export const ADAM_SCALAR_ORDER = ['beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'bc1', 'bc2', 'eps', 'lr', 'l2', 'decay'] as const satisfies readonly (keyof AdamScalars)[];

/** The scalars of one update from the hyperparameters (weightDecay defaults to 0); it does not validate them. */
export function adamScalars(h: AdamHyper): AdamScalars {
  const wd = h.weightDecay ?? 0;
  return {
    beta1: h.beta1,
    oneMinusBeta1: 1 - h.beta1,
    beta2: h.beta2,
    oneMinusBeta2: 1 - h.beta2,
    bc1: 1 - h.beta1 ** h.step,
    bc2: 1 - h.beta2 ** h.step,
    eps: h.eps,
    lr: h.lr,
    l2: h.decoupled ? 0 : wd,
    decay: h.decoupled ? 1 - h.lr * wd : 1,
  };
}

/**
 * One Adam step for a parameter θ with gradient g and moments m, v (all one shape, one float dtype): the new θ, m and
 * v as new tensors (the inputs are left as they are). Throws ShapeError when the shapes differ, DTypeError for mixed or
 * int32 dtypes, ValueError unless `hyper.step` is an integer ≥ 1.
 */
export function adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, hyper: AdamHyper): {
  /** The updated parameter θ. */
  param: Tensor;
  /** The updated first moment m. */
  m: Tensor;
  /** The updated second moment v. */
  v: Tensor;
} {
  const ts = [input('adamUpdate', param, 'param'), input('adamUpdate', grad, 'grad'), input('adamUpdate', m, 'm'), input('adamUpdate', v, 'v')];
  const dtype = sameDType('adamUpdate', ...ts);
  needFloat('adamUpdate', ts[0]);
  if (!sameShape(ts[1].shape, ts[0].shape) || !sameShape(ts[2].shape, ts[0].shape) || !sameShape(ts[3].shape, ts[0].shape)) {
    throw new ShapeError('adamUpdate', `param, grad, m and v need one shape, got ${ts.map((t) => fmt(t.shape)).join(', ')}`);
  }
  if (!(Number.isInteger(hyper.step) && hyper.step >= 1)) throw new ValueError('adamUpdate', `step must be an integer ≥ 1, got ${hyper.step}`);
  const s = adamScalars(hyper);
  // in ADAM_SCALAR_ORDER, field by field (ADAM_SCALAR_ORDER.map((k) => s[k]) is ten keyed loads by changing names: slow)
  const values = [s.beta1, s.oneMinusBeta1, s.beta2, s.oneMinusBeta2, s.bc1, s.bc2, s.eps, s.lr, s.l2, s.decay];
  const fused = getBackend().fusedUpdate?.('adam', ts, values);
  if (fused) return { param: wrap(fused[0], param.shape, dtype), m: wrap(fused[1], m.shape, dtype), v: wrap(fused[2], v.shape, dtype) };
  // The composite: the same operations in the same order (intermediates are left to the caller's tidy).
  const g = s.l2 ? add(grad, mul(param, s.l2)) : grad;
  const m1 = add(mul(m, s.beta1), mul(g, s.oneMinusBeta1));
  const v1 = add(mul(v, s.beta2), mul(square(g), s.oneMinusBeta2));
  const direction = div(div(m1, s.bc1), add(sqrt(div(v1, s.bc2)), s.eps));
  const decayed = s.decay === 1 ? param : mul(param, s.decay);
  return { param: sub(decayed, mul(direction, s.lr)), m: m1, v: v1 };
}
