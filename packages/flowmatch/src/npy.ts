// Reading and writing NumPy's .npy files (one array each), so that point sets and weights travel to and from Python.
//
// The format (NEP 1, https://numpy.org/neps/nep-0001-npy-format.html, and numpy.lib.format):
//   "\x93NUMPY" · major, minor version bytes · header length (u16 LE for 1.0, u32 LE for 2.0 and 3.0) ·
//   header: a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }, space-padded and
//   ending in '\n' so that the data starts at a multiple of 64 bytes · data: the elements in C (row-major) order.
// Versions 1.0 and 2.0 encode the header in latin-1, 3.0 in UTF-8. Like checkpoint.ts, this assumes a little-endian
// host (every platform JavaScript runs on in practice), so '<' data is copied into typed arrays as it is.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** Data starts at a multiple of this many bytes (numpy.lib.format.ARRAY_ALIGN). */
const ALIGN = 64;
/** numpy leaves room for the first axis to grow to this many digits (numpy.lib.format.GROWTH_AXIS_MAX_DIGITS). */
const GROWTH_DIGITS = 21;

/** The dtypes Rill reads and writes, by their NumPy descr. */
const DESCR_TO_DTYPE: Record<string, T.DType> = { '<f4': 'float32', '<f8': 'float64', '<i4': 'int32' };
const DTYPE_TO_DESCR: Record<T.DType, string> = { float32: '<f4', float64: '<f8', int32: '<i4' };
const ITEM_BYTES: Record<T.DType, number> = { float32: 4, float64: 8, int32: 4 };
/** NumPy's names for the type codes in a descr (after the byte-order character), for error messages. */
const NUMPY_NAMES: Record<string, string> = {
  b1: 'bool', i1: 'int8', u1: 'uint8', i2: 'int16', u2: 'uint16', i4: 'int32', u4: 'uint32', i8: 'int64', u8: 'uint64',
  f2: 'float16', f4: 'float32', f8: 'float64', f16: 'float128', c8: 'complex64', c16: 'complex128', c32: 'complex256',
};
const SUPPORTED = "'<f4' (float32), '<f8' (float64) and '<i4' (int32)";

/** A value of the Python literal subset a .npy header uses: str, int, bool, None, tuple/list (as arrays), dict. */
type PyValue = string | number | boolean | null | PyValue[] | PyDict;
interface PyDict {
  [key: string]: PyValue;
}

/**
 * Parses a Python literal (dicts with string keys, tuples, lists, quoted strings, integers, True/False/None) without
 * evaluating anything; `fail` reports the first problem.
 */
function parsePyLiteral(text: string, fail: (why: string) => never): PyValue {
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  // Comma-separated items up to `close` (a trailing comma is allowed, as in Python).
  let depth = 0; // nesting, bounded so that a hostile header cannot overflow the stack
  const items = (close: string, item: () => void) => {
    i++; // the opening bracket
    if (++depth > 32) fail('the literal is nested too deeply');
    for (;;) {
      skipSpace();
      if (text[i] === close) {
        depth--;
        return void i++;
      }
      item();
      skipSpace();
      if (text[i] === ',') i++;
      else if (text[i] !== close) fail(`expected ',' or '${close}' at character ${i}`);
    }
  };
  const string = (): string => {
    const quote = text[i++];
    let s = '';
    while (i < text.length && text[i] !== quote) {
      if (text[i] === '\\') i++; // a backslash escapes the next character
      s += text[i++];
    }
    if (i >= text.length) fail('a string is not closed');
    i++; // the closing quote
    return s;
  };
  const value = (): PyValue => {
    skipSpace();
    const c = text[i];
    if (c === "'" || c === '"') return string();
    if (c === '(' || c === '[') {
      const list: PyValue[] = [];
      items(c === '(' ? ')' : ']', () => list.push(value()));
      return list;
    }
    if (c === '{') {
      const dict: PyDict = Object.create(null); // no prototype: a key '__proto__' is just a key
      items('}', () => {
        skipSpace();
        if (text[i] !== "'" && text[i] !== '"') fail(`a dict key must be a string (character ${i})`);
        const key = string();
        skipSpace();
        if (text[i++] !== ':') fail(`expected ':' after the key '${key}'`);
        dict[key] = value();
      });
      return dict;
    }
    const word = /^(True|False|None|[+-]?\d+L?)/.exec(text.slice(i)); // 'L': Python 2's long integers (3L)
    if (!word) return fail(`unexpected ${i < text.length ? `'${c}'` : 'end'} at character ${i}`);
    i += word[0].length;
    return word[0] === 'True' ? true : word[0] === 'False' ? false : word[0] === 'None' ? null : parseInt(word[0], 10);
  };
  const result = value();
  skipSpace();
  if (i < text.length) fail(`unexpected text after the literal at character ${i}`);
  return result;
}

/** A shape as Python writes a tuple: (), (3,), (2, 3) (strings quoted, for error messages). */
function pyTuple(dims: readonly unknown[]): string {
  const items = dims.map((d) => (typeof d === 'string' ? `'${d}'` : String(d)));
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
}

