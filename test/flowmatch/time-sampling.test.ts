// Logit-normal time sampling: the normal quantile against published values, and the shaped draws' distribution
// (P(t < σ(a)) = Φ(a)) within 4 standard errors; the Trainer draws from it when asked.
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import * as F from '@rill/flowmatch';

describe('logit-normal time sampling', () => {
  it('probit matches the standard normal quantiles to 1e-8', () => {
    // Φ⁻¹ at 0.5, Φ(1), 0.975, 1e-9 (Abramowitz & Stegun; scipy.stats.norm.ppf)
    for (const [p, x] of [[0.5, 0], [0.8413447460685429, 1], [0.975, 1.959963984540054], [0.025, -1.959963984540054], [1e-9, -5.997807015007686], [1 - 1e-6, 4.753424308822899]]) {
      expect(Math.abs(F.probit(p) - x)).toBeLessThan(1e-8 * Math.max(1, Math.abs(x)));
    }
  });

  it('shapeTimes: t = σ(ξ), ξ ~ N(0, 1): P(t < σ(a)) = Φ(a) within 4 standard errors; uniform draws unchanged', () => {
    const n = 100_000;
    const g = new T.Generator(3);
    const u = Float32Array.from({ length: n }, () => g.uniformFloat32());
    const t = F.shapeTimes(Float32Array.from(u), 'logit-normal');
    expect(t.every((v) => v >= 0 && v < 1)).toBe(true);
    const sigmoid = (a: number) => 1 / (1 + Math.exp(-a));
    for (const [a, phi] of [[-1, 0.15865525393145707], [0, 0.5], [1.5, 0.9331927987311419]]) {
      const frac = t.filter((v) => v < sigmoid(a)).length / n;
      expect(Math.abs(frac - phi)).toBeLessThan(4 * Math.sqrt((phi * (1 - phi)) / n));
    }
    expect(F.shapeTimes(Float32Array.from(u), 'uniform')).toEqual(u);
  });

  it('the Trainer uses it when config.timeSampling says so (other draws, the same run otherwise), and refuses unknown names', () => {
    const a = new F.Trainer({ steps: 3, batch: 32, timeSampling: 'logit-normal' });
    const b = new F.Trainer({ steps: 3, batch: 32 });
    const [la, lb] = [[a.trainStep(), a.trainStep()], [b.trainStep(), b.trainStep()]];
    expect(la).not.toEqual(lb);
    expect(la.every(Number.isFinite)).toBe(true);
    expect(() => F.validateConfig({ ...F.DEFAULT_CONFIG, timeSampling: 'beta' as F.TimeSampling })).toThrow(/timeSampling must be one of uniform, logit-normal, got 'beta'/);
    a.dispose();
    b.dispose();
  });
});
