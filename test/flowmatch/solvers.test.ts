// The ODE solvers (solve, fieldOf, METHODS) against ODEs with closed-form solutions: orders, NFE, dopri5, errors, memory.
import { describe, expect, it } from 'vitest';
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import { FIXED_STEP, METHODS, MLP, fieldOf, inChunks, solve, type Field, type Method } from '@rill/flowmatch';
import { expectClose } from '../helpers/close.js';
import { erfRef } from '../helpers/reference.js';

type Fixed = (typeof FIXED_STEP)[number];

/** Initial values: a (B, D) = (3, 2) batch, as plain numbers. */
const X0 = [1, -0.5, 2, 0.25, -1.5, 3];
const x0Of = (dtype: T.DType = 'float64') => T.tensor(X0, { shape: [3, 2], dtype });

/** dx/dt = cos(t)·x ⇒ x(t) = x(0)·e^{sin t − sin t_start}. Counts its calls. */
function cosField() {
  const counter = { calls: 0 };
  const f: Field = (x, t) => {
    counter.calls++;
    return T.mul(x, Math.cos(t));
  };
  return { f, counter };
}
const cosExact = (x: readonly number[], from: number, to: number) => x.map((v) => v * Math.exp(Math.sin(to) - Math.sin(from)));

/** Damped rotation, on row vectors: dx/dt = x·Mᵀ, M = [[−λ, −ω], [ω, −λ]] ⇒ x(t) = e^{−λt} R(ωt) x(0). */
const [LAMBDA, OMEGA] = [0.3, 2];
const rotField: Field = (x, _t) => T.matmul(x, T.tensor([-LAMBDA, OMEGA, -OMEGA, -LAMBDA], { shape: [2, 2], dtype: x.dtype }));
function rotExact(x: readonly number[], t: number): number[] {
  const [c, s, d] = [Math.cos(OMEGA * t), Math.sin(OMEGA * t), Math.exp(-LAMBDA * t)];
  const out: number[] = [];
  for (let i = 0; i < x.length; i += 2) out.push(d * (c * x[i] - s * x[i + 1]), d * (s * x[i] + c * x[i + 1]));
  return out;
}

const maxErr = (a: ArrayLike<number>, b: readonly number[]) => Math.max(...b.map((v, i) => Math.abs(a[i] - v)));

/** Final error at t = 1 of a fixed-step method with n steps (float64). */
function finalError(method: Fixed, f: Field, exact: number[], n: number): number {
  const x0 = x0Of();
  const { x } = solve(f, x0, { method, steps: n });
  const e = maxErr(x.data, exact);
  x.dispose();
  x0.dispose();
  return e;
}

const ORDER: Record<Fixed, { evals: number; ratio: number; steps: number[] }> = {
  euler: { evals: 1, ratio: 2, steps: [40, 80, 160] },
  midpoint: { evals: 2, ratio: 4, steps: [20, 40, 80] },
  heun: { evals: 2, ratio: 4, steps: [20, 40, 80] },
  rk4: { evals: 4, ratio: 16, steps: [8, 16, 32] },
};

describe('METHODS', () => {
  it('lists the four fixed-step methods and dopri5', () => {
    expect([...METHODS].sort()).toEqual(['dopri5', 'euler', 'heun', 'midpoint', 'rk4']);
    expect([...FIXED_STEP].sort()).toEqual(['euler', 'heun', 'midpoint', 'rk4']);
  });
});

