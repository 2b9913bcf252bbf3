// The `.rill` file format (models and training checkpoints alike): versioned header, float payload, CRC-32 checksum.
import * as T from '@rill/tensor';
import type { GeneratorState, Tensor } from '@rill/tensor';

/** What a `.rill` file holds. Tensor names are dotted paths: `model.net.0.weight`, `optim.m.0`, `ema.net.0.bias`. */
export interface Checkpoint {
  /** `cfm` (flow matching) or `flow` (a normalizing flow). */
  kind: string;
  /** The configuration that rebuilds the model (and the training run), as plain JSON. */
  config: Record<string, unknown>;
  /** Training steps taken. */
  step: number;
  /** The training generator's state, to resume the exact random stream. */
  rng?: GeneratorState;
  /** The tensors by dotted name (float32, float64 or int32). */
  tensors: Record<string, Tensor>;
  /** Free-form JSON (metrics, timings, history). */
  meta?: Record<string, unknown>;
}

/** The `.rill` format version written after the magic bytes; decodeCheckpoint accepts only this version. */
export const FORMAT_VERSION = 1;
const MAGIC = [0x52, 0x49, 0x4c, 0x4c]; // "RILL"

/** A file that is not a valid `.rill` checkpoint (truncated, corrupted, wrong version…). */
export class CheckpointError extends T.RillError {}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3 polynomial 0xEDB88320, reflected), as zlib computes it. crc32("123456789") = 0xCBF43926. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

interface Entry {
  name: string;
  dtype: T.DType;
  shape: number[];
  offset: number;
  bytes: number;
}

const BYTES: Record<T.DType, number> = { float32: 4, float64: 8, int32: 4 };

/**
 * Layout (little-endian): "RILL" · u32 version · u32 header length · header JSON (UTF-8) · zero padding to a multiple
 * of 8 · payload (every tensor's elements, each 8-byte aligned). The header lists each tensor (name, dtype, shape,
 * offset, bytes), the payload length and the payload's CRC-32.
 */
export function encodeCheckpoint(ckpt: Checkpoint): Uint8Array {
  const entries: Entry[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(ckpt.tensors)) {
    const bytes = t.size * BYTES[t.dtype];
    entries.push({ name, dtype: t.dtype, shape: [...t.shape], offset, bytes });
    offset += Math.ceil(bytes / 8) * 8;
  }
  const payload = new Uint8Array(offset);
  entries.forEach((e) => {
    const data = ckpt.tensors[e.name].data;
    payload.set(new Uint8Array(data.buffer, data.byteOffset, e.bytes), e.offset);
  });
  const header = {
    format: 'rill',
    version: FORMAT_VERSION,
    kind: ckpt.kind,
    config: ckpt.config,
    step: ckpt.step,
    rng: ckpt.rng ?? null,
    meta: ckpt.meta ?? {},
    tensors: entries,
    payloadBytes: payload.length,
    crc32: crc32(payload),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((12 + json.length) / 8) * 8;
  const out = new Uint8Array(start + payload.length);
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, FORMAT_VERSION, true);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(payload, start);
  return out;
}

