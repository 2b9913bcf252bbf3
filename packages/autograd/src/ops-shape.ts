// Differentiable reductions, matmul and shape ops: forward beside VJP, as in ops.ts.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { apply, Var, type OpDef, type VarLike } from './engine.js';
import { add, div, square, sub } from './ops.js';

type In = Tensor | number;
/** A type assertion (no conversion): for inputs that the op only accepts as tensors. */
const asTensor = (x: In) => x as Tensor;

/** The shape of x with the reduced axes kept as 1: dy reshaped to it broadcasts back over x. */
const keptShape = (x: Tensor, axis: T.Axes) => {
  const axes = T.normalizeAxes('sum', axis, x.shape);
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
};

// ---------------------------------------------------------------- reductions

type ReduceAttrs = { axis: T.Axes; keepdims: boolean };

/** y = Σ x over axes; every x element contributes once, so dx = dy broadcast back over the reduced axes. */
export const sumOp: OpDef<ReduceAttrs> = {
  name: 'sum',
  forward: ([x], { axis, keepdims }) => T.sum(asTensor(x), axis, keepdims),
  vjp: (dy, { inputs: [x], attrs: { axis } }) => [T.broadcastTo(T.reshape(dy, keptShape(asTensor(x), axis)), [...asTensor(x).shape])],
};

/**
 * y = max x over axes. dx = dy where x equals the maximum, shared equally among ties (so the gradient sums to dy,
 * as for a subgradient that splits ties; PyTorch's amax does the same).
 */
const extremumOp = (name: 'max' | 'min'): OpDef<ReduceAttrs> => ({
  name,
  forward: ([x], { axis, keepdims }) => T[name](asTensor(x), axis, keepdims),
  vjp: (dy, { inputs: [x], output: y, attrs: { axis } }) => {
    const shape = keptShape(asTensor(x), axis);
    const hits = T.eq(asTensor(x), T.reshape(y, shape)); // 1 at every position holding the extremum
    const share = T.div(hits, T.sum(hits, axis, true));
    return [T.mul(share, T.reshape(dy, shape))];
  },
});
/** The `max` reduction OpDef: dx = dy at the positions holding the maximum, shared equally among ties. */
export const maxOp = extremumOp('max');
/** The `min` reduction OpDef: dx = dy at the positions holding the minimum, shared equally among ties. */
export const minOp = extremumOp('min');

/** Σ x over `axis` (one, a list, or all by default); `keepdims` keeps reduced axes as size 1. dx = dy broadcast back. */
export const sum = (x: VarLike, axis?: T.Axes, keepdims = false) => apply(sumOp, [x], { axis, keepdims });
/**
 * Maximum over `axis` (all by default; `keepdims` as {@link sum}); throws on an empty axis. The gradient goes to the
 * maximal elements, split equally among ties.
 */
export const max = (x: VarLike, axis?: T.Axes, keepdims = false) => apply(maxOp, [x], { axis, keepdims });
/** Minimum over `axis`, as {@link max}: the gradient goes to the minimal elements, split equally among ties. */
export const min = (x: VarLike, axis?: T.Axes, keepdims = false) => apply(minOp, [x], { axis, keepdims });

/** Composite: mean = sum / count (its gradient follows from sum's and div's; graphs show it as `div`). */
export function mean(x: VarLike, axis?: T.Axes, keepdims = false): Var {
  const v = floatValue('mean', x);
  const count = T.normalizeAxes('mean', axis, v.shape).reduce((p, a) => p * v.shape[a], 1);
  return div(sum(x, axis, keepdims), count);
}

/** Composite: population variance mean((x − mean x)²), ddof = 0 (graphs show it as `div`). */
export function variance(x: VarLike, axis?: T.Axes, keepdims = false): Var {
  T.normalizeAxes('var', axis, floatValue('var', x).shape);
  const d = sub(x, mean(x, axis, true));
  return mean(square(d), axis, keepdims);
}

/** The tensor behind a Var or Tensor argument (ops that need its shape do not accept plain numbers). */
function valueOf(op: string, x: VarLike): Tensor {
  if (x instanceof Var) return x.value;
  if (x instanceof T.Tensor) return x;
  throw new T.ValueError(op, `needs a Var or a Tensor, got ${typeof x}`);
}

