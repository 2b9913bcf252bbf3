// Reading and writing safetensors files, the weight format PyTorch models are shared in (Hugging Face).
//
// The format (https://github.com/huggingface/safetensors): u64 LE header length N · N bytes of UTF-8 JSON
//   {"net.0.weight": {"dtype": "F32", "shape": [64, 3], "data_offsets": [begin, end]}, …, "__metadata__": {"k": "v"}}
// · the byte buffer: each tensor's elements, little-endian in C order, at [begin, end) counted from the buffer's start.
// Like checkpoint.ts, this assumes a little-endian host (every platform JavaScript runs on in practice).
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';

/** The dtypes read: F32, F64 and I32 are kept as they are; F16 and BF16 become float32 (exactly: both fit in it). */
const DTYPES: Record<string, { bytes: number; dtype: T.DType }> = {
  F32: { bytes: 4, dtype: 'float32' },
  F64: { bytes: 8, dtype: 'float64' },
  I32: { bytes: 4, dtype: 'int32' },
  F16: { bytes: 2, dtype: 'float32' },
  BF16: { bytes: 2, dtype: 'float32' },
};
const CODE_OF: Record<T.DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32' };
/** The reference implementation's limit on the header's size (100 MB), which also catches files of another kind. */
const MAX_HEADER = 100_000_000;

/** A safetensors file parsed by {@link parseSafetensors}. */
export interface SafetensorsFile {
  /** The tensors by name (float32, float64 or int32). */
  tensors: Record<string, Tensor>;
  /** The string-to-string `__metadata__` map ({} when the file has none). */
  metadata: Record<string, string>;
}

/** One tensor's entry in the header, once checked. */
interface Entry {
  name: string;
  code: string;
  shape: number[];
  begin: number;
  end: number;
}

/** An IEEE half-precision value (its 16 bits) as a number: sign · 2^(exponent − 15) · 1.fraction, exactly. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** A tensor's elements from its bytes (a fresh, aligned copy), decoded from the file's dtype. */
function decode(code: string, raw: Uint8Array, shape: number[]): Tensor {
  const bytes = Uint8Array.prototype.slice.call(raw); // a copy, aligned for any typed array (a Node Buffer's own slice is a view)
  if (code === 'F32' || code === 'F64' || code === 'I32') {
    const Ctor = code === 'F32' ? Float32Array : code === 'F64' ? Float64Array : Int32Array;
    return T.tensor(new Ctor(bytes.buffer), { shape, dtype: DTYPES[code].dtype });
  }
  const halves = new Uint16Array(bytes.buffer);
  const out = new Float32Array(halves.length);
  if (code === 'BF16') {
    // bfloat16 is the top half of a float32: shift its 16 bits into place.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < halves.length; i++) bits[i] = halves[i] << 16;
  } else {
    for (let i = 0; i < halves.length; i++) out[i] = halfToNumber(halves[i]);
  }
  return T.tensor(out, { shape });
}

/**
 * Reads a safetensors file. Every entry is checked before any tensor is made: the header's length and JSON, each
 * tensor's dtype (F32, F64, I32, F16, BF16), shape and data_offsets (inside the buffer, spanning exactly
 * shape × dtype size bytes), and `__metadata__` (strings only). Problems are ValueErrors naming `source` and the
 * tensor: `model.safetensors: tensor 'net.0.weight': dtype 'I64' is not supported (…)`.
 */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsFile {
  const fail = (why: string): never => {
    throw new T.ValueError(source, why);
  };
  if (bytes.length < 8) fail(`truncated (${bytes.length} bytes: a safetensors file starts with an 8-byte header length)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(4, true) * 2 ** 32 + view.getUint32(0, true); // u64 LE, as two u32 halves
  if (headerLength > MAX_HEADER) fail(`the header length ${headerLength} is over the 100 MB limit (not a safetensors file?)`);
  if (8 + headerLength > bytes.length) fail(`truncated (the header is ${headerLength} bytes, but only ${bytes.length - 8} follow its length)`);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    return fail('the header is not valid JSON (not a safetensors file?)');
  }
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(header)) return fail('the header is not a JSON object');

  const meta = header.__metadata__ ?? {};
  if (!isObject(meta)) fail('__metadata__ must be an object of strings');
  for (const [key, value] of Object.entries(meta as Record<string, unknown>)) {
    if (typeof value !== 'string') fail(`__metadata__ value '${key}' must be a string, got ${JSON.stringify(value)}`);
  }
  // Object.fromEntries makes every name an own property, '__proto__' included (an assignment would not).
  const metadata = Object.fromEntries(Object.entries(meta as Record<string, string>));

  const bufferStart = 8 + headerLength;
  const bufferLength = bytes.length - bufferStart;
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const bad = (why: string) => fail(`tensor '${name}': ${why}`);
    if (!isObject(info)) return bad('its entry is not an object with dtype, shape and data_offsets');
    const { dtype: code, shape, data_offsets: offsets } = info;
    if (typeof code !== 'string' || !Object.hasOwn(DTYPES, code)) {
      bad(`dtype ${JSON.stringify(code)} is not supported (Rill reads ${Object.keys(DTYPES).join(', ')})`);
    }
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
      bad(`shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      bad(`data_offsets must be [begin, end] with integers 0 ≤ begin ≤ end, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > bufferLength) bad(`data_offsets [${begin}, ${end}] run past the end of the ${bufferLength}-byte data buffer (truncated file?)`);
    const dims = shape as number[];
    const needed = dims.reduce((p, d) => p * d, 1) * DTYPES[code as string].bytes;
    if (end - begin !== needed) bad(`data_offsets [${begin}, ${end}] span ${end - begin} bytes, but shape [${dims}] of ${code} needs ${needed}`);
    entries.push({ name, code: code as string, shape: dims, begin, end });
  }

  const tensors = Object.fromEntries(entries.map((e) => [e.name, decode(e.code, bytes.subarray(bufferStart + e.begin, bufferStart + e.end), e.shape)]));
  return { tensors, metadata };
}

/**
 * A safetensors file of float32 (F32), float64 (F64) and int32 (I32) tensors: tensors in sorted name order, their
 * data laid out contiguously in that order, the header JSON padded with spaces to a multiple of 8 bytes (as the
 * reference implementation pads it), and `metadata` as `__metadata__` when given.
 */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort();
  if (names.includes('__metadata__')) throw new T.ValueError('encodeSafetensors', "'__metadata__' is reserved and cannot name a tensor");
  const entries: [string, unknown][] = [];
  if (metadata) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new T.ValueError('encodeSafetensors', `metadata value '${key}' must be a string, got ${typeof value}`);
    }
    entries.push(['__metadata__', metadata]);
  }
  const data = names.map((name) => tensors[name].data); // read each tensor once (a copy on GPU backends)
  let offset = 0;
  names.forEach((name, i) => {
    const end = offset + data[i].byteLength;
    entries.push([name, { dtype: CODE_OF[tensors[name].dtype], shape: [...tensors[name].shape], data_offsets: [offset, end] }]);
    offset = end;
  });
  const json = new TextEncoder().encode(JSON.stringify(Object.fromEntries(entries)));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setUint32(0, headerLength, true); // the u64's high half stays 0
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength); // spaces
  let at = 8 + headerLength;
  for (const d of data) {
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}
