// The bridge to torchcfm: a Rill flow-matching checkpoint as the state dict of torchcfm's MLP (a safetensors file), and back.
//
// torchcfm.models.models.MLP(dim, w=64, time_varying=True) is
//   net = Sequential(Linear(dim + 1, w), SELU(), Linear(w, w), SELU(), Linear(w, w), SELU(), Linear(w, dim))
// applied to cat([x, t], -1); its state dict holds net.0.weight (out, in), net.0.bias (out), net.2.*, net.4.*, net.6.*.
// Rill's MLP with time { kind: 'concat' } has the same layers at the same indices and the same input order [x, t],
// but stores Linear weights (in, out): export transposes them, import transposes them back.
import * as T from '@rill/tensor';
import type { MLP } from './mlp.js';
import type { Tensor } from '@rill/tensor';
import type { Checkpoint } from './checkpoint.js';
import { ACTIVATIONS, Linear, type ActivationName } from '@rill/autograd';
import { encodeSafetensors, parseSafetensors } from './safetensors.js';
import { DEFAULT_CONFIG, validateConfig, type TrainConfig } from './train-config.js';
import { modelFromCheckpoint } from './train-checkpoint.js';

/** The `format` value in the metadata of files written by {@link exportTorchcfm}. */
export const TORCHCFM_FORMAT = 'rill-cfm';

/** The (cols, rows) float32 transpose of a (rows, cols) tensor: (in, out) ↔ PyTorch's (out, in). */
function transposed(t: Tensor): Tensor {
  const [rows, cols] = t.shape;
  const src = t.data;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return T.tensor(out, { shape: [cols, rows] });
}

/**
 * A safetensors file holding a `cfm` checkpoint's model as torchcfm's MLP state dict: `net.<i>.weight` (out, in) and
 * `net.<i>.bias` (out), float32 — the EMA weights when the checkpoint has them, unless `options.ema` is false. In
 * PyTorch: `model.load_state_dict(safetensors.torch.load_file(path))` on `MLP(dim, w=…, time_varying=True)`.
 *
 * Its `__metadata__` says what the weights alone do not (all values are strings; names as in {@link TrainConfig}):
 *
 * | key          | example        | meaning                                                                      |
 * | ------------ | -------------- | ---------------------------------------------------------------------------- |
 * | `format`     | `rill-cfm`     | written by this function ({@link TORCHCFM_FORMAT})                           |
 * | `dim`        | `2`            | data dimension D (the input is [x, t]: D + 1 columns)                        |
 * | `hidden`     | `64,64,64`     | hidden widths, comma-separated (also readable from the weight shapes)        |
 * | `activation` | `selu`         | the activation between layers: torchcfm's MLP is SELU; for `silu`, `relu`, `tanh`, `gelu` build the same Sequential with nn.SiLU, nn.ReLU, nn.Tanh or nn.GELU() |
 * | `time`       | `concat`       | how t enters: raw t appended to x (the only embedding torchcfm's MLP has)    |
 * | `path`       | `linear`       | the probability path: `linear`, `cosine` or `vp`                             |
 * | `sigma`      | `0.01`         | the I-CFM noise σ the model was trained with                                  |
 * | `sigmaMin`   | `0`            | σ_min of the linear path (only when `path` is `linear`)                       |
 * | `source`     | `normal`       | the source distribution samples start from (`normal`, a dataset, `custom`)   |
 * | `data`       | `moons`        | what the model was trained on (a dataset name or `custom`)                   |
 * | `weights`    | `ema`          | `ema` (the EMA of the weights) or `model` (the raw weights)                  |
 * | `step`       | `20000`        | training steps taken                                                         |
 *
 * Refuses (ValueError) a checkpoint of another kind and models torchcfm's MLP cannot express: a time embedding other
 * than `concat`.
 */
