// The `webgpu` backend: every Backend kernel as a WGSL compute shader; tensors live in storage buffers on the device
// and come back only asynchronously (mapAsync), so a synchronous read needs an awaited dataAsync()/prefetch() first.
import type { Backend, MatmulDims } from '../backend.js';
import type { ConvDims } from '../cpu/conv.js';
import { allocate, type DType, type TypedArray } from '../dtype.js';
import { BackendError, DTypeError, ShapeError, ValueError } from '../errors.js';
import { broadcastStrides, broadcastView, sizeOf, slicedView, stridesOf, transposedView, type StridedView } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { MAP_READ, USAGE, type GpuBufferLike, type GpuDeviceLike, type GpuEncoderLike, type GpuPipelineLike } from './api.js';
import * as W from './wgsl.js';

/**
 * A tensor's storage here: its buffer (null for an empty tensor) and, once known, a host copy of its values —
 * uploads keep the array they were made from, and an awaited read-back keeps what it read. Buffers are never
 * written after the kernel that made them, so the copy stays right for the storage's whole life.
 */
interface Stored {
  buffer: GpuBufferLike | null;
  host: TypedArray | null;
}

/** Passes recorded before a submit without a read-back (a training step records a few hundred). */
const MAX_PENDING = 64;

/** int32 magnitudes from 2²⁴ on are not exact in the float32 buffers. */
const MAX_INT = 2 ** 24;

let liveBuffers = 0;

/** How many tensor buffers the webgpu backend holds now (the memory test watches this). */
export function webgpuBufferCount(): number {
  return liveBuffers;
}

/** Pads a shape (fill 1) or strides (fill 0) on the left to MAX_RANK entries. */
function pad(values: readonly number[], fill: number): number[] {
  if (values.length > W.MAX_RANK) throw new ShapeError('webgpu', `tensors of rank > ${W.MAX_RANK} are not supported on the webgpu backend`);
  return [...new Array(W.MAX_RANK - values.length).fill(fill), ...values];
}

/** A convolution's sizes in the order the conv kernels read them from spec (wgsl.ts, CONV_DIMS). */
const convSpec = (d: ConvDims) => [d.n, d.c, d.h, d.w, d.co, d.kh, d.kw, d.sh, d.sw, d.ph, d.pw, d.ho, d.wo];

/** A float's bit pattern, for the float parameters kernels read from spec with bitcast. */
const bits = (v: number) => new Uint32Array(Float32Array.of(v).buffer)[0];

