// Loading the kernels module: from the bytes built into this package, or from bytes / a URL the caller gives; works in
// Node and in browsers (no `node:` imports), synchronously where the engine allows it, else through initWasm().
import { BackendError } from '../errors.js';
import { wasmApi, type Bytes, type WasmMemory, type WasmModule } from './api.js';
import { KERNELS_SHARED, KERNELS_SHARED_RELAXED, KERNELS_UNSHARED, KERNELS_UNSHARED_RELAXED } from './kernels.generated.js';
import { SIMD_BINARY_OPS, SIMD_UNARY_OPS, type SimdBinaryOp, type SimdUnaryOp } from '../formulas.js';

/** The kernels of each op marked `simd` in formulas.ts (activations.wat and elementwise.wat run them over memory). */
export type ElementwiseKernels = {
  /** out = op(x) over n float32 elements. */
  [K in SimdUnaryOp]: (x: number, out: number, n: number) => void;
} & {
  /** dx = dy · op′(x), given y = op(x), over n elements. */
  [K in SimdUnaryOp as `${K}Grad`]: (x: number, y: number, dy: number, dx: number, n: number) => void;
} & {
  /** out[j] = op(a[j·sa], b[j·sb]) for j < n, element strides sa, sb ∈ {0, 1} (0 broadcasts one element). */
  [K in SimdBinaryOp]: (a: number, sa: number, b: number, sb: number, out: number, n: number) => void;
};

