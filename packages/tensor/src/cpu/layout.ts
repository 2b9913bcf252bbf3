// CPU data-movement kernels: one strided copy (serving transpose, broadcastTo and slice), concat, gather, scatter-add.
import type { TypedArray } from '../dtype.js';
import { forEachRow, mergeAxes } from './iterate.js';

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
    if (ls === 1 && n >= 16) out.set(src.subarray(s, s + n), o); // a contiguous run: one block copy
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
  for (let r = 0; r < outer; r++) {
    let o = r * rowLength;
    xs.forEach((x, t) => {
      out.set(x.subarray(r * chunks[t], (r + 1) * chunks[t]), o);
      o += chunks[t];
    });
  }
}

/** out[i, :] = x[indices[i], :], with rows of `rowSize` elements. */
export function gatherKernel(x: TypedArray, indices: Int32Array, rowSize: number, out: TypedArray): void {
  for (let i = 0; i < indices.length; i++) {
    const from = indices[i] * rowSize;
    out.set(x.subarray(from, from + rowSize), i * rowSize);
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
