// Bad input, one class per test: the documented RillError subclass, an `op` naming the operation, and a message showing the offending shapes or values.
// Long (~390 lines) because it is one table of cases, a test per error class, meant to be scanned rather than read.
import { afterEach, describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';

type ErrorClass = new (op: string, detail: string) => T.RillError;

/** Runs `fn`, which must throw; returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to throw, it returned normally');
}

/**
 * Asserts that `fn` throws an instance of `Type` (hence a RillError and an Error) whose `op` is `op`, whose `name`
 * is the class name, and whose message is exactly `message` (a string) or matches it (a RegExp).
 */
function expectRillError(fn: () => unknown, Type: ErrorClass, op: string, message: string | RegExp): void {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(Type);
  expect(e).toBeInstanceOf(T.RillError);
  expect(e).toBeInstanceOf(Error);
  const err = e as T.RillError;
  expect(err.name).toBe(Type.name);
  expect(err.op).toBe(op);
  expect(err.message.startsWith(`${op}: `)).toBe(true);
  if (typeof message === 'string') expect(err.message).toBe(message);
  else expect(err.message).toMatch(message);
}

const f32 = (values: T.NestedArray) => T.tensor(values);
const f64 = (values: T.NestedArray) => T.tensor(values, { dtype: 'float64' });
const i32 = (values: T.NestedArray) => T.tensor(values, { dtype: 'int32' });

describe('error classes', () => {
  it('every error type is a RillError with op, name and an "op: detail" message', () => {
    const classes: ErrorClass[] = [T.ShapeError, T.DTypeError, T.AxisError, T.ValueError, T.DisposedError, T.BackendError];
    for (const C of classes) {
      const e = new C('someOp', 'went wrong');
      expect(e).toBeInstanceOf(T.RillError);
      expect(e).toBeInstanceOf(Error);
      expect(e.op).toBe('someOp');
      expect(e.name).toBe(C.name);
      expect(e.message).toBe('someOp: went wrong');
      // The classes are distinct: no error type is an instance of another.
      for (const D of classes) if (D !== C) expect(e).not.toBeInstanceOf(D);
    }
  });
});

describe('shape mismatches → ShapeError', () => {
  it('binary broadcasting: add of [2,3] and [4], mul of [2,3] and [3,2]', () => {
    expectRillError(() => T.add(T.zeros([2, 3]), T.zeros([4])), T.ShapeError, 'add', 'add: shapes cannot broadcast: [2,3] and [4]');
    expectRillError(() => T.mul(T.ones([2, 3]), T.ones([3, 2])), T.ShapeError, 'mul', 'mul: shapes cannot broadcast: [2,3] and [3,2]');
    expectRillError(
      () => T.where(T.zeros([2]), T.zeros([3]), T.zeros([3])),
      T.ShapeError,
      'where',
      'where: shapes cannot broadcast: [2] and [3] and [3]',
    );
    expectRillError(() => T.broadcastTo(T.zeros([3]), [2, 4]), T.ShapeError, 'broadcastTo', /^broadcastTo: .*\[3\].*\[2,4\]/);
  });

  it('matmul: inner dimensions, with transposes, batch dimensions and rank', () => {
    expectRillError(() => T.matmul(T.zeros([2, 3]), T.zeros([4, 5])), T.ShapeError, 'matmul', 'matmul: inner dimensions differ: [2,3] @ [4,5]');
    // With transA the inner dimension of a [3,2] operand is 3: the message marks the transposed operand.
    expectRillError(
      () => T.matmul(T.zeros([3, 2]), T.zeros([4, 5]), { transA: true }),
      T.ShapeError,
      'matmul',
      'matmul: inner dimensions differ: [3,2]ᵀ @ [4,5]',
    );
    expectRillError(
      () => T.matmul(T.zeros([2, 3]), T.zeros([3, 5]), { transB: true }),
      T.ShapeError,
      'matmul',
      'matmul: inner dimensions differ: [2,3] @ [3,5]ᵀ',
    );
    expectRillError(
      () => T.matmul(T.zeros([2, 3, 4]), T.zeros([3, 4, 5])),
      T.ShapeError,
      'matmul',
      'matmul: batch dimensions differ: [2,3,4] @ [3,4,5]',
    );
    expectRillError(() => T.matmul(T.zeros([3]), T.zeros([3, 2])), T.ShapeError, 'matmul', 'matmul: needs 2D or 3D tensors, got [3] @ [3,2]');
  });

  it('concat and stack: dimensions outside the axis, ranks', () => {
    expectRillError(
      () => T.concat([T.zeros([2, 3]), T.zeros([2, 4])], 0),
      T.ShapeError,
      'concat',
      'concat: shapes differ outside axis 0: [2,3], [2,4]',
    );
    expectRillError(
      () => T.concat([T.zeros([2, 3]), T.zeros([2, 3, 1])], 1),
      T.ShapeError,
      'concat',
      'concat: shapes differ outside axis 1: [2,3], [2,3,1]',
    );
    expectRillError(() => T.concat([T.zeros([]), T.zeros([])]), T.ShapeError, 'concat', 'concat: cannot concatenate scalars; use stack');
    expectRillError(() => T.stack([T.zeros([2]), T.zeros([3])]), T.ShapeError, 'stack', 'stack: shapes differ: [2], [3]');
  });

  it('reshape: element count, an -1 that cannot be inferred, two -1s', () => {
    expectRillError(
      () => T.reshape(T.zeros([2, 3]), [4, 2]),
      T.ShapeError,
      'reshape',
      'reshape: cannot reshape [2,3] (6 elements) to [4,2] (8)',
    );
    expectRillError(() => T.reshape(T.zeros([2, 3]), [4, -1]), T.ShapeError, 'reshape', 'reshape: cannot infer -1: [2,3] → [4,-1]');
    expectRillError(() => T.reshape(T.zeros([2, 3]), [-1, -1]), T.ShapeError, 'reshape', 'reshape: only one dimension may be -1, got [-1,-1]');
  });
});

describe('bad dimensions and data → ShapeError', () => {
  it('negative and non-integer dimensions', () => {
    expectRillError(() => T.zeros([2, -1]), T.ShapeError, 'zeros', 'zeros: dimensions must be non-negative integers, got [2,-1]');
    expectRillError(() => T.ones([2, -1]), T.ShapeError, 'ones', 'ones: dimensions must be non-negative integers, got [2,-1]');
    expectRillError(() => T.zeros([1.5]), T.ShapeError, 'zeros', 'zeros: dimensions must be non-negative integers, got [1.5]');
    expectRillError(() => T.full([1.5], 0), T.ShapeError, 'full', 'full: dimensions must be non-negative integers, got [1.5]');
    expectRillError(() => T.full([2, NaN], 0), T.ShapeError, 'full', 'full: dimensions must be non-negative integers, got [2,NaN]');
    expectRillError(() => T.eye(2, -3), T.ShapeError, 'eye', 'eye: dimensions must be non-negative integers, got [2,-3]');
    expectRillError(() => T.rand([3, 0.5]), T.ShapeError, 'rand', 'rand: dimensions must be non-negative integers, got [3,0.5]');
    expectRillError(() => T.reshape(T.zeros([6]), [-2, -3]), T.ShapeError, 'reshape', 'reshape: dimensions must be non-negative integers, got [-2,-3]');
    expectRillError(() => T.broadcastTo(T.zeros([1]), [2.5]), T.ShapeError, 'broadcastTo', 'broadcastTo: dimensions must be non-negative integers, got [2.5]');
  });

  it('data of the wrong length for the shape', () => {
    expectRillError(
      () => T.tensor([1, 2, 3, 4, 5], { shape: [2, 3] }),
      T.ShapeError,
      'tensor',
      'tensor: data has 5 elements but shape [2,3] needs 6',
    );
    expectRillError(
      () => T.tensor(new Float64Array(4), { shape: [3] }),
      T.ShapeError,
      'tensor',
      'tensor: data has 4 elements but shape [3] needs 3',
    );
    expectRillError(() => T.tensor([1, 2], { shape: [2, -1] }), T.ShapeError, 'tensor', 'tensor: dimensions must be non-negative integers, got [2,-1]');
  });

  it('ragged nested arrays name the offending element and both shapes', () => {
    expectRillError(
      () => T.tensor([[1, 2], [3]]),
      T.ShapeError,
      'tensor',
      'tensor: ragged nested array: element [1] has shape [1], element [0] has [2]',
    );
    expectRillError(
      () =>
        T.tensor([
          [[1, 2], [3, 4]],
          [[5, 6], [7]],
        ]),
      T.ShapeError,
      'tensor',
      'tensor: ragged nested array: element [1,1] has shape [1], element [1,0] has [2]',
    );
    expectRillError(
      () => T.tensor([1, [2]]),
      T.ShapeError,
      'tensor',
      'tensor: ragged nested array: element [1] has shape [1], element [0] has []',
    );
    expectRillError(() => T.tensor([[], [1]]), T.ShapeError, 'tensor', 'tensor: ragged nested array: element [1] has shape [1], element [0] has [0]');
  });
});

describe('dtypes → DTypeError', () => {
  it('mixed dtypes in one op: add float32 + float64, matmul, concat', () => {
    expectRillError(
      () => T.add(f32([1, 2]), f64([1, 2])),
      T.DTypeError,
      'add',
      'add: dtypes differ: float32[2], float64[2]; cast one first',
    );
    expectRillError(
      () => T.matmul(T.zeros([2, 3]), T.zeros([3, 2], { dtype: 'float64' })),
      T.DTypeError,
      'matmul',
      'matmul: dtypes differ: float32[2,3], float64[3,2]; cast one first',
    );
    expectRillError(
      () => T.concat([T.zeros([2]), T.zeros([2], { dtype: 'int32' })]),
      T.DTypeError,
      'concat',
      'concat: dtypes differ: float32[2], int32[2]; cast one first',
    );
  });

  it('int32 where floats are needed: exp, mean, var, matmul, div', () => {
    const x = i32([[1, 2], [3, 4]]);
    expectRillError(() => T.exp(i32([1, 2, 3])), T.DTypeError, 'exp', 'exp: needs a float32 or float64 tensor, got int32[3]; cast it first');
    expectRillError(() => T.mean(x), T.DTypeError, 'mean', 'mean: needs a float32 or float64 tensor, got int32[2,2]; cast it first');
    expectRillError(() => T.variance(x), T.DTypeError, 'var', 'var: needs a float32 or float64 tensor, got int32[2,2]; cast it first');
    expectRillError(() => T.matmul(x, x), T.DTypeError, 'matmul', 'matmul: needs a float32 or float64 tensor, got int32[2,2]; cast it first');
    expectRillError(
      () => T.div(x, x),
      T.DTypeError,
      'div',
      'div: int32 tensors are not supported (the result would be truncated); cast to float32 first',
    );
    expectRillError(() => T.add(x, 0.5), T.DTypeError, 'add', 'add: 0.5 is not an int32 value but the other operand is int32[2,2]');
    // Ops that map integers to integers accept int32 (the check is specific), and compute exactly.
    expect(T.neg(x).toArray()).toEqual([[-1, -2], [-3, -4]]);
    expect(T.sum(x).item()).toBe(10);
  });

  it('unknown dtype names', () => {
    expectRillError(
      () => T.zeros([2], { dtype: 'float16' as T.DType }),
      T.DTypeError,
      'zeros',
      "zeros: unknown dtype 'float16' (use float32, float64 or int32)",
    );
    expectRillError(
      () => T.cast(T.zeros([2]), 'bool' as T.DType),
      T.DTypeError,
      'cast',
      "cast: unknown dtype 'bool' (use float32, float64 or int32)",
    );
  });
});

describe('axes → AxisError', () => {
  const x = T.zeros([2, 3]);

  it('axis out of range for the rank', () => {
    expectRillError(() => T.sum(x, 2), T.AxisError, 'sum', 'sum: axis 2 is out of range for shape [2,3] (allowed: -2..1)');
    expectRillError(() => T.max(x, -3), T.AxisError, 'max', 'max: axis -3 is out of range for shape [2,3] (allowed: -2..1)');
    expectRillError(() => T.sum(x, 0.5), T.AxisError, 'sum', 'sum: axis 0.5 is out of range for shape [2,3] (allowed: -2..1)');
    expectRillError(() => T.argmax(x, 5), T.AxisError, 'argmax', 'argmax: axis 5 is out of range for shape [2,3] (allowed: -2..1)');
    expectRillError(() => T.mean(x, [0, 2]), T.AxisError, 'mean', 'mean: axis 2 is out of range for shape [2,3] (allowed: -2..1)');
    expectRillError(() => T.concat([x, x], 2), T.AxisError, 'concat', 'concat: axis 2 is out of range for shape [2,3] (allowed: -2..1)');
  });

  it('the same axis twice (also as a positive and a negative index)', () => {
    expectRillError(() => T.sum(x, [1, 1]), T.AxisError, 'sum', 'sum: axis 1 is listed twice in [1,1]');
    expectRillError(() => T.sum(x, [0, -2]), T.AxisError, 'sum', 'sum: axis 0 is listed twice in [0,-2]');
  });

  it('transpose with a perm that is not a permutation of the axes', () => {
    expectRillError(() => T.transpose(x, [0, 0]), T.AxisError, 'transpose', 'transpose: perm [0,0] is not a permutation of the 2 axes of [2,3]');
    expectRillError(() => T.transpose(x, [0, 1, 2]), T.AxisError, 'transpose', 'transpose: perm [0,1,2] is not a permutation of the 2 axes of [2,3]');
    expectRillError(() => T.transpose(x, [1, 2]), T.AxisError, 'transpose', 'transpose: perm [1,2] is not a permutation of the 2 axes of [2,3]');
  });
});

describe('scalar arguments → ValueError', () => {
  it('NaN / non-integer / negative / non-number seeds', () => {
    expectRillError(() => T.seed(NaN), T.ValueError, 'seed', 'seed: seed must be a non-negative safe integer, got NaN');
    expectRillError(() => T.seed(1.5), T.ValueError, 'seed', 'seed: seed must be a non-negative safe integer, got 1.5');
    expectRillError(() => T.seed(-1), T.ValueError, 'seed', 'seed: seed must be a non-negative safe integer, got -1');
    expectRillError(() => T.seed('7' as unknown as number), T.ValueError, 'seed', 'seed: seed must be a non-negative safe integer, got 7');
    expectRillError(() => new T.Generator(Infinity), T.ValueError, 'Generator', 'Generator: seed must be a non-negative safe integer, got Infinity');
  });

  it('gather / scatterAdd indices out of range (number arrays and int32 tensors)', () => {
    const x = T.tensor([[1, 2], [3, 4], [5, 6]]);
    expectRillError(() => T.gather(x, [3]), T.ValueError, 'gather', 'gather: index 3 (at 0) is out of range for 3 rows');
    expectRillError(() => T.gather(x, [0, -1]), T.ValueError, 'gather', 'gather: index -1 (at 1) is out of range for 3 rows');
    expectRillError(() => T.gather(x, [1.5]), T.ValueError, 'gather', 'gather: index 1.5 (at 0) is not an integer');
    expectRillError(() => T.gather(x, i32([0, 2, 7])), T.ValueError, 'gather', 'gather: index 7 (at 2) is out of range for 3 rows');
    expectRillError(() => T.gather(x, f32([0, 1])), T.DTypeError, 'gather', 'gather: indices must be int32, got float32');
    expectRillError(() => T.scatterAdd(T.ones([2, 2]), [0, 4], 4), T.ValueError, 'scatterAdd', 'scatterAdd: index 4 (at 1) is out of range for 4 rows');
    // In range is fine (the boundary row 2 included).
    expect(T.gather(x, [2, 0]).toArray()).toEqual([[5, 6], [1, 2]]);
  });

  it('non-tensor inputs and non-number elements', () => {
    expectRillError(() => T.exp([1, 2] as unknown as T.Tensor), T.ValueError, 'exp', 'exp: input must be a Tensor, got an array (wrap it with tensor())');
    expectRillError(() => T.add('1' as unknown as number, T.zeros([2])), T.ValueError, 'add', 'add: a must be a Tensor or a number, got string');
    expectRillError(() => T.tensor([[1, '2' as unknown as number]]), T.ValueError, 'tensor', 'tensor: element 1 is string, not a number');
    expectRillError(() => T.tensor([1.5], { dtype: 'int32' }), T.ValueError, 'tensor', 'tensor: int32 data must be integers in the int32 range, element 0 is 1.5');
  });
});

describe('disposed tensors → DisposedError', () => {
  it('using a tensor after dispose(): in ops, reading data, converting', () => {
    const x = T.ones([2, 3]);
    x.dispose();
    expect(x.isDisposed).toBe(true);
    expectRillError(() => T.exp(x), T.DisposedError, 'exp', 'exp: tensor [2,3] float32 was disposed');
    expectRillError(() => T.add(T.ones([2, 3]), x), T.DisposedError, 'add', 'add: tensor [2,3] float32 was disposed');
    expectRillError(() => T.matmul(x, T.ones([3, 2])), T.DisposedError, 'matmul', 'matmul: tensor [2,3] float32 was disposed');
    expectRillError(() => x.data, T.DisposedError, 'data', 'data: tensor [2,3] float32 was disposed');
    expectRillError(() => x.toArray(), T.DisposedError, 'data', 'data: tensor [2,3] float32 was disposed');
    expect(() => x.dispose()).not.toThrow(); // disposing twice is harmless
    expect(String(x)).toBe('Tensor(disposed, [2,3], float32)');
  });

  it('a tensor disposed by the tidy scope that created it', () => {
    let inner: T.Tensor | undefined;
    const kept = T.tidy(() => {
      inner = T.tensor([1, 2], { dtype: 'float64' });
      return T.mul(inner, 2);
    });
    expect(inner!.isDisposed).toBe(true);
    expectRillError(() => T.sum(inner!), T.DisposedError, 'sum', 'sum: tensor [2] float64 was disposed');
    expect(kept.toArray()).toEqual([2, 4]); // the returned tensor survives

    // A tidy that throws still disposes what it created, and rethrows the op's own error.
    let made: T.Tensor | undefined;
    expectRillError(
      () =>
        T.tidy(() => {
          made = T.ones([3]);
          return T.add(made, T.ones([4]));
        }),
      T.ShapeError,
      'add',
      'add: shapes cannot broadcast: [3] and [4]',
    );
    expect(made!.isDisposed).toBe(true);
  });
});

describe('backends → BackendError', () => {
  const original = T.getBackend().name;
  afterEach(() => T.setBackend(original));

  it("setBackend('nope') names the backend and lists the available ones; the active backend is unchanged", () => {
    const before = T.getBackend();
    expectRillError(() => T.setBackend('nope'), T.BackendError, 'setBackend', /^setBackend: unknown backend 'nope' \(available: (.+)\)$/);
    const listed = ((thrown(() => T.setBackend('nope')) as Error).message.match(/available: (.+)\)$/) as RegExpMatchArray)[1].split(', ');
    expect(listed).toEqual(T.listBackends());
    expect(listed).toContain('js');
    expect(listed).toContain('cpu');
    expect(T.getBackend()).toBe(before);
    expect(T.add(T.tensor([1, 2]), T.tensor([3, 4])).toArray()).toEqual([4, 6]);
  });
});

