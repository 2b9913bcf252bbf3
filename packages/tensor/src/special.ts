// Special functions the kernels need and JavaScript's Math lacks: σ, erf (for the exact GELU) and the normal CDF/PDF.

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2/√π

/**
 * The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, to about 1e-15 in float64.
 * |x| < 3: the everywhere-positive series erf(x) = 2/√π · e^(−x²) · Σₙ 2ⁿ x^(2n+1) / (1·3·…·(2n+1))
 * (Abramowitz & Stegun 7.1.6), which has no cancellation. |x| ≥ 3: 1 − erfc(|x|), with the sign of x.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 3) return Math.sign(x) * (1 - erfcLarge(ax));
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 100; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/**
 * erfc(x) = 1 − erf(x) for x ≥ 3 by its continued fraction
 * erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))) (A&S 7.1.14), evaluated bottom-up;
 * depth 60 converges to float64 precision for x ≥ 3. Keeps full relative precision where 1 − erf(x) would cancel.
 */
function erfcLarge(x: number): number {
  if (x > 27) return 0; // e^(−x²) underflows
  let frac = x;
  for (let k = 60; k >= 1; k--) frac = x + k / 2 / frac;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / frac;
}

/** The complementary error function 1 − erf(x), accurate in relative terms also far in the right tail. */
export function erfc(x: number): number {
  return x >= 3 ? erfcLarge(x) : 1 - erf(x);
}

/** Standard normal CDF Φ(x) = erfc(−x/√2) / 2 (through erfc, so the left tail keeps its relative precision). */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x * Math.SQRT1_2);
}

/** Standard normal density φ(x) = e^(−x²/2) / √(2π). */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) * 0.3989422804014327;
}

/** The logistic function σ(x) = 1 / (1 + e^(−x)) on one number, written so that neither branch overflows. */
export function logistic(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
