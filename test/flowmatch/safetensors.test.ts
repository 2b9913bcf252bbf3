// safetensors files: a file from an independent Python writer, exact bytes, half-precision decoding, Python reading ours, errors.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { encodeSafetensors, parseSafetensors } from '@rill/flowmatch';
import { thrown, itThrowsValueErrors } from '../helpers/errors.js';
import { python, SAFETENSORS_READER } from '../helpers/python.js';

const FIXTURES = new URL('../fixtures/formats/', import.meta.url);


/** A safetensors file from a header (an object, or raw JSON text) and a data buffer, with no padding. */
function fileWith(header: unknown, buffer: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + buffer.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(buffer, 8 + json.length);
  return out;
}

const u16Bytes = (bits: number[]) => new Uint8Array(new Uint16Array(bits).buffer);

describe('parseSafetensors', () => {
  it('reads the same values from a Node Buffer and from a view inside a larger buffer (was a bug: a Buffer slice is a view)', () => {
    const bytes = encodeSafetensors({ w: T.tensor([1.5, -2, 3], { shape: [3] }), n: T.tensor([7, 8], { shape: [2], dtype: 'int32' }) });
    const inside = new Uint8Array(bytes.length + 16);
    inside.set(bytes, 16);
    for (const view of [Buffer.from(bytes), Buffer.from(inside.buffer, 16, bytes.length)]) {
      const back = parseSafetensors(view);
      expect(Array.from(back.tensors.w.data)).toEqual([1.5, -2, 3]);
      expect(Array.from(back.tensors.n.data)).toEqual([7, 8]);
    }
  });

  it('reads a file from an independent writer: F32, F64, I32, F16, BF16, 0-d and empty tensors, UTF-8 metadata', () => {
    const { tensors, metadata } = parseSafetensors(new Uint8Array(readFileSync(new URL('mixed.safetensors', FIXTURES))), 'mixed.safetensors');
    const expected = JSON.parse(readFileSync(new URL('mixed_expected.json', FIXTURES), 'utf8')) as Record<string, { shape: number[]; values: number[] }>;
    expect(metadata).toEqual({ format: 'pt', note: 'ü ✓' });
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected).sort());
    const dtypes: Record<string, T.DType> = { half: 'float32', single: 'float32', double: 'float64', ints: 'int32', brain: 'float32', scalar: 'float32', empty: 'float32' };
    for (const [name, e] of Object.entries(expected)) {
      expect(tensors[name].dtype, name).toBe(dtypes[name]);
      expect(tensors[name].shape, name).toEqual(e.shape);
      expect(Array.from(tensors[name].data), name).toEqual(e.values); // exact: NumPy's own float16 / bfloat16 values
    }
  });

  it('decodes float16 exactly: zeros, subnormals, normals, the largest value, infinities and NaN', () => {
    const bits = [0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0x3555, 0xc000, 0x7bff, 0x7c00, 0xfc00, 0x7e00];
    const want = [0, -0, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 1, (1 + 341 / 1024) / 4, -2, 65504, Infinity, -Infinity, NaN];
    const { tensors } = parseSafetensors(fileWith({ h: { dtype: 'F16', shape: [12], data_offsets: [0, 24] } }, u16Bytes(bits)));
    expect(Array.from(tensors.h.data)).toEqual(want); // toEqual tells −0 from 0 and matches NaN
    expect(tensors.h.data[6]).toBe(0.333251953125);
  });

  it('decodes bfloat16 as the top half of a float32', () => {
    const bits = [0x3f80, 0xc060, 0x3eab, 0x0001, 0x8000, 0x7f80, 0xff80, 0x7fc0];
    const want = [1, -3.5, 0.333984375, 2 ** -133, -0, Infinity, -Infinity, NaN];
    const { tensors } = parseSafetensors(fileWith({ b: { dtype: 'BF16', shape: [2, 4], data_offsets: [0, 16] } }, u16Bytes(bits)));
    expect(tensors.b.shape).toEqual([2, 4]);
    expect(Array.from(tensors.b.data)).toEqual(want);
  });

  it('reads tensors at unaligned offsets and files at an odd offset of their buffer (the data is copied)', () => {
    const buffer = new Uint8Array(2 + 16);
    new DataView(buffer.buffer).setFloat64(2, Math.PI, true);
    new DataView(buffer.buffer).setFloat64(10, -Math.E, true);
    const file = fileWith({ x: { dtype: 'F64', shape: [2], data_offsets: [2, 18] }, pad: { dtype: 'I32', shape: [0], data_offsets: [0, 0] } }, buffer);
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    expect(Array.from(parseSafetensors(shifted.subarray(1)).tensors.x.data)).toEqual([Math.PI, -Math.E]);
  });

  it("any name is a plain key, '__proto__' included", () => {
    const file = fileWith('{"__metadata__":{"__proto__":"m"},"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(new Float32Array([2]).buffer));
    const { tensors, metadata } = parseSafetensors(file);
    expect(Object.keys(tensors)).toEqual(['__proto__']);
    expect(Array.from(tensors['__proto__'].data)).toEqual([2]);
    expect(Object.getPrototypeOf(tensors)).toBe(Object.prototype);
    expect(Object.entries(metadata)).toEqual([['__proto__', 'm']]);
    const back = parseSafetensors(encodeSafetensors(tensors, metadata));
    expect(Object.keys(back.tensors)).toEqual(['__proto__']);
    expect(Object.entries(back.metadata)).toEqual([['__proto__', 'm']]);
  });

  it('a file without __metadata__ (or with null) has empty metadata', () => {
    expect(parseSafetensors(fileWith({})).metadata).toEqual({});
    expect(parseSafetensors(fileWith({ __metadata__: null })).metadata).toEqual({});
  });
});

