// adamUpdate: the fused wasm kernel equals the composite of elementwise ops bit for bit, and both follow Adam's formulas.
import { afterEach, describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { expectClose } from '../helpers/close.js';
import { randomValues, testRandom } from '../helpers/reference.js';

afterEach(() => T.setBackend('cpu'));

function state(n: number, seed: number, dtype: T.DType = 'float32') {
  const rng = testRandom(seed);
  const make = (lo: number, hi: number) => T.tensor(randomValues(rng, n, lo, hi), { dtype });
  return { p: make(-1, 1), g: make(-0.1, 0.1), m: make(-0.05, 0.05), v: make(0, 0.01) };
}

const HYPERS: [string, T.AdamHyper][] = [
  ['adam, step 1', { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 }],
  ['adam, L2 decay, step 37', { lr: 3e-3, beta1: 0.8, beta2: 0.99, eps: 1e-6, step: 37, weightDecay: 0.1 }],
  ['adamw, step 5', { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 5, weightDecay: 0.01, decoupled: true }],
];

describe('adamUpdate', () => {
  // 4099: whole vectors and a tail of 3 (the kernel's lane-0 path).
  it.each(HYPERS)('%s: wasm (fused) equals the composite on js bit for bit', (_name, h) => {
    T.setBackend('wasm');
    const s = state(4099, 1);
    const fused = T.adamUpdate(s.p, s.g, s.m, s.v, h);
    T.setBackend('js');
    const composite = T.adamUpdate(s.p, s.g, s.m, s.v, h);
    for (const k of ['param', 'm', 'v'] as const) expect(Array.from(fused[k].data)).toEqual(Array.from(composite[k].data));
  });

  it.each(HYPERS)('%s: float64 follows Kingma & Ba, Algorithm 1 (with L2 or decoupled decay)', (_name, h) => {
    const s = state(101, 2, 'float64');
    const out = T.adamUpdate(s.p, s.g, s.m, s.v, h);
    const [p, g0, m0, v0] = [s.p, s.g, s.m, s.v].map((t) => Array.from(t.data));
    const wd = h.weightDecay ?? 0;
    const ref = p.map((theta, i) => {
      const g = g0[i] + (h.decoupled ? 0 : wd * theta);
      const m = h.beta1 * m0[i] + (1 - h.beta1) * g;
      const v = h.beta2 * v0[i] + (1 - h.beta2) * g * g;
      const mHat = m / (1 - h.beta1 ** h.step);
      const vHat = v / (1 - h.beta2 ** h.step);
      const start = h.decoupled ? theta * (1 - h.lr * wd) : theta;
      return [start - (h.lr * mHat) / (Math.sqrt(vHat) + h.eps), m, v];
    });
    expectClose(out.param.data, ref.map((r) => r[0]), { rtol: 1e-14, atol: 1e-16 });
    expectClose(out.m.data, ref.map((r) => r[1]), { rtol: 1e-14, atol: 1e-18 });
    expectClose(out.v.data, ref.map((r) => r[2]), { rtol: 1e-14, atol: 1e-18 });
  });

  it('bad input names the op', () => {
    const s = state(4, 3);
    expect(() => T.adamUpdate(s.p, T.zeros([5]), s.m, s.v, HYPERS[0][1])).toThrow(/^adamUpdate: param, grad, m and v need one shape/);
    expect(() => T.adamUpdate(s.p, s.g, s.m, s.v, { ...HYPERS[0][1], step: 0 })).toThrow(/^adamUpdate: step must be an integer ≥ 1/);
    expect(() => T.adamUpdate(s.p, s.g, s.m, T.zeros([4], { dtype: 'float64' }), HYPERS[0][1])).toThrow(/^adamUpdate: dtypes differ/);
  });
});
