// torchcfm interop: a torchcfm-shaped MLP state dict runs as NumPy computes it; exports have torchcfm's keys and layout.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';
import { expectClose } from '../helpers/close.js';
import { encodeSafetensors, exportTorchcfm, importTorchcfm, parseSafetensors, TORCHCFM_FORMAT } from '@rill/flowmatch';
import { thrown, itThrowsValueErrors } from '../helpers/errors.js';
import { python, SAFETENSORS_READER } from '../helpers/python.js';

const FIXTURES = new URL('../fixtures/formats/', import.meta.url);
const MLP_FILE = new Uint8Array(readFileSync(new URL('torchcfm_mlp.safetensors', FIXTURES)));
/** The fixture MLP's outputs at a few (x, t), computed by NumPy in float64 (make_fixtures.py). */
const EXPECTED = JSON.parse(readFileSync(new URL('torchcfm_mlp_expected.json', FIXTURES), 'utf8')) as { x: number[][]; t: number[]; out: number[][] };


/** u(x, t) of a model at the fixture's inputs (t as a (B, 1) column). */
function outputs(model: F.FieldModel, x = EXPECTED.x, t = EXPECTED.t): number[] {
  return Array.from(model.forward(T.tensor(x), T.tensor(t.map((v) => [v]))).value.data);
}

/** The fixture's tensors with some replaced or removed, as a new safetensors file. */
function variant(edit: (tensors: Record<string, T.Tensor>) => void, metadata?: Record<string, string>): Uint8Array {
  const { tensors } = parseSafetensors(MLP_FILE);
  edit(tensors);
  return encodeSafetensors(tensors, metadata);
}

/** A briefly trained checkpoint with an EMA (3→5→7→2, silu unless told otherwise). */
function trained(config: Partial<F.TrainConfig> = {}): F.Checkpoint {
  const trainer = new F.Trainer({ hidden: [5, 7], activation: 'silu', batch: 16, steps: 3, ema: 0.5, validationSize: 8, seed: 3, ...config });
  for (let i = 0; i < 3; i++) trainer.trainStep();
  return trainer.checkpoint();
}

/** The header of a safetensors file read by hand: u64 LE length, then JSON. */
function headerOf(bytes: Uint8Array): Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(view.getUint32(4, true)).toBe(0);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + view.getUint32(0, true))));
}

describe('importTorchcfm', () => {
  it("runs torchcfm's MLP(dim=2, w=8) as NumPy computes it (x·Wᵀ + b, SELU), and infers the config", () => {
    const ckpt = importTorchcfm(MLP_FILE, { file: 'mlp.safetensors' });
    expect(ckpt.kind).toBe('cfm');
    expect(ckpt.step).toBe(0);
    expect(ckpt.config).toMatchObject({ dim: 2, hidden: [8, 8, 8], activation: 'selu', time: { kind: 'concat' }, path: 'linear', sigma: 0, sigmaMin: 0, source: 'normal', data: 'custom', ema: 0 });
    expect(Object.keys(ckpt.tensors).sort()).toEqual([0, 2, 4, 6].flatMap((i) => [`model.net.${i}.bias`, `model.net.${i}.weight`]));
    expect(ckpt.tensors['model.net.0.weight'].shape).toEqual([3, 8]); // Rill's (in, out)
    const model = F.modelFromCheckpoint(ckpt);
    expectClose(outputs(model), EXPECTED.out.flat(), { rtol: 1e-5, atol: 1e-6 });
  });

  it('its checkpoint saves as a .rill file and loads back to the same model', () => {
    const ckpt = F.decodeCheckpoint(F.encodeCheckpoint(importTorchcfm(MLP_FILE)));
    expectClose(outputs(F.modelFromCheckpoint(ckpt)), EXPECTED.out.flat(), { rtol: 1e-5, atol: 1e-6 });
  });

  it('options fill in what the file does not say, and override its metadata', () => {
    const ckpt = importTorchcfm(MLP_FILE, { activation: 'tanh', sigma: 0.1, path: 'cosine', source: 'moons', data: 'circles' });
    expect(ckpt.config).toMatchObject({ activation: 'tanh', sigma: 0.1, path: 'cosine', source: 'moons', data: 'circles' });
    const exported = exportTorchcfm(trained({ activation: 'gelu', sigma: 0.2 }));
    expect(importTorchcfm(exported, { activation: 'relu' }).config).toMatchObject({ activation: 'relu', sigma: 0.2 });
  });

  it('reads F64 weights as float32', () => {
    const f64 = variant((t) => {
      for (const k of Object.keys(t)) t[k] = T.cast(t[k], 'float64');
    });
    expectClose(outputs(F.modelFromCheckpoint(importTorchcfm(f64))), EXPECTED.out.flat(), { rtol: 1e-5, atol: 1e-6 });
    expect(importTorchcfm(f64).tensors['model.net.2.bias'].dtype).toBe('float32');
  });
});

