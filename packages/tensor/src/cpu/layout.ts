// CPU data-movement kernels: one strided copy (serving transpose, broadcastTo and slice), concat, gather, scatter-add.
import type { TypedArray } from '../dtype.js';
import { forEachRow, mergeAxes } from './iterate.js';

/**
 * out[to…to+n) = src[from…from+n): a plain loop for short runs (a subarray view and a native set cost ~100 ns, more
 * than copying a few numbers), one block copy for long ones.
 */
function copyRun(src: TypedArray, from: number, out: TypedArray, to: number, n: number): void {
  if (n >= 16) out.set(src.subarray(from, from + n), to);
  else for (let j = 0; j < n; j++) out[to + j] = src[from + j];
}

/**
 * out (contiguous, `outShape`) [i₀, i₁, …] = src[offset + Σ_d i_d · strides[d]].
 * transpose permutes the source strides, broadcastTo sets them to 0 along broadcast axes, slice starts at an offset.
 */
export function stridedCopy(
  src: TypedArray,
  offset: number,
  strides: readonly number[],
  out: TypedArray,
  outShape: readonly number[],
): void {
  const [shape, [steps]] = mergeAxes(outShape, [strides]);
  const last = shape.length - 1;
  const n = last >= 0 ? shape[last] : 1;
  const ls = last >= 0 ? steps[last] : 0;
  forEachRow(shape, [steps], (o, off) => {
    const s = offset + off[0];
    if (ls === 1) copyRun(src, s, out, o, n); // a contiguous run
    else for (let j = 0; j < n; j++) out[o + j] = src[s + j * ls];
  });
}

/**
 * Concatenation along `axis`: view every tensor as (outer, len_t · inner), where outer is the product of the
 * dimensions before the axis and inner of those after; row r of the output is the rows r of the inputs side by side.
 */
export function concatKernel(
  xs: readonly TypedArray[],
  shapes: readonly (readonly number[])[],
  axis: number,
  out: TypedArray,
): void {
  const outer = shapes[0].slice(0, axis).reduce((p, d) => p * d, 1);
  const inner = shapes[0].slice(axis + 1).reduce((p, d) => p * d, 1);
  const chunks = shapes.map((s) => s[axis] * inner);
  const rowLength = chunks.reduce((p, c) => p + c, 0);
  for (let t = 0, at = 0; t < xs.length; at += chunks[t], t++) {
    const [x, n] = [xs[t], chunks[t]];
    for (let r = 0; r < outer; r++) copyRun(x, r * n, out, r * rowLength + at, n);
  }
}

/** out[i, :] = x[indices[i], :], with rows of `rowSize` elements. */
export function gatherKernel(x: TypedArray, indices: Int32Array, rowSize: number, out: TypedArray): void {
  for (let i = 0; i < indices.length; i++) {
    copyRun(x, indices[i] * rowSize, out, i * rowSize, rowSize);
  }
}

/** The adjoint of gather: out[indices[i], :] += updates[i, :] (out starts at zero; repeated indices add up). */
export function scatterAddKernel(updates: TypedArray, indices: Int32Array, rowSize: number, out: TypedArray): void {
  for (let i = 0; i < indices.length; i++) {
    const to = indices[i] * rowSize;
    const from = i * rowSize;
    for (let j = 0; j < rowSize; j++) out[to + j] += updates[from + j];
  }
}
