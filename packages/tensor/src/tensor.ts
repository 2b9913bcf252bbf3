// Tensor: an n-dimensional array (contiguous row-major storage owned by a backend, a shape and a dtype).
import { backendByName, type Backend } from './backend.js';
import type { DType, TypedArray } from './dtype.js';
import { DisposedError, ValueError, fmt } from './errors.js';
import { sizeOf } from './shape.js';
import { track, untrack } from './lifetime.js';
import './disposable.js';

/** Nested JavaScript arrays of numbers, as `toArray()` returns them (a bare number for a scalar). */
export type NestedArray = number | NestedArray[];

let liveTensors = 0;
let liveBytes = 0;

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };

/**
 * A backend's storage, shared by a tensor and the reshaped views of it (same elements, same order), with a count of
 * the live tensors using it: disposing one view never frees the data under the others.
 */
interface Storage {
  backend: Backend;
  data: unknown;
  refs: number;
  bytes: number;
}

/**
 * An n-dimensional array. Create one with `tensor()`, `zeros()`, `randn()`… never with `new`. Ops never modify
 * their inputs; treat `data` as read-only too (a reshaped view shares it).
 * Element (i, j, k) of a [I, J, K] tensor sits at `data[(i * J + j) * K + k]` (row-major, contiguous).
 */
export class Tensor {
  /** Dimensions, outermost first; `[]` for a scalar. */
  readonly shape: readonly number[];
  /** Element type: `float32`, `float64` or `int32`. */
  readonly dtype: DType;
  /** Number of elements: the product of `shape`. */
  readonly size: number;
  #storage: Storage;
  #disposed = false;

  /** @internal Use the creation functions; backends call this with storage they own. */
  constructor(data: unknown, shape: readonly number[], dtype: DType, backend: Backend, shared?: Storage) {
    // a frozen shape (another tensor's) is shared as it is: it cannot change, and a copy per op costs a fresh array
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = sizeOf(shape);
    if (shared) {
      shared.refs++;
      this.#storage = shared;
    } else {
      this.#storage = { backend, data, refs: 1, bytes: this.size * BYTES[dtype] };
      liveBytes += this.#storage.bytes;
    }
    liveTensors++;
    track(this);
  }

  /** @internal A tensor of another shape (same size) over the same storage: what reshape returns. */
  static view(source: Tensor, shape: readonly number[]): Tensor {
    const s = source.#live('reshape');
    return new Tensor(s.data, shape, source.dtype, s.backend, s);
  }

