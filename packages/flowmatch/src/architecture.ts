// Checking a checkpoint against its config before anything is built. A config is a few numbers; the model it
// describes can be any size. So the loaders first derive, from the config alone and without allocating, the exact
// list of tensors the model will hold, compare it with the tensors the file really contains (names, shapes, dtypes),
// and only then build the model: a file can never make Rill allocate much more than its own size.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { BYTES, CheckpointError, isObject, oneLine, optimizerSlots, show, type Checkpoint } from './checkpoint.js';
import { ACTIVATIONS } from '@rill/autograd';
import { unetTensors } from './unet.js';

/** One tensor that a config says a checkpoint holds. */
export interface TensorSpec {
  /** Its name in the model (`net.0.weight`; the file holds it as `model.net.0.weight`). */
  name: string;
  /** Its shape. */
  shape: number[];
  /** The dtypes it may have; the first is the one Rill writes. */
  dtypes: readonly T.DType[];
  /** True for a buffer (fixed, not trained: no optimizer slot and no EMA copy), e.g. `time.frequencies`. */
  buffer?: boolean;
}

/** A model as its config describes it, before it is built. */
export interface Architecture {
  /** Its parameters in the model's order (the order of the optimizer's slots), then its buffers; made one at a time. */
  tensors: Iterable<TensorSpec>;
  /** Bytes of tensors that building the model allocates and the file does not store (a flow's permutation matrices). */
  unstoredBytes: number;
}

/**
 * How many bytes a model may allocate beyond the tensors its file stores, on top of as many bytes as the file's
 * tensors take: room for a normalizing flow's permutation matrices (D² floats each) at dimensions people train,
 * refused for the configs that only a hand-edited file has.
 */
export const UNSTORED_ALLOWANCE = 16 * 2 ** 20;

const FLOAT32: readonly T.DType[] = ['float32'];

/** A CheckpointError naming the file and the config field: `m.rill: config.hidden[1] must be …`. */
function configError(source: string, field: string, why: string): never {
  throw new CheckpointError(source, `config.${field} ${why}`);
}

/** config[field] as an integer ≥ min (a safe integer: exact in a double). */
function integerField(config: Record<string, unknown>, field: string, min: number, source: string, path = field): number {
  const v = config[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) configError(source, path, `must be an integer ≥ ${min}, got ${show(v)}`);
  return v as number;
}

/** config[field] as a list of layer widths, each a positive integer. */
function widthsField(config: Record<string, unknown>, field: string, source: string): number[] {
  const v = config[field];
  if (!Array.isArray(v)) return configError(source, field, `must be a list of positive integers, got ${show(v)}`);
  v.forEach((w, i) => {
    if (typeof w !== 'number' || !Number.isSafeInteger(w) || w < 1) configError(source, `${field}[${i}]`, `must be a positive integer, got ${show(w)}`);
  });
  return v as number[];
}

function activationField(config: Record<string, unknown>, field: string, source: string): void {
  const v = config[field];
  if (typeof v !== 'string' || !Object.hasOwn(ACTIVATIONS, v)) configError(source, field, `must be one of ${Object.keys(ACTIVATIONS).join(', ')}, got ${show(v)}`);
}

/** The Linear layers of a Sequential `widths[0] → widths[1] → …` with an activation between each two (index 2i). */
function* linearChain(prefix: string, widths: number[]): Generator<TensorSpec> {
  for (let i = 0; i + 1 < widths.length; i++) {
    yield { name: `${prefix}${2 * i}.weight`, shape: [widths[i], widths[i + 1]], dtypes: FLOAT32 }; // (in, out)
    yield { name: `${prefix}${2 * i}.bias`, shape: [widths[i + 1]], dtypes: FLOAT32 };
  }
}

/**
 * The MLP velocity field a flow-matching config (`dim`, `hidden`, `activation`, `time`, defaults filled in)
 * describes, as makeModel would build it: `net.<2i>.weight` (in, out) and `net.<2i>.bias` for widths
 * [D + time width, …hidden, D], then the buffer `time.frequencies` (K) for sinusoidal or Fourier time features.
 * Throws CheckpointError naming `source` and the field for a value no model can have.
 */
