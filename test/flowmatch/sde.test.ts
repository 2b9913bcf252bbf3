// Euler–Maruyama for the SDE with the flow's marginals: g = 0 is Euler bit for bit; on Gaussian data with the exact
// field, the samples' mean and covariance match the scheme's own exact moments (a linear recursion, computed here
// from the true score) within Monte Carlo error, and those moments approach the data's as the steps grow.
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import * as F from '@rill/flowmatch';
import { gaussianTruth, inv2, type M2 } from '../helpers/gaussian.js';

const MU = [1.5, -0.5];
const SIGMA: M2 = [0.6, 0.25, 0.25, 0.4];
const path = new F.GaussianPath(F.linear());
const coef = (t: number) => ({ a: t, b: 1 - t, sigma: 0, da: 1, db: -1 });

/** The exact velocity field of Gaussian data as an affine map u(x) = U x + u0, U and u0 read off gaussianTruth. */
function affineVelocity(t: number): { U: M2; u0: number[] } {
  const at = (x: number[]) => gaussianTruth(MU, SIGMA, coef(t), x).velocity;
  const u0 = at([0, 0]);
  const [e1, e2] = [at([1, 0]), at([0, 1])];
  return { U: [e1[0] - u0[0], e2[0] - u0[0], e1[1] - u0[1], e2[1] - u0[1]], u0 };
}
const exactField: F.Field = (x, t) => {
  const { U, u0 } = affineVelocity(t);
  return T.tidy(() => T.add(T.matmul(x, T.tensor([[U[0], U[2]], [U[1], U[3]]], { dtype: x.dtype })), T.tensor([u0], { dtype: x.dtype })));
};

/** The Euler–Maruyama scheme's exact mean and covariance after `steps` steps (drift from the true score, not the code's). */
function schemeMoments(g: number, schedule: F.DiffusionSchedule, steps: number) {
  let m = [0, 0];
  let P: M2 = [1, 0, 0, 1];
  for (let k = 0; k < steps; k++) {
    const t = k / steps;
    const h = (k + 1 === steps ? 1 : (k + 1) / steps) - t;
    const gt = schedule === 'constant' ? g : g * Math.sqrt(1 - t);
    const { U, u0 } = affineVelocity(t);
    const tr = gaussianTruth(MU, SIGMA, coef(t), [0, 0]);
    const Ci = inv2(tr.cov);
    const c = (gt * gt) / 2;
    // drift = A x + b with A = U − (g²/2) C⁻¹ and b = u0 + (g²/2) C⁻¹ α μ (score = −C⁻¹ (x − α μ))
    const A: M2 = [U[0] - c * Ci[0], U[1] - c * Ci[1], U[2] - c * Ci[2], U[3] - c * Ci[3]];
    const am = [t * MU[0], t * MU[1]];
    const b = [u0[0] + c * (Ci[0] * am[0] + Ci[1] * am[1]), u0[1] + c * (Ci[2] * am[0] + Ci[3] * am[1])];
    const G: M2 = [1 + h * A[0], h * A[1], h * A[2], 1 + h * A[3]]; // I + hA
    m = [G[0] * m[0] + G[1] * m[1] + h * b[0], G[2] * m[0] + G[3] * m[1] + h * b[1]];
    const GP: M2 = [G[0] * P[0] + G[1] * P[2], G[0] * P[1] + G[1] * P[3], G[2] * P[0] + G[3] * P[2], G[2] * P[1] + G[3] * P[3]];
    P = [GP[0] * G[0] + GP[1] * G[1] + gt * gt * h, GP[0] * G[2] + GP[1] * G[3], GP[2] * G[0] + GP[3] * G[1], GP[2] * G[2] + GP[3] * G[3] + gt * gt * h];
  }
  return { m, P };
}

function sampleMoments(x: T.Tensor) {
  const d = x.data;
  const n = x.shape[0];
  const m = [0, 0];
  for (let i = 0; i < n; i++) (m[0] += d[2 * i] / n), (m[1] += d[2 * i + 1] / n);
  const P = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    const [u, v] = [d[2 * i] - m[0], d[2 * i + 1] - m[1]];
    (P[0] += (u * u) / (n - 1)), (P[1] += (u * v) / (n - 1)), (P[3] += (v * v) / (n - 1));
  }
  P[2] = P[1];
  return { m, P };
}

describe('sdeSolve (Euler–Maruyama)', () => {
  it('with g = 0 equals Euler bit for bit (same grid, same arithmetic), at one evaluation per step', () => {
    const mlp = new F.MLP({ dim: 2, hidden: [16, 16] }, { generator: new T.Generator(1) });
    const field = F.fieldOf(mlp);
    const x0 = T.randn([64, 2], { generator: new T.Generator(2) });
    const sde = F.sdeSolve(field, x0, { path, diffusion: 0, steps: 37 });
    const ode = F.solve(field, x0, { method: 'euler', steps: 37 });
    expect(Array.from(sde.x.data)).toEqual(Array.from(ode.x.data));
    expect(sde.nfe).toBe(37);
  });

  for (const [schedule, g] of [['constant', 1], ['constant', 2], ['vanishing', 1.5]] as const) {
    it(`${schedule} g = ${g}: mean and covariance of 20 000 samples match the scheme's exact moments within 5σ of Monte Carlo; the discretisation bias shrinks with h`, () => {
      const n = 20_000;
      const steps = 200;
      const x0 = T.randn([n, 2], { generator: new T.Generator(7), dtype: 'float64' });
      const { x } = F.sdeSolve(exactField, x0, { path, diffusion: g, schedule, steps, generator: new T.Generator(8) });
      const got = sampleMoments(x);
      const want = schemeMoments(g, schedule, steps);
      for (const i of [0, 1]) expect(Math.abs(got.m[i] - want.m[i])).toBeLessThan(5 * Math.sqrt(want.P[3 * i] / n));
      for (const [i, j] of [[0, 0], [0, 1], [1, 1]]) {
        const se = Math.sqrt((want.P[3 * i] * want.P[3 * j] + want.P[2 * i + j] ** 2) / n);
        expect(Math.abs(got.P[2 * i + j] - want.P[2 * i + j])).toBeLessThan(5 * se);
      }
      // The bias of the scheme itself against the data's μ, Σ: small at 200 steps, and about halved by doubling them.
      const bias = (s: number) => {
        const { m, P } = schemeMoments(g, schedule, s);
        return Math.max(Math.abs(m[0] - MU[0]), Math.abs(m[1] - MU[1]), ...P.map((p, k) => Math.abs(p - SIGMA[k])));
      };
      expect(bias(200)).toBeLessThan(0.06);
      expect(bias(400)).toBeLessThan(0.6 * bias(200));
      expect(bias(4000)).toBeLessThan(0.005);
    });
  }

  it('refuses what it cannot do, saying why', () => {
    const x = T.zeros([2, 2]);
    expect(() => F.sdeSolve(exactField, x, { path, diffusion: 1 })).toThrow(/needs a generator/);
    expect(() => F.sdeSolve(exactField, x, { path, diffusion: -1 })).toThrow(/finite and ≥ 0/);
    expect(() => F.sdeSolve(exactField, x, { path, diffusion: 1, generator: new T.Generator(1), setting: { coupling: 'ot' } })).toThrow(/independent coupling/);
    expect(() => F.sdeSolve(exactField, x, { path, diffusion: 1, schedule: 'linear' as F.DiffusionSchedule, generator: new T.Generator(1) })).toThrow(/unknown diffusion schedule 'linear'/);
  });
});
