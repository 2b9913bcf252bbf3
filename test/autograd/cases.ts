// The case table that drives the gradient checks: every differentiable op, with broadcast shapes, repeated inputs,
// and inputs kept away from kinks and ties (where a derivative does not exist or is not unique).
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import { randomValues, testRandom } from '../helpers/reference.js';

export interface GradCase {
  name: string;
  f: (...xs: A.Var[]) => A.Var;
  /** Input shapes, and how to draw each input's values. */
  shapes: number[][];
  /** Value range of the inputs (default [-2, 2]). */
  range?: [number, number];
  /** Points where f has a kink: inputs are moved at least 0.05 away. */
  kinks?: number[];
  /** Make all elements of each input distinct and well separated (max/min/maximum must not tie). */
  distinct?: boolean;
}

/** Draws the inputs of a case in `dtype`, deterministically. */
export function caseInputs(c: GradCase, dtype: T.DType, seed = 1): T.Tensor[] {
  const rng = testRandom(seed);
  return c.shapes.map((shape, k) => {
    const n = shape.reduce((p, d) => p * d, 1);
    const [lo, hi] = c.range ?? [-2, 2];
    let values = randomValues(rng, n, lo, hi);
    if (c.distinct) {
      // A random permutation of evenly spaced values: every pair differs by at least (hi − lo)/n, offset per input.
      const order = values.map((v, i) => [v, i]).sort((p, q) => p[0] - q[0]);
      order.forEach(([, i], rank) => (values[i] = lo + ((rank + 0.5 + k * 0.31) * (hi - lo)) / n));
    }
    for (const kink of c.kinks ?? []) values = values.map((v) => (Math.abs(v - kink) < 0.05 ? kink + 0.1 * Math.sign(v - kink || 1) : v));
    return T.tensor(values, { shape, dtype });
  });
}

const UNARY_RANGES: Partial<Record<T.UnaryOp, [number, number]>> = { log: [0.2, 3], sqrt: [0.2, 3] };
const UNARY_KINKS: Partial<Record<T.UnaryOp, number[]>> = { abs: [0], relu: [0], leakyRelu: [0], elu: [0], selu: [0], clip: [-0.5, 0.7] };
const UNARY_FNS: Record<T.UnaryOp, (x: A.Var) => A.Var> = {
  neg: A.neg,
  abs: A.abs,
  exp: A.exp,
  log: A.log,
  sqrt: A.sqrt,
  square: A.square,
  sin: A.sin,
  cos: A.cos,
  tanh: A.tanh,
  sigmoid: A.sigmoid,
  relu: A.relu,
  leakyRelu: (x) => A.leakyRelu(x, 0.2),
  elu: (x) => A.elu(x, 0.7),
  selu: A.selu,
  silu: A.silu,
  gelu: A.gelu,
  geluTanh: A.geluTanh,
  softplus: A.softplus,
  clip: (x) => A.clip(x, -0.5, 0.7),
};

const BROADCAST_PAIRS = [
  [[3, 4], [3, 4]],
  [[3, 1], [1, 4]],
  [[2, 3, 4], [4]],
  [[], [2, 3]],
];

const binaryCases = (name: string, f: (a: A.Var, b: A.Var) => A.Var, extra: Partial<GradCase> = {}): GradCase[] =>
  BROADCAST_PAIRS.map(([sa, sb]) => ({ name: `${name} [${sa}] with [${sb}]`, f, shapes: [sa, sb], ...extra }));

const idx = [2, 0, 2, 1, 2]; // repeated rows: their gradients must add up

