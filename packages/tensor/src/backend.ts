// The Backend interface (the kernels every backend provides, dispatched by op name) and the registry of backends by name.
import type { DType, TypedArray } from './dtype.js';
import { BackendError } from './errors.js';
import type { Tensor } from './tensor.js';
import type { UnaryOp } from './unary.js';
import type { BinaryOp } from './binary.js';
import type { ConvDims } from './cpu/conv.js';

/** The reductions Backend.reduce implements: `sum`, `max` and `min` over a set of axes. */
export type ReduceOp = 'sum' | 'max' | 'min';
/** The index reductions Backend.argReduce implements along one axis. */
export type ArgReduceOp = 'argmax' | 'argmin';

/**
 * What a backend implements. Ops in ops.ts validate the inputs, compute the output shape and dtype, then call one
 * of these by name with tensors that live on this backend; each returns the new storage (the backend's own kind of
 * handle: a typed array for `js`, a texture for `gpu`…), which ops.ts wraps in a Tensor.
 * Kernels never receive JavaScript closures: a GPU backend cannot compile them. reshape needs no kernel: a reshaped
 * tensor is a view over the same storage (see Tensor.view).
 */
export interface Backend {
  /** Registry name: `js`, `wasm`, `gpu`, `webgpu`. */
  readonly name: string;
  /** Where the storage lives. */
  readonly device: 'cpu' | 'gpu';

  /** Takes ownership of a typed array of the tensor's dtype and returns storage holding it. */
  fromArray(data: TypedArray): unknown;
  /**
   * Optional: new storage of `size` elements and a typed array through which the host writes every one of them before
   * any op reads it (CPU backends: a view of their own memory). Creation ops fill small tensors in place this way,
   * instead of filling a new typed array that fromArray then takes or copies (see fromHost in internal.ts). Undefined
   * when `source` (what the host will copy in) views this backend's own memory, which making the storage may grow and
   * so detach: such data is copied out first.
   */
  host?(dtype: DType, size: number, source?: TypedArray): {
    /** The new storage (the backend's own kind of handle). */
    storage: unknown;
    /** Its `size` elements, for the host to write. */
    view: TypedArray;
  } | undefined;
  /** The elements as a typed array (CPU backends may return their storage itself). */
  read(storage: unknown, dtype: DType, size: number): TypedArray;
  /**
   * Optional: the elements without blocking the thread, for devices that read back only asynchronously (WebGPU's
   * mapAsync). Tensor.dataAsync() uses it where present, else read().
   */
  readAsync?(storage: unknown, dtype: DType, size: number): Promise<TypedArray>;
  /**
   * True where read() works only for storage whose values are already on the host (uploads, and tensors read back
   * by an awaited dataAsync() or prefetch()): WebGPU, which maps buffers only asynchronously.
   */
  readonly asyncRead?: boolean;
  /** Frees the storage (a no-op where the garbage collector does it). */
  dispose(storage: unknown): void;

