// Differentiable convolution: conv2d with PyTorch's semantics, forward beside VJP.
import * as T from '@rill/tensor';
import { apply, type OpDef, type TensorArg } from './engine.js';

/**
 * y = conv2d(x, w) + b. Each output element is a dot product of a window of x with a filter, so (by the chain rule,
 * element by element) dx spreads each dy[n, o, i, j] back over its window weighted by the filter (a transposed
 * convolution), dw collects dy times the windows it saw (a correlation of x with dy), and db sums dy over N, H, W.
 */
export const conv2dOp: OpDef<T.Conv2dOptions> = {
  name: 'conv2d',
  forward: ([x, w, b], options) => T.conv2d(x, w, b ?? null, options),
  vjp: (dy, { inputs: [x, w, b], attrs, needsGrad }) => [
    needsGrad[0] ? T.conv2dInputGrad(dy, w, x.shape, attrs) : null,
    needsGrad[1] ? T.conv2dWeightGrad(x, dy, w.shape, attrs) : null,
    ...(b === undefined ? [] : [needsGrad[2] ? T.tidy(() => T.sum(T.sum(dy, 0), [1, 2])) : null]), // over N (the batch kernel), then H, W
  ],
};

/**
 * 2-D convolution of x (N, C_in, H, W) with w (C_out, C_in, kH, kW) plus b (C_out), with `stride` and zero `padding`
 * (numbers or [height, width] pairs), as PyTorch's conv2d; gradients for x, w and b.
 */
export const conv2d = (x: TensorArg, w: TensorArg, b?: TensorArg, options: T.Conv2dOptions = {}) =>
  apply(conv2dOp, b === undefined ? [x, w] : [x, w, b], options);