export function mlpArchitecture(config: Record<string, unknown>, source = 'checkpoint'): Architecture {
  const dim = integerField(config, 'dim', 1, source);
  const hidden = widthsField(config, 'hidden', source);
  activationField(config, 'activation', source);
  const time = config.time;
  if (!isObject(time) || !['concat', 'sinusoidal', 'fourier'].includes(time.kind as string)) {
    configError(source, 'time', `must be { kind: concat, sinusoidal or fourier }, got ${show(time)}`);
  }
  const { kind, scale } = time as { kind: string; scale?: unknown };
  const features = kind === 'concat' ? 0 : integerField(time as Record<string, unknown>, 'features', 1, source, 'time.features');
  if (kind === 'fourier' && scale !== undefined && !(typeof scale === 'number' && Number.isFinite(scale))) {
    configError(source, 'time.scale', `must be a finite number, got ${show(scale)}`);
  }
  // A conditional field (config.classes = K > 0, absent in files from before conditioning) adds its class embedding.
  const classes = config.classes === undefined ? 0 : integerField(config, 'classes', 0, source);
  const classDim = classes > 0 ? integerField(config, 'classDim', 1, source) : 0;
  const widths = [dim + (kind === 'concat' ? 1 : 2 * features) + classDim, ...hidden, dim];
  function* tensors(): Generator<TensorSpec> {
    yield* linearChain('net.', widths);
    if (classes > 0) yield { name: 'class.embedding', shape: [classes + 1, classDim], dtypes: FLOAT32 };
    if (features > 0) yield { name: 'time.frequencies', shape: [features], dtypes: ['float64', 'float32'], buffer: true };
  }
  return { tensors: { [Symbol.iterator]: tensors }, unstoredBytes: 0 };
}

/**
 * The U-Net a flow-matching config with `model: 'unet'` describes (`dim` = side², `channels`, `classes`), as makeModel
 * would build it: unetTensors' list, all float32 parameters.
 */
export function unetArchitecture(config: Record<string, unknown>, source = 'checkpoint'): Architecture {
  const dim = integerField(config, 'dim', 16, source);
  const side = Math.round(Math.sqrt(dim));
  if (side * side !== dim || side % 4 !== 0) configError(source, 'dim', `must be the square of a side divisible by 4 for a unet, got ${dim}`);
  const channels = integerField(config, 'channels', 1, source);
  if (channels > 1024) configError(source, 'channels', `must be at most 1024, got ${channels}`);
  const classes = config.classes === undefined ? 0 : integerField(config, 'classes', 0, source);
  if (classes > 1_000_000) configError(source, 'classes', `must be at most 1000000, got ${classes}`);
  const list = () => Array.from(unetTensors({ size: side, channels, classes }), (t) => ({ ...t, dtypes: FLOAT32 }));
  return { tensors: { [Symbol.iterator]: () => list()[Symbol.iterator]() }, unstoredBytes: 0 };
}

/** The velocity field's architecture by config.model: the MLP's (the default, also for files from before U-Nets) or the U-Net's. */
export function modelArchitecture(config: Record<string, unknown>, source = 'checkpoint'): Architecture {
  if (config.model === undefined || config.model === 'mlp') return mlpArchitecture(config, source);
  if (config.model === 'unet') return unetArchitecture(config, source);
  return configError(source, 'model', `must be mlp or unet, got ${show(config.model)}`);
}

/**
 * The normalizing flow a flow config (`dim`, `couplings`, `hidden`, `activation`, `actnorm`, defaults filled in)
 * describes, as makeFlow would build it: per coupling k, a Reverse after the first (no parameters, but a D × D
 * float32 permutation matrix), an ActNorm when `actnorm` (`logScale`, `bias`: (D)), and the AffineCoupling's
 * conditioner `net.<2i>.weight` / `.bias` for widths [⌊D/2⌋, …hidden, 2(D − ⌊D/2⌋)], all under `layers.<index>.`.
 */
