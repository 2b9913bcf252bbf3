// The Trainer: determinism, bit-for-bit resume through a `.rill` checkpoint, validation loss, config checks, custom data.
import { describe, expect, it } from 'vitest';
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';

const small: Partial<F.TrainConfig> = { hidden: [16, 16], batch: 64, steps: 40, validationSize: 128 };
const params = (tr: F.Trainer) => tr.model.parameters().flatMap((p) => Array.from(p.value.data));

describe('determinism', () => {
  it('the same seed gives the same losses and weights; another seed does not', () => {
    const run = (seed: number) => {
      const tr = new F.Trainer({ ...small, seed });
      for (let i = 0; i < 15; i++) tr.trainStep();
      return { losses: [...tr.losses], weights: params(tr) };
    };
    const a = run(1);
    expect(run(1)).toEqual(a);
    expect(run(2).losses).not.toEqual(a.losses);
  });

  it('the loss is the CFM objective: mean((u_θ(x_t, t) − (z − x0))²) recomputed by hand for one step’s batch', () => {
    const tr = new F.Trainer({ ...small, seed: 4, sigma: 0 });
    const g = new T.Generator(0);
    g.setState(tr.generator.getState()); // replay the step's draws: source, data, then t
    const x0 = T.randn([64, 2], { generator: g });
    const z = F.sampleDataset('moons', 64, { generator: g });
    const t = T.rand([64, 1], { generator: g });
    const xt = T.add(T.mul(t, z), T.mul(T.sub(1, t), x0));
    const expected = T.mean(T.square(T.sub(tr.model.forward(xt, t).value, T.sub(z, x0)))).item();
    expect(tr.trainStep()).toBeCloseTo(expected, 6);
  });
});

describe('trainFor (chunks for a responsive loop)', () => {
  it('runs at least one step per chunk, stops at config.steps, and chunks give the same losses as one run', () => {
    const whole = new F.Trainer({ ...small, seed: 4 });
    while (whole.step < 40) whole.trainStep();
    const chunked = new F.Trainer({ ...small, seed: 4 });
    const chunks: number[][] = [];
    while (chunked.step < 40) chunks.push(chunked.trainFor(chunks.length % 2 === 0 ? 0 : 5));
    expect(chunks[0]).toHaveLength(1); // a zero budget still runs one step
    expect(chunks.flat()).toEqual(whole.losses);
    expect(chunked.step).toBe(40);
    expect(chunked.trainFor(1000)).toHaveLength(1); // past config.steps: one step per call, never a runaway loop
  });
});

