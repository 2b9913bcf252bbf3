// Unary ops and their derivative kernels, binary ops with broadcasting, where and clip, against float64 references.
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { expectClose } from '../helpers/close.js';
import { BINARY_REF, erfRef, f32, randomValues, testRandom, zipRef } from '../helpers/reference.js';

const SELU_ALPHA = 1.6732632423543772848170429916717; // Klambauer et al. (2017)
const SELU_LAMBDA = 1.0507009873554804934193349852946;
const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** Independent float64 definitions, the domain to test on, the op's parameters, and points to avoid (kinks). */
const UNARY_REF: Record<T.UnaryOp, { f: (x: number) => number; params?: number[]; lo?: number; hi?: number; kinks?: number[] }> = {
  neg: { f: (x) => -x },
  abs: { f: (x) => (x < 0 ? -x : x), kinks: [0] },
  exp: { f: (x) => Math.E ** x },
  log: { f: (x) => Math.log(x), lo: 0.1, hi: 4 },
  sqrt: { f: (x) => x ** 0.5, lo: 0.1, hi: 4 },
  square: { f: (x) => x * x },
  sin: { f: (x) => Math.sin(x) },
  cos: { f: (x) => Math.cos(x) },
  tanh: { f: (x) => (Math.exp(2 * x) - 1) / (Math.exp(2 * x) + 1) },
  sigmoid: { f: sig },
  relu: { f: (x) => (x > 0 ? x : 0), kinks: [0] },
  leakyRelu: { f: (x) => (x > 0 ? x : 0.2 * x), params: [0.2], kinks: [0] },
  elu: { f: (x) => (x > 0 ? x : 0.7 * (Math.exp(x) - 1)), params: [0.7], kinks: [0] },
  selu: { f: (x) => SELU_LAMBDA * (x > 0 ? x : SELU_ALPHA * (Math.exp(x) - 1)), kinks: [0] },
  silu: { f: (x) => x / (1 + Math.exp(-x)) },
  gelu: { f: (x) => 0.5 * x * (1 + erfRef(x / Math.SQRT2)) },
  geluTanh: { f: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))) },
  softplus: { f: (x) => Math.log(1 + Math.exp(x)) },
  clip: { f: (x) => Math.min(Math.max(x, -0.5), 0.7), params: [-0.5, 0.7], kinks: [-0.5, 0.7] },
};

/** Test points in the op's domain, at least 1e-3 away from its kinks. */
function points(op: T.UnaryOp, n: number, seed: number): number[] {
  const { lo = -4, hi = 4, kinks = [] } = UNARY_REF[op];
  const xs = randomValues(testRandom(seed), n, lo, hi);
  return xs.map((x) => (kinks.some((k) => Math.abs(x - k) < 1e-3) ? x + 2e-3 : x));
}

describe('unary ops', () => {
  it('covers every op in the library table', () => {
    expect(Object.keys(UNARY_REF).sort()).toEqual([...T.UNARY_OPS].sort());
  });

  for (const op of T.UNARY_OPS) {
    const { f, params = [] } = UNARY_REF[op];
    it(`${op}: float64 matches the reference to 1e-12, float32 to rtol 1e-5`, () => {
      const xs = points(op, 200, 7);
      const y64 = T.unary(op, T.tensor(xs, { dtype: 'float64' }), ...params);
      expect(y64.dtype).toBe('float64');
      expectClose(y64.data, xs.map(f), { rtol: 1e-12, atol: 1e-14 });
      const xs32 = f32(xs); // the float32 inputs exactly; the reference is f at those inputs in float64
      const y32 = T.unary(op, T.tensor(xs32), ...params);
      expect(y32.dtype).toBe('float32');
      expectClose(y32.data, xs32.map(f), { rtol: 1e-5, atol: 1e-7 });
    });

    it(`${op}: derivative kernel dy·f'(x) matches central differences of the reference`, () => {
      const xs = points(op, 100, 11);
      const dys = randomValues(testRandom(3), xs.length);
      const x = T.tensor(xs, { dtype: 'float64' });
      const y = T.unary(op, x, ...params);
      const dx = T.unaryGrad(op, x, y, T.tensor(dys, { dtype: 'float64' }), ...params);
      const h = 1e-5;
      const fd = xs.map((v, i) => (dys[i] * (f(v + h) - f(v - h))) / (2 * h));
      expectClose(dx.data, fd, { rtol: 1e-6, atol: 1e-8 });
      // The float32 kernel at the rounded inputs agrees with the float64 derivative there.
      const [x32, dy32] = [f32(xs), f32(dys)];
      const xt = T.tensor(x32);
      const dx32 = T.unaryGrad(op, xt, T.unary(op, xt, ...params), T.tensor(dy32), ...params);
      const fd32 = x32.map((v, i) => (dy32[i] * (f(v + h) - f(v - h))) / (2 * h));
      expectClose(dx32.data, fd32, { rtol: 1e-4, atol: 1e-6 });
    });
  }

  it('named wrappers call the right op, with their default parameters', () => {
    const x = T.tensor([-2, -0.5, 0.5, 2], { dtype: 'float64' });
    expectClose(T.leakyRelu(x).data, [-0.02, -0.005, 0.5, 2], { rtol: 1e-15 });
    expectClose(T.elu(x).data, [Math.exp(-2) - 1, Math.exp(-0.5) - 1, 0.5, 2], { rtol: 1e-15 });
    expectClose(T.relu(x).data, [0, 0, 0.5, 2]);
    expectClose(T.clip(x, -1, 1).data, [-1, -0.5, 0.5, 1]);
    expectClose(T.sigmoid(T.tensor([0])).data, [0.5]);
    expectClose(T.softplus(T.tensor([0], { dtype: 'float64' })).data, [Math.LN2], { rtol: 1e-15 });
  });

  it('stable at extremes: sigmoid, softplus and silu do not overflow', () => {
    const x = T.tensor([-1000, 1000], { dtype: 'float64' });
    expect(Array.from(T.sigmoid(x).data)).toEqual([0, 1]);
    expect(Array.from(T.softplus(x).data)).toEqual([0, 1000]);
    expect(Array.from(T.silu(x).data)).toEqual([-0, 1000]);
  });

  it('int32 is accepted only by integer-preserving ops', () => {
    const x = T.tensor([-3, 4], { dtype: 'int32' });
    expect(Array.from(T.abs(x).data)).toEqual([3, 4]);
    expect(T.square(x).dtype).toBe('int32');
    expect(() => T.exp(x)).toThrow(T.DTypeError);
  });
});


