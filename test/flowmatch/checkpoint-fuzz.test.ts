// Fuzzing the `.rill` loaders: edited headers, re-signed so that they get past the checksums, end in a model or a
// one-line error, quickly, and never make Rill allocate more than a small multiple of the file's size.
import * as fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';
import { editHeader, peakGrowth } from '../helpers/rill-bytes.js';

/** The most tensor bytes a load may have alive at once: 4 × the file's size, plus a little for the model's scratch. */
const budget = (fileBytes: number) => 4 * fileBytes + 16 * 1024;

/** Small valid version-2 files to start from: two flow-matching runs and a normalizing flow. */
let BASES: Uint8Array[] = [];
beforeAll(() => {
  const cfm = (config: Partial<F.TrainConfig>) => {
    using tr = new F.Trainer({ hidden: [4], batch: 8, steps: 4, seed: 3, ...config });
    tr.trainStep();
    return F.encodeCheckpoint(tr.checkpoint());
  };
  using flow = new F.FlowTrainer({ couplings: 2, hidden: [4], actnorm: true, batch: 8, steps: 4, seed: 3 });
  flow.trainStep();
  BASES = [
    cfm({ ema: 0.5, time: { kind: 'fourier', features: 2 } }),
    cfm({ optimizer: 'sgd', hidden: [4, 3] }),
    F.encodeCheckpoint(flow.checkpoint()),
  ];
});

// ---- What a mutation can do to a header -------------------------------------------------------------------------

const HUGE = [1e7, 1e9, 2 ** 31, 2 ** 32 + 1, 2 ** 53, 2 ** 53 + 2, 1e21, 1e308];
/** Values no header should hold where a number, a list or a name belongs, and a few that it might. */
const nasty = fc.oneof(
  fc.constantFrom<unknown>(...HUGE, -1, -1e9, 0, 0.5, 1.5, -0, 'NaN', 'Infinity', '1e9', '', 'a\nb', 'x\u2028y', null, true, false),
  fc.constantFrom<unknown>([], {}, [1e9, 1e9], [4, 1e9], [4.5], [-4], ['4'], { toString: 1 }, { kind: 'fourier', features: 1e9 }, { kind: 'sinusoidal', features: 2 }),
  fc.integer({ min: -3, max: 70 }),
  fc.double(),
  fc.string({ maxLength: 6 }),
  fc.array(fc.integer({ min: -2, max: 1e9 }), { maxLength: 5 }),
);
const CONFIG_KEYS = ['dim', 'hidden', 'couplings', 'activation', 'time', 'actnorm', 'steps', 'batch', 'seed', 'ema', 'lr', 'optimizer', 'data', 'source', 'validationSize', 'momentum', 'extra'];
const TENSOR_NAMES = ['model.net.0.weight', 'model.layers.0.bias', 'optim.m.99', 'optim.momentum.0', 'ema.net.0.bias', 'history.loss', 'custom.data', '__proto__', 'constructor', 'model.extra', 'a\nb', ''];