  #live(op: string): Storage {
    if (this.#disposed) throw new DisposedError(op, `tensor ${fmt(this.shape)} ${this.dtype} was disposed`);
    return this.#storage;
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** Name of the backend holding the data (`wasm`, `js`, `gpu`…). */
  get backend(): string {
    return this.#storage.backend.name;
  }

  /** Where the data lives: `cpu` or `gpu`. */
  get device(): string {
    return this.#storage.backend.device;
  }

  /** @internal The backend object and its storage, for ops and backends only. */
  storageFor(op: string): { backend: Backend; storage: unknown } {
    const s = this.#live(op);
    return { backend: s.backend, storage: s.data };
  }

  /**
   * The elements as a typed array, row-major. On CPU backends this is the tensor's own storage (no copy):
   * treat it as read-only, and copy it (`data.slice()`) to keep it past the tensor's life — once the tensor is
   * disposed (also by `tidy`), the js backend reuses the array for new results. GPU backends read back a copy here.
   */
  get data(): TypedArray {
    const { backend, storage } = this.storageFor('data');
    return backend.read(storage, this.dtype, this.size);
  }

  /**
   * The elements without blocking: the backend's asynchronous read-back where it has one (a device that cannot read
   * back synchronously), else the same as `data`. The tensor must stay alive until the promise settles.
   */
  async dataAsync(): Promise<TypedArray> {
    const { backend, storage } = this.storageFor('dataAsync');
    return backend.readAsync ? backend.readAsync(storage, this.dtype, this.size) : backend.read(storage, this.dtype, this.size);
  }

  /** The single element of a one-element tensor, without blocking (see dataAsync). */
  async itemAsync(): Promise<number> {
    if (this.size !== 1) throw new ValueError('itemAsync', `needs a tensor with one element, got shape ${fmt(this.shape)}`);
    return (await this.dataAsync())[0];
  }

  /**
   * @internal Moves the data to another backend in place (read back, upload, free the old storage).
   * Ops call this when a tensor made on one backend meets the active one.
   */
  moveTo(target: Backend): void {
    const s = this.#live('moveTo');
    if (s.backend === target) return;
    const copy = s.backend.read(s.data, this.dtype, this.size).slice();
    const old = s.backend;
    const oldData = s.data;
    s.data = target.fromArray(copy); // views share s, so they move too
    s.backend = target;
    old.dispose(oldData);
  }

  /**
   * A copy of this tensor on another backend: `.to('cpu')` brings GPU data back to the CPU (one read-back),
   * `.to('gpu')` uploads. The original stays where it is.
   */
  to(name: string): Tensor {
    const { backend, storage } = this.storageFor('to');
    const target = backendByName(name);
    const copy = backend.read(storage, this.dtype, this.size).slice();
    return new Tensor(target.fromArray(copy), this.shape, this.dtype, target);
  }

  /** The elements as nested arrays (a number for a scalar). */
  toArray(): NestedArray {
    const data = this.data;
    const build = (dim: number, offset: number, stride: number): NestedArray => {
      if (dim === this.shape.length) return data[offset];
      const inner = stride / (this.shape[dim] || 1);
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * inner, inner));
    };
    return build(0, 0, this.size);
  }

  /** The single element of a one-element tensor, as a number. */
  item(): number {
    if (this.size !== 1) throw new ValueError('item', `needs a tensor with one element, got shape ${fmt(this.shape)}`);
    return this.data[0];
  }

  /** Releases the storage now; any later use of this tensor throws DisposedError. Disposing twice is harmless. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const s = this.#storage;
    if (--s.refs === 0) {
      s.backend.dispose(s.data);
      s.data = undefined;
      liveBytes -= s.bytes;
    }
    liveTensors--;
    untrack(this);
  }

  /** dispose() at the end of a `using` block: `using t = T.randn([2, 3]);`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Whether dispose() has been called on this tensor (its reshaped views, if any, are separate tensors). */
  get isDisposed(): boolean {
    return this.#disposed;
  }

  /**
   * A one-line description for logs: the values as nested arrays (up to 64 elements, else their count), the shape,
   * dtype and backend; `Tensor(disposed, …)` once disposed. It reads the data synchronously (see `data`).
   */
  toString(): string {
    if (this.#disposed) return `Tensor(disposed, ${fmt(this.shape)}, ${this.dtype})`;
    const body = this.size <= 64 ? JSON.stringify(this.toArray()) : `${this.size} elements`;
    return `Tensor(${body}, shape=${fmt(this.shape)}, dtype=${this.dtype}, backend=${this.backend})`;
  }
}

/** How many tensors are alive (created and not yet disposed), and the bytes their storage takes (views count once). */
export function memory(): {
  /** Tensors created and not yet disposed, reshaped views included. */
  numTensors: number;
  /** Bytes of their storage (float32 and int32: 4 per element, float64: 8), a storage shared by views counted once. */
  numBytes: number;
} {
  return { numTensors: liveTensors, numBytes: liveBytes };
}

/**
 * Reads the tensors back without blocking, all together. Afterwards their synchronous reads (data, item(), toArray(),
 * to(), moving to another backend) work on a backend that reads back only asynchronously (webgpu); on the others it
 * costs next to nothing. The tensors must stay alive until the promise settles.
 */
export async function prefetch(tensors: Iterable<Tensor>): Promise<void> {
  await Promise.all(Array.from(tensors, (t) => t.dataAsync()));
}