describe('encodeSafetensors', () => {
  it('writes sorted keys, contiguous data and a header padded with spaces to a multiple of 8 (hand-computed bytes)', () => {
    const header = '{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[1],"data_offsets":[8,12]}}';
    expect(header.length).toBe(135); // + 1 space = 136 = 17 · 8
    const bytes = encodeSafetensors({ b: T.tensor([7], { dtype: 'int32' }), a: T.tensor([[1.5, -2]]) }, { k: 'v' });
    const expected = Buffer.concat([
      Buffer.from('8800000000000000', 'hex'), // 136, u64 little-endian
      Buffer.from(`${header} `, 'latin1'),
      Buffer.from('0000c03f' + '000000c0' + '07000000', 'hex'), // 1.5f, -2f, 7
    ]);
    expect(Buffer.from(bytes).equals(expected)).toBe(true);
  });

  it('round trip encode → parse keeps names, dtypes, shapes, values and metadata', () => {
    const tensors = {
      'net.0.weight': T.tensor([[1 / 3, -0], [1e-40, 3e38]]),
      z64: T.tensor([Math.PI, -1e-300], { dtype: 'float64' }),
      i: T.tensor([[-(2 ** 31)], [2 ** 31 - 1]], { dtype: 'int32' }),
      s: T.tensor(2.5),
      e: T.zeros([0, 4]),
    };
    const back = parseSafetensors(encodeSafetensors(tensors, { a: '1', b: 'ü' }));
    expect(back.metadata).toEqual({ a: '1', b: 'ü' });
    for (const [name, t] of Object.entries(tensors)) {
      expect(back.tensors[name].dtype).toBe(t.dtype);
      expect(back.tensors[name].shape).toEqual(t.shape);
      expect(Array.from(back.tensors[name].data)).toEqual(Array.from(t.data));
    }
    const noMeta = encodeSafetensors({ x: T.tensor([1]) });
    expect(new TextDecoder().decode(noMeta.subarray(8, 8 + noMeta[0])).trim()).toBe('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
  });

  it('an independent reader in Python (struct + json + NumPy) reads what it writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rill-st-'));
    const file = join(dir, 'w.safetensors');
    writeFileSync(file, encodeSafetensors({ w: T.tensor([[1, 2, 3], [4, 5, 6.5]]), d: T.tensor([Math.E], { dtype: 'float64' }), n: T.tensor([-5, 9], { dtype: 'int32' }) }, { who: 'rill' }));
    const program = `${SAFETENSORS_READER}
meta, tensors = read_safetensors(${JSON.stringify(file)})
out = {"meta": meta}
for name, a in tensors.items():
    out[name] = [{"<f4": "F32", "<f8": "F64", "<i4": "I32"}[a.dtype.str], a.tolist()]
print(json.dumps(out))`;
    const r = python(program);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ meta: { who: 'rill' }, w: ['F32', [[1, 2, 3], [4, 5, 6.5]]], d: ['F64', [Math.E]], n: ['I32', [-5, 9]] });
  });

  it('refuses a tensor named __metadata__ and metadata values that are not strings', () => {
    expect(() => encodeSafetensors({ __metadata__: T.tensor([1]) })).toThrow("encodeSafetensors: '__metadata__' is reserved and cannot name a tensor");
    expect(() => encodeSafetensors({}, { n: 3 as unknown as string })).toThrow("encodeSafetensors: metadata value 'n' must be a string, got number");
  });
});

