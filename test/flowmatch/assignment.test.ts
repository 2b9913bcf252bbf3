// The exact linear assignment solver against brute force, an optimality certificate, and its input checks.
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { linearSumAssignment } from '@rill/flowmatch';
import { testRandom } from '../helpers/reference.js';

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, k) => [...p.slice(0, k), n - 1, ...p.slice(k)]));
}

const PERMS = Array.from({ length: 8 }, (_, n) => permutations(n));

/** Σᵢ cost[i, p(i)]. */
const costOf = (cost: ArrayLike<number>, n: number, p: ArrayLike<number>) => Array.from(p).reduce((s, j, i) => s + cost[i * n + j], 0);

/** min over all permutations, by enumeration (Infinity if none is finite). */
const bruteForce = (cost: ArrayLike<number>, n: number) => Math.min(...PERMS[n].map((p) => costOf(cost, n, p)));

function expectPermutation(p: Int32Array, n: number): void {
  expect(p).toBeInstanceOf(Int32Array);
  expect(p.length).toBe(n);
  expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
}

/**
 * True when no exchange of columns along a cycle lowers the cost: Bellman–Ford on the graph whose edge i → k costs
 * cost[i, p(k)] − cost[i, p(i)] (row i takes row k's column) finds no negative cycle. A perfect matching is
 * optimal exactly when its exchange graph has no negative cycle.
 */
function noImprovingCycle(cost: ArrayLike<number>, n: number, p: ArrayLike<number>, tol = 1e-9): boolean {
  const dist = new Float64Array(n); // a virtual source with 0-cost edges to every row
  for (let round = 0; round <= n; round++) {
    let changed = false;
    for (let i = 0; i < n; i++) {
      const base = cost[i * n + p[i]];
      for (let k = 0; k < n; k++) {
        const w = cost[i * n + p[k]] - base;
        if (dist[i] + w < dist[k] - tol) {
          dist[k] = dist[i] + w;
          changed = true;
        }
      }
    }
    if (!changed) return true;
  }
  return false;
}

