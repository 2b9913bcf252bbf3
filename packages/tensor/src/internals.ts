// @rill/tensor/internals: the kernels below the op API, for tests, benchmarks and readers; no stability promise.
/**
 * The kernels below the op API: the CPU matmuls and elementwise loops, the WebAssembly heap and module, the generated
 * per-op loops. For tests, benchmarks and readers who want to call a kernel directly; these may change in any release.
 *
 * @module @rill/tensor/internals
 */
export { matmulReference, matmulBlocked, type MatmulArgs } from './cpu/matmul.js';
export { unaryKernel, unaryGradKernel, binaryKernel } from './cpu/elementwise.js';
export { UNARY_LOOPS, UNARY_GRAD_LOOPS, BINARY_ROW_LOOPS, type RowLoop } from './elementwise.generated.js';
export { UNARY_FORMULAS, BINARY_FORMULAS, CONSTANTS, SIMD_UNARY_OPS, SIMD_BINARY_OPS, type SimdUnaryOp, type SimdBinaryOp } from './formulas.js';
export { compileKernels, kernelBytes, KERNEL_NAMES, type Kernels, type ElementwiseKernels } from './wasm/module.js';
export { WASM_UNARY, WASM_BINARY, ACTIVATION_IDS, type WasmParts } from './wasm/backend.js';
export { WasmHeap, blockSize } from './wasm/heap.js';
export { conv2dReference, conv2dInputGradReference, conv2dWeightGradReference, im2col, col2im, type ConvDims } from './cpu/conv.js';
export { winograd } from './wasm/conv.js';
export { claimChunk, CHUNKS, CHUNK_BITS, CTRL_COUNT, MAX_CHUNKS } from './threads/protocol.js';
