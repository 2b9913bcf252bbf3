// The `wasm` backend: every tensor lives in one WebAssembly.Memory; float32 matmul, activations, arithmetic and batch
// sums run in the hand-written SIMD kernels (*.wat), everything else in the js kernels on views of the same memory.
import type { Backend } from '../backend.js';
import { createJsBackend } from '../cpu/backend.js';
import { forEachRow, mergeAxes } from '../cpu/iterate.js';
import { matmulBlocked } from '../cpu/matmul.js';
import { broadcastStrides, sameShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { SIMD_BINARY_OPS, SIMD_UNARY_OPS, type BinaryOp, type SimdBinaryOp, type SimdUnaryOp, type UnaryOp } from '../formulas.js';
import { WasmHeap, type Block } from './heap.js';
import type { WasmModule } from './api.js';
import { compiledKernels, instantiate, type Compiled, type EachKernel, type Kernels } from './module.js';
import { wasmConv } from './conv.js';

/** The ops with a SIMD kernel (and a `<op>Grad` derivative kernel): those marked `simd` in formulas.ts; the rest use the js loops. */
export const WASM_UNARY: ReadonlySet<UnaryOp> = new Set(SIMD_UNARY_OPS);
/** The binary ops with a SIMD kernel, used when both operands and the result are float32; the rest use the js loops. */
export const WASM_BINARY: ReadonlySet<BinaryOp> = new Set(SIMD_BINARY_OPS);
const isSimdUnary = (op: UnaryOp | null): op is SimdUnaryOp => op !== null && WASM_UNARY.has(op);
const isSimdBinary = (op: BinaryOp): op is SimdBinaryOp => WASM_BINARY.has(op);

/**
 * A row-major B of at least this many elements (64 KiB) and more than PACK_MAX_NARROW columns is packed into panels
 * too: its rows alias in the L1 cache.
 */
export const PACK_MIN_ELEMENTS = 1 << 14;
/**
 * A row-major B this narrow is read in place however long: the 128 rows of a block of terms, 4·N ≤ 256 bytes apart,
 * spread over ≥ 16 of the L1 cache's 64 sets, ≤ 8 rows (its ways) each, so none is evicted, and packing (~2.4 µs for
 * 256 × 64) would cost more than it saves: a layer's weight gradient xᵀ·dz with 64 outputs −2.7 % ± 1.2 of the W = 64 step.
 */
export const PACK_MAX_NARROW = 64;

/** The activations the matmul epilogue applies, by the numbers $activate (formulas.generated.wat) knows them: 0 for
 * none, then 1, 2, … for the SIMD ops in formulas.ts's order. */
export const ACTIVATION_IDS = Object.fromEntries(SIMD_UNARY_OPS.map((op, i) => [op, i + 1])) as Readonly<Record<SimdUnaryOp, number>>;

/**
 * Runs one matmul kernel call, `work` its cost in multiply-adds (M·N·K, plus ACTIVATION_WORK per output element when
 * the call applies an activation), possibly split by rows between threads (see threads/).
 */
export type MatmulRows = (kernels: Kernels, args: Parameters<Kernels['matmul']>, work: number) => void;
export const oneThread: MatmulRows = (kernels, args) => matmulPart(kernels, args, args[14], args[15]);

/**
 * One part of a matmul call, rows [start, end) of C (start a multiple of 4): packs those rows of op(A) into their
 * panels, then runs the kernel on them. Each thread packs its own rows, so no thread waits for a serial packing pass.
 */
export function matmulPart(kernels: Kernels, args: Parameters<Kernels['matmul']>, start: number, end: number): void {
  const [a, apacked, b, packed, c, bias, y, act, n, k, ai, ap, bp, bj, , m] = args;
  const panelEnd = Math.min(end, m - (m % 4));
  if (panelEnd > start) kernels.packA(a + 4 * start * ai, apacked + 4 * start * k, panelEnd - start, k, ai, ap);
  if (y === 0 || act === 0) return kernels.matmul(a, apacked, b, packed, c, bias, y, act, n, k, ai, ap, bp, bj, start, end);
  // The activation as a second pass over these rows (still in cache), by its own loop: the same $<op>_f on the same
  // numbers as the kernel's epilogue, so the same bits, at half the cost of the epilogue's per-vector dispatch.
  kernels.matmul(a, apacked, b, packed, c, bias, 0, 0, n, k, ai, ap, bp, bj, start, end);
  activationKernel(kernels, act)(c + 4 * start * n, y + 4 * start * n, (end - start) * n);
}

/**
 * Runs two independent matmul kernel calls (each as MatmulRows takes it, over all its rows): one after the other by
 * default; the threads module runs them at once, one per thread, where there are two.
 */
export type PairRunner = (kernels: Kernels, first: Parameters<Kernels['matmul']>, second: Parameters<Kernels['matmul']>) => void;
export const oneAfterTheOther: PairRunner = (kernels, first, second) => {
  matmulPart(kernels, first, first[14], first[15]);
  matmulPart(kernels, second, second[14], second[15]);
};

/** The unary kernel out = act(x) over n floats for the activation numbered `act` (ACTIVATION_IDS; not 0). */
const activationKernel = (kernels: Kernels, act: number) => kernels[SIMD_UNARY_OPS[act - 1]] as (x: number, out: number, n: number) => void;
/**
 * Runs kernel `name` over the items [0, count) — `args`, then start, end and the part's index are its arguments —
 * possibly split between threads (each part a whole range of items, with its own scratch).
 */
export type EachRunner = (kernels: Kernels, name: EachKernel, args: readonly number[], count: number) => void;
export const allOnOneThread: EachRunner = (kernels, name, args, count) => kernels[name](...args, 0, count, 0);
/**
 * Runs the elementwise kernel `name` as kernels[name](...args, n), possibly split into ranges of the n elements between
 * threads: argument i advances steps[i] bytes per element (4 for an array, 0 for anything else). Elementwise results do
 * not depend on the split.
 */
export type SplitRunner = (kernels: Kernels, name: keyof Kernels, args: readonly number[], steps: readonly number[], n: number) => void;
export const unsplit: SplitRunner = (kernels, name, args, _steps, n) => (kernels[name] as (...a: number[]) => void)(...args, n);

/** What a wasm backend is made of: for the threads module (which instantiates the same module on the same memory in
 * each worker and swaps `rows`) and for the tests. */
export interface WasmParts {
  /** The allocator over the memory that holds every tensor of this backend. */
  heap: WasmHeap;
  /** The kernels, instantiated on the heap's memory. */
  kernels: Kernels;
  /** The compiled module the kernels come from. */
  module: WasmModule;
  /** Runs the matmul kernel calls: oneThread by default; the threads module swaps in one that splits rows. */
  rows: MatmulRows;
  /** Runs two independent matmul calls: oneAfterTheOther by default; the threads module runs them at once. */
  pair: PairRunner;
  /** Runs the per-item kernels (EACH_KERNELS): allOnOneThread by default; the threads module splits the items. */
  each: EachRunner;
  /** Runs the elementwise kernels: unsplit by default; the threads module splits large ones into ranges. */
  split: SplitRunner;
  /** How many parts `each` may split into (1, or the threads): the scratch each such call must provide for. */
  parts: number;
}

/** A product's arguments as product() takes them: a, transA, b, transB, c, bias, y, act, m, n, k. */
type Product = [number, boolean, number, boolean, number, number, number, number, number, number, number];

/**
 * What an activation costs per element, in the matmul's multiply-adds: ~30 (selu 1.4 ns an element, silu 2.0, against
 * 0.045 ns a multiply-add in the tiles). So a first layer of few inputs (256 × 3 → 64 with selu: 49 K multiply-adds,
 * 16 K activations) counts as the work it is and is split between the threads like the layers after it.
 */
const ACTIVATION_WORK = 32;

/** The most columns of C the narrow kernel (matmulNarrow) computes: one vector of sums per row. */
const NARROW_MAX = 4;
/**
 * narrowProduct takes products whose padded tiles (M·8·K multiply-adds) would stay on one thread (the threads'
 * WASM_PARALLEL_MIN_WORK); larger ones run padded on every thread.
 */
const NARROW_MAX_WORK = 1 << 19;

/** Two products together worth fewer multiply-adds than this run one after the other (the threads' WASM_PARALLEL_MIN_WORK). */
const PAIR_MIN_WORK = 1 << 19;

/** Elementwise kernels over at least this many elements are split between the threads (below, a wake-up costs more). */
export const SPLIT_MIN_ELEMENTS = 1 << 16;

/** Memory-bound per-item kernels over fewer elements than this stay on one thread (a wake-up would cost more). */
const EACH_MIN_ELEMENTS = 1 << 16;

/** A Backend made by createWasmBackend, with its parts exposed. */
export type WasmBackend = Backend & {
  /** The heap, kernels, module and matmul runner this backend is made of. */
  parts: WasmParts;
};

/**
 * Creates a `wasm` backend registered as `name`: `compiled` (by default the module initWasm() compiled, else the
 * built-in one, compiled now) instantiated on a fresh memory. float32 ops with a SIMD kernel run in WebAssembly, the
 * rest in the js kernels on views of the same memory. Throws BackendError where WebAssembly SIMD is missing or the
 * module cannot be compiled synchronously.
 */
export function createWasmBackend(compiled: Compiled = compiledKernels(), name = 'wasm'): WasmBackend {
  const { memory, shared, kernels } = instantiate(compiled);
  const heap = new WasmHeap(memory, shared);
  const parts: WasmParts = { heap, kernels, module: compiled.module, rows: oneThread, pair: oneAfterTheOther, each: allOnOneThread, split: unsplit, parts: 1 };
  const scalars = heap.alloc(64); // the Adam kernel's scalars, rewritten by every call
  // NB: the js kernels here are the fallback; they see the same memory through views made after each allocation.
  const base = createJsBackend(matmulBlocked, name, heap);
  const ptr = (t: Tensor) => (t.storageFor(name).storage as Block).ptr;
  const float32 = (...ts: Tensor[]) => ts.every((t) => t.dtype === 'float32');
  const conv = wasmConv(parts, ptr);

  /**
   * C (+ bias, + act into y) = op(A)·op(B) at byte addresses, on the threads `parts.rows` uses. op(A)[i, p] is read in
   * place (row-major M×K or, transposed, K×M); op(B) is packed into 8-column panels when it is transposed or large
   * (see packB in matmul.wat), else read in place.
   */
  function product(a: number, transA: boolean, b: number, transB: boolean, c: number, bias: number, y: number, act: number, m: number, n: number, k: number): void {
    if (isNarrow(m, n, k, transB)) return narrowProduct(a, transA, b, c, bias, y, act, m, n, k);
    if (isThin(m, n, k)) return paddedProduct(a, transA, b, transB, c, bias, y, act, m, n, k);
    const call = prepare([a, transA, b, transB, c, bias, y, act, m, n, k]);
    parts.rows(kernels, call.args, m * n * k + (y !== 0 && act !== 0 ? ACTIVATION_WORK * m * n : 0));
    for (const block of call.blocks) heap.free(block);
  }

  /**
   * Whether product() takes C to narrowProduct: 1 to NARROW_MAX columns, at least one panel of 4 rows (fewer would all
   * be edge dot products, not the tiles' multiply-adds, which the relaxed-SIMD variant fuses), a row-major B, and small
   * enough that the padded tiles would not be split between threads anyway (below, one thread on the narrow kernel
   * beats them).
   */
  const isNarrow = (m: number, n: number, k: number, transB: boolean) =>
    n >= 1 && n <= NARROW_MAX && m >= 4 && !transB && k >= 8 && m * 8 * k < NARROW_MAX_WORK;

  /**
   * product() for C of n ≤ 4 columns (an output layer's N = 2, its weight gradient hᵀ·dz) on matmulNarrow: op(A)'s
   * panels packed, then 4 rows' n sums per vector, B read in place — half the padded tiles' multiplies and adds (4 + 4
   * per term and panel against 8 + 8), and nothing to pad or copy out. The same bits as the tiles (bias, then the
   * terms in order), in either kernel variant.
   */
  function narrowProduct(a: number, transA: boolean, b: number, c: number, bias: number, y: number, act: number, m: number, n: number, k: number): void {
    const [ai, ap] = transA ? [1, m] : [k, 1];
    const m4 = m - (m % 4);
    const apacked = heap.alloc(4 * m4 * k);
    kernels.packA(a, apacked.ptr, m4, k, ai, ap);
    kernels.matmulNarrow(a, apacked.ptr, b, c, bias, n, k, ai, ap, n, 0, m);
    heap.free(apacked);
    if (y && act) activationKernel(kernels, act)(c, y, m * n);
    else if (y) new Float32Array(heap.memory.buffer).copyWithin(y >> 2, c >> 2, (c >> 2) + m * n);
  }

  /** Whether product() takes a C this thin to paddedProduct. */
  const isThin = (m: number, n: number, k: number) => (n < 8 || m < 4) && k >= 8;

  /**
   * A product's kernel arguments, with op(B) packed into panels when it is transposed or large (see packB in
   * matmul.wat) and a block for op(A)'s panels of 4 rows (see matmulPart), which the caller frees after the call.
   */
  function prepare([a, transA, b, transB, c, bias, y, act, m, n, k]: Product): { args: Parameters<Kernels['matmul']>; blocks: Block[] } {
    const [ai, ap] = transA ? [1, m] : [k, 1];
    const [bp, bj] = transB ? [1, k] : [n, 1];
    const packed = transB || (k * n >= PACK_MIN_ELEMENTS && n > PACK_MAX_NARROW) ? heap.alloc(4 * k * n) : null;
    if (packed) kernels.packB(b, packed.ptr, k, n, bp, bj);
    const apacked = heap.alloc(4 * (m - (m % 4)) * k);
    return { args: [a, apacked.ptr, b, packed ? packed.ptr : 0, c, bias, y, act, n, k, ai, ap, bp, bj, 0, m], blocks: packed ? [apacked, packed] : [apacked] };
  }

  /**
   * Two independent products (a layer's input and weight gradients) through parts.pair — on threads one job whose
   * chunks are both products' rows — where both are of one size (within 2×), on the tiles and together worth a split
   * (WASM_PARALLEL_MIN_WORK); else one after the other, each as product() runs it. One hand-off instead of two, and
   * each thread starts on a product of its own.
   */
  function productPair(first: Product, second: Product): void {
    const work = ([, , , , , , , , m, n, k]: Product) => (isThin(m, n, k) ? 0 : m * n * k);
    const [w1, w2] = [work(first), work(second)];
    if (w1 === 0 || w2 === 0 || w1 + w2 < PAIR_MIN_WORK || Math.max(w1, w2) > 2 * Math.min(w1, w2)) {
      product(...first);
      product(...second);
      return;
    }
    const [one, two] = [prepare(first), prepare(second)];
    parts.pair(kernels, one.args, two.args);
    for (const block of [...one.blocks, ...two.blocks]) heap.free(block);
  }

  /**
   * product() for a thin C (fewer than 8 columns or 4 rows: the output layer's N = 2, a first layer's weight gradient
   * with M = 3), which the tiles would leave wholly to the scalar dot products at the edges: the thin operand — op(A)
   * of M < 4 rows, op(B) of N < 8 columns; a few thousand numbers — is copied row-major into a zero-padded block of 4
   * rows or 8 columns, the tiles run on it into a padded C, and the wanted part is copied out. Each C[i, j] still sums
   * bias, then p = 0…K−1 in order, so the padding changes no bit of it.
   */
  function paddedProduct(a: number, transA: boolean, b: number, transB: boolean, c: number, bias: number, y: number, act: number, m: number, n: number, k: number): void {
    const [mp, np] = [Math.max(4, m), Math.max(8, n)];
    const blocks: Block[] = [];
    // views made after each allocation: a shared memory grows in place, but an older view keeps its older length
    const view = () => new Float32Array(heap.memory.buffer);
    /** op(X) (rows × cols, stored transposed when `trans`) into a fresh zeroed block with rows of `stride` floats. */
    const padded = (src: number, trans: boolean, rows: number, cols: number, rowsTo: number, stride: number): number => {
      const block = heap.alloc(4 * rowsTo * stride);
      blocks.push(block);
      const f32 = view();
      const [s, d] = [src >> 2, block.ptr >> 2];
      f32.fill(0, d, d + rowsTo * stride);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) f32[d + i * stride + j] = f32[s + (trans ? j * rows + i : i * cols + j)];
      return block.ptr;
    };
    const [pa, ta] = m < 4 ? [padded(a, transA, m, k, mp, k), false] : [a, transA];
    const [pb, tb] = n < 8 ? [padded(b, transB, k, n, k, np), false] : [b, transB];
    const pbias = bias && n < 8 ? padded(bias, false, 1, n, 1, np) : bias;
    const cBlock = heap.alloc(4 * mp * np); // every element written by the product
    blocks.push(cBlock);
    const pc = cBlock.ptr;
    product(pa, ta, pb, tb, pc, pbias, 0, 0, mp, np, k);
    const f32 = view();
    const [cs, cd, yd] = [pc >> 2, c >> 2, y >> 2];
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) f32[cd + i * n + j] = f32[cs + i * np + j];
    if (y && act) activationKernel(kernels, act)(c, y, m * n);
    else if (y) f32.copyWithin(yd, cd, cd + m * n);
    for (const block of blocks) heap.free(block);
  }

  /** A per-item kernel over `count` items on the threads, or on this one when it touches fewer than 2¹⁶ elements. */
  function eachIfLarge(name: EachKernel, args: number[], count: number, elements: number): void {
    if (elements < EACH_MIN_ELEMENTS) kernels[name](...args, 0, count, 0);
    else parts.each(kernels, name, args, count);
  }

  return {
    ...base,
    parts,

    unary(op, x, params) {
      if (!isSimdUnary(op) || !float32(x)) return base.unary(op, x, params);
      const out = heap.allocate('float32', x.size);
      parts.split(kernels, op, [ptr(x), out.ptr], [4, 4], x.size);
      return out;
    },

    unaryGrad(op, x, y, dy, params) {
      if (!isSimdUnary(op) || !float32(x, y, dy)) return base.unaryGrad(op, x, y, dy, params);
      const out = heap.allocate('float32', x.size);
      parts.split(kernels, `${op}Grad`, [ptr(x), ptr(y), ptr(dy), out.ptr], [4, 4, 4, 4], x.size);
      return out;
    },

    binary(op, a, b, outShape, outDType) {
      if (!isSimdBinary(op) || !float32(a, b) || outDType !== 'float32') return base.binary(op, a, b, outShape, outDType);
      const size = sizeOf(outShape);
      const out = heap.allocate('float32', size);
      const [pa, pb, po] = [ptr(a), ptr(b), out.ptr];
      const kernel = kernels[op];
      // One call for the contiguous cases; else one call per row of the output (element strides 0 or 1 along a row).
      if (sameShape(a.shape, outShape) && sameShape(b.shape, outShape)) parts.split(kernels, op, [pa, 1, pb, 1, po], [4, 0, 4, 0, 4], size);
      else if (b.size === 1 && sameShape(a.shape, outShape)) parts.split(kernels, op, [pa, 1, pb, 0, po], [4, 0, 0, 0, 4], size);
      else if (a.size === 1 && sameShape(b.shape, outShape)) parts.split(kernels, op, [pa, 0, pb, 1, po], [0, 0, 4, 0, 4], size);
      else {
        // axes merged first: a bias (N, C, 1, 1) over (N, C, H, W) is one call per H·W row, not per W
        const [shape, [sa, sb]] = mergeAxes(outShape, [broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape)]);
        const last = shape.length - 1;
        const n = shape[last];
        forEachRow(shape, [sa, sb], (o, off) => kernel(pa + 4 * off[0], sa[last], pb + 4 * off[1], sb[last], po + 4 * o, n));
      }
      return out;
    },

    reduce(op, x, axes) {
      // Sums over leading axes (the batch axis of (B, …)): one column-sum kernel over x seen as (rows, cols); over
      // trailing axes (a broadcast bias over pixels): one sum per row, the rows split between the threads.
      const leading = axes.every((axis, i) => axis === i);
      const trailing = axes.every((axis, i) => axis === x.rank - axes.length + i);
      if (op !== 'sum' || !float32(x) || !(leading || trailing) || axes.length === 0) return base.reduce(op, x, axes);
      const split = leading ? axes.length : x.rank - axes.length;
      const rows = sizeOf(x.shape.slice(0, split));
      const cols = sizeOf(x.shape.slice(split));
      const out = heap.allocate('float32', leading ? cols : rows);
      if (leading) kernels.sumRows(ptr(x), out.ptr, rows, cols);
      else eachIfLarge('sumTrailing', [ptr(x), out.ptr, cols], rows, x.size);
      return out;
    },

    upsample2x(x) {
      if (!float32(x)) return null;
      const [n, c, h, w] = x.shape;
      const y = heap.allocate('float32', 4 * x.size);
      eachIfLarge('upsample2x', [ptr(x), y.ptr, h, w], n * c, x.size);
      return y;
    },

    upsample2xGrad(dy) {
      if (!float32(dy)) return null;
      const [n, c, h2, w2] = dy.shape;
      const dx = heap.allocate('float32', dy.size / 4);
      eachIfLarge('upsample2xGrad', [ptr(dy), dx.ptr, h2 / 2, w2 / 2], n * c, dy.size);
      return dx;
    },

    matmul(a, b, transA, transB, dims) {
      if (!float32(a, b)) return base.matmul(a, b, transA, transB, dims);
      const { batchA, batchB, m, n, k } = dims;
      const batch = batchA === 1 ? batchB : batchA;
      const out = heap.allocate('float32', batch * m * n);
      const [pa, pb] = [ptr(a), ptr(b)];
      for (let i = 0; i < batch; i++) {
        const aAt = pa + (batchA === 1 ? 0 : 4 * i * m * k);
        const bAt = pb + (batchB === 1 ? 0 : 4 * i * k * n);
        product(aAt, transA, bAt, transB, out.ptr + 4 * i * m * n, 0, 0, 0, m, n, k);
      }
      return out;
    },

    linear(x, w, b, activation) {
      // Only float32 and the activations the epilogue knows; else null: linear.ts composes the layer from other ops.
      if (!float32(x, w, ...(b ? [b] : [])) || (activation !== null && !isSimdUnary(activation))) return null;
      const [m, k, n] = [x.shape[0], x.shape[1], w.shape[1]];
      const z = heap.allocate('float32', m * n);
      const y = activation === null ? z : heap.allocate('float32', m * n);
      const act = activation === null ? 0 : ACTIVATION_IDS[activation];
      product(ptr(x), false, ptr(w), false, z.ptr, b ? ptr(b) : 0, y === z ? 0 : y.ptr, act, m, n, k);
      return { z, y };
    },

    conv2d: (x, w, b, d) => (float32(x, w, ...(b ? [b] : [])) ? conv.conv2d(x, w, b, d) : null),
    conv2dInputGrad: (dy, w, d) => (float32(dy, w) ? conv.conv2dInputGrad(dy, w, d) : null),
    conv2dWeightGrad: (x, dy, d) => (float32(x, dy) ? conv.conv2dWeightGrad(x, dy, d) : null),

    groupNorm(x, groups, gamma, beta, eps) {
      if (!float32(x, gamma, beta)) return null;
      const [n, c, h, w] = x.shape;
      const [y, stats] = [heap.allocate('float32', x.size), heap.allocate('float32', 2 * n * groups)];
      parts.each(kernels, 'groupNorm', [ptr(x), ptr(gamma), ptr(beta), y.ptr, stats.ptr, c, groups, h * w, eps], n);
      return { y, stats };
    },

    groupNormBackward(dy, x, gamma, stats) {
      if (!float32(dy, x, gamma, stats)) return null;
      const [n, c, h, w] = x.shape;
      const [dx, sums] = [heap.allocate('float32', x.size), heap.allocate('float64', 2 * c * n)];
      parts.each(kernels, 'groupNormBackward', [ptr(dy), ptr(x), ptr(gamma), ptr(stats), dx.ptr, sums.ptr, c, stats.shape[1], h * w], n);
      // the samples' sums added in order (the same bits on any number of threads): dγ then dβ, rounded once
      const perSample = heap.view(sums, 'float64', 2 * c * n);
      const total = new Float64Array(2 * c);
      for (let s = 0; s < n; s++) for (let i = 0; i < 2 * c; i++) total[i] += perSample[s * 2 * c + i];
      const both = Float32Array.from(total);
      heap.free(sums);
      return { dx, dgamma: heap.fromArray(both.subarray(0, c)), dbeta: heap.fromArray(both.subarray(c)) };
    },

    fusedUpdate(rule, tensors, values) {
      if (rule === 'ema') {
        const [shadow, value] = tensors;
        if (!float32(shadow, value)) return null;
        const out = heap.allocate('float32', shadow.size);
        kernels.ema(ptr(shadow), ptr(value), out.ptr, shadow.size, values[0], values[1]); // f32 params: rounded as the composite's scalars
        return [out];
      }
      const [param, grad, m, v] = tensors;
      if (rule !== 'adam' || !float32(param, grad, m, v)) return null;
      const [po, mo, vo] = [heap.allocate('float32', param.size), heap.allocate('float32', param.size), heap.allocate('float32', param.size)];
      // The ten scalars in ADAM_SCALAR_ORDER, as the kernel reads them (rounded to float32 as the composite's are).
      heap.view(scalars, 'float32', values.length).set(values);
      // split into ranges between the threads when large (each element's update is independent: the same bits)
      const args = [ptr(param), ptr(grad), ptr(m), ptr(v), po.ptr, mo.ptr, vo.ptr, scalars.ptr] as const;
      if (param.size < SPLIT_MIN_ELEMENTS) kernels.adam(...args, param.size);
      else parts.split(kernels, 'adam', args, [4, 4, 4, 4, 4, 4, 4, 0], param.size);
      return [po, mo, vo];
    },

    linearBackwardProducts(x, w, dz, wantX, wantW) {
      if (!float32(x, w, dz)) return null;
      const [rows, inputs, outputs] = [x.shape[0], x.shape[1], w.shape[1]];
      const dx = wantX ? heap.allocate('float32', rows * inputs) : null;
      const dw = wantW ? heap.allocate('float32', inputs * outputs) : null;
      // dx = dz·Wᵀ: (rows × outputs)·(outputs × inputs); dW = xᵀ·dz: (inputs × rows)·(rows × outputs)
      const forX: Product | null = dx && [ptr(dz), false, ptr(w), true, dx.ptr, 0, 0, 0, rows, inputs, outputs];
      const forW: Product | null = dw && [ptr(x), true, ptr(dz), false, dw.ptr, 0, 0, 0, inputs, outputs, rows];
      if (forX && forW) productPair(forX, forW);
      else if (forX ?? forW) product(...(forX ?? forW)!);
      return { dx, dw };
    },

    linearBackward(activation, z, y, dy) {
      if (!float32(z, y, dy) || (activation !== null && !isSimdUnary(activation))) return null;
      const [rows, cols] = z.shape;
      const db = heap.allocate('float32', cols);
      if (activation === null) {
        kernels.sumRows(ptr(dy), db.ptr, rows, cols);
        return { dz: null, db };
      }
      // Two streaming passes — dz = dy · act′(z) (split between the threads), then db = Σ_rows dz — beat one fused pass
      // walking four arrays down their columns by 7–16 % at 256 and 128 × 512 (cache lines fetched once, not four times).
      const dz = heap.allocate('float32', z.size);
      parts.split(kernels, `${activation}Grad`, [ptr(z), ptr(y), ptr(dy), dz.ptr], [4, 4, 4, 4], z.size);
      kernels.sumRows(dz.ptr, db.ptr, rows, cols);
      return { dz, db };
    },

  };
}
