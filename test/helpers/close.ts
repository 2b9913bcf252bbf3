// The one definition of "close" every numerical test uses: |y − ref| ≤ atol + rtol·|ref|, elementwise.
import { expect } from 'vitest';

/** Machine epsilon of float32 (2⁻²³) and float64 (2⁻⁵²). */
export const EPS32 = 2 ** -23;
export const EPS64 = 2 ** -52;

export interface Tolerance {
  /** Relative tolerance (default 1e-5, right for float32 results of float64-accumulating kernels). */
  rtol?: number;
  /** Absolute tolerance: one number, or one per element (e.g. matmulAtol's). */
  atol?: number | ArrayLike<number>;
}

/** Index and details of the first element where |actual − ref| > atol + rtol·|ref|, or undefined if all are close. */
export function firstMismatch(
  actual: ArrayLike<number>,
  ref: ArrayLike<number>,
  { rtol = 1e-5, atol = 0 }: Tolerance = {},
): string | undefined {
  if (actual.length !== ref.length) return `length ${actual.length} ≠ reference length ${ref.length}`;
  for (let i = 0; i < ref.length; i++) {
    const a = actual[i];
    const r = ref[i];
    if (Number.isNaN(r) && Number.isNaN(a)) continue;
    if (a === r) continue; // also covers equal infinities
    const tol = (typeof atol === 'number' ? atol : atol[i]) + rtol * Math.abs(r);
    if (!(Math.abs(a - r) <= tol)) return `element ${i}: got ${a}, reference ${r}, |diff| ${Math.abs(a - r)} > tol ${tol}`;
  }
  return undefined;
}

/** Asserts that `actual` is elementwise close to the reference. */
export function expectClose(actual: ArrayLike<number>, ref: ArrayLike<number>, tol: Tolerance = {}): void {
  const mismatch = firstMismatch(actual, ref, tol);
  expect(mismatch, mismatch).toBeUndefined();
}

/**
 * Per-element absolute tolerance for C = op(A)·op(B) accumulated in a precision with epsilon `eps`:
 * atol_ij = c · eps · K · (|op(A)|·|op(B)|)_ij — the standard forward error bound of a length-K dot product
 * (Higham, "Accuracy and Stability of Numerical Algorithms", §3.1: |ŝ − s| ≤ γ_K Σ|a_p b_p|, γ_K ≈ K·eps).
 * Kernels that accumulate in float64 and round on store are far inside it with eps = EPS32; float32-accumulating
 * SIMD and GPU kernels are inside it too. `absA` is |op(A)| as M×K row-major, `absB` is |op(B)| as K×N.
 */
export function matmulAtol(
  absA: ArrayLike<number>,
  absB: ArrayLike<number>,
  m: number,
  n: number,
  k: number,
  { c = 2, eps = EPS32 }: { c?: number; eps?: number } = {},
): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += Math.abs(absA[i * k + p]) * Math.abs(absB[p * n + j]);
      out[i * n + j] = c * eps * Math.max(k, 1) * s;
    }
  }
  return out;
}
