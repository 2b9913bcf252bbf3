// Independent float64 references for the tests: index arithmetic, broadcasting, reductions, matmul, test data.
import type { BinaryOp } from '@rill/tensor';

/** A small seeded PRNG for test inputs (mulberry32), independent of the library's generator. */
export function testRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` values uniform in [lo, hi), as plain numbers. */
export function randomValues(rng: () => number, n: number, lo = -2, hi = 2): number[] {
  return Array.from({ length: n }, () => lo + (hi - lo) * rng());
}

export const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/** Multi-index of flat position `flat` in a row-major array of `shape`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return idx;
}

/** Flat position of a multi-index in a row-major array of `shape`. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d] + idx[d];
  return flat;
}

/** The broadcast shape, by NumPy's rule written out longhand (undefined if incompatible). */
export function broadcastShapeRef(...shapes: (readonly number[])[]): number[] | undefined {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const dims = shapes.map((s) => s[s.length - rank + i] ?? 1);
    const big = dims.filter((d) => d !== 1);
    if (big.some((d) => d !== big[0])) return undefined;
    out.push(big.length ? big[0] : 1);
  }
  return out;
}

/** Reads x (of `shape`) at an output index of `outShape`, with broadcasting. */
export function readBroadcast(x: ArrayLike<number>, shape: readonly number[], outIdx: readonly number[]): number {
  const lead = outIdx.length - shape.length;
  const idx = shape.map((d, i) => (d === 1 ? 0 : outIdx[lead + i]));
  return x[ravel(idx, shape)];
}

/** out = f(a, b) elementwise with broadcasting, in float64. */
export function zipRef(
  f: (a: number, b: number) => number,
  a: ArrayLike<number>,
  aShape: readonly number[],
  b: ArrayLike<number>,
  bShape: readonly number[],
): { data: number[]; shape: number[] } {
  const shape = broadcastShapeRef(aShape, bShape)!;
  const data = Array.from({ length: size(shape) }, (_, i) => {
    const idx = unravel(i, shape);
    return f(readBroadcast(a, aShape, idx), readBroadcast(b, bShape, idx));
  });
  return { data, shape };
}

/** Reduces `axes` of x with `combine`, starting from `init`, in float64; returns the kept-dims shape too. */
export function reduceRef(
  x: ArrayLike<number>,
  shape: readonly number[],
  axes: readonly number[],
  combine: (acc: number, v: number) => number,
  init: number,
): { data: number[]; keptShape: number[] } {
  const keptShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const data = new Array<number>(size(keptShape)).fill(init);
  for (let i = 0; i < size(shape); i++) {
    const idx = unravel(i, shape).map((v, d) => (axes.includes(d) ? 0 : v));
    const o = ravel(idx, keptShape);
    data[o] = combine(data[o], x[i]);
  }
  return { data, keptShape };
}

/** C = op(A)·op(B) in float64 from explicit index formulas; A is stored K×M when transA, B is N×K when transB. */
export function matmulRef(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  n: number,
  k: number,
  transA = false,
  transB = false,
): number[] {
  const A = (i: number, p: number) => (transA ? a[p * m + i] : a[i * k + p]);
  const B = (p: number, j: number) => (transB ? b[j * k + p] : b[p * n + j]);
  const c: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += A(i, p) * B(p, j);
      c.push(s);
    }
  }
  return c;
}

/** op(A) as a row-major M×K array (to feed matmulAtol). */
export function opMatrix(a: ArrayLike<number>, rows: number, cols: number, trans: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out.push(trans ? a[j * rows + i] : a[i * cols + j]);
  return out;
}

/**
 * erf by composite Simpson integration of 2/√π e^(−t²) over [0, x] with 2000 panels (error ≪ 1e-12 for |x| ≤ 6):
 * deliberately a different method from the library's series / continued fraction.
 */
export function erfRef(x: number): number {
  const n = 2000;
  const h = x / n;
  let s = 1 + Math.exp(-x * x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return ((s * h) / 3) * (2 / Math.sqrt(Math.PI));
}

/** Rounds every value to float32, as a kernel storing into a Float32Array does. */
export const f32 = (xs: ArrayLike<number>) => Array.from(Float32Array.from(xs));

/** Independent float64 definitions of every binary op (pow on positive bases). */
export const BINARY_REF: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => Math.exp(b * Math.log(a)),
  maximum: (a, b) => (a > b ? a : b),
  minimum: (a, b) => (a < b ? a : b),
  gt: (a, b) => Number(a > b),
  lt: (a, b) => Number(a < b),
  ge: (a, b) => Number(a >= b),
  le: (a, b) => Number(a <= b),
  eq: (a, b) => Number(a === b),
};

/** Every (transA, transB) combination, for matmul tests. */
export const FLAGS = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;
