// The `.rill` format's versions and the loaders' checks: version-1 files still load, version 2's header checksum, and
// configs that describe other tensors than the file holds refused before anything is allocated.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';
import { expectClose } from '../helpers/close.js';
import { editHeader, joinRill, peakGrowth, splitRill } from '../helpers/rill-bytes.js';

const FIXTURES = new URL('../fixtures/checkpoint/', import.meta.url);
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(name, FIXTURES)));
const EXPECTED = JSON.parse(readFileSync(new URL('v1_expected.json', FIXTURES), 'utf8'));
const TOL = { rtol: 1e-5, atol: 1e-6 }; // recorded on the js backend; the wasm kernels may round differently

const velocity = (model: F.FieldModel) => T.tidy(() => Array.from(model.forward(T.tensor(EXPECTED.x), T.tensor(EXPECTED.t)).value.data));
const version = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);

/** Disposes every tensor a decoded checkpoint holds. */
const release = (ckpt: F.Checkpoint) => T.dispose(Object.values(ckpt.tensors));

describe('version 1 (written by Rill before the header checksum)', () => {
  it('the cfm fixture loads: model, EMA model and trainer give what was recorded when it was written', () => {
    const bytes = fixture('cfm_v1.rill');
    expect(version(bytes)).toBe(1);
    const ckpt = F.decodeCheckpoint(bytes, 'cfm_v1.rill');
    expect(ckpt.step).toBe(EXPECTED.cfm.step);
    expectClose(velocity(F.modelFromCheckpoint(ckpt)), EXPECTED.cfm.velocity, TOL);
    expectClose(velocity(F.modelFromCheckpoint(ckpt, { ema: true })), EXPECTED.cfm.velocityEma, TOL);
    const trainer = F.Trainer.fromCheckpoint(ckpt);
    expect(trainer.step).toBe(3);
    expectClose(trainer.losses, EXPECTED.cfm.losses, { rtol: 0 });
    expect(Number.isFinite(trainer.trainStep())).toBe(true); // it resumes
    trainer.dispose();
  });

  it('the flow fixture loads: log-densities and samples as recorded, and the trainer resumes', () => {
    const ckpt = F.decodeCheckpoint(fixture('flow_v1.rill'), 'flow_v1.rill');
    const flow = F.flowFromCheckpoint(ckpt);
    expectClose(T.tidy(() => Array.from(flow.logProb(T.tensor(EXPECTED.x)).value.data)), EXPECTED.flow.logProb, TOL);
    expectClose(T.tidy(() => Array.from(flow.forward(T.tensor(EXPECTED.x)).value.data)), EXPECTED.flow.forward, TOL);
    const trainer = F.FlowTrainer.fromCheckpoint(ckpt);
    expectClose(trainer.losses, EXPECTED.flow.losses, { rtol: 0 });
    expect(Number.isFinite(trainer.trainStep())).toBe(true);
    trainer.dispose();
  });

  it('re-encoded, a version-1 checkpoint becomes version 2 with the same contents', () => {
    const ckpt = F.decodeCheckpoint(fixture('cfm_v1.rill'));
    const again = F.decodeCheckpoint(F.encodeCheckpoint(ckpt));
    expect(version(F.encodeCheckpoint(ckpt))).toBe(2);
    expect(again.config).toEqual(ckpt.config);
    expect(again.rng).toEqual(ckpt.rng);
    for (const [name, t] of Object.entries(ckpt.tensors)) expect(Array.from(again.tensors[name].data)).toEqual(Array.from(t.data));
    expectClose(velocity(F.modelFromCheckpoint(again)), EXPECTED.cfm.velocity, TOL);
  });

  it('a version-1 file is checked like a version-2 one, only without a header checksum to compare', () => {
    const v1 = fixture('flow_v1.rill');
    const parts = splitRill(v1);
    expect(joinRill(parts)).toEqual(v1); // the helper writes version 1 exactly as Rill did
    const edited = editHeader(v1, (h) => (h.config.hidden = [1e9, 1e9]));
    const ckpt = F.decodeCheckpoint(edited, 'old.rill');
    expect(() => F.flowFromCheckpoint(ckpt)).toThrow('old.rill: the config describes model.layers.1.net.0.weight as [1, 1000000000] but the file holds [1, 4]');
    release(ckpt);
  });
});