  /** y = f(x) elementwise, f named by `op` (see UNARY). */
  unary(op: UnaryOp, x: Tensor, params: readonly number[]): unknown;
  /** dx = dy · f'(x) elementwise, with y = f(x) given (see UNARY's df). */
  unaryGrad(op: UnaryOp, x: Tensor, y: Tensor, dy: Tensor, params: readonly number[]): unknown;
  /** out = f(a, b) with NumPy broadcasting to `outShape`; out has `outDType`. */
  binary(op: BinaryOp, a: Tensor, b: Tensor, outShape: readonly number[], outDType: DType): unknown;
  /** out = cond ≠ 0 ? a : b, broadcasting all three to `outShape`. */
  where(cond: Tensor, a: Tensor, b: Tensor, outShape: readonly number[]): unknown;
  /** Reduces the sorted, distinct `axes` away (the caller reshapes for keepdims). */
  reduce(op: ReduceOp, x: Tensor, axes: readonly number[]): unknown;
  /** int32 index of the largest (smallest) element along `axis`, which is removed; first index wins ties. */
  argReduce(op: ArgReduceOp, x: Tensor, axis: number): unknown;
  /**
   * Batched matmul: a is (Ba, M, K) or (Ba, K, M) with transA, b is (Bb, K, N) or (Bb, N, K) with transB;
   * Ba and Bb are equal or 1 (broadcast); the result is (max(Ba, Bb), M, N). 2D inputs arrive with Ba = Bb = 1.
   */
  matmul(a: Tensor, b: Tensor, transA: boolean, transB: boolean, dims: MatmulDims): unknown;
  /** out[i₀…] = x[i_perm…]: axis k of the result is axis perm[k] of x. */
  transpose(x: Tensor, perm: readonly number[]): unknown;
  /** x repeated along new leading axes and its size-1 axes to `shape` (already checked to be a broadcast of x's shape). */
  broadcastTo(x: Tensor, shape: readonly number[]): unknown;
  /** The box begin[k] ≤ i_k < begin[k] + size[k]. */
  slice(x: Tensor, begin: readonly number[], size: readonly number[]): unknown;
  /** xs (one dtype, equal outside `axis`, at least one) joined along `axis` into `outShape`. */
  concat(xs: readonly Tensor[], axis: number, outShape: readonly number[]): unknown;
  /** out[i, …] = x[indices[i], …] along axis 0 (indices are int32, already range-checked). */
  gather(x: Tensor, indices: Tensor): unknown;
  /** The adjoint of gather: out (numRows, …) = 0, then out[indices[i], …] += updates[i, …]. */
  scatterAdd(updates: Tensor, indices: Tensor, numRows: number): unknown;
  /**
   * A copy of x in `dtype` (also a plain copy, for clone). To int32 it truncates toward zero and throws ValueError for
   * NaN, ±∞ and values outside the int32 range.
   */
  cast(x: Tensor, dtype: DType): unknown;

