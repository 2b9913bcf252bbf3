// The `gpu` backend: every Backend kernel as a gpu.js kernel; tensors live in float32 textures that stay on the device.
import type { Backend, MatmulDims } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import { broadcastStrides, broadcastView, sizeOf, slicedView, stridesOf, transposedView, type StridedView } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { UnaryOp } from '../formulas.js';
import * as K from './kernels.js';
import { GPU_HELPERS } from './helpers.js';

/** The parts of gpu.js this backend uses (typed here so @rill/tensor builds without gpu.js installed). */
export interface GpuTexture {
  toArray(): ArrayLike<number>;
  delete(): void;
}
export interface GpuKernel {
  (...args: unknown[]): GpuTexture;
  setOutput(output: number[]): void;
  kernel?: { constructor: { mode: string } };
}
export interface GpuInstance {
  createKernel(source: string, settings: Record<string, unknown>): GpuKernel;
  addFunction(source: string, settings: { name: string }): void;
  destroy(): void;
}

/** A tensor's storage here: its texture (null for an empty tensor). */
interface Stored {
  texture: GpuTexture | null;
}

let liveTextures = 0;

/** Longest loop a kernel may run: Mesa's llvmpipe silently stops loops at 65 535 iterations. */
const MAX_LOOP = 65535;
/** Element counts (and int32 magnitudes) from 2²⁴ on are not exact in float32 index arithmetic. */
const MAX_ELEMENTS = 2 ** 24;

/** How many textures the gpu backend holds now (the memory test watches this). */
export function gpuTextureCount(): number {
  return liveTextures;
}

/** Pads a shape (or strides) on the left to MAX_RANK entries, as the strided kernels read them. */
function pad(values: readonly number[], fill: number): Float32Array {
  if (values.length > K.MAX_RANK) throw new ShapeError('gpu', `tensors of rank > ${K.MAX_RANK} are not supported on the gpu backend`);
  return Float32Array.from([...new Array(K.MAX_RANK - values.length).fill(fill), ...values]);
}