export const CASES: GradCase[] = [
  ...T.UNARY_OPS.map((op) => ({ name: op, f: UNARY_FNS[op], shapes: [[3, 4]], range: UNARY_RANGES[op], kinks: UNARY_KINKS[op] })),
  ...binaryCases('add', A.add),
  ...binaryCases('sub', A.sub),
  ...binaryCases('mul', A.mul),
  ...binaryCases('div', A.div, { range: [0.5, 2] }),
  ...binaryCases('pow', A.pow, { range: [0.5, 2] }),
  ...binaryCases('maximum', A.maximum, { distinct: true }),
  ...binaryCases('minimum', A.minimum, { distinct: true }),
  { name: 'add with a number', f: (a) => A.mul(A.sub(2, a), 3), shapes: [[2, 3]] },
  { name: 'pow with a number exponent and base', f: (a) => A.add(A.pow(a, 3), A.pow(2, a)), shapes: [[4]], range: [0.5, 2] },
  { name: 'where [3,1] ? [1,4] : [3,4]', f: (a, b) => A.where(T.tensor([[1], [0], [1]], { dtype: a.dtype }), a, b), shapes: [[1, 4], [3, 4]] },
  { name: 'where on a comparison mask (the mask cuts the graph)', f: (a) => A.where(A.gt(a, 0), A.square(a), A.neg(a)), shapes: [[5]], kinks: [0] },
  ...[undefined, 0, 1, -1, [0, 2]].flatMap((axis) =>
    [false, true].flatMap((keepdims) =>
      (['sum', 'mean', 'max', 'min', 'var'] as const).map((op) => ({
        name: `${op} axis=${JSON.stringify(axis)} keepdims=${keepdims}`,
        f: (x: A.Var) => (op === 'var' ? A.variance : A[op])(x, axis, keepdims),
        shapes: [[2, 3, 4]],
        distinct: op === 'max' || op === 'min',
      })),
    ),
  ),
  ...[
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ].flatMap(([transA, transB]) => [
    { name: `matmul 2D transA=${transA} transB=${transB}`, f: (a: A.Var, b: A.Var) => A.matmul(a, b, { transA, transB }), shapes: [transA ? [4, 3] : [3, 4], transB ? [5, 4] : [4, 5]] },
    { name: `matmul batched transA=${transA} transB=${transB}`, f: (a: A.Var, b: A.Var) => A.matmul(a, b, { transA, transB }), shapes: [transA ? [2, 4, 3] : [2, 3, 4], transB ? [2, 5, 4] : [2, 4, 5]] },
  ]),
  { name: 'matmul with a broadcast batch of 1', f: (a, b) => A.matmul(a, b), shapes: [[1, 3, 4], [2, 4, 5]] },
  { name: 'matmul 2D @ batched', f: (a, b) => A.matmul(a, b, { transB: true }), shapes: [[3, 4], [2, 5, 4]] },
  { name: 'reshape', f: (x) => A.reshape(x, [4, -1]), shapes: [[2, 3, 2]] },
  { name: 'transpose (permutation)', f: (x) => A.transpose(x, [2, 0, 1]), shapes: [[2, 3, 4]] },
  { name: 'transpose (default)', f: (x) => A.transpose(x), shapes: [[3, 5]] },
  { name: 'broadcastTo', f: (x) => A.broadcastTo(x, [2, 3, 4]), shapes: [[3, 1]] },
  { name: 'concat axis 1', f: (a, b, c) => A.concat([a, b, c], 1), shapes: [[2, 1, 3], [2, 2, 3], [2, 3, 3]] },
  { name: 'stack axis -1', f: (a, b) => A.stack([a, b], -1), shapes: [[2, 3], [2, 3]] },
  { name: 'slice with negative bounds', f: (x) => A.slice(x, [1, -3], [3, undefined]), shapes: [[4, 5]] },
  { name: 'gather with repeated rows', f: (x) => A.gather(x, idx), shapes: [[3, 2]] },
  { name: 'scatterAdd', f: (u) => A.scatterAdd(u, idx, 4), shapes: [[5, 2]] },
  { name: 'linear', f: (x, w, b) => A.linear(x, w, b), shapes: [[4, 3], [3, 5], [5]] },
  { name: 'linear without bias', f: (x, w) => A.linear(x, w), shapes: [[5, 3], [3, 9]] },
  // The fused layer (wasm in float32): shapes across the 4×8 tile's edges, each activation the epilogue knows, and one
  // it does not (gelu: composed from matmul, add and unary instead).
  ...(['selu', 'relu', 'tanh', 'sigmoid', 'silu', 'gelu'] as const).map((act) => ({
    name: `linear + ${act}`,
    f: (x: A.Var, w: A.Var, b: A.Var) => A.linear(x, w, b, act),
    shapes: [[9, 5], [5, 11], [11]],
  })),
  { name: 'linear + tanh without bias', f: (x, w) => A.linear(x, w, undefined, 'tanh'), shapes: [[6, 4], [4, 8]] },
  { name: 'mse (composite)', f: (a, b) => A.mse(a, b), shapes: [[4, 2], [4, 2]] },
  { name: 'pow with a negative base and an integer exponent', f: (a) => A.pow(a, 3), shapes: [[4]], range: [-2, -0.5] },
  { name: 'leakyRelu and elu with their default parameters', f: (x) => A.add(A.leakyRelu(x), A.elu(x)), shapes: [[6]], kinks: [0] },
  { name: 'gather with 2-D int32 tensor indices', f: (x) => A.gather(x, T.tensor([[2, 0], [2, 2]], { dtype: 'int32' })), shapes: [[3, 2]] },
  { name: 'concat of a Var with a constant tensor', f: (x) => A.concat([x, T.ones([2, 2], { dtype: x.dtype })], 0), shapes: [[1, 2]] },
  { name: 'where with number branches and a Var condition', f: (x) => A.add(A.where(A.gt(x, 0), x, 0.5), A.where(x, 1, x)), shapes: [[5]], kinks: [0] },
  { name: 'slice with omitted starts and ends', f: (x) => A.slice(x, [], [undefined, 2]), shapes: [[3, 4]] },
  ...[
    [true, false],
    [false, true],
    [true, true],
  ].map(([transA, transB]) => ({
    name: `matmul batch-1 broadcast transA=${transA} transB=${transB}`,
    f: (a: A.Var, b: A.Var) => A.matmul(a, b, { transA, transB }),
    shapes: [transA ? [1, 4, 3] : [1, 3, 4], transB ? [2, 5, 4] : [2, 4, 5]],
  })),
  { name: 'cast to float64 and back, and clone', f: (x) => A.cast(A.clone(A.cast(x, 'float64')), x.dtype), shapes: [[2, 3]] },
  { name: 'the generic unary and binary', f: (a, b) => A.binary('mul', A.unary('leakyRelu', a, 0.3), b), shapes: [[3], [3]], kinks: [0] },
  { name: 'the same input used three times', f: (x) => A.add(A.mul(x, A.sin(x)), x), shapes: [[6]] },
  { name: 'a diamond: two paths from x meet again', f: (x) => { const h = A.tanh(x); return A.mul(A.exp(h), A.square(h)); }, shapes: [[2, 2]] },
];
