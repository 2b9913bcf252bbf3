// The `.rill` file format (models and training checkpoints alike): a versioned, checksummed header and payload.
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
  /** Where the checkpoint was read from (decodeCheckpoint's `source`), to name it in errors; never written to a file. */
  source?: string;
}

/** The `.rill` format version encodeCheckpoint writes: 2, whose header has a CRC-32 of its own. */
export const FORMAT_VERSION = 2;
/** Every format version decodeCheckpoint reads: 1 (no header checksum) and 2. A newer format adds its number here. */
export const READ_VERSIONS: readonly number[] = [1, 2];
const MAGIC = [0x52, 0x49, 0x4c, 0x4c]; // "RILL"

/** A file that is not a valid `.rill` checkpoint (truncated, corrupted, wrong version…), or whose config does not fit its tensors. */
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

/** One tensor as the header lists it: where its elements sit in the payload. */
interface Entry {
  name: string;
  dtype: T.DType;
  shape: number[];
  offset: number;
  bytes: number;
}

/** The header's JSON, once checked. */
interface Header {
  kind: string;
  config: Record<string, unknown>;
  step: number;
  rng: GeneratorState | null;
  meta: Record<string, unknown>;
  tensors: Entry[];
  payloadBytes: number;
  crc32: number;
}

export const BYTES: Record<T.DType, number> = { float32: 4, float64: 8, int32: 4 };

/** Bytes before the header JSON (magic, version, header length), and after it in version 2 (the header's CRC-32). */
const PREFIX = 12;
const headerCrcBytes = (version: number) => (version >= 2 ? 4 : 0);
/** Where the payload starts: the first multiple of 8 after the header (and its CRC-32). */
const payloadStart = (version: number, headerLength: number) => Math.ceil((PREFIX + headerLength + headerCrcBytes(version)) / 8) * 8;

/**
 * Encodes a checkpoint as a `.rill` file, format version 2. Layout (little-endian):
 *
 * | bytes            | what                                                                          |
 * | ---------------- | ----------------------------------------------------------------------------- |
 * | 0–3              | `RILL`                                                                         |
 * | 4–7              | u32 format version (2)                                                         |
 * | 8–11             | u32 header length H                                                            |
 * | 12 … 12 + H      | the header: UTF-8 JSON (format, version, kind, config, step, rng, meta, the    |
 * |                  | tensor entries {name, dtype, shape, offset, bytes}, payloadBytes, crc32)       |
 * | next 4           | u32 CRC-32 of the header's H bytes (new in version 2)                          |
 * | then             | zero padding to a multiple of 8, then the payload: every tensor's elements,    |
 * |                  | each at an 8-byte-aligned offset; the header's `crc32` is the payload's CRC-32  |
 *
 * Version 1 is the same without the header's CRC-32. A change to the header or the layout takes a new version
 * number, and decodeCheckpoint keeps reading every earlier one (see READ_VERSIONS).
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
  const start = payloadStart(FORMAT_VERSION, json.length);
  const out = new Uint8Array(start + payload.length);
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, FORMAT_VERSION, true);
  view.setUint32(8, json.length, true);
  out.set(json, PREFIX);
  view.setUint32(PREFIX + json.length, crc32(json), true);
  out.set(payload, start);
  return out;
}

/**
 * Reads a `.rill` file's bytes (format version 1 or 2); `source` names the file in errors. Throws CheckpointError on
 * anything malformed. Every header field and tensor entry is checked before a tensor is made (entries must lie
 * inside the payload without overlapping), so the tensors it returns take at most the file's own size.
 */
export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): Checkpoint {
  const fail = (why: string): never => {
    throw new CheckpointError(source, why);
  };
  if (bytes.length < PREFIX || MAGIC.some((b, i) => bytes[i] !== b)) fail('not a .rill file (bad magic bytes)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (!READ_VERSIONS.includes(version)) {
    const known = `${READ_VERSIONS.slice(0, -1).join(', ')} and ${READ_VERSIONS[READ_VERSIONS.length - 1]}`;
    fail(`format version ${version} is not supported (this Rill reads versions ${known})`);
  }
  const headerLength = view.getUint32(8, true);
  const headerEnd = PREFIX + headerLength;
  if (headerEnd + headerCrcBytes(version) > bytes.length) fail('truncated (the header is incomplete)');
  const headerBytes = bytes.subarray(PREFIX, headerEnd);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch {
    return fail('corrupted (the header is not valid JSON)');
  }
  // The structure first, so that the error says what is wrong; then the checksum, which also catches the changes
  // that keep the structure valid (a width, a step, an offset).
  const header = checkHeader(json, version, fail);
  if (version >= 2 && crc32(headerBytes) !== view.getUint32(headerEnd, true)) fail('corrupted (header checksum mismatch)');
  const start = payloadStart(version, headerLength);
  if (bytes.length < start + header.payloadBytes) fail(`truncated (${bytes.length} bytes, expected ${start + header.payloadBytes})`);
  if (bytes.length > start + header.payloadBytes) fail(`has ${bytes.length - start - header.payloadBytes} unexpected trailing bytes`);
  if (crc32(bytes.subarray(start, start + header.payloadBytes)) !== header.crc32) fail('corrupted (payload checksum mismatch)');
  const tensors = Object.fromEntries(
    header.tensors.map((e) => {
      const at = start + e.offset;
      // its own buffer, aligned for the typed array (Uint8Array's slice: a Node Buffer's own slice is a view, not a copy)
      const copy = Uint8Array.prototype.slice.call(bytes, at, at + e.bytes);
      const Ctor = e.dtype === 'float32' ? Float32Array : e.dtype === 'float64' ? Float64Array : Int32Array;
      return [e.name, T.tensor(new Ctor(copy.buffer, 0, e.bytes / BYTES[e.dtype]), { shape: e.shape, dtype: e.dtype })];
    }),
  );
  return { kind: header.kind, config: header.config, step: header.step, rng: header.rng ?? undefined, tensors, meta: header.meta, source };
}

