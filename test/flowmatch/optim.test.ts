// Optimizers against an independent float64 re-implementation of each update rule, plus clipping and LR schedules.
import { describe, expect, it } from 'vitest';
import * as A from '@rill/autograd';
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';
import { expectClose } from '../helpers/close.js';

/** Five steps of gradients for a 3-element parameter, fixed in advance (not produced by the code under test). */
const GRADS = [
  [0.5, -1.0, 2.0],
  [0.1, 0.3, -0.7],
  [-0.4, 0.2, 0.05],
  [1.5, -0.8, 0.0],
  [0.25, 0.25, -1.25],
];
const START = [1.0, -2.0, 0.5];

/** Runs `opt` on a float64 parameter, feeding the fixed gradients; returns the parameter after each step. */
function run(make: (p: A.Var) => F.Optimizer): number[][] {
  const p = new A.Var(T.tensor(START, { dtype: 'float64' }), { requiresGrad: true });
  const opt = make(p);
  return GRADS.map((g) => {
    p.grad = T.keep(T.tensor(g, { dtype: 'float64' }));
    opt.step();
    opt.zeroGrad();
    return Array.from(p.value.data);
  });
}

/** Adam / AdamW written out elementwise in float64, straight from the papers (Kingma & Ba Alg. 1; Loshchilov & Hutter Alg. 2). */
function adamRef(lr: number, b1: number, b2: number, eps: number, wd: number, decoupled: boolean): number[][] {
  const x = [...START];
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  return GRADS.map((grad, step) => {
    const t = step + 1;
    for (let i = 0; i < 3; i++) {
      let g = grad[i];
      if (!decoupled) g += wd * x[i];
      else x[i] -= lr * wd * x[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const mh = m[i] / (1 - b1 ** t);
      const vh = v[i] / (1 - b2 ** t);
      x[i] -= (lr * mh) / (Math.sqrt(vh) + eps);
    }
    return [...x];
  });
}

describe('optimizers match the update rules computed independently in float64', () => {
  it('Adam (bias correction, eps), with and without L2 weight decay', () => {
    const got = run((p) => new F.Adam([p], { lr: 0.1 }));
    got.forEach((x, i) => expectClose(x, adamRef(0.1, 0.9, 0.999, 1e-8, 0, false)[i], { rtol: 1e-13, atol: 1e-15 }));
    const l2 = run((p) => new F.Adam([p], { lr: 0.05, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1 }));
    l2.forEach((x, i) => expectClose(x, adamRef(0.05, 0.8, 0.99, 1e-6, 0.1, false)[i], { rtol: 1e-13, atol: 1e-15 }));
  });

  it('AdamW decouples weight decay (θ ← θ − lr·λ·θ before the Adam step)', () => {
    const got = run((p) => new F.AdamW([p], { lr: 0.1, weightDecay: 0.2 }));
    got.forEach((x, i) => expectClose(x, adamRef(0.1, 0.9, 0.999, 1e-8, 0.2, true)[i], { rtol: 1e-13, atol: 1e-15 }));
  });

  it('the first Adam step moves every coordinate by lr·sign(g) (bias correction makes m̂/√v̂ = g/|g|)', () => {
    const [first] = run((p) => new F.Adam([p], { lr: 0.1, eps: 0 }));
    expectClose(first, [1.0 - 0.1, -2.0 + 0.1, 0.5 - 0.1], { rtol: 1e-14 });
  });

  it('SGD with momentum: b ← μb + g; θ ← θ − lr·b (hand-computed for two steps)', () => {
    const got = run((p) => new F.SGD([p], { lr: 0.5, momentum: 0.9 }));
    // step 1: b = g1, θ = θ0 − 0.5 g1; step 2: b = 0.9 g1 + g2, θ −= 0.5 b.
    const b2 = GRADS[0].map((g, i) => 0.9 * g + GRADS[1][i]);
    const x1 = START.map((v, i) => v - 0.5 * GRADS[0][i]);
    expectClose(got[0], x1, { rtol: 1e-15 });
    expectClose(got[1], x1.map((v, i) => v - 0.5 * b2[i]), { rtol: 1e-15 });
  });

  it('state() / loadState() resume an optimizer exactly', () => {
    const p = new A.Var(T.tensor(START, { dtype: 'float64' }), { requiresGrad: true });
    const opt = new F.Adam([p], { lr: 0.1 });
    for (const g of GRADS.slice(0, 2)) {
      p.grad = T.keep(T.tensor(g, { dtype: 'float64' }));
      opt.step();
    }
    const q = new A.Var(T.clone(p.value), { requiresGrad: true });
    const resumed = new F.Adam([q], { lr: 0.1 });
    resumed.loadState(opt.state());
    expect(resumed.stepCount).toBe(2);
    for (const [o, v] of [[opt, p], [resumed, q]] as const) {
      v.grad = T.keep(T.tensor(GRADS[2], { dtype: 'float64' }));
      o.step();
    }
    expect(Array.from(q.value.data)).toEqual(Array.from(p.value.data));
    expect(() => new F.SGD([q], { lr: 1 }).loadState(opt.state())).toThrow(/loadState: optimizer state is for adam, this is sgd/);
  });

  it('parameters without a gradient are left alone; no tensors leak per step', () => {
    const a = new A.Var(T.tensor([1, 2], { dtype: 'float64' }), { requiresGrad: true });
    const b = new A.Var(T.tensor([3], { dtype: 'float64' }), { requiresGrad: true });
    const opt = new F.AdamW([a, b], { lr: 0.1 });
    a.grad = T.keep(T.tensor([1, 1], { dtype: 'float64' }));
    const before = T.memory().numTensors;
    for (let i = 0; i < 10; i++) opt.step();
    expect(T.memory().numTensors).toBe(before);
    expect(Array.from(b.value.data)).toEqual([3]);
  });
});

describe('clipGradNorm and schedules', () => {
  it('scales all gradients together to the max norm and returns the norm before clipping', () => {
    const a = new A.Var(T.zeros([2], { dtype: 'float64' }), { requiresGrad: true });
    const b = new A.Var(T.zeros([1], { dtype: 'float64' }), { requiresGrad: true });
    a.grad = T.keep(T.tensor([3, 0], { dtype: 'float64' }));
    b.grad = T.keep(T.tensor([4], { dtype: 'float64' }));
    expect(F.clipGradNorm([a, b], 1)).toBe(5);
    const k = 1 / (5 + 1e-6);
    expectClose(a.grad!.data, [3 * k, 0], { rtol: 1e-15 });
    expectClose(b.grad!.data, [4 * k], { rtol: 1e-15 });
    expect(F.clipGradNorm([a, b], 10)).toBeCloseTo(5 * k, 12); // now under the limit: unchanged
    expectClose(b.grad!.data, [4 * k], { rtol: 1e-15 });
  });

  it('constant, cosine (from lr to minLr) and linear warm-up', () => {
    expect(F.constantLr(0.3)(1234)).toBe(0.3);
    const cos = F.cosineLr(1, 100, 0.1);
    expect(cos(0)).toBe(1);
    expect(cos(50)).toBeCloseTo(0.55, 15);
    expect(cos(100)).toBeCloseTo(0.1, 15);
    expect(cos(500)).toBeCloseTo(0.1, 15);
    const warm = F.warmupLr(10, F.constantLr(2));
    expect([warm(0), warm(4), warm(9), warm(10)]).toEqual([0.2, 1, 2, 2]);
  });
});
