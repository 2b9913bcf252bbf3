// Elementwise loops with the op written inline, for the ops a training step runs most: the fast twins of the
// table-driven kernels in elementwise.ts, which stay the reference (tests prove each twin equal to it, bit for bit).
import type { TypedArray } from '../dtype.js';
import { normalCdf, normalPdf } from '../special.js';
import { SELU_ALPHA, SELU_LAMBDA, logistic, type UnaryOp } from '../unary.js';
import { type BinaryOp } from '../binary.js';

// Why: elementwise.ts calls UNARY[op].f(x[i]) once per element. That call site sees every op, so V8 cannot inline
// it ("megamorphic"), and a selu pass ran at 0.3 GB/s where a plain multiply runs at 5. Each loop below is its own
// function, so V8 compiles one tight loop per op. The formulas are UNARY's, written out again, term for term in the
// same order, so the results are identical (same float64 arithmetic, same rounding on the store).

type UnaryLoop = (x: TypedArray, out: TypedArray) => void;
type UnaryGradLoop = (x: TypedArray, y: TypedArray, dy: TypedArray, dx: TypedArray) => void;

/** out[i] = f(x[i]) for the parameterless float ops that have a twin. */
export const UNARY_LOOPS: Partial<Record<UnaryOp, UnaryLoop>> = {
  neg: (x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = -x[i];
  },
  exp: (x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = Math.exp(x[i]);
  },
  square: (x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = x[i] * x[i];
  },
  relu: (x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = x[i] > 0 ? x[i] : 0;
  },
  selu: (x, out) => {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      out[i] = SELU_LAMBDA * (v > 0 ? v : SELU_ALPHA * Math.expm1(v));
    }
  },
  silu: (x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = x[i] * logistic(x[i]);
  },
  tanh: (x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = Math.tanh(x[i]);
  },
  sigmoid: (x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = logistic(x[i]);
  },
  gelu: (x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = x[i] * normalCdf(x[i]);
  },
};

/** dx[i] = dy[i] · f'(x[i]) (given y = f(x)) for the ops that have a twin. */
export const UNARY_GRAD_LOOPS: Partial<Record<UnaryOp, UnaryGradLoop>> = {
  square: (x, _y, dy, dx) => {
    for (let i = 0; i < x.length; i++) dx[i] = dy[i] * (2 * x[i]);
  },
  relu: (x, _y, dy, dx) => {
    for (let i = 0; i < x.length; i++) dx[i] = dy[i] * (x[i] > 0 ? 1 : 0);
  },
  selu: (x, y, dy, dx) => {
    for (let i = 0; i < x.length; i++) dx[i] = dy[i] * (x[i] > 0 ? SELU_LAMBDA : y[i] + SELU_LAMBDA * SELU_ALPHA);
  },
  silu: (x, _y, dy, dx) => {
    for (let i = 0; i < x.length; i++) {
      const s = logistic(x[i]);
      dx[i] = dy[i] * (s * (1 + x[i] * (1 - s)));
    }
  },
  tanh: (_x, y, dy, dx) => {
    for (let i = 0; i < y.length; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
  },
  sigmoid: (_x, y, dy, dx) => {
    for (let i = 0; i < y.length; i++) dx[i] = dy[i] * (y[i] * (1 - y[i]));
  },
  gelu: (x, _y, dy, dx) => {
    for (let i = 0; i < x.length; i++) dx[i] = dy[i] * (normalCdf(x[i]) + x[i] * normalPdf(x[i]));
  },
};

/**
 * One row of a broadcast binary op: out[o + j] = a[oa + j·la] ∘ b[ob + j·lb] for j < n. A stride of 0 repeats an
 * element (broadcasting along the row); a contiguous operation is a single row of the whole length.
 */
export type RowLoop = (a: TypedArray, oa: number, la: number, b: TypedArray, ob: number, lb: number, out: TypedArray, o: number, n: number) => void;

/** Row loops for the float arithmetic ops (int32 mul needs Math.imul and keeps the table path). */
export const BINARY_ROW_LOOPS: Partial<Record<BinaryOp, RowLoop>> = {
  add: (a, oa, la, b, ob, lb, out, o, n) => {
    for (let j = 0; j < n; j++) out[o + j] = a[oa + j * la] + b[ob + j * lb];
  },
  sub: (a, oa, la, b, ob, lb, out, o, n) => {
    for (let j = 0; j < n; j++) out[o + j] = a[oa + j * la] - b[ob + j * lb];
  },
  mul: (a, oa, la, b, ob, lb, out, o, n) => {
    for (let j = 0; j < n; j++) out[o + j] = a[oa + j * la] * b[ob + j * lb];
  },
  div: (a, oa, la, b, ob, lb, out, o, n) => {
    for (let j = 0; j < n; j++) out[o + j] = a[oa + j * la] / b[ob + j * lb];
  },
};