describe.each(FIXED_STEP)('fixed-step %s', (method) => {
  const { evals, ratio, steps } = ORDER[method];

  it(`halving the step divides the error by ≈ ${ratio} (dx/dt = cos t · x and a damped rotation)`, () => {
    for (const [f, exact] of [
      [cosField().f, cosExact(X0, 0, 1)],
      [rotField, rotExact(X0, 1)],
    ] as const) {
      const errs = steps.map((n) => finalError(method, f, exact, n));
      for (let i = 0; i + 1 < errs.length; i++) {
        const r = errs[i] / errs[i + 1];
        expect(r, `${method}: errors ${errs}`).toBeGreaterThan(ratio * 0.8);
        expect(r, `${method}: errors ${errs}`).toBeLessThan(ratio * 1.25);
      }
    }
  });

  it(`NFE = steps × ${evals}, counted in the field`, () => {
    for (const n of [1, 7, 25]) {
      const { f, counter } = cosField();
      const x0 = x0Of();
      const r = solve(f, x0, { method, steps: n });
      expect(counter.calls).toBe(n * evals);
      expect(r.nfe).toBe(n * evals);
      expect([r.accepted, r.rejected]).toEqual([n, 0]);
      T.dispose([r.x, x0]);
    }
  });

  it('reverse integration (t0 = 1 → t1 = 0) from x(1) returns to x(0); forward then back is the identity', () => {
    const x1 = T.tensor(cosExact(X0, 0, 1), { shape: [3, 2], dtype: 'float64' });
    const back = solve(cosField().f, x1, { method, steps: 400, t0: 1, t1: 0 });
    const tol = { rtol: 0, atol: method === 'euler' ? 5e-2 : 5e-5 };
    expectClose(back.x.data, X0, tol);
    const x0 = x0Of();
    const fwd = solve(rotField, x0, { method, steps: 400 });
    expectClose(fwd.x.data, rotExact(X0, 1), tol);
    const rev = solve(rotField, fwd.x, { method, steps: 400, t0: 1, t1: 0 });
    expectClose(rev.x.data, X0, tol);
    T.dispose([x1, back.x, x0, fwd.x, rev.x]);
  });

  it('`times` returns x at the requested (grid) times, in the order given, forward and reverse', () => {
    const x0 = x0Of();
    const times = [0.5, 0.25, 1, 0, 0.75];
    const r = solve(cosField().f, x0, { method, steps: 200, times });
    const tol = { rtol: 0, atol: method === 'euler' ? 5e-2 : method === 'rk4' ? 1e-8 : 2e-4 };
    expect(r.trajectory).toHaveLength(times.length);
    times.forEach((s, i) => expectClose(r.trajectory[i].data, cosExact(X0, 0, s), tol));
    expect(Array.from(r.trajectory[3].data)).toEqual(X0); // t = t0 is the start itself
    expectClose(r.trajectory[2].data, r.x.data, { rtol: 0, atol: 0 });
    const x1 = T.tensor(rotExact(X0, 1), { shape: [3, 2], dtype: 'float64' });
    const rev = solve(rotField, x1, { method, steps: 200, t0: 1, t1: 0, times: [0.1, 0.9, 0.5] });
    [0.1, 0.9, 0.5].forEach((s, i) => expectClose(rev.trajectory[i].data, rotExact(X0, s), tol));
    T.dispose([x0, r.x, ...r.trajectory, x1, rev.x, ...rev.trajectory]);
  });
});

/** A bump in time (much narrower and dopri5 may step over it unseen, as any adaptive solver can): dx/dt = φ_w(t − ½) (a Gaussian of width w) ⇒ x(t) = x(0) + ½(erf((t − ½)/w) + erf(½/w)). */
const W = 0.1;
const bump: Field = (x, t) => T.full([...x.shape], Math.exp(-(((t - 0.5) / W) ** 2)) / (W * Math.sqrt(Math.PI)), { dtype: x.dtype });
const bumpExact = (x: readonly number[], t: number) => x.map((v) => v + 0.5 * (erfRef((t - 0.5) / W) + erfRef(0.5 / W)));