const SHAPE_PAIRS: [number[], number[]][] = [
  [[5, 6], [5, 6]],
  [[3, 1], [1, 4]],
  [[2, 3, 4], [4]],
  [[4], [2, 3, 4]],
  [[], [2, 3]],
  [[2, 3], []],
  [[1, 3, 1], [2, 1, 5]],
  [[2, 1, 4, 1], [3, 1, 6]],
  [[0, 3], [1, 3]],
];

describe('binary ops with broadcasting', () => {
  it('covers every op in the library table', () => {
    expect(Object.keys(BINARY_REF).sort()).toEqual([...T.BINARY_OPS].sort());
  });

  for (const op of T.BINARY_OPS) {
    it(`${op}: matches the float64 reference on broadcast shapes, float32 and float64`, () => {
      const rng = testRandom(op.length * 31);
      for (const [sa, sb] of SHAPE_PAIRS) {
        // Small integers make eq/ge/le meaningful (ties happen); pow gets positive bases.
        const draw = (n: number) =>
          op === 'pow' ? randomValues(rng, n, 0.2, 3) : randomValues(rng, n, -3, 3).map((v) => (op === 'div' ? v + Math.sign(v) : Math.round(v * 2) / 2));
        const av = draw(sa.reduce((p, d) => p * d, 1));
        const bv = draw(sb.reduce((p, d) => p * d, 1));
        for (const dtype of ['float64', 'float32'] as const) {
          const a = T.tensor(av, { shape: sa, dtype });
          const b = T.tensor(bv, { shape: sb, dtype });
          const out = T.binary(op, a, b);
          const ref = zipRef(BINARY_REF[op], a.data, sa, b.data, sb);
          expect(out.shape).toEqual(ref.shape);
          expect(out.dtype).toBe(dtype);
          expectClose(out.data, ref.data, { rtol: dtype === 'float64' ? 1e-14 : 1e-6 });
        }
      }
    });
  }

  it('numbers act as scalars of the tensor dtype, on either side', () => {
    const x = T.tensor([1, 2, 3], { dtype: 'float64' });
    expect(Array.from(T.sub(10, x).data)).toEqual([9, 8, 7]);
    expect(Array.from(T.div(x, 2).data)).toEqual([0.5, 1, 1.5]);
    expect(T.mul(x, 2).dtype).toBe('float64');
    expect(T.add(2, 3).item()).toBe(5);
  });

  it('NaN propagates through maximum and minimum from either side', () => {
    const a = T.tensor([NaN, 1]);
    const b = T.tensor([0, NaN]);
    expect(Array.from(T.maximum(a, b).data).map(Number.isNaN)).toEqual([true, true]);
    expect(Array.from(T.minimum(a, b).data).map(Number.isNaN)).toEqual([true, true]);
  });

  it('int32 arithmetic stays int32; division and fractional scalars are refused', () => {
    const a = T.tensor([1, -2, 3], { dtype: 'int32' });
    const s = T.add(a, T.tensor([10, 20, 30], { dtype: 'int32' }));
    expect(s.dtype).toBe('int32');
    expect(Array.from(s.data)).toEqual([11, 18, 33]);
    expect(Array.from(T.gt(a, 0).data)).toEqual([1, 0, 1]);
    expect(() => T.div(a, a)).toThrow(/div: int32 tensors are not supported/);
    expect(() => T.add(a, 0.5)).toThrow(T.DTypeError);
  });
});

describe('where', () => {
  it('selects with broadcasting of condition and both branches', () => {
    const cond = T.tensor([[1], [0], [1]]); // [3,1]
    const a = T.tensor([[1, 2, 3, 4]]); // [1,4]
    const out = T.where(cond, a, -1);
    expect(out.shape).toEqual([3, 4]);
    expect(out.toArray()).toEqual([
      [1, 2, 3, 4],
      [-1, -1, -1, -1],
      [1, 2, 3, 4],
    ]);
  });

  it('works with a comparison mask (ReLU by hand)', () => {
    const x = T.tensor([-1, 2, -3, 4]);
    expect(Array.from(T.where(T.gt(x, 0), x, 0).data)).toEqual([0, 2, 0, 4]);
  });
});