/** Reads a `.rill` file's bytes; `source` names the file in errors. Throws CheckpointError on anything malformed. */
export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): Checkpoint {
  const fail = (why: string): never => {
    throw new CheckpointError(source, why);
  };
  if (bytes.length < 12 || MAGIC.some((b, i) => bytes[i] !== b)) fail('not a .rill file (bad magic bytes)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== FORMAT_VERSION) fail(`format version ${version} is not supported (this Rill reads version ${FORMAT_VERSION})`);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) fail('truncated (the header is incomplete)');
  let header: { kind: string; config: Record<string, unknown>; step: number; rng: GeneratorState | null; meta: Record<string, unknown>; tensors: Entry[]; payloadBytes: number; crc32: number };
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + headerLength)));
  } catch {
    return fail('corrupted (the header is not valid JSON)');
  }
  const wellFormed =
    header !== null && typeof header === 'object' && typeof header.kind === 'string' && Number.isInteger(header.step) && header.step >= 0 &&
    header.config !== null && typeof header.config === 'object' && Array.isArray(header.tensors) && Number.isInteger(header.payloadBytes) &&
    Number.isInteger(header.crc32) &&
    header.tensors.every((e) => typeof e?.name === 'string' && Array.isArray(e.shape) && e.shape.every((d) => Number.isInteger(d) && d >= 0) &&
      Number.isInteger(e.offset) && Number.isInteger(e.bytes) && e.bytes === e.shape.reduce((p, d) => p * d, 1) * (BYTES[e.dtype] ?? NaN));
  if (!wellFormed) fail('corrupted (the header does not describe a checkpoint)');
  const start = Math.ceil((12 + headerLength) / 8) * 8;
  if (bytes.length < start + header.payloadBytes) fail(`truncated (${bytes.length} bytes, expected ${start + header.payloadBytes})`);
  if (bytes.length > start + header.payloadBytes) fail(`has ${bytes.length - start - header.payloadBytes} unexpected trailing bytes`);
  const payload = bytes.slice(start, start + header.payloadBytes); // a copy: aligned, and independent of the file buffer
  if (crc32(payload) !== header.crc32) fail('corrupted (payload checksum mismatch)');
  const tensors: Record<string, Tensor> = {};
  for (const e of header.tensors) {
    const bad = !(e.dtype in BYTES) || e.offset < 0 || e.offset % BYTES[e.dtype] !== 0 || e.offset + e.bytes > payload.length;
    if (bad) fail(`corrupted (bad entry for tensor '${e.name}': offset ${e.offset}, ${e.bytes} bytes of ${e.dtype})`);
    const Ctor = e.dtype === 'float32' ? Float32Array : e.dtype === 'float64' ? Float64Array : Int32Array;
    tensors[e.name] = T.tensor(new Ctor(payload.buffer, e.offset, e.bytes / BYTES[e.dtype]), { shape: e.shape, dtype: e.dtype });
  }
  return { kind: header.kind, config: header.config, step: header.step, rng: header.rng ?? undefined, tensors, meta: header.meta };
}

/** The tensors stored under `prefix` (e.g. `model.`), with the prefix removed from their names. */
export function tensorsUnder(ckpt: Checkpoint, prefix: string): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(ckpt.tensors).filter(([n]) => n.startsWith(prefix)).map(([n, t]) => [n.slice(prefix.length), t]));
}

/** An optimizer's slot lists, stored as `optim.<slot>.<i>`. */
export function optimizerSlots(ckpt: Checkpoint): Record<string, Tensor[]> {
  const slots: Record<string, Tensor[]> = {};
  for (const [name, t] of Object.entries(tensorsUnder(ckpt, 'optim.'))) {
    const [slot, i] = name.split('.');
    (slots[slot] ??= [])[Number(i)] = t;
  }
  return slots;
}

/**
 * A trainer's checkpoint: model weights under `model.`, the optimizer's slots under `optim.<slot>.<i>`, any `extra`
 * tensors by their own names, and the optimizer's kind and step in `meta`.
 */
export function trainerCheckpoint(
  head: Pick<Checkpoint, 'kind' | 'config' | 'step' | 'rng'>,
  model: Record<string, Tensor>,
  optimizer: { kind: string; step: number; slots: Record<string, Tensor[]> },
  extra: Record<string, Tensor>,
  meta: Record<string, unknown>,
): Checkpoint {
  const tensors: Record<string, Tensor> = {};
  for (const [n, t] of Object.entries(model)) tensors[`model.${n}`] = t;
  for (const [slot, list] of Object.entries(optimizer.slots)) list.forEach((t, i) => (tensors[`optim.${slot}.${i}`] = t));
  return { ...head, tensors: { ...tensors, ...extra }, meta: { optimizer: optimizer.kind, optimizerStep: optimizer.step, ...meta } };
}