describe('parseSafetensors errors: a ValueError naming the file and the tensor', () => {
  const f32 = (shape: number[], offsets: number[]) => ({ w: { dtype: 'F32', shape, data_offsets: offsets } });
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setUint32(4, 1, true); // 2³² bytes of header
  const cases: [string, () => unknown, string][] = [
    ['shorter than the length', () => parseSafetensors(new Uint8Array(5), 'm.st'), 'm.st: truncated (5 bytes: a safetensors file starts with an 8-byte header length)'],
    ['a header over 100 MB', () => parseSafetensors(huge, 'm.st'), 'm.st: the header length 4294967296 is over the 100 MB limit (not a safetensors file?)'],
    ['a header past the end', () => parseSafetensors(fileWith('{}').subarray(0, 9), 'm.st'), 'm.st: truncated (the header is 2 bytes, but only 1 follow its length)'],
    ['a header that is not JSON', () => parseSafetensors(fileWith('{"w": '), 'm.st'), 'm.st: the header is not valid JSON (not a safetensors file?)'],
    ['a header that is not UTF-8', () => parseSafetensors(Uint8Array.from([2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe]), 'm.st'), 'm.st: the header is not valid JSON'],
    ['a header that is not an object', () => parseSafetensors(fileWith('[1, 2]'), 'm.st'), 'm.st: the header is not a JSON object'],
    ['metadata that is not an object', () => parseSafetensors(fileWith({ __metadata__: 'x' }), 'm.st'), 'm.st: __metadata__ must be an object of strings'],
    ['a metadata value that is not a string', () => parseSafetensors(fileWith({ __metadata__: { n: 3 } }), 'm.st'), "m.st: __metadata__ value 'n' must be a string, got 3"],
    ['an entry that is not an object', () => parseSafetensors(fileWith({ w: [1] }), 'm.st'), "m.st: tensor 'w': its entry is not an object with dtype, shape and data_offsets"],
    ['an unknown dtype', () => parseSafetensors(fileWith({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), 'm.st'), 'm.st: tensor \'w\': dtype "I64" is not supported (Rill reads F32, F64, I32, F16, BF16)'],
    ['a missing dtype', () => parseSafetensors(fileWith({ w: { shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), 'm.st'), "m.st: tensor 'w': dtype undefined is not supported"],
    ['a negative dimension', () => parseSafetensors(fileWith(f32([2, -1], [0, 0])), 'm.st'), "m.st: tensor 'w': shape must be a list of non-negative integers, got [2,-1]"],
    ['a fractional dimension', () => parseSafetensors(fileWith(f32([1.5], [0, 6])), 'm.st'), "m.st: tensor 'w': shape must be a list of non-negative integers, got [1.5]"],
    ['offsets in the wrong order', () => parseSafetensors(fileWith(f32([1], [4, 0]), new Uint8Array(4)), 'm.st'), "m.st: tensor 'w': data_offsets must be [begin, end] with integers 0 ≤ begin ≤ end, got [4,0]"],
    ['offsets that are not a pair', () => parseSafetensors(fileWith(f32([1], [0]), new Uint8Array(4)), 'm.st'), "m.st: tensor 'w': data_offsets must be [begin, end] with integers 0 ≤ begin ≤ end, got [0]"],
    ['offsets past the buffer', () => parseSafetensors(fileWith(f32([3], [0, 12]), new Uint8Array(8)), 'm.st'), "m.st: tensor 'w': data_offsets [0, 12] run past the end of the 8-byte data buffer (truncated file?)"],
    ['a span that does not fit the shape', () => parseSafetensors(fileWith(f32([3], [0, 8]), new Uint8Array(8)), 'm.st'), "m.st: tensor 'w': data_offsets [0, 8] span 8 bytes, but shape [3] of F32 needs 12"],
  ];
  itThrowsValueErrors(cases);

  it('checks every entry before reading any: a bad second tensor fails the whole file', () => {
    const header = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 8] } };
    expect(() => parseSafetensors(fileWith(header, new Uint8Array(8)), 'm.st')).toThrow("m.st: tensor 'b': data_offsets [4, 8] span 4 bytes, but shape [2] of F32 needs 8");
  });

  it('the default source name is "safetensors"', () => {
    expect(thrown(() => parseSafetensors(new Uint8Array(0))).message).toMatch(/^safetensors: truncated/);
  });
});