/** The exported kernels (pointers are byte offsets into the memory; see the .wat sources for each signature). */
export interface Kernels extends ElementwiseKernels {
  /**
   * C (+ bias) = op(A)·op(B) for the rows [row0, row1) of C (N columns, K inner), and Y = act(C) when y ≠ 0: the fused
   * linear layer's one pass. `apacked` holds op(A)'s rows packed by packA; `packed` holds op(B) packed by packB, or is 0
   * for a row-major B read in place (bj = 1). bias = 0 or y = 0: none. ai, ap, bp, bj: element strides of op(A) and
   * op(B), as in MatmulArgs. act: 0 for none, else the activation's number in ACTIVATION_IDS.
   */
  matmul(
    a: number, apacked: number, b: number, packed: number, c: number, bias: number, y: number, act: number,
    n: number, k: number, ai: number, ap: number, bp: number, bj: number, row0: number, row1: number,
  ): void;
  /**
   * C (+ bias) = op(A)·B for a narrow C (n ≤ 4 columns) and a row-major B (rows bp floats apart), rows [row0, row1):
   * the rows' n sums side by side in one vector, 4 rows (a panel of `apacked`, from packA) at a time, the rows outside
   * whole panels as matmul's edge dot products. The same bits as matmul (bias, then the terms in order, fused in the
   * relaxed-SIMD variant as the tile's are); no activation.
   */
  matmulNarrow(a: number, apacked: number, b: number, c: number, bias: number, n: number, k: number, ai: number, ap: number, bp: number, row0: number, row1: number): void;
  /**
   * Packs the rows [0, m4) of op(A) (m4 a multiple of 4) into panels of 4 rows at `dst`: panel q holds
   * op(A)[4q…4q+3, p] side by side for p = 0…K−1 (16·K bytes per panel).
   */
  packA(a: number, dst: number, m4: number, k: number, ai: number, ap: number): void;
  /**
   * Packs op(B)'s first N − N mod 8 columns into panels of 8 at `dst`: panel q holds op(B)[p, 8q…8q+7] for
   * p = 0…K−1 (32·K bytes per panel).
   */
  packB(b: number, dst: number, k: number, n: number, bp: number, bj: number): void;
  /** out[j] = Σᵢ x[i, j] for a float32 x of (rows, cols), accumulated in float64 in row order and rounded once. */
  sumRows(x: number, out: number, rows: number, cols: number): void;
  /** out = s·d + x·e over n float32 elements (the EMA update, e = 1 − d; see elementwise.wat). */
  ema(s: number, x: number, out: number, n: number, d: number, e: number): void;
  /** One Adam step over n float32 elements: writes po, mo, vo from p, g, m, v and the ten scalars at `scalars`. */
  adam(p: number, g: number, m: number, v: number, po: number, mo: number, vo: number, scalars: number, n: number): void;
  /**
   * The windows of one image x (C, H, W) as columns: cols[(c, p, q), (i, j)] = x[c, i·sh − ph + p, j·sw − pw + q] (0 in
   * the padding), C·kH·kW rows of Ho·Wo floats, `rowStride` floats apart.
   */
  im2col(x: number, cols: number, c: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, ho: number, wo: number, rowStride: number): void;
  /** im2col's adjoint: dx (C, H, W) = 0, then each element of cols added where its window read x. */
  col2im(cols: number, dx: number, c: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, ho: number, wo: number, rowStride: number): void;
  /**
   * im2col written in packA's layout for the product colsᵀ·Wᵀ: output positions in panels of 4, panel t holding
   * cols[k, 4t…4t+3] for each k (16·K bytes per panel); positions P…p4 − 1 are zeros. `pad`: scratch for the padded
   * image, C·(H+2ph)·(W+2pw) floats.
   */
  im2colPanels(x: number, dst: number, c: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, ho: number, wo: number, p4: number, pad: number): void;
  /** dst (Co, P) = srcᵀ + bias for src (P, Co); bias = 0: none. */
  unpanel(src: number, dst: number, p: number, co: number, bias: number): void;
  /** Samples [start, end) of group norm over (N, C, hw) float32 images: y and stats (μ, r per sample-group, float32 pairs); see norm.wat. */
  groupNorm(...args: number[]): void;
  /** Samples [start, end) of group norm's backward: dx, and per sample Σ dy·x̂, Σ dy per channel in `sums` (float64, N × 2C). */
  groupNormBackward(...args: number[]): void;
  /** Planes [start, end) of nearest-neighbour 2× upsampling (x, y, h, w): see image.wat. */
  upsample2x(...args: number[]): void;
  /** Planes [start, end) of its adjoint (dy, dx, h, w), dx h × w: see image.wat. */
  upsample2xGrad(...args: number[]): void;
  /** Rows [start, end) of out[r] = Σ_j x[r·cols + j] (x, out, cols), in float64 rounded once. */
  sumTrailing(...args: number[]): void;
  /** Images [start, end) of conv2d's forward pass (see conv.wat), with part `part`'s scratch. */
  convForward(...args: number[]): void;
  /** Images [start, end) of a 3×3 stride-1 conv2d by Winograd's F(2×2, 3×3) (see winograd.wat), with part `part`'s scratch. */
  convWinograd(...args: number[]): void;
  /** Chunks [start, end) of a 3×3 stride-1 conv2d's weight gradient by Winograd (see winograd.wat), with part `part`'s scratch. */
  convWinogradWeightGrad(...args: number[]): void;
  /** Output channels [start, end) of Winograd's filter transform U[ξ] = (G g Gᵀ)[ξ] (w, u, c, co): see winograd.wat. */
  winogradFilters(...args: number[]): void;
  /** Output channels [start, end) of dw = Gᵀ dU G from the summed dU[ξ] (du, dw, c, co): see winograd.wat. */
  winogradFilterGrads(...args: number[]): void;
  /** Images [start, end) of conv2d's input gradient by columns and col2im (see conv.wat), with part `part`'s scratch. */
  convInputGrad(...args: number[]): void;
  /** Chunks [start, end) of conv2d's weight gradient (see conv.wat), with part `part`'s scratch. */
  convWeightGrad(...args: number[]): void;
}

/** The kernels that run over a range of items [start, end) with a part's scratch: what Kernels.each splits. */
export const EACH_KERNELS = ['convForward', 'convWinograd', 'convInputGrad', 'convWeightGrad', 'convWinogradWeightGrad', 'groupNorm', 'groupNormBackward', 'upsample2x', 'upsample2xGrad', 'sumTrailing', 'winogradFilters', 'winogradFilterGrads'] as const;
/** One of EACH_KERNELS. */
export type EachKernel = (typeof EACH_KERNELS)[number];

