// Sample-quality metrics (W2, MMD², energy distance, the data floor) against hand-computed values and brute force.
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { dataFloor, energyDistance, mmd2, wasserstein2 } from '@rill/flowmatch';
import { randomValues, testRandom } from '../helpers/reference.js';

/** An (n, d) float64 tensor of rows. */
const cloud = (rows: number[][]) => T.tensor(rows, { dtype: 'float64' });

/** n points of N(mean, I) in d dimensions, by Box–Muller on the test PRNG. */
function normalRows(rng: () => number, n: number, d: number, mean = 0): number[][] {
  const z = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return Array.from({ length: n }, () => Array.from({ length: d }, () => mean + z()));
}

function uniformRows(rng: () => number, n: number, d: number): number[][] {
  return Array.from({ length: n }, () => randomValues(rng, d, -3, 3));
}

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, k) => [...p.slice(0, k), n - 1, ...p.slice(k)]));
}

const sq = (a: number[], b: number[]) => a.reduce((s, v, k) => s + (v - b[k]) ** 2, 0);
const dist = (a: number[], b: number[]) => Math.sqrt(sq(a, b));

describe('wasserstein2', () => {
  it('a cloud and its translate by c (rows shuffled) are ‖c‖ apart', () => {
    const rng = testRandom(1);
    for (const d of [1, 2, 5]) {
      const x = uniformRows(rng, 60, d);
      const c = randomValues(rng, d);
      // Σ‖xᵢ − x_π(i) − c‖² = Σ‖xᵢ − x_π(i)‖² + n‖c‖² (the cross term sums to 0), minimised by the identity.
      const y = x.map((row) => row.map((v, k) => v + c[k])).reverse();
      expect(wasserstein2(cloud(x), cloud(y))).toBeCloseTo(Math.hypot(...c), 10);
    }
  });

  it('in 1D equals the cost of matching sorted values', () => {
    const rng = testRandom(2);
    for (const n of [2, 3, 10, 101]) {
      const a = randomValues(rng, n, -5, 5);
      const b = randomValues(rng, n, -1, 8);
      const sa = [...a].sort((p, q) => p - q);
      const sb = [...b].sort((p, q) => p - q);
      const ref = Math.sqrt(sa.reduce((s, v, i) => s + (v - sb[i]) ** 2, 0) / n);
      expect(wasserstein2(cloud(a.map((v) => [v])), cloud(b.map((v) => [v])))).toBeCloseTo(ref, 10);
    }
  });

  it('equals the brute-force minimum over all permutations for n ≤ 7', () => {
    const rng = testRandom(3);
    for (let n = 2; n <= 7; n++) {
      const perms = permutations(n);
      for (let trial = 0; trial < 6; trial++) {
        const d = 1 + (trial % 3);
        const x = uniformRows(rng, n, d);
        const y = uniformRows(rng, n, d);
        const best = Math.min(...perms.map((p) => p.reduce((s, j, i) => s + sq(x[i], y[j]), 0)));
        expect(wasserstein2(cloud(x), cloud(y))).toBeCloseTo(Math.sqrt(best / n), 10);
      }
    }
  });

  it('a cloud is at distance 0 from itself; float32 input works too', () => {
    const x = uniformRows(testRandom(4), 200, 2);
    expect(wasserstein2(cloud(x), cloud(x))).toBe(0);
    expect(wasserstein2(T.tensor(x), T.tensor(x))).toBe(0);
  });

  it('shape errors', () => {
    const a = T.zeros([4, 2]);
    expect(() => wasserstein2(a, T.zeros([5, 2]))).toThrow(T.ShapeError);
    expect(() => wasserstein2(a, T.zeros([4, 3]))).toThrow(T.ShapeError);
    expect(() => wasserstein2(T.zeros([4]), T.zeros([4]))).toThrow(/^wasserstein2: /);
    expect(() => wasserstein2(T.zeros([4, 2, 1]), T.zeros([4, 2, 1]))).toThrow(T.ShapeError);
  });
});

