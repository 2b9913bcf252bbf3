// NumPy .npy files: the exact bytes np.save writes, files written by real NumPy, NumPy reading ours, round trips, errors.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { encodeNpy, parseNpy } from '@rill/flowmatch';
import { thrown, itThrowsValueErrors } from '../helpers/errors.js';
import { python } from '../helpers/python.js';

const FIXTURES = new URL('../fixtures/formats/', import.meta.url);
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(name, FIXTURES)));


/** Latin-1 bytes of a string (every character below 256). */
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** A .npy file with any header text (not padded) and payload: for malformed inputs numpy would never write. */
function npyWith(header: string, payload: Uint8Array = new Uint8Array(0), version = 1): Uint8Array {
  const text = version === 3 ? new TextEncoder().encode(header) : latin1(header);
  const prefix = version === 1 ? 10 : 12;
  const out = new Uint8Array(prefix + text.length + payload.length);
  out.set([0x93, ...latin1('NUMPY'), version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  out.set(text, prefix);
  out.set(payload, prefix + text.length);
  return out;
}

/** The little-endian bytes of float32 values. */
const f32Bytes = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

/** Runs a Python program with NumPy; returns its stdout (fails the test with stderr on error). */
function runPython(program: string): string {
  const r = python(program);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('parseNpy from Node Buffers', () => {
  it('reads the same values from a Buffer and from a view inside a larger buffer (was a bug: a Buffer slice is a view, so the values came from the wrong bytes)', () => {
    for (const dtype of ['float32', 'float64', 'int32'] as const) {
      const t = T.tensor([1, -2, 3, 4, 5, 6], { shape: [3, 2], dtype });
      const bytes = encodeNpy(t);
      const inside = new Uint8Array(bytes.length + 40);
      inside.set(bytes, 40);
      for (const view of [Buffer.from(bytes), Buffer.from(inside.buffer, 40, bytes.length), inside.subarray(40)]) {
        expect(Array.from(parseNpy(view).data)).toEqual([1, -2, 3, 4, 5, 6]);
      }
    }
  });
});

describe('encodeNpy', () => {
  it('writes exactly the header numpy writes for a (2, 3) float32 array, then the data at byte 128', () => {
    const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    // magic, version 1.0, header length 0x76 = 118 (so 10 + 118 = 128), the dict, spaces, '\n'.
    const header = `\x93NUMPY\x01\x00\x76\x00${dict}${' '.repeat(118 - dict.length - 1)}\n`;
    const values = [0.5, -1, 1 / 3, 0, 2.25, -7];
    const bytes = encodeNpy(T.tensor(values, { shape: [2, 3] }));
    expect(bytes.length).toBe(128 + 24);
    expect(Array.from(bytes.subarray(0, 128))).toEqual(Array.from(latin1(header)));
    expect(Array.from(bytes.subarray(128))).toEqual(Array.from(f32Bytes(values)));
  });

  it('is byte for byte what np.save writes, for every dtype and ranks 0 to 15 (the growth padding included)', () => {
    const cases: { dtype: T.DType; shape: number[] }[] = [
      { dtype: 'float32', shape: [2, 3] },
      { dtype: 'float64', shape: [] },
      { dtype: 'int32', shape: [5] },
      { dtype: 'float32', shape: [0] },
      { dtype: 'float64', shape: [3, 1, 2] },
      { dtype: 'float32', shape: [12345678901, 0] }, // an 11-digit first axis: less growth room
      { dtype: 'float32', shape: Array(14).fill(1) }, // 127 bytes before the data: one block of 64 short
      { dtype: 'int32', shape: Array(15).fill(1) }, // numpy's growth room pushes the data to byte 192
    ];
    const tensors = cases.map(({ dtype, shape }) => {
      const size = shape.reduce((p, d) => p * d, 1);
      return T.tensor(Array.from({ length: size }, (_, i) => (dtype === 'int32' ? i * 7 - 3 : i * 0.37 - 1)), { shape, dtype });
    });
    const program = [
      'import io, json, sys, numpy as np',
      `cases = json.loads(${JSON.stringify(JSON.stringify(cases))})`,
      'for c in cases:',
      '    size = int(np.prod(c["shape"]))',
      '    v = [i * 7 - 3 if c["dtype"] == "int32" else i * 0.37 - 1 for i in range(size)]',
      '    b = io.BytesIO()',
      '    np.save(b, np.array(v, dtype=c["dtype"]).reshape(c["shape"]))',
      '    print(b.getvalue().hex())',
    ].join('\n');
    const fromNumpy = runPython(program).trim().split('\n');
    tensors.forEach((t, i) => {
      expect(Buffer.from(encodeNpy(t)).toString('hex'), JSON.stringify(cases[i])).toBe(fromNumpy[i]);
    });
    expect(encodeNpy(tensors[7]).indexOf(0x0a)).toBe(191); // the '\n' ends the header just before byte 192
  });

  it('numpy loads the files it writes, with the same dtype, shape and values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rill-npy-'));
    const tensors: Record<string, T.Tensor> = {
      'a.npy': T.tensor([[1 / 3, -0], [3.4028234663852886e38, 1.401298464324817e-45]]),
      'b.npy': T.tensor(Math.PI, { dtype: 'float64' }),
      'c.npy': T.tensor([2147483647, -2147483648, 0], { dtype: 'int32' }),
    };
    for (const [name, t] of Object.entries(tensors)) writeFileSync(join(dir, name), encodeNpy(t));
    const program = [
      'import json, numpy as np',
      `for name in ${JSON.stringify(Object.keys(tensors))}:`,
      `    a = np.load(${JSON.stringify(dir)} + "/" + name)`,
      '    print(json.dumps([str(a.dtype), list(a.shape), a.astype(np.float64).ravel().tolist(), bool(np.signbit(a).any())]))',
    ].join('\n');
    const loaded = runPython(program).trim().split('\n').map((l) => JSON.parse(l));
    expect(loaded[0]).toEqual(['float32', [2, 2], Array.from(tensors['a.npy'].data), true]); // −0 keeps its sign
    expect(loaded[1]).toEqual(['float64', [], [Math.PI], false]);
    expect(loaded[2]).toEqual(['int32', [3], [2147483647, -2147483648, 0], true]);
  });
});

