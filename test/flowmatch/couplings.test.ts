// Minibatch couplings (independent, exact OT, Sinkhorn) against brute force and an independent Sinkhorn iteration.
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { couple, sinkhornPlan } from '@rill/flowmatch';
import { randomValues, testRandom } from '../helpers/reference.js';

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, k) => [...p.slice(0, k), n - 1, ...p.slice(k)]));
}

const rowsOf = (t: T.Tensor) => t.toArray() as number[][];
const sq = (a: number[], b: number[]) => a.reduce((s, v, k) => s + (v - b[k]) ** 2, 0);
const key = (r: number[]) => r.join(',');
const randomRows = (rng: () => number, n: number, d: number, lo = -2, hi = 2) => Array.from({ length: n }, () => randomValues(rng, d, lo, hi));

function costMatrix(x: number[][], z: number[][]): Float64Array {
  const n = x.length;
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) c[i * n + j] = sq(x[i], z[j]);
  return c;
}

/** The entropic OT plan by the textbook (non-log) Sinkhorn iteration: K = exp(−C/ε), a = (1/n)/(Kb), b = (1/n)/(Kᵀa). */
function sinkhornRef(c: Float64Array, n: number, eps: number, iterations: number): number[][] {
  const K = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => Math.exp(-c[i * n + j] / eps)));
  let a = new Array<number>(n).fill(1);
  let b = new Array<number>(n).fill(1);
  for (let it = 0; it < iterations; it++) {
    a = K.map((row) => 1 / n / row.reduce((s, k, j) => s + k * b[j], 0));
    b = b.map((_, j) => 1 / n / K.reduce((s, row, i) => s + row[j] * a[i], 0));
  }
  return K.map((row, i) => row.map((k, j) => a[i] * k * b[j]));
}

describe("couple('independent')", () => {
  it('returns the inputs unchanged', () => {
    const x0 = T.tensor([[1, 2], [3, 4], [5, 6]]);
    const z = T.tensor([[0, 0], [9, 9], [-1, 1]]);
    const out = couple('independent', { x0, z });
    expect(out.x0).toBe(x0);
    expect(out.z).toBe(z);
    expect(rowsOf(out.z)).toEqual([[0, 0], [9, 9], [-1, 1]]);
  });
});

describe("couple('ot')", () => {
  it('reorders z to the permutation minimising Σ‖x0ᵢ − zᵢ‖² (brute force, n = 6); x0 stays', () => {
    const rng = testRandom(1);
    const perms = permutations(6);
    for (let trial = 0; trial < 20; trial++) {
      const d = 1 + (trial % 3);
      const x = randomRows(rng, 6, d);
      const zr = randomRows(rng, 6, d, -1, 3);
      const x0 = T.tensor(x, { dtype: 'float64' });
      const out = couple('ot', { x0, z: T.tensor(zr, { dtype: 'float64' }) });
      expect(out.x0).toBe(x0);
      expect(out.z.shape).toEqual([6, d]);
      expect(out.z.dtype).toBe('float64');
      const zOut = rowsOf(out.z);
      expect(zOut.map(key).sort()).toEqual(zr.map(key).sort());
      const best = Math.min(...perms.map((p) => p.reduce((s, j, i) => s + sq(x[i], zr[j]), 0)));
      expect(x.reduce((s, row, i) => s + sq(row, zOut[i]), 0)).toBeCloseTo(best, 12);
    }
  });

  it('a hand case: z already in optimal order is kept, a swapped pair is swapped back', () => {
    const x0 = T.tensor([[0, 0], [10, 0]]);
    expect(rowsOf(couple('ot', { x0, z: T.tensor([[1, 0], [11, 0]]) }).z)).toEqual([[1, 0], [11, 0]]);
    expect(rowsOf(couple('ot', { x0, z: T.tensor([[11, 0], [1, 0]]) }).z)).toEqual([[1, 0], [11, 0]]);
  });
});