/** Unbiased MMD², Gretton et al. (2012) eq. 3, written out with an explicit bandwidth h: k = exp(−‖a − b‖²/(2h²)). */
function mmd2Ref(x: number[][], y: number[][], h: number): number {
  const k = (a: number[], b: number[]) => Math.exp(-sq(a, b) / (2 * h * h));
  const [m, n] = [x.length, y.length];
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (i !== j) xx += k(x[i], x[j]);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) yy += k(y[i], y[j]);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) xy += k(x[i], y[j]);
  return xx / (m * (m - 1)) + yy / (n * (n - 1)) - (2 * xy) / (m * n);
}

describe('mmd2', () => {
  it('a tiny case by hand: x = {0, 1}, y = {3, 5}, h = 1', () => {
    // Within x: k(0,1) = e^−½; within y: k(3,5) = e^−2; cross: (e^−9/2 + e^−25/2 + e^−2 + e^−8)/4, counted twice.
    const ref = Math.exp(-0.5) + Math.exp(-2) - (2 / 4) * (Math.exp(-4.5) + Math.exp(-12.5) + Math.exp(-2) + Math.exp(-8));
    expect(mmd2(cloud([[0], [1]]), cloud([[3], [5]]), { bandwidth: 1 })).toBeCloseTo(ref, 14);
  });

  it('matches eq. 3 for unequal sizes in several dimensions, with an explicit bandwidth', () => {
    const rng = testRandom(5);
    for (const [m, n, d, h] of [[5, 8, 2, 0.7], [12, 3, 3, 2], [20, 20, 1, 0.3]]) {
      const x = uniformRows(rng, m, d);
      const y = normalRows(rng, n, d, 0.5);
      expect(mmd2(cloud(x), cloud(y), { bandwidth: h })).toBeCloseTo(mmd2Ref(x, y, h), 12);
    }
  });

  it('the default bandwidth is the median pairwise distance of the pooled sample', () => {
    // Pooled {0, 1, 3, 7}: distances 1, 3, 7, 2, 6, 4 → sorted 1 2 3 4 6 7 → median (3 + 4)/2 = 3.5.
    const x = [[0], [1]];
    const y = [[3], [7]];
    expect(mmd2(cloud(x), cloud(y))).toBeCloseTo(mmd2Ref(x, y, 3.5), 14);
    expect(mmd2Ref(x, y, 3.5)).not.toBeCloseTo(mmd2Ref(x, y, 3), 4);
    // Odd number of pairs: pooled {0, 1, 3, 4, 8, 9} (n = m = 3) has 15 distances; the 8th smallest is the median.
    const x3 = [[0], [1], [3]];
    const y3 = [[4], [8], [9]];
    const pooled = [0, 1, 3, 4, 8, 9];
    const ds = pooled.flatMap((a, i) => pooled.slice(i + 1).map((b) => Math.abs(a - b))).sort((p, q) => p - q);
    expect(ds).toEqual([1, 1, 1, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8, 8, 9]);
    expect(mmd2(cloud(x3), cloud(y3))).toBeCloseTo(mmd2Ref(x3, y3, 4), 14);
    // In 2D: pooled corners of a 3 × 4 rectangle, distances 3, 3, 4, 4, 5, 5 → median 4.
    const r = [[0, 0], [3, 0]];
    const s = [[0, 4], [3, 4]];
    expect(mmd2(cloud(r), cloud(s))).toBeCloseTo(mmd2Ref(r, s, 4), 14);
  });

  it('≈ 0 for two samples of one distribution, clearly positive for a shifted one', () => {
    const rng = testRandom(6);
    const a = cloud(normalRows(rng, 300, 2));
    const b = cloud(normalRows(rng, 300, 2));
    const c = cloud(normalRows(rng, 300, 2, 1));
    const same = mmd2(a, b);
    const shifted = mmd2(a, c);
    expect(Math.abs(same)).toBeLessThan(0.01);
    expect(shifted).toBeGreaterThan(0.05);
    expect(shifted).toBeGreaterThan(10 * Math.abs(same));
  });

  it('rejects a non-positive bandwidth (given, or a median of 0) and bad shapes', () => {
    const x = cloud([[0], [1]]);
    expect(() => mmd2(x, x, { bandwidth: 0 })).toThrow(T.ValueError);
    expect(() => mmd2(x, x, { bandwidth: -1 })).toThrow(/^mmd2: /);
    expect(() => mmd2(cloud([[2], [2]]), cloud([[2], [2]]))).toThrow(T.ValueError);
    expect(() => mmd2(T.zeros([3, 2]), T.zeros([3, 1]))).toThrow(T.ShapeError);
    expect(() => mmd2(T.zeros([1, 2]), T.zeros([3, 2]))).toThrow(T.ValueError);
  });
});