/** Creates the webgpu backend on a WebGPU device. */
export function createWebGpuBackend(device: GpuDeviceLike): Backend {
  const pipelines = new Map<string, GpuPipelineLike>();
  const pipeline = (code: string) => {
    let p = pipelines.get(code);
    if (!p) {
      p = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
      pipelines.set(code, p);
    }
    return p;
  };
  const maxElements = Math.floor(Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize) / 4);
  /** Bound where a kernel wants an input but the tensor is empty (its output is then empty too and never written). */
  const placeholder = device.createBuffer({ size: 4, usage: USAGE.STORAGE });

  const newBuffer = (size: number): GpuBufferLike => {
    if (size > maxElements) throw new ValueError('webgpu', `a tensor of ${size} elements exceeds this device's largest storage buffer (${maxElements} float32s)`);
    liveBuffers++;
    return device.createBuffer({ size: Math.max(4, size * 4), usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST });
  };

  // Dispatches are recorded into one command encoder and submitted together (a submit costs far more than a pass):
  // at a read-back, or every MAX_PENDING passes. Buffers freed meanwhile may still be named by a recorded pass, so they
  // are destroyed only after the submit (WebGPU keeps a destroyed buffer alive until submitted work using it is done).
  let encoder: GpuEncoderLike | null = null;
  let pending = 0;
  const retired: GpuBufferLike[] = [];
  const flush = () => {
    if (encoder) device.queue.submit([encoder.finish()]);
    encoder = null;
    pending = 0;
    for (const b of retired.splice(0)) b.destroy();
  };
  const retire = (b: GpuBufferLike) => (encoder ? retired.push(b) : b.destroy());

  /** Records one dispatch of `code` over `inputs` into `out`, with `spec` as binding 0. */
  const dispatch = (code: string, spec: readonly number[], inputs: (GpuBufferLike | null)[], out: GpuBufferLike, groups: [number, number, number]) => {
    const p = pipeline(code);
    const specBuffer = device.createBuffer({ size: Math.max(4, spec.length * 4), usage: USAGE.STORAGE | USAGE.COPY_DST });
    device.queue.writeBuffer(specBuffer, 0, Uint32Array.from(spec)); // on the queue before the submit that reads it
    const buffers = [specBuffer, ...inputs.map((b) => b ?? placeholder), out];
    const group = device.createBindGroup({ layout: p.getBindGroupLayout(0), entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) });
    encoder ??= device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(p);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(...groups);
    pass.end();
    retired.push(specBuffer);
    if (++pending >= MAX_PENDING) flush();
  };

  /** Workgroups for `size` invocations on a 2-D grid: at most 65 535 along x, rows of them along y (spec[1] = rowWidth). */
  const grid = (size: number) => {
    const count = Math.ceil(size / W.WORKGROUP);
    const gx = Math.min(count, device.limits.maxComputeWorkgroupsPerDimension);
    return { rowWidth: gx * W.WORKGROUP, groups: [gx, Math.ceil(count / gx), 1] as [number, number, number] };
  };

  /** Runs an elementwise kernel with `size` outputs (spec after the size and row width); an empty output runs nothing. */
  const run = (code: string, size: number, spec: readonly number[], ...inputs: (GpuBufferLike | null)[]): Stored => {
    if (size === 0) return { buffer: null, host: null };
    const out = newBuffer(size);
    const { rowWidth, groups } = grid(size);
    dispatch(code, [size, rowWidth, ...spec], inputs, out, groups);
    return { buffer: out, host: null };
  };
  const buf = (t: Tensor) => (t.storageFor('webgpu').storage as Stored).buffer;
  const host = (t: Tensor) => (t.storageFor('webgpu').storage as Stored).host;
  const fill = (size: number, value: number) => run(W.FILL, size, [bits(value)]);
  const strided = (x: Tensor, { shape, strides, offset }: StridedView) =>
    run(W.STRIDED, sizeOf(shape), [...pad(shape, 1), ...pad(strides, 0), offset], buf(x));

  const readAsync = async (storage: unknown, dtype: DType, size: number): Promise<TypedArray> => {
    const s = storage as Stored;
    if (!s.host) {
      if (!s.buffer) return allocate(dtype, size);
      const staging = device.createBuffer({ size: size * 4, usage: USAGE.MAP_READ | USAGE.COPY_DST });
      encoder ??= device.createCommandEncoder();
      encoder.copyBufferToBuffer(s.buffer, 0, staging, 0, size * 4);
      flush(); // the recorded kernels, then the copy
      await staging.mapAsync(MAP_READ);
      const values = new Float32Array(staging.getMappedRange().slice(0));
      staging.destroy();
      s.host = dtype === 'int32' ? Int32Array.from(values, Math.round) : values;
    }
    return s.host.slice();
  };

  return {
    name: 'webgpu',
    device: 'gpu',
    asyncRead: true,

    fromArray(data: TypedArray): Stored {
      if (data instanceof Float64Array) {
        throw new DTypeError('webgpu', 'the webgpu backend holds float32 (and int32) tensors; keep float64 on a CPU backend or cast first');
      }
      if (data instanceof Int32Array && data.some((v) => Math.abs(v) > MAX_INT)) {
        throw new ValueError('webgpu', 'int32 values beyond ±2²⁴ are not exact in float32 buffers');
      }
      if (data.length === 0) return { buffer: null, host: data };
      const buffer = newBuffer(data.length);
      device.queue.writeBuffer(buffer, 0, data instanceof Float32Array ? data : Float32Array.from(data));
      return { buffer, host: data };
    },
    read(storage, dtype, size) {
      const s = storage as Stored;
      if (s.host) return s.host.slice();
      if (!s.buffer) return allocate(dtype, size);
      throw new BackendError(
        'webgpu',
        'WebGPU reads back only asynchronously: `await tensor.dataAsync()` (or `await prefetch([...tensors])`) before a synchronous read (data, item(), toArray(), to(), or moving the tensor to another backend)',
      );
    },
    readAsync,
    dispose(storage) {
      const s = storage as Stored;
      if (s.buffer) {
        retire(s.buffer);
        liveBuffers--;
      }
      s.buffer = null;
      s.host = null;
    },

    unary: (op, x, params) => run(W.unary(op), x.size, [bits(params[0] ?? 0), bits(params[1] ?? 0)], buf(x)),
    unaryGrad: (op, x, y, dy, params) => run(W.unaryGrad(op), x.size, [bits(params[0] ?? 0), bits(params[1] ?? 0)], buf(x), buf(y), buf(dy)),
    binary: (op, a, b, outShape) =>
      run(W.binary(op), sizeOf(outShape), [
        ...pad(outShape, 1),
        ...pad(broadcastStrides(a.shape, outShape), 0),
        ...pad(broadcastStrides(b.shape, outShape), 0),
      ], buf(a), buf(b)),
    where: (cond, a, b, outShape) =>
      run(W.WHERE, sizeOf(outShape), [...pad(outShape, 1), ...[cond, a, b].flatMap((t) => pad(broadcastStrides(t.shape, outShape), 0))], buf(cond), buf(a), buf(b)),
    reduce(op, x, axes) {
      const strides = stridesOf(x.shape);
      const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
      const size = sizeOf(kept.map((i) => x.shape[i]));
      const count = sizeOf(axes.map((a) => x.shape[a]));
      if (count === 0) return fill(size, 0); // the sum of nothing (max/min refuse earlier)
      const spec = [kept.map((i) => x.shape[i]), kept.map((i) => strides[i]), axes.map((a) => x.shape[a]), axes.map((a) => strides[a])];
      return run(W.reduce(op), size, [...pad(spec[0], 1), ...pad(spec[1], 0), ...pad(spec[2], 1), ...pad(spec[3], 0), count], buf(x));
    },
    argReduce(op, x, axis) {
      const len = x.shape[axis];
      return run(W.argReduce(op), x.size / len, [len, sizeOf(x.shape.slice(axis + 1))], buf(x));
    },
    matmul(a, b, transA, transB, { batchA, batchB, m, n, k }: MatmulDims) {
      const batch = batchA === 1 ? batchB : batchA;
      const size = batch * m * n;
      if (size === 0) return { buffer: null, host: null };
      if (k === 0) return fill(size, 0);
      const [ai, ap] = transA ? [1, m] : [k, 1];
      const [bp, bj] = transB ? [1, k] : [n, 1];
      const out = newBuffer(size);
      const spec = [m, n, k, ai, ap, bp, bj, batchA === 1 ? 0 : m * k, batchB === 1 ? 0 : k * n];
      dispatch(W.MATMUL, spec, [buf(a), buf(b)], out, [Math.ceil(n / W.TILE), Math.ceil(m / W.TILE), batch]);
      return { buffer: out, host: null };
    },
    // conv2d and its gradients: direct kernels, one invocation per output element (wgsl.ts)
    conv2d: (x, w, b, d) => run(W.CONV2D, d.n * d.co * d.ho * d.wo, [...convSpec(d), b ? 1 : 0], buf(x), buf(w), b ? buf(b) : null),
    conv2dInputGrad: (dy, w, d) => run(W.CONV2D_INPUT_GRAD, d.n * d.c * d.h * d.w, convSpec(d), buf(dy), buf(w)),
    conv2dWeightGrad: (x, dy, d) => run(W.CONV2D_WEIGHT_GRAD, d.co * d.c * d.kh * d.kw, convSpec(d), buf(x), buf(dy)),
    linear(x, w, b, activation) {
      // z = x·W (+ b) and y = act(z) from one tiled-matmul kernel (see linearSource); y is z without an activation
      const [rows, cols] = [x.shape[0], w.shape[1]];
      if (rows * cols === 0 || x.shape[1] === 0) return null; // the composite handles empty shapes
      const z = newBuffer(rows * cols);
      const y = activation ? newBuffer(rows * cols) : null;
      const spec = [rows, cols, x.shape[1], x.shape[1], 1, cols, 1, 0, 0];
      dispatch(W.linearSource(b !== null, activation), spec, [buf(x), buf(w), ...(b ? [buf(b)] : []), ...(y ? [z] : [])], y ?? z, [Math.ceil(cols / W.TILE), Math.ceil(rows / W.TILE), 1]);
      const zs: Stored = { buffer: z, host: null };
      return { z: zs, y: y ? { buffer: y, host: null } : zs };
    },
    transpose: (x, perm) => strided(x, transposedView(x.shape, perm)),
    broadcastTo: (x, shape) => strided(x, broadcastView(x.shape, shape)),
    slice: (x, begin, size) => strided(x, slicedView(x.shape, begin, size)),
    concat(all, axis) {
      const xs = all.filter((x) => x.size > 0); // empty parts add nothing
      if (xs.length === 0) return { buffer: null, host: null };
      // Folds pairwise: [a, b, c] → concat(concat(a, b), c), freeing the intermediate buffers.
      const inner = sizeOf(xs[0].shape.slice(axis + 1));
      const outer = sizeOf(xs[0].shape.slice(0, axis));
      let acc = buf(xs[0]);
      let width = xs[0].shape[axis] * inner;
      let owned: Stored | null = null;
      for (const x of xs.slice(1)) {
        const chunk = x.shape[axis] * inner;
        const next = run(W.CONCAT2, outer * (width + chunk), [width, chunk], acc, buf(x));
        if (owned) this.dispose(owned);
        [owned, acc, width] = [next, next.buffer, width + chunk];
      }
      return owned ?? run(W.COPY, xs[0].size, [], acc);
    },
    gather: (x, indices) => {
      const rowSize = sizeOf(x.shape.slice(1));
      return run(W.GATHER, indices.size * rowSize, [rowSize], buf(x), buf(indices));
    },
    scatterAdd(updates, indices, numRows) {
      const rowSize = sizeOf(updates.shape.slice(indices.rank));
      if (indices.size === 0 || rowSize === 0) return fill(numRows * rowSize, 0);
      return run(W.SCATTER_ADD, numRows * rowSize, [rowSize, indices.size], buf(updates), buf(indices));
    },
    fusedUpdate(rule, [param, grad, m, v], scalars) {
      // θ, m, v: three outputs of one kernel; the first two ride in the input list (bindings 5, 6), v is `out`
      if (rule !== 'adam' || param.size === 0) return null;
      const [outTheta, outM, outV] = [newBuffer(param.size), newBuffer(param.size), newBuffer(param.size)];
      const { rowWidth, groups } = grid(param.size);
      const spec = [param.size, rowWidth, ...scalars.map(bits)]; // in ADAM_SCALAR_ORDER, as the kernel reads them
      dispatch(W.ADAM, spec, [buf(param), buf(grad), buf(m), buf(v), outTheta, outM], outV, groups);
      const fresh = (buffer: GpuBufferLike): Stored => ({ buffer, host: null });
      return [fresh(outTheta), fresh(outM), fresh(outV)];
    },
    cast(x, dtype) {
      if (dtype === 'float64') throw new DTypeError('cast', 'the webgpu backend holds float32 (and int32) tensors; move to a CPU backend for float64');
      if (dtype === 'int32' && x.dtype !== 'int32') {
        // Checked where the values are known on the host (as the CPU checks): NaN, ±∞ and out-of-range values have no
        // int32. A device-only tensor is not read back for it (that would block); its NaNs become 0.
        const values = host(x);
        const bad = values ? values.findIndex((v: number) => !(Math.trunc(v) >= -(2 ** 31) && Math.trunc(v) < 2 ** 31)) : -1;
        if (bad >= 0) throw new ValueError('cast', `element ${bad} of [${x.shape}] is ${values![bad]}, which has no int32 value`);
        return run(W.TRUNC, x.size, [], buf(x));
      }
      return run(W.COPY, x.size, [], buf(x));
    },
  };
}