describe('dopri5', () => {
  it('final error is within a small multiple of the tolerance and shrinks with it; NFE grows', () => {
    const results = [1e-3, 1e-5, 1e-7, 1e-9].map((tol) => {
      const { f, counter } = cosField();
      const x0 = x0Of();
      const r = solve(f, x0, { method: 'dopri5', rtol: tol, atol: tol });
      const exact = cosExact(X0, 0, 1);
      const err = Math.max(...exact.map((v, i) => Math.abs(r.x.data[i] - v) / (tol * (1 + Math.abs(v)))));
      const errAbs = maxErr(r.x.data, exact);
      expect(r.nfe).toBe(counter.calls);
      T.dispose([x0, r.x]);
      return { tol, err, errAbs, nfe: r.nfe };
    });
    for (const { err } of results) expect(err).toBeLessThan(10);
    for (let i = 0; i + 1 < results.length; i++) {
      expect(results[i + 1].errAbs).toBeLessThan(results[i].errAbs);
      expect(results[i + 1].nfe).toBeGreaterThan(results[i].nfe);
    }
  });

  it('reports accepted and rejected steps (a sharp bump forces rejections); NFE = 2 + 6 × steps with FSAL', () => {
    const counter = { calls: 0 };
    const f: Field = (x, t) => (counter.calls++, bump(x, t));
    const x0 = x0Of();
    const r = solve(f, x0, { method: 'dopri5', rtol: 1e-6, atol: 1e-6 });
    expectClose(r.x.data, bumpExact(X0, 1), { rtol: 0, atol: 1e-4 });
    expect(r.accepted).toBeGreaterThan(5);
    expect(r.rejected).toBeGreaterThan(0);
    // k₁ once, one extra evaluation for the initial step size, then 6 new stages per attempted step.
    expect(counter.calls).toBe(2 + 6 * (r.accepted + r.rejected));
    expect(r.nfe).toBe(counter.calls);
    T.dispose([x0, r.x]);
  });

  it('`times` are hit exactly (off any grid), in the order given; reverse integration returns to the start', () => {
    const x0 = x0Of();
    const times = [0.7, 0.1, 0.55, 0, 1, 0.3];
    const r = solve(rotField, x0, { method: 'dopri5', rtol: 1e-8, atol: 1e-8, times });
    times.forEach((s, i) => expectClose(r.trajectory[i].data, rotExact(X0, s), { rtol: 0, atol: 1e-6 }));
    const b = solve(bump, x0, { method: 'dopri5', rtol: 1e-8, atol: 1e-8, times: [0.52, 0.45, 0.5] });
    [0.52, 0.45, 0.5].forEach((s, i) => expectClose(b.trajectory[i].data, bumpExact(X0, s), { rtol: 0, atol: 1e-6 }));
    const rev = solve(cosField().f, r.x, { method: 'dopri5', t0: 1, t1: 0, rtol: 1e-9, atol: 1e-9, times: [0.5] });
    // r.x holds the rotation's x(1); the cosine field maps it back by e^{−sin 1}.
    expectClose(rev.x.data, cosExact(rotExact(X0, 1), 1, 0), { rtol: 0, atol: 1e-7 });
    expectClose(rev.trajectory[0].data, cosExact(rotExact(X0, 1), 1, 0.5), { rtol: 0, atol: 1e-7 });
    T.dispose([x0, r.x, ...r.trajectory, b.x, ...b.trajectory, rev.x, ...rev.trajectory]);
  });
});

describe('dopri5 robustness', () => {
  it('a trial step whose stages leave the field\'s domain (NaN) is rejected and retried smaller', () => {
    // dx/dt = −1.9 √x, x(0) = 1 ⇒ x(t) = (1 − 0.95 t)², positive on [0, 1]; a too-long trial step overshoots below 0,
    // where √x is NaN. SciPy's RK45 (rtol 1e-3, atol 1e-6) rejects such a step and reaches 0.002503 with 122 NFE.
    const seen: number[] = [];
    const f: Field = (x, t) => (seen.push(t), T.mul(T.sqrt(x), -1.9));
    const x0 = T.tensor([1], { shape: [1, 1], dtype: 'float64' });
    let x1 = Number.NaN;
    try {
      const r = solve(f, x0, { method: 'dopri5', rtol: 1e-3, atol: 1e-6, maxSteps: 500 });
      x1 = r.x.data[0];
      r.x.dispose();
    } finally {
      x0.dispose();
    }
    expect(seen.every(Number.isFinite), `field called at t = ${seen.find((t) => !Number.isFinite(t))}`).toBe(true);
    expect(Math.abs(x1 - 0.0025)).toBeLessThan(1e-4);
  });

  it('a field that returns its input (dx/dt = x) does not dispose the caller\'s x0', () => {
    const x0 = x0Of();
    const r = solve((x) => x, x0, { method: 'dopri5', rtol: 1e-8, atol: 1e-8 });
    expectClose(r.x.data, X0.map((v) => v * Math.E), { rtol: 1e-6, atol: 1e-7 });
    expect(x0.isDisposed, 'solve disposed its input x0').toBe(false);
    expect(Array.from(x0.data)).toEqual(X0);
    T.dispose([r.x, x0]);
  });
});