/** A small trained flow-matching run and a small flow, as version-2 bytes. */
function cfmBytes(config: Partial<F.TrainConfig> = {}): Uint8Array {
  using tr = new F.Trainer({ hidden: [4], batch: 16, steps: 4, seed: 1, ...config });
  tr.trainStep();
  return F.encodeCheckpoint(tr.checkpoint());
}
function flowBytes(config: Partial<F.FlowTrainConfig> = {}): Uint8Array {
  using tr = new F.FlowTrainer({ couplings: 2, hidden: [4], batch: 16, steps: 4, seed: 1, ...config });
  tr.trainStep();
  return F.encodeCheckpoint(tr.checkpoint());
}

describe('version 2: the header has a CRC-32 of its own', () => {
  it('the CRC-32 of the header follows it; a changed header that is still a checkpoint is caught by it', () => {
    const bytes = cfmBytes();
    expect(version(bytes)).toBe(F.FORMAT_VERSION);
    const headerLength = new DataView(bytes.buffer).getUint32(8, true);
    expect(new DataView(bytes.buffer).getUint32(12 + headerLength, true)).toBe(F.crc32(bytes.subarray(12, 12 + headerLength)));
    const parts = splitRill(bytes);
    const unsigned = joinRill({ ...parts, header: { ...parts.header, step: 7 } }, { signHeader: false });
    expect(() => F.decodeCheckpoint(unsigned, 'm.rill')).toThrow('m.rill: corrupted (header checksum mismatch)');
    expect(F.decodeCheckpoint(joinRill({ ...parts, header: { ...parts.header, step: 7 } }), 'm.rill').step).toBe(7);
  });

  it('an unknown version names the versions this Rill reads; the JSON must say the same version as the prefix', () => {
    const v9 = cfmBytes();
    new DataView(v9.buffer).setUint32(4, 9, true);
    expect(() => F.decodeCheckpoint(v9, 'm.rill')).toThrow('m.rill: format version 9 is not supported (this Rill reads versions 1 and 2)');
    const lying = editHeader(cfmBytes(), (h) => (h.version = 1));
    expect(() => F.decodeCheckpoint(lying, 'm.rill')).toThrow(/^m\.rill: corrupted \(the header does not describe a checkpoint\): version 1 differs/);
  });

  it('tensor entries must lie inside the payload without overlapping, under distinct names', () => {
    const bytes = cfmBytes();
    const err = (edit: (h: Record<string, any>) => void) => () => F.decodeCheckpoint(editHeader(bytes, edit), 'm.rill');
    expect(err((h) => (h.tensors[1].offset = h.tensors[0].offset))).toThrow(/^m\.rill: corrupted \(tensors '.*' and '.*' overlap in the payload\)$/);
    expect(err((h) => (h.tensors[1].name = h.tensors[0].name))).toThrow("m.rill: corrupted (tensor 'model.net.0.weight' is listed twice)");
    expect(err((h) => (h.tensors[0].shape = [3, 1e9]))).toThrow(/^m\.rill: corrupted \(the header does not describe a checkpoint\): tensors\[0\]\.bytes must be 3000000000 × 4/);
    expect(err((h) => (h.tensors[0].name = 'a\nb'))).toThrow(/tensors\[0\]\.name must be 1 to 256 printable characters, got "a\\nb"$/);
    expect(err((h) => (h.tensors[0].dtype = 'float16'))).toThrow(/tensors\[0\]\.dtype must be float32, float64 or int32, got "float16"/);
  });
});