/** Every export the kernels module must have: the hand-written kernels and those of each `simd` op. */
export const KERNEL_NAMES: readonly (keyof Kernels)[] = [
  'matmul', 'matmulNarrow', 'packA', 'packB', 'sumRows', 'adam', 'ema', 'im2col', 'col2im', 'im2colPanels', 'unpanel', 'convForward', 'convWinograd', 'convInputGrad', 'convWeightGrad', 'convWinogradWeightGrad', 'groupNorm', 'groupNormBackward',
  'upsample2x', 'upsample2xGrad', 'sumTrailing', 'winogradFilters', 'winogradFilterGrads',
  ...SIMD_UNARY_OPS.flatMap((op) => [op, `${op}Grad`] as const),
  ...SIMD_BINARY_OPS,
];

/** Where initWasm takes the kernels module from: `bytes`, else `url`, else the bytes built into this package. */
export interface WasmSource {
  /** The module's bytes (e.g. fetched by the page), for the memory kind that will be used. */
  bytes?: Bytes;
  /** Where to fetch the bytes from (a browser serving `kernels.wasm` itself). */
  url?: string | URL;
  /** Use a shared memory (needed for threads; in browsers only on cross-origin-isolated pages). Default: when possible. */
  shared?: boolean;
  /**
   * Use the relaxed-SIMD variant of the built-in kernels (the matmul tile on fused multiply-adds). Default: where the
   * engine has relaxed SIMD (see hasRelaxedSimd); false keeps the baseline variant's bits everywhere.
   */
  relaxed?: boolean;
}

/** Where there is no WebAssembly at all, every use fails with this. */
function api() {
  if (!wasmApi) throw new BackendError('wasm', 'this engine has no WebAssembly; use the js backend');
  return wasmApi;
}