/** Why a descr is refused, with the fix to apply in NumPy. */
function unsupportedDescr(descr: string): string {
  const order = descr[0];
  const code = descr.slice(1);
  const name = Object.hasOwn(NUMPY_NAMES, code) ? ` (${NUMPY_NAMES[code]})` : '';
  const little = `<${code}`;
  if (order === '>' && Object.hasOwn(DESCR_TO_DTYPE, little)) {
    return `dtype '${descr}'${name} is big-endian; save it little-endian with .astype('${little}')`;
  }
  return `dtype '${descr}'${name} is not supported (Rill reads ${SUPPORTED}): convert with .astype(np.float32)`;
}

/**
 * Reads a .npy file (format versions 1.0, 2.0 and 3.0) into a tensor of its shape — 0-d and 1-d included; the
 * caller checks the rank it needs. Dtypes '<f4', '<f8' and '<i4' (float32, float64, int32), C order only. Anything
 * else, or a malformed file, is a ValueError naming `source`: `pts.npy: is in Fortran order; save it with
 * np.ascontiguousarray`.
 */
export function parseNpy(bytes: Uint8Array, source = 'npy'): Tensor {
  const fail = (why: string): never => {
    throw new T.ValueError(source, why);
  };
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) fail('not a .npy file (it does not start with the magic bytes \\x93NUMPY)');
  const [major, minor] = [bytes[6], bytes[7]];
  if (![1, 2, 3].includes(major) || minor !== 0) fail(`format version ${major}.${minor} is not supported (Rill reads 1.0, 2.0 and 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail('truncated (the header is incomplete)');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthBytes;
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) fail(`truncated (the header is incomplete: ${headerLength} bytes announced, ${bytes.length - headerStart} present)`);

  const raw = bytes.subarray(headerStart, dataStart);
  let text: string;
  try {
    text = major === 3 ? new TextDecoder('utf-8', { fatal: true }).decode(raw) : Array.from(raw, (b) => String.fromCharCode(b)).join(''); // 3.0: UTF-8, else latin-1
  } catch {
    return fail('the header is not valid UTF-8');
  }
  const header = parsePyLiteral(text, (why) => fail(`the header is not a Python dict literal (${why}): ${JSON.stringify(text.trim().slice(0, 80))}`));
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail(`the header is not a Python dict: ${JSON.stringify(text.trim().slice(0, 80))}`);
  const dict = header as PyDict;
  for (const key of ['descr', 'fortran_order', 'shape']) if (!Object.hasOwn(dict, key)) fail(`the header has no '${key}' entry`);
  const { descr, fortran_order: fortran, shape } = dict;

  if (typeof descr !== 'string') fail('is a structured array (its descr is a list of fields); save a plain numeric array');
  const dtype = Object.hasOwn(DESCR_TO_DTYPE, descr as string) ? DESCR_TO_DTYPE[descr as string] : fail(unsupportedDescr(descr as string));
  if (typeof fortran !== 'boolean') fail(`fortran_order must be True or False, got ${JSON.stringify(fortran)}`);
  if (fortran) fail('is in Fortran order; save it with np.ascontiguousarray');
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) {
    fail(`shape must be a tuple of non-negative integers, got ${Array.isArray(shape) ? pyTuple(shape) : JSON.stringify(shape)}`);
  }
  const dims = shape as number[];

  const size = dims.reduce((p, d) => p * d, 1);
  const expected = size * ITEM_BYTES[dtype];
  const got = bytes.length - dataStart;
  if (got !== expected) fail(`the data is ${got} bytes, expected ${expected} (shape ${pyTuple(dims)} of ${dtype})`);
  // slice() copies the data into a fresh buffer: its start is then aligned for any typed array, whatever the file's
  // offset in `bytes` was (a Float64Array view must start at a multiple of 8).
  const payload = Uint8Array.prototype.slice.call(bytes, dataStart, dataStart + expected); // (a Node Buffer's own slice is a view)
  const Ctor = dtype === 'float32' ? Float32Array : dtype === 'float64' ? Float64Array : Int32Array;
  return T.tensor(new Ctor(payload.buffer, 0, size), { shape: dims, dtype });
}

/**
 * The .npy bytes of a float32, float64 or int32 tensor, exactly as `np.save` writes them: version 1.0, header
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }` padded with spaces and '\n' so that the data (C
 * order, little-endian) starts at a multiple of 64 bytes.
 */
export function encodeNpy(t: Tensor): Uint8Array {
  let header = `{'descr': '${DTYPE_TO_DESCR[t.dtype]}', 'fortran_order': False, 'shape': ${pyTuple(t.shape)}, }`;
  // numpy's room for the first axis to grow in place; then pad (header + '\n') so the data starts aligned.
  if (t.rank > 0) header += ' '.repeat(GROWTH_DIGITS - String(t.shape[0]).length);
  const unpadded = 10 + header.length + 1; // magic 6 · version 2 · u16 length 2 · header · '\n'
  header += `${' '.repeat(ALIGN - (unpadded % ALIGN))}\n`; // 1 to 64 spaces, as numpy pads
  if (header.length > 0xffff) throw new T.ValueError('encodeNpy', `the header is too long for format 1.0 (${header.length} bytes)`);
  const data = t.data;
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out.set([1, 0], 6);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
