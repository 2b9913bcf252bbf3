// CPU elementwise kernels: unary map, its gradient, binary zip and where, with NumPy broadcasting.
import type { TypedArray } from '../dtype.js';
import { broadcastStrides, sameShape } from '../shape.js';
import { BINARY, UNARY, type BinaryOp, type UnaryOp } from '../unary.js';
import { forEachRow } from './iterate.js';

// NB: every kernel computes in JavaScript numbers (float64) and rounds when it stores into a Float32Array.
// int32 results wrap around modulo 2³² as in C (an Int32Array store does that); products use Math.imul, which is
// exact where a float64 product of two large int32 values would lose bits.

/** out[i] = f(x[i]) for the unary op named `op`. */
export function unaryKernel(op: UnaryOp, x: TypedArray, out: TypedArray, params: readonly number[]): void {
  const f = x instanceof Int32Array && op === 'square' ? (v: number) => Math.imul(v, v) : (UNARY[op].f as (x: number, p: readonly number[]) => number);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i], params);
}

/** dx[i] = dy[i] · f'(x[i]), with y = f(x) passed in for the derivatives written in terms of y. */
export function unaryGradKernel(
  op: UnaryOp,
  x: TypedArray,
  y: TypedArray,
  dy: TypedArray,
  dx: TypedArray,
  params: readonly number[],
): void {
  const df = UNARY[op].df as (x: number, y: number, p: readonly number[]) => number;
  for (let i = 0; i < x.length; i++) dx[i] = dy[i] * df(x[i], y[i], params);
}

/** out = f(a, b) over `outShape`, reading a and b through broadcast strides. */
export function binaryKernel(
  op: BinaryOp,
  a: TypedArray,
  aShape: readonly number[],
  b: TypedArray,
  bShape: readonly number[],
  out: TypedArray,
  outShape: readonly number[],
): void {
  const f = out instanceof Int32Array && op === 'mul' ? Math.imul : BINARY[op];
  if (sameShape(aShape, outShape) && sameShape(bShape, outShape)) {
    for (let i = 0; i < out.length; i++) out[i] = f(a[i], b[i]);
    return;
  }
  if (b.length === 1 && sameShape(aShape, outShape)) {
    const bv = b[0];
    for (let i = 0; i < out.length; i++) out[i] = f(a[i], bv);
    return;
  }
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const last = outShape.length - 1;
  const n = last >= 0 ? outShape[last] : 1;
  const la = last >= 0 ? sa[last] : 0;
  const lb = last >= 0 ? sb[last] : 0;
  forEachRow(outShape, [sa, sb], (o, off) => {
    const oa = off[0];
    const ob = off[1];
    for (let j = 0; j < n; j++) out[o + j] = f(a[oa + j * la], b[ob + j * lb]);
  });
}

/** out = cond ≠ 0 ? a : b over `outShape`, all three broadcast. */
export function whereKernel(
  cond: TypedArray,
  condShape: readonly number[],
  a: TypedArray,
  aShape: readonly number[],
  b: TypedArray,
  bShape: readonly number[],
  out: TypedArray,
  outShape: readonly number[],
): void {
  const strides = [condShape, aShape, bShape].map((s) => broadcastStrides(s, outShape));
  const last = outShape.length - 1;
  const n = last >= 0 ? outShape[last] : 1;
  const [lc, la, lb] = strides.map((s) => (last >= 0 ? s[last] : 0));
  forEachRow(outShape, strides, (o, off) => {
    for (let j = 0; j < n; j++) {
      out[o + j] = cond[off[0] + j * lc] !== 0 ? a[off[1] + j * la] : b[off[2] + j * lb];
    }
  });
}
