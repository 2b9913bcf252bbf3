// The engine's contract: accumulation, seeds, freed graphs, retainGraph, zeroGrad, detach, noGrad, graph cuts, errors.
import { describe, expect, it } from 'vitest';
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';

const f64 = (v: T.NestedArray) => T.tensor(v, { dtype: 'float64' });
const leaf = (v: T.NestedArray) => new A.Var(f64(v), { requiresGrad: true });

describe('backward', () => {
  it('computes hand-derived gradients: L = Σ (x·y + x²) → dL/dx = y + 2x, dL/dy = x', () => {
    const x = leaf([1, -2, 3]);
    const y = leaf([4, 5, -6]);
    A.sum(A.add(A.mul(x, y), A.square(x))).backward();
    expect(x.grad!.toArray()).toEqual([6, 1, 0]);
    expect(y.grad!.toArray()).toEqual([1, -2, 3]);
  });

  it('accumulates (+=) over backward calls until zeroGrad', () => {
    const x = leaf([1, 2]);
    A.sum(A.mul(x, 3)).backward();
    A.sum(A.mul(x, 3)).backward();
    expect(x.grad!.toArray()).toEqual([6, 6]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
    A.sum(x).backward();
    expect(x.grad!.toArray()).toEqual([1, 1]);
  });

  it('a non-scalar output needs a seed; with one it computes seedᵀ·J', () => {
    const x = leaf([1, 2, 3]);
    const y = A.mul(x, x);
    expect(() => y.backward()).toThrow('backward: needs a seed gradient for a non-scalar output of shape [3]');
    expect(() => y.backward(T.ones([2], { dtype: 'float64' }))).toThrow(/backward: seed is float64\[2\] but the output is float64\[3\]/);
    y.backward(f64([1, 0, -1]));
    expect(x.grad!.toArray()).toEqual([2, 0, -6]);
  });

  it('a second backward through a freed graph is a clear error; retainGraph keeps it', () => {
    const x = leaf([2]);
    const y = A.sum(A.exp(x));
    y.backward();
    expect(() => y.backward()).toThrow(/backward: the graph through 'sum' was freed by an earlier backward\(\); pass \{ retainGraph: true \}/);
    const z = A.sum(A.square(x));
    x.zeroGrad();
    z.backward(undefined, { retainGraph: true });
    z.backward();
    expect(x.grad!.item()).toBe(8); // 2·(2x) at x = 2
  });

  it('only leaves with requiresGrad receive .grad; constants, detach and noGrad cut the graph', () => {
    const x = leaf([1, 2]);
    const c = new A.Var(f64([3, 4]));
    const d = A.mul(x, 2).detach();
    const out = A.sum(A.add(A.mul(x, c), A.mul(d, x)));
    out.backward();
    expect(c.grad).toBeNull();
    expect(d.isLeaf).toBe(true);
    expect(x.grad!.toArray()).toEqual([3 + 2, 4 + 4]); // c + d, with d treated as a constant
    const n = A.noGrad(() => A.mul(x, 2));
    expect(n.requiresGrad).toBe(false);
    expect(n.isLeaf).toBe(true);
    expect(() => n.backward()).toThrow(/backward: this Var does not require gradients/);
  });

  it('comparisons and argmax return constants (no graph)', () => {
    const x = leaf([1, -1]);
    for (const v of [A.gt(x, 0), A.lt(x, 0), A.ge(x, 0), A.le(x, 0), A.eq(x, 1), A.argmax(x), A.argmin(x)]) {
      expect(v.requiresGrad).toBe(false);
      expect(v.op).toBeNull();
    }
    expect(A.gt(x, 0).value.toArray()).toEqual([1, 0]);
  });

  it('records the op names: the graph shows selu, matmul… (not a generic name)', () => {
    const x = leaf([[1, 2]]);
    expect(A.selu(x).op).toBe('selu');
    expect(A.matmul(x, f64([[1], [1]])).op).toBe('matmul');
    expect(A.mean(x).op).toBe('div'); // mean is a composition: sum, then div
  });

  it('a VJP returning the wrong shape is an error naming the op', () => {
    const broken: A.OpDef = {
      name: 'brokenSum',
      forward: ([x]) => T.sum(x as T.Tensor),
      vjp: () => [T.ones([5], { dtype: 'float64' })],
    };
    const x = leaf([1, 2, 3]);
    expect(() => A.apply(broken, [x], undefined).backward()).toThrow('brokenSum: gradient has shape [5] but the input has shape [3]');
  });

  it('a long chain does not overflow the stack (iterative topological sort)', () => {
    const x = leaf([1]);
    let y: A.Var = x;
    for (let i = 0; i < 20_000; i++) y = A.add(y, 1);
    A.sum(y).backward();
    expect(x.grad!.item()).toBe(1);
  });
});

describe('memory', () => {
  it('forward + backward inside tidy leave only the leaves’ gradients alive', () => {
    const w = leaf([[0.5, -1], [2, 0.25]]);
    const b = leaf([0.1, -0.2]);
    const x = f64([[1, 2], [3, 4], [5, 6]]);
    const before = T.memory().numTensors;
    T.tidy(() => {
      A.mean(A.square(A.tanh(A.linear(x, w, b)))).backward();
      return undefined;
    });
    expect(T.memory().numTensors).toBe(before + 2); // w.grad and b.grad
  });

  it('backward after the forward values were disposed explains what happened', () => {
    const w = leaf([[0.5, -1], [2, 0.25]]);
    const loss = T.tidy(() => A.mean(A.square(A.matmul(f64([[1, 2]]), w))));
    expect(() => loss.backward()).toThrow(/backward: a value 'square' saved for the backward pass was disposed before backward\(\).*run the forward pass and backward\(\) inside the same tidy\(\)/);
  });

  it('a 500-step loop under tidy keeps the live tensor count flat', () => {
    const w = leaf([[0.5, -1], [2, 0.25]]);
    const x = f64([[1, 2], [3, 4]]);
    const counts: number[] = [];
    for (let step = 0; step < 500; step++) {
      T.tidy(() => {
        w.zeroGrad();
        A.sum(A.silu(A.matmul(x, w))).backward();
        return undefined;
      });
      counts.push(T.memory().numTensors);
    }
    expect(new Set(counts.slice(1)).size).toBe(1);
  });
});

describe('Var.dispose and `using`', () => {
  it('frees the value and the gradient; `using` does it at the end of the block', () => {
    const before = T.memory().numTensors;
    let held: A.Var | undefined;
    {
      using x = leaf([1, 2, 3]);
      held = x;
      T.tidy(() => A.sum(A.square(x)).backward());
      expect(Array.from(x.grad!.data)).toEqual([2, 4, 6]);
      expect(T.memory().numTensors).toBeGreaterThan(before);
    }
    expect(held.value.isDisposed).toBe(true);
    expect(held.grad).toBeNull();
    expect(T.memory().numTensors).toBe(before);
  });
});

describe('saved values', () => {
  it("an op's saved tensor (the linear layer's pre-activation) is freed at once when no graph is recorded", () => {
    const x = T.randn([4, 3], { generator: new T.Generator(1) });
    const w = new A.Var(T.randn([3, 5], { generator: new T.Generator(2) }), { requiresGrad: true });
    const before = T.memory().numTensors;
    const y = A.noGrad(() => A.linear(x, w, undefined, 'selu'));
    expect(T.memory().numTensors).toBe(before + 1); // the output alone: z was disposed, not left to a tidy
    const plain = A.noGrad(() => A.linear(x, w)); // without an activation the output is z itself: it must survive
    expect(plain.value.isDisposed).toBe(false);
    T.dispose([y.value, plain.value, x]);
    w.dispose();
  });
});

describe('typed inputs', () => {
  it('an op that needs a shape takes a Var or Tensor: a number is a compile error, and at run time a ValueError', () => {
    // @ts-expect-error reshape's input must be a Var or a Tensor (TensorArg), not a number
    expect(() => A.reshape(3, [1])).toThrow(T.ValueError);
    // @ts-expect-error matmul's operands must be tensors
    expect(() => A.matmul(2, T.ones([2, 2]))).toThrow(T.ValueError);
    // the elementwise arithmetic takes numbers on either side ([In, In]) and its VJP sees them as passed
    const x = new A.Var(T.tensor([1, 2, 3]), { requiresGrad: true });
    const y = A.sum(A.div(6, x));
    y.backward();
    expect(Array.from(x.grad!.data)).toEqual([-6, -1.5, -6 / 9].map(Math.fround));
    x.dispose();
    y.dispose();
  });

  it("a custom op's VJP reads its inputs with the types its OpDef declares", () => {
    // y = a·s with s a plain number: I = [Tensor, number]
    const scale: A.OpDef<undefined, undefined, [T.Tensor, number]> = {
      name: 'scale',
      forward: ([a, s]) => T.mul(a, s),
      vjp: (dy, { inputs: [, s] }) => [T.mul(dy, s), null],
    };
    const a = new A.Var(T.tensor([1, 2]), { requiresGrad: true });
    const y = A.sum(A.apply(scale, [a, 4], undefined));
    y.backward();
    expect(Array.from(a.grad!.data)).toEqual([4, 4]);
    a.dispose();
    y.dispose();
  });
});

describe('retainGrad', () => {
  it('keeps the gradient of inner nodes (values from the chain rule by hand), leaves the others without, and leaks nothing', () => {
    const before = T.memory().numTensors;
    const s = (v: number) => new A.Var(T.tensor(v, { dtype: 'float64' }), { requiresGrad: true });
    const [a, b, c] = [s(0.5), s(-1.5), s(1)];
    const e = A.mul(a, b).retainGrad();
    const d = A.add(e, c).retainGrad();
    const t = A.tanh(d); // not retained
    const L = A.mul(t, a).retainGrad();
    L.backward();
    const tv = Math.tanh(0.25);
    const dd = 0.5 * (1 - tv * tv); // ∂L/∂d = a·(1 − t²)
    expect(L.grad!.item()).toBe(1);
    expect(d.grad!.item()).toBeCloseTo(dd, 14);
    expect(e.grad!.item()).toBeCloseTo(dd, 14);
    expect(t.grad).toBeNull();
    expect(a.grad!.item()).toBeCloseTo(tv + dd * -1.5, 14);
    // e's and d's gradients are distinct tensors (add passes dy through unchanged to both e and c)
    expect(e.grad).not.toBe(c.grad);
    expect(e.grad).not.toBe(d.grad);
    for (const v of [a, b, c, e, d, t, L]) v.dispose();
    expect(T.memory().numTensors).toBe(before);
  });

  it('is ignored by the functional transforms (they write no .grad)', () => {
    const x = T.tensor([1, 2], { dtype: 'float64' });
    let inner: A.Var | null = null;
    const [g] = A.grad((v) => {
      inner = A.mul(v, 3).retainGrad();
      return A.sum(A.square(inner));
    })(x);
    expect(Array.from(g.data)).toEqual([18, 36]);
    expect(inner!.grad).toBeNull();
  });
});
