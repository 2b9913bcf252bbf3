// Differentiable reductions, matmul and shape ops: forward beside VJP, as in ops.ts.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { apply, type OpDef, type Var, type VarLike } from './engine.js';
import { add, div, square, sub } from './ops.js';

type In = Tensor | number;
const t = (x: In) => x as Tensor;

/** Axes as @rill/tensor normalises them (sorted, non-negative); undefined means all. */
function axesOf(axis: T.Axes, rank: number): number[] {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  return (typeof axis === 'number' ? [axis] : axis).map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
}

/** The shape of x with the reduced axes kept as 1: dy reshaped to it broadcasts back over x. */
const keptShape = (x: Tensor, axis: T.Axes) => {
  const axes = axesOf(axis, x.rank);
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
};

// ---------------------------------------------------------------- reductions

type ReduceAttrs = { axis: T.Axes; keepdims: boolean };

/** y = Σ x over axes; every x element contributes once, so dx = dy broadcast back over the reduced axes. */
export const sumOp: OpDef<ReduceAttrs> = {
  name: 'sum',
  forward: ([x], { axis, keepdims }) => T.sum(t(x), axis, keepdims),
  vjp: (dy, { inputs: [x], attrs: { axis } }) => [T.broadcastTo(T.reshape(dy, keptShape(t(x), axis)), [...t(x).shape])],
};

/**
 * y = max x over axes. dx = dy where x equals the maximum, shared equally among ties (so the gradient sums to dy,
 * as for a subgradient that splits ties; PyTorch's amax does the same).
 */
const extremumOp = (name: 'max' | 'min'): OpDef<ReduceAttrs> => ({
  name,
  forward: ([x], { axis, keepdims }) => T[name](t(x), axis, keepdims),
  vjp: (dy, { inputs: [x], output: y, attrs: { axis } }) => {
    const shape = keptShape(t(x), axis);
    const hits = T.eq(t(x), T.reshape(y, shape)); // 1 at every position holding the extremum
    const share = T.div(hits, T.sum(hits, axis, true));
    return [T.mul(share, T.reshape(dy, shape))];
  },
});
export const maxOp = extremumOp('max');
export const minOp = extremumOp('min');

export const sum = (x: VarLike, axis?: T.Axes, keepdims = false) => apply(sumOp, [x], { axis, keepdims });
export const max = (x: VarLike, axis?: T.Axes, keepdims = false) => apply(maxOp, [x], { axis, keepdims });
export const min = (x: VarLike, axis?: T.Axes, keepdims = false) => apply(minOp, [x], { axis, keepdims });

/** Composite: mean = sum / count (its gradient follows from sum's and div's). */
export function mean(x: VarLike, axis?: T.Axes, keepdims = false): Var {
  const shape = valueOf(x).shape;
  const count = axesOf(axis, shape.length).reduce((p, a) => p * shape[a], 1);
  return div(sum(x, axis, keepdims), count);
}

/** Composite: population variance mean((x − mean x)²), ddof = 0. */
export function variance(x: VarLike, axis?: T.Axes, keepdims = false): Var {
  const d = sub(x, mean(x, axis, true));
  return mean(square(d), axis, keepdims);
}

/** The tensor behind a Var or Tensor argument (ops that need its shape do not accept plain numbers). */
function valueOf(x: VarLike): Tensor {
  if (typeof x === 'number') throw new T.ValueError('mean', 'needs a Var or a Tensor, got a number');
  return 'value' in x ? x.value : x;
}

// ---------------------------------------------------------------- matmul

/**
 * Y = op(A)·op(B). The VJP is two matmuls with transpose flags, never a materialised transpose
 * (tfjs BatchMatMul_grad): with op(A) = A,  dA = dY·op(B)ᵀ;  with op(A) = Aᵀ, dA = (dY·op(B)ᵀ)ᵀ = op(B)·dYᵀ;
 * likewise dB = op(A)ᵀ·dY, or its transpose dYᵀ·op(A) when B is stored transposed. A batch of 1 (or a 2D
 * operand) that was broadcast over the batch receives a (batch, …) gradient, which the engine sums back.
 */
export const matmulOp: OpDef<T.MatmulOptions> = {
  name: 'matmul',
  forward: ([a, b], opts) => T.matmul(t(a), t(b), opts),
  vjp: (dy, { inputs: [a, b], attrs: { transA = false, transB = false } }) => {
    const A = t(a);
    const B = t(b);
    const dA = transA
      ? T.matmul(B, dy, { transA: transB, transB: true }) // op(B)·dYᵀ
      : T.matmul(dy, B, { transB: !transB }); // dY·op(B)ᵀ
    const dB = transB
      ? T.matmul(dy, A, { transA: true, transB: transA }) // dYᵀ·op(A)
      : T.matmul(A, dy, { transA: !transA }); // op(A)ᵀ·dY
    return [dA, dB];
  },
  broadcasts: true,
};
export const matmul = (a: VarLike, b: VarLike, options: T.MatmulOptions = {}) => apply(matmulOp, [a, b], options);

/** Composite: the affine layer x·W + b, with x: (B, In), W: (In, Out), b: (Out). */
export const linear = (x: VarLike, w: VarLike, b?: VarLike) => (b === undefined ? matmul(x, w) : add(matmul(x, w), b));

