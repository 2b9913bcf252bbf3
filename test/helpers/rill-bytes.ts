// Test helpers that take a `.rill` file apart and put it back together, re-signed, so edited headers reach the loader.
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';

/** A `.rill` file's parts: its format version, its header as parsed JSON and its payload bytes. */
export interface RillParts {
  version: number;
  header: Record<string, unknown>;
  payload: Uint8Array;
}

/** Splits a `.rill` file (version 1 or 2) into its version, header JSON and payload. */
export function splitRill(bytes: Uint8Array): RillParts {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  const headerLength = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
  const start = Math.ceil((12 + headerLength + (version >= 2 ? 4 : 0)) / 8) * 8;
  return { version, header, payload: bytes.slice(start) };
}

/**
 * Writes the parts back as a `.rill` file with valid checksums: the header's `crc32` becomes the payload's CRC-32
 * (unless `signPayload` is false) and, in version 2, the header's own CRC-32 follows it (unless `signHeader` is false).
 * The header is written as given otherwise, fields that make no sense included: that is what the tests want.
 */
export function joinRill(parts: RillParts, { signHeader = true, signPayload = true } = {}): Uint8Array {
  const { version, payload } = parts;
  const header = signPayload ? { ...parts.header, crc32: F.crc32(payload) } : parts.header;
  const json = new TextEncoder().encode(JSON.stringify(header));
  const crcBytes = version >= 2 ? 4 : 0;
  const start = Math.ceil((12 + json.length + crcBytes) / 8) * 8;
  const out = new Uint8Array(start + payload.length);
  out.set([0x52, 0x49, 0x4c, 0x4c], 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, version, true);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  if (crcBytes) view.setUint32(12 + json.length, signHeader ? F.crc32(json) : 0, true);
  out.set(payload, start);
  return out;
}

/** The file with its header edited by `edit` (on a deep copy) and re-signed. */
export function editHeader(bytes: Uint8Array, edit: (header: Record<string, any>) => void): Uint8Array {
  const parts = splitRill(bytes);
  const header = structuredClone(parts.header);
  edit(header);
  return joinRill({ ...parts, header });
}

/**
 * Counts the bytes of tensor storage alive at its peak while `run` runs, by Rill's own accounting (T.memory().numBytes,
 * which counts every tensor's storage), not the process's RSS: every call into the active backend (each creation,
 * each kernel, each dispose) first notes the live bytes, so the highest point between two calls is seen. Returns the
 * peak minus the bytes alive before.
 */
export function peakGrowth(run: () => void): number {
  const backend = T.getBackend() as unknown as Record<string, unknown>;
  const before = T.memory().numBytes;
  let peak = before;
  const note = () => {
    peak = Math.max(peak, T.memory().numBytes);
  };
  const methods = new Set<string>();
  for (let o: object | null = backend; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (key !== 'constructor' && typeof d?.value === 'function') methods.add(key);
    }
  }
  const saved = [...methods].map((key) => ({ key, own: Object.hasOwn(backend, key), fn: backend[key] as (...a: unknown[]) => unknown }));
  for (const { key, fn } of saved) {
    backend[key] = function (this: unknown, ...args: unknown[]) {
      note();
      return fn.apply(this, args);
    };
  }
  try {
    run();
  } finally {
    note();
    for (const { key, own, fn } of saved) {
      if (own) backend[key] = fn;
      else delete backend[key];
    }
  }
  return peak - before;
}