/** valueOf, refusing int32 where the op needs floats. */
function floatValue(op: string, x: VarLike): Tensor {
  const v = valueOf(op, x);
  if (v.dtype === 'int32') throw new T.DTypeError(op, `needs a float32 or float64 tensor, got int32[${v.shape}]; cast it first`);
  return v;
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
  forward: ([a, b], opts) => T.matmul(asTensor(a), asTensor(b), opts),
  vjp: (dy, { inputs: [a, b], attrs: { transA = false, transB = false }, needsGrad: [ga, gb] }) => {
    const A = asTensor(a);
    const B = asTensor(b);
    const dA = !ga
      ? null
      : transA
        ? T.matmul(B, dy, { transA: transB, transB: true }) // op(B)·dYᵀ
        : T.matmul(dy, B, { transB: !transB }); // dY·op(B)ᵀ
    const dB = !gb
      ? null
      : transB
        ? T.matmul(dy, A, { transA: true, transB: transA }) // dYᵀ·op(A)
        : T.matmul(A, dy, { transA: !transA }); // op(A)ᵀ·dY
    return [dA, dB];
  },
  // A 2D operand, or a batch of 1, used by every matrix of the batch gets a (batch, rows, cols) gradient.
  broadcasts: (i, { inputs, output }) => [output.shape[0], ...asTensor(inputs[i]).shape.slice(-2)],
};
/**
 * Matrix product op(A)·op(B) of 2D ((M, K)·(K, N) → (M, N)) or batched 3D ((B, M, K)·(B, K, N) → (B, M, N)) operands,
 * `options.transA` / `transB` reading an operand as stored transposed; a 2D operand or a batch of 1 broadcasts over
 * the other's batch (its gradient is summed back). Other ranks throw ShapeError.
 */
export const matmul = (a: VarLike, b: VarLike, options: T.MatmulOptions = {}) => apply(matmulOp, [a, b], options);

interface LinearAttrs {
  activation: T.UnaryOp | null;
  /** The pre-activation x·W + b, kept by forward for the VJP. */
  z?: Tensor;
}

/**
 * The layer y = act(x·W + b) as one op (one fused kernel on wasm and webgpu), x: (B, In), W: (In, Out), b: (Out).
 * VJP, with z = x·W + b: dz = dy ⊙ act'(z); dx = dz·Wᵀ; dW = xᵀ·dz; db = Σ over the batch of dz.
 */
export const linearOp: OpDef<LinearAttrs> = {
  name: 'linear',
  forward: ([x, w, b], attrs) => {
    const { z, y } = T.linearForward(asTensor(x), asTensor(w), b === undefined ? null : asTensor(b), attrs.activation);
    attrs.z = z;
    return y;
  },
  vjp: (dy, { inputs: [x, w, b], output, attrs, needsGrad }) => {
    const { dz, db } = T.linearBackward(attrs.activation, attrs.z!, output, dy);
    const grads = [
      needsGrad[0] ? T.matmul(dz, asTensor(w), { transB: true }) : null,
      needsGrad[1] ? T.matmul(asTensor(x), dz, { transA: true }) : null,
    ];
    return b === undefined ? grads : [...grads, needsGrad[2] ? db : null];
  },
};

/** The affine layer x·W + b, then the activation if one is named (any parameterless unary op, e.g. 'selu'). */
export const linear = (x: VarLike, w: VarLike, b?: VarLike, activation?: T.UnaryOp) =>
  apply(linearOp, b === undefined ? [x, w] : [x, w, b], { activation: activation ?? null });

/** Composite: mean squared error mean((a − b)²) over all elements. */
export const mse = (a: VarLike, b: VarLike) => mean(square(sub(a, b)));

// ---------------------------------------------------------------- shape ops

/** Same elements, new shape: the gradient is dy with x's shape. */
export const reshapeOp: OpDef<number[]> = {
  name: 'reshape',
  forward: ([x], shape) => T.reshape(asTensor(x), shape),
  vjp: (dy, { inputs: [x] }) => [T.reshape(dy, [...asTensor(x).shape])],
};

/** Axis k of y is axis perm[k] of x, so dx = transpose(dy, perm⁻¹). */
export const transposeOp: OpDef<number[] | undefined> = {
  name: 'transpose',
  forward: ([x], perm) => T.transpose(asTensor(x), perm),
  vjp: (dy, { inputs: [x], attrs: perm }) => {
    const p = perm ?? asTensor(x).shape.map((_, i) => asTensor(x).rank - 1 - i);
    const inverse: number[] = [];
    p.forEach((axis, k) => (inverse[axis] = k));
    return [T.transpose(dy, inverse)];
  },
};

/** Copies along broadcast axes: dx = dy summed back over them, which is exactly what the engine's broadcasting undo does. */
export const broadcastToOp: OpDef<number[]> = {
  name: 'broadcastTo',
  forward: ([x], shape) => T.broadcastTo(asTensor(x), shape),
  vjp: (dy) => [dy],
  broadcasts: true,
};