export function flowArchitecture(config: Record<string, unknown>, source = 'checkpoint'): Architecture {
  const dim = integerField(config, 'dim', 2, source);
  const couplings = integerField(config, 'couplings', 1, source);
  const hidden = widthsField(config, 'hidden', source);
  activationField(config, 'activation', source);
  if (typeof config.actnorm !== 'boolean') configError(source, 'actnorm', `must be true or false, got ${show(config.actnorm)}`);
  const split = Math.floor(dim / 2);
  const widths = [split, ...hidden, 2 * (dim - split)];
  function* tensors(): Generator<TensorSpec> {
    let layer = 0;
    for (let k = 0; k < couplings; k++) {
      if (k > 0) layer++; // a Reverse
      if (config.actnorm) {
        yield { name: `layers.${layer}.logScale`, shape: [dim], dtypes: FLOAT32 };
        yield { name: `layers.${layer}.bias`, shape: [dim], dtypes: FLOAT32 };
        layer++;
      }
      yield* linearChain(`layers.${layer}.net.`, widths);
      layer++;
    }
  }
  return { tensors: { [Symbol.iterator]: tensors }, unstoredBytes: (couplings - 1) * dim * dim * BYTES.float32 };
}

/** What else a checkpoint must hold beside the model's tensors. */
export interface CheckOptions {
  /** The optimizer's slots (`m`, `v` for Adam): `optim.<slot>.<i>` holds parameter i's, of its shape. */
  optimizerSlots?: readonly string[];
  /** `required`: `ema.<name>` for every parameter (a run with EMA); `when-present`: the same, if the file has any. */
  ema?: 'required' | 'when-present';
}

/** A shape as errors print it, with the dtype when it matters: `[3, 64]`, `float64 [3, 64]`. */
const describe = (shape: readonly number[], dtype?: T.DType) => `${dtype ? `${dtype} ` : ''}[${shape.join(', ')}]`;

/**
 * Checks, before anything is built, that a checkpoint holds exactly the tensors `arch` describes — under `model.`
 * every parameter and buffer, nothing more, each of the shape and dtype the config implies; the optimizer's slots and
 * the EMA weights when `options` asks for them — and that building the model stays within the file's size. Throws
 * CheckpointError naming the file and the first tensor that differs:
 * `m.rill: the config describes model.net.0.weight as [3, 1000000000] but the file holds [3, 64]`.
 * The work is bounded by the number of tensors in the file, whatever the config says.
 */
