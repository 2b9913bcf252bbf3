// What a U-Net and a small CNN need besides convolution, on (N, C, H, W) images: group normalisation, nearest-neighbour
// 2× upsampling, 2 × 2 average and max pooling. Average pooling is a composite of differentiable ops (reshape, mean),
// its gradient from those. Upsampling, max pooling and group norm are one direct op each way on CPU backends (group
// norm's keeps a U-Net's batch in memory) and composites of elementwise ops and reductions on GPUs. All gradchecked.
import * as T from '@rill/tensor';
import { apply, type OpDef, type TensorArg, type Var } from './engine.js';
import { valueOf } from './inputs.js';
import { add, div, mul, sqrt, sub } from './ops.js';
import { max, mean, variance } from './ops-reduce.js';
import { broadcastTo, reshape } from './ops-shape.js';

/** x's shape as (N, C, H, W), checked (errors name `op`). */
function nchw(op: string, x: TensorArg): [number, number, number, number] {
  const s = valueOf(op, x).shape;
  if (s.length !== 4) throw new T.ShapeError(op, `needs an image batch (N, C, H, W), got [${s}]`);
  return s as [number, number, number, number];
}

/**
 * Group normalisation (Wu & He, "Group Normalization", 2018): the C channels split into `groups` groups; each sample's
 * group is normalised to mean 0 and variance 1 over its channels and pixels, (x − μ)/√(σ² + ε), then scaled and
 * shifted per channel by `gamma` and `beta` (C). PyTorch's nn.GroupNorm (biased variance, ε = 1e-5).
 */
export function groupNorm(x: TensorArg, groups: number, gamma: TensorArg, beta: TensorArg, eps = 1e-5): Var {
  const [n, c, h, w] = nchw('groupNorm', x);
  if (!(Number.isInteger(groups) && groups >= 1 && c % groups === 0)) {
    throw new T.ValueError('groupNorm', `groups must divide the ${c} channels, got ${groups}`);
  }
  for (const [name, p] of [['gamma', gamma], ['beta', beta]] as const) {
    const s = valueOf('groupNorm', p).shape;
    if (s.length !== 1 || s[0] !== c) throw new T.ShapeError('groupNorm', `${name} must be (${c}), got [${s}]`);
  }
  if (T.getBackend().device === 'cpu') return apply(groupNormOp, [x, gamma, beta], { groups, eps });
  // The composite (GPU backends): the same formula from reductions and elementwise ops.
  const g = reshape(x, [n, groups, (c / groups) * h * w]); // each row of the last axis: one sample's group
  const normalised = div(sub(g, mean(g, 2, true)), sqrt(add(variance(g, 2, true), eps)));
  return add(mul(reshape(normalised, [n, c, h, w]), reshape(gamma, [1, c, 1, 1])), reshape(beta, [1, c, 1, 1]));
}

/** Group norm as one op: forward saves each group's μ and 1/√(σ² + ε); the VJP is T.groupNormBackward's one pass. */
const groupNormOp: OpDef<{ groups: number; eps: number }, T.Tensor> = {
  name: 'groupNorm',
  forward: ([x, gamma, beta], { groups, eps }) => {
    const { y, stats } = T.groupNorm(x, groups, gamma, beta, eps);
    return { output: y, saved: stats };
  },
  vjp: (dy, { inputs: [x, gamma], saved: stats }) => {
    const { dx, dgamma, dbeta } = T.groupNormBackward(dy, x, gamma, stats);
    return [dx, dgamma, dbeta];
  },
};

/** The direct ops read their inputs on the host: CPU backends only (a GPU backend runs the composites). */
const onCpu = () => T.getBackend().device === 'cpu';

/** Nearest-neighbour 2× upsampling: (N, C, H, W) → (N, C, 2H, 2W), each pixel repeated in a 2 × 2 block; its VJP
 * sums each block of dy back into its pixel (direct loops, T.upsample2x / T.upsample2xGrad; on a GPU, the same as a
 * broadcast of a reshaped view, whose VJP is the reduction). */
export function upsample2x(x: TensorArg): Var {
  const [n, c, h, w] = nchw('upsample2x', x);
  if (!onCpu()) return reshape(broadcastTo(reshape(x, [n, c, h, 1, w, 1]), [n, c, h, 2, w, 2]), [n, c, 2 * h, 2 * w]);
  return apply(upsample2xOp, [x], undefined);
}

const upsample2xOp: OpDef = {
  name: 'upsample2x',
  forward: ([x]) => T.upsample2x(x),
  vjp: (dy) => [T.upsample2xGrad(dy)],
};

/** The 2 × 2 blocks of x as axes 3 and 5: (N, C, H/2, 2, W/2, 2); H and W must be even. */
function blocks(op: string, x: TensorArg): Var {
  const [n, c, h, w] = nchw(op, x);
  if (h % 2 || w % 2) throw new T.ShapeError(op, `needs an even height and width, got ${h}×${w}`);
  return reshape(x, [n, c, h / 2, 2, w / 2, 2]);
}

/** 2 × 2 average pooling with stride 2: (N, C, H, W) → (N, C, H/2, W/2). */
export const avgPool2d = (x: TensorArg): Var => mean(blocks('avgPool2d', x), [3, 5]);

/**
 * 2 × 2 max pooling with stride 2: (N, C, H, W) → (N, C, H/2, W/2); the gradient goes to the block's maximum (the first
 * in reading order on ties, as PyTorch). One direct op each way on CPU backends (T.maxPool2d: the composite max over a
 * 6-D view made the classifier's step four times slower); on a GPU the composite, which shares a tie's gradient.
 */
export function maxPool2d(x: TensorArg): Var {
  const b = blocks('maxPool2d', x);
  if (!onCpu()) return max(b, [3, 5]);
  return apply(maxPoolOp, [x], undefined);
}

const maxPoolOp: OpDef<undefined, T.Tensor> = {
  name: 'maxPool2d',
  forward: ([x]) => {
    const { y, which } = T.maxPool2d(x);
    return { output: y, saved: which };
  },
  vjp: (dy, { saved: which }) => [T.maxPool2dGrad(dy, which)],
};