/** Creates the gpu backend on a gpu.js instance whose kernels run on a real GL context. */
export function createGpuBackend(gpu: GpuInstance): Backend & { kernelMode(): string } {
  for (const [name, source] of GPU_HELPERS) gpu.addFunction(source, { name });
  const kernels = new Map<string, GpuKernel>();
  /** One compiled kernel per source text, with a dynamic output size; textures out (pipeline), a new one per call. */
  const kernel = (source: string) => {
    let k = kernels.get(source);
    if (!k) {
      k = gpu.createKernel(source, {
        output: [1],
        pipeline: true,
        immutable: true,
        precision: 'single',
        dynamicOutput: true,
        dynamicArguments: true,
        // Highest float precision everywhere: without a tactic gpu.js picks one from the first output's size (a lower
        // precision for small outputs) and then cannot resize the kernel when the output grows (results beyond ~32k
        // elements came back as garbage).
        tactic: 'precision',
        loopMaxIterations: MAX_LOOP,
      });
      kernels.set(source, k);
    }
    return k;
  };
  /** Runs a kernel with `size` outputs; an empty output makes no texture. */
  const run = (source: string, size: number, ...args: unknown[]): Stored => {
    if (size === 0) return { texture: null };
    if (size >= MAX_ELEMENTS) {
      throw new ValueError('gpu', `tensors of 2²⁴ = ${MAX_ELEMENTS} elements or more are not supported (float32 index arithmetic), got ${size}`);
    }
    const k = kernel(source);
    k.setOutput([size]);
    const texture = k(...args);
    liveTextures++;
    return { texture };
  };
  const tex = (t: Tensor) => (t.storageFor('gpu').storage as Stored).texture;
  /** The texture's values back on the CPU, as the dtype's typed array. */
  const readBack = (storage: unknown, dtype: DType, size: number): TypedArray => {
    const t = (storage as Stored).texture;
    const values = t ? t.toArray() : [];
    const out = dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = dtype === 'int32' ? Math.round(values[i]) : values[i];
    return out;
  };
  const zeros = (size: number) => run(K.FILL, size, 0);
  /** Throws for loops longer than GL allows (Mesa's llvmpipe stops at 65 535 iterations without an error). */
  const loop = (op: string, n: number, what: string) => {
    if (n > MAX_LOOP) throw new ValueError(op, `the gpu backend handles at most ${MAX_LOOP} ${what} per output element, got ${n}`);
  };
  const strided = (x: Tensor, { shape, strides, offset }: StridedView) => run(K.STRIDED, sizeOf(shape), tex(x), pad(shape, 1), pad(strides, 0), offset);

  return {
    name: 'gpu',
    device: 'gpu',
    kernelMode: () => [...kernels.values()].find((k) => k.kernel)?.kernel?.constructor.mode ?? 'unknown',

    fromArray(data: TypedArray): Stored {
      if (data instanceof Float64Array) {
        throw new DTypeError('gpu', 'the gpu backend holds float32 (and int32) tensors; keep float64 on a CPU backend or cast first');
      }
      if (data instanceof Int32Array && data.some((v) => Math.abs(v) > MAX_ELEMENTS)) {
        throw new ValueError('gpu', `int32 values beyond ±2²⁴ are not exact in float32 textures`);
      }
      return run(K.UPLOAD, data.length, data instanceof Float32Array ? data : Float32Array.from(data));
    },
    read: readBack,
    dispose(storage) {
      const s = storage as Stored;
      if (s.texture) {
        s.texture.delete();
        s.texture = null;
        liveTextures--;
      }
    },

    unary: (op, x, params) => run(K.unarySource(op), x.size, tex(x), params[0] ?? 0, params[1] ?? 0),
    unaryGrad: (op: UnaryOp, x, y, dy, params) => run(K.unaryGradSource(op), x.size, tex(x), tex(y), tex(dy), params[0] ?? 0, params[1] ?? 0),
    binary: (op, a, b, outShape) =>
      run(K.binarySource(op), sizeOf(outShape), tex(a), tex(b), pad(outShape, 1), pad(broadcastStrides(a.shape, outShape), 0), pad(broadcastStrides(b.shape, outShape), 0)),
    where: (cond, a, b, outShape) =>
      run(K.WHERE, sizeOf(outShape), tex(cond), tex(a), tex(b), pad(outShape, 1), ...[cond, a, b].map((t) => pad(broadcastStrides(t.shape, outShape), 0))),
    reduce(op, x, axes) {
      const strides = stridesOf(x.shape);
      const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
      const count = sizeOf(axes.map((a) => x.shape[a]));
      if (count === 0) return zeros(sizeOf(kept.map((i) => x.shape[i]))); // the sum of nothing (max/min refuse earlier)
      loop(op, count, 'reduced elements');
      return run(
        K.reduceSource(op),
        sizeOf(kept.map((i) => x.shape[i])),
        tex(x),
        pad(kept.map((i) => x.shape[i]), 1),
        pad(kept.map((i) => strides[i]), 0),
        pad(axes.map((a) => x.shape[a]), 1),
        pad(axes.map((a) => strides[a]), 0),
        count,
      );
    },
    argReduce(op, x, axis) {
      const len = x.shape[axis];
      const inner = sizeOf(x.shape.slice(axis + 1));
      loop(op, len, 'elements along the axis');
      return run(K.argReduceSource(op), x.size / len, tex(x), len, inner);
    },
    matmul(a, b, transA, transB, { batchA, batchB, m, n, k }: MatmulDims) {
      const batch = batchA === 1 ? batchB : batchA;
      if (k === 0) return zeros(batch * m * n);
      loop('matmul', k, 'terms (the inner dimension K)');
      const [ai, ap] = transA ? [1, m] : [k, 1];
      const [bp, bj] = transB ? [1, k] : [n, 1];
      return run(K.MATMUL, batch * m * n, tex(a), tex(b), m, n, k, ai, ap, bp, bj, batchA === 1 ? 0 : 1, batchB === 1 ? 0 : 1);
    },
    transpose: (x, perm) => strided(x, transposedView(x.shape, perm)),
    broadcastTo: (x, shape) => strided(x, broadcastView(x.shape, shape)),
    slice: (x, begin, size) => strided(x, slicedView(x.shape, begin, size)),
    concat(all, axis) {
      const xs = all.filter((x) => x.size > 0); // empty parts add nothing
      if (xs.length === 0) return { texture: null };
      // Folds pairwise: [a, b, c] → concat(concat(a, b), c), freeing the intermediate textures.
      const inner = sizeOf(xs[0].shape.slice(axis + 1));
      let acc: Stored = { texture: tex(xs[0]) };
      let width = xs[0].shape[axis] * inner;
      let owned = false;
      const outer = sizeOf(xs[0].shape.slice(0, axis));
      for (const x of xs.slice(1)) {
        const chunk = x.shape[axis] * inner;
        const next = run(K.CONCAT2, outer * (width + chunk), acc.texture, tex(x), width, chunk);
        if (owned) this.dispose(acc);
        [acc, width, owned] = [next, width + chunk, true];
      }
      return owned ? acc : run(K.COPY, xs[0].size, acc.texture);
    },
    gather: (x, indices) => run(K.GATHER, indices.size * sizeOf(x.shape.slice(1)), tex(x), tex(indices), sizeOf(x.shape.slice(1))),
    scatterAdd(updates, indices, numRows) {
      const rowSize = sizeOf(updates.shape.slice(indices.rank));
      if (indices.size === 0 || rowSize === 0) return zeros(numRows * rowSize);
      loop('scatterAdd', indices.size, 'indices');
      return run(K.SCATTER_ADD, numRows * rowSize, tex(updates), tex(indices), rowSize, indices.size);
    },
    cast: (x, dtype) => {
      if (dtype === 'float64') throw new DTypeError('cast', 'the gpu backend holds float32 (and int32) tensors; move to a CPU backend for float64');
      if (dtype === 'int32' && x.dtype !== 'int32') {
        // An explicit cast may read back to check, as the CPU does: NaN, ±∞ and out-of-range values have no int32.
        const values = readBack({ texture: tex(x) }, 'float32', x.size);
        const bad = values.findIndex((v: number) => !(Math.trunc(v) >= -(2 ** 31) && Math.trunc(v) < 2 ** 31));
        if (bad >= 0) throw new ValueError('cast', `element ${bad} of [${x.shape}] is ${values[bad]}, which has no int32 value`);
        return run(K.TRUNC, x.size, tex(x));
      }
      return run(K.COPY, x.size, tex(x));
    },
  };
}
