// The exact marginal velocity (formula (∗)) of a finite dataset and of an isotropic mixture: against Gaussian closed
// forms, against the continuity equation ∂p/∂t + ∇·(p u) = 0 by finite differences of densities written here, and
// its trajectories ending on training points (memorisation).
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import * as F from '@rill/flowmatch';
import { gaussianTruth } from '../helpers/gaussian.js';
import { expectClose } from '../helpers/close.js';

const f64 = (rows: number[][]) => T.tensor(rows, { dtype: 'float64' });
const POINTS = [[0.3, -0.2], [1.7, 0.9], [-1.2, 1.4], [2.5, -1.1]];
const MIX: F.IsotropicMixture = { weights: [0.5, 0.3, 0.2], means: [[-2, 0], [2, 0.5], [0, 2]], stds: [0.5, 0.3, 0.8] };

/** p_t(x) of the t-marginal, written out: a mixture of N(α m, c I) in 2-D. */
function density(path: F.GaussianPath, t: number, x: number[], comps: { w: number; m: number[]; tau: number }[]): number {
  const sc = path.scheduler;
  const [a, b] = [sc.alpha(t), sc.beta(t)];
  let p = 0;
  for (const { w, m, tau } of comps) {
    const c = a * a * tau * tau + b * b + path.sigma * path.sigma;
    const d2 = (x[0] - a * m[0]) ** 2 + (x[1] - a * m[1]) ** 2;
    p += (w * Math.exp(-d2 / (2 * c))) / (2 * Math.PI * c);
  }
  return p;
}
const empiricalComps = POINTS.map((m) => ({ w: 1 / POINTS.length, m, tau: 0 }));
const mixtureComps = MIX.means.map((m, k) => ({ w: MIX.weights![k], m, tau: (MIX.stds as number[])[k] }));

/** ∂p/∂t + ∇·(p u) at x by central differences (h = 1e-4), relative to the size of ∂p/∂t. */
function continuityResidual(field: F.Field, path: F.GaussianPath, comps: typeof mixtureComps, t: number, x: number[]) {
  const h = 1e-4;
  const pu = (y: number[]) => {
    const u = field(f64([y]), t).data;
    const p = density(path, t, y, comps);
    return [p * u[0], p * u[1]];
  };
  const dpdt = (density(path, t + h, x, comps) - density(path, t - h, x, comps)) / (2 * h);
  const div = (pu([x[0] + h, x[1]])[0] - pu([x[0] - h, x[1]])[0] + pu([x[0], x[1] + h])[1] - pu([x[0], x[1] - h])[1]) / (2 * h);
  return { residual: Math.abs(dpdt + div), scale: Math.abs(dpdt) + Math.abs(div) };
}

describe('marginalVelocity', () => {
  it('one isotropic component equals the Gaussian closed form (linear, cosine, I-CFM σ = 0.2)', () => {
    for (const path of [new F.GaussianPath(F.linear()), new F.GaussianPath(F.cosine()), new F.GaussianPath(F.linear(), 0.2)]) {
      const field = F.marginalVelocity({ means: [[1, -0.5]], stds: 0.7 }, path);
      for (const t of [0, 0.3, 0.8, 0.99]) {
        const sc = path.scheduler;
        const c = { a: sc.alpha(t), b: sc.beta(t), sigma: path.sigma, da: sc.dAlpha(t), db: sc.dBeta(t) };
        const xs = [[0, 0], [2, 1], [-1, -2]];
        const want = xs.flatMap((x) => gaussianTruth([1, -0.5], [0.49, 0, 0, 0.49], c, x).velocity);
        expectClose(field(f64(xs), t).data, want, { rtol: 1e-10, atol: 1e-10 });
      }
    }
  });

  for (const [name, data, comps] of [['a finite dataset', f64(POINTS), empiricalComps], ['a 3-component mixture', MIX, mixtureComps]] as const) {
    for (const [pathName, path] of [['linear', new F.GaussianPath(F.linear())], ['cosine', new F.GaussianPath(F.cosine())], ['I-CFM σ = 0.3', new F.GaussianPath(F.linear(), 0.3)]] as const) {
      it(`${name}, ${pathName}: satisfies the continuity equation ∂p/∂t + ∇·(p u) = 0 (finite differences, 60 points and times)`, () => {
        const field = F.marginalVelocity(data, path);
        const rng = new T.Generator(3);
        for (let i = 0; i < 60; i++) {
          const t = 0.05 + 0.85 * rng.uniform();
          const x = [4 * rng.uniform() - 2, 4 * rng.uniform() - 1.5];
          const { residual, scale } = continuityResidual(field, path, comps, t, x);
          expect(residual, `t = ${t}, x = ${x}`).toBeLessThan(1e-4 * scale + 1e-9); // a 1 % error in u gives ~1e-2
        }
      });
    }
  }

  it('carries noise onto the training points: trajectories of the exact field of a finite dataset end on them', () => {
    const path = new F.GaussianPath(F.linear());
    const field = F.marginalVelocity(f64(POINTS), path);
    const x0 = T.randn([200, 2], { generator: new T.Generator(4), dtype: 'float64' });
    const { x } = F.solve(field, x0, { method: 'dopri5', t1: 1 - 1e-4, rtol: 1e-7, atol: 1e-7 });
    for (let i = 0; i < 200; i++) {
      const nearest = Math.min(...POINTS.map((p) => Math.hypot(x.data[2 * i] - p[0], x.data[2 * i + 1] - p[1])));
      expect(nearest).toBeLessThan(1e-3);
    }
  });

  it('refuses t = 1, mismatched widths and malformed mixtures', () => {
    const path = new F.GaussianPath(F.linear());
    expect(() => F.marginalVelocity(f64(POINTS), path)(f64([[0, 0]]), 1)).toThrow(/singular at t = 1/);
    expect(() => F.marginalVelocity(f64(POINTS), path)(f64([[0, 0, 0]]), 0.5)).toThrow(/x is \(B, 3\) but the data are \(N, 2\)/);
    expect(() => F.marginalVelocity({ means: [[0, 0], [1]], stds: 1 }, path)).toThrow(/non-empty list of finite vectors of one length/);
    expect(() => F.marginalVelocity({ means: [[0, 0]], stds: [1], weights: [0] }, path)).toThrow(/positive sum/);
  });
});
