// The engine's finer contract (from review): option forms, no mutation by functional transforms, no leaks, atomic
// backward, tie conventions, edge derivatives, and errors that name the op the user called.
import { describe, expect, it } from 'vitest';
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import { expectClose } from '../helpers/close.js';

const f64 = (v: T.NestedArray) => T.tensor(v, { dtype: 'float64' });
const leaf = (v: T.NestedArray) => new A.Var(f64(v), { requiresGrad: true });

describe('API forms', () => {
  it('backward({ retainGraph: true }) keeps the graph', () => {
    const x = leaf([2]);
    const y = A.sum(A.square(x));
    y.backward({ retainGraph: true });
    y.backward();
    expect(x.grad!.item()).toBe(8);
  });

  it('argmax / argmin pass keepdims through', () => {
    expect(A.argmax(leaf([[1, 5], [7, 0]]), 0, true).shape).toEqual([1, 2]);
    expect(A.argmin(leaf([[1, 5], [7, 0]]), 1, true).value.toArray()).toEqual([[0], [1]]);
  });

  it('an int32 Var cannot require gradients; a vjp cotangent must have the output shape', () => {
    expect(() => new A.Var(T.tensor([1], { dtype: 'int32' }), { requiresGrad: true })).toThrow(/Var: an int32 Var cannot require gradients/);
    const { vjp } = A.vjp((x) => A.mul(x, 2), f64([1, 2, 3]));
    expect(() => vjp(f64([1, 2, 3, 4, 5]))).toThrow("vjp: the cotangent must have the output's shape [3], got [5]");
  });
});

describe('functional transforms touch no state and leak nothing', () => {
  it('grad, vjp, jacobian and gradcheck leave captured parameters’ .grad alone', () => {
    const w = leaf([2, 3]);
    const f = (x: A.Var) => A.sum(A.mul(x, w));
    expect(A.grad(f)(f64([1, 1]))[0].toArray()).toEqual([2, 3]);
    A.vjp(f, f64([1, 1])).vjp(f64(1));
    A.jacobian((x) => A.mul(x, w), f64([1, 1]));
    A.gradcheck(f, [f64([1, 1])]);
    expect(w.grad).toBeNull();
  });

  it('inside tidy, the live tensor count returns to where it was', () => {
    const x = f64([0.5, -1]);
    const before = T.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      T.tidy(() => {
        A.grad((v) => A.sum(A.exp(v)))(x);
        A.valueAndGrad((v) => A.sum(A.sin(v)))(x);
        A.vjp((v) => A.tanh(v), x).vjp(f64([1, 2]));
        return undefined;
      });
      A.jacobian((v) => A.square(v), x).dispose();
      A.gradcheck((v) => A.sigmoid(v), [x]);
    }
    expect(T.memory().numTensors).toBe(before);
  });

  it('jacobian works in float32', () => {
    const J = A.jacobian((v) => A.square(v), T.tensor([1, 3]));
    expect(J.dtype).toBe('float32');
    expect(J.toArray()).toEqual([[2, 0], [0, 6]]);
  });
});

describe('backward is all or nothing', () => {
  it('a backward that throws changes no .grad and frees no graph', () => {
    const z = leaf([1]);
    const x = leaf([1]);
    const h = A.exp(z);
    A.sum(h).backward(); // frees the graph through h
    const L = A.add(A.sum(A.mul(x, 3)), A.sum(h));
    expect(() => L.backward()).toThrow(/freed by an earlier backward/);
    expect(x.grad).toBeNull();
    const L2 = A.sum(A.mul(x, 3));
    L2.backward();
    expect(x.grad!.item()).toBe(3);
  });

  it('a VJP whose gradient is not the input shape, even one that sums down to it, is an error naming the op', () => {
    const bad: A.OpDef = { name: 'badAdd', forward: ([a]) => T.add(a as T.Tensor, 0), vjp: () => [T.ones([2, 2], { dtype: 'float64' })], broadcasts: true };
    expect(() => A.sum(A.apply(bad, [leaf([1, 2])], undefined)).backward()).toThrow('badAdd: gradient has shape [2,2] but the input has shape [2]');
  });
});

