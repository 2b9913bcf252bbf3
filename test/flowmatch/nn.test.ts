// Model building blocks: Linear (PyTorch's init), Sequential, the MLP velocity field and its time embeddings, state
// dicts and EMA — against hand-computed values.
import { describe, expect, it } from 'vitest';
import * as A from '@rill/autograd';
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';
import { expectClose } from '../helpers/close.js';

describe('Linear', () => {
  it('computes x·W + b and initialises W, b uniformly within ±1/√fan_in', () => {
    const layer = new F.Linear(16, 3, { generator: new T.Generator(1), dtype: 'float64' });
    const w = Array.from(layer.weight.value.data);
    const b = Array.from(layer.bias.value.data);
    for (const v of [...w, ...b]) expect(Math.abs(v)).toBeLessThan(0.25);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.2); // spread over the whole range, not all tiny
    const x = T.tensor([[1, ...new Array(15).fill(0)]], { dtype: 'float64' });
    expectClose(layer.forward(x).value.data, [0, 1, 2].map((j) => w[j] + b[j]), { rtol: 1e-15 });
    expect(layer.weight.shape).toEqual([16, 3]);
  });
});

describe('MLP', () => {
  it('has the reference recipe’s shape and parameter count: 3→64→64→64→2 is 8 706 parameters', () => {
    const m = new F.MLP({ dim: 2, hidden: [64, 64, 64] });
    expect(m.parameterCount).toBe(3 * 64 + 64 + 2 * (64 * 64 + 64) + 64 * 2 + 2);
    expect(m.net.layers.map((l) => (l instanceof F.Linear ? `L${l.inFeatures}x${l.outFeatures}` : (l as F.Activation).name))).toEqual([
      'L3x64', 'selu', 'L64x64', 'selu', 'L64x64', 'selu', 'L64x2',
    ]);
    expect(m.namedParameters().map(([n]) => n)).toEqual([
      'net.0.weight', 'net.0.bias', 'net.2.weight', 'net.2.bias', 'net.4.weight', 'net.4.bias', 'net.6.weight', 'net.6.bias',
    ]);
  });

  it('concatenates raw t to x: forward equals the layers applied by hand to [x, t]', () => {
    const m = new F.MLP({ dim: 2, hidden: [4], activation: 'tanh' }, { generator: new T.Generator(2), dtype: 'float64' });
    const [l1, , l2] = m.net.layers as [F.Linear, F.Activation, F.Linear];
    const x = [0.3, -1.2];
    const t = 0.7;
    const W1 = l1.weight.value.data, b1 = l1.bias.value.data, W2 = l2.weight.value.data, b2 = l2.bias.value.data; // prettier-ignore
    const h = [0, 1, 2, 3].map((j) => Math.tanh(x[0] * W1[j] + x[1] * W1[4 + j] + t * W1[8 + j] + b1[j]));
    const ref = [0, 1].map((k) => h.reduce((s, hj, j) => s + hj * W2[j * 2 + k], b2[k]));
    expectClose(m.forward(T.tensor([x], { dtype: 'float64' }), t).value.data, ref, { rtol: 1e-14 });
    // A (B, 1) time tensor gives the same as a number for every row.
    const both = m.forward(T.tensor([x, x], { dtype: 'float64' }), T.tensor([[t], [t]], { dtype: 'float64' })).value.data;
    expectClose(both, [...ref, ...ref], { rtol: 1e-14 });
  });

  it('sinusoidal time features are [sin(2ᵏπt), cos(2ᵏπt)] (t = 0 and t = 1 differ); fourier features are seeded', () => {
    const m = new F.MLP({ dim: 2, hidden: [8], time: { kind: 'sinusoidal', features: 3 } }, { dtype: 'float64' });
    const emb = (t: number) => Array.from((m.embedTime(t, 1, 'float64') as A.Var).value.data);
    const ref = (t: number) => [...[1, 2, 4].map((k) => Math.sin(k * Math.PI * t)), ...[1, 2, 4].map((k) => Math.cos(k * Math.PI * t))];
    expectClose(emb(0.1), ref(0.1), { rtol: 1e-14, atol: 1e-15 });
    expect(emb(1)[3]).toBeCloseTo(-1, 12); // cos(π) = −1 at t = 1, +1 at t = 0
    expect(emb(0)[3]).toBe(1);
    expect((m.net.layers[0] as F.Linear).inFeatures).toBe(2 + 6);
    const f1 = new F.MLP({ dim: 2, hidden: [8], time: { kind: 'fourier', features: 4 } }, { generator: new T.Generator(5) });
    const f2 = new F.MLP({ dim: 2, hidden: [8], time: { kind: 'fourier', features: 4 } }, { generator: new T.Generator(5) });
    expect(f1.frequencies).toEqual(f2.frequencies);
    expect(f1.frequencies).toHaveLength(4);
  });

  it('Fourier frequencies travel with the state dict, so a rebuilt model (EMA copy, checkpoint) computes the same', () => {
    const a = new F.MLP({ dim: 2, hidden: [8], time: { kind: 'fourier', features: 3 } }, { generator: new T.Generator(7) });
    const b = new F.MLP({ dim: 2, hidden: [8], time: { kind: 'fourier', features: 3 } }, { generator: new T.Generator(0) });
    expect(b.frequencies).not.toEqual(a.frequencies);
    b.loadStateDict(a.stateDict());
    expect(b.frequencies).toEqual(a.frequencies);
    const x = T.randn([4, 2]);
    expect(Array.from(b.forward(x, 0.3).value.data)).toEqual(Array.from(a.forward(x, 0.3).value.data));
    const tr = new F.Trainer({ hidden: [8], batch: 16, seed: 7, ema: 0.5, time: { kind: 'fourier', features: 3 } });
    tr.trainStep();
    const ckpt = F.decodeCheckpoint(F.encodeCheckpoint(tr.checkpoint()));
    for (const m of [tr.samplingModel(), F.modelFromCheckpoint(ckpt, { ema: true }), F.modelFromCheckpoint(ckpt)]) {
      expect(m.frequencies).toEqual(tr.model.frequencies);
    }
  });

  it('refuses bad configs and inputs with errors naming the MLP', () => {
    expect(() => new F.MLP({ dim: 0, hidden: [4] })).toThrow(/MLP: dim must be a positive integer/);
    expect(() => new F.MLP({ dim: 2, hidden: [4, 0] })).toThrow(/MLP: hidden widths must be positive integers/);
    expect(() => new F.MLP({ dim: 2, hidden: [4], activation: 'swish' as F.ActivationName })).toThrow(/Activation: unknown activation 'swish'/);
    expect(() => new F.MLP({ dim: 2, hidden: [4] }).forward(T.zeros([5, 3]), 0.5)).toThrow('MLP: expects x of shape (B, 2), got [5,3]');
  });
});

