// The `js` backend: plain TypeScript kernels over typed arrays (the storage of a tensor is its typed array).
import type { Backend, MatmulDims } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { ArrayPool } from './pool.js';
import { ValueError, fmt } from '../errors.js';
import { sizeOf, stridesOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { binaryKernel, unaryGradKernel, unaryKernel, weightedSumKernel, whereKernel } from './elementwise.js';
import { concatKernel, gatherKernel, scatterAddKernel, stridedCopy } from './layout.js';
import { matmulBlocked, matmulReference, type MatmulArgs } from './matmul.js';
import { argReduceKernel, reduceKernel } from './reduce.js';

export type MatmulKernel = (args: MatmulArgs) => void;

/**
 * Where a CPU backend keeps its tensors. `js`: each storage is its own typed array, recycled through a pool.
 * `wasm`: a block of one WebAssembly.Memory, seen through a typed-array view. NB: making a block may grow that
 * memory, which detaches the views of a non-shared one, so kernels take their views only after allocating the output.
 */
export interface CpuMemory {
  /** Storage for `size` elements of `dtype`, contents arbitrary (every kernel writes all of its output). */
  allocate(dtype: DType, size: number): unknown;
  /** The storage as a typed array of `size` elements (no copy). */
  view(storage: unknown, dtype: DType, size: number): TypedArray;
  /** Takes ownership of a typed array (or copies it in) and returns storage holding it. */
  fromArray(data: TypedArray): unknown;
  /** Releases storage made by allocate or fromArray, for reuse. */
  free(storage: unknown): void;
  /** Optional: whether `data` views this memory itself (one that allocate may grow and so detach); else never. */
  holds?(data: TypedArray): boolean;
}

/** Plain typed arrays, reused through a pool. */
export function arrayMemory(): CpuMemory {
  const pool = new ArrayPool();
  return {
    allocate: (dtype, size) => pool.take(dtype, size),
    view: (storage) => storage as TypedArray,
    fromArray: (data) => data,
    free: (storage) => pool.give(storage as TypedArray),
  };
}

/** Creates a `js` backend; `matmulKernel` picks the CPU matmul variant (the blocked one unless told otherwise). */
export function createJsBackend(matmulKernel: MatmulKernel = matmulBlocked, name = 'js', mem: CpuMemory = arrayMemory()): Backend {
  /** The elements of a tensor of this backend. */
  const arr = (t: Tensor) => mem.view(t.storageFor(name).storage, t.dtype, t.size);
  /** A new output and its view, made before any input view is taken (see CpuMemory). */
  const output = (dtype: DType, size: number): [unknown, TypedArray] => {
    const storage = mem.allocate(dtype, size);
    return [storage, mem.view(storage, dtype, size)];
  };
  return {
    name,
    device: 'cpu',
    fromArray: (data) => mem.fromArray(data),
    host: (dtype, size, source) => {
      if (source && mem.holds?.(source)) return undefined;
      const [storage, view] = output(dtype, size);
      return { storage, view };
    },
    read: (storage, dtype, size) => mem.view(storage, dtype, size),
    dispose: (storage) => mem.free(storage),

    unary(op, x, params) {
      const [out, o] = output(x.dtype, x.size);
      unaryKernel(op, arr(x), o, params);
      return out;
    },
    unaryGrad(op, x, y, dy, params) {
      const [out, o] = output(x.dtype, x.size);
      unaryGradKernel(op, arr(x), arr(y), arr(dy), o, params);
      return out;
    },
    binary(op, a, b, outShape, outDType) {
      const [out, o] = output(outDType, sizeOf(outShape));
      binaryKernel(op, arr(a), a.shape, arr(b), b.shape, o, outShape);
      return out;
    },
    weightedSum(x, a, y, b) {
      const [out, o] = output(x.dtype, x.size);
      weightedSumKernel(arr(x), a, arr(y), b, o, x.size / a.length);
      return out;
    },
    where(cond, a, b, outShape) {
      const [out, o] = output(a.dtype, sizeOf(outShape));
      whereKernel(arr(cond), cond.shape, arr(a), a.shape, arr(b), b.shape, o, outShape);
      return out;
    },
    reduce(op, x, axes) {
      const [out, o] = output(x.dtype, sizeOf(x.shape.filter((_, i) => !axes.includes(i))));
      reduceKernel(op, arr(x), x.shape, axes, o);
      return out;
    },
    argReduce(op, x, axis) {
      const [out, o] = output('int32', sizeOf(x.shape.filter((_, i) => i !== axis)));
      argReduceKernel(op, arr(x), x.shape, axis, o as Int32Array);
      return out;
    },
    matmul(a, b, transA, transB, { batchA, batchB, m, n, k }: MatmulDims) {
      const batch = batchA === 1 ? batchB : batchA; // a batch of 1 broadcasts
      const [out, o] = output(a.dtype, batch * m * n);
      for (let i = 0; i < batch; i++) {
        matmulKernel({
          a: arr(a),
          b: arr(b),
          c: o,
          m,
          n,
          k,
          transA,
          transB,
          aOffset: batchA === 1 ? 0 : i * m * k,
          bOffset: batchB === 1 ? 0 : i * k * n,
          cOffset: i * m * n,
        });
      }
      return out;
    },
    transpose(x, perm) {
      const src = stridesOf(x.shape);
      const outShape = perm.map((p) => x.shape[p]);
      const [out, o] = output(x.dtype, x.size);
      stridedCopy(arr(x), 0, perm.map((p) => src[p]), o, outShape);
      return out;
    },
    broadcastTo(x, shape) {
      const src = stridesOf(x.shape);
      const lead = shape.length - x.rank;
      const strides = shape.map((_, i) => (i < lead || x.shape[i - lead] === 1 ? 0 : src[i - lead]));
      const [out, o] = output(x.dtype, sizeOf(shape));
      stridedCopy(arr(x), 0, strides, o, shape);
      return out;
    },
    slice(x, begin, size) {
      const src = stridesOf(x.shape);
      const offset = begin.reduce((o, b, i) => o + b * src[i], 0);
      const [out, o] = output(x.dtype, sizeOf(size));
      stridedCopy(arr(x), offset, src, o, size);
      return out;
    },
    concat(xs, axis, outShape) {
      const [out, o] = output(xs[0].dtype, sizeOf(outShape));
      concatKernel(xs.map(arr), xs.map((x) => x.shape), axis, o);
      return out;
    },
    gather(x, indices) {
      const rowSize = sizeOf(x.shape.slice(1));
      const [out, o] = output(x.dtype, indices.size * rowSize);
      gatherKernel(arr(x), arr(indices) as Int32Array, rowSize, o);
      return out;
    },
    scatterAdd(updates, indices, numRows) {
      const rowSize = sizeOf(updates.shape.slice(indices.rank));
      const acc = new Float64Array(numRows * rowSize); // accumulate in float64, round once on the way out
      scatterAddKernel(arr(updates), arr(indices) as Int32Array, rowSize, acc);
      const [out, o] = output(updates.dtype, acc.length);
      o.set(acc);
      return out;
    },
    cast(x, dtype: DType) {
      if (dtype === 'int32') {
        // Checked before the output is allocated, so that a refusal leaks no block.
        const src = arr(x);
        for (let i = 0; i < src.length; i++) {
          const v = Math.trunc(src[i]); // toward zero, like C
          if (!(v >= -(2 ** 31) && v < 2 ** 31)) {
            throw new ValueError('cast', `element ${i} of ${fmt(x.shape)} is ${src[i]}, which has no int32 value`);
          }
        }
      }
      const [out, o] = output(dtype, x.size);
      const src = arr(x); // viewed after the allocation, which may have grown (and detached) the memory
      if (dtype === 'int32') for (let i = 0; i < src.length; i++) o[i] = Math.trunc(src[i]);
      else o.set(src); // float64 → float32 rounds to nearest
      return out;
    },
  };
}

/** The reference backend `js-reference`: the same as `js` but with the textbook matmul loop, for tests and benchmarks. */
export function createJsReferenceBackend(): Backend {
  return createJsBackend(matmulReference, 'js-reference');
}