export function checkTensors(ckpt: Checkpoint, arch: Architecture, options: CheckOptions = {}): void {
  const source = ckpt.source ?? 'checkpoint';
  const fail = (why: string): never => {
    throw new CheckpointError(source, why);
  };
  const names = Object.keys(ckpt.tensors);
  const compare = (name: string, spec: TensorSpec) => {
    const t = Object.hasOwn(ckpt.tensors, name) ? ckpt.tensors[name] : undefined;
    if (!t) return fail(`the config describes ${name} as ${describe(spec.shape)} but the file holds no such tensor`);
    const dtypeOk = spec.dtypes.includes(t.dtype);
    const shapeOk = t.shape.length === spec.shape.length && t.shape.every((d, i) => d === spec.shape[i]);
    if (!dtypeOk || !shapeOk) {
      fail(`the config describes ${name} as ${describe(spec.shape, dtypeOk ? undefined : spec.dtypes[0])} but the file holds ${describe(t.shape, dtypeOk ? undefined : t.dtype)}`);
    }
  };
  // The model: each tensor the config describes, in order, stopping at the first that differs (so a config that
  // describes a billion tensors costs as much as the file's), then nothing the config does not describe.
  const parameters: TensorSpec[] = [];
  const described = new Set<string>();
  for (const spec of arch.tensors) {
    compare(`model.${spec.name}`, spec);
    described.add(`model.${spec.name}`);
    if (!spec.buffer) parameters.push(spec);
  }
  const extra = names.find((n) => n.startsWith('model.') && !described.has(n));
  if (extra !== undefined) fail(`the file holds ${oneLine(extra)}, which the config does not describe`);

  // The optimizer: every slot it keeps, one tensor per parameter, of the parameter's shape; no other slot.
  if (options.optimizerSlots) {
    const counts = new Map<string, number>();
    for (const n of names) {
      const slot = n.split('.')[1];
      if (n.startsWith('optim.')) counts.set(slot, (counts.get(slot) ?? 0) + 1);
    }
    for (const [slot, count] of counts) {
      if (!options.optimizerSlots.includes(slot)) fail(`the file holds optimizer slot '${oneLine(slot)}', which this optimizer does not keep (it keeps ${options.optimizerSlots.join(', ')})`);
      if (count !== parameters.length) fail(`optimizer slot '${oneLine(slot)}' has ${count} of ${parameters.length} tensors`);
    }
    for (const slot of options.optimizerSlots) {
      if (!counts.has(slot)) fail(`has no optimizer state (slot '${slot}' for ${parameters.length} parameters), so the run cannot resume exactly`);
      parameters.forEach((spec, i) => compare(`optim.${slot}.${i}`, { ...spec, dtypes: spec.dtypes.slice(0, 1) }));
    }
  }

  // The EMA of the parameters: one per parameter, of its shape.
  const ema = names.filter((n) => n.startsWith('ema.'));
  if (options.ema === 'required' && ema.length !== parameters.length) fail(`the config has EMA but the file holds ${ema.length} of ${parameters.length} EMA tensors`);
  if (options.ema && ema.length > 0) {
    for (const spec of parameters) compare(`ema.${spec.name}`, spec);
    const averaged = new Set(parameters.map((p) => `ema.${p.name}`));
    const emaExtra = ema.find((n) => !averaged.has(n));
    if (emaExtra !== undefined) fail(`the file holds ${oneLine(emaExtra)}, which the config does not describe`);
  }

  // What building the model allocates beyond copies of the file's tensors.
  const stored = Object.values(ckpt.tensors).reduce((s, t) => s + t.size * BYTES[t.dtype], 0);
  if (arch.unstoredBytes > stored + UNSTORED_ALLOWANCE) {
    fail(`the config describes a model that needs ${arch.unstoredBytes} bytes beyond its stored tensors (a flow's permutation matrices), more than a file with ${stored} bytes of tensors may ask for`);
  }
}

/**
 * Runs a training config's own check (validateConfig, validateFlowConfig) on a config read from a file, with errors
 * as one-line CheckpointErrors naming the file: `m.rill: config.steps must be a positive integer, got -1`. First makes
 * sure that every field whose default is a number, string, boolean or null holds one of those (not an object that
 * the check's messages could not print) and that the seed is one a Generator accepts.
 */
export function checkConfig<C extends object>(config: C, defaults: C, validate: (c: C) => void, source = 'checkpoint'): void {
  const fields = config as Record<string, unknown>;
  for (const [field, fallback] of Object.entries(defaults)) {
    const v = fields[field];
    const scalar = (x: unknown) => x === null || ['number', 'string', 'boolean'].includes(typeof x);
    if (scalar(fallback) && !scalar(v)) configError(source, field, `must be a number, a string, true, false or null, got ${show(v)}`);
  }
  integerField(fields, 'seed', 0, source);
  try {
    validate(config);
  } catch (e) {
    if (!(e instanceof T.RillError)) throw e;
    const message = oneLine(e.message.replace(/^config: /, 'config.'));
    throw new CheckpointError(source, message.length > 300 ? `${message.slice(0, 300)}…` : message);
  }
}

/** A string from a file as it is (clipped, on one line), any other value as JSON: for `holds a 'flow' model`. */
export function plain(x: unknown): string {
  return typeof x === 'string' ? oneLine(x.length > 60 ? `${x.slice(0, 60)}…` : x) : show(x);
}