describe('asynchronous read-back (Tensor.dataAsync, Trainer.trainStepAsync)', () => {
  it('trainStepAsync gives the same losses and weights as trainStep', async () => {
    const a = new F.Trainer({ ...small, seed: 6 });
    const b = new F.Trainer({ ...small, seed: 6 });
    for (let i = 0; i < 10; i++) a.trainStep();
    for (let i = 0; i < 10; i++) await b.trainStepAsync();
    expect(b.losses).toEqual(a.losses);
    expect(params(b)).toEqual(params(a));
  });

  it('on a backend that can only read back asynchronously, trainStepAsync trains and trainStep cannot', async () => {
    const js = T.createJsBackend(undefined, 'async-only');
    let asyncReads = 0;
    T.registerBackend('async-only', () => ({
      ...js,
      read: () => {
        throw new T.BackendError('async-only', 'this device reads back only asynchronously');
      },
      readAsync: async (storage, dtype, size) => {
        await new Promise((r) => setTimeout(r, 1));
        asyncReads++;
        return js.read(storage, dtype, size);
      },
    }));
    T.setBackend('async-only');
    try {
      const trainer = new F.Trainer({ ...small, seed: 7 });
      const loss = await trainer.trainStepAsync();
      expect(Number.isFinite(loss)).toBe(true);
      expect(asyncReads).toBe(1);
      expect(() => trainer.trainStep()).toThrow(/async-only: this device reads back only asynchronously/);
      const x = T.tensor([1, 2, 3]);
      expect(Array.from(await x.dataAsync())).toEqual([1, 2, 3]);
      await expect(x.itemAsync()).rejects.toThrow(/^itemAsync: needs a tensor with one element/);
    } finally {
      T.setBackend('cpu');
    }
  });

  it('with an OT coupling and gradient clipping, trainStepAsync reads the batch and the norm asynchronously and matches trainStep', async () => {
    const config = { ...small, seed: 8, coupling: 'ot' as const, clipNorm: 0.05 };
    T.setBackend('js');
    const sync = new F.Trainer(config);
    for (let i = 0; i < 6; i++) sync.trainStep();
    const js = T.createJsBackend(undefined, 'async-only-2');
    let asyncReads = 0;
    // As webgpu: a synchronous read works for uploads and for storage read asynchronously before, else it throws.
    const onHost = new WeakSet<object>();
    T.registerBackend('async-only-2', () => ({
      ...js,
      asyncRead: true,
      fromArray: (data) => {
        const storage = js.fromArray(data) as object;
        onHost.add(storage);
        return storage;
      },
      read: (storage, dtype, size) => {
        if (!onHost.has(storage as object)) throw new T.BackendError('async-only-2', 'this device reads back only asynchronously');
        return js.read(storage, dtype, size);
      },
      readAsync: async (storage, dtype, size) => {
        await new Promise((r) => setTimeout(r, 1));
        asyncReads++;
        onHost.add(storage as object);
        return js.read(storage, dtype, size);
      },
      dispose: (storage) => {
        onHost.delete(storage as object);
        js.dispose(storage);
      },
    }));
    T.setBackend('async-only-2');
    try {
      const trainer = new F.Trainer(config);
      const ex = await trainer.trainForAsync(0);
      expect(ex).toHaveLength(1);
      for (let i = 1; i < 6; i++) await trainer.trainStepAsync();
      expect(trainer.losses).toEqual(sync.losses);
      expect(asyncReads).toBe(6 * 4); // per step: x0 and z for the pairing, the squared norms, the loss
    } finally {
      T.setBackend('cpu');
    }
  });
});

describe('checkpoints', () => {
  for (const config of [
    { ...small, seed: 3 },
    { ...small, seed: 5, optimizer: 'adamw' as const, ema: 0.9, coupling: 'ot' as const, schedule: 'cosine' as const, warmup: 5, clipNorm: 1 },
    { ...small, seed: 6, optimizer: 'sgd' as const, path: 'cosine' as const, source: '8gaussians' as const, time: { kind: 'fourier' as const, features: 4 } },
  ]) {
    it(`resuming reproduces the uninterrupted run bit for bit (${config.optimizer ?? 'adam'}, ${config.coupling ?? 'independent'}, ema ${config.ema ?? 0})`, () => {
      const straight = new F.Trainer(config);
      for (let i = 0; i < 20; i++) straight.trainStep();
      const first = new F.Trainer(config);
      for (let i = 0; i < 10; i++) first.trainStep();
      const bytes = F.encodeCheckpoint(first.checkpoint());
      const resumed = F.Trainer.fromCheckpoint(F.decodeCheckpoint(bytes));
      expect(resumed.step).toBe(10);
      for (let i = 0; i < 10; i++) resumed.trainStep();
      expect(resumed.losses).toEqual(straight.losses);
      expect(params(resumed)).toEqual(params(straight));
      if (straight.ema) {
        const s = [...straight.ema.shadow.values()].flatMap((t) => Array.from(t.data));
        expect([...resumed.ema!.shadow.values()].flatMap((t) => Array.from(t.data))).toEqual(s);
      }
    });
  }

  it('modelFromCheckpoint rebuilds the model (or its EMA weights) for sampling', () => {
    const tr = new F.Trainer({ ...small, seed: 8, ema: 0.5 });
    for (let i = 0; i < 5; i++) tr.trainStep();
    const ckpt = F.decodeCheckpoint(F.encodeCheckpoint(tr.checkpoint()));
    const x = T.randn([3, 2]);
    expect(Array.from(F.modelFromCheckpoint(ckpt).forward(x, 0.4).value.data)).toEqual(Array.from(tr.model.forward(x, 0.4).value.data));
    const emaModel = F.modelFromCheckpoint(ckpt, { ema: true });
    expect(Array.from(emaModel.forward(x, 0.4).value.data)).toEqual(Array.from(tr.samplingModel().forward(x, 0.4).value.data));
    expect(() => F.modelFromCheckpoint({ ...ckpt, kind: 'flow' })).toThrow(/holds a 'flow' model/);
  });
});