export const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
/** Tensor names and kinds: no control characters (so that every error stays on one line), and not too long. */
const NAME = /^[^\p{Cc}\u2028\u2029]{1,256}$/u;
const KIND = /^[A-Za-z0-9_.-]{1,64}$/;

/** The header's JSON if it describes a checkpoint (every field, every tensor entry), else a CheckpointError. */
function checkHeader(h: unknown, version: number, fail: (why: string) => never): Header {
  const bad = (field: string, why: string): never => fail(`corrupted (the header does not describe a checkpoint): ${field} ${why}`);
  if (!isObject(h)) return bad('the header', 'is not a JSON object');
  if (h.format !== 'rill') bad('format', `must be "rill", got ${show(h.format)}`);
  if (h.version !== version) bad('version', `${show(h.version)} differs from the file's format version ${version}`);
  if (typeof h.kind !== 'string' || !KIND.test(h.kind)) bad('kind', `must be a short name (letters, digits, _ . -), got ${show(h.kind)}`);
  if (!isObject(h.config)) bad('config', `must be an object, got ${show(h.config)}`);
  if (!isCount(h.step)) bad('step', `must be a non-negative integer, got ${show(h.step)}`);
  if (h.rng !== null && h.rng !== undefined && !isGeneratorState(h.rng)) bad('rng', `must be null or a generator state, got ${show(h.rng)}`);
  if (h.meta !== undefined && !isObject(h.meta)) bad('meta', `must be an object, got ${show(h.meta)}`);
  if (!isCount(h.payloadBytes)) bad('payloadBytes', `must be a non-negative integer, got ${show(h.payloadBytes)}`);
  if (!isCount(h.crc32) || h.crc32 >= 2 ** 32) bad('crc32', `must be a 32-bit unsigned integer, got ${show(h.crc32)}`);
  if (!Array.isArray(h.tensors)) return bad('tensors', `must be a list, got ${show(h.tensors)}`);
  const payloadBytes = h.payloadBytes as number;
  const seen = new Set<string>();
  const entries = h.tensors.map((e: unknown, i): Entry => {
    const field = `tensors[${i}]`;
    if (!isObject(e)) return bad(field, `must be an object, got ${show(e)}`);
    const { name, dtype, shape, offset, bytes } = e;
    if (typeof name !== 'string' || !NAME.test(name)) return bad(`${field}.name`, `must be 1 to 256 printable characters, got ${show(name)}`);
    if (seen.has(name)) fail(`corrupted (tensor '${name}' is listed twice)`);
    seen.add(name);
    if (typeof dtype !== 'string' || !Object.hasOwn(BYTES, dtype)) return bad(`${field}.dtype`, `must be float32, float64 or int32, got ${show(dtype)}`);
    if (!Array.isArray(shape) || !shape.every(isCount)) return bad(`${field}.shape`, `must be a list of non-negative integers, got ${show(shape)}`);
    const size = (shape as number[]).reduce((p, d) => p * d, 1);
    const width = BYTES[dtype as T.DType];
    if (!isCount(bytes) || bytes !== size * width) bad(`${field}.bytes`, `must be ${size} × ${width} for ${dtype}[${shape}], got ${show(bytes)}`);
    const placed = isCount(offset) && offset % width === 0 && offset + (bytes as number) <= payloadBytes;
    if (!placed) fail(`corrupted (bad entry for tensor '${name}': offset ${show(offset)}, ${bytes} bytes of ${dtype})`);
    return { name, dtype: dtype as T.DType, shape: shape as number[], offset: offset as number, bytes: bytes as number };
  });
  // Entries must not overlap, so that the tensors together take at most the payload's size.
  const byOffset = entries.filter((e) => e.bytes > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < byOffset.length; i++) {
    const [prev, next] = [byOffset[i - 1], byOffset[i]];
    if (prev.offset + prev.bytes > next.offset) fail(`corrupted (tensors '${prev.name}' and '${next.name}' overlap in the payload)`);
  }
  const { kind, config, step, rng, meta, crc32: payloadCrc } = h as unknown as Header;
  return { kind, config, step, rng: rng ?? null, meta: meta ?? {}, tensors: entries, payloadBytes, crc32: payloadCrc };
}

/** Whether x looks like a generator state (what Generator.setState accepts). */
function isGeneratorState(x: unknown): x is GeneratorState {
  if (!isObject(x) || x.algorithm !== 'xoshiro128**' || !Array.isArray(x.state) || x.state.length !== 4) return false;
  return x.state.every((w) => isCount(w) && w < 2 ** 32) && x.state.some((w) => w !== 0);
}

/** A value from a file as a short, one-line piece of an error message. */
export function show(x: unknown, max = 60): string {
  let text: string;
  try {
    text = x === undefined ? 'nothing' : (JSON.stringify(x) ?? String(x));
  } catch {
    text = Object.prototype.toString.call(x);
  }
  return oneLine(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** `text` with every line break and control character escaped (`\n`, `\u0007`): error messages stay one line. */
export function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029]/gu, (c) => (c === '\n' ? '\\n' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
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
