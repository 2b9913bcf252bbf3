// CPU elementwise kernels: unary map, its gradient, binary zip and where, with NumPy broadcasting.
import type { TypedArray } from '../dtype.js';
import { broadcastStrides, sameShape } from '../shape.js';
import { UNARY, type UnaryOp } from '../unary.js';
import { BINARY, type BinaryOp } from '../binary.js';
import { BINARY_ROW_LOOPS, UNARY_GRAD_LOOPS, UNARY_LOOPS, type RowLoop } from '../elementwise.generated.js';
import { forEachRow } from './iterate.js';

// NB: every kernel computes in JavaScript numbers (float64) and rounds when it stores into a Float32Array.
// int32 results wrap around modulo 2³² as in C (an Int32Array store does that); products use Math.imul, which is
// exact where a float64 product of two large int32 values would lose bits.
// Float inputs run the loops printed from formulas.ts with the formula inline (elementwise.generated.ts): a call of
// UNARY[op].f per element sits at a call site that sees every op, which V8 cannot inline ("megamorphic"), and a selu
// pass ran at 0.3 GB/s that way where a plain multiply runs at 5. The table loops stay as the reference (`reference`),
// and for int32, whose `square` needs Math.imul.

/** out[i] = f(x[i]) for the unary op named `op`; `reference` forces the table loop (one UNARY[op].f call per element). */
export function unaryKernel(op: UnaryOp, x: TypedArray, out: TypedArray, params: readonly number[], reference = false): void {
  if (!reference && !(x instanceof Int32Array)) return UNARY_LOOPS[op](x, out, params);
  const f = x instanceof Int32Array && op === 'square' ? (v: number) => Math.imul(v, v) : UNARY[op].f;
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
  reference = false,
): void {
  if (!reference && !(x instanceof Int32Array)) return UNARY_GRAD_LOOPS[op](x, y, dy, dx, params);
  const df = UNARY[op].df;
  for (let i = 0; i < x.length; i++) dx[i] = dy[i] * df(x[i], y[i], params);
}

/**
 * out = f(a, b) over `outShape`, reading a and b through broadcast strides, one row at a time. `reference` forces the
 * table-driven row loop (one call of BINARY[op] per element).
 */
export function binaryKernel(
  op: BinaryOp,
  a: TypedArray,
  aShape: readonly number[],
  b: TypedArray,
  bShape: readonly number[],
  out: TypedArray,
  outShape: readonly number[],
  reference = false,
): void {
  const intMul = out instanceof Int32Array && op === 'mul';
  const loop = !reference && !intMul ? BINARY_ROW_LOOPS[op] : tableRowLoop(intMul ? Math.imul : BINARY[op]);
  // Contiguous cases need no walk: the whole array is one row.
  if (sameShape(aShape, outShape) && sameShape(bShape, outShape)) return loop(a, 0, 1, b, 0, 1, out, 0, out.length);
  if (b.length === 1 && sameShape(aShape, outShape)) return loop(a, 0, 1, b, 0, 0, out, 0, out.length);
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const last = outShape.length - 1;
  const n = last >= 0 ? outShape[last] : 1;
  const la = last >= 0 ? sa[last] : 0;
  const lb = last >= 0 ? sb[last] : 0;
  forEachRow(outShape, [sa, sb], (o, off) => loop(a, off[0], la, b, off[1], lb, out, o, n));
}

/** The row loop of any binary op, calling f per element. */
function tableRowLoop(f: (a: number, b: number) => number): RowLoop {
  return (a, oa, la, b, ob, lb, out, o, n) => {
    for (let j = 0; j < n; j++) out[o + j] = f(a[oa + j * la], b[ob + j * lb]);
  };
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

/**
 * out[i, j] = a[i]·x[i, j] + b[i]·y[i, j] over rows of `row` elements (weightedSum). A float32 result is rounded after
 * each product and after the sum, as a mul, mul, add of float32 kernels would be: a product of two float32 numbers is
 * exact in float64, and rounding a float64 sum of two float32 numbers to float32 equals the float32 sum (53 ≥ 2·24 + 2:
 * Figueroa, "When is double rounding innocuous?", 1995).
 */
export function weightedSumKernel(x: TypedArray, a: ArrayLike<number>, y: TypedArray, b: ArrayLike<number>, out: TypedArray, row: number): void {
  const single = out instanceof Float32Array;
  for (let i = 0, k = 0; i < a.length; i++) {
    const ai = a[i];
    const bi = b[i];
    if (single) for (let end = k + row; k < end; k++) out[k] = Math.fround(ai * x[k]) + Math.fround(bi * y[k]);
    else for (let end = k + row; k < end; k++) out[k] = ai * x[k] + bi * y[k];
  }
}
