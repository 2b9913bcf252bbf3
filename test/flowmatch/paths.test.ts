// Gaussian probability paths (GaussianPath, linear, cosine, vp, SCHEDULERS) against schedules written out by hand.
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { GaussianPath, SCHEDULERS, cosine, linear, vp, type Scheduler } from '@rill/flowmatch';
import { expectClose } from '../helpers/close.js';
import { randomValues, testRandom } from '../helpers/reference.js';

/** The schedules written out independently: α, β, α̇, β̇ (vp with b_min = 0.1, b_max = 20). */
const HALF_PI = Math.PI / 2;
const vpAlpha = (t: number) => Math.exp(-0.5 * ((1 - t) * 0.1 + 0.5 * (1 - t) ** 2 * 19.9));
const vpDAlpha = (t: number) => vpAlpha(t) * 0.5 * (0.1 + 19.9 * (1 - t)); // d/dt of −½B(1 − t) is ½ b(1 − t)
const REF: Record<string, { alpha: (t: number) => number; beta: (t: number) => number; dAlpha: (t: number) => number; dBeta: (t: number) => number }> = {
  linear: { alpha: (t) => t, beta: (t) => 1 - t, dAlpha: () => 1, dBeta: () => -1 },
  'linear(0.1)': { alpha: (t) => t, beta: (t) => 1 - 0.9 * t, dAlpha: () => 1, dBeta: () => -0.9 },
  cosine: {
    alpha: (t) => Math.sin(HALF_PI * t),
    beta: (t) => Math.cos(HALF_PI * t),
    dAlpha: (t) => HALF_PI * Math.cos(HALF_PI * t),
    dBeta: (t) => -HALF_PI * Math.sin(HALF_PI * t),
  },
  vp: {
    alpha: vpAlpha,
    beta: (t) => Math.sqrt(1 - vpAlpha(t) ** 2),
    dAlpha: vpDAlpha,
    dBeta: (t) => (-vpAlpha(t) * vpDAlpha(t)) / Math.sqrt(1 - vpAlpha(t) ** 2), // β² = 1 − α² ⇒ ββ̇ = −αα̇
  },
};
const SCHEDS: [string, Scheduler][] = [
  ['linear', linear()],
  ['linear(0.1)', linear(0.1)],
  ['cosine', cosine()],
  ['vp', vp()],
];

describe('schedulers', () => {
  it('SCHEDULERS holds linear, cosine and vp', () => {
    expect(Object.keys(SCHEDULERS).sort()).toEqual(['cosine', 'linear', 'vp']);
    expect(SCHEDULERS.linear(0.2).beta(1)).toBeCloseTo(0.2, 15);
    expect(SCHEDULERS.cosine().alpha(1)).toBeCloseTo(1, 15);
    expect(SCHEDULERS.vp().tMax).toBe(1 - 1e-3);
  });

  it.each(SCHEDS)('%s: α̇ and β̇ equal central differences of α and β', (_name, s) => {
    const h = 1e-6;
    for (let t = 0.02; t < Math.min(s.tMax, 0.99); t += 0.0625) {
      for (const [f, df] of [
        [s.alpha, s.dAlpha],
        [s.beta, s.dBeta],
      ] as const) {
        const fd = (f(t + h) - f(t - h)) / (2 * h);
        expect(Math.abs(df(t) - fd), `t = ${t}: ${df(t)} vs ${fd}`).toBeLessThan(1e-7 * Math.max(1, Math.abs(fd)));
      }
    }
  });

  it.each(SCHEDS)('%s: α, β, α̇, β̇ equal their definitions', (name, s) => {
    const ref = REF[name];
    for (let t = 0; t <= s.tMax; t += 0.037) {
      for (const k of ['alpha', 'beta', 'dAlpha', 'dBeta'] as const) {
        expect(Math.abs(s[k](t) - ref[k](t)), `${k}(${t})`).toBeLessThan(1e-12 * Math.max(1, Math.abs(ref[k](t))));
      }
    }
  });

  it('linear and cosine: source any, tMax 1, endpoints α₀ = 0, β₀ = 1, α₁ = 1, β₁ = σ_min', () => {
    for (const [s, b1] of [
      [linear(), 0],
      [linear(0.1), 0.1],
      [cosine(), 0],
    ] as const) {
      expect([s.source, s.tMax]).toEqual(['any', 1]);
      expect([s.alpha(0), s.beta(0), s.alpha(1)]).toEqual([0, 1, 1]);
      expect(Math.abs(s.beta(1) - b1)).toBeLessThan(1e-15);
    }
  });

  it('vp: tMax = 1 − 1e-3 < 1, source normal, α₀ ≈ e^{−5.025}, β̇ blows up near t = 1', () => {
    const s = vp();
    expect(s.tMax).toBe(1 - 1e-3);
    expect(s.tMax).toBeLessThan(1);
    expect(s.source).toBe('normal');
    expect(new GaussianPath(s).source).toBe('normal');
    expect(new GaussianPath(linear()).source).toBe('any');
    expect(s.alpha(0)).toBeCloseTo(Math.exp(-5.025), 14);
    expect(s.alpha(1)).toBe(1);
    expect(s.beta(1)).toBe(0);
    // Near 1: β ≈ √(b_min (1 − t)), α̇ ≈ b_min/2 ⇒ |β̇| ≈ ½ √(b_min / (1 − t)).
    expect(Math.abs(s.dBeta(s.tMax))).toBeGreaterThan(10 * Math.abs(s.dBeta(0.5)));
    expect(Math.abs(s.dBeta(1 - 1e-8))).toBeGreaterThan(1000);
    expect(Number.isFinite(s.dBeta(1))).toBe(false);
    expect(vp({ epsilon: 0.01 }).tMax).toBe(0.99);
  });

  it('bad parameters give a ValueError naming the op', () => {
    for (const bad of [-0.1, 1, 1.5, Number.NaN]) expect(() => linear(bad)).toThrow(/^linear: /);
    expect(() => linear(1)).toThrow(T.ValueError);
    for (const bad of [-1, Number.NaN]) expect(() => new GaussianPath(linear(), bad)).toThrow(/^GaussianPath: /);
  });
});

