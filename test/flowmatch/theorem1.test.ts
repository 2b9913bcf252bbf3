// The seed's Theorem 1 checked numerically: on a small dataset the flow-matching loss (against the exact marginal
// field) and the conditional loss differ by a constant across parameter values, and their gradients agree within
// Monte Carlo error. Common random numbers (the same t, z, x0 for every θ) make the constant visible.
import { describe, expect, it } from 'vitest';
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import * as F from '@rill/flowmatch';

const POINTS = [[0.3, -0.2], [1.7, 0.9], [-1.2, 1.4], [2.5, -1.1]];
const path = new F.GaussianPath(F.linear());
const exact = F.marginalVelocity(T.tensor(POINTS, { dtype: 'float64' }), path);
const TIMES = Array.from({ length: 40 }, (_, k) => 0.01 + (0.93 * k) / 39); // t on a grid, 100 samples each
const PER_TIME = 100;

/** The shared samples: for each t, x_t = t z + (1 − t) x0, the conditional target z − x0 and the exact u_t(x_t). */
function samples() {
  const g = new T.Generator(11);
  return TIMES.map((t) => {
    const z = T.tensor(Array.from({ length: PER_TIME }, () => POINTS[Math.floor(g.uniform() * POINTS.length)]), { dtype: 'float64' });
    const x0 = T.randn([PER_TIME, 2], { generator: g, dtype: 'float64' });
    const xt = T.add(T.mul(z, t), T.mul(x0, 1 - t));
    return { t, xt, conditional: T.sub(z, x0), marginal: exact(xt, t) };
  });
}

/** Both losses and their gradients for a model, over the samples in `groups` batches (for the Monte Carlo spread). */
function lossesAndGrads(model: F.MLP, data: ReturnType<typeof samples>, groups: number) {
  const params = model.parameters();
  const per = data.length / groups;
  const out = { cfm: 0, fm: 0, gradDiffs: [] as number[][], gradFm: new Array<number>(0) };
  const gradOf = (loss: A.Var) => {
    loss.backward();
    const g = params.flatMap((p) => Array.from(p.grad!.data));
    params.forEach((p) => p.zeroGrad());
    return g;
  };
  for (let k = 0; k < groups; k++) {
    const chunk = data.slice(k * per, (k + 1) * per);
    const loss = (target: 'conditional' | 'marginal') =>
      A.mean(A.stack(chunk.map((s) => A.mean(A.sum(A.square(A.sub(model.forward(s.xt, s.t), s[target])), 1)))));
    const cfm = loss('conditional');
    const fm = loss('marginal');
    out.cfm += cfm.value.item() / groups;
    out.fm += fm.value.item() / groups;
    const [gc, gf] = [gradOf(cfm), gradOf(fm)];
    out.gradDiffs.push(gc.map((v, i) => v - gf[i]));
    out.gradFm = out.gradFm.length ? out.gradFm.map((v, i) => v + gf[i] / groups) : gf.map((v) => v / groups);
  }
  return out;
}

describe("Theorem 1: the conditional loss has the marginal loss's gradient", () => {
  it('L_CFM(θ) − L_FM(θ) is the same for 4 different θ (within Monte Carlo error), while the losses themselves differ a lot', () => {
    const data = samples();
    const rows = [1, 2, 3, 4].map((seed) => lossesAndGrads(new F.MLP({ dim: 2, hidden: [16] }, { generator: new T.Generator(seed), dtype: 'float64' }), data, 1));
    const gaps = rows.map((r) => r.cfm - r.fm);
    const fms = rows.map((r) => r.fm);
    const spread = (v: number[]) => Math.max(...v) - Math.min(...v);
    console.log(`L_FM over 4 θ: ${fms.map((v) => v.toFixed(4))}; L_CFM − L_FM: ${gaps.map((v) => v.toFixed(4))}`);
    expect(spread(fms)).toBeGreaterThan(0.05); // the models really differ
    expect(spread(gaps)).toBeLessThan(0.05 * spread(fms)); // and the gap hardly moves
    expect(Math.min(...gaps)).toBeGreaterThan(0); // E‖u(x|z)‖² − E‖u(x)‖² = E‖u(x|z) − u(x)‖² > 0
  });

  it('∇L_CFM = ∇L_FM within 5 standard errors per parameter (10 independent batches), far below the gradient itself', () => {
    const data = samples();
    const model = new F.MLP({ dim: 2, hidden: [16] }, { generator: new T.Generator(5), dtype: 'float64' });
    const { gradDiffs, gradFm } = lossesAndGrads(model, data, 10);
    const n = gradDiffs.length;
    let outside = 0;
    let diffNorm = 0;
    for (let i = 0; i < gradFm.length; i++) {
      const d = gradDiffs.map((g) => g[i]);
      const mean = d.reduce((p, q) => p + q, 0) / n;
      const sd = Math.sqrt(d.reduce((p, q) => p + (q - mean) ** 2, 0) / (n - 1));
      if (Math.abs(mean) > 5 * (sd / Math.sqrt(n)) + 1e-12) outside++;
      diffNorm += mean * mean;
    }
    console.log(`‖mean ∇ difference‖ = ${Math.sqrt(diffNorm).toExponential(2)}, ‖∇L_FM‖ = ${Math.hypot(...gradFm).toExponential(2)}`);
    expect(outside).toBe(0);
    expect(Math.sqrt(diffNorm)).toBeLessThan(0.1 * Math.hypot(...gradFm));
  });
});
