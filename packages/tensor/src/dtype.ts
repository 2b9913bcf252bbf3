// The three element types a Tensor can hold, and the typed arrays that store them.
import { ValueError } from './errors.js';

/** `float32` is for work, `float64` for references and gradient checks, `int32` for indices. */
export type DType = 'float32' | 'float64' | 'int32';

/** The typed arrays that store a tensor's elements: one per DType (Float32Array, Float64Array, Int32Array). */
export type TypedArray = Float32Array | Float64Array | Int32Array;

export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'float64' || x === 'int32';
}

/** A zero-filled typed array of `size` elements for `dtype`; a size beyond what the engine can hold is a ValueError. */
export function allocate(dtype: DType, size: number): TypedArray {
  try {
    switch (dtype) {
      case 'float32':
        return new Float32Array(size);
      case 'float64':
        return new Float64Array(size);
      case 'int32':
        return new Int32Array(size);
    }
  } catch (e) {
    if (e instanceof RangeError) throw new ValueError('allocate', `cannot allocate ${size} ${dtype} elements (${e.message})`);
    throw e;
  }
}

/** The dtype a typed array stores, or undefined for any other value. */
export function dtypeOfArray(a: unknown): DType | undefined {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  return undefined;
}
