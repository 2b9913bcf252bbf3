// The Fréchet distance and what it rests on: the Jacobi eigendecomposition (A = VΛVᵀ, V orthogonal), the FD of Gaussians
// against closed forms (commuting covariances: Σ (√a − √b)²; 2 × 2: tr √M = √(tr M + 2√det M)), and on samples.
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import * as F from '@rill/flowmatch';
import { testRandom } from '../helpers/reference.js';

/** A random symmetric d × d matrix with entries in [−1, 1). */
function symmetric(d: number, seed: number): Float64Array {
  const r = testRandom(seed);
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) m[i * d + j] = m[j * d + i] = 2 * r() - 1;
  return m;
}

/** B·Bᵀ + εI: a random symmetric positive definite matrix. */
function spd(d: number, seed: number): Float64Array {
  const b = symmetric(d, seed);
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) m[i * d + j] += b[i * d + k] * b[j * d + k];
  for (let i = 0; i < d; i++) m[i * d + i] += 0.1;
  return m;
}

describe('symmetricEigen', () => {
  it.each([2, 7, 40])('d = %i: V·Λ·Vᵀ rebuilds A and VᵀV = I to 1e-10', (d) => {
    const a = symmetric(d, d);
    const { values, vectors: v } = F.symmetricEigen(a, d);
    let [rebuild, ortho] = [0, 0];
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) {
        let [s, o] = [0, 0];
        for (let k = 0; k < d; k++) (s += v[i * d + k] * values[k] * v[j * d + k]), (o += v[k * d + i] * v[k * d + j]);
        rebuild = Math.max(rebuild, Math.abs(s - a[i * d + j]));
        ortho = Math.max(ortho, Math.abs(o - (i === j ? 1 : 0)));
      }
    expect(rebuild).toBeLessThan(1e-10);
    expect(ortho).toBeLessThan(1e-10);
  });
});

describe('Fréchet distance', () => {
  it('diagonal covariances: ‖μ₁ − μ₂‖² + Σ (√a − √b)²', () => {
    const [a, b] = [[1, 4, 0.25], [9, 1, 0.25]];
    const diag = (v: number[]) => Float64Array.from({ length: 9 }, (_, k) => (k % 4 === 0 ? v[k / 4] : 0));
    const fd = F.frechetDistanceOf([0, 1, 2], diag(a), [1, 1, 0], diag(b));
    const want = 1 + 0 + 4 + a.reduce((s, ai, i) => s + (Math.sqrt(ai) - Math.sqrt(b[i])) ** 2, 0);
    expect(fd).toBeCloseTo(want, 10);
  });

  it('2 × 2 covariances that do not commute: tr(Σ₁ + Σ₂) − 2√(tr Σ₁Σ₂ + 2√(det Σ₁ det Σ₂))', () => {
    const [s1, s2] = [Float64Array.from([2, 0.7, 0.7, 1]), Float64Array.from([1, -0.4, -0.4, 3])];
    const trProd = s1[0] * s2[0] + s1[1] * s2[2] + s1[2] * s2[1] + s1[3] * s2[3];
    const det = (m: Float64Array) => m[0] * m[3] - m[1] * m[2];
    const want = s1[0] + s1[3] + s2[0] + s2[3] - 2 * Math.sqrt(trProd + 2 * Math.sqrt(det(s1) * det(s2)));
    expect(F.frechetDistanceOf([0, 0], s1, [0, 0], s2)).toBeCloseTo(want, 10);
  });

  it('is 0 between a Gaussian and itself, symmetric in its arguments, and grows with a shift of the mean by exactly ‖δ‖²', () => {
    const c = spd(12, 3);
    const m = Array.from({ length: 12 }, (_, i) => i / 10);
    expect(F.frechetDistanceOf(m, c, m, c)).toBeLessThan(1e-9);
    const c2 = spd(12, 4);
    expect(F.frechetDistanceOf(m, c, m, c2)).toBeCloseTo(F.frechetDistanceOf(m, c2, m, c), 8);
    const shifted = m.map((x, i) => x + (i === 3 ? 2 : 0));
    expect(F.frechetDistanceOf(m, c, shifted, c)).toBeCloseTo(4, 8);
  });

  it('on samples: two draws of N(0, I₈) are near 0, a draw of N(1, I₈) is near ‖δ‖² = 8; mean and covariance as numpy’s', () => {
    const g = new T.Generator(5);
    const [a, b] = [T.randn([4000, 8], { generator: g, dtype: 'float64' }), T.randn([4000, 8], { generator: g, dtype: 'float64' })];
    expect(F.frechetDistance(a, b)).toBeLessThan(0.05);
    expect(Math.abs(F.frechetDistance(a, T.add(b, 1)) - 8)).toBeLessThan(0.3);
    const x = T.tensor([1, 2, 3, 5, 0, 1], { shape: [3, 2], dtype: 'float64' });
    const { mean, cov } = F.meanCovariance(x); // rows (1, 2), (3, 5), (0, 1): numpy.cov(x.T) = [[7/3, 19/6], [19/6, 13/3]]
    [4 / 3, 8 / 3].forEach((v, i) => expect(mean[i]).toBeCloseTo(v, 14));
    [7 / 3, 19 / 6, 19 / 6, 13 / 3].forEach((v, i) => expect(cov[i]).toBeCloseTo(v, 12));
    expect(() => F.frechetDistance(a, T.zeros([3, 4]))).toThrow(/frechetDistance: needs two \(n, d\) feature sets of one d/);
  });
});