/** Each input's gradient is its slab of dy along the axis. */
export const concatOp: OpDef<number> = {
  name: 'concat',
  forward: (xs, axis) => T.concat(xs.map(asTensor), axis),
  vjp: (dy, { inputs, attrs: axis }) => {
    const a = axis < 0 ? axis + dy.rank : axis;
    let start = 0;
    return inputs.map((x) => {
      const len = asTensor(x).shape[a];
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
  forward: ([x], { starts, ends }) => T.slice(asTensor(x), starts, ends),
  vjp: (dy, { inputs: [x], attrs: { starts } }) => {
    const shape = asTensor(x).shape;
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
  forward: ([x, idx]) => T.gather(asTensor(x), asTensor(idx)),
  vjp: (dy, { inputs: [x, idx] }) => [T.scatterAdd(dy, asTensor(idx), asTensor(x).shape[0]), null],
};

/** The adjoint of gather, so its VJP is gather. */
export const scatterAddOp: OpDef<number> = {
  name: 'scatterAdd',
  forward: ([u, idx], rows) => T.scatterAdd(asTensor(u), asTensor(idx), rows),
  vjp: (dy, { inputs: [, idx] }) => [T.gather(dy, asTensor(idx)), null],
};

/** Same elements in row-major order, new shape (one dimension may be −1); dx = dy reshaped to x's shape. */
export const reshape = (x: VarLike, shape: number[]) => apply(reshapeOp, [x], shape);
/** Permutes the axes: axis k of the result is axis perm[k] of x (default: all reversed); dx = transpose(dy, perm⁻¹). */
export const transpose = (x: VarLike, perm?: number[]) => apply(transposeOp, [x], perm);
/** Repeats x along new leading and size-1 axes to `shape` (NumPy broadcasting); dx = dy summed back. */
export const broadcastTo = (x: VarLike, shape: number[]) => apply(broadcastToOp, [x], shape);
/** Joins the inputs along an existing `axis` (default 0; other dimensions must agree); each gets its slab of dy. */
export const concat = (xs: VarLike[], axis = 0) => apply(concatOp, xs, axis);
/**
 * The box starts[k] ≤ i_k < ends[k] on each axis (axes not listed taken whole, an undefined end meaning the axis end,
 * negatives counting from the end; out-of-range bounds throw); dx is dy padded with zeros back to x's shape.
 */
export const slice = (x: VarLike, starts: number[], ends: (number | undefined)[] = []) => apply(sliceOp, [x], { starts, ends });

/** Indices as an int32 tensor (they are never differentiated). */
const indexTensor = (indices: Tensor | number[]) => (Array.isArray(indices) ? T.tensor(indices, { dtype: 'int32' }) : indices);
/**
 * Rows by index: out[i, …] = x[indices[i], …], shape [...indices.shape, ...x.shape.slice(1)]; rows taken several
 * times receive the sum of their gradients. Indices (int32) get no gradient.
 */
export const gather = (x: VarLike, indices: Tensor | number[]) => apply(gatherOp, [x, indexTensor(indices)], undefined);
/**
 * A zero tensor of shape [numRows, ...rowShape] with out[indices[i], …] += updates[i, …] (repeated indices add up);
 * the adjoint of {@link gather}, so dupdates = gather(dy, indices).
 */
export const scatterAdd = (updates: VarLike, indices: Tensor | number[], numRows: number) =>
  apply(scatterAddOp, [updates, indexTensor(indices)], numRows);

/** Composite: stack = reshape each input to have a new size-1 axis, then concat along it. */
export function stack(xs: VarLike[], axis = 0): Var {
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
  forward: ([x], dtype) => T.cast(asTensor(x), dtype),
  vjp: (dy, { inputs: [x] }) => [T.cast(dy, asTensor(x).dtype)],
};
/** x converted to `dtype`: between float dtypes the gradient is cast back; casting to int32 gives a constant Var. */
export const cast = (x: VarLike, dtype: T.DType): Var =>
  dtype === 'int32' ? new Var(T.cast(valueOf('cast', x), dtype)) : apply(castOp, [x], dtype);

/** A copy with its own storage; the gradient passes through unchanged. */
export const cloneOp: OpDef = { name: 'clone', forward: ([x]) => T.clone(asTensor(x)), vjp: (dy) => [dy] };
/** A copy of x with its own storage; the gradient passes through unchanged. */
export const clone = (x: VarLike): Var => apply(cloneOp, [x], undefined);