describe('state dicts and EMA', () => {
  it('stateDict / loadStateDict copy parameters between models; mismatches are refused', () => {
    const a = new F.MLP({ dim: 2, hidden: [5] }, { generator: new T.Generator(1) });
    const b = new F.MLP({ dim: 2, hidden: [5] }, { generator: new T.Generator(2) });
    b.loadStateDict(a.stateDict());
    const x = T.randn([4, 2]);
    expect(Array.from(b.forward(x, 0.3).value.data)).toEqual(Array.from(a.forward(x, 0.3).value.data));
    expect(() => F.loadStateDict(new F.MLP({ dim: 2, hidden: [6] }), F.stateDict(a))).toThrow(/loadStateDict: net.0.weight is float32\[3,5\] but the model has float32\[3,6\]/);
    expect(() => F.loadStateDict(a, {})).toThrow(/loadStateDict: parameter names differ/);
  });

  it('EMA: shadow ← d·shadow + (1 − d)·θ after each update (hand-computed over three updates)', () => {
    const lin = new F.Linear(1, 1, { dtype: 'float64' });
    lin.weight.assign(T.tensor([[1]], { dtype: 'float64' }));
    lin.bias.assign(T.tensor([0], { dtype: 'float64' }));
    const ema = new F.EMA(lin, 0.5);
    for (const w of [3, 5, 9]) {
      lin.weight.assign(T.tensor([[w]], { dtype: 'float64' }));
      ema.update();
    }
    // 1 → 0.5·1 + 0.5·3 = 2 → 0.5·2 + 0.5·5 = 3.5 → 0.5·3.5 + 0.5·9 = 6.25
    expect(ema.shadow.get('weight')!.item()).toBe(6.25);
    const copy = new F.Linear(1, 1, { dtype: 'float64' });
    ema.copyTo(copy);
    expect(copy.weight.value.item()).toBe(6.25);
    expect(() => new F.EMA(lin, 1)).toThrow(/EMA: decay must be in \(0, 1\)/);
  });
});
