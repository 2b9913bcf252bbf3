// Class-conditional fields and classifier-free guidance: the MLP's class input, the trainer's label dropout, the guided
// field against two separate forward passes combined by hand, and a conditional run's checkpoint resuming exactly.
import { describe, expect, it } from 'vitest';
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import * as F from '@rill/flowmatch';
import { expectClose } from '../helpers/close.js';

const GMM = [[-2, 0], [2, 0], [0, 2 * Math.sqrt(3)]];

describe('a class-conditional MLP', () => {
  it('takes labels 0…K (K the null class), one per row or one for all; an unconditional one takes none', () => {
    const m = new F.MLP({ dim: 2, hidden: [8], classes: 3, classDim: 4 }, { generator: new T.Generator(1) });
    expect(m.classEmbedding!.shape).toEqual([4, 4]);
    expect(m.namedParameters().map(([n]) => n)).toContain('class.embedding');
    const x = T.randn([5, 2], { generator: new T.Generator(2) });
    expect(m.forward(x, 0.5, [0, 1, 2, 3, 0]).shape).toEqual([5, 2]);
    // one label for all rows equals that label repeated; left out, it is the null class
    expect(Array.from(m.forward(x, 0.5, 2).value.data)).toEqual(Array.from(m.forward(x, 0.5, [2, 2, 2, 2, 2]).value.data));
    expect(Array.from(m.forward(x, 0.5).value.data)).toEqual(Array.from(m.forward(x, 0.5, 3).value.data));
    expect(() => m.forward(x, 0.5, 4)).toThrow(/a label must be an integer in \[0, 3\] \(3: the null class\), got 4/);
    expect(() => m.forward(x, 0.5, [0, 1])).toThrow(/needs 5 labels/);
    const plain = new F.MLP({ dim: 2, hidden: [8] }, { generator: new T.Generator(1) });
    expect(() => plain.forward(x, 0.5, 1)).toThrow(/unconditional \(classes = 0\): it takes no labels/);
  });

  it('passes the gradient check through its class embedding (float64)', () => {
    const m = new F.MLP({ dim: 2, hidden: [5], classes: 2, classDim: 3 }, { generator: new T.Generator(3), dtype: 'float64' });
    const x = T.randn([4, 2], { generator: new T.Generator(4), dtype: 'float64' });
    const report = A.gradcheck((e) => {
      const h = A.concat([x, T.full([4, 1], 0.3, { dtype: 'float64' }), A.gather(e, [0, 2, 1, 2])], 1);
      return m.net.forward(h);
    }, [m.classEmbedding!.value], { raise: false });
    expect(report.ok, report.message).toBe(true);
  });
});

describe('guidedField', () => {
  const model = new F.MLP({ dim: 2, hidden: [16, 16], classes: 3 }, { generator: new T.Generator(5) });
  const x = T.randn([7, 2], { generator: new T.Generator(6) });
  const separately = (y: number) => A.noGrad(() => model.forward(x, 0.4, y).value.data);
  it('w = 0 is the null-class field, w = 1 the conditional one (one evaluation each); w = 2.5 is u∅ + w(u_y − u∅) from one batched call', () => {
    const [c, u] = [separately(1), separately(3)];
    const f0 = F.guidedField(model, 1, 0);
    const f1 = F.guidedField(model, 1, 1);
    const f25 = F.guidedField(model, 1, 2.5);
    expect([f0.evaluationsPerCall, f1.evaluationsPerCall, f25.evaluationsPerCall]).toEqual([1, 1, 2]);
    expectClose(f0(x, 0.4).data, u, { rtol: 0, atol: 0 });
    expectClose(f1(x, 0.4).data, c, { rtol: 0, atol: 0 });
    expectClose(f25(x, 0.4).data, Array.from(u, (v, i) => v + 2.5 * (c[i] - v)), { rtol: 1e-5, atol: 1e-6 });
  });
  it('guidedDiffField gives the same velocities on Vars (for the divergence of logProb)', () => {
    for (const w of [0, 1, 2.5]) {
      const diff = F.guidedDiffField(model, 2, w);
      const got = A.noGrad(() => diff(new A.Var(x), 0.4).value.data);
      expectClose(got, F.guidedField(model, 2, w)(x, 0.4).data, { rtol: 1e-6, atol: 1e-7 });
      expect(diff.evaluationsPerCall).toBe(w === 2.5 ? 2 : 1);
    }
  });

  it('refuses an unconditional model, a label out of range and a negative w, saying why', () => {
    expect(() => F.guidedField(new F.MLP({ dim: 2, hidden: [4] }), 0)).toThrow(/unconditional .*--cond class/);
    expect(() => F.guidedField(model, 3)).toThrow(/label must be an integer in \[0, 3\), got 3/);
    expect(() => F.guidedField(model, 0, -1)).toThrow(/finite and ≥ 0/);
  });
});