export function exportTorchcfm(ckpt: Checkpoint, options: { ema?: boolean } = {}): Uint8Array {
  if (ckpt.kind !== 'cfm') throw new T.ValueError('exportTorchcfm', `needs a flow-matching (cfm) checkpoint, got '${ckpt.kind}'`);
  const config: TrainConfig = { ...DEFAULT_CONFIG, ...(ckpt.config as Partial<TrainConfig>) };
  if (config.model === 'unet') throw new T.ValueError('exportTorchcfm', "the model is a U-Net; torchcfm's format here is its MLP (model: mlp)");
  if (config.time?.kind !== 'concat') {
    throw new T.ValueError('exportTorchcfm', `the model's time embedding is '${config.time?.kind}', which torchcfm's MLP cannot express: it appends raw t to x (time: concat)`);
  }
  const useEma = options.ema !== false && Object.keys(ckpt.tensors).some((n) => n.startsWith('ema.'));
  const model = modelFromCheckpoint(ckpt, { ema: useEma }) as MLP;
  const tensors: Record<string, Tensor> = {};
  try {
    model.net.layers.forEach((layer, i) => {
      if (!(layer instanceof Linear)) return; // activations sit at the odd indices and have no weights
      tensors[`net.${i}.weight`] = transposed(layer.weight.value); // (in, out) → (out, in)
      tensors[`net.${i}.bias`] = T.tensor(Float32Array.from(layer.bias.value.data)); // (out)
    });
    const metadata: Record<string, string> = {
      format: TORCHCFM_FORMAT,
      dim: String(config.dim),
      hidden: config.hidden.join(','),
      activation: config.activation,
      time: 'concat',
      path: config.path,
      sigma: String(config.sigma),
      ...(config.path === 'linear' ? { sigmaMin: String(config.sigmaMin) } : {}),
      source: config.source,
      data: config.data,
      weights: useEma ? 'ema' : 'model',
      step: String(ckpt.step),
    };
    return encodeSafetensors(tensors, metadata);
  } finally {
    model.dispose();
    T.dispose(Object.values(tensors));
  }
}

/** Options of {@link importTorchcfm}: each one, when given, overrides the file's metadata. */
export interface TorchcfmImportOptions {
  /** The activation between layers; default: the metadata's, else `selu` (torchcfm's MLP). */
  activation?: ActivationName;
  /** I-CFM noise σ (used only to train on; sampling ignores it); default: the metadata's, else 0 (torchcfm's ConditionalFlowMatcher default). */
  sigma?: number;
  /** σ_min of the linear path; default: the metadata's, else 0. */
  sigmaMin?: number;
  /** The source distribution samples start from; default: the metadata's, else `normal` (torchcfm's recipe). */
  source?: TrainConfig['source'];
  /** The probability path; default: the metadata's, else `linear` (torchcfm's ConditionalFlowMatcher). */
  path?: TrainConfig['path'];
  /** What the model was trained on; default: the metadata's, else `custom` (unknown). */
  data?: TrainConfig['data'];
  /** The file's name, for error messages; default `torchcfm`. */
  file?: string;
}

/** One Linear layer read from the state dict: W (out, in) and b (out). */
interface TorchLinear {
  index: number;
  weight: Tensor;
  bias: Tensor;
}

/** The Linear layers net.0, net.2, … in order, checked to form a chain (each input width is the last output width). */
function linearChain(tensors: Record<string, Tensor>, fail: (why: string) => never): TorchLinear[] {
  const keys = Object.keys(tensors).sort();
  let last = -1;
  for (const key of keys) {
    const m = /^net\.(\d+)\.(weight|bias)$/.exec(key);
    if (!m) fail(`unexpected key '${key}': torchcfm's MLP holds only net.<i>.weight and net.<i>.bias`);
    const index = Number(m![1]);
    if (index % 2 === 1) fail(`unexpected key '${key}': Linear layers sit at the even indices net.0, net.2, … (activations between them have no weights)`);
    last = Math.max(last, index);
  }
  if (last < 0) fail('holds no weights (expected net.0.weight, net.0.bias, net.2.weight, …)');
  const layers: TorchLinear[] = [];
  for (let index = 0; index <= last; index += 2) {
    for (const part of ['weight', 'bias']) {
      if (!(`net.${index}.${part}` in tensors)) fail(`net.${index}.${part} is missing: the layers must form a chain net.0, net.2, … net.${last} (found ${keys.join(', ')})`);
    }
    const [weight, bias] = [tensors[`net.${index}.weight`], tensors[`net.${index}.bias`]];
    if (weight.dtype === 'int32' || bias.dtype === 'int32') fail(`net.${index} holds int32 values: weights must be floating point`);
    if (weight.rank !== 2) fail(`net.${index}.weight must be (out, in), got shape [${weight.shape}]`);
    const [out, inWidth] = weight.shape;
    if (bias.rank !== 1 || bias.shape[0] !== out) fail(`net.${index}.bias has shape [${bias.shape}], but net.${index}.weight is (out, in) = (${out}, ${inWidth}): expected [${out}]`);
    const previous = layers.at(-1);
    if (previous && previous.weight.shape[0] !== inWidth) {
      fail(`net.${index}.weight is (out, in) = (${out}, ${inWidth}): its input width ${inWidth} does not match net.${previous.index}'s output width ${previous.weight.shape[0]}`);
    }
    layers.push({ index, weight, bias });
  }
  return layers;
}

