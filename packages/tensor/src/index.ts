// @rill/tensor: n-dimensional arrays on typed arrays, with hand-written kernels behind named backends.
/**
 * N-dimensional arrays on typed arrays, with hand-written kernels behind named backends.
 *
 * @module @rill/tensor
 */
import './cpu/register.js';
import './wasm/register.js';

export { Tensor, memory, prefetch, type NestedArray } from './tensor.js';
export { tidy, keep, dispose } from './lifetime.js';
export type { DType, TypedArray } from './dtype.js';
export { RillError, ShapeError, DTypeError, AxisError, ValueError, DisposedError, BackendError } from './errors.js';
export {
  tensor,
  zeros,
  ones,
  full,
  arange,
  linspace,
  eye,
  rand,
  randn,
  randint,
  type CreateOptions,
  type RandomOptions,
} from './creation.js';
export { Generator, seed, getGenerator, DEFAULT_SEED, type GeneratorState } from './random.js';
export {
  unary,
  unaryGrad,
  neg,
  abs,
  exp,
  log,
  sqrt,
  square,
  sin,
  cos,
  tanh,
  sigmoid,
  relu,
  leakyRelu,
  elu,
  selu,
  silu,
  gelu,
  geluTanh,
  softplus,
  clip,
  binary,
  add,
  sub,
  mul,
  div,
  pow,
  maximum,
  minimum,
  gt,
  lt,
  ge,
  le,
  eq,
  where,
  weightedSum,
  sum,
  mean,
  max,
  min,
  variance,
  variance as var,
  argmax,
  argmin,
  matmul,
  type Axes,
  type MatmulOptions,
} from './ops.js';
export { adamUpdate, adamScalars, type AdamHyper, type AdamScalars } from './adam.js';
export { emaUpdate } from './ema.js';
export { linear, linearForward, linearBackward, linearBackwardProducts, type LinearOutputs, type LinearGrads } from './linear.js';
export { conv2d, conv2dInputGrad, conv2dWeightGrad, convDims, type Conv2dOptions } from './conv.js';
export { groupNorm, groupNormBackward, type GroupNormResult, type GroupNormGrads } from './norm.js';
export { upsample2x, upsample2xGrad, maxPool2d, maxPool2dGrad, type MaxPoolResult } from './image.js';
export { reshape, transpose, broadcastTo, concat, stack, slice, gather, scatterAdd, cast, clone } from './shapeops.js';
export { UNARY, UNARY_OPS, SELU_ALPHA, SELU_LAMBDA, type UnaryOp, type UnaryDef } from './unary.js';
export { BINARY, BINARY_OPS, type BinaryOp } from './binary.js';
export { erf, erfc, normalCdf, normalPdf } from './special.js';
export {
  registerBackend,
  setBackend,
  getBackend,
  listBackends,
  type Backend,
  type MatmulDims,
  type ReduceOp,
  type ArgReduceOp,
} from './backend.js';
export { ready, registerStarter, type BackendChoice, type ReadyOptions, type ReadyInfo } from './ready.js';
export { initWasm, hasWasmSimd, hasRelaxedSimd, wasmKernelVariant, canShareMemory, type WasmSource, type Compiled } from './wasm/module.js';
export { createWasmBackend, type WasmBackend } from './wasm/backend.js';
export { createJsBackend } from './cpu/backend.js';
export { broadcastShapes, normalizeAxes, normalizeAxis, sameShape, sizeOf, stridesOf } from './shape.js';