describe('exportTorchcfm', () => {
  it("writes torchcfm's keys with (out, in) weights equal to the transposed EMA weights, and the config in __metadata__", () => {
    const ckpt = trained();
    const bytes = exportTorchcfm(ckpt);
    const header = headerOf(bytes); // read by hand, not by parseSafetensors
    const { __metadata__: metadata, ...entries } = header;
    expect(metadata).toEqual({
      format: TORCHCFM_FORMAT, dim: '2', hidden: '5,7', activation: 'silu', time: 'concat', path: 'linear', sigma: '0.01',
      sigmaMin: '0', source: 'normal', data: 'moons', weights: 'ema', step: '3',
    });
    expect(TORCHCFM_FORMAT).toBe('rill-cfm');
    expect(Object.keys(entries).sort()).toEqual(['net.0.bias', 'net.0.weight', 'net.2.bias', 'net.2.weight', 'net.4.bias', 'net.4.weight']);
    const start = 8 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    for (const [name, entry] of Object.entries(entries) as [string, { dtype: string; shape: number[]; data_offsets: [number, number] }][]) {
      expect(entry.dtype).toBe('F32');
      const [begin, end] = entry.data_offsets;
      const values = new Float32Array(bytes.slice(start + begin, start + end).buffer);
      const rill = ckpt.tensors[`ema.${name}`]; // weights (in, out), biases (out)
      if (name.endsWith('weight')) {
        const [inWidth, out] = rill.shape;
        expect(entry.shape).toEqual([out, inWidth]);
        for (let o = 0; o < out; o++) for (let i = 0; i < inWidth; i++) expect(values[o * inWidth + i]).toBe(rill.data[i * out + o]);
      } else {
        expect(entry.shape).toEqual(rill.shape);
        expect(Array.from(values)).toEqual(Array.from(rill.data));
      }
    }
    // ema: false exports the raw weights; they differ from the EMA after training.
    const raw = parseSafetensors(exportTorchcfm(ckpt, { ema: false }));
    expect(raw.metadata.weights).toBe('model');
    expect(Array.from(raw.tensors['net.4.bias'].data)).toEqual(Array.from(ckpt.tensors['model.net.4.bias'].data));
    expect(Array.from(raw.tensors['net.4.bias'].data)).not.toEqual(Array.from(ckpt.tensors['ema.net.4.bias'].data));
  });

  it('NumPy running the exported weights as torchcfm does (cat([x, t]), x·Wᵀ + b, SELU) matches the Rill model', () => {
    const ckpt = trained({ activation: 'selu', hidden: [6, 6, 6] });
    const dir = mkdtempSync(join(tmpdir(), 'rill-torchcfm-'));
    const file = join(dir, 'model.safetensors');
    writeFileSync(file, exportTorchcfm(ckpt));
    const program = `${SAFETENSORS_READER}
_, tensors = read_safetensors(${JSON.stringify(file)})
h = np.concatenate([np.array(${JSON.stringify(EXPECTED.x)}), np.array(${JSON.stringify(EXPECTED.t)})[:, None]], axis=1)
layers = sorted({int(k.split(".")[1]) for k in tensors})
for k in layers:
    h = h @ tensors[f"net.{k}.weight"].astype(np.float64).T + tensors[f"net.{k}.bias"].astype(np.float64)
    if k != layers[-1]:
        h = 1.0507009873554805 * np.where(h > 0, h, 1.6732632423543772 * np.expm1(h))
print(json.dumps(h.ravel().tolist()))`;
    const r = python(program);
    expect(r.status, r.stderr).toBe(0);
    expectClose(outputs(F.modelFromCheckpoint(ckpt, { ema: true })), JSON.parse(r.stdout), { rtol: 1e-5, atol: 1e-6 });
  });

  it('round trip export → import gives the same weights, outputs and config', () => {
    const ckpt = trained({ sigma: 0.05, path: 'cosine' });
    const back = importTorchcfm(exportTorchcfm(ckpt));
    expect(back.config).toMatchObject({ dim: 2, hidden: [5, 7], activation: 'silu', time: { kind: 'concat' }, path: 'cosine', sigma: 0.05, source: 'normal', data: 'moons' });
    expect(back.step).toBe(3);
    for (const name of ['net.0.weight', 'net.2.bias', 'net.4.weight']) {
      expect(Array.from(back.tensors[`model.${name}`].data)).toEqual(Array.from(ckpt.tensors[`ema.${name}`].data));
    }
    const x = [[0.5, -1], [2, 0.25], [-1.5, 1]];
    const t = [0, 0.5, 1];
    expect(outputs(F.modelFromCheckpoint(back), x, t)).toEqual(outputs(F.modelFromCheckpoint(ckpt, { ema: true }), x, t));
    // The sigmaMin key is written for the linear path only.
    expect(parseSafetensors(exportTorchcfm(ckpt)).metadata.sigmaMin).toBeUndefined();
  });

  it('a checkpoint without EMA exports its model weights', () => {
    const ckpt = trained({ ema: 0 });
    const { metadata, tensors } = parseSafetensors(exportTorchcfm(ckpt));
    expect(metadata.weights).toBe('model');
    expect(Array.from(tensors['net.0.bias'].data)).toEqual(Array.from(ckpt.tensors['model.net.0.bias'].data));
  });
});

