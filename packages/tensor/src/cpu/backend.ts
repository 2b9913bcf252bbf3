// The `js` backend: plain TypeScript kernels over typed arrays (the storage of a tensor is its typed array).
import type { Backend, MatmulDims } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { ArrayPool } from './pool.js';
import { ValueError, fmt } from '../errors.js';
import { sizeOf, stridesOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { binaryKernel, unaryGradKernel, unaryKernel, whereKernel } from './elementwise.js';
import { concatKernel, gatherKernel, scatterAddKernel, stridedCopy } from './layout.js';
import { matmulBlocked, matmulReference, type MatmulArgs } from './matmul.js';
import { argReduceKernel, reduceKernel } from './reduce.js';

/** The typed array behind a tensor of this backend. */
function arr(t: Tensor): TypedArray {
  return t.storageFor('js').storage as TypedArray;
}

export type MatmulKernel = (args: MatmulArgs) => void;

/** Creates a `js` backend; `matmulKernel` picks the CPU matmul variant (the blocked one unless told otherwise). */
export function createJsBackend(matmulKernel: MatmulKernel = matmulBlocked, name = 'js'): Backend {
  const pool = new ArrayPool();
  // Every kernel below writes all of its output, so outputs may come from the pool (uncleared).
  const allocate = (dtype: DType, size: number) => pool.take(dtype, size);
  return {
    name,
    device: 'cpu',
    fromArray: (data) => data,
    read: (storage) => storage as TypedArray,
    dispose: (storage) => pool.give(storage as TypedArray),

    unary(op, x, params) {
      const out = allocate(x.dtype, x.size);
      unaryKernel(op, arr(x), out, params);
      return out;
    },
    unaryGrad(op, x, y, dy, params) {
      const out = allocate(x.dtype, x.size);
      unaryGradKernel(op, arr(x), arr(y), arr(dy), out, params);
      return out;
    },
    binary(op, a, b, outShape, outDType) {
      const out = allocate(outDType, sizeOf(outShape));
      binaryKernel(op, arr(a), a.shape, arr(b), b.shape, out, outShape);
      return out;
    },
    where(cond, a, b, outShape) {
      const out = allocate(a.dtype, sizeOf(outShape));
      whereKernel(arr(cond), cond.shape, arr(a), a.shape, arr(b), b.shape, out, outShape);
      return out;
    },
    reduce(op, x, axes) {
      const out = allocate(x.dtype, sizeOf(x.shape.filter((_, i) => !axes.includes(i))));
      reduceKernel(op, arr(x), x.shape, axes, out);
      return out;
    },
    argReduce(op, x, axis) {
      const out = allocate('int32', sizeOf(x.shape.filter((_, i) => i !== axis))) as Int32Array;
      argReduceKernel(op, arr(x), x.shape, axis, out);
      return out;
    },
    matmul(a, b, transA, transB, { batchA, batchB, m, n, k }: MatmulDims) {
      const batch = batchA === 1 ? batchB : batchA; // a batch of 1 broadcasts
      const out = allocate(a.dtype, batch * m * n);
      for (let i = 0; i < batch; i++) {
        matmulKernel({
          a: arr(a),
          b: arr(b),
          c: out,
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
      const out = allocate(x.dtype, x.size);
      stridedCopy(arr(x), 0, perm.map((p) => src[p]), out, outShape);
      return out;
    },
    broadcastTo(x, shape) {
      const src = stridesOf(x.shape);
      const lead = shape.length - x.rank;
      const strides = shape.map((_, i) => (i < lead || x.shape[i - lead] === 1 ? 0 : src[i - lead]));
      const out = allocate(x.dtype, sizeOf(shape));
      stridedCopy(arr(x), 0, strides, out, shape);
      return out;
    },
    slice(x, begin, size) {
      const src = stridesOf(x.shape);
      const offset = begin.reduce((o, b, i) => o + b * src[i], 0);
      const out = allocate(x.dtype, sizeOf(size));
      stridedCopy(arr(x), offset, src, out, size);
      return out;
    },
    concat(xs, axis, outShape) {
      const out = allocate(xs[0].dtype, sizeOf(outShape));
      concatKernel(xs.map(arr), xs.map((x) => x.shape), axis, out);
      return out;
    },
    gather(x, indices) {
      const rowSize = sizeOf(x.shape.slice(1));
      const out = allocate(x.dtype, indices.size * rowSize);
      gatherKernel(arr(x), arr(indices) as Int32Array, rowSize, out);
      return out;
    },
    scatterAdd(updates, indices, numRows) {
      const rowSize = sizeOf(updates.shape.slice(indices.rank));
      const acc = new Float64Array(numRows * rowSize); // accumulate in float64, round once on the way out
      scatterAddKernel(arr(updates), arr(indices) as Int32Array, rowSize, acc);
      const out = allocate(updates.dtype, acc.length);
      out.set(acc);
      return out;
    },
    cast(x, dtype: DType) {
      const out = allocate(dtype, x.size);
      const src = arr(x);
      if (dtype !== 'int32') {
        out.set(src); // float64 → float32 rounds to nearest
        return out;
      }
      for (let i = 0; i < src.length; i++) {
        const v = Math.trunc(src[i]); // toward zero, like C
        if (!(v >= -(2 ** 31) && v < 2 ** 31)) {
          throw new ValueError('cast', `element ${i} of ${fmt(x.shape)} is ${src[i]}, which has no int32 value`);
        }
        out[i] = v;
      }
      return out;
    },
  };
}

/** The reference backend `js-reference`: the same as `js` but with the textbook matmul loop, for tests and benchmarks. */
export function createJsReferenceBackend(): Backend {
  return createJsBackend(matmulReference, 'js-reference');
}