describe('conventions at ties, kinks and zeros (hand-computed)', () => {
  it('maximum / minimum split a tie in half; max / min share it equally among the tied elements', () => {
    const a = leaf([1, 2, 3]);
    const b = leaf([1, 0, 5]);
    A.sum(A.maximum(a, b)).backward();
    expect(a.grad!.toArray()).toEqual([0.5, 1, 0]);
    expect(b.grad!.toArray()).toEqual([0.5, 0, 1]);
    const x = leaf([4, 1, 4, 4]);
    A.max(x).backward();
    expect(x.grad!.toArray()).toEqual([1 / 3, 0, 1 / 3, 1 / 3]);
    const y = leaf([[2, 2], [0, 1]]);
    A.sum(A.min(y, 1)).backward();
    expect(y.grad!.toArray()).toEqual([[0.5, 0.5], [1, 0]]);
  });

  it('pow: d/dx x⁰ = 0 at x = 0 and d/db 0ᵇ = 0 (not NaN), as PyTorch', () => {
    const x = leaf([0, 2]);
    A.sum(A.pow(x, 0)).backward();
    expect(x.grad!.toArray()).toEqual([0, 0]);
    const b = leaf([2, 3]);
    A.sum(A.pow(f64([0, 2]), b)).backward();
    expectClose(b.grad!.data, [0, 8 * Math.log(2)], { rtol: 1e-15 });
  });
});

describe('errors name the op the user called', () => {
  const x = leaf([[1, 2], [3, 4]]);
  it.each([
    ['stack of numbers', () => A.stack([1, 2] as unknown as A.Var[]), /^stack: needs a Var or a Tensor, got number/],
    ['stack of nothing', () => A.stack([]), 'stack: needs a non-empty array of tensors'],
    ['stack with a bad axis', () => A.stack([x, x], 5), /^stack: axis 5 is out of range for shape \[2,2,2\]/],
    ['mean with a bad axis', () => A.mean(x, 5), /^mean: axis 5 is out of range/],
    ['var with a bad axis', () => A.variance(x, 5), /^var: axis 5 is out of range/],
    ['mean of int32', () => A.mean(T.tensor([1, 2], { dtype: 'int32' })), /^mean: needs a float32 or float64 tensor, got int32/],
    ['clip with lo > hi', () => A.clip(x, 2, 1), 'clip: needs lo ≤ hi, got 2, 1'],
    ['an unknown unary op', () => A.unary('nope' as T.UnaryOp, x), /^unary: unknown op 'nope'/],
    ['an unknown binary op', () => A.binary('nope' as T.BinaryOp, x, x), /^binary: unknown op 'nope'/],
  ])('%s', (_, fn, message) => {
    expect(fn).toThrow(message);
  });
});

describe('gradcheck numerics', () => {
  it('passes correct gradients at large values and offsets (differences are taken per output, rounding budgeted)', () => {
    for (const [f, x] of [
      [A.exp, [20, -5]],
      [A.square, [1e4, 1e-3]],
      [(v: A.Var) => A.add(v, 1e5), [0.5, 2]],
      [(v: A.Var) => A.sum(A.exp(v)), [15, 0]],
    ] as [(v: A.Var) => A.Var, number[]][]) {
      const r = A.gradcheck(f, [f64(x)], { raise: false });
      expect(r.ok, r.message).toBe(true);
    }
  });

  it('directional mode checks each input on its own: a zero VJP for a small input beside a large one is caught', () => {
    const zeroGrad: A.OpDef = { name: 'zeroGrad', forward: ([b]) => T.mul(b as T.Tensor, 1), vjp: (dy) => [T.mul(dy, 0)] };
    const f = (x: A.Var, b: A.Var) => A.add(A.mul(x, 1e3), A.apply(zeroGrad, [b], undefined));
    const big = T.randn([300], { dtype: 'float64', generator: new T.Generator(1) });
    const r = A.gradcheck(f, [big, T.randn([300], { dtype: 'float64', generator: new T.Generator(2) })], { raise: false });
    expect(r.mode).toBe('directional');
    expect(r.ok).toBe(false);
    expect(r.worst.input).toBe(1);
    expect(r.worst.index).not.toBeNull(); // the failing input was re-checked elementwise to name an element
  });
});