const B = 6;
const D = 3;
const rng = testRandom(17);
const Z = randomValues(rng, B * D);
const X0 = randomValues(rng, B * D);
const TS = [0, 0.13, 0.5, 0.77, 0.95, 1];
const tensors = (dtype: T.DType = 'float64') => ({
  z: T.tensor(Z, { shape: [B, D], dtype }),
  x0: T.tensor(X0, { shape: [B, D], dtype }),
  t: T.tensor(TS, { shape: [B, 1], dtype }),
});
/** Row-wise f(t_i, z_ij, x0_ij) as a flat list. */
const rowwise = (f: (t: number, z: number, x: number) => number, ts = TS) => Z.map((z, k) => f(ts[Math.floor(k / D)], z, X0[k]));

describe('GaussianPath.sample', () => {
  it('linear, σ_min = 0: u_t = z − x0; x_t = t z + (1 − t) x0 (x0 at t = 0, z at t = 1)', () => {
    const { z, x0, t } = tensors();
    const { xt, ut } = new GaussianPath(linear()).sample({ z, x0, t });
    expectClose(ut.data, rowwise((_t, zz, xx) => zz - xx), { rtol: 1e-15, atol: 1e-15 });
    expectClose(xt.data, rowwise((tt, zz, xx) => tt * zz + (1 - tt) * xx), { rtol: 1e-14, atol: 1e-15 });
    expect(Array.from(xt.data.slice(0, D))).toEqual(X0.slice(0, D));
    expect(Array.from(xt.data.slice((B - 1) * D))).toEqual(Z.slice((B - 1) * D));
    T.dispose([z, x0, t, xt, ut]);
  });

  it.each([0.01, 0.1, 0.5])('linear, σ_min = %f: u_t = z − (1 − σ_min) x0', (sm) => {
    const { z, x0, t } = tensors();
    const { xt, ut } = new GaussianPath(linear(sm)).sample({ z, x0, t });
    expectClose(ut.data, rowwise((_t, zz, xx) => zz - (1 - sm) * xx), { rtol: 1e-14, atol: 1e-15 });
    expectClose(xt.data, rowwise((tt, zz, xx) => tt * zz + (1 - (1 - sm) * tt) * xx), { rtol: 1e-14, atol: 1e-15 });
    T.dispose([z, x0, t, xt, ut]);
  });

  it.each(['cosine', 'vp'] as const)('%s: u_t = α̇ z + β̇ x0 and x_t = α z + β x0 at the sampled t', (name) => {
    const ref = REF[name];
    const s = name === 'cosine' ? cosine() : vp();
    // vp is only sampled in [0, tMax]: its β̇ is infinite at t = 1.
    const ts = TS.map((v) => Math.min(v, s.tMax));
    const z = T.tensor(Z, { shape: [B, D], dtype: 'float64' });
    const x0 = T.tensor(X0, { shape: [B, D], dtype: 'float64' });
    const t = T.tensor(ts, { shape: [B, 1], dtype: 'float64' });
    const { xt, ut } = new GaussianPath(s).sample({ z, x0, t });
    expectClose(ut.data, rowwise((tt, zz, xx) => ref.dAlpha(tt) * zz + ref.dBeta(tt) * xx, ts), { rtol: 1e-12, atol: 1e-12 });
    expectClose(xt.data, rowwise((tt, zz, xx) => ref.alpha(tt) * zz + ref.beta(tt) * xx, ts), { rtol: 1e-12, atol: 1e-12 });
    if (name === 'cosine') {
      expectClose(xt.data.slice(0, D), X0.slice(0, D), { rtol: 0, atol: 1e-15 });
      expectClose(xt.data.slice((B - 1) * D), Z.slice((B - 1) * D), { rtol: 0, atol: 1e-15 });
    }
    T.dispose([z, x0, t, xt, ut]);
  });

  it('float32 inputs give float32 outputs with the same values (to float32 rounding)', () => {
    const { z, x0, t } = tensors('float32');
    const { xt, ut } = new GaussianPath(cosine()).sample({ z, x0, t });
    expect([xt.dtype, ut.dtype]).toEqual(['float32', 'float32']);
    expectClose(ut.data, rowwise((tt, zz, xx) => REF.cosine.dAlpha(tt) * zz + REF.cosine.dBeta(tt) * xx), { rtol: 1e-5, atol: 1e-6 });
    T.dispose([z, x0, t, xt, ut]);
  });

  it('σ > 0 adds noise of standard deviation σ to x_t (not to u_t), and needs a generator', () => {
    const n = 20000;
    const sigma = 0.3;
    const zs = T.zeros([n, 2], { dtype: 'float64' });
    const xs = T.ones([n, 2], { dtype: 'float64' });
    const t = T.full([n, 1], 0.25, { dtype: 'float64' });
    const path = new GaussianPath(linear(), sigma);
    expect(() => path.sample({ z: zs, x0: xs, t })).toThrow(T.ValueError);
    expect(() => path.sample({ z: zs, x0: xs, t })).toThrow(/^GaussianPath\.sample: /);
    const { xt, ut } = path.sample({ z: zs, x0: xs, t }, { generator: new T.Generator(9) });
    const noise = Array.from(xt.data, (v) => v - 0.75); // x_t − (α z + β x0) with z = 0, x0 = 1, t = ¼
    const mean = noise.reduce((s, v) => s + v, 0) / noise.length;
    const std = Math.sqrt(noise.reduce((s, v) => s + (v - mean) ** 2, 0) / noise.length);
    expect(Math.abs(mean)).toBeLessThan((4 * sigma) / Math.sqrt(noise.length));
    expect(Math.abs(std / sigma - 1)).toBeLessThan(4 / Math.sqrt(2 * noise.length));
    expect(Array.from(new Set(ut.data))).toEqual([-1]); // z − x0: the target has no noise
    T.dispose([zs, xs, t, xt, ut]);
  });

  it('shape errors name GaussianPath.sample', () => {
    const path = new GaussianPath(linear());
    const bad: [number[], number[], number[]][] = [
      [[6], [6], [6, 1]],
      [[6, 3], [6, 2], [6, 1]],
      [[6, 3], [6, 3], [6]],
      [[6, 3], [6, 3], [5, 1]],
      [[6, 3], [6, 3], [6, 3]],
    ];
    for (const [zs, xs, ts] of bad) {
      const [z, x0, t] = [T.zeros(zs), T.zeros(xs), T.zeros(ts)];
      expect(() => path.sample({ z, x0, t }), `${zs} ${xs} ${ts}`).toThrow(T.ShapeError);
      expect(() => path.sample({ z, x0, t })).toThrow(/^GaussianPath\.sample: /);
      T.dispose([z, x0, t]);
    }
  });
});