describe('conditional training', () => {
  it('on gmm, guided samples land in their class: the nearest centre is the requested one for ≥ 97 % at w = 1 and ≥ 99 % at w = 3', () => {
    const trainer = new F.Trainer({ data: 'gmm', classes: 3, steps: 1500, batch: 256, seed: 1 });
    while (trainer.step < 1500) trainer.trainStep();
    const rates = [1, 3].map((w) => {
      let hit = 0;
      for (let k = 0; k < 3; k++) {
        const { x } = F.solve(F.guidedField(trainer.model, k, w), T.randn([300, 2], { generator: new T.Generator(10 + k) }), { method: 'rk4', steps: 40 });
        for (let i = 0; i < 300; i++) {
          const d = GMM.map(([a, b]) => (x.data[2 * i] - a) ** 2 + (x.data[2 * i + 1] - b) ** 2);
          if (d.indexOf(Math.min(...d)) === k) hit++;
        }
      }
      return hit / 900;
    });
    expect(rates[0]).toBeGreaterThan(0.97);
    expect(rates[1]).toBeGreaterThan(0.99);
  }, 60_000);

  it('is deterministic, leaves unconditional runs as they were, and resumes from a checkpoint bit for bit', () => {
    const run = (steps: number, from?: F.Checkpoint) => {
      const t = from ? F.Trainer.fromCheckpoint(from) : new F.Trainer({ data: 'moons', classes: 2, steps: 20, batch: 64, seed: 3 });
      while (t.step < steps) t.trainStep();
      return t;
    };
    const straight = run(20);
    const half = run(10);
    const resumed = run(20, F.decodeCheckpoint(F.encodeCheckpoint(half.checkpoint())));
    expect(resumed.losses).toEqual(straight.losses);
    expect(Array.from((resumed.model as F.MLP).classEmbedding!.value.data)).toEqual(Array.from((straight.model as F.MLP).classEmbedding!.value.data));
    // pUncond = 0 and pUncond = 1 train different fields from the same seed
    const never = new F.Trainer({ data: 'moons', classes: 2, pUncond: 0, steps: 5, batch: 64, seed: 3 });
    const always = new F.Trainer({ data: 'moons', classes: 2, pUncond: 1, steps: 5, batch: 64, seed: 3 });
    for (let i = 0; i < 5; i++) (never.trainStep(), always.trainStep());
    expect(never.losses).not.toEqual(always.losses);
  });

  it('refuses what cannot work, naming the field', () => {
    expect(() => new F.Trainer({ data: 'gmm', classes: 2 })).toThrow(/classes must be 3 for gmm, got 2/);
    expect(() => new F.Trainer({ data: 'swissroll', classes: 2 })).toThrow(/classes must be 0: swissroll has no classes/);
    expect(() => new F.Trainer({ data: 'gmm', classes: 3, coupling: 'ot' })).toThrow(/coupling must be independent for a conditional field/);
    expect(() => new F.Trainer({ data: 'gmm', classes: 3, pUncond: 1.5 })).toThrow(/pUncond must be in \[0, 1\]/);
    const pts = T.randn([10, 2], { generator: new T.Generator(1) });
    expect(() => new F.Trainer({ data: 'custom', classes: 2 }, { data: pts })).toThrow(/no labels were given/);
    expect(() => new F.Trainer({ data: 'custom', classes: 2 }, { data: pts, labels: T.tensor([0, 1, 2, 0, 1, 0, 1, 0, 1, 0], { dtype: 'int32' }) })).toThrow(/labels must be integers in \[0, 2\), got 2/);
  });
});
