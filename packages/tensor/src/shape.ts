// Pure functions on shapes (number[]): sizes, strides, NumPy broadcasting, axis normalisation.
import { AxisError, ShapeError, fmt } from './errors.js';

export type Shape = readonly number[];

/** Number of elements: the product of the dimensions (1 for a scalar, shape []). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]; // indexed: for…of on a frozen shape goes through an iterator
  return n;
}

/** Row-major strides: stride[i] = product of shape[i+1..]. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Throws ShapeError unless every dimension is a non-negative integer. */
export function checkShape(op: string, shape: unknown): asserts shape is number[] {
  if (!Array.isArray(shape)) throw new ShapeError(op, `shape must be an array of integers, got ${JSON.stringify(shape)}`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new ShapeError(op, `dimensions must be non-negative integers, got [${shape.join(',')}]`);
    }
  }
}

/**
 * NumPy broadcasting: align shapes on the right; each pair of dimensions must be equal or one of them 1.
 * Reference: https://numpy.org/doc/stable/user/basics.broadcasting.html
 */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) {
        throw new ShapeError(op, `shapes cannot broadcast: ${shapes.map(fmt).join(' and ')}`);
      }
    }
  }
  return out;
}

/** Strides that read an input of `shape` as if it had `outShape`: 0 along broadcast (size-1 or missing) dims. */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const own = stridesOf(shape);
  const lead = outShape.length - shape.length;
  return outShape.map((_, i) => (i < lead || shape[i - lead] === 1 ? 0 : own[i - lead]));
}

/** A strided read of a tensor's flat storage: out[i₀, …] = x[offset + Σ i_k · strides[k]] over `shape`. */
export interface StridedView {
  shape: number[];
  strides: number[];
  offset: number;
}

/** The view that reads a tensor of `shape` transposed: axis k of the result is axis perm[k]. */
export function transposedView(shape: Shape, perm: readonly number[]): StridedView {
  const src = stridesOf(shape);
  return { shape: perm.map((p) => shape[p]), strides: perm.map((p) => src[p]), offset: 0 };
}

/** The view of the box begin[k] ≤ i_k < begin[k] + size[k] of a tensor of `shape`. */
export function slicedView(shape: Shape, begin: readonly number[], size: readonly number[]): StridedView {
  const src = stridesOf(shape);
  return { shape: [...size], strides: src, offset: begin.reduce((o, b, i) => o + b * src[i], 0) };
}

/** The view that reads a tensor of `shape` broadcast to `outShape` (stride 0 along the broadcast axes). */
export function broadcastView(shape: Shape, outShape: Shape): StridedView {
  return { shape: [...outShape], strides: broadcastStrides(shape, outShape), offset: 0 };
}

/** Normalises one axis of a tensor of `shape` from [-rank, rank) to [0, rank); throws AxisError otherwise. */
export function normalizeAxis(op: string, axis: number, shape: Shape): number {
  const rank = shape.length;
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new AxisError(op, `axis ${String(axis)} is out of range for shape ${fmt(shape)} (allowed: ${-rank}..${rank - 1})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalises an axis, a list of axes or undefined (= all axes) to a sorted list without duplicates. */
export function normalizeAxes(op: string, axes: number | readonly number[] | undefined, shape: Shape): number[] {
  if (axes === undefined) return Array.from({ length: shape.length }, (_, i) => i);
  if (typeof axes !== 'number' && !Array.isArray(axes)) {
    throw new AxisError(op, `axes must be a number, an array of numbers or undefined, got ${JSON.stringify(axes)}`);
  }
  const list = (typeof axes === 'number' ? [axes] : axes).map((a) => normalizeAxis(op, a, shape));
  const sorted = [...list].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw new AxisError(op, `axis ${sorted[i]} is listed twice in [${axes}]`);
  }
  return sorted;
}

/** The shape after reducing `axes` (sorted, normalised): removed, or kept as 1 with keepdims. */
export function reducedShape(shape: Shape, axes: readonly number[], keepdims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

/** Whether two shapes are equal, axis by axis. */
export function sameShape(a: Shape, b: Shape): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false; // a loop: every() on a frozen shape is a call per axis
  return true;
}