describe('GaussianPath.sampleTimes', () => {
  it.each(SCHEDS)('%s: (B, 1), uniform on [0, tMax]', (_name, s) => {
    const n = 20000;
    const times = new GaussianPath(s).sampleTimes(n, new T.Generator(3), 'float64');
    expect(times.shape).toEqual([n, 1]);
    const v = Array.from(times.data);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(s.tMax);
    expect(Math.max(...v)).toBeGreaterThan(0.999 * s.tMax);
    const mean = v.reduce((a, b) => a + b, 0) / n;
    expect(Math.abs(mean - s.tMax / 2)).toBeLessThan((4 * s.tMax) / Math.sqrt(12 * n));
    times.dispose();
  });
});

describe('GaussianPath.sourceLogProb', () => {
  it.each([
    ['linear', linear(), 0],
    ['linear, σ = 0.1', linear(), 0.1],
    ['linear(σ_min = 0.2), σ = 0.05', linear(0.2), 0.05],
    ['cosine, σ = 0.5', cosine(), 0.5],
    ['vp', vp(), 0],
  ] as const)('%s: log N(x; 0, (β₀² + σ²) I)', (_name, s, sigma) => {
    const beta0 = s.name === 'vp' ? Math.sqrt(1 - Math.exp(-5.025) ** 2) : 1;
    const v = beta0 ** 2 + sigma ** 2;
    const vals = randomValues(testRandom(23), 4 * 3, -3, 3);
    const x = T.tensor(vals, { shape: [4, 3], dtype: 'float64' });
    const out = new GaussianPath(s, sigma).sourceLogProb(x);
    const ref = [0, 1, 2, 3].map((i) => {
      const sq = vals[3 * i] ** 2 + vals[3 * i + 1] ** 2 + vals[3 * i + 2] ** 2;
      return -sq / (2 * v) - 1.5 * Math.log(2 * Math.PI * v);
    });
    expect(out.shape).toEqual([4]);
    expectClose(out.data, ref, { rtol: 1e-13, atol: 1e-13 });
    T.dispose([x, out]);
  });
});
