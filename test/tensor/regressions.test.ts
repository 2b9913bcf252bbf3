// Edge cases found in review: shared storage under a backend that really frees memory, batch-0 matmul, int32 limits,
// sparse arrays, op names, tail precision, and plain-JavaScript misuse that must still give RillErrors.
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import * as T from '@rill/tensor';

/** A `js` backend whose dispose poisons the storage with NaN, as freeing wasm or GPU memory would make it unusable. */
function registerPoisoning(): void {
  const js = T.createJsBackend();
  T.registerBackend('poison', () => ({ ...js, name: 'poison', dispose: (s: unknown) => (s as Float32Array).fill(NaN) }));
  T.setBackend('poison');
}

describe('reshape views under a backend that frees storage', () => {
  afterEach(() => T.setBackend('cpu'));

  it('stack, argmax without an axis and a reshape returned from tidy leave every live tensor intact', () => {
    registerPoisoning();
    const x = T.tensor([1, 2, 3]);
    expect(T.stack([x, x]).toArray()).toEqual([[1, 2, 3], [1, 2, 3]]);
    expect(Array.from(x.data)).toEqual([1, 2, 3]);
    const y = T.tensor([[4, 9], [1, 2]]);
    expect(T.argmax(y).item()).toBe(1);
    expect(y.toArray()).toEqual([[4, 9], [1, 2]]);
    const z = T.tensor([1, 2, 3, 4]);
    const r = T.tidy(() => T.reshape(T.add(z, 1), [2, 2]));
    expect(r.toArray()).toEqual([[2, 3], [4, 5]]);
  });

  it('the storage is freed once, when its last view is disposed; memory() counts shared bytes once', () => {
    registerPoisoning();
    const bytes = T.memory().numBytes;
    const a = T.zeros([1000]);
    const v = T.reshape(a, [10, 100]);
    expect(T.memory().numBytes).toBe(bytes + 4000);
    a.dispose();
    expect(v.data[0]).toBe(0); // still alive through the view
    const data = v.data;
    v.dispose();
    expect(Number.isNaN(data[0])).toBe(true); // now freed (poisoned)
    expect(T.memory().numBytes).toBe(bytes);
  });
});

describe('matmul with empty dimensions', () => {
  it('batch 0 against a broadcast batch of 1 or a 2D operand gives a batch of 0; K = 0 gives zeros', () => {
    expect(T.matmul(T.zeros([0, 2, 3]), T.ones([3, 4])).shape).toEqual([0, 2, 4]);
    expect(T.matmul(T.ones([1, 2, 3]), T.zeros([0, 3, 4])).shape).toEqual([0, 2, 4]);
    expect(T.matmul(T.ones([2, 0]), T.ones([0, 3])).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(T.matmul(T.ones([0, 4]), T.ones([4, 3])).shape).toEqual([0, 3]);
  });
});

describe('int32 limits', () => {
  const i32 = (xs: number[]) => T.tensor(xs, { dtype: 'int32' });

  it('numbers, fills and ranges that int32 cannot hold are refused', () => {
    expect(() => T.add(i32([1, 2]), 2 ** 32)).toThrow('add: 4294967296 is not an int32 value but the other operand is int32[2]');
    expect(() => T.full([2], 2 ** 40, { dtype: 'int32' })).toThrow('full: value 1099511627776 is not an int32 value');
    expect(() => T.arange(0, 2, 0.5, { dtype: 'int32' })).toThrow('arange: element 1 would be 0.5, which is not an int32 value');
    expect(() => T.arange(2 ** 31 - 2, 2 ** 31 + 1, 1, { dtype: 'int32' })).toThrow(/arange: element 2 would be 2147483648/);
    expect(() => T.linspace(0, 1, 3, { dtype: 'int32' })).toThrow(/linspace: element 1 would be 0.5/);
    expect(() => T.clip(i32([0, 1, 3]), 0.5, 2)).toThrow('clip: bounds of an int32 clip must be integers, got 0.5, 2');
    expect(Array.from(T.clip(i32([-5, 1, 3]), -1, Infinity).data)).toEqual([-1, 1, 3]);
  });

  it('arithmetic wraps around modulo 2³² exactly, as in C (products through Math.imul)', () => {
    // (2³⁰ + 1)² = 2⁶⁰ + 2³¹ + 1 ≡ 2³¹ + 1 (mod 2³²), which as a signed int32 is −2³¹ + 1.
    expect(T.square(i32([2 ** 30 + 1])).item()).toBe(-(2 ** 31) + 1);
    expect(T.mul(i32([2 ** 30 + 1]), i32([2 ** 30 + 1])).item()).toBe(-(2 ** 31) + 1);
    expect(T.add(i32([2 ** 31 - 1]), 1).item()).toBe(-(2 ** 31));
  });
});

describe('plain-JavaScript misuse still gives RillErrors naming the op', () => {
  it('sparse arrays, non-array shapes / axes / slices, unknown op names, bad generators, huge sizes', () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(() => T.tensor([1, , 3] as number[])).toThrow('tensor: element [1] is a hole in a sparse array');
    expect(() => T.tensor(new Array(3) as number[])).toThrow(T.ValueError);
    const x = T.zeros([2, 3]);
    expect(() => T.slice(x, 1 as unknown as number[])).toThrow(/slice: starts and ends must be arrays/);
    expect(() => T.reshape(x, 6 as unknown as number[])).toThrow('reshape: shape must be an array of integers, got 6');
    expect(() => T.sum(x, '1' as unknown as number)).toThrow(T.AxisError);
    expect(() => T.binary('constructor' as T.BinaryOp, x, x)).toThrow(/binary: unknown op 'constructor'/);
    expect(() => T.unary('toString' as T.UnaryOp, x)).toThrow(/unary: unknown op 'toString'/);
    expect(() => T.rand([2], { generator: {} as T.Generator })).toThrow('rand: the generator option must be a Generator');
    expect(() => T.zeros([1e6, 1e6])).toThrow(/allocate: cannot allocate 1000000000000 float32 elements/);
  });

  it('errors name the op the user called: var, stack, argmax', () => {
    const x = T.zeros([2, 3]);
    expect(() => T.var(x, 5)).toThrow('var: axis 5 is out of range for shape [2,3] (allowed: -2..1)');
    expect(() => T.stack([x, T.zeros([2, 3], { dtype: 'float64' })])).toThrow(/^stack: dtypes differ/);
    expect(() => T.argmax(x, [0] as unknown as number)).toThrow('argmax: takes one axis (or none for the flattened tensor), got [0]');
  });
});