describe('sinkhornPlan', () => {
  const rng = testRandom(2);
  const n = 6;
  const x = randomRows(rng, n, 2);
  const z = randomRows(rng, n, 2, -1, 3);
  const c = costMatrix(x, z);
  const meanCost = c.reduce((s, v) => s + v, 0) / (n * n);

  it('has row and column sums 1/n and equals the textbook Sinkhorn fixed point with ε = reg · mean(C)', () => {
    for (const reg of [0.05, 0.2, 1]) {
      const plan = sinkhornPlan(c, n, reg, 500);
      for (let i = 0; i < n; i++) {
        let row = 0;
        let col = 0;
        for (let j = 0; j < n; j++) [row, col] = [row + plan[i * n + j], col + plan[j * n + i]];
        expect(row).toBeCloseTo(1 / n, 10);
        expect(col).toBeCloseTo(1 / n, 10);
      }
      const ref = sinkhornRef(c, n, reg * meanCost, 500).flat();
      ref.forEach((p, k) => expect(plan[k]).toBeCloseTo(p, 10));
    }
  });

  it('the default iterations reach the marginals for a 32-point batch', () => {
    const r = testRandom(3);
    const m = 32;
    const plan = sinkhornPlan(costMatrix(randomRows(r, m, 2), randomRows(r, m, 2, 0, 4)), m, 0.05, 100);
    for (let i = 0; i < m; i++) {
      let row = 0;
      for (let j = 0; j < m; j++) row += plan[i * m + j];
      expect(Math.abs(row * m - 1)).toBeLessThan(1e-3);
    }
  });

  it('approaches the exact OT permutation (divided by n) as reg → 0', () => {
    // z = a shuffled translate of x (points ≈ 2 apart) plus small noise: up to the noise, a matching's cost is
    // Σ‖xᵢ − x_σ(i)‖² + const, so the optimum is unique and every other matching costs ≥ 2·1.9² more.
    const r = testRandom(9);
    const x = [[0, 0], [2, 0], [4, 0], [0, 2], [2, 2], [4, 2]].map((p) => p.map((v) => v + 0.05 * (r() - 0.5)));
    const order = [3, 0, 5, 1, 4, 2];
    const c = costMatrix(x, order.map((i) => x[i].map((v, k) => v + [1, 0.5][k] + 0.05 * (r() - 0.5))));
    // The optimal permutation, by brute force.
    const best = permutations(n).reduce((p, q) => (q.reduce((s, j, i) => s + c[i * n + j], 0) < p.reduce((s, j, i) => s + c[i * n + j], 0) ? q : p));
    const distance = (reg: number, iterations: number) => {
      const plan = sinkhornPlan(c, n, reg, iterations);
      let e = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) e = Math.max(e, Math.abs(n * plan[i * n + j] - (best[i] === j ? 1 : 0)));
      return e;
    };
    const errors = [1, 0.3, 0.1, 0.03].map((reg) => distance(reg, 2000));
    expect(errors[0]).toBeGreaterThan(0.3);
    for (let k = 1; k < errors.length; k++) expect(errors[k]).toBeLessThan(errors[k - 1]);
    expect(errors[3]).toBeLessThan(2e-3);
  });
});

