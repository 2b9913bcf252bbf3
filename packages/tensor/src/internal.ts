// Helpers every public op shares: argument checks, moving inputs onto the active backend, wrapping results.
import { getBackend, type Backend } from './backend.js';
import { allocate, type DType, type TypedArray } from './dtype.js';
import { DTypeError, ValueError, fmt } from './errors.js';
import { sizeOf } from './shape.js';
import { Tensor } from './tensor.js';

/** A tensor, or a plain number standing for a scalar of the other operand's dtype. */
export type TensorLike = Tensor | number;

/** Checks that `x` is a live Tensor and puts it on the active backend; returns the tensor. */
export function input(op: string, x: unknown, name = 'input'): Tensor {
  if (!(x instanceof Tensor)) {
    throw new ValueError(op, `${name} must be a Tensor, got ${describe(x)}`);
  }
  const { backend } = x.storageFor(op); // throws DisposedError
  const active = getBackend();
  if (backend !== active) x.moveTo(active);
  return x;
}

function describe(x: unknown): string {
  if (Array.isArray(x)) return 'an array (wrap it with tensor())';
  return x === null ? 'null' : typeof x;
}

/** Wraps storage returned by the active backend as a new Tensor. */
export function wrap(storage: unknown, shape: readonly number[], dtype: DType, backend: Backend = getBackend()): Tensor {
  return new Tensor(storage, shape, dtype, backend);
}

/** A new tensor on the active backend holding `data` (ownership passes to the backend). */
export function fromArray(data: TypedArray, shape: readonly number[], dtype: DType): Tensor {
  const backend = getBackend();
  return new Tensor(backend.fromArray(data), shape, dtype, backend);
}

/**
 * Tensors of at most this many elements are filled on the host in the backend's own memory where it offers it
 * (Backend.host): a new typed array of a few hundred elements costs ~2 µs (V8 allocates its buffer outside the heap),
 * about what filling it costs; larger ones go through a typed array and fromArray as before.
 */
const HOST_FILL_MAX = 1 << 16;

/**
 * A new tensor on the active backend whose elements `write` fills (it must write every one): in place in the
 * backend's memory for small tensors on CPU backends, else into a new typed array handed to fromArray. `source`: the
 * typed array `write` copies from, if any (one that views the backend's own memory goes the second way).
 */
export function fromHost(shape: readonly number[], dtype: DType, write: (out: TypedArray) => void, source?: TypedArray): Tensor {
  const backend = getBackend();
  const size = sizeOf(shape);
  const host = size <= HOST_FILL_MAX ? backend.host?.(dtype, size, source) : undefined;
  if (!host) {
    const data = allocate(dtype, size);
    write(data);
    return new Tensor(backend.fromArray(data), shape, dtype, backend);
  }
  try {
    write(host.view);
  } catch (e) {
    backend.dispose(host.storage);
    throw e;
  }
  return new Tensor(host.storage, shape, dtype, backend);
}

/** A scalar tensor of `dtype` (for numbers passed where a tensor is expected). */
export function scalarOf(value: number, dtype: DType): Tensor {
  const data = allocate(dtype, 1);
  data[0] = value;
  return fromArray(data, [], dtype);
}

/** Throws DTypeError unless all tensors share one dtype; returns it. */
export function sameDType(op: string, ...ts: Tensor[]): DType {
  const d = ts[0].dtype;
  for (const t of ts) {
    if (t.dtype !== d) {
      throw new DTypeError(op, `dtypes differ: ${ts.map((x) => `${x.dtype}${fmt(x.shape)}`).join(', ')}; cast one first`);
    }
  }
  return d;
}

/** Throws DTypeError for int32 where the op needs floats. */
export function needFloat(op: string, x: Tensor): void {
  if (x.dtype === 'int32') throw new DTypeError(op, `needs a float32 or float64 tensor, got int32${fmt(x.shape)}; cast it first`);
}

/** Whether v is an int32 value (an integer in [−2³¹, 2³¹)); ±∞ passes with allowInfinite (clip's open bounds). */
export function isInt32(v: number, allowInfinite = false): boolean {
  if (allowInfinite && (v === Infinity || v === -Infinity)) return true;
  return Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;
}

export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}