describe('small API points', () => {
  it('argmax / argmin: keepdims, and NaN counts as the largest / smallest', () => {
    const x = T.tensor([[1, 5, 2], [7, 0, 7]]);
    expect(T.argmax(x, 1, true).toArray()).toEqual([[1], [0]]);
    expect(T.argmax(x, undefined, true).toArray()).toEqual([[3]]);
    const n = T.tensor([1, NaN, 3]);
    expect(T.argmax(n).item()).toBe(1);
    expect(T.argmin(n).item()).toBe(1);
  });

  it('eye(n, { dtype }) is accepted', () => {
    expect(T.eye(2, { dtype: 'float64' }).dtype).toBe('float64');
  });

  it('gelu keeps its relative precision far in the left tail (Φ(−8), Φ(−10) from tables)', () => {
    // Φ(−8) = 6.220960574271785e-16, Φ(−10) = 7.619853024160527e-24 (standard normal tail values).
    const y = T.gelu(T.tensor([-8, -10], { dtype: 'float64' })).data;
    expect(Math.abs(y[0] / (-8 * 6.220960574271785e-16) - 1)).toBeLessThan(1e-12);
    expect(Math.abs(y[1] / (-10 * 7.619853024160527e-24) - 1)).toBeLessThan(1e-12);
  });
});

describe('the js backend recycles the arrays of disposed tensors', () => {
  it('a result reuses a disposed array of the same dtype and size, never one a live view still holds', () => {
    T.setBackend('js');
    onTestFinished(() => T.setBackend('cpu'));
    const x = T.ones([1000]);
    const y = T.mul(x, 2);
    const yData = y.data;
    y.dispose();
    const z = T.mul(x, 3);
    expect(z.data).toBe(yData); // recycled, and fully overwritten
    expect(Array.from(z.data.slice(0, 3))).toEqual([3, 3, 3]);
    const view = T.reshape(z, [10, 100]);
    z.dispose(); // the view keeps the storage alive: it must not be handed out
    const w = T.mul(x, 4);
    expect(w.data).not.toBe(yData);
    expect(view.data[0]).toBe(3);
    expect(w.data[999]).toBe(4);
  });
});

describe('a refused int32 cast leaks nothing', () => {
  it('on wasm: 50 casts of NaN-holding tensors throw and leave the heap where it was', () => {
    const be = T.createWasmBackend();
    T.registerBackend('wasm-cast-leak', () => be);
    T.setBackend('wasm-cast-leak');
    try {
      const x = T.tensor(Float32Array.from({ length: 300 }, (_, i) => (i === 299 ? NaN : i)));
      const before = be.parts.heap.reservedBytes;
      for (let i = 0; i < 50; i++) expect(() => T.cast(x, 'int32')).toThrow(/^cast: element 299 of \[300\] is NaN, which has no int32 value/);
      expect(be.parts.heap.reservedBytes).toBe(before);
      expect(Array.from(T.cast(T.tensor([1.7, -1.7]), 'int32').data)).toEqual([1, -1]); // and a valid cast still truncates
    } finally {
      T.setBackend('cpu');
    }
  });
});
