// Creating tensors: from nested arrays or typed arrays, constant fills, ranges, identity, and seeded random draws.
import { allocate, dtypeOfArray, isDType, type DType, type TypedArray } from './dtype.js';
import { DTypeError, ShapeError, ValueError, fmt } from './errors.js';
import { fromArray, fromHost, isInt32 } from './internal.js';
import { Generator, getGenerator } from './random.js';
import { checkShape, sizeOf } from './shape.js';
import type { NestedArray, Tensor } from './tensor.js';

/** Options of the creation functions. */
export interface CreateOptions {
  /** Element type; `float32` unless the data is a Float64Array or Int32Array. */
  dtype?: DType;
}

function checkDType(op: string, dtype: unknown): DType {
  if (dtype === undefined) return 'float32';
  if (!isDType(dtype)) throw new DTypeError(op, `unknown dtype '${String(dtype)}' (use float32, float64 or int32)`);
  return dtype;
}

/** Shape of a nested array; throws ShapeError when it is ragged. */
function inferShape(values: NestedArray, path: number[] = []): number[] {
  if (!Array.isArray(values)) return [];
  if (values.length === 0) return [0];
  // a flat row of numbers (the common case): one pass, no per-element paths
  let flat = true;
  for (let i = 0; i < values.length && flat; i++) flat = typeof values[i] === 'number';
  if (flat) return [values.length];
  for (let i = 0; i < values.length; i++) {
    if (!(i in values)) throw new ValueError('tensor', `element [${[...path, i].join(',')}] is a hole in a sparse array`);
  }
  const inner = inferShape(values[0], [...path, 0]);
  values.forEach((v, i) => {
    const s = inferShape(v, [...path, i]);
    if (s.length !== inner.length || s.some((d, j) => d !== inner[j])) {
      throw new ShapeError('tensor', `ragged nested array: element [${[...path, i].join(',')}] has shape ${fmt(s)}, element [${[...path, 0].join(',')}] has ${fmt(inner)}`);
    }
  });
  return [values.length, ...inner];
}

/** Copies values into `out`, checking that each is a number (and an integer for int32). */
function fill(out: TypedArray, values: ArrayLike<unknown>, dtype: DType): void {
  // A typed array holds only numbers: one native copy (converting), checked element by element only into int32.
  // (The generic loop below reads any array-like, which V8 makes ~100 ns an element for a typed one.)
  if (dtype !== 'int32' && ArrayBuffer.isView(values)) {
    out.set(values as unknown as ArrayLike<number>);
    return;
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number') throw new ValueError('tensor', `element ${i} is ${typeof v}, not a number`);
    if (dtype === 'int32' && !isInt32(v)) {
      throw new ValueError('tensor', `int32 data must be integers in the int32 range, element ${i} is ${v}`);
    }
    out[i] = v;
  }
}

/**
 * A tensor from a number, nested arrays, or a flat array / typed array with `shape`.
 * The data is copied. dtype: the option, else the typed array's, else `float32`.
 * @example tensor([[1, 2], [3, 4]])  // shape [2, 2], float32
 * @example tensor(new Float64Array(6), { shape: [2, 3] })
 */
export function tensor(values: NestedArray | TypedArray, options: CreateOptions & { shape?: number[] } = {}): Tensor {
  const dtype = checkDType('tensor', options.dtype ?? dtypeOfArray(values));
  const typed = dtypeOfArray(values) !== undefined;
  if (!typed && typeof values !== 'number' && !Array.isArray(values)) {
    throw new ValueError('tensor', `values must be a number, nested arrays or a typed array, got ${typeof values}`);
  }
  const inferred = typed ? [(values as TypedArray).length] : inferShape(values as NestedArray);
  const flat: ArrayLike<unknown> = typed
    ? (values as TypedArray)
    : Array.isArray(values)
      ? inferred.length === 1
        ? values // already flat: every element a number (inferShape checked)
        : (values as unknown[]).flat(Infinity)
      : [values];
  let shape = inferred;
  if (options.shape !== undefined) {
    checkShape('tensor', options.shape);
    if (sizeOf(options.shape) !== flat.length) {
      throw new ShapeError('tensor', `data has ${flat.length} elements but shape ${fmt(options.shape)} needs ${sizeOf(options.shape)}`);
    }
    shape = options.shape;
  }
  // A typed array may be a view of the backend's own memory (another tensor's data), which making the new storage
  // first could grow and so detach on a non-shared memory: fromHost copies those out before any allocation.
  return fromHost(shape, dtype, (data) => fill(data, flat, dtype), typed ? (values as TypedArray) : undefined);
}

/** A constant tensor, with errors naming the public op that asked for it. */
function constant(op: string, shape: number[], value: number, options: CreateOptions): Tensor {
  checkShape(op, shape);
  const dtype = checkDType(op, options.dtype);
  if (typeof value !== 'number') throw new ValueError(op, `value must be a number, got ${typeof value}`);
  if (dtype === 'int32' && !isInt32(value)) throw new ValueError(op, `value ${value} is not an int32 value`);
  return fromHost(shape, dtype, (data) => data.fill(value));
}

/** A tensor of `shape` with every element `value`. */
export function full(shape: number[], value: number, options: CreateOptions = {}): Tensor {
  return constant('full', shape, value, options);
}