describe('solve: bad inputs give a ValueError naming solve', () => {
  const x0 = x0Of();
  const f = cosField().f;
  const cases: [string, Parameters<typeof solve>[2]][] = [
    ['unknown method', { method: 'leapfrog' as Method }],
    ['steps 0', { method: 'euler', steps: 0 }],
    ['steps −3', { method: 'rk4', steps: -3 }],
    ['steps 2.5', { method: 'heun', steps: 2.5 }],
    ['time after t1', { method: 'rk4', times: [1.5] }],
    ['time before t0', { method: 'dopri5', times: [-0.1] }],
    ['time outside a reverse interval', { method: 'euler', t0: 1, t1: 0.5, times: [0.25] }],
    ['NaN time', { method: 'midpoint', times: [Number.NaN] }],
    ['rtol 0', { method: 'dopri5', rtol: 0 }],
    ['rtol < 0', { method: 'dopri5', rtol: -1e-3 }],
    ['atol < 0', { method: 'dopri5', atol: -1e-6 }],
    ['NaN rtol', { method: 'dopri5', rtol: Number.NaN }],
  ];
  it.each(cases)('%s', (_name, options) => {
    let err: unknown;
    try {
      solve(f, x0, options);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(T.ValueError);
    expect((err as T.ValueError).op).toBe('solve');
    expect((err as Error).message).toMatch(/^solve: /);
  });

  it('dopri5 gives up after maxSteps with a ValueError naming solve', () => {
    expect(() => solve(f, x0, { method: 'dopri5', rtol: 1e-12, atol: 1e-12, maxSteps: 3 })).toThrow(/^solve: .*3 steps/);
  });
});

describe('fieldOf: sampling builds no graph', () => {
  it('a function of Vars becomes a Field with the same values (cos t · x ⇒ e^{sin t})', () => {
    const x0 = x0Of();
    const r = solve(
      fieldOf((x: A.Var, t: number) => A.mul(x, Math.cos(t))),
      x0,
      { method: 'rk4', steps: 50 },
    );
    expect(r.x).toBeInstanceOf(T.Tensor);
    expectClose(r.x.data, cosExact(X0, 0, 1), { rtol: 0, atol: 1e-8 });
    T.dispose([x0, r.x]);
  });

  it.each(METHODS)('%s through fieldOf(MLP): plain Tensor out, no graph recorded, live tensors back to start', (method) => {
    const mlp = new MLP({ dim: 2, hidden: [16, 16] }, { generator: new T.Generator(3) });
    const outputs: A.Var[] = [];
    const spy = { forward: (x: A.TensorArg, t: number) => (outputs.push(mlp.forward(x, t)), outputs[outputs.length - 1]) };
    const x0 = T.randn([8, 2], { generator: new T.Generator(4) });
    const before = T.memory().numTensors;
    const r = solve(fieldOf(spy), x0, { method, steps: 5, times: [0.4] });
    expect(r.x).toBeInstanceOf(T.Tensor);
    expect(r.x).not.toBeInstanceOf(A.Var);
    expect(r.x.shape).toEqual([8, 2]);
    expect(outputs.length).toBe(r.nfe);
    for (const out of outputs) {
      expect(out.isLeaf).toBe(true);
      expect(out.requiresGrad).toBe(false);
    }
    for (const p of mlp.parameters()) expect(p.grad).toBeNull();
    T.dispose([r.x, ...r.trajectory]);
    expect(T.memory().numTensors).toBe(before);
    x0.dispose();
  });
});

describe('inChunks', () => {
  it('evaluating the field in row chunks changes no bit of the samples, for every solver (dopri5 takes the same steps)', () => {
    const g = new T.Generator(11);
    const model = new MLP({ dim: 2, hidden: [32, 32] }, { generator: g });
    const noise = T.randn([1003, 2], { generator: g }); // not a multiple of the chunk or of the kernels' row tiles
    for (const method of METHODS) {
      const options = { method, steps: 7, rtol: 1e-4, atol: 1e-4 };
      const whole = solve(fieldOf(model), noise, options);
      const chunked = solve(inChunks(fieldOf(model), 100), noise, options);
      expect(chunked.nfe, method).toBe(whole.nfe);
      expect(Array.from(chunked.x.data), method).toEqual(Array.from(whole.x.data));
    }
    expect(() => inChunks(fieldOf(model), 0)).toThrow('inChunks: rows must be a positive integer, got 0');
  });
});
