// Sample-quality metrics between point clouds: exact W2, unbiased MMD² (RBF, median heuristic), energy distance.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { linearSumAssignment } from './assignment.js';

/** Rows of a (n, d) tensor as a float64 array, with shape checks that name the metric. */
function points(op: string, x: Tensor, y: Tensor, minPoints = 2): { a: Float64Array; b: Float64Array; n: number; m: number; d: number } {
  if (x.rank !== 2 || y.rank !== 2 || x.shape[1] !== y.shape[1]) {
    throw new T.ShapeError(op, `needs two (n, d) point clouds of the same d, got [${x.shape}] and [${y.shape}]`);
  }
  if (x.shape[0] < minPoints || y.shape[0] < minPoints) {
    throw new T.ValueError(op, `needs at least ${minPoints} points in each cloud, got ${x.shape[0]} and ${y.shape[0]}`);
  }
  return { a: Float64Array.from(x.data), b: Float64Array.from(y.data), n: x.shape[0], m: y.shape[0], d: x.shape[1] };
}

/** Squared Euclidean distance between row i of a and row j of b (both d columns). */
function sqDist(a: Float64Array, i: number, b: Float64Array, j: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) {
    const diff = a[i * d + k] - b[j * d + k];
    s += diff * diff;
  }
  return s;
}

/**
 * The 2-Wasserstein distance between two equal-size point clouds (uniform weights):
 * W2 = sqrt(min over permutations π of (1/n) Σᵢ ‖xᵢ − y_π(i)‖²), solved exactly by linear assignment.
 */
export function wasserstein2(x: Tensor, y: Tensor): number {
  const { a, b, n, m, d } = points('wasserstein2', x, y, 1);
  if (n !== m) throw new T.ShapeError('wasserstein2', `needs clouds of equal size, got ${n} and ${m} points`);
  const cost = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) cost[i * n + j] = sqDist(a, i, b, j, d);
  const match = linearSumAssignment(cost, n);
  let total = 0;
  for (let i = 0; i < n; i++) total += cost[i * n + match[i]];
  return Math.sqrt(total / n);
}

/** Median of a Float64Array (average of the two middle values for an even length); sorts a copy. */
function median(values: Float64Array): number {
  const s = Float64Array.from(values).sort();
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/**
 * Unbiased MMD² with the RBF kernel k(x, y) = exp(−‖x − y‖² / (2h²)), h = the median pairwise distance of the pooled
 * sample (the median heuristic, unless `bandwidth` is given):
 * MMD² = 1/(n(n−1)) Σ_{i≠j} k(xᵢ, xⱼ) + 1/(m(m−1)) Σ_{i≠j} k(yᵢ, yⱼ) − 2/(nm) Σ_{i,j} k(xᵢ, yⱼ).
 * Reference: Gretton et al., "A Kernel Two-Sample Test", JMLR 13 (2012), eq. 3. Can be slightly negative.
 */
export function mmd2(x: Tensor, y: Tensor, options: { bandwidth?: number } = {}): number {
  const { a, b, n, m, d } = points('mmd2', x, y);
  let h = options.bandwidth;
  if (h === undefined) {
    const pooled = new Float64Array((n + m) * d);
    pooled.set(a);
    pooled.set(b, n * d);
    const N = n + m;
    const dists = new Float64Array((N * (N - 1)) / 2);
    let k = 0;
    for (let i = 0; i < N; i++) for (let j = i + 1; j < N; j++) dists[k++] = Math.sqrt(sqDist(pooled, i, pooled, j, d));
    h = median(dists);
  }
  if (!(h > 0)) throw new T.ValueError('mmd2', `the kernel bandwidth must be positive, got ${h}`);
  const gamma = 1 / (2 * h * h);
  const within = (p: Float64Array, count: number) => {
    let s = 0;
    for (let i = 0; i < count; i++) for (let j = i + 1; j < count; j++) s += 2 * Math.exp(-gamma * sqDist(p, i, p, j, d));
    return s / (count * (count - 1));
  };
  let cross = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) cross += Math.exp(-gamma * sqDist(a, i, b, j, d));
  return within(a, n) + within(b, m) - (2 * cross) / (n * m);
}

/**
 * Energy distance 2·E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖, with the within-sample means over distinct pairs (U-statistics).
 * Zero in expectation when the distributions agree. Reference: Székely & Rizzo, "Energy statistics" (2013), eq. 2.
 */
export function energyDistance(x: Tensor, y: Tensor): number {
  const { a, b, n, m, d } = points('energyDistance', x, y);
  const within = (p: Float64Array, count: number) => {
    let s = 0;
    for (let i = 0; i < count; i++) for (let j = i + 1; j < count; j++) s += Math.sqrt(sqDist(p, i, p, j, d));
    return (2 * s) / (count * (count - 1));
  };
  let cross = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) cross += Math.sqrt(sqDist(a, i, b, j, d));
  return (2 * cross) / (n * m) - within(a, n) - within(b, m);
}

/**
 * The floor a model's metric should be read against: the metric between two independent samples of the data itself
 * (`sample(n)` is called twice). No model can be expected to beat it with n samples.
 */
export function dataFloor(sample: (n: number) => Tensor, n: number, metric: (x: Tensor, y: Tensor) => number = wasserstein2): number {
  return T.tidy(() => metric(sample(n), sample(n)));
}