describe('validation, custom data and config checks', () => {
  it('the validation loss is a fixed held-out batch: repeatable, and it falls with training', () => {
    const tr = new F.Trainer({ ...small, seed: 9, hidden: [32, 32], lr: 3e-3 });
    const v0 = tr.validationLoss();
    expect(tr.validationLoss()).toBe(v0);
    for (let i = 0; i < 150; i++) tr.trainStep();
    expect(tr.validationLoss()).toBeLessThan(v0);
  });

  it('trains on custom points (e.g. from a CSV file), drawn with replacement', () => {
    const pts = F.parseCsv('x0,x1\n1,1\n-1,-1\n1,-1\n-1,1\n').points;
    const tr = new F.Trainer({ ...small, data: 'custom', seed: 1 }, { data: pts });
    expect(Number.isFinite(tr.trainStep())).toBe(true);
    const drawn = tr.draw('data', 50).data;
    for (const v of drawn) expect(Math.abs(v)).toBe(1);
  });

  it('bad configs are refused with the field named', () => {
    expect(() => new F.Trainer({ batch: 0 })).toThrow('config: batch must be a positive integer, got 0');
    expect(() => new F.Trainer({ data: 'spiral' as F.DatasetName })).toThrow(/config: data 'spiral' is not a dataset/);
    expect(() => new F.Trainer({ path: 'vp', source: 'moons' })).toThrow(/config: source must be normal for the vp path/);
    expect(() => new F.Trainer({ ema: 1.5 })).toThrow(/config: ema must be 0 \(off\) or a decay in \(0, 1\)/);
    expect(() => new F.Trainer({ data: 'custom' })).toThrow('config: data is custom but no points were given');
    expect(() => new F.Trainer({ data: 'custom', dim: 2 }, { data: T.zeros([5, 3]) })).toThrow('config: data points must be (n ≥ 1, 2), got [5,3]');
    expect(() => new F.Trainer({ data: 'custom' }, { data: T.zeros([0, 2]) })).toThrow(/config: data points must be \(n ≥ 1, 2\)/);
    expect(() => new F.Trainer({ data: 'custom' }, { data: T.tensor([[NaN, 1]]) })).toThrow('config: data points contain NaN or ±∞');
    // Typos are refused, not silently replaced by a default (a misspelt path used to train vp).
    expect(() => new F.Trainer({ path: 'lin' as F.TrainConfig['path'] })).toThrow("config: path must be one of linear, cosine, vp, got 'lin'");
    expect(() => new F.Trainer({ optimizer: 'adm' as F.TrainConfig['optimizer'] })).toThrow(/config: optimizer must be one of adam, adamw, sgd/);
    expect(() => new F.Trainer({ schedule: 'cos' as F.TrainConfig['schedule'] })).toThrow(/config: schedule must be one of constant, cosine/);
    expect(() => new F.Trainer({ warmup: 0.5 })).toThrow(/config: warmup must be a non-negative integer/);
    expect(() => new F.Trainer({ lr: Infinity })).toThrow(/config: lr must be positive and finite/);
    expect(() => new F.Trainer({ dim: 3 })).toThrow('config: dim must be 2 for the built-in 2D datasets, got 3');
    expect(() => new F.Trainer({ time: { kind: 'sin' } as unknown as F.TimeEmbedding })).toThrow(/MLP: time.kind must be concat, sinusoidal or fourier/);
  });

  it('float64 custom points are trained on in float32', () => {
    const tr = new F.Trainer({ ...small, data: 'custom', seed: 2 }, { data: T.tensor([[1, 2], [3, 4]], { dtype: 'float64' }) });
    expect(Number.isFinite(tr.trainStep())).toBe(true);
  });
});

