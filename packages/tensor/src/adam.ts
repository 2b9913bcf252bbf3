// The Adam update of one parameter as one op: one pass over θ, g, m, v on backends that fuse it (wasm), the same
// arithmetic as a composite of elementwise ops elsewhere.
import { getBackend } from './backend.js';
import { ShapeError, ValueError, fmt } from './errors.js';
import { input, needFloat, sameDType, wrap } from './internal.js';
import { add, div, mul, sqrt, square, sub } from './ops.js';
import type { Tensor } from './tensor.js';

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** The step number t ≥ 1 (for the bias corrections 1 − βᵗ). */
  step: number;
  /** λ: L2 (g ← g + λθ, torch.optim.Adam) or, with `decoupled`, AdamW's θ ← θ(1 − lr·λ). */
  weightDecay?: number;
  decoupled?: boolean;
}

/**
 * The scalars of one update, as the kernels take them: g ← g + l2·θ; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
 * θ ← θ·decay − lr · (m / bc1) / (√(v / bc2) + ε), with bc = 1 − βᵗ (Kingma & Ba 2015, Algorithm 1;
 * decay = 1 − lr·λ for AdamW, Loshchilov & Hutter 2019).
 */
export interface AdamScalars {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  bc1: number;
  bc2: number;
  eps: number;
  lr: number;
  l2: number;
  decay: number;
}

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

/** One Adam step for a parameter θ with gradient g and moments m, v (all one shape): the new θ, m and v. */
export function adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, hyper: AdamHyper): { param: Tensor; m: Tensor; v: Tensor } {
  const ts = [input('adamUpdate', param, 'param'), input('adamUpdate', grad, 'grad'), input('adamUpdate', m, 'm'), input('adamUpdate', v, 'v')];
  const dtype = sameDType('adamUpdate', ...ts);
  needFloat('adamUpdate', ts[0]);
  if (ts.some((t) => t.shape.join() !== ts[0].shape.join())) {
    throw new ShapeError('adamUpdate', `param, grad, m and v need one shape, got ${ts.map((t) => fmt(t.shape)).join(', ')}`);
  }
  if (!(Number.isInteger(hyper.step) && hyper.step >= 1)) throw new ValueError('adamUpdate', `step must be an integer ≥ 1, got ${hyper.step}`);
  const s = adamScalars(hyper);
  const fused = getBackend().adamUpdate?.(ts[0], ts[1], ts[2], ts[3], s);
  if (fused) return { param: wrap(fused.param, param.shape, dtype), m: wrap(fused.m, m.shape, dtype), v: wrap(fused.v, v.shape, dtype) };
  // The composite: the same operations in the same order (intermediates are left to the caller's tidy).
  const g = s.l2 ? add(grad, mul(param, s.l2)) : grad;
  const m1 = add(mul(m, s.beta1), mul(g, s.oneMinusBeta1));
  const v1 = add(mul(v, s.beta2), mul(square(g), s.oneMinusBeta2));
  const direction = div(div(m1, s.bc1), add(sqrt(div(v1, s.bc2)), s.eps));
  const decayed = s.decay === 1 ? param : mul(param, s.decay);
  return { param: sub(decayed, mul(direction, s.lr)), m: m1, v: v1 };
}
