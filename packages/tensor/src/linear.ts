// The fused linear layer y = act(x·W + b) and its backward: one op each, one pass where the backend fuses them (wasm, webgpu),
// the composite of matmul, add, unary and sum where it does not.
import { getBackend } from './backend.js';
import { ShapeError, ValueError, fmt } from './errors.js';
import { input, needFloat, sameDType, wrap } from './internal.js';
import { add, matmul, sum, unary, unaryGrad } from './ops.js';
import { sameShape } from './shape.js';
import type { Tensor } from './tensor.js';
import { UNARY, type UnaryOp } from './unary.js';

/** What the forward pass keeps for the backward one: z = x·W + b and y = act(z) (the same tensor without act). */
export interface LinearOutputs {
  /** z = x·W + b, (B, Out). */
  z: Tensor;
  /** y = act(z), (B, Out); the same tensor as z without act. */
  y: Tensor;
}

/** The backward pass's results: dz = dy · act'(z) (dy itself without act) and db = Σ over rows of dz. */
export interface LinearGrads {
  /** dz = dy · act′(z), (B, Out); the dy tensor itself without act. */
  dz: Tensor;
  /** db = Σ over rows of dz, (Out). */
  db: Tensor;
}

function checkActivation(activation: UnaryOp | null): void {
  if (activation === null) return;
  const def = UNARY[activation] as { params?: unknown } | undefined;
  if (!def) throw new ValueError('linear', `unknown activation '${String(activation)}'`);
  if (def.params) throw new ValueError('linear', `activation '${activation}' takes parameters; apply it after the layer instead`);
}

/**
 * z = x·W + b and y = act(z), for x: (B, In), W: (In, Out), b: (Out) or none; act any parameterless unary op or none.
 * The wasm backend computes both in the matmul's epilogue: one pass over the output instead of three.
 */
export function linearForward(x: Tensor, w: Tensor, b: Tensor | null = null, activation: UnaryOp | null = null): LinearOutputs {
  const tx = input('linear', x, 'x');
  const tw = input('linear', w, 'w');
  const tb = b === null ? null : input('linear', b, 'b');
  const dtype = sameDType('linear', ...[tx, tw, ...(tb ? [tb] : [])]);
  needFloat('linear', tx);
  checkActivation(activation);
  if (tx.rank !== 2 || tw.rank !== 2 || tx.shape[1] !== tw.shape[0] || (tb && (tb.rank !== 1 || tb.shape[0] !== tw.shape[1]))) {
    throw new ShapeError('linear', `needs x (B, In), w (In, Out), b (Out), got x ${fmt(tx.shape)}, w ${fmt(tw.shape)}${tb ? `, b ${fmt(tb.shape)}` : ''}`);
  }
  const fused = getBackend().linear?.(tx, tw, tb, activation);
  if (fused) {
    const shape = [tx.shape[0], tw.shape[1]];
    const zt = wrap(fused.z, shape, dtype);
    return { z: zt, y: fused.y === fused.z ? zt : wrap(fused.y, shape, dtype) };
  }
  const xw = matmul(tx, tw);
  let z = xw;
  if (tb) {
    z = add(xw, tb);
    xw.dispose();
  }
  return { z, y: activation ? unary(activation, z) : z };
}

/** y = act(x·W + b): the layer's output alone (see linearForward). */
export function linear(x: Tensor, w: Tensor, b: Tensor | null = null, activation: UnaryOp | null = null): Tensor {
  const { z, y } = linearForward(x, w, b, activation);
  if (z !== y) z.dispose();
  return y;
}

/**
 * The backward pass of linearForward for an upstream gradient dy (B, Out): dz = dy · act'(z) and db = Σ_rows dz
 * (one pass on wasm). The caller finishes with dx = dz·Wᵀ and dW = xᵀ·dz (two matmuls). Without act, dz is dy itself.
 */
export function linearBackward(activation: UnaryOp | null, z: Tensor, y: Tensor, dy: Tensor): LinearGrads {
  checkActivation(activation);
  const [tz, ty, tdy] = [input('linearBackward', z, 'z'), input('linearBackward', y, 'y'), input('linearBackward', dy, 'dy')];
  const dtype = sameDType('linearBackward', tz, ty, tdy);
  if (tz.rank !== 2 || !sameShape(ty.shape, tz.shape) || !sameShape(tdy.shape, tz.shape)) {
    throw new ShapeError('linearBackward', `needs z, y and dy of one (B, Out) shape, got ${fmt(tz.shape)}, ${fmt(ty.shape)}, ${fmt(tdy.shape)}`);
  }
  const fused = getBackend().linearBackward?.(activation, tz, ty, tdy);
  if (fused) return { dz: fused.dz === null ? tdy : wrap(fused.dz, tz.shape, dtype), db: wrap(fused.db, [tz.shape[1]], dtype) };
  const dz = activation ? unaryGrad(activation, tz, ty, tdy) : tdy;
  return { dz, db: sum(dz, 0) };
}

/**
 * The input and weight gradients of the layer from dz = dy · act′(z) (see linearBackward): dx = dz·Wᵀ (B, In) and
 * dW = xᵀ·dz (In, Out), each only where `want` asks (else null). Two independent matmuls: on wasm with two threads
 * each thread computes one of them whole (one hand-off instead of two); elsewhere the two matmuls one after the other.
 */
export function linearBackwardProducts(
  x: Tensor,
  w: Tensor,
  dz: Tensor,
  want: {
    /** Compute dx. */
    x: boolean;
    /** Compute dW. */
    w: boolean;
  },
): {
  /** dx = dz·Wᵀ, (B, In); null when not wanted. */
  dx: Tensor | null;
  /** dW = xᵀ·dz, (In, Out); null when not wanted. */
  dw: Tensor | null;
} {
  const [tx, tw, tdz] = [input('linearBackwardProducts', x, 'x'), input('linearBackwardProducts', w, 'w'), input('linearBackwardProducts', dz, 'dz')];
  const dtype = sameDType('linearBackwardProducts', tx, tw, tdz);
  if (tx.rank !== 2 || tw.rank !== 2 || tdz.rank !== 2 || tx.shape[1] !== tw.shape[0] || tdz.shape[0] !== tx.shape[0] || tdz.shape[1] !== tw.shape[1]) {
    throw new ShapeError('linearBackwardProducts', `needs x (B, In), w (In, Out), dz (B, Out), got x ${fmt(tx.shape)}, w ${fmt(tw.shape)}, dz ${fmt(tdz.shape)}`);
  }
  const fused = getBackend().linearBackwardProducts?.(tx, tw, tdz, want.x, want.w);
  if (fused) {
    return {
      dx: fused.dx === null ? null : wrap(fused.dx, tx.shape, dtype),
      dw: fused.dw === null ? null : wrap(fused.dw, tw.shape, dtype),
    };
  }
  return {
    dx: want.x ? matmul(tdz, tw, { transB: true }) : null,
    dw: want.w ? matmul(tx, tdz, { transA: true }) : null,
  };
}