describe('linearSumAssignment', () => {
  it('n = 0 and n = 1', () => {
    expect(Array.from(linearSumAssignment([], 0))).toEqual([]);
    expect(Array.from(linearSumAssignment([-4], 1))).toEqual([0]);
  });

  it('a 3 × 3 case by hand', () => {
    // Rows: [4 1 3], [2 0 5], [3 2 2]: the optimum 1 + 2 + 2 = 5 is row 0 → col 1, row 1 → col 0, row 2 → col 2.
    expect(Array.from(linearSumAssignment([4, 1, 3, 2, 0, 5, 3, 2, 2], 3))).toEqual([1, 0, 2]);
  });

  it('equals brute force on random small-integer matrices n = 1..7 (many ties, negative costs)', () => {
    const rng = testRandom(1);
    for (let n = 1; n <= 7; n++) {
      for (let trial = 0; trial < (n <= 5 ? 60 : 15); trial++) {
        const range = [2, 5, 100][trial % 3]; // values in [−range, range]: ties are common for small ranges
        const cost = Array.from({ length: n * n }, () => Math.floor(rng() * (2 * range + 1)) - range);
        const p = linearSumAssignment(cost, n);
        expectPermutation(p, n);
        expect(costOf(cost, n, p), `n = ${n}, cost ${cost}`).toBe(bruteForce(cost, n));
      }
    }
  });

  it('equals brute force on constant, rank-one and real-valued matrices', () => {
    const rng = testRandom(2);
    for (let n = 1; n <= 7; n++) {
      const constant = new Array(n * n).fill(3);
      expect(costOf(constant, n, linearSumAssignment(constant, n))).toBe(3 * n);
      // cost[i, j] = aᵢ + bⱼ: every permutation costs the same.
      const a = Array.from({ length: n }, () => rng());
      const b = Array.from({ length: n }, () => rng());
      const rankOne = a.flatMap((ai) => b.map((bj) => ai + bj));
      expect(costOf(rankOne, n, linearSumAssignment(rankOne, n))).toBeCloseTo(bruteForce(rankOne, n), 12);
      for (let trial = 0; trial < 10; trial++) {
        const real = Float64Array.from({ length: n * n }, () => (rng() - 0.3) * 1e3);
        expect(costOf(real, n, linearSumAssignment(real, n))).toBeCloseTo(bruteForce(real, n), 9);
      }
    }
  });

  it('Infinity marks forbidden pairs: the optimum avoids them, or an error when no finite assignment exists', () => {
    const rng = testRandom(3);
    let feasible = 0;
    let infeasible = 0;
    for (let n = 1; n <= 6; n++) {
      for (let trial = 0; trial < 40; trial++) {
        const cost = Array.from({ length: n * n }, () => (rng() < 0.45 ? Infinity : Math.floor(rng() * 10)));
        const best = bruteForce(cost, n);
        if (Number.isFinite(best)) {
          feasible++;
          expect(costOf(cost, n, linearSumAssignment(cost, n))).toBe(best);
        } else {
          infeasible++;
          expect(() => linearSumAssignment(cost, n)).toThrow(/linearSumAssignment: no assignment with a finite cost exists/);
        }
      }
    }
    expect(feasible).toBeGreaterThan(20);
    expect(infeasible).toBeGreaterThan(20);
  });

  it('rejects a cost of the wrong size, NaN and −∞ entries, and rows or columns with only +∞ (ValueErrors naming the op)', () => {
    expect(() => linearSumAssignment([1, 2, 3], 2)).toThrow(T.ValueError);
    expect(() => linearSumAssignment([1, 2, 3], 2)).toThrow('linearSumAssignment: cost has 3 entries, expected 2×2');
    expect(() => linearSumAssignment(new Float64Array(9), 2)).toThrow(/^linearSumAssignment: /);
    expect(() => linearSumAssignment([], -2)).toThrow('linearSumAssignment: n must be a non-negative integer, got -2');
    expect(() => linearSumAssignment([1, NaN, 2, 3], 2)).toThrow('linearSumAssignment: cost[0, 1] is NaN');
    expect(() => linearSumAssignment([1, 2, -Infinity, 3], 2)).toThrow('linearSumAssignment: cost[1, 0] is -Infinity');
    expect(() => linearSumAssignment([1, 2, Infinity, Infinity], 2)).toThrow(/no assignment with a finite cost exists/);
    expect(() => linearSumAssignment([Infinity, Infinity, 1, 2], 2)).toThrow(/no assignment with a finite cost exists/);
    expect(() => linearSumAssignment([1, Infinity, 2, 3, Infinity, 4, 5, Infinity, 6], 3)).toThrow(/no assignment with a finite cost exists/);
  });

  it('a 300-point Euclidean instance: no improving exchange cycle, and no worse than identity or greedy', () => {
    const rng = testRandom(4);
    const n = 300;
    const pa = Array.from({ length: n }, () => [rng() * 4 - 2, rng() * 4 - 2]);
    const pb = Array.from({ length: n }, () => [rng() * 4 - 1, rng() * 2 - 1]);
    const cost = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) cost[i * n + j] = (pa[i][0] - pb[j][0]) ** 2 + (pa[i][1] - pb[j][1]) ** 2;
    const p = linearSumAssignment(cost, n);
    expectPermutation(p, n);
    const total = costOf(cost, n, p);
    expect(total).toBeLessThanOrEqual(costOf(cost, n, Array.from({ length: n }, (_, i) => i)));
    // Greedy: repeatedly take the cheapest remaining (row, column) pair.
    const pairs = Array.from({ length: n * n }, (_, k) => k).sort((a, b) => cost[a] - cost[b]);
    const greedy = new Int32Array(n).fill(-1);
    const taken = new Uint8Array(n);
    for (const k of pairs) {
      const [i, j] = [Math.floor(k / n), k % n];
      if (greedy[i] === -1 && !taken[j]) [greedy[i], taken[j]] = [j, 1];
    }
    expect(total).toBeLessThanOrEqual(costOf(cost, n, greedy));
    expect(noImprovingCycle(cost, n, p)).toBe(true);
    // The certificate is not vacuous: it does find the improving cycle in a non-optimal matching.
    expect(noImprovingCycle(cost, n, greedy)).toBe(false);
  });
});
