// Tensor: an n-dimensional array (contiguous row-major storage owned by a backend, a shape and a dtype).
import type { Backend } from './backend.js';
import type { DType, TypedArray } from './dtype.js';
import { DisposedError, ValueError, fmt } from './errors.js';
import { sizeOf } from './shape.js';
import { track, untrack } from './lifetime.js';

/** Nested JavaScript arrays of numbers, as `toArray()` returns them (a bare number for a scalar). */
export type NestedArray = number | NestedArray[];

let liveTensors = 0;
let liveBytes = 0;

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };

/**
 * An immutable n-dimensional array. Create one with `tensor()`, `zeros()`, `randn()`… never with `new`.
 * Element (i, j, k) of a [I, J, K] tensor sits at `data[(i * J + j) * K + k]` (row-major, contiguous).
 */
export class Tensor {
  /** Dimensions, outermost first; `[]` for a scalar. */
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Number of elements: the product of `shape`. */
  readonly size: number;
  #storage: unknown;
  #backend: Backend;
  #disposed = false;

  /** @internal Use the creation functions; backends call this with storage they own. */
  constructor(storage: unknown, shape: readonly number[], dtype: DType, backend: Backend) {
    this.#storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = sizeOf(shape);
    this.#backend = backend;
    liveTensors++;
    liveBytes += this.size * BYTES[dtype];
    track(this);
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** Name of the backend holding the data (`js`, later `wasm` or `gpu`). */
  get backend(): string {
    return this.#backend.name;
  }

  /** Where the data lives: `cpu` or `gpu`. */
  get device(): string {
    return this.#backend.device;
  }

  /** @internal The backend object and its storage, for ops and backends only. */
  storageFor(op: string): { backend: Backend; storage: unknown } {
    if (this.#disposed) throw new DisposedError(op, `tensor ${fmt(this.shape)} ${this.dtype} was disposed`);
    return { backend: this.#backend, storage: this.#storage };
  }

  /**
   * The elements as a typed array, row-major. On CPU backends this is the tensor's own storage (no copy):
   * treat it as read-only. Later backends read the data back from the device here.
   */
  get data(): TypedArray {
    const { backend, storage } = this.storageFor('data');
    return backend.read(storage, this.dtype, this.size);
  }

  /**
   * @internal Moves the data to another backend in place (read back, upload, free the old storage).
   * Ops call this when a tensor made on one backend meets the active one.
   */
  moveTo(target: Backend): void {
    const { backend, storage } = this.storageFor('moveTo');
    if (backend === target) return;
    const copy = backend.read(storage, this.dtype, this.size).slice();
    this.#storage = target.fromArray(copy);
    this.#backend = target;
    backend.dispose(storage);
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
    this.#backend.dispose(this.#storage);
    this.#storage = undefined;
    liveTensors--;
    liveBytes -= this.size * BYTES[this.dtype];
    untrack(this);
  }

  get isDisposed(): boolean {
    return this.#disposed;
  }

  toString(): string {
    if (this.#disposed) return `Tensor(disposed, ${fmt(this.shape)}, ${this.dtype})`;
    const body = this.size <= 64 ? JSON.stringify(this.toArray()) : `${this.size} elements`;
    return `Tensor(${body}, shape=${fmt(this.shape)}, dtype=${this.dtype}, backend=${this.backend})`;
  }
}

/** How many tensors are alive (created and not yet disposed), and the bytes their elements take. */
export function memory(): { numTensors: number; numBytes: number } {
  return { numTensors: liveTensors, numBytes: liveBytes };
}
