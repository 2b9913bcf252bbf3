// logProb and standardNormalLogProb against analytic densities: affine fields push N(0, I) to known Gaussians.
import { describe, expect, it } from 'vitest';
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import { logProb, standardNormalLogProb, type DiffField } from '@rill/flowmatch';
import { expectClose } from '../helpers/close.js';
import { randomValues, testRandom } from '../helpers/reference.js';

type M2 = [number, number, number, number]; // row-major 2×2

/** e^{A} for a 2×2 matrix in closed form: A = mI + B with tr B = 0, so B² = −det(B)·I (Cayley–Hamilton). */
function expm2([a, b, c, d]: M2): M2 {
  const m = (a + d) / 2;
  const B: M2 = [a - m, b, c, d - m];
  const delta = -(B[0] * B[3] - B[1] * B[2]); // B² = δ I
  const q = Math.sqrt(Math.abs(delta));
  const [ch, sh] = q < 1e-12 ? [1, 1] : delta > 0 ? [Math.cosh(q), Math.sinh(q) / q] : [Math.cos(q), Math.sin(q) / q];
  const e = Math.exp(m);
  return [e * (ch + sh * B[0]), e * sh * B[1], e * sh * B[2], e * (ch + sh * B[3])];
}
const scale = (k: number, [a, b, c, d]: M2): M2 => [k * a, k * b, k * c, k * d];
const inv2 = ([a, b, c, d]: M2): M2 => scale(1 / (a * d - b * c), [d, -b, -c, a]);
/** Applies M to each row of x (B×2, flat): rows become (M x_i)ᵀ. */
const applyRows = ([a, b, c, d]: M2, x: readonly number[]) => x.flatMap((_, i) => (i % 2 ? [] : [a * x[i] + b * x[i + 1], c * x[i] + d * x[i + 1]]));

/** log N(x; 0, s²·M Mᵀ) per row (2D), from the covariance: −½ xᵀΣ⁻¹x − ½ log det Σ − log 2π. */
function gaussianLogPdf(M: M2, x: readonly number[], s = 1): number[] {
  const [a, b, c, d] = M;
  const S: M2 = scale(s * s, [a * a + b * b, a * c + b * d, a * c + b * d, c * c + d * d]);
  const det = S[0] * S[3] - S[1] * S[2];
  const P = inv2(S);
  const out: number[] = [];
  for (let i = 0; i < x.length; i += 2) {
    const [u, v] = [x[i], x[i + 1]];
    out.push(-0.5 * (P[0] * u * u + (P[1] + P[2]) * u * v + P[3] * v * v) - 0.5 * Math.log(det) - Math.log(2 * Math.PI));
  }
  return out;
}

/** u(x, t) = a(t)·x·Mᵀ on row vectors, i.e. a(t)·M x per point, written with @rill/autograd ops. */
const affine = (M: M2, a: (t: number) => number = () => 1): DiffField => (x, t) =>
  A.mul(A.matmul(x, T.tensor([M[0], M[2], M[1], M[3]], { shape: [2, 2], dtype: x.dtype })), a(t));

const AMAT: M2 = [0.3, -0.8, 0.5, -0.2]; // non-symmetric, complex eigenvalues; tr = 0.1, A₁₂ + A₂₁ = −0.3
const DIAG: M2 = [0.4, 0, 0, -0.7];
const a = (t: number) => 1 + Math.sin(3 * t); // ∫₀¹ a = 1 + (1 − cos 3)/3
const INT_A = 1 + (1 - Math.cos(3)) / 3;
const I2: M2 = [1, 0, 0, 1];

const rng = testRandom(11);
const POINTS = randomValues(rng, 12, -2.5, 2.5); // 6 points in 2D
const CASES: [string, DiffField, M2][] = [
  ['constant A', affine(AMAT), expm2(AMAT)],
  ['diagonal A', affine(DIAG), expm2(DIAG)],
  ['time-dependent a(t)·A', affine(AMAT, a), expm2(scale(INT_A, AMAT))],
  ['time-dependent a(t)·x', affine(I2, (t) => 0.5 + t), expm2(I2)], // ∫₀¹ (0.5 + t) dt = 1 ⇒ x₁ = e·x₀
];

