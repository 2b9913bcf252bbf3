// Differentiable shape ops — reshape, transpose, broadcastTo, concat, stack, slice, gather, scatterAdd, cast, clone:
// forward beside VJP, as in ops.ts.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { apply, Var, type OpDef, type TensorArg } from './engine.js';
import { valueOf } from './inputs.js';

/** Same elements, new shape: the gradient is dy with x's shape. */
export const reshapeOp: OpDef<number[]> = {
  name: 'reshape',
  forward: ([x], shape) => T.reshape(x, shape),
  vjp: (dy, { inputs: [x] }) => [T.reshape(dy, [...x.shape])],
};

/** Axis k of y is axis perm[k] of x, so dx = transpose(dy, perm⁻¹). */
export const transposeOp: OpDef<number[] | undefined> = {
  name: 'transpose',
  forward: ([x], perm) => T.transpose(x, perm),
  vjp: (dy, { inputs: [x], attrs: perm }) => {
    const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
    const inverse: number[] = [];
    p.forEach((axis, k) => (inverse[axis] = k));
    return [T.transpose(dy, inverse)];
  },
};

/** Copies along broadcast axes: dx = dy summed back over them, which is exactly what the engine's broadcasting undo does. */
export const broadcastToOp: OpDef<number[]> = {
  name: 'broadcastTo',
  forward: ([x], shape) => T.broadcastTo(x, shape),
  vjp: (dy) => [dy],
  broadcasts: true,
};

/** Each input's gradient is its slab of dy along the axis. */
export const concatOp: OpDef<number> = {
  name: 'concat',
  forward: (xs, axis) => T.concat(xs, axis),
  vjp: (dy, { inputs, attrs: axis }) => {
    const a = axis < 0 ? axis + dy.rank : axis;
    let start = 0;
    return inputs.map((x) => {
      const len = x.shape[a];
      const starts = dy.shape.map((_, i) => (i === a ? start : 0));
      const ends = dy.shape.map((d, i) => (i === a ? start + len : d));
      start += len;
      return T.slice(dy, starts, ends);
    });
  },
};

/** The box of x; dx is dy placed back into zeros of x's shape (padding with zeros along each axis). */
export const sliceOp: OpDef<{
  /** Start index on each axis (missing axes start at 0; negatives count from the end). */
  starts: number[];
  /** End index (exclusive) on each axis; undefined or missing means the axis end. */
  ends: (number | undefined)[];
}> = {
  name: 'slice',
  forward: ([x], { starts, ends }) => T.slice(x, starts, ends),
  vjp: (dy, { inputs: [x], attrs: { starts } }) => {
    const shape = x.shape;
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
  forward: ([x, idx]) => T.gather(x, idx),
  vjp: (dy, { inputs: [x, idx] }) => [T.scatterAdd(dy, idx, x.shape[0]), null],
};

/** The adjoint of gather, so its VJP is gather. */
export const scatterAddOp: OpDef<number> = {
  name: 'scatterAdd',
  forward: ([u, idx], rows) => T.scatterAdd(u, idx, rows),
  vjp: (dy, { inputs: [, idx] }) => [T.gather(dy, idx), null],
};

/** Same elements in row-major order, new shape (one dimension may be −1); dx = dy reshaped to x's shape. */
export const reshape = (x: TensorArg, shape: number[]) => apply(reshapeOp, [x], shape);
/** Permutes the axes: axis k of the result is axis perm[k] of x (default: all reversed); dx = transpose(dy, perm⁻¹). */
export const transpose = (x: TensorArg, perm?: number[]) => apply(transposeOp, [x], perm);
/** Repeats x along new leading and size-1 axes to `shape` (NumPy broadcasting); dx = dy summed back. */
export const broadcastTo = (x: TensorArg, shape: number[]) => apply(broadcastToOp, [x], shape);
/** Joins the inputs along an existing `axis` (default 0; other dimensions must agree); each gets its slab of dy. */
export const concat = (xs: TensorArg[], axis = 0) => apply(concatOp, xs, axis);
/**
 * The box starts[k] ≤ i_k < ends[k] on each axis (axes not listed taken whole, an undefined end meaning the axis end,
 * negatives counting from the end; out-of-range bounds throw); dx is dy padded with zeros back to x's shape.
 */
export const slice = (x: TensorArg, starts: number[], ends: (number | undefined)[] = []) => apply(sliceOp, [x], { starts, ends });

/** Indices as an int32 tensor (they are never differentiated). */
const indexTensor = (indices: Tensor | number[]) => (Array.isArray(indices) ? T.tensor(indices, { dtype: 'int32' }) : indices);
/**
 * Rows by index: out[i, …] = x[indices[i], …], shape [...indices.shape, ...x.shape.slice(1)]; rows taken several
 * times receive the sum of their gradients. Indices (int32) get no gradient.
 */
export const gather = (x: TensorArg, indices: Tensor | number[]) => apply(gatherOp, [x, indexTensor(indices)], undefined);
/**
 * A zero tensor of shape [numRows, ...rowShape] with out[indices[i], …] += updates[i, …] (repeated indices add up);
 * the adjoint of {@link gather}, so dupdates = gather(dy, indices).
 */
export const scatterAdd = (updates: TensorArg, indices: Tensor | number[], numRows: number) =>
  apply(scatterAddOp, [updates, indexTensor(indices)], numRows);

/** Composite: stack = reshape each input to have a new size-1 axis, then concat along it. */
export function stack(xs: TensorArg[], axis = 0): Var {
  if (!Array.isArray(xs) || xs.length === 0) throw new T.ValueError('stack', 'needs a non-empty array of tensors');
  const values = xs.map((x) => valueOf('stack', x));
  const shape = values[0].shape;
  if (values.some((v) => v.shape.join() !== shape.join())) throw new T.ShapeError('stack', `shapes differ: ${values.map((v) => `[${v.shape}]`).join(', ')}`);
  const a = T.normalizeAxis('stack', axis, [xs.length, ...shape]);
  return concat(xs.map((x) => reshape(x, [...shape.slice(0, a), 1, ...shape.slice(a)])), a);
}

/** A copy in another dtype: between float dtypes the gradient is cast back; to int32 the result is a constant. */
export const castOp: OpDef<T.DType> = {
  name: 'cast',
  forward: ([x], dtype) => T.cast(x, dtype),
  vjp: (dy, { inputs: [x] }) => [T.cast(dy, x.dtype)],
};
/** x converted to `dtype`: between float dtypes the gradient is cast back; casting to int32 gives a constant Var. */
export const cast = (x: TensorArg, dtype: T.DType): Var =>
  dtype === 'int32' ? new Var(T.cast(valueOf('cast', x), dtype)) : apply(castOp, [x], dtype);

/** A copy with its own storage; the gradient passes through unchanged. */
export const cloneOp: OpDef = { name: 'clone', forward: ([x]) => T.clone(x), vjp: (dy) => [dy] };
/** A copy of x with its own storage; the gradient passes through unchanged. */
export const clone = (x: TensorArg): Var => apply(cloneOp, [x], undefined);