/** Composite: mean squared error mean((a − b)²) over all elements. */
export const mse = (a: VarLike, b: VarLike) => mean(square(sub(a, b)));

// ---------------------------------------------------------------- shape ops

/** Same elements, new shape: the gradient is dy with x's shape. */
export const reshapeOp: OpDef<number[]> = {
  name: 'reshape',
  forward: ([x], shape) => T.reshape(t(x), shape),
  vjp: (dy, { inputs: [x] }) => [T.reshape(dy, [...t(x).shape])],
};

/** Axis k of y is axis perm[k] of x, so dx = transpose(dy, perm⁻¹). */
export const transposeOp: OpDef<number[] | undefined> = {
  name: 'transpose',
  forward: ([x], perm) => T.transpose(t(x), perm),
  vjp: (dy, { inputs: [x], attrs: perm }) => {
    const p = perm ?? t(x).shape.map((_, i) => t(x).rank - 1 - i);
    const inverse: number[] = [];
    p.forEach((axis, k) => (inverse[axis] = k));
    return [T.transpose(dy, inverse)];
  },
};

/** Copies along broadcast axes: dx = dy summed back over them, which is exactly what the engine's broadcasting undo does. */
export const broadcastToOp: OpDef<number[]> = {
  name: 'broadcastTo',
  forward: ([x], shape) => T.broadcastTo(t(x), shape),
  vjp: (dy) => [dy],
  broadcasts: true,
};

/** Each input's gradient is its slab of dy along the axis. */
export const concatOp: OpDef<number> = {
  name: 'concat',
  forward: (xs, axis) => T.concat(xs.map(t), axis),
  vjp: (dy, { inputs, attrs: axis }) => {
    const a = axis < 0 ? axis + dy.rank : axis;
    let start = 0;
    return inputs.map((x) => {
      const len = t(x).shape[a];
      const starts = dy.shape.map((_, i) => (i === a ? start : 0));
      const ends = dy.shape.map((d, i) => (i === a ? start + len : d));
      start += len;
      return T.slice(dy, starts, ends);
    });
  },
};

/** The box of x; dx is dy placed back into zeros of x's shape (padding with zeros along each axis). */
export const sliceOp: OpDef<{ starts: number[]; ends: (number | undefined)[] }> = {
  name: 'slice',
  forward: ([x], { starts, ends }) => T.slice(t(x), starts, ends),
  vjp: (dy, { inputs: [x], attrs: { starts } }) => {
    const shape = t(x).shape;
    let g = dy;
    shape.forEach((dim, i) => {
      const s = starts[i] === undefined ? 0 : starts[i] < 0 ? starts[i] + dim : starts[i];
      const before = [...g.shape];
      before[i] = s;
      const after = [...g.shape];
      after[i] = dim - s - g.shape[i];
      if (before[i] > 0 || after[i] > 0) g = T.concat([T.zeros(before, { dtype: dy.dtype }), g, T.zeros(after, { dtype: dy.dtype })], i);
    });
    return [g];
  },
};

/** Rows by index; rows taken several times receive the sum of their gradients: dx = scatterAdd(dy, indices). */
export const gatherOp: OpDef = {
  name: 'gather',
  forward: ([x, idx]) => T.gather(t(x), t(idx)),
  vjp: (dy, { inputs: [x, idx] }) => [T.scatterAdd(dy, t(idx), t(x).shape[0]), null],
};

/** The adjoint of gather, so its VJP is gather. */
export const scatterAddOp: OpDef<number> = {
  name: 'scatterAdd',
  forward: ([u, idx], rows) => T.scatterAdd(t(u), t(idx), rows),
  vjp: (dy, { inputs: [, idx] }) => [T.gather(dy, t(idx)), null],
};

export const reshape = (x: VarLike, shape: number[]) => apply(reshapeOp, [x], shape);
export const transpose = (x: VarLike, perm?: number[]) => apply(transposeOp, [x], perm);
export const broadcastTo = (x: VarLike, shape: number[]) => apply(broadcastToOp, [x], shape);
export const concat = (xs: VarLike[], axis = 0) => apply(concatOp, xs, axis);
export const slice = (x: VarLike, starts: number[], ends: (number | undefined)[] = []) => apply(sliceOp, [x], { starts, ends });

/** Indices as an int32 tensor (they are never differentiated). */
const indexTensor = (indices: Tensor | number[]) => (Array.isArray(indices) ? T.tensor(indices, { dtype: 'int32' }) : indices);
export const gather = (x: VarLike, indices: Tensor | number[]) => apply(gatherOp, [x, indexTensor(indices)], undefined);
export const scatterAdd = (updates: VarLike, indices: Tensor | number[], numRows: number) =>
  apply(scatterAddOp, [updates, indexTensor(indices)], numRows);

/** Composite: stack = reshape each input to have a new size-1 axis, then concat along it. */
export function stack(xs: VarLike[], axis = 0): Var {
  const shape = valueOf(xs[0]).shape;
  const a = axis < 0 ? axis + shape.length + 1 : axis;
  return concat(xs.map((x) => reshape(x, [...shape.slice(0, a), 1, ...shape.slice(a)])), a);
}