  // Fused kernels: optional, and each may return null for inputs it does not fuse (a dtype, an activation); linear.ts
  // then composes the layer from the ops above.
  /** z = x·W (+ b) and y = act(z) in one pass; x (B, In), w (In, Out), b (Out). Without act, y is z (the same storage). */
  linear?(x: Tensor, w: Tensor, b: Tensor | null, activation: UnaryOp | null): {
    /** Storage of z = x·W + b, (B, Out). */
    z: unknown;
    /** Storage of y = act(z), (B, Out): z's own storage without act. */
    y: unknown;
  } | null;
  /**
   * Storages of a linear layer's input and weight gradients from dz (B, Out), x (B, In), W (In, Out): dx = dz·Wᵀ (B, In)
   * when wantX, dW = xᵀ·dz (In, Out) when wantW (null where not wanted), as the two matmuls compute them; null: the op
   * runs those two matmuls itself.
   */
  linearBackwardProducts?(x: Tensor, w: Tensor, dz: Tensor, wantX: boolean, wantW: boolean): {
    /** Storage of dx = dz·Wᵀ, (B, In), or null. */
    dx: unknown;
    /** Storage of dW = xᵀ·dz, (In, Out), or null. */
    dw: unknown;
  } | null;
  /** dz = dy · act'(z) (given y = act(z)) and db = Σ over rows of dz, in one pass; dz is null (meaning dy) without act. */
  linearBackward?(activation: UnaryOp | null, z: Tensor, y: Tensor, dy: Tensor): {
    /** Storage of dz = dy · act′(z), (B, Out); null without act (dz is then dy itself). */
    dz: unknown;
    /** Storage of db = Σ over rows of dz, (Out). */
    db: unknown;
  } | null;
  /**
   * An optimizer's update rule in one pass, where the backend has a kernel for it. `rule` names it (`'adam'`: see
   * adam.ts), `tensors` are what it reads (the parameter, its gradient, then the rule's state, e.g. Adam's m and v; one
   * shape and dtype), `scalars` this step's numbers in the order the rule defines (ADAM_SCALAR_ORDER). Returns the
   * storages of the new parameter and state (the inputs' order without the gradient), or null: the op composes it.
   */
  fusedUpdate?(rule: string, tensors: readonly Tensor[], scalars: readonly number[]): unknown[] | null;
  /**
   * Storage of weightedSum(x, a, y, b): out[i, …] = a[i]·x[i, …] + b[i]·y[i, …] for x, y of one float shape (B, …) and
   * B host weights each (already rounded to the dtype), rounded after each multiply and the add as the composite would
   * be. Absent: the op composes it from mul and add.
   */
  weightedSum?(x: Tensor, a: ArrayLike<number>, y: Tensor, b: ArrayLike<number>): unknown;
  /** Storage of upsample2x(x) (N, C, 2H, 2W) for a float32 x (N, C, H, W); null: the host loops (image.ts). */
  upsample2x?(x: Tensor): unknown;
  /** Storage of upsample2xGrad(dy) (N, C, H, W) for a float32 dy (N, C, 2H, 2W); null: the host loops. */
  upsample2xGrad?(dy: Tensor): unknown;
  /** Storage of conv2d(x, w) + b (b null: none), (N, Co, Ho, Wo), for the checked sizes `d` (conv.ts); null: im2col + matmul. */
  conv2d?(x: Tensor, w: Tensor, b: Tensor | null, d: ConvDims): unknown;
  /** Storage of conv2d's input gradient (N, C, H, W) for dy (N, Co, Ho, Wo); null: the composite. */
  conv2dInputGrad?(dy: Tensor, w: Tensor, d: ConvDims): unknown;
  /** Storage of conv2d's weight gradient (Co, C, kH, kW) for x and dy; null: the composite. */
  conv2dWeightGrad?(x: Tensor, dy: Tensor, d: ConvDims): unknown;
  /** Storages of group norm's y (x's shape) and stats (N, G, 2) (norm.ts); null: the host loops. */
  groupNorm?(x: Tensor, groups: number, gamma: Tensor, beta: Tensor, eps: number): {
    /** Storage of y, x's shape. */
    y: unknown;
    /** Storage of the statistics, (N, G, 2). */
    stats: unknown;
  } | null;
  /** Storages of group norm's dx, dγ and dβ; null: the host loops. */
  groupNormBackward?(dy: Tensor, x: Tensor, gamma: Tensor, stats: Tensor): {
    /** Storage of ∂L/∂x. */
    dx: unknown;
    /** Storage of ∂L/∂γ, (C). */
    dgamma: unknown;
    /** Storage of ∂L/∂β, (C). */
    dbeta: unknown;
  } | null;
}

/** The sizes of a (batched) matmul, as ops.ts hands them to Backend.matmul. */
export interface MatmulDims {
  /** Batch size of a: 1 for a 2D a (or a batch of 1, which broadcasts). */
  batchA: number;
  /** Batch size of b: 1 for a 2D b (or a batch of 1, which broadcasts). */
  batchB: number;
  /** Rows of op(a) and of the result. */
  m: number;
  /** Columns of op(b) and of the result. */
  n: number;
  /** The inner dimension: columns of op(a), rows of op(b). */
  k: number;
}

interface Registration {
  factory: () => Backend;
  /** Higher wins when `cpu` picks the fastest CPU backend; negative: never picked (GPU backends). */
  cpuPriority: number;
  instance?: Backend;
}

const registry = new Map<string, Registration>();
/** CPU backends that could not start here (tried once by the `cpu` alias). */
const skipped = new Set<string>();
let active: Backend | undefined;