function decode(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/**
 * The built-in module's bytes for a shared or a non-shared memory; `relaxed`: the variant whose matmul tile multiplies
 * and adds in one relaxed-SIMD instruction (f32x4.relaxed_madd: a fused multiply-add on hardware with FMA, so other
 * bits than the default variant).
 */
export function kernelBytes(shared: boolean, relaxed = false): Uint8Array {
  return decode(relaxed ? (shared ? KERNELS_SHARED_RELAXED : KERNELS_UNSHARED_RELAXED) : shared ? KERNELS_SHARED : KERNELS_UNSHARED);
}

let relaxedSupport: boolean | undefined;

/**
 * Whether this engine runs relaxed SIMD (browsers do; Node 20 only with --experimental-wasm-relaxed-simd): detected by
 * validating the relaxed variant, never required.
 */
export function hasRelaxedSimd(): boolean {
  relaxedSupport ??= wasmApi !== undefined && wasmApi.validate(kernelBytes(false, true));
  return relaxedSupport;
}

/** Whether this engine can have a shared WasmMemory (Node: yes; browsers: cross-origin-isolated pages). */
export function canShareMemory(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  try {
    return new (api().Memory)({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** Whether this engine runs WebAssembly SIMD (the module uses it throughout, so it validates only where SIMD exists). */
export function hasWasmSimd(): boolean {
  return wasmApi !== undefined && wasmApi.validate(kernelBytes(false));
}

/** A compiled kernels module and the kind of memory to instantiate it on. */
export interface Compiled {
  /** The compiled WebAssembly.Module. */
  module: WasmModule;
  /**
   * Whether to give it a shared memory (needed for threads). instantiate() falls back to the other kind when the
   * module turns out to be built for it (bytes given to initWasm).
   */
  shared: boolean;
  /** Whether it is the relaxed-SIMD variant (false for bytes given to initWasm, which are used as they are). */
  relaxed?: boolean;
}

let compiled: Compiled | undefined;

/** Compiles the built-in module synchronously for a shared or a non-shared memory (browsers: main thread ≤ 4 KB only). */
export function compileKernels(shared = canShareMemory(), relaxed = hasRelaxedSimd()): Compiled {
  if (!hasWasmSimd()) throw new BackendError('wasm', 'this engine has no WebAssembly SIMD (baseline simd128); use the js backend');
  if (shared && !canShareMemory()) throw new BackendError('wasm', 'this engine cannot share WebAssembly memory');
  if (relaxed && !hasRelaxedSimd()) throw new BackendError('wasm', 'this engine has no relaxed SIMD (Node 20: --experimental-wasm-relaxed-simd)');
  try {
    return { module: new (api().Module)(kernelBytes(shared, relaxed)), shared, relaxed };
  } catch (e) {
    // Browsers refuse to compile large modules synchronously on the main thread.
    throw new BackendError('wasm', `cannot compile the kernels synchronously here (${(e as Error).message}): \`await initWasm()\` first`);
  }
}

/** The module the `wasm` backend starts from: the one initWasm() compiled, else compiled now. */
export function compiledKernels(): Compiled {
  compiled ??= compileKernels();
  return compiled;
}

/**
 * Compiles the kernels asynchronously (from the built-in bytes, or `source.bytes`, or `source.url`), so that the
 * `wasm` backend can start anywhere, including a browser's main thread. Call before the first tensor op.
 */
export async function initWasm(source: WasmSource = {}): Promise<void> {
  const shared = source.shared ?? canShareMemory();
  const relaxed = !source.bytes && !source.url && (source.relaxed ?? hasRelaxedSimd());
  if (relaxed && !hasRelaxedSimd()) throw new BackendError('initWasm', 'relaxed is true but this engine has no relaxed SIMD (Node 20: --experimental-wasm-relaxed-simd)');
  let bytes: Bytes;
  if (source.bytes) bytes = source.bytes;
  else if (source.url) {
    const response = await fetch(source.url);
    if (!response.ok) throw new BackendError('initWasm', `fetching ${String(source.url)} failed: ${response.status} ${response.statusText}`);
    bytes = await response.arrayBuffer();
  } else bytes = kernelBytes(shared, relaxed);
  if (!api().validate(bytes)) {
    throw new BackendError('initWasm', 'the bytes are not a valid kernels module for this engine (no WebAssembly SIMD, or not Rill\'s kernels.wasm)');
  }
  const module = await api().compile(bytes);
  // Any valid module validates: check that this one has every kernel.
  const names = new Set(api().Module.exports(module).map((e) => e.name));
  const missing = KERNEL_NAMES.filter((n) => !names.has(n));
  if (missing.length) throw new BackendError('initWasm', `the module is not Rill's kernels.wasm: it lacks ${missing.join(', ')}`);
  compiled = { module, shared, relaxed };
}

/** Which kernels the `wasm` backend runs on: 'relaxed-simd' (the matmul tile on fused multiply-adds) or 'simd128'. */
export function wasmKernelVariant(): 'relaxed-simd' | 'simd128' {
  return compiledKernels().relaxed ? 'relaxed-simd' : 'simd128';
}

/** A fresh memory of the kind the module expects, and the kernels instantiated on it. */
export function instantiate({ module, shared }: Compiled): { memory: WasmMemory; shared: boolean; kernels: Kernels } {
  const make = (isShared: boolean) => {
    const memory = new (api().Memory)({ initial: 16, maximum: 32768, shared: isShared });
    const instance = new (api().Instance)(module, { env: { memory } });
    return { memory, shared: isShared, kernels: instance.exports as unknown as Kernels };
  };
  try {
    return make(shared);
  } catch (e) {
    // Bytes given to initWasm() may be built for the other kind of memory (kernels.wasm vs kernels.shared.wasm).
    if (e instanceof api().LinkError) return make(!shared);
    throw e;
  }
}
