// The seeded PRNG's distributions with fixed seeds: moments, Kolmogorov–Smirnov against the uniform and normal CDFs,
// chi-square for randint. (Golden streams, state and argument checks are in random.test.ts.)
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { expectClose } from '../helpers/close.js';

/** The error function by composite Simpson integration of 2/√π e^(−t²) over [0, |x|] (independent of the library's erf). */
function erfSimpson(x: number): number {
  const ax = Math.abs(x);
  if (ax > 8) return Math.sign(x);
  const n = 2 * Math.ceil(ax * 200) + 2; // even, h ≤ 0.0025: error ≤ (|x|/180)·h⁴·max|f⁗| ≈ 1e-11 for |x| ≤ 3
  const h = ax / n;
  let s = 1 + Math.exp(-ax * ax);
  for (let i = 1; i < n; i++) {
    const t = i * h;
    s += (i % 2 === 1 ? 4 : 2) * Math.exp(-t * t);
  }
  return (Math.sign(x) * (h / 3) * s * 2) / Math.sqrt(Math.PI);
}
const phi = (x: number) => 0.5 * (1 + erfSimpson(x / Math.SQRT2));

/** Kolmogorov–Smirnov statistic D = sup |F_n(x) − F(x)| of a sample against the CDF `cdf`. */
function ksStatistic(sample: ArrayLike<number>, cdf: (x: number) => number): number {
  const xs = Float64Array.from(sample).sort();
  const n = xs.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(xs[i]);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  return d;
}

function meanVar(xs: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  const mean = s / xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i] - mean) ** 2;
  return { mean, variance: v / xs.length };
}

