// A pool of typed arrays for the CPU backends: disposed tensors give their array back, new results take one of the same
// dtype and length instead of allocating (allocation and garbage collection were a fifth of a training step).
import { allocate, type DType, type TypedArray } from '../dtype.js';

/** At most this many arrays of one (dtype, length) are kept, and at most this many bytes in all. */
const PER_KEY = 64;
const MAX_BYTES = 64 * 2 ** 20;

export class ArrayPool {
  #free = new Map<string, TypedArray[]>();
  #bytes = 0;

  /**
   * An array of `size` elements. NB: its contents are arbitrary (a recycled array is not cleared): only kernels
   * that overwrite every element may take from the pool.
   */
  take(dtype: DType, size: number): TypedArray {
    const list = this.#free.get(`${dtype}:${size}`);
    const reused = list?.pop();
    if (reused) {
      this.#bytes -= reused.byteLength;
      return reused;
    }
    return allocate(dtype, size);
  }

  /** Keeps an array for reuse (when there is room); it must no longer be referenced by any live tensor. */
  give(array: TypedArray): void {
    if (array.length === 0 || array.byteOffset !== 0 || array.byteLength !== array.buffer.byteLength) return;
    if (this.#bytes + array.byteLength > MAX_BYTES) return;
    const dtype = array instanceof Float32Array ? 'float32' : array instanceof Float64Array ? 'float64' : 'int32';
    const key = `${dtype}:${array.length}`;
    const list = this.#free.get(key) ?? [];
    if (list.length >= PER_KEY) return;
    list.push(array);
    this.#free.set(key, list);
    this.#bytes += array.byteLength;
  }
}