describe('logProb with the exact divergence on affine fields (pushforward of N(0, I) is N(0, M Mᵀ), M = e^{∫A})', () => {
  it.each(CASES)('%s, float64: log-density, noise = M⁻¹x and NFE', (_name, field, M) => {
    const x = T.tensor(POINTS, { shape: [6, 2], dtype: 'float64' });
    const r = logProb(field, x, { steps: 100 });
    expect(r.logProb.shape).toEqual([6]);
    expect(r.logProb.dtype).toBe('float64');
    expectClose(r.logProb.data, gaussianLogPdf(M, POINTS), { rtol: 0, atol: 1e-7 });
    // The same through the other form: log N(M⁻¹x; 0, I) − log |det M|.
    const noise = applyRows(inv2(M), POINTS);
    const viaNoise = gaussianLogPdf(I2, noise).map((v) => v - Math.log(Math.abs(M[0] * M[3] - M[1] * M[2])));
    expectClose(r.logProb.data, viaNoise, { rtol: 0, atol: 1e-7 });
    expectClose(r.noise.data, noise, { rtol: 0, atol: 1e-8 });
    expect(r.nfe).toBe(4 * 100);
    T.dispose([x, r.logProb, r.noise]);
  });

  it.each(CASES)('%s, float32 (rk4, 50 steps)', (_name, field, M) => {
    const x = T.tensor(POINTS, { shape: [6, 2] });
    const r = logProb(field, x);
    expect(r.logProb.dtype).toBe('float32');
    expectClose(r.logProb.data, gaussianLogPdf(M, POINTS), { rtol: 1e-5, atol: 1e-4 });
    expectClose(r.noise.data, applyRows(inv2(M), POINTS), { rtol: 1e-5, atol: 1e-5 });
    T.dispose([x, r.logProb, r.noise]);
  });

  it('dopri5 and the other fixed-step methods agree with the analytic density', () => {
    const x = T.tensor(POINTS, { shape: [6, 2], dtype: 'float64' });
    const ref = gaussianLogPdf(expm2(AMAT), POINTS);
    for (const [options, atol] of [
      [{ method: 'dopri5', rtol: 1e-9, atol: 1e-9 }, 1e-6],
      [{ method: 'midpoint', steps: 400 }, 1e-4],
      [{ method: 'heun', steps: 400 }, 1e-4],
    ] as const) {
      const r = logProb(affine(AMAT), x, options);
      expectClose(r.logProb.data, ref, { rtol: 0, atol });
      T.dispose([r.logProb, r.noise]);
    }
    x.dispose();
  });

  it('a custom sourceLogProb (N(0, s² I)) gives the pushforward N(0, s² M Mᵀ)', () => {
    const s = 0.7;
    const source = (z: T.Tensor) =>
      T.tensor(
        Array.from({ length: z.shape[0] }, (_, i) => -(z.data[2 * i] ** 2 + z.data[2 * i + 1] ** 2) / (2 * s * s) - Math.log(2 * Math.PI * s * s)),
        { dtype: z.dtype },
      );
    const x = T.tensor(POINTS, { shape: [6, 2], dtype: 'float64' });
    const r = logProb(affine(AMAT), x, { steps: 100, sourceLogProb: source });
    expectClose(r.logProb.data, gaussianLogPdf(expm2(AMAT), POINTS, s), { rtol: 0, atol: 1e-7 });
    T.dispose([x, r.logProb, r.noise]);
  });

  it('a nonlinear field, u = −x³ per coordinate: x₀ = x/√(1 − 2x²), log p = log N(x₀) − (3/2) Σ log(1 − 2x²)', () => {
    const pts = randomValues(testRandom(5), 10, -0.6, 0.6);
    const x = T.tensor(pts, { shape: [5, 2], dtype: 'float64' });
    const r = logProb((v) => A.neg(A.mul(A.square(v), v)), x, { steps: 200 });
    const x0 = pts.map((v) => v / Math.sqrt(1 - 2 * v * v));
    const ref = gaussianLogPdf(I2, x0).map((v, i) => v - 1.5 * (Math.log(1 - 2 * pts[2 * i] ** 2) + Math.log(1 - 2 * pts[2 * i + 1] ** 2)));
    expectClose(r.noise.data, x0, { rtol: 0, atol: 1e-8 });
    expectClose(r.logProb.data, ref, { rtol: 0, atol: 1e-7 });
    T.dispose([x, r.logProb, r.noise]);
  });

  it.each([
    ['exact', 'rk4'],
    ['hutchinson', 'rk4'],
    ['exact', 'dopri5'],
  ] as const)('divergence %s with %s leaves no tensors behind besides its results', (divergence, method) => {
    const x = T.tensor(POINTS, { shape: [6, 2] });
    const before = T.memory().numTensors;
    const r = logProb(affine(AMAT), x, { divergence, method, steps: 5, generator: new T.Generator(1) });
    T.dispose([r.logProb, r.noise]);
    expect(T.memory().numTensors - before, 'tensors leaked').toBe(0);
    x.dispose();
  });
});

