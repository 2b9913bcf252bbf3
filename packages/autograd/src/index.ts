// @rill/autograd: reverse-mode automatic differentiation on @rill/tensor.
/**
 * Reverse-mode automatic differentiation on @rill/tensor, with the layers (nn) and optimizers (optim) built on it.
 *
 * @module @rill/autograd
 */
export { Var, apply, noGrad, AutogradError, type OpDef, type ForwardResult, type Context, type VarLike, type TensorArg, type In, type ArgsOf, type BackwardOptions } from './engine.js';
export * from './ops.js';
export * from './ops-reduce.js';
export * from './ops-matmul.js';
export * from './ops-shape.js';
export * from './ops-conv.js';
export * from './ops-image.js';
export * from './ops-loss.js';
export { variance as var } from './ops-reduce.js';
export { grad, valueAndGrad, vjp, jacobian, type VarFn } from './functional.js';
export { Linear, Conv2d, Activation, Sequential, EMA, ACTIVATIONS, stateDict, loadStateDict } from './nn.js';
export type { Module, InitOptions, ActivationName, WithBuffers } from './nn.js';
export { SGD, Adam, AdamW, clipGradNorm, clipGradNormAsync, clipGradNormSteps, constantLr, cosineLr, warmupLr } from './optim.js';
export type { Optimizer, OptimizerState, AdamOptions, Schedule } from './optim.js';
export { gradcheck, GradcheckError, type GradcheckOptions, type GradcheckReport } from './gradcheck.js';
