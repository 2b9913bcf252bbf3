// CPU reduction kernels: sum / max / min over any set of axes, and argmax / argmin along one axis.
import type { ArgReduceOp, ReduceOp } from '../backend.js';
import type { TypedArray } from '../dtype.js';
import { stridesOf } from '../shape.js';
import { forEachRow } from './iterate.js';

/**
 * Reduces the sorted `axes` of x (shape `shape`) into `out` (the remaining axes, contiguous).
 * Walks x in order; each element lands in out at an offset whose strides are 0 along reduced axes.
 * Accumulates in float64 (sum) and propagates NaN (max, min).
 */
export function reduceKernel(
  op: ReduceOp,
  x: TypedArray,
  shape: readonly number[],
  axes: readonly number[],
  out: TypedArray,
): void {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outStrides = stridesOf(kept).map((s, i) => (axes.includes(i) ? 0 : s));
  const acc = new Float64Array(out.length).fill(op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity);
  const last = shape.length - 1;
  const n = last >= 0 ? shape[last] : 1;
  const lo = last >= 0 ? outStrides[last] : 0;
  // NB: `v !== v` is true only for NaN; once stored, NaN stays, because every comparison with NaN is false.
  forEachRow(shape, [outStrides], (i, off) => {
    const o = off[0];
    if (op === 'sum') {
      for (let j = 0; j < n; j++) acc[o + j * lo] += x[i + j];
    } else if (op === 'max') {
      for (let j = 0; j < n; j++) {
        const v = x[i + j];
        if (v > acc[o + j * lo] || v !== v) acc[o + j * lo] = v;
      }
    } else {
      for (let j = 0; j < n; j++) {
        const v = x[i + j];
        if (v < acc[o + j * lo] || v !== v) acc[o + j * lo] = v;
      }
    }
  });
  out.set(acc);
}

/** out[o] = index along `axis` of the largest (argmax) or smallest (argmin) element; the first one wins ties, NaN wins. */
export function argReduceKernel(
  op: ArgReduceOp,
  x: TypedArray,
  shape: readonly number[],
  axis: number,
  out: Int32Array,
): void {
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const len = shape[axis];
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const sign = op === 'argmax' ? 1 : -1;
  for (let a = 0; a < outer; a++) {
    for (let c = 0; c < inner; c++) {
      const base = a * len * inner + c;
      let best = 0;
      let bestV = x[base];
      for (let k = 1; k < len && bestV === bestV; k++) {
        const v = x[base + k * inner];
        if (sign * v > sign * bestV || v !== v) {
          best = k;
          bestV = v;
        }
      }
      out[a * inner + c] = best;
    }
  }
}