/** A tensor of `shape` filled with 0 (`float32` unless options.dtype says otherwise). */
export function zeros(shape: number[], options: CreateOptions = {}): Tensor {
  return constant('zeros', shape, 0, options);
}

/** A tensor of `shape` filled with 1 (`float32` unless options.dtype says otherwise). */
export function ones(shape: number[], options: CreateOptions = {}): Tensor {
  return constant('ones', shape, 1, options);
}

/** Values start, start + step, … below stop (above it for a negative step), as NumPy's arange. `arange(n)` is 0…n−1. */
export function arange(start: number, stop?: number, step = 1, options: CreateOptions = {}): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  const dtype = checkDType('arange', options.dtype);
  if (![start, stop, step].every(Number.isFinite)) throw new ValueError('arange', `start, stop and step must be finite, got ${start}, ${stop}, ${step}`);
  if (step === 0) throw new ValueError('arange', 'step must not be 0');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = int32Checked('arange', dtype, start + i * step, i);
  return fromArray(data, [n], dtype);
}

/** `num` evenly spaced values from start to stop, both included (NumPy's linspace). */
export function linspace(start: number, stop: number, num: number, options: CreateOptions = {}): Tensor {
  const dtype = checkDType('linspace', options.dtype);
  if (!Number.isInteger(num) || num < 0) throw new ValueError('linspace', `num must be a non-negative integer, got ${num}`);
  const data = allocate(dtype, num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) data[i] = int32Checked('linspace', dtype, i === num - 1 && num > 1 ? stop : start + i * step, i);
  return fromArray(data, [num], dtype);
}

/** The n×m identity (ones on the main diagonal); `eye(n, { dtype })` works too. */
export function eye(n: number, m: number | CreateOptions = n, options: CreateOptions = {}): Tensor {
  if (typeof m === 'object') [m, options] = [n, m];
  checkShape('eye', [n, m]);
  const dtype = checkDType('eye', options.dtype);
  const data = allocate(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return fromArray(data, [n, m], dtype);
}

/** Options of rand and randn: a float dtype (int32 throws DTypeError; use randint) and the generator to draw from. */
export interface RandomOptions extends CreateOptions {
  /** Where the numbers come from; the global generator (see seed()) by default. */
  generator?: Generator;
}

/** For int32 tensors, refuses a value that int32 cannot hold (a fraction, or out of range); returns it otherwise. */
function int32Checked(op: string, dtype: DType, v: number, i: number): number {
  if (dtype === 'int32' && !isInt32(v)) throw new ValueError(op, `element ${i} would be ${v}, which is not an int32 value`);
  return v;
}

/** The generator option, checked, or the global generator. */
function generatorOf(op: string, options: { generator?: unknown }): Generator {
  const g = options.generator ?? getGenerator();
  if (!(g instanceof Generator)) throw new ValueError(op, 'the generator option must be a Generator');
  return g;
}

function floatDType(op: string, dtype: unknown): DType {
  const d = checkDType(op, dtype);
  if (d === 'int32') throw new DTypeError(op, 'draws floats; use randint for int32');
  return d;
}

/** Uniform draws in [low, high) (default [0, 1)). */
export function rand(shape: number[], options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  checkShape('rand', shape);
  const dtype = floatDType('rand', options.dtype);
  const { low = 0, high = 1 } = options;
  const generator = generatorOf('rand', options);
  if (!(Number.isFinite(low) && Number.isFinite(high) && low < high)) throw new ValueError('rand', `needs finite low < high, got ${low}, ${high}`);
  const draw = dtype === 'float32' ? () => generator.uniformFloat32() : () => generator.uniform();
  const store = dtype === 'float32' ? Math.fround : (v: number) => v;
  return fromHost(shape, dtype, (data) => {
    for (let i = 0; i < data.length; i++) {
      // NB: low + (high − low)·u can round up to high itself (u near 1); such a draw is redrawn to keep [low, high).
      let v = store(low + (high - low) * draw());
      while (v >= high) v = store(low + (high - low) * draw());
      data[i] = v;
    }
  });
}

/** Normal draws N(mean, std²) (default standard normal), by Box–Muller. */
export function randn(shape: number[], options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  checkShape('randn', shape);
  const dtype = floatDType('randn', options.dtype);
  const { mean = 0, std = 1 } = options;
  const generator = generatorOf('randn', options);
  if (!(Number.isFinite(mean) && Number.isFinite(std) && std >= 0)) throw new ValueError('randn', `needs finite mean and std ≥ 0, got ${mean}, ${std}`);
  return fromHost(shape, dtype, (data) => generator.fillNormal(data, mean, std));
}

/** Uniform integers in [low, high), as int32. */
export function randint(low: number, high: number, shape: number[], options: { generator?: Generator } = {}): Tensor {
  checkShape('randint', shape);
  const ok = Number.isInteger(low) && Number.isInteger(high) && low < high && low >= -(2 ** 31) && high <= 2 ** 31;
  if (!ok) throw new ValueError('randint', `needs integers low < high within the int32 range, got ${low}, ${high}`);
  const generator = generatorOf('randint', options);
  const data = new Int32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = generator.int(low, high);
  return fromArray(data, shape, 'int32');
}