describe('custom points in checkpoints', () => {
  it('a run on custom points resumes from its file alone (the points travel in it), bit for bit', () => {
    const points = T.tensor(Float32Array.from({ length: 40 }, (_, i) => Math.sin(i * 1.7) * 2), { shape: [20, 2] });
    const config = { ...small, data: 'custom' as const, seed: 11 };
    const straight = new F.Trainer(config, { data: points });
    for (let i = 0; i < 12; i++) straight.trainStep();
    const first = new F.Trainer(config, { data: points });
    for (let i = 0; i < 6; i++) first.trainStep();
    const ckpt = F.decodeCheckpoint(F.encodeCheckpoint(first.checkpoint()));
    expect(Array.from(ckpt.tensors['custom.data'].data)).toEqual(Array.from(points.data));
    const resumed = F.Trainer.fromCheckpoint(ckpt); // no points passed
    for (let i = 0; i < 6; i++) resumed.trainStep();
    expect(resumed.losses).toEqual(straight.losses);
    expect(params(resumed)).toEqual(params(straight));
  });
});

describe('dispose', () => {
  it('frees every tensor the trainer made (model, Adam, EMA, validation batch, history, converted points); `using` calls it', () => {
    const before = T.memory().numTensors;
    const points = T.randn([50, 2], { generator: new T.Generator(1), dtype: 'float64' }); // converted to float32 inside
    {
      using trainer = new F.Trainer({ ...small, ema: 0.9, data: 'custom' }, { data: points });
      for (let i = 0; i < 3; i++) trainer.trainStep();
      trainer.validationLoss();
      trainer.checkpoint();
      expect(T.memory().numTensors).toBeGreaterThan(before + 20);
    }
    expect(T.memory().numTensors).toBe(before + 1); // the caller's points stay theirs
    expect(points.isDisposed).toBe(false);
    points.dispose();
  });

  it('a FlowTrainer too', () => {
    const before = T.memory().numTensors;
    {
      using flow = new F.FlowTrainer({ couplings: 2, hidden: [8], batch: 32, steps: 3, validationSize: 64 });
      flow.trainStep();
      flow.validationLoss();
      flow.checkpoint();
    }
    expect(T.memory().numTensors).toBe(before);
  });
});

describe('named batches', () => {
  it('cfmLoss and GaussianPath.sample take { z, x0, t }: positional tensors are refused, not silently swapped', () => {
    const path = new F.GaussianPath(F.linear());
    const model = new F.MLP({ dim: 2, hidden: [4] });
    const [z, x0, t] = [T.ones([3, 2]), T.zeros([3, 2]), T.full([3, 1], 0.5)];
    const positional = path.sample as unknown as (...a: unknown[]) => unknown;
    expect(() => positional.call(path, z, x0, t)).toThrow('GaussianPath.sample: needs a batch { z, x0, t } of tensors: z the data, x0 the source samples, t the times');
    expect(() => (F.cfmLoss as unknown as (...a: unknown[]) => unknown)(model, path, z, x0, t)).toThrow('cfmLoss: needs a batch { z, x0, t } of tensors');
    expect(() => (F.couple as unknown as (...a: unknown[]) => unknown)('ot', x0, z)).toThrow('couple: needs a batch { x0, z } of tensors: x0 the source samples, z the data');
    // Named, the target is z − x0 = 1 whatever order the fields are written in.
    expect(Array.from(path.sample({ x0, t, z }).ut.data)).toEqual([1, 1, 1, 1, 1, 1]);
  });
});

describe('checkpoints leak nothing', () => {
  it('a model with Fourier time features: checkpoint() and loading it again leave the live tensor count flat', () => {
    const trainer = new F.Trainer({ ...small, time: { kind: 'fourier', features: 4 } });
    trainer.trainStep();
    trainer.checkpoint(); // the first call makes the kept history and frequency tensors
    const before = T.memory().numTensors;
    for (let i = 0; i < 3; i++) F.modelFromCheckpoint(trainer.checkpoint()).dispose();
    expect(T.memory().numTensors).toBe(before);
    trainer.dispose();
  });
});