describe('a failed op leaves its inputs intact', () => {
  it('after a throwing add / matmul / reshape / concat, the inputs read back the same and stay usable', () => {
    const a = T.tensor([[1, 2, 3], [4, 5, 6]]);
    const b = T.tensor([10, 20, 30, 40]);
    const before = T.memory();
    expect(() => T.add(a, b)).toThrow(T.ShapeError);
    expect(() => T.matmul(a, a)).toThrow(T.ShapeError);
    expect(() => T.reshape(a, [4])).toThrow(T.ShapeError);
    expect(() => T.concat([a, b])).toThrow(T.ShapeError);
    expect(() => T.sum(a, 3)).toThrow(T.AxisError);
    expect(() => T.add(a, T.tensor([1, 2, 3], { dtype: 'float64' }))).toThrow(T.DTypeError);
    // No op that failed its checks left a tensor behind (the float64 operand above is the only new one).
    expect(T.memory().numTensors).toBe(before.numTensors + 1);
    for (const t of [a, b]) expect(t.isDisposed).toBe(false);
    expect(a.shape).toEqual([2, 3]);
    expect(a.dtype).toBe('float32');
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(b.data)).toEqual([10, 20, 30, 40]);
    // Still usable, with the right results.
    expect(T.add(a, T.tensor([10, 20, 30])).toArray()).toEqual([[11, 22, 33], [14, 25, 36]]);
    expect(T.sum(b).item()).toBe(100);
  });

  it('inputs made outside a throwing tidy survive it', () => {
    const a = T.tensor([1, 2, 3]);
    expect(() => T.tidy(() => T.mul(a, T.ones([2])))).toThrow(T.ShapeError);
    expect(a.isDisposed).toBe(false);
    expect(a.toArray()).toEqual([1, 2, 3]);
  });
});

describe('failed ops leak nothing', () => {
  it('temporaries made for number operands and index arrays are disposed when the op throws', () => {
    const i32 = T.tensor([1, 2], { dtype: 'int32' });
    const z2 = T.zeros([2]);
    const z3 = T.zeros([3]);
    const z22 = T.zeros([2, 2]);
    const before = T.memory().numTensors;
    expect(() => T.div(i32, 2)).toThrow(T.DTypeError);
    expect(() => T.where(z2, z3, 1)).toThrow(T.ShapeError);
    expect(() => T.add(1, 'x' as unknown as number)).toThrow(T.ValueError);
    expect(() => T.gather(z3, [5])).toThrow(T.ValueError);
    expect(() => T.scatterAdd(z22, [0, 1, 1], 3)).toThrow(T.ShapeError);
    expect(T.memory().numTensors).toBe(before);
  });
});