// `gpu` needs an asynchronous start (loading gpu.js, creating a GL context): until initGpu() has run, selecting it
// explains how. initGpu() replaces this entry with the real backend, or with the CPU (after one warning) when there
// is no GL context.
// Likewise `webgpu` (requesting an adapter and a device is asynchronous): initWebGpu() from '@rill/tensor/webgpu'.
for (const [name, init] of [['gpu', 'initGpu'], ['webgpu', 'initWebGpu']]) {
  registry.set(name, {
    cpuPriority: -1,
    factory: () => {
      throw new BackendError('setBackend', `the ${name} backend is not started: \`await ${init}()\` from '@rill/tensor/${name}' first`);
    },
  });
}

/**
 * Registers a backend under `name`. `factory` is called on first use and may throw BackendError when the
 * backend cannot run here. `cpuPriority` ranks CPU backends for the `cpu` alias (omit it for GPU backends).
 */
export function registerBackend(name: string, factory: () => Backend, cpuPriority = -1): void {
  registry.set(name, { factory, cpuPriority });
  skipped.delete(name);
}

/** Names of the registered backends, plus the alias `cpu`. */
export function listBackends(): string[] {
  return [...registry.keys(), 'cpu'];
}

function resolve(name: string): Backend {
  if (name === 'cpu') {
    // The fastest CPU backend that starts here: one that cannot (no WebAssembly SIMD…) gives way to the next.
    const cpus = [...registry.entries()].filter(([, r]) => r.cpuPriority >= 0);
    cpus.sort((x, y) => y[1].cpuPriority - x[1].cpuPriority);
    if (cpus.length === 0) throw new BackendError('setBackend', 'no CPU backend is registered');
    for (const [key, reg] of cpus.slice(0, -1)) {
      if (skipped.has(key)) continue;
      try {
        return (reg.instance ??= reg.factory());
      } catch (e) {
        if (!(e instanceof BackendError)) throw e;
        skipped.add(key);
      }
    }
    return resolve(cpus[cpus.length - 1][0]);
  }
  const key = name;
  const reg = registry.get(key);
  if (!reg) {
    throw new BackendError('setBackend', `unknown backend '${name}' (available: ${listBackends().join(', ')})`);
  }
  reg.instance ??= reg.factory();
  return reg.instance;
}

/** The backend registered under `name` (or the `cpu` alias), without making it active. */
export function backendByName(name: string): Backend {
  return resolve(name);
}

/** Makes `name` (`wasm`, `js`, `gpu`, `webgpu`, or `cpu` = the fastest CPU backend) the backend new tensors are made on. */
export function setBackend(name: string): void {
  active = resolve(name);
}

/** The active backend: the one set by setBackend, else the one named by the RILL_BACKEND environment variable, else `cpu`. */
export function getBackend(): Backend {
  if (!active) {
    // No `node:` import: this reads process.env only where a `process` global exists (Node), so browsers work too.
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    const fromEnv = env?.RILL_BACKEND;
    try {
      active = resolve(fromEnv && fromEnv.length > 0 ? fromEnv : 'cpu');
    } catch (e) {
      if (e instanceof BackendError) throw new BackendError('RILL_BACKEND', e.message.replace(/^setBackend: /, ''));
      throw e;
    }
  }
  return active;
}

const warnedUnavailable = new Set<string>();

/**
 * A GPU backend that cannot start here (no GL context, no WebGPU): throws when `required`; else warns once and
 * registers `name` as the CPU, so setBackend(name) and RILL_BACKEND keep working — on tensors whose `device` says
 * `cpu`, never on a fallback that claims to be a GPU. Returns null (what initGpu / initWebGpu then return).
 */
export function gpuUnavailable(name: string, why: string, required: boolean): null {
  if (required) throw new BackendError(name, why);
  if (!warnedUnavailable.has(name)) console.warn(`rill: the ${name} backend is unavailable: ${why}. Using the CPU.`);
  warnedUnavailable.add(name);
  registerBackend(name, () => resolve('cpu'));
  return null;
}