describe('energyDistance', () => {
  it('point masses at a and b: 2‖a − b‖ (identical points within a sample are 0 apart)', () => {
    const a = [1, -2];
    const b = [4, 2];
    const x = cloud([a, a, a]);
    const y = cloud([b, b, b, b]);
    expect(energyDistance(x, y)).toBeCloseTo(2 * dist(a, b), 12);
    expect(energyDistance(x, x)).toBe(0);
  });

  it('a small case by hand: x = {0, 1}, y = {3, 5}', () => {
    // 2·mean(3, 5, 2, 4) − |0 − 1| − |3 − 5| = 7 − 1 − 2 = 4.
    expect(energyDistance(cloud([[0], [1]]), cloud([[3], [5]]))).toBeCloseTo(4, 12);
  });

  it('matches the U-statistic definition for unequal sizes, and is symmetric', () => {
    const rng = testRandom(7);
    const x = uniformRows(rng, 7, 3);
    const y = normalRows(rng, 11, 3, 1);
    const meanPairs = (p: number[][], q: number[][], distinct: boolean) => {
      let s = 0;
      let count = 0;
      p.forEach((u, i) => q.forEach((v, j) => { if (!distinct || i !== j) { s += dist(u, v); count++; } }));
      return s / count;
    };
    const ref = 2 * meanPairs(x, y, false) - meanPairs(x, x, true) - meanPairs(y, y, true);
    expect(energyDistance(cloud(x), cloud(y))).toBeCloseTo(ref, 12);
    expect(energyDistance(cloud(y), cloud(x))).toBeCloseTo(ref, 12);
  });

  it('≈ 0 for two samples of one distribution, clearly positive for a shifted one', () => {
    const rng = testRandom(8);
    const a = cloud(normalRows(rng, 300, 2));
    const same = energyDistance(a, cloud(normalRows(rng, 300, 2)));
    const shifted = energyDistance(a, cloud(normalRows(rng, 300, 2, 1)));
    expect(Math.abs(same)).toBeLessThan(0.05);
    expect(shifted).toBeGreaterThan(0.3);
  });

  it('shape errors', () => {
    expect(() => energyDistance(T.zeros([3, 2]), T.zeros([3, 1]))).toThrow(T.ShapeError);
    expect(() => energyDistance(T.zeros([3]), T.zeros([3]))).toThrow(/^energyDistance: /);
  });
});

describe('dataFloor', () => {
  it('calls the sampler twice with n and applies the metric to the two samples', () => {
    const calls: number[] = [];
    const rows = [[[0, 0], [1, 0], [0, 2]], [[5, 5], [6, 5], [5, 7]]];
    const sample = (n: number) => {
      calls.push(n);
      return cloud(rows[calls.length - 1]);
    };
    // The second sample is the first translated by (5, 5): W2 = 5√2 (the default metric).
    expect(dataFloor(sample, 3)).toBeCloseTo(5 * Math.SQRT2, 12);
    expect(calls).toEqual([3, 3]);
    calls.length = 0;
    const seen: number[][] = [];
    const firstX = (x: T.Tensor, y: T.Tensor) => {
      seen.push([x.data[0], y.data[0]]);
      return x.data[0] - y.data[0];
    };
    expect(dataFloor(sample, 3, firstX)).toBe(-5);
    expect(calls).toEqual([3, 3]);
    expect(seen).toEqual([[0, 5]]);
  });
});

describe('wasserstein2 of single points', () => {
  it('is the distance between the two points', () => {
    expect(wasserstein2(T.tensor([[0, 0]], { dtype: 'float64' }), T.tensor([[3, 4]], { dtype: 'float64' }))).toBe(5);
  });
});
