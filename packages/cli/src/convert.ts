// `rill export` and `rill import`: a model's weights as a safetensors file in torchcfm's MLP layout, and back, so a
// model trained with torchcfm samples in Rill (and one trained here loads in PyTorch).
import { ValueError } from '@rill/tensor';
import { ACTIVATIONS, DATASET_NAMES, encodeCheckpoint, exportTorchcfm, importTorchcfm, parseSafetensors, TORCHCFM_FORMAT, type TrainConfig } from '@rill/flowmatch';
import { loadCheckpoint, readBytes, writeFileAtomic } from '@rill/flowmatch/node';
import { UsageError, type Flag, type Values } from './flags.js';

const FORMATS = ['safetensors'] as const;

export const EXPORT_FLAGS: Flag[] = [
  { name: 'model', kind: 'string', io: 'in', required: true, help: 'a .rill flow-matching model' },
  { name: 'format', kind: 'choice', choices: FORMATS, default: 'safetensors', help: "safetensors: torchcfm's MLP state dict (net.0.weight (out, in), …) with the config in __metadata__" },
  { name: 'out', kind: 'string', io: 'out', required: true, help: 'the file to write (e.g. model.safetensors)' },
  { name: 'raw', kind: 'bool', default: false, help: 'export the raw weights even when the model has EMA weights' },
];

export async function exportModel(v: Values): Promise<number> {
  const path = String(v.model);
  const ckpt = loadCheckpoint(path);
  if (ckpt.kind !== 'cfm') throw new UsageError(`rill export: ${path} holds a '${ckpt.kind}' model; only flow-matching (cfm) models export to torchcfm's MLP`);
  for (const [name, t] of Object.entries(ckpt.tensors)) {
    if (/^(model|ema)\./.test(name) && !t.data.every(Number.isFinite)) throw new UsageError(`rill export: ${path}: ${name} holds NaN or ±∞ (a diverged run); nothing was written`);
  }
  let bytes: Uint8Array;
  try {
    bytes = exportTorchcfm(ckpt, { ema: !v.raw });
  } catch (e) {
    if (e instanceof ValueError) throw new UsageError(`rill export: ${path}: ${e.message.replace(/^exportTorchcfm: /, '')}`);
    throw e;
  }
  writeFileAtomic(String(v.out), bytes);
  const { metadata } = parseSafetensors(bytes);
  console.log(`exported ${path} (${metadata.weights === 'ema' ? 'EMA weights' : 'weights'}) as torchcfm's MLP → ${v.out} (${bytes.length} bytes)`);
  // torchcfm's MLP(dim, w) is three hidden layers of one width with SELU: other shapes need a matching nn.Sequential.
  const widths = metadata.hidden.split(',');
  if (widths.length !== 3 || new Set(widths).size !== 1 || metadata.activation !== 'selu') {
    console.log(`note: torchcfm's MLP(dim, w) has three hidden layers of width w and SELU; this model (hidden ${metadata.hidden}, ${metadata.activation}) loads into an nn.Sequential of the same Linear layers at the same indices`);
  }
  return 0;
}

export const IMPORT_FLAGS: Flag[] = [
  { name: 'model', kind: 'string', io: 'in', required: true, help: "a safetensors file of torchcfm's MLP (time_varying=True: the input is [x, t])" },
  { name: 'format', kind: 'choice', choices: FORMATS, default: 'safetensors', help: 'the file format' },
  { name: 'out', kind: 'string', io: 'out', required: true, help: 'the .rill model file to write' },
  { name: 'act', kind: 'choice', choices: Object.keys(ACTIVATIONS), help: "the activation between layers (default: the file's metadata, else selu, torchcfm's)" },
  { name: 'sigma', kind: 'number', min: 0, max: 1000, help: "the I-CFM noise σ it was trained with (default: the metadata's, else 0)" },
  { name: 'sigma-min', kind: 'number', min: 0, max: 0.999, help: "σ_min of the linear path (default: the metadata's, else 0)" },
  { name: 'path', kind: 'choice', choices: ['linear', 'cosine', 'vp'], help: "the probability path (default: the metadata's, else linear)" },
  { name: 'source', kind: 'string', help: "the source distribution: normal or a dataset (default: the metadata's, else normal)" },
  { name: 'data', kind: 'string', help: "the dataset it was trained on, for eval's default (default: the metadata's, else custom)" },
];

export async function importModel(v: Values): Promise<number> {
  const path = String(v.model);
  for (const flag of ['source', 'data'] as const) {
    const name = v[flag];
    if (name !== undefined && name !== 'normal' && !(DATASET_NAMES as readonly string[]).includes(String(name))) {
      throw new UsageError(`rill import: --${flag} must be ${flag === 'source' ? 'normal or ' : ''}a dataset (${DATASET_NAMES.join(', ')}), got '${name}'`);
    }
  }
  const bytes = readBytes(path);
  const ckpt = importTorchcfm(bytes, {
    file: path,
    activation: v.act as TrainConfig['activation'] | undefined,
    sigma: v.sigma as number | undefined,
    sigmaMin: v['sigma-min'] as number | undefined,
    path: v.path as TrainConfig['path'] | undefined,
    source: v.source as TrainConfig['source'] | undefined,
    data: v.data as TrainConfig['data'] | undefined,
  });
  for (const [name, t] of Object.entries(ckpt.tensors)) {
    if (!t.data.every(Number.isFinite)) throw new UsageError(`rill import: ${path}: ${name.replace(/^model\./, '')} holds NaN or ±∞; nothing was written`);
  }
  writeFileAtomic(String(v.out), encodeCheckpoint(ckpt));
  const c = ckpt.config as unknown as TrainConfig;
  if (parseSafetensors(bytes, path).metadata.format !== TORCHCFM_FORMAT) {
    // Weights from PyTorch say nothing of how they were trained: say what was assumed, and how to say otherwise.
    const assumed = [['act', c.activation], ['path', c.path], ['sigma', c.sigma], ['source', c.source]].filter(([flag]) => v[flag] === undefined);
    if (assumed.length) console.log(`note: ${path} has no Rill metadata; assumed ${assumed.map(([f, val]) => `--${f} ${val}`).join(', ')} (torchcfm's recipe): pass the flags to say otherwise`);
  }
  console.log(`imported ${path}: MLP ${[c.dim + 1, ...c.hidden, c.dim].join('→')} ${c.activation}, ${c.path} path, σ = ${c.sigma}, source ${c.source} → ${v.out}`);
  return 0;
}
