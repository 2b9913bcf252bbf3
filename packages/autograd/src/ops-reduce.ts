// Differentiable reductions — sum, max, min, and the composites mean, variance and the MSE loss: forward beside VJP.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { apply, type OpDef, type TensorArg, type Var } from './engine.js';
import { floatValue } from './inputs.js';
import { div, square, sub } from './ops.js';

/** The shape of x with the reduced axes kept as 1: dy reshaped to it broadcasts back over x. */
const keptShape = (x: Tensor, axis: T.Axes) => {
  const axes = T.normalizeAxes('sum', axis, x.shape);
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
};

type ReduceAttrs = { axis: T.Axes; keepdims: boolean };

/** y = Σ x over axes; every x element contributes once, so dx = dy broadcast back over the reduced axes. */
export const sumOp: OpDef<ReduceAttrs> = {
  name: 'sum',
  forward: ([x], { axis, keepdims }) => T.sum(x, axis, keepdims),
  vjp: (dy, { inputs: [x], attrs: { axis } }) => [T.broadcastTo(T.reshape(dy, keptShape(x, axis)), [...x.shape])],
};

/**
 * y = max x over axes. dx = dy where x equals the maximum, shared equally among ties (so the gradient sums to dy,
 * as for a subgradient that splits ties; PyTorch's amax does the same).
 */
const extremumOp = (name: 'max' | 'min'): OpDef<ReduceAttrs> => ({
  name,
  forward: ([x], { axis, keepdims }) => T[name](x, axis, keepdims),
  vjp: (dy, { inputs: [x], output: y, attrs: { axis } }) => {
    const shape = keptShape(x, axis);
    const hits = T.eq(x, T.reshape(y, shape)); // 1 at every position holding the extremum
    const share = T.div(hits, T.sum(hits, axis, true));
    return [T.mul(share, T.reshape(dy, shape))];
  },
});
/** The `max` reduction OpDef: dx = dy at the positions holding the maximum, shared equally among ties. */
export const maxOp = extremumOp('max');
/** The `min` reduction OpDef: dx = dy at the positions holding the minimum, shared equally among ties. */
export const minOp = extremumOp('min');

/** Σ x over `axis` (one, a list, or all by default); `keepdims` keeps reduced axes as size 1. dx = dy broadcast back. */
export const sum = (x: TensorArg, axis?: T.Axes, keepdims = false) => apply(sumOp, [x], { axis, keepdims });
/**
 * Maximum over `axis` (all by default; `keepdims` as {@link sum}); throws on an empty axis. The gradient goes to the
 * maximal elements, split equally among ties.
 */
export const max = (x: TensorArg, axis?: T.Axes, keepdims = false) => apply(maxOp, [x], { axis, keepdims });
/** Minimum over `axis`, as {@link max}: the gradient goes to the minimal elements, split equally among ties. */
export const min = (x: TensorArg, axis?: T.Axes, keepdims = false) => apply(minOp, [x], { axis, keepdims });

/** Composite: mean = sum / count (its gradient follows from sum's and div's; graphs show it as `div`). */
export function mean(x: TensorArg, axis?: T.Axes, keepdims = false): Var {
  const v = floatValue('mean', x);
  const count = T.normalizeAxes('mean', axis, v.shape).reduce((p, a) => p * v.shape[a], 1);
  return div(sum(x, axis, keepdims), count);
}

/** Composite: population variance mean((x − mean x)²), ddof = 0 (graphs show it as `div`). */
export function variance(x: TensorArg, axis?: T.Axes, keepdims = false): Var {
  T.normalizeAxes('var', axis, floatValue('var', x).shape);
  const d = sub(x, mean(x, axis, true));
  return mean(square(d), axis, keepdims);
}

/** Composite: mean squared error mean((a − b)²) over all elements. */
export const mse = (a: TensorArg, b: TensorArg) => mean(square(sub(a, b)));