describe('parseNpy', () => {
  it('reads the files numpy wrote: float32, float64, int32; 2-D, 1-D, 0-d; format versions 1.0, 2.0 and 3.0', () => {
    const expected = JSON.parse(readFileSync(new URL('npy_expected.json', FIXTURES), 'utf8')) as Record<string, { dtype: string; shape: number[]; values: number[] }>;
    expect(Object.keys(expected)).toEqual(['f32_2d.npy', 'f64_2d.npy', 'f32_1d.npy', 'i32_1d.npy', 'f64_0d.npy', 'f32_v2.npy', 'f32_v3.npy']);
    for (const [name, e] of Object.entries(expected)) {
      const t = parseNpy(fixture(name), name);
      expect(t.dtype, name).toBe(e.dtype);
      expect(t.shape, name).toEqual(e.shape);
      expect(Array.from(t.data), name).toEqual(e.values); // exact: float32 values are exact in float64
    }
    expect(fixture('f32_v2.npy')[6]).toBe(2);
    expect(fixture('f32_v3.npy')[6]).toBe(3);
  });

  it('reads a file that starts at an odd offset of its buffer (the data is copied to an aligned array)', () => {
    const bytes = fixture('f64_2d.npy');
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const t = parseNpy(shifted.subarray(3));
    expect(t.toArray()).toEqual(parseNpy(bytes).toArray());
    expect(t.data[0]).toBe(Math.PI);
  });

  it('parses any spelling of the header dict: double quotes, another key order, no trailing comma, 3L, spaces', () => {
    const payload = new Uint8Array(new Float64Array([1.5, -2]).buffer);
    for (const header of [
      '{"descr": "<f8", "shape": (2,), "fortran_order": False}\n',
      "{ 'shape' : ( 2 , ) , 'fortran_order' : False , 'descr' : '<f8' , }   \n",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2L,), }\n", // Python 2's long integers
      "{'descr': '<f8', 'fortran_order': False, 'shape': [2]}", // a list shape, and no '\n'
    ]) {
      expect(parseNpy(npyWith(header, payload)).toArray(), header).toEqual([1.5, -2]);
    }
  });

  it('round trip encodeNpy → parseNpy keeps dtype, shape and every bit, for any shape (fast-check)', () => {
    const shape = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 });
    const value = { float32: fc.float(), float64: fc.double(), int32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) };
    const dtype = fc.constantFrom<T.DType>('float32', 'float64', 'int32');
    const input = fc.tuple(dtype, shape).chain(([d, s]) => {
      const size = s.reduce((p, n) => p * n, 1);
      return fc.tuple(fc.constant(d), fc.constant(s), fc.array(value[d] as fc.Arbitrary<number>, { minLength: size, maxLength: size }), fc.nat(7));
    });
    fc.assert(
      fc.property(input, ([d, s, values, offset]) => {
        const t = T.tensor(values, { shape: s, dtype: d });
        const bytes = encodeNpy(t);
        expect((bytes[8] + 256 * bytes[9] + 10) % 64).toBe(0); // the data starts at a multiple of 64
        const shifted = new Uint8Array(bytes.length + offset); // at any offset: aligned or not
        shifted.set(bytes, offset);
        const back = parseNpy(shifted.subarray(offset));
        expect(back.dtype).toBe(d);
        expect(back.shape).toEqual(s);
        expect(Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('parseNpy errors: a ValueError naming the file and the fix', () => {
  const f32 = fixture('f32_2d.npy');
  const cases: [string, () => unknown, string][] = [
    ['not .npy at all', () => parseNpy(latin1('x,y\n1,2\n'), 'a.npy'), 'a.npy: not a .npy file (it does not start with the magic bytes \\x93NUMPY)'],
    ['too short for the magic', () => parseNpy(f32.subarray(0, 5), 'a.npy'), 'a.npy: not a .npy file'],
    ['an unknown version', () => parseNpy(Uint8Array.from([...f32.subarray(0, 6), 4, 0, ...f32.subarray(8)]), 'a.npy'), 'a.npy: format version 4.0 is not supported (Rill reads 1.0, 2.0 and 3.0)'],
    ['no header length', () => parseNpy(f32.subarray(0, 9), 'a.npy'), 'a.npy: truncated (the header is incomplete)'],
    ['a cut header', () => parseNpy(f32.subarray(0, 50), 'a.npy'), 'a.npy: truncated (the header is incomplete: 118 bytes announced, 40 present)'],
    ['a header that is not a literal', () => parseNpy(npyWith("{'descr': '<f4', 'shape': (2, 3)\n"), 'a.npy'), "a.npy: the header is not a Python dict literal (expected ',' or '}' at character 33)"],
    ['a header with code in it', () => parseNpy(npyWith("{'descr': __import__('os')}"), 'a.npy'), "a.npy: the header is not a Python dict literal (unexpected '_' at character 10)"],
    ['an unclosed string', () => parseNpy(npyWith("{'descr': '<f4}"), 'a.npy'), 'a.npy: the header is not a Python dict literal (a string is not closed)'],
    ['a non-string key', () => parseNpy(npyWith('{1: 2}'), 'a.npy'), 'a.npy: the header is not a Python dict literal (a dict key must be a string (character 1))'],
    ['a header nested too deeply', () => parseNpy(npyWith(`{'descr': ${'('.repeat(100_000)}`), 'a.npy'), 'a.npy: the header is not a Python dict literal (the literal is nested too deeply)'],
    ['a header that hides its keys in __proto__', () => parseNpy(npyWith("{'__proto__': {'descr': '<f4', 'fortran_order': False, 'shape': ()}}"), 'a.npy'), "a.npy: the header has no 'descr' entry"],
    ['a header that is not a dict', () => parseNpy(npyWith('(1, 2)\n'), 'a.npy'), 'a.npy: the header is not a Python dict: "(1, 2)"'],
    ['a missing key', () => parseNpy(npyWith("{'descr': '<f4', 'fortran_order': False}"), 'a.npy'), "a.npy: the header has no 'shape' entry"],
    ['Fortran order', () => parseNpy(fixture('fortran.npy'), 'f.npy'), 'f.npy: is in Fortran order; save it with np.ascontiguousarray'],
    ['a bad fortran_order', () => parseNpy(npyWith("{'descr': '<f4', 'fortran_order': 0, 'shape': ()}"), 'a.npy'), 'a.npy: fortran_order must be True or False, got 0'],
    ['big-endian', () => parseNpy(fixture('bigendian.npy'), 'b.npy'), "b.npy: dtype '>f4' (float32) is big-endian; save it little-endian with .astype('<f4')"],
    ['float16', () => parseNpy(fixture('float16.npy'), 'h.npy'), "h.npy: dtype '<f2' (float16) is not supported (Rill reads '<f4' (float32), '<f8' (float64) and '<i4' (int32)): convert with .astype(np.float32)"],
    ['int64', () => parseNpy(npyWith("{'descr': '<i8', 'fortran_order': False, 'shape': ()}"), 'a.npy'), "a.npy: dtype '<i8' (int64) is not supported"],
    ['a string dtype', () => parseNpy(npyWith("{'descr': '<U5', 'fortran_order': False, 'shape': ()}"), 'a.npy'), "a.npy: dtype '<U5' is not supported"],
    ['a structured dtype', () => parseNpy(npyWith("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': ()}"), 'a.npy'), 'a.npy: is a structured array (its descr is a list of fields); save a plain numeric array'],
    ['a negative dimension', () => parseNpy(npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}"), 'a.npy'), 'a.npy: shape must be a tuple of non-negative integers, got (2, -3)'],
    ['a non-integer dimension', () => parseNpy(npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': ('2',)}"), 'a.npy'), "a.npy: shape must be a tuple of non-negative integers, got ('2',)"],
    ['a shape that is not a tuple', () => parseNpy(npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': 6}"), 'a.npy'), 'a.npy: shape must be a tuple of non-negative integers, got 6'],
    ['missing data', () => parseNpy(f32.subarray(0, f32.length - 4), 'a.npy'), 'a.npy: the data is 20 bytes, expected 24 (shape (2, 3) of float32)'],
    ['extra data', () => parseNpy(Uint8Array.from([...f32, 0, 0]), 'a.npy'), 'a.npy: the data is 26 bytes, expected 24 (shape (2, 3) of float32)'],
    ['a 3.0 header that is not UTF-8', () => parseNpy(Uint8Array.from([...npyWith('{}', undefined, 3).subarray(0, 12), 0xff, 0xfe]), 'a.npy'), 'a.npy: the header is not valid UTF-8'],
  ];
  itThrowsValueErrors(cases);

  it('the default source name is "npy"', () => {
    expect(thrown(() => parseNpy(new Uint8Array(0))).message).toMatch(/^npy: not a \.npy file/);
  });
});
