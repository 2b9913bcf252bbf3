// Normalizing flows: invertibility, log-determinants against the full Jacobian, a density that integrates to 1,
// training that lowers the NLL, and checkpoints that resume bit for bit.
import { describe, expect, it } from 'vitest';
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import * as F from '@rill/flowmatch';
import { expectClose } from '../helpers/close.js';

/** Random weights everywhere (a fresh coupling is the identity: its last layer starts at zero). */
function randomize(m: { parameters(): A.Var[] }, seed: number, scale = 0.5): void {
  const g = new T.Generator(seed);
  for (const p of m.parameters()) p.assign(T.keep(T.randn([...p.shape], { std: scale, generator: g, dtype: p.dtype })));
}

const f64 = { dtype: 'float64' as const };

describe('invertibility: inverse(forward(u)) = u', () => {
  const layers: [string, () => F.FlowLayer, number][] = [
    ['AffineCoupling, D = 2', () => new F.AffineCoupling(2, [8, 8], 'tanh', { ...f64, generator: new T.Generator(1) }), 2],
    ['AffineCoupling, D = 5 (split 2 | 3)', () => new F.AffineCoupling(5, [7], 'selu', { ...f64, generator: new T.Generator(2) }), 5],
    ['Reverse, D = 3', () => new F.Reverse(3), 3],
    ['ActNorm, D = 3', () => new F.ActNorm(3, f64), 3],
  ];
  it.each(layers)('%s (float64, to 1e-12)', (_name, make, dim) => {
    const layer = make();
    randomize(layer, 3);
    const u = T.randn([17, dim], { generator: new T.Generator(4), dtype: 'float64' });
    const x = layer.forward(u).value;
    expectClose(layer.inverse(x).value.data, u.data, { rtol: 1e-12, atol: 1e-12 });
    // and the other way round
    expectClose(layer.forward(layer.inverse(u)).value.data, u.data, { rtol: 1e-12, atol: 1e-12 });
  });

  it('a whole flow with ActNorm, float32 (to float tolerance) and float64', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const flow = new F.NormalizingFlow({ dim: 2, couplings: 4, hidden: [16, 16], actnorm: true }, { generator: new T.Generator(5), dtype });
      randomize(flow, 6, 0.3);
      const z = T.randn([64, 2], { generator: new T.Generator(7), dtype });
      const back = flow.inverse(flow.forward(z)).value;
      expectClose(back.data, z.data, dtype === 'float64' ? { rtol: 1e-12, atol: 1e-12 } : { rtol: 1e-4, atol: 1e-5 });
    }
  });
});

describe('log-determinants equal log|det J| of the full Jacobian (autograd, float64)', () => {
  const cases: [string, () => { parameters(): A.Var[]; forward(u: A.VarLike): A.Var }, (u: T.Tensor) => number[], number][] = [];
  const coupling = new F.AffineCoupling(3, [6, 6], 'tanh', { ...f64, generator: new T.Generator(8) });
  cases.push(['AffineCoupling, D = 3', () => coupling, (u) => Array.from(coupling.logDetJacobian(u).value.data), 3]);
  const actnorm = new F.ActNorm(2, f64);
  cases.push(['ActNorm', () => actnorm, (u) => Array.from(actnorm.logDetJacobian(u).value.data), 2]);
  const reverse = new F.Reverse(4);
  cases.push(['Reverse, D = 4', () => reverse, (u) => Array.from(reverse.logDetJacobian(u).value.data), 4]);
  const flow = new F.NormalizingFlow({ dim: 2, couplings: 3, hidden: [8], actnorm: true }, { ...f64, generator: new T.Generator(9) });
  cases.push(['NormalizingFlow (3 couplings, ActNorm)', () => flow, (u) => Array.from(flow.forwardWithLogDet(u)[1].value.data), 2]);

  it.each(cases)('%s', (_name, get, logDet, dim) => {
    const layer = get();
    randomize(layer, 10, 0.4);
    const u = T.randn([5, dim], { generator: new T.Generator(11), dtype: 'float64' });
    const claimed = logDet(u);
    for (let r = 0; r < 5; r++) {
      const row = T.slice(u, [r, 0], [r + 1, dim]);
      const J = A.jacobian((v) => layer.forward(v), row); // (1, D, 1, D)
      const m = Array.from({ length: dim }, (_, i) => Array.from({ length: dim }, (_, j) => J.data[i * dim + j]));
      expect(claimed[r]).toBeCloseTo(Math.log(Math.abs(det(m))), 10);
    }
  });
});

describe('the inverse pass gives the same log-determinant as the forward pass', () => {
  it('NormalizingFlow.inverseWithLogDet(x) = forwardWithLogDet(z) at z = φ⁻¹(x) (float64)', () => {
    const flow = new F.NormalizingFlow({ dim: 3, couplings: 3, hidden: [8], actnorm: true }, { ...f64, generator: new T.Generator(15) });
    randomize(flow, 16, 0.4);
    const x = T.randn([9, 3], { generator: new T.Generator(17), dtype: 'float64' });
    const [z, inv] = flow.inverseWithLogDet(x);
    const [back, fwd] = flow.forwardWithLogDet(z);
    expectClose(back.value.data, x.data, { rtol: 1e-12, atol: 1e-12 });
    expectClose(inv.value.data, fwd.value.data, { rtol: 1e-12, atol: 1e-12 });
  });
});