/**
 * A `cfm` checkpoint from a safetensors file of torchcfm's MLP state dict (`net.0.weight` (out, in), `net.0.bias`,
 * `net.2.*`, …, the input [x, t]), ready for {@link modelFromCheckpoint} and encodeCheckpoint. D and the hidden widths
 * come from the weight shapes (D = the last layer's output width; the first layer must take D + 1 inputs); the rest
 * of the config from `options`, else the file's metadata (see {@link exportTorchcfm}), else torchcfm's recipe
 * (selu, linear path, σ = 0, normal source), on top of DEFAULT_CONFIG, checked by validateConfig. Weights are
 * stored as float32 under `model.`; the checkpoint has no optimizer or generator state (it samples, it does not
 * resume). Problems are ValueErrors naming `options.file` and the key: `m.safetensors: net.2.bias is missing: …`.
 */
export function importTorchcfm(bytes: Uint8Array, options: TorchcfmImportOptions = {}): Checkpoint {
  const file = options.file ?? 'torchcfm';
  const fail = (why: string): never => {
    throw new T.ValueError(file, why);
  };
  const { tensors, metadata } = parseSafetensors(bytes, file);
  const layers = linearChain(tensors, fail);
  const dim = layers[layers.length - 1].weight.shape[0];
  const inputs = layers[0].weight.shape[1];
  if (inputs !== dim + 1) fail(`net.0.weight takes ${inputs} inputs, but a time_varying MLP with output dim ${dim} takes dim + 1 = ${dim + 1} ([x, t])`);
  const hidden = layers.slice(0, -1).map((l) => l.weight.shape[0]);

  // What the metadata says must agree with the weights; a model with another time embedding cannot be read.
  if (metadata.dim !== undefined && metadata.dim !== String(dim)) fail(`the metadata says dim ${metadata.dim}, but the weights have dim ${dim}`);
  if (metadata.hidden !== undefined && metadata.hidden !== hidden.join(',')) fail(`the metadata says hidden ${metadata.hidden}, but the weights have hidden ${hidden.join(',')}`);
  if (metadata.time !== undefined && metadata.time !== 'concat') fail(`the metadata says time embedding '${metadata.time}'; only concat (raw t appended to x) can be imported`);
  const activation = options.activation ?? metadata.activation ?? 'selu';
  if (!Object.hasOwn(ACTIVATIONS, activation)) fail(`activation '${activation}' is not one Rill has (${Object.keys(ACTIVATIONS).join(', ')})`);
  const number = (key: 'sigma' | 'sigmaMin' | 'step', given: number | undefined, fallback: number): number => {
    if (given !== undefined) return given;
    if (metadata[key] === undefined) return fallback;
    const value = Number(metadata[key]);
    return metadata[key].trim() !== '' && Number.isFinite(value) ? value : fail(`the metadata's ${key} '${metadata[key]}' is not a number`);
  };
  const config: TrainConfig = {
    ...DEFAULT_CONFIG,
    dim,
    hidden,
    activation: activation as ActivationName,
    time: { kind: 'concat' },
    path: options.path ?? (metadata.path as TrainConfig['path'] | undefined) ?? 'linear',
    sigma: number('sigma', options.sigma, 0),
    sigmaMin: number('sigmaMin', options.sigmaMin, 0),
    source: options.source ?? (metadata.source as TrainConfig['source'] | undefined) ?? 'normal',
    data: options.data ?? (metadata.data as TrainConfig['data'] | undefined) ?? 'custom',
    ema: 0, // one set of weights, stored as the model's
  };
  try {
    validateConfig(config);
  } catch (e) {
    if (e instanceof T.ValueError) fail(`${e.message} (from the file's metadata or the options)`);
    throw e;
  }
  const step = number('step', undefined, 0);
  if (!Number.isInteger(step) || step < 0) fail(`the metadata's step '${metadata.step}' is not a non-negative integer`);

  const weights: Record<string, Tensor> = {};
  for (const { index, weight, bias } of layers) {
    weights[`model.net.${index}.weight`] = transposed(weight); // (out, in) → (in, out)
    weights[`model.net.${index}.bias`] = bias.dtype === 'float32' ? bias : T.tensor(Float32Array.from(bias.data));
  }
  const kept = new Set(Object.values(weights));
  T.dispose(Object.values(tensors).filter((t) => !kept.has(t))); // the file's tensors that were copied
  return { kind: 'cfm', config: { ...config } as unknown as Record<string, unknown>, step, tensors: weights, meta: { importedFrom: 'torchcfm', metadata } };
}