describe('the config is checked against the tensors before anything is built', () => {
  it("the issue's files: huge widths and a million couplings are refused at once, allocating nothing", () => {
    const cfm = editHeader(cfmBytes(), (h) => (h.config.hidden = [1e9, 1e9]));
    const flow = editHeader(flowBytes({ actnorm: true }), (h) => (h.config.couplings = 1e7));
    for (const [bytes, loaders] of [
      [cfm, [(c: F.Checkpoint) => F.modelFromCheckpoint(c), (c: F.Checkpoint) => F.Trainer.fromCheckpoint(c)]],
      [flow, [(c: F.Checkpoint) => F.flowFromCheckpoint(c), (c: F.Checkpoint) => F.FlowTrainer.fromCheckpoint(c)]],
    ] as const) {
      const ckpt = F.decodeCheckpoint(bytes, 'm.rill');
      for (const load of loaders) {
        const growth = peakGrowth(() => expect(() => load(ckpt)).toThrow(F.CheckpointError));
        expect(growth).toBe(0);
      }
      release(ckpt);
    }
    const ckpt = F.decodeCheckpoint(cfm, 'm.rill');
    expect(() => F.modelFromCheckpoint(ckpt)).toThrow('m.rill: the config describes model.net.0.weight as [3, 1000000000] but the file holds [3, 4]');
    release(ckpt);
    const flowCkpt = F.decodeCheckpoint(flow, 'f.rill');
    expect(() => F.flowFromCheckpoint(flowCkpt)).toThrow('f.rill: the config describes model.layers.6.logScale as [2] but the file holds no such tensor');
    release(flowCkpt);
  });

  it('config numbers must be integers of the right range, named by field', () => {
    const cases: [(h: Record<string, any>) => void, string][] = [
      [(h) => (h.config.hidden = [4.5]), 'm.rill: config.hidden[0] must be a positive integer, got 4.5'],
      [(h) => (h.config.hidden = 'NaN'), 'm.rill: config.hidden must be a list of positive integers, got "NaN"'],
      [(h) => (h.config.dim = -2), 'm.rill: config.dim must be an integer ≥ 1, got -2'],
      [(h) => (h.config.time = { kind: 'fourier', features: 0 }), 'm.rill: config.time.features must be an integer ≥ 1, got 0'],
      [(h) => (h.config.activation = 'swish'), 'm.rill: config.activation must be one of selu, silu, relu, tanh, gelu, got "swish"'],
    ];
    for (const [edit, message] of cases) {
      const ckpt = F.decodeCheckpoint(editHeader(cfmBytes(), edit), 'm.rill');
      expect(() => F.modelFromCheckpoint(ckpt)).toThrow(message);
      expect(() => F.Trainer.fromCheckpoint(ckpt)).toThrow(message);
      release(ckpt);
    }
    const ckpt = F.decodeCheckpoint(editHeader(cfmBytes(), (h) => (h.config.steps = -1)), 'm.rill');
    expect(() => F.Trainer.fromCheckpoint(ckpt)).toThrow('m.rill: config.steps must be a positive integer, got -1');
    release(ckpt);
  });

  it('a missing, extra, reshaped or retyped tensor is named; so is an optimizer slot of another shape', () => {
    const base = F.decodeCheckpoint(cfmBytes({ ema: 0.5 }));
    const load = (tensors: Record<string, T.Tensor>, how: (c: F.Checkpoint) => unknown = (c) => F.Trainer.fromCheckpoint(c)) => () =>
      how({ ...base, tensors, source: 'm.rill' });
    const without = (name: string) => Object.fromEntries(Object.entries(base.tensors).filter(([n]) => n !== name));
    const extra = T.zeros([2]);
    const f64 = T.zeros([4], { dtype: 'float64' });
    const wide = T.zeros([4, 3]);
    expect(load(without('model.net.2.bias'))).toThrow('m.rill: the config describes model.net.2.bias as [2] but the file holds no such tensor');
    expect(load({ ...base.tensors, 'model.net.9.bias': extra })).toThrow('m.rill: the file holds model.net.9.bias, which the config does not describe');
    expect(load({ ...base.tensors, 'model.net.0.bias': f64 })).toThrow('m.rill: the config describes model.net.0.bias as float32 [4] but the file holds float64 [4]');
    expect(load({ ...base.tensors, 'optim.v.2': wide })).toThrow('m.rill: the config describes optim.v.2 as [4, 2] but the file holds [4, 3]');
    expect(load({ ...base.tensors, 'ema.net.2.weight': wide })).toThrow('m.rill: the config describes ema.net.2.weight as [4, 2] but the file holds [4, 3]');
    expect(load({ ...base.tensors, 'ema.net.2.weight': wide }, (c) => F.modelFromCheckpoint(c, { ema: true }))).toThrow(/ema\.net\.2\.weight as \[4, 2\]/);
    F.modelFromCheckpoint({ ...base, tensors: { ...base.tensors, 'ema.net.2.weight': wide } }).dispose(); // raw weights: the EMA is not read
    expect(load({ ...base.tensors, 'optim.momentum.0': extra })).toThrow("m.rill: the file holds optimizer slot 'momentum', which this optimizer does not keep (it keeps m, v)");
    T.dispose([extra, f64, wide]);
    release(base);
  });

  it('a flow whose permutation matrices would need far more memory than the file holds is refused', () => {
    // dim 4096 with one hidden unit: 82 KB of weights, but each Reverse between couplings is a 4096 × 4096 matrix (64 MiB)
    const config = { ...F.DEFAULT_FLOW_CONFIG, data: 'custom', dim: 4096, couplings: 2, hidden: [1] };
    const tensors: Record<string, T.Tensor> = {};
    for (const layer of [0, 2]) {
      tensors[`model.layers.${layer}.net.0.weight`] = T.zeros([2048, 1]);
      tensors[`model.layers.${layer}.net.0.bias`] = T.zeros([1]);
      tensors[`model.layers.${layer}.net.2.weight`] = T.zeros([1, 4096]);
      tensors[`model.layers.${layer}.net.2.bias`] = T.zeros([4096]);
    }
    const ckpt: F.Checkpoint = { kind: 'flow', config, step: 0, tensors, source: 'wide.rill' };
    expect(() => F.flowFromCheckpoint(ckpt)).toThrow(/^wide\.rill: the config describes a model that needs 67108864 bytes beyond its stored tensors/);
    T.dispose(Object.values(tensors));
  });

  it('every model a Trainer builds passes the checks: the derived tensor lists match the real models', () => {
    const points = T.tidy(() => T.keep(T.randn([32, 3], { generator: new T.Generator(5) })));
    const cfms: Partial<F.TrainConfig>[] = [
      { optimizer: 'sgd' },
      { optimizer: 'adamw', ema: 0.9 },
      { time: { kind: 'sinusoidal', features: 3 }, hidden: [] },
      { time: { kind: 'fourier', features: 2, scale: 0.5 }, hidden: [5, 3], activation: 'gelu' },
      { data: 'custom', dim: 3 },
    ];
    for (const config of cfms) {
      using tr = new F.Trainer({ hidden: [4], batch: 8, steps: 4, seed: 2, ...config }, config.data === 'custom' ? { data: points } : {});
      tr.trainStep();
      const ckpt = F.decodeCheckpoint(F.encodeCheckpoint(tr.checkpoint()));
      using resumed = F.Trainer.fromCheckpoint(ckpt);
      expect(resumed.step).toBe(1);
      const model = F.modelFromCheckpoint(ckpt, { ema: true });
      model.dispose();
      release(ckpt);
    }
    const flows: Partial<F.FlowTrainConfig>[] = [{ actnorm: true }, { couplings: 1, hidden: [] }, { couplings: 3, hidden: [3, 5], data: 'custom', dim: 3 }];
    for (const config of flows) {
      const custom = config.data === 'custom' ? { data: points } : {};
      using tr = new F.FlowTrainer({ couplings: 2, hidden: [4], batch: 8, steps: 4, seed: 2, ...config }, custom);
      tr.trainStep();
      const ckpt = F.decodeCheckpoint(F.encodeCheckpoint(tr.checkpoint()));
      using resumed = F.FlowTrainer.fromCheckpoint(ckpt, custom);
      expect(resumed.step).toBe(1);
      F.flowFromCheckpoint(ckpt).parameters().forEach((p) => p.value.dispose());
      release(ckpt);
    }
    points.dispose();
  });

  it('a refused checkpoint leaves no tensor behind, even when it fails after the checks (a bad generator state)', () => {
    const ckpt = F.decodeCheckpoint(cfmBytes({ ema: 0.5 }));
    const before = T.memory();
    const bad = { ...ckpt, rng: { algorithm: 'xoshiro128**', state: [0, 0, 0, 0] } as T.GeneratorState };
    expect(() => F.Trainer.fromCheckpoint(bad)).toThrow(/setState/);
    expect(T.memory()).toEqual(before);
    release(ckpt);
  });
});
