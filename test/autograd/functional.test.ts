// grad, valueAndGrad, vjp, jacobian, and gradcheck itself (it must catch a wrong VJP and say where).
import { describe, expect, it } from 'vitest';
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import { expectClose } from '../helpers/close.js';

const f64 = (v: T.NestedArray) => T.tensor(v, { dtype: 'float64' });

describe('grad and valueAndGrad', () => {
  it('return the value and the gradients for every argument in order, from tensors', () => {
    const f = (x: A.Var, y: A.Var) => A.sum(A.mul(A.square(x), y)); // Σ x²y
    const x = f64([1, 2]);
    const y = f64([3, -1]);
    const { value, grads } = A.valueAndGrad(f)(x, y);
    expect(value.item()).toBe(1 * 3 + 4 * -1);
    expect(grads.map((g) => g.toArray())).toEqual([[6, -4], [1, 4]]); // 2xy, x²
    expect(A.grad(f)(x, y)[1].toArray()).toEqual([1, 4]);
  });

  it('Vars passed in keep grad null; repeated calls give the same answer (captured Vars: see contract.test.ts)', () => {
    const v = new A.Var(f64([3]), { requiresGrad: true });
    const g = A.grad((x) => A.sum(A.exp(x)));
    const first = g(v)[0].item();
    expect(g(v)[0].item()).toBe(first);
    expect(first).toBe(Math.exp(3));
    expect(v.grad).toBeNull();
  });

  it('give zeros for an argument f ignores, and refuse a non-scalar f', () => {
    const [, gy] = A.grad((x) => A.sum(x))(f64([1]), f64([[1, 2]]));
    expect(gy.toArray()).toEqual([[0, 0]]);
    expect(() => A.grad((x) => A.mul(x, 2))(f64([1, 2]))).toThrow(/grad: f must return a single value, got shape \[2\]/);
  });
});

describe('vjp and jacobian', () => {
  // f(x) = [x₀x₁, sin x₀, x₁²] has the Jacobian [[x₁, x₀], [cos x₀, 0], [0, 2x₁]].
  const f = (x: A.Var) => A.concat([A.mul(A.slice(x, [0], [1]), A.slice(x, [1], [2])), A.sin(A.slice(x, [0], [1])), A.square(A.slice(x, [1], [2]))]);
  const x0 = 0.7;
  const x1 = -1.3;

  it('jacobian equals the analytic Jacobian', () => {
    const J = A.jacobian(f, f64([x0, x1]));
    expect(J.shape).toEqual([3, 2]);
    expectClose(J.data, [x1, x0, Math.cos(x0), 0, 0, 2 * x1], { rtol: 1e-15, atol: 1e-15 });
  });

  it('vjp(c) = cᵀJ, callable many times with different cotangents', () => {
    const { value, vjp } = A.vjp(f, f64([x0, x1]));
    expectClose(value.data, [x0 * x1, Math.sin(x0), x1 * x1], { rtol: 1e-15 });
    const [a] = vjp(f64([1, 0, 0]));
    expectClose(a.data, [x1, x0], { rtol: 1e-15 });
    const [b] = vjp(f64([0.5, 2, -1]));
    expectClose(b.data, [0.5 * x1 + 2 * Math.cos(x0), 0.5 * x0 - 2 * x1], { rtol: 1e-14 });
  });

  it('jacobian of a matrix function has shape [...out, ...in]: d(Wx)/dx = W', () => {
    const W = f64([[1, 2, 3], [4, 5, 6]]);
    const J = A.jacobian((x) => A.matmul(W, A.reshape(x, [3, 1])), f64([1, 1, 1]));
    expect(J.shape).toEqual([2, 1, 3]);
    expect(Array.from(J.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('gradcheck', () => {
  /** square with a VJP that is wrong by a factor on one element only. */
  const wrong: A.OpDef = {
    name: 'wrongSquare',
    forward: ([x]) => T.square(x as T.Tensor),
    vjp: (dy, { inputs: [x] }) => {
      const g = Float64Array.from(T.mul(T.mul(dy, x), 2).data);
      g[4] *= 1.01;
      return [T.tensor(g, { shape: [...dy.shape], dtype: 'float64' })];
    },
  };
  const f = (x: A.Var) => A.apply(wrong, [x], undefined);
  const x = T.reshape(T.arange(1, 7, 1, { dtype: 'float64' }), [2, 3]);

  it('elementwise mode names the function, the worst element, its index and both values', () => {
    expect(() => A.gradcheck(f, [x], { name: 'wrongSquare' })).toThrow(/^wrongSquare: gradcheck \(elementwise\) FAILED; worst at input 0 element \[1,1\]: analytic .* numeric /);
    const report = A.gradcheck(f, [x], { raise: false });
    expect(report.ok).toBe(false);
    expect(report.worst.index).toEqual([1, 1]);
    expect(Math.abs(report.worst.analytic / report.worst.numeric - 1.01)).toBeLessThan(1e-6);
  });

  it('directional mode (for large inputs) catches the same error; a correct op passes both modes', () => {
    const big = T.randn([40, 30], { dtype: 'float64', generator: new T.Generator(3) });
    const wrongBig: A.OpDef = { ...wrong, vjp: (dy, ctx) => [T.mul(wrong.vjp(dy, ctx)[0] as T.Tensor, 1.001)] };
    const r = A.gradcheck((v) => A.apply(wrongBig, [v], undefined), [big], { raise: false });
    expect(r.mode).toBe('directional');
    expect(r.ok).toBe(false);
    expect(A.gradcheck((v) => A.tanh(A.matmul(v, v, { transB: true })), [big]).ok).toBe(true);
    expect(A.gradcheck(A.square, [x], { mode: 'directional' }).ok).toBe(true);
  });

  it('accepts float32 inputs (checks in float64) and multiple inputs', () => {
    const a = T.rand([3, 2], { generator: new T.Generator(1) });
    const b = T.rand([2, 4], { generator: new T.Generator(2) });
    expect(A.gradcheck((p, q) => A.matmul(p, q), [a, b]).ok).toBe(true);
  });
});