type Mutation =
  | { kind: 'config'; key: string; value: unknown }
  | { kind: 'drop-config'; key: string }
  | { kind: 'widen'; at: number; value: unknown }
  | { kind: 'entry'; at: number; field: 'shape' | 'offset' | 'bytes' | 'dtype' | 'name'; value: unknown }
  | { kind: 'drop-entry'; at: number }
  | { kind: 'copy-entry'; at: number }
  | { kind: 'header'; key: string; value: unknown }
  | { kind: 'drop-header'; key: string }
  | { kind: 'meta'; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('config' as const), key: fc.constantFrom(...CONFIG_KEYS), value: nasty }),
  fc.record({ kind: fc.constant('drop-config' as const), key: fc.constantFrom(...CONFIG_KEYS) }),
  fc.record({ kind: fc.constant('widen' as const), at: fc.nat(6), value: fc.oneof(fc.constantFrom(...HUGE), fc.integer({ min: -1, max: 9 }), nasty) }),
  fc.record({
    kind: fc.constant('entry' as const),
    at: fc.nat(),
    field: fc.constantFrom('shape' as const, 'offset' as const, 'bytes' as const, 'dtype' as const, 'name' as const),
    value: fc.oneof(nasty, fc.constantFrom<unknown>('float16', 'float64', 'int32', 'toString', [0, 1e9], [2, 2], [1e9, 0], []), fc.constantFrom<unknown>(...TENSOR_NAMES)),
  }),
  fc.record({ kind: fc.constant('drop-entry' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('copy-entry' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('header' as const),
    key: fc.constantFrom('kind', 'step', 'rng', 'meta', 'payloadBytes', 'format', 'version', 'tensors', 'config', 'extra'),
    value: fc.oneof(nasty, fc.constantFrom<unknown>('cfm', 'flow', { algorithm: 'xoshiro128**', state: [0, 0, 0, 0] }, { algorithm: 'xoshiro128**', state: [1, 2, 3, 2 ** 32] })),
  }),
  fc.record({ kind: fc.constant('drop-header' as const), key: fc.constantFrom('kind', 'step', 'rng', 'meta', 'config', 'tensors', 'payloadBytes', 'crc32') }),
  fc.record({ kind: fc.constant('meta' as const), key: fc.constantFrom('optimizer', 'optimizerStep'), value: fc.oneof(nasty, fc.constantFrom<unknown>('adam', 'sgd', 'adamw')) }),
);

/** Applies one mutation to a header (parsed JSON, edited in place). */
function apply(h: Record<string, any>, m: Mutation): void {
  const config = typeof h.config === 'object' && h.config !== null ? h.config : (h.config = {});
  const entries: any[] = Array.isArray(h.tensors) ? h.tensors : [];
  const entry = (at: number) => entries[at % Math.max(entries.length, 1)];
  switch (m.kind) {
    case 'config':
      config[m.key] = structuredClone(m.value);
      break;
    case 'drop-config':
      delete config[m.key];
      break;
    case 'widen': // a hidden layer more, or one width replaced
      if (!Array.isArray(config.hidden)) config.hidden = [];
      if (m.at >= config.hidden.length) config.hidden.push(m.value);
      else config.hidden[m.at] = m.value;
      break;
    case 'entry':
      if (typeof entry(m.at) === 'object' && entry(m.at) !== null) entry(m.at)[m.field] = structuredClone(m.value);
      break;
    case 'drop-entry':
      if (entries.length) entries.splice(m.at % entries.length, 1);
      break;
    case 'copy-entry':
      if (entry(m.at)) entries.push({ ...entry(m.at) });
      break;
    case 'header':
      h[m.key] = structuredClone(m.value);
      break;
    case 'drop-header':
      delete h[m.key];
      break;
    case 'meta':
      h.meta = { ...(typeof h.meta === 'object' ? h.meta : {}), [m.key]: structuredClone(m.value) };
      break;
  }
}

// ---- Loading, and what every outcome must look like ---------------------------------------------------------------

const SOURCE = 'fuzz.rill';
/** An error must be one of Rill's, on one line; `where` counts which step refused the file. */
function refused(e: unknown, where: string, tally: Map<string, number>): void {
  if (!(e instanceof T.RillError)) throw new Error(`${where} threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
  expect(e.message, e.message).not.toMatch(/[\n\r\u2028\u2029]/);
  tally.set(`${where}: ${e.constructor.name}`, (tally.get(`${where}: ${e.constructor.name}`) ?? 0) + 1);
}

/** A model that came back must work: its output has the input's shape. */
function usable(forward: (x: T.Tensor) => T.Tensor, dim: number): void {
  const shape = T.tidy(() => forward(T.zeros([2, dim])).shape);
  expect(shape).toEqual([2, dim]);
}

const disposeFlow = (flow: F.NormalizingFlow) => {
  flow.parameters().forEach((p) => p.value.dispose());
  for (const layer of flow.layers) if (layer instanceof F.Reverse) layer.dispose();
};

/** Every loader, each returning what it built after checking it works, disposed by the caller's `finish`. */
const LOADERS: [string, (c: F.Checkpoint) => void][] = [
  ['modelFromCheckpoint', (c) => {
    const m = F.modelFromCheckpoint(c);
    usable((x) => m.forward(x, 0.5).value, m instanceof F.UNet ? m.config.inChannels * m.config.size ** 2 : m.config.dim);
    m.dispose();
  }],
  ['modelFromCheckpoint(ema)', (c) => {
    const m = F.modelFromCheckpoint(c, { ema: true });
    usable((x) => m.forward(x, 0.5).value, m instanceof F.UNet ? m.config.inChannels * m.config.size ** 2 : m.config.dim);
    m.dispose();
  }],
  ['Trainer.fromCheckpoint', (c) => {
    const tr = F.Trainer.fromCheckpoint(c);
    usable((x) => tr.model.forward(x, 0.5).value, tr.config.dim);
    tr.dispose();
  }],
  ['flowFromCheckpoint', (c) => {
    const flow = F.flowFromCheckpoint(c);
    usable((x) => flow.forward(x).value, flow.config.dim);
    disposeFlow(flow);
  }],
  ['FlowTrainer.fromCheckpoint', (c) => {
    const tr = F.FlowTrainer.fromCheckpoint(c);
    usable((x) => tr.model.forward(x).value, tr.config.dim);
    tr.dispose();
  }],
];

describe('fuzzing the loaders with re-signed headers', () => {
  const tally = new Map<string, number>();
  let largestRatio = 0;

  it('every edited file ends in a model or a one-line RillError, within 4 × its size, leaking nothing', () => {
    fc.assert(
      fc.property(fc.nat(BASES.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), (base, mutations) => {
        const bytes = editHeader(BASES[base], (h) => mutations.forEach((m) => apply(h, m)));
        const before = T.memory();
        const growth = peakGrowth(() => {
          let ckpt: F.Checkpoint;
          try {
            ckpt = F.decodeCheckpoint(bytes, SOURCE);
          } catch (e) {
            return refused(e, 'decodeCheckpoint', tally);
          }
          try {
            for (const [name, load] of LOADERS) {
              try {
                load(ckpt);
                tally.set(`${name}: loaded`, (tally.get(`${name}: loaded`) ?? 0) + 1);
              } catch (e) {
                refused(e, name, tally);
              }
            }
          } finally {
            T.dispose(Object.values(ckpt.tensors));
          }
        });
        largestRatio = Math.max(largestRatio, growth / bytes.length);
        expect(growth, `peak ${growth} bytes of tensors for a file of ${bytes.length}`).toBeLessThanOrEqual(budget(bytes.length));
        expect(T.memory(), 'tensors left behind').toEqual(before);
      }),
      { numRuns: 500, seed: 20240611 },
    );
    expect(largestRatio).toBeLessThanOrEqual(4);
    // The run reached every loader, and some files got through them all.
    for (const [name] of LOADERS) {
      expect(tally.get(`${name}: loaded`) ?? 0, `${name} never loaded`).toBeGreaterThan(0);
      expect([...tally.keys()].some((k) => k.startsWith(`${name}: `) && !k.endsWith('loaded')), `${name} never refused`).toBe(true);
    }
  });

  it('the accounting sees what a load allocates (so that the bound above means something)', () => {
    const growth = peakGrowth(() => {
      const ckpt = F.decodeCheckpoint(BASES[0], SOURCE);
      F.Trainer.fromCheckpoint(ckpt).dispose();
      T.dispose(Object.values(ckpt.tensors));
    });
    const payload = Object.values(F.decodeCheckpoint(BASES[0]).tensors).reduce((s, t) => s + t.size * 4, 0);
    expect(growth).toBeGreaterThanOrEqual(2 * payload); // the decoded tensors, and the trainer's copies of them
  });
});
