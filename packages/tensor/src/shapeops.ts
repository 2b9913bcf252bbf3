// Public shape and data-movement ops: reshape, transpose, broadcastTo, concat, stack, slice, gather, scatterAdd, cast, clone.
import { getBackend } from './backend.js';
import { isDType, type DType } from './dtype.js';
import { AxisError, DTypeError, ShapeError, ValueError, fmt } from './errors.js';
import { fromArray, input, sameDType, wrap } from './internal.js';
import { tidy } from './lifetime.js';
import { checkShape, normalizeAxis, sameShape, sizeOf } from './shape.js';
import { Tensor } from './tensor.js';

/** Same elements in the same (row-major) order, new shape; one dimension may be −1 (inferred). */
export function reshape(x: Tensor, shape: number[]): Tensor {
  const t = input('reshape', x);
  if (!Array.isArray(shape)) throw new ShapeError('reshape', `shape must be an array of integers, got ${JSON.stringify(shape)}`);
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) throw new ShapeError('reshape', `only one dimension may be -1, got ${fmt(shape)}`);
  const known = shape.filter((d) => d !== -1);
  checkShape('reshape', known);
  const rest = sizeOf(known);
  const full = unknown && rest > 0 && t.size % rest === 0 ? shape.map((d) => (d === -1 ? t.size / rest : d)) : shape;
  if (unknown && full === shape) throw new ShapeError('reshape', `cannot infer -1: ${fmt(t.shape)} → ${fmt(shape)}`);
  if (sizeOf(full) !== t.size) {
    throw new ShapeError('reshape', `cannot reshape ${fmt(t.shape)} (${t.size} elements) to ${fmt(shape)} (${sizeOf(full)})`);
  }
  return Tensor.view(t, full); // same elements in the same order: share the storage
}

/** Permutes the axes: axis k of the result is axis perm[k] of x (default: all axes reversed, a matrix transpose). */
export function transpose(x: Tensor, perm?: number[]): Tensor {
  const t = input('transpose', x);
  const p = perm ?? t.shape.map((_, i) => t.rank - 1 - i);
  const sorted = [...p].sort((a, b) => a - b);
  if (p.length !== t.rank || sorted.some((v, i) => v !== i)) {
    throw new AxisError('transpose', `perm [${p}] is not a permutation of the ${t.rank} axes of ${fmt(t.shape)}`);
  }
  const shape = p.map((i) => t.shape[i]);
  return wrap(getBackend().transpose(t, p), shape, t.dtype);
}

/** Repeats x along new leading axes and size-1 axes to reach `shape` (NumPy broadcasting). */
export function broadcastTo(x: Tensor, shape: number[]): Tensor {
  const t = input('broadcastTo', x);
  checkShape('broadcastTo', shape);
  const lead = shape.length - t.rank;
  if (lead < 0 || t.shape.some((d, i) => d !== 1 && d !== shape[lead + i])) {
    throw new ShapeError('broadcastTo', `cannot broadcast ${fmt(t.shape)} to ${fmt(shape)}`);
  }
  return wrap(getBackend().broadcastTo(t, shape), shape, t.dtype);
}

/** Joins tensors along an existing axis; all other dimensions must agree. */
export function concat(xs: Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new ValueError('concat', 'needs a non-empty array of tensors');
  const ts = xs.map((x, i) => input('concat', x, `tensor ${i}`));
  const dtype = sameDType('concat', ...ts);
  const rank = ts[0].rank;
  if (rank === 0) throw new ShapeError('concat', 'cannot concatenate scalars; use stack');
  const a = normalizeAxis('concat', axis, ts[0].shape);
  for (const t of ts) {
    if (t.rank !== rank || t.shape.some((d, i) => i !== a && d !== ts[0].shape[i])) {
      throw new ShapeError('concat', `shapes differ outside axis ${a}: ${ts.map((u) => fmt(u.shape)).join(', ')}`);
    }
  }
  const shape = [...ts[0].shape];
  shape[a] = ts.reduce((s, t) => s + t.shape[a], 0);
  return wrap(getBackend().concat(ts, a, shape), shape, dtype);
}

/** Joins equal-shaped tensors along a new axis. */
export function stack(xs: Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new ValueError('stack', 'needs a non-empty array of tensors');
  const ts = xs.map((x, i) => input('stack', x, `tensor ${i}`));
  sameDType('stack', ...ts);
  for (const t of ts) {
    if (!sameShape(t.shape, ts[0].shape)) {
      throw new ShapeError('stack', `shapes differ: ${ts.map((u) => fmt(u.shape)).join(', ')}`);
    }
  }
  const a = normalizeAxis('stack', axis, [ts.length, ...ts[0].shape]); // the result has one more axis
  const expanded = [...ts[0].shape.slice(0, a), 1, ...ts[0].shape.slice(a)];
  return tidy(() => concat(ts.map((t) => reshape(t, expanded)), a));
}

