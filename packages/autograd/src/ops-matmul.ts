// Differentiable matrix products: matmul and the fused linear layer act(x·W + b), forward beside VJP.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { apply, type OpDef, type TensorArg } from './engine.js';

/**
 * Y = op(A)·op(B). The VJP is two matmuls with transpose flags, never a materialised transpose
 * (tfjs BatchMatMul_grad): with op(A) = A,  dA = dY·op(B)ᵀ;  with op(A) = Aᵀ, dA = (dY·op(B)ᵀ)ᵀ = op(B)·dYᵀ;
 * likewise dB = op(A)ᵀ·dY, or its transpose dYᵀ·op(A) when B is stored transposed. A batch of 1 (or a 2D
 * operand) that was broadcast over the batch receives a (batch, …) gradient, which the engine sums back.
 */
export const matmulOp: OpDef<T.MatmulOptions> = {
  name: 'matmul',
  forward: ([a, b], opts) => T.matmul(a, b, opts),
  vjp: (dy, { inputs: [a, b], attrs: { transA = false, transB = false }, needsGrad: [ga, gb] }) => {
    const dA = !ga
      ? null
      : transA
        ? T.matmul(b, dy, { transA: transB, transB: true }) // op(B)·dYᵀ
        : T.matmul(dy, b, { transB: !transB }); // dY·op(B)ᵀ
    const dB = !gb
      ? null
      : transB
        ? T.matmul(dy, a, { transA: true, transB: transA }) // dYᵀ·op(A)
        : T.matmul(a, dy, { transA: !transA }); // op(A)ᵀ·dY
    return [dA, dB];
  },
  // A 2D operand, or a batch of 1, used by every matrix of the batch gets a (batch, rows, cols) gradient.
  broadcasts: (i, { inputs, output }) => [output.shape[0], ...inputs[i].shape.slice(-2)],
};
/**
 * Matrix product op(A)·op(B) of 2D ((M, K)·(K, N) → (M, N)) or batched 3D ((B, M, K)·(B, K, N) → (B, M, N)) operands,
 * `options.transA` / `transB` reading an operand as stored transposed; a 2D operand or a batch of 1 broadcasts over
 * the other's batch (its gradient is summed back). Other ranks throw ShapeError.
 */
export const matmul = (a: TensorArg, b: TensorArg, options: T.MatmulOptions = {}) => apply(matmulOp, [a, b], options);

interface LinearAttrs {
  activation: T.UnaryOp | null;
}

/**
 * The layer y = act(x·W + b) as one op (one fused kernel on wasm and webgpu), x: (B, In), W: (In, Out), b: (Out).
 * VJP, with z = x·W + b: dz = dy ⊙ act'(z); dx = dz·Wᵀ; dW = xᵀ·dz; db = Σ over the batch of dz.
 */
export const linearOp: OpDef<LinearAttrs, Tensor> = {
  name: 'linear',
  forward: ([x, w, b], attrs) => {
    const { z, y } = T.linearForward(x, w, b ?? null, attrs.activation);
    return { output: y, saved: z }; // the pre-activation z = x·W + b, for act'(z) in the VJP
  },
  vjp: (dy, { inputs: [x, w, b], output, attrs, needsGrad, saved: z }) => {
    const { dz, db } = T.linearBackward(attrs.activation, z, output, dy);
    const { dx, dw } = T.linearBackwardProducts(x, w, dz, { x: needsGrad[0], w: needsGrad[1] }); // dz·Wᵀ and xᵀ·dz
    return b === undefined ? [dx, dw] : [dx, dw, needsGrad[2] ? db : null];
  },
};

/** The affine layer x·W + b, then the activation if one is named (any parameterless unary op, e.g. 'selu'). */
export const linear = (x: TensorArg, w: TensorArg, b?: TensorArg, activation?: T.UnaryOp) =>
  apply(linearOp, b === undefined ? [x, w] : [x, w, b], { activation: activation ?? null });
