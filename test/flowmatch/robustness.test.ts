// Robustness found in review: no leaks, exact trajectory times, dopri5 edge cases, argument checks that name the op,
// and checkpoints whose header or content is damaged yet still parses.
import { describe, expect, it } from 'vitest';
import * as A from '@rill/autograd';
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';

const decay: F.Field = (x, t) => T.mul(x, Math.cos(t)); // dx/dt = cos(t)·x  ⇒  x(t) = x0·e^{sin t}
const x0 = () => T.tensor([[1, -2]], { dtype: 'float64' });

describe('solvers', () => {
  it('fieldOf frees the model’s intermediates even when called outside tidy', () => {
    const mlp = new F.MLP({ dim: 2, hidden: [16, 16] });
    const field = F.fieldOf(mlp);
    const x = T.randn([8, 2]);
    const before = T.memory().numTensors;
    for (let i = 0; i < 10; i++) field(x, 0.5).dispose();
    expect(T.memory().numTensors).toBe(before);
  });

  it('fixed-step solvers hit requested times that are off the grid exactly (the crossing step is split)', () => {
    const r = F.solve(decay, x0(), { method: 'rk4', steps: 4, times: [0.1, 0.6] });
    expect(r.trajectory[0].data[0]).toBeCloseTo(Math.exp(Math.sin(0.1)), 6);
    expect(r.trajectory[1].data[1]).toBeCloseTo(-2 * Math.exp(Math.sin(0.6)), 4); // x(0.5) would be off by 0.15
    expect(r.nfe).toBe(4 * 6); // 4 steps, two of them split
  });

  it('dopri5: a requested time near the start costs few extra evaluations; a tiny interval returns a copy of x0', () => {
    const plain = F.solve(decay, x0(), { method: 'dopri5' }).nfe;
    expect(F.solve(decay, x0(), { method: 'dopri5', times: [1e-9] }).nfe).toBeLessThan(plain * 1.3 + 14);
    const start = x0();
    const tiny = F.solve(decay, start, { method: 'dopri5', t0: 0, t1: 1e-13 });
    expect(tiny.x).not.toBe(start);
    tiny.x.dispose();
    expect(start.isDisposed).toBe(false);
  });

  it('bad calls are ValueErrors naming solve: non-finite times, a model instead of a function, a field returning NaN', () => {
    expect(() => F.solve(decay, x0(), { t1: NaN })).toThrow('solve: t0 and t1 must be finite, got 0, NaN');
    expect(() => F.solve(new F.MLP({ dim: 2, hidden: [4] }) as unknown as F.Field, x0())).toThrow(/solve: the field must be a function .* fieldOf\(model\)/);
    expect(() => F.solve((x) => T.mul(x, NaN), x0(), { method: 'dopri5' })).toThrow(/solve: dopri5's step size fell to .* NaN or ±∞/);
  });
});

describe('likelihood, paths, couplings, optimizers', () => {
  it('logProb takes an MLP directly, refuses an unknown divergence, and uses the path’s t = 0 marginal when given', () => {
    const mlp = new F.MLP({ dim: 2, hidden: [4] }, { dtype: 'float64' });
    const pts = T.tensor([[0.1, 0.2]], { dtype: 'float64' });
    expect(F.logProb(mlp, pts, { steps: 4 }).logProb.shape).toEqual([1]);
    expect(() => F.logProb(mlp, pts, { divergence: 'hutch' as 'exact' })).toThrow("logProb: divergence must be exact or hutchinson, got 'hutch'");
    const zero = (v: A.Var) => A.mul(v, 0); // u = 0: x₀ = x, log p₁(x) = log p₀(x)
    const path = new F.GaussianPath(F.linear(), 0.5);
    const lp = F.logProb(zero, pts, { steps: 2, path }).logProb.item();
    const variance = 1 + 0.25;
    expect(lp).toBeCloseTo(-(0.01 + 0.04) / (2 * variance) - Math.log(2 * Math.PI * variance), 12);
  });

  it('GaussianPath.sample refuses t outside [0, tMax]; vp and σ settings are checked', () => {
    const p = new F.GaussianPath(F.vp());
    const z = T.zeros([1, 2]);
    expect(() => p.sample({ z, x0: z, t: T.ones([1, 1]) })).toThrow(/GaussianPath.sample: t must lie in \[0, 0\.999\] for the vp path, got 1/);
    expect(() => F.vp({ epsilon: 0 })).toThrow(/vp: epsilon must be in \(0, 1\)/);
    expect(() => F.vp({ betaMin: 5, betaMax: 1 })).toThrow(/vp: needs 0 < betaMin ≤ betaMax/);
    expect(() => new F.GaussianPath(F.linear(), Infinity)).toThrow(/GaussianPath: sigma must be finite/);
  });

  it('couple refuses NaN points; optimizers and schedules refuse meaningless settings', () => {
    const bad = T.tensor([[NaN, 0], [1, 1]]);
    for (const c of ['ot', 'sinkhorn'] as const) expect(() => F.couple(c, { x0: bad, z: T.ones([2, 2]) })).toThrow('couple: x0 or z contains NaN or ±∞');
    const p = new A.Var(T.zeros([2]), { requiresGrad: true });
    expect(() => new F.Adam([p], { lr: 0.1, beta1: 1 })).toThrow('adam: beta1 must be in [0, 1), got 1');
    expect(() => new F.AdamW([p], { lr: 0.1, eps: -1 })).toThrow('adamw: eps must be in [0, Infinity), got -1');
    expect(() => new F.SGD([p], { lr: 0.1, momentum: -0.5 })).toThrow('sgd: momentum must be in [0, 1), got -0.5');
    expect(() => F.clipGradNorm([p], -1)).toThrow('clipGradNorm: maxNorm must be positive, got -1');
    expect(() => F.cosineLr(1, 0)).toThrow('cosineLr: total must be a positive integer, got 0');
  });
});

describe('checkpoints', () => {
  const trainer = () => {
    const tr = new F.Trainer({ hidden: [8], batch: 16, seed: 1, ema: 0.9 });
    tr.trainStep();
    return tr;
  };

  it('taking checkpoints repeatedly does not leak tensors', () => {
    const tr = trainer();
    tr.checkpoint();
    const before = T.memory().numTensors;
    for (let i = 0; i < 5; i++) tr.checkpoint();
    expect(T.memory().numTensors).toBe(before);
  });

  it('a header that parses but does not describe a checkpoint is a CheckpointError', () => {
    const bytes = F.encodeCheckpoint(trainer().checkpoint());
    const headerLength = new DataView(bytes.buffer).getUint32(8, true);
    const json = new TextDecoder().decode(bytes.subarray(12, 12 + headerLength));
    const damaged = json.replace('"kind":"cfm"', '"kind":12345'); // same length, still JSON, no longer a checkpoint
    expect(damaged).not.toBe(json);
    const copy = bytes.slice();
    copy.set(new TextEncoder().encode(damaged.padEnd(headerLength)), 12);
    expect(() => F.decodeCheckpoint(copy, 'x.rill')).toThrow('x.rill: corrupted (the header does not describe a checkpoint)');
  });

  it('resuming refuses checkpoints without RNG state, optimizer slots or EMA tensors', () => {
    const ckpt = trainer().checkpoint();
    expect(() => F.Trainer.fromCheckpoint({ ...ckpt, rng: undefined })).toThrow('checkpoint: has no RNG state, so the run cannot resume exactly');
    const noSlot = Object.fromEntries(Object.entries(ckpt.tensors).filter(([n]) => n !== 'optim.m.0'));
    expect(() => F.Trainer.fromCheckpoint({ ...ckpt, tensors: noSlot })).toThrow(/checkpoint: optimizer slot 'm' has 3 of 4 tensors/);
    const noEma = Object.fromEntries(Object.entries(ckpt.tensors).filter(([n]) => !n.startsWith('ema.')));
    expect(() => F.Trainer.fromCheckpoint({ ...ckpt, tensors: noEma })).toThrow(/checkpoint: the config has EMA but the file holds 0 of 4 EMA tensors/);
  });
});