/** Determinant by Gaussian elimination with partial pivoting (float64). */
function det(m: number[][]): number {
  const a = m.map((r) => [...r]);
  let d = 1;
  for (let c = 0; c < a.length; c++) {
    let p = c;
    for (let r = c + 1; r < a.length; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    if (a[p][c] === 0) return 0;
    if (p !== c) [a[p], a[c], d] = [a[c], a[p], -d];
    d *= a[c][c];
    for (let r = c + 1; r < a.length; r++) {
      const f = a[r][c] / a[c][c];
      for (let k = c; k < a.length; k++) a[r][k] -= f * a[c][k];
    }
  }
  return d;
}

describe('the density', () => {
  it('integrates to 1 over a grid in 2D (a random 4-coupling flow; midpoint rule on [−9, 9]², h = 0.03)', () => {
    const flow = new F.NormalizingFlow({ dim: 2, couplings: 4, hidden: [16, 16] }, { generator: new T.Generator(12) });
    randomize(flow, 13, 0.3);
    const n = 600;
    const h = 18 / n;
    let mass = 0;
    for (let i = 0; i < n; i++) {
      // one row of the grid at a time: (n, 2) points
      const pts = new Float32Array(2 * n);
      for (let j = 0; j < n; j++) [pts[2 * j], pts[2 * j + 1]] = [-9 + (i + 0.5) * h, -9 + (j + 0.5) * h];
      mass += T.tidy(() => Array.from(flow.logProb(T.tensor(pts, { shape: [n, 2] })).value.data).reduce((s, lp) => s + Math.exp(lp), 0));
    }
    expect(mass * h * h).toBeCloseTo(1, 2);
  });

  it('logProb of N(0, I) under the identity flow (fresh couplings) is the standard normal density', () => {
    const flow = new F.NormalizingFlow({ dim: 2, couplings: 2, hidden: [4] }, { generator: new T.Generator(14), dtype: 'float64' });
    const x = T.tensor([[0, 0], [1, -2], [3, 0.5]], f64);
    const ref = [[0, 0], [1, -2], [3, 0.5]].map(([a, b]) => -Math.log(2 * Math.PI) - (a * a + b * b) / 2);
    expectClose(flow.logProb(x).value.data, ref, { rtol: 1e-14, atol: 1e-14 });
  });
});

describe('FlowTrainer', () => {
  it('training by maximum likelihood lowers the held-out NLL on moons (400 steps)', () => {
    const trainer = new F.FlowTrainer({ steps: 400, seed: 1 });
    const before = trainer.validationLoss();
    for (let i = 0; i < 400; i++) trainer.trainStep();
    const after = trainer.validationLoss();
    expect(after).toBeLessThan(before - 0.5);
    const samples = trainer.model.sample(500, new T.Generator(2));
    expect(samples.shape).toEqual([500, 2]);
    expect(Array.from(samples.data).every(Number.isFinite)).toBe(true);
  });

  it('the same seed gives the same losses; a checkpoint (kind flow) resumes bit for bit', () => {
    const run = (steps: number, from?: F.Checkpoint) => {
      const t = from ? F.FlowTrainer.fromCheckpoint(from) : new F.FlowTrainer({ steps: 20, batch: 64, couplings: 2, hidden: [8], actnorm: true, seed: 3 });
      while (t.step < steps) t.trainStep();
      return t;
    };
    const whole = run(20);
    const half = run(10);
    const ckpt = F.decodeCheckpoint(F.encodeCheckpoint(half.checkpoint()));
    expect(ckpt.kind).toBe('flow');
    const resumed = run(20, ckpt);
    expect(resumed.losses).toEqual(whole.losses);
    const names = Object.keys(F.stateDict(whole.model));
    for (const n of names) expect(Array.from(F.stateDict(resumed.model)[n].data)).toEqual(Array.from(F.stateDict(whole.model)[n].data));
    expect(() => F.Trainer.fromCheckpoint(ckpt)).toThrow(/holds a 'flow' model, not a flow-matching \(cfm\) one/);
    expect(() => F.FlowTrainer.fromCheckpoint(F.decodeCheckpoint(F.encodeCheckpoint(new F.Trainer({ steps: 1 }).checkpoint())))).toThrow(/holds a 'cfm' model, not a normalizing flow/);
  });

  it('bad configs name the field', () => {
    expect(() => new F.FlowTrainer({ couplings: 0 })).toThrow(/^config: couplings must be a positive integer/);
    expect(() => new F.FlowTrainer({ data: 'nope' as F.DatasetName })).toThrow(/^config: data 'nope' is not a dataset/);
    expect(() => new F.FlowTrainer({ hidden: [0] })).toThrow(/^config: hidden must be positive integers/);
    expect(() => new F.FlowTrainer({ data: 'custom' })).toThrow(/^config: data is custom but no points were given/);
    expect(() => new F.FlowTrainer({ data: 'custom' }, { data: T.zeros([0, 2]) })).toThrow(/^config: data points must be \(n ≥ 1, 2\), got \[0,2\]/);
    expect(() => new F.FlowTrainer({ data: 'custom' }, { data: T.tensor([[0, NaN]]) })).toThrow(/^config: data points contain NaN or ±∞/);
  });
});