describe('errors name the file, the key and the shapes', () => {
  const importing = (bytes: Uint8Array, options: Parameters<typeof importTorchcfm>[1] = {}) => () => importTorchcfm(bytes, { file: 'm.safetensors', ...options });
  const cases: [string, () => unknown, string][] = [
    ['a missing key', importing(variant((t) => delete t['net.2.bias'])), 'm.safetensors: net.2.bias is missing: the layers must form a chain net.0, net.2, … net.6 (found net.0.bias, net.0.weight, net.2.weight, net.4.bias'],
    ['a missing layer', importing(variant((t) => (delete t['net.2.bias'], delete t['net.2.weight']))), 'm.safetensors: net.2.weight is missing'],
    ['a weight whose input width breaks the chain', importing(variant((t) => (t['net.2.weight'] = T.zeros([8, 5])))), "m.safetensors: net.2.weight is (out, in) = (8, 5): its input width 5 does not match net.0's output width 8"],
    ['a bias of the wrong length', importing(variant((t) => (t['net.4.bias'] = T.zeros([7])))), 'm.safetensors: net.4.bias has shape [7], but net.4.weight is (out, in) = (8, 8): expected [8]'],
    ['a weight that is not a matrix', importing(variant((t) => (t['net.6.weight'] = T.zeros([16])))), 'm.safetensors: net.6.weight must be (out, in), got shape [16]'],
    ['integer weights', importing(variant((t) => (t['net.0.bias'] = T.zeros([8], { dtype: 'int32' })))), 'm.safetensors: net.0 holds int32 values: weights must be floating point'],
    ['an unknown key', importing(variant((t) => (t['model.net.0.weight'] = T.zeros([1])))), "m.safetensors: unexpected key 'model.net.0.weight': torchcfm's MLP holds only net.<i>.weight and net.<i>.bias"],
    ['an odd layer index', importing(variant((t) => (t['net.1.weight'] = T.zeros([1])))), "m.safetensors: unexpected key 'net.1.weight': Linear layers sit at the even indices net.0, net.2, … (activations between them have no weights)"],
    ['no weights at all', importing(encodeSafetensors({})), 'm.safetensors: holds no weights (expected net.0.weight, net.0.bias, net.2.weight, …)'],
    ['a first layer without the t input', importing(variant((t) => (t['net.0.weight'] = T.zeros([8, 2])))), 'm.safetensors: net.0.weight takes 2 inputs, but a time_varying MLP with output dim 2 takes dim + 1 = 3 ([x, t])'],
    ['metadata disagreeing on dim', importing(variant(() => {}, { dim: '3' })), 'm.safetensors: the metadata says dim 3, but the weights have dim 2'],
    ['metadata disagreeing on hidden', importing(variant(() => {}, { hidden: '8,8' })), 'm.safetensors: the metadata says hidden 8,8, but the weights have hidden 8,8,8'],
    ['a time embedding other than concat', importing(variant(() => {}, { time: 'fourier' })), "m.safetensors: the metadata says time embedding 'fourier'; only concat (raw t appended to x) can be imported"],
    ['an unknown activation', importing(variant(() => {}, { activation: 'mish' })), "m.safetensors: activation 'mish' is not one Rill has (selu, silu, relu, tanh, gelu)"],
    ['a sigma that is not a number', importing(variant(() => {}, { sigma: 'small' })), "m.safetensors: the metadata's sigma 'small' is not a number"],
    ['an empty sigma', importing(variant(() => {}, { sigma: ' ' })), "m.safetensors: the metadata's sigma ' ' is not a number"],
    ['a step that is not a count', importing(variant(() => {}, { step: '2.5' })), "m.safetensors: the metadata's step '2.5' is not a non-negative integer"],
    ['a config validateConfig refuses', importing(MLP_FILE, { sigma: -1 }), "m.safetensors: config: sigma must be finite and ≥ 0, got -1 (from the file's metadata or the options)"],
    ['an unknown path', importing(variant(() => {}, { path: 'spiral' })), "m.safetensors: config: path must be one of linear, cosine, vp, got 'spiral'"],
    ['not a safetensors file', importing(new Uint8Array([1, 2, 3])), 'm.safetensors: truncated'],
    ['exporting a sinusoidal time embedding', () => exportTorchcfm(trained({ time: { kind: 'sinusoidal', features: 4 } })), "exportTorchcfm: the model's time embedding is 'sinusoidal', which torchcfm's MLP cannot express: it appends raw t to x (time: concat)"],
    ['exporting a normalizing flow', () => exportTorchcfm({ ...trained(), kind: 'flow' }), "exportTorchcfm: needs a flow-matching (cfm) checkpoint, got 'flow'"],
  ];
  itThrowsValueErrors(cases);

  it('the default file name in errors is "torchcfm"', () => {
    expect(thrown(() => importTorchcfm(encodeSafetensors({}))).message).toMatch(/^torchcfm: holds no weights/);
  });
});