describe("couple('sinkhorn')", () => {
  it('returns n pairs of input rows, deterministic given the generator', () => {
    const rng = testRandom(4);
    const x = randomRows(rng, 8, 3);
    const zr = randomRows(rng, 8, 3, 0, 3);
    const run = (seed: number) => couple('sinkhorn', { x0: T.tensor(x, { dtype: 'float64' }), z: T.tensor(zr, { dtype: 'float64' }) }, { generator: new T.Generator(seed) });
    const a = run(1);
    expect(a.x0.shape).toEqual([8, 3]);
    expect(a.z.shape).toEqual([8, 3]);
    const xKeys = new Set(x.map(key));
    const zKeys = new Set(zr.map(key));
    expect(rowsOf(a.x0).every((r) => xKeys.has(key(r)))).toBe(true);
    expect(rowsOf(a.z).every((r) => zKeys.has(key(r)))).toBe(true);
    const b = run(1);
    expect(rowsOf(b.x0)).toEqual(rowsOf(a.x0));
    expect(rowsOf(b.z)).toEqual(rowsOf(a.z));
    const other = [2, 3, 4].map(run);
    expect(other.some((o) => key(rowsOf(o.x0).flat()) !== key(rowsOf(a.x0).flat()))).toBe(true);
  });

  it('draws pairs (i, j) with probability n · P[i, j] of the entropic plan', () => {
    const rng = testRandom(5);
    const n = 3;
    const x = randomRows(rng, n, 1);
    const zr = randomRows(rng, n, 1);
    const c = costMatrix(x, zr);
    const plan = sinkhornRef(c, n, 0.5 * (c.reduce((s, v) => s + v, 0) / (n * n)), 300).flat();
    const counts = new Array<number>(n * n).fill(0);
    const g = new T.Generator(6);
    const calls = 3000;
    for (let k = 0; k < calls; k++) {
      const out = couple('sinkhorn', { x0: T.tensor(x, { dtype: 'float64' }), z: T.tensor(zr, { dtype: 'float64' }) }, { reg: 0.5, iterations: 300, generator: g });
      const xs = rowsOf(out.x0);
      const zs = rowsOf(out.z);
      xs.forEach((r, s) => counts[x.findIndex((q) => q[0] === r[0]) * n + zr.findIndex((q) => q[0] === zs[s][0])]++);
    }
    const draws = calls * n;
    plan.forEach((p, k) => expect(Math.abs(counts[k] / draws - p), `pair ${k}`).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / draws) + 1e-9));
  });

  it('with a tiny reg every drawn pair is an exact-OT pair', () => {
    const rng = testRandom(7);
    const x = randomRows(rng, 6, 2);
    const zr = randomRows(rng, 6, 2, -1, 3);
    const x0 = T.tensor(x, { dtype: 'float64' });
    const z = T.tensor(zr, { dtype: 'float64' });
    const ot = rowsOf(couple('ot', { x0, z }).z);
    const partner = new Map(x.map((r, i) => [key(r), key(ot[i])]));
    const out = couple('sinkhorn', { x0, z }, { reg: 0.001, iterations: 6000, generator: new T.Generator(8) });
    const zs = rowsOf(out.z);
    rowsOf(out.x0).forEach((r, s) => expect(key(zs[s])).toBe(partner.get(key(r))));
  });
});

describe('couple: errors', () => {
  it('an unknown coupling is a ValueError; mismatched or non-2D shapes are ShapeErrors', () => {
    const a = T.zeros([4, 2]);
    expect(() => couple('nearest' as 'ot', { x0: a, z: a })).toThrow(T.ValueError);
    expect(() => couple('nearest' as 'ot', { x0: a, z: a })).toThrow(/^couple: unknown coupling 'nearest'/);
    for (const name of ['independent', 'ot', 'sinkhorn'] as const) {
      expect(() => couple(name, { x0: a, z: T.zeros([5, 2]) })).toThrow(T.ShapeError);
      expect(() => couple(name, { x0: a, z: T.zeros([4, 3]) })).toThrow(/^couple: /);
      expect(() => couple(name, { x0: T.zeros([4]), z: T.zeros([4]) })).toThrow(T.ShapeError);
    }
  });
});

describe('sinkhorn arguments', () => {
  it('a non-positive or NaN reg, or a bad iteration count, is refused instead of giving a NaN plan', () => {
    const a = T.tensor([[0], [1], [2]]);
    const b = T.tensor([[10], [11], [12]]);
    for (const reg of [0, -0.05, NaN, Infinity]) {
      expect(() => couple('sinkhorn', { x0: a, z: b }, { reg, generator: new T.Generator(1) })).toThrow(`couple: sinkhorn needs a positive, finite reg, got ${reg}`);
    }
    expect(() => couple('sinkhorn', { x0: a, z: b }, { iterations: 0 })).toThrow(/couple: sinkhorn needs a positive integer number of iterations/);
  });
});