describe('logProb with Hutchinson (Rademacher probes)', () => {
  it('is exact for a diagonal A (εᵀAε = tr A when ε² = 1)', () => {
    const x = T.tensor(POINTS, { shape: [6, 2], dtype: 'float64' });
    const r = logProb(affine(DIAG), x, { divergence: 'hutchinson', steps: 100, generator: new T.Generator(7) });
    expectClose(r.logProb.data, gaussianLogPdf(expm2(DIAG), POINTS), { rtol: 0, atol: 1e-7 });
    T.dispose([x, r.logProb, r.noise]);
  });

  it('is unbiased for a non-diagonal A: each row is off by exactly ±(A₁₂ + A₂₁)·∫a, half each way', () => {
    // εᵀAε = tr A + (A₁₂ + A₂₁) ε₁ε₂ with ε₁ε₂ = ±1 fixed for the solve, so ℓ shifts by ∓(A₁₂ + A₂₁)∫a dt.
    const n = 2000;
    const pts = randomValues(testRandom(3), 2 * n, -2, 2);
    const x = T.tensor(pts, { shape: [n, 2], dtype: 'float64' });
    for (const [field, M, k] of [
      [affine(AMAT), expm2(AMAT), -0.3],
      [affine(AMAT, a), expm2(scale(INT_A, AMAT)), -0.3 * INT_A],
    ] as const) {
      const exact = gaussianLogPdf(M, pts);
      const r = logProb(field, x, { divergence: 'hutchinson', steps: 20, generator: new T.Generator(42) });
      const diffs = Array.from(r.logProb.data, (v, i) => v - exact[i]);
      for (const d of diffs) expect(Math.abs(Math.abs(d) - Math.abs(k))).toBeLessThan(1e-5);
      const mean = diffs.reduce((s, d) => s + d, 0) / n;
      expect(Math.abs(mean)).toBeLessThan((4 * Math.abs(k)) / Math.sqrt(n)); // 4 standard errors
      const up = diffs.filter((d) => d > 0).length / n;
      expect(Math.abs(up - 0.5)).toBeLessThan(4 * 0.5 / Math.sqrt(n));
      T.dispose([r.logProb, r.noise]);
    }
    x.dispose();
  });

  it('averaged over seeds at one point, the estimate approaches the exact log-density', () => {
    const x = T.tensor([0.8, -1.3], { shape: [1, 2], dtype: 'float64' });
    const exact = gaussianLogPdf(expm2(AMAT), [0.8, -1.3])[0];
    const seeds = Array.from({ length: 400 }, (_, s) => s);
    const values = seeds.map((seed) => {
      const r = logProb(affine(AMAT), x, { divergence: 'hutchinson', steps: 10, generator: new T.Generator(seed) });
      const v = r.logProb.data[0];
      T.dispose([r.logProb, r.noise]);
      return v;
    });
    expect(new Set(values.map((v) => Math.sign(v - exact))).size).toBe(2); // both probe signs occur
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    expect(Math.abs(mean - exact)).toBeLessThan((4 * 0.3) / Math.sqrt(values.length));
    x.dispose();
  });
});

describe('standardNormalLogProb', () => {
  it.each([
    [2, 'float64'],
    [3, 'float64'],
    [5, 'float32'],
  ] as const)('D = %i, %s: −½‖x‖² − (D/2) log 2π per row', (d, dtype) => {
    const b = 4;
    const vals = randomValues(testRandom(d), b * d, -3, 3);
    const x = T.tensor(vals, { shape: [b, d], dtype });
    const out = standardNormalLogProb(x);
    expect(out.shape).toEqual([b]);
    const ref = Array.from({ length: b }, (_, i) => {
      let sq = 0;
      for (let j = 0; j < d; j++) sq += vals[i * d + j] ** 2;
      return -0.5 * sq - (d / 2) * Math.log(2 * Math.PI);
    });
    expectClose(out.data, ref, dtype === 'float64' ? { rtol: 1e-14, atol: 1e-14 } : { rtol: 1e-6, atol: 1e-6 });
    T.dispose([x, out]);
  });
});

describe('logProb: input errors', () => {
  it.each([[[4]], [[2, 3, 2]], [[]]])('points of shape %j give a ShapeError naming logProb', (shape) => {
    const x = T.zeros(shape);
    expect(() => logProb(affine(AMAT), x)).toThrow(T.ShapeError);
    expect(() => logProb(affine(AMAT), x)).toThrow(/^logProb: /);
    x.dispose();
  });
});