describe('distributions (fixed seeds)', () => {
  const N = 100_000;

  it('100k float64 uniforms: mean 1/2 and variance 1/12 within 4 standard errors, no lag-1 correlation', () => {
    const u = T.rand([N], { dtype: 'float64', generator: new T.Generator(11) }).data;
    const { mean, variance } = meanVar(u);
    // se(mean) = √(1/12 / n); se(variance) = √((μ4 − σ⁴)/n) with μ4 = 1/80, σ⁴ = 1/144.
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(4 * Math.sqrt((1 / 80 - 1 / 144) / N));
    let c = 0;
    for (let i = 1; i < N; i++) c += (u[i] - mean) * (u[i - 1] - mean);
    const r1 = c / (N - 1) / variance;
    expect(Math.abs(r1)).toBeLessThan(4 / Math.sqrt(N)); // se of a lag-1 autocorrelation ≈ 1/√n
  });

  it('100k float32 uniforms: mean and variance within 4 standard errors', () => {
    const u = T.rand([N], { generator: new T.Generator(12) }).data;
    const { mean, variance } = meanVar(u);
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(4 * Math.sqrt((1 / 80 - 1 / 144) / N));
  });

  it('100k normals: mean 0 and variance 1 within 4 standard errors; N(3, 0.5²) with mean/std', () => {
    const z = T.randn([N], { dtype: 'float64', generator: new T.Generator(13) }).data;
    const s = meanVar(z);
    // se(mean) = 1/√n; se(variance) = √(2/n) for a normal (μ4 = 3).
    expect(Math.abs(s.mean)).toBeLessThan(4 / Math.sqrt(N));
    expect(Math.abs(s.variance - 1)).toBeLessThan(4 * Math.sqrt(2 / N));
    const w = T.randn([N], { mean: 3, std: 0.5, generator: new T.Generator(14) }).data;
    const t = meanVar(w);
    expect(Math.abs(t.mean - 3)).toBeLessThan(4 * 0.5 / Math.sqrt(N));
    expect(Math.abs(t.variance - 0.25)).toBeLessThan(4 * 0.25 * Math.sqrt(2 / N));
  });

  it('the test’s own erf (Simpson) matches tabulated values', () => {
    // Abramowitz & Stegun Table 7.1 / high-precision values.
    expectClose(
      [erfSimpson(0), erfSimpson(0.5), erfSimpson(1), erfSimpson(2), erfSimpson(-1.5), erfSimpson(3)],
      [0, 0.5204998778130465, 0.8427007929497149, 0.9953222650189527, -0.9661051464753108, 0.9999779095030014],
      { rtol: 1e-10, atol: 1e-12 },
    );
  });

  it('Kolmogorov–Smirnov: 20k uniforms against F(x) = x, below the 0.1% critical value 1.95/√n', () => {
    const n = 20_000;
    const u64 = T.rand([n], { dtype: 'float64', generator: new T.Generator(21) }).data;
    expect(ksStatistic(u64, (x) => x)).toBeLessThan(1.95 / Math.sqrt(n));
    const u32 = T.rand([n], { generator: new T.Generator(22) }).data;
    expect(ksStatistic(u32, (x) => x)).toBeLessThan(1.95 / Math.sqrt(n));
    // Scaled: U(-2, 5) against (x + 2)/7.
    const w = T.rand([n], { low: -2, high: 5, dtype: 'float64', generator: new T.Generator(23) }).data;
    expect(ksStatistic(w, (x) => (x + 2) / 7)).toBeLessThan(1.95 / Math.sqrt(n));
  });

  it('Kolmogorov–Smirnov: 20k normals against Φ, below the 0.1% critical value 1.95/√n', () => {
    const n = 20_000;
    const z = T.randn([n], { dtype: 'float64', generator: new T.Generator(31) }).data;
    expect(ksStatistic(z, phi)).toBeLessThan(1.95 / Math.sqrt(n));
    // The statistic does detect a wrong distribution: the same sample against N(0.1, 1) fails.
    expect(ksStatistic(z, (x) => phi(x - 0.1))).toBeGreaterThan(1.95 / Math.sqrt(n));
    const w = T.randn([n], { mean: -1, std: 2, generator: new T.Generator(32) }).data;
    expect(ksStatistic(w, (x) => phi((x + 1) / 2))).toBeLessThan(1.95 / Math.sqrt(n));
  });

  it('randint stays in [low, high), hits every value, and passes a chi-square test on counts', () => {
    const n = 100_000;
    const r = T.randint(0, 10, [n], { generator: new T.Generator(41) });
    expect(r.dtype).toBe('int32');
    expect(r.data).toBeInstanceOf(Int32Array);
    const counts = new Array<number>(10).fill(0);
    let outside = 0;
    for (const v of r.data) {
      if (v >= 0 && v < 10) counts[v]++;
      else outside++;
    }
    expect(outside).toBe(0);
    expect(counts.every((c) => c > 0)).toBe(true);
    const e = n / 10;
    const chi2 = counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(27.877); // χ²(9 df) upper 0.1% point

    // A range that does not divide 2^32, with a negative low: every value of [-3, 4) appears, nothing outside.
    const s = T.randint(-3, 4, [2, 5000], { generator: new T.Generator(42) });
    expect(s.shape).toEqual([2, 5000]);
    const seen = new Set(s.data);
    expect([...seen].sort((a, b) => a - b)).toEqual([-3, -2, -1, 0, 1, 2, 3]);

    // A one-value range always gives low; the full int32 range stays inside int32.
    expect(Array.from(T.randint(7, 8, [5], { generator: new T.Generator(1) }).data)).toEqual([7, 7, 7, 7, 7]);
    const full = T.randint(-(2 ** 31), 2 ** 31, [1000], { generator: new T.Generator(43) }).data;
    let neg = 0;
    for (const v of full) if (v < 0) neg++;
    expect(neg).toBeGreaterThan(400); // about half negative: low really is −2^31
    expect(neg).toBeLessThan(600);
  });

  it('rand with low/high stays in [low, high) and has mean (low + high)/2', () => {
    const n = 100_000;
    const r = T.rand([n], { low: -3, high: -1, dtype: 'float64', generator: new T.Generator(51) }).data;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of r) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBeGreaterThanOrEqual(-3);
    expect(hi).toBeLessThan(-1);
    // The sample fills the interval: min and max within 0.001 of the ends (fails with probability ~ 2e^-50).
    expect(lo).toBeLessThan(-3 + 1e-3);
    expect(hi).toBeGreaterThan(-1 - 1e-3);
    const { mean, variance } = meanVar(r);
    expect(Math.abs(mean + 2)).toBeLessThan(4 * Math.sqrt(4 / 12 / n));
    expect(Math.abs(variance - 4 / 12)).toBeLessThan(4 * 4 * Math.sqrt((1 / 80 - 1 / 144) / n));
  });
});