/**
 * The box starts[k] ≤ i_k < ends[k] on each axis, like Python's x[s₀:e₀, s₁:e₁, …] except that bounds outside the
 * axis are an error (Python clamps them). Axes not listed are taken whole; an end of undefined means the end of the
 * axis; negative values count from the end.
 */
export function slice(x: Tensor, starts: number[], ends: (number | undefined)[] = []): Tensor {
  const t = input('slice', x);
  if (!Array.isArray(starts) || !Array.isArray(ends)) {
    throw new ValueError('slice', `starts and ends must be arrays (one entry per axis), got ${JSON.stringify(starts)}, ${JSON.stringify(ends)}`);
  }
  if (starts.length > t.rank || ends.length > t.rank) {
    throw new ShapeError('slice', `got ${Math.max(starts.length, ends.length)} ranges for ${fmt(t.shape)}`);
  }
  const begin: number[] = [];
  const size: number[] = [];
  t.shape.forEach((dim, i) => {
    const norm = (v: number | undefined, fallback: number) => (v === undefined ? fallback : v < 0 ? v + dim : v);
    const s = norm(starts[i], 0);
    const e = norm(ends[i], dim);
    if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > dim || s > e) {
      throw new ValueError('slice', `range ${starts[i]}:${ends[i]} is out of bounds for axis ${i} of ${fmt(t.shape)}`);
    }
    begin.push(s);
    size.push(e - s);
  });
  return wrap(getBackend().slice(t, begin, size), size, t.dtype);
}

/**
 * Runs fn with the indices as an int32 tensor on the active backend, each checked to lie in [0, rows).
 * An index tensor made here from a number[] is disposed afterwards, also when fn or a check throws.
 */
function withIndices(op: string, indices: Tensor | number[], rows: number, fn: (idx: Tensor) => Tensor): Tensor {
  if (Array.isArray(indices)) {
    indices.forEach((v, i) => {
      if (!Number.isInteger(v)) throw new ValueError(op, `index ${v} (at ${i}) is not an integer`);
      if (v < 0 || v >= rows) throw new ValueError(op, `index ${v} (at ${i}) is out of range for ${rows} rows`);
    });
    const idx = fromArray(Int32Array.from(indices), [indices.length], 'int32');
    try {
      return fn(idx);
    } finally {
      idx.dispose();
    }
  }
  const idx = input(op, indices, 'indices');
  if (idx.dtype !== 'int32') throw new DTypeError(op, `indices must be int32, got ${idx.dtype}`);
  const data = idx.data;
  for (let i = 0; i < data.length; i++) {
    if (data[i] < 0 || data[i] >= rows) throw new ValueError(op, `index ${data[i]} (at ${i}) is out of range for ${rows} rows`);
  }
  return fn(idx);
}

/** Rows by index: out[i, …] = x[indices[i], …]; the result has shape [...indices.shape, ...x.shape.slice(1)]. */
export function gather(x: Tensor, indices: Tensor | number[]): Tensor {
  const t = input('gather', x);
  if (t.rank === 0) throw new ShapeError('gather', 'needs a tensor with at least one axis, got a scalar');
  return withIndices('gather', indices, t.shape[0], (idx) => {
    const shape = [...idx.shape, ...t.shape.slice(1)];
    return wrap(getBackend().gather(t, idx), shape, t.dtype);
  });
}

/**
 * The adjoint of gather: a zero tensor of shape [numRows, ...rowShape] with out[indices[i], …] += updates[i, …]
 * (repeated indices add up). updates has shape [...indices.shape, ...rowShape].
 */
export function scatterAdd(updates: Tensor, indices: Tensor | number[], numRows: number): Tensor {
  const u = input('scatterAdd', updates, 'updates');
  checkShape('scatterAdd', [numRows]);
  return withIndices('scatterAdd', indices, numRows, (idx) => {
    if (!sameShape(u.shape.slice(0, idx.rank), idx.shape)) {
      throw new ShapeError('scatterAdd', `updates ${fmt(u.shape)} must start with the indices' shape ${fmt(idx.shape)}`);
    }
    const shape = [numRows, ...u.shape.slice(idx.rank)];
    return wrap(getBackend().scatterAdd(u, idx, numRows), shape, u.dtype);
  });
}

/** A copy in another dtype; to int32 rounds toward zero and refuses NaN, ±∞ and values outside the int32 range. */
export function cast(x: Tensor, dtype: DType): Tensor {
  const t = input('cast', x);
  if (!isDType(dtype)) throw new DTypeError('cast', `unknown dtype '${String(dtype)}' (use float32, float64 or int32)`);
  return wrap(getBackend().cast(t, dtype), t.shape, dtype);
}

/** A copy with its own storage (disposing one never affects the other). */
export function clone(x: Tensor): Tensor {
  const t = input('clone', x);
  return wrap(getBackend().cast(t, t.dtype), t.shape, t.dtype);
}
