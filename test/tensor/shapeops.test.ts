// Shape and data-movement ops: reshape, transpose, broadcastTo, concat, stack, slice, gather, scatterAdd, cast.
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { randomValues, ravel, readBroadcast, size, testRandom, unravel } from '../helpers/reference.js';

const seq = (shape: number[], dtype: T.DType = 'float64') => T.reshape(T.arange(size(shape), undefined, 1, { dtype }), shape);

describe('reshape', () => {
  it('keeps row-major order and infers one -1', () => {
    const x = seq([2, 3]);
    expect(T.reshape(x, [3, 2]).toArray()).toEqual([[0, 1], [2, 3], [4, 5]]);
    expect(T.reshape(x, [-1]).shape).toEqual([6]);
    expect(T.reshape(x, [1, -1, 2]).shape).toEqual([1, 3, 2]);
    expect(T.reshape(T.tensor([7]), []).item()).toBe(7);
  });
});

describe('transpose', () => {
  it('any permutation of a rank-4 tensor, against index arithmetic', () => {
    const shape = [2, 3, 4, 5];
    const x = seq(shape);
    for (const perm of [[0, 1, 2, 3], [3, 2, 1, 0], [1, 0, 3, 2], [2, 0, 3, 1]]) {
      const y = T.transpose(x, perm);
      const outShape = perm.map((p) => shape[p]);
      expect(y.shape).toEqual(outShape);
      const d = y.data;
      for (let i = 0; i < d.length; i++) {
        const oi = unravel(i, outShape);
        const xi: number[] = [];
        perm.forEach((p, k) => (xi[p] = oi[k]));
        expect(d[i]).toBe(ravel(xi, shape));
      }
    }
  });

  it('defaults to reversing the axes', () => {
    expect(T.transpose(T.tensor([[1, 2, 3]])).toArray()).toEqual([[1], [2], [3]]);
  });
});

describe('broadcastTo', () => {
  it('repeats along new and size-1 axes', () => {
    const x = T.tensor([[1], [2]]); // [2,1]
    const y = T.broadcastTo(x, [3, 2, 4]);
    expect(y.shape).toEqual([3, 2, 4]);
    const d = y.data;
    for (let i = 0; i < d.length; i++) expect(d[i]).toBe(readBroadcast([1, 2], [2, 1], unravel(i, [3, 2, 4])));
    expect(() => T.broadcastTo(x, [3, 3])).toThrow('broadcastTo: cannot broadcast [2,1] to [3,3]');
    expect(() => T.broadcastTo(x, [2])).toThrow(/broadcastTo: cannot broadcast/);
  });
});

describe('concat and stack', () => {
  it('concat along each axis equals reading the inputs side by side', () => {
    const a = seq([2, 3, 4]);
    const b = T.add(seq([2, 3, 4]), 100);
    for (let axis = 0; axis < 3; axis++) {
      const c = T.concat([a, b], axis);
      const shape = [2, 3, 4];
      shape[axis] *= 2;
      expect(c.shape).toEqual(shape);
      const d = c.data;
      for (let i = 0; i < d.length; i++) {
        const idx = unravel(i, shape);
        const fromB = idx[axis] >= [2, 3, 4][axis];
        if (fromB) idx[axis] -= [2, 3, 4][axis];
        expect(d[i]).toBe(ravel(idx, [2, 3, 4]) + (fromB ? 100 : 0));
      }
    }
    expect(T.concat([seq([1, 2]), seq([3, 2])], 0).shape).toEqual([4, 2]);
  });

  it('stack makes a new axis at any position', () => {
    const a = T.tensor([1, 2, 3]);
    const b = T.tensor([4, 5, 6]);
    expect(T.stack([a, b]).toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(T.stack([a, b], 1).toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(T.stack([a, b], -1).shape).toEqual([3, 2]);
    expect(() => T.stack([a, T.zeros([2])])).toThrow('stack: shapes differ: [3], [2]');
  });
});

describe('slice', () => {
  it('matches Python slicing, with negative and omitted bounds', () => {
    const x = seq([4, 5]);
    expect(T.slice(x, [1, 2], [3, 4]).toArray()).toEqual([[7, 8], [12, 13]]);
    expect(T.slice(x, [-1]).toArray()).toEqual([[15, 16, 17, 18, 19]]);
    expect(T.slice(x, [0, 1], [undefined, -3]).toArray()).toEqual([[1], [6], [11], [16]]);
    expect(T.slice(x, [2, 2], [2, 5]).shape).toEqual([0, 3]);
    expect(() => T.slice(x, [0, 0], [5, 1])).toThrow('slice: range 0:5 is out of bounds for axis 0 of [4,5]');
  });
});

describe('gather and scatterAdd', () => {
  it('gather takes rows by index, including repeats and index tensors of any shape', () => {
    const x = seq([4, 2]);
    expect(T.gather(x, [3, 0, 3]).toArray()).toEqual([[6, 7], [0, 1], [6, 7]]);
    const idx = T.tensor([[1, 2], [0, 0]], { dtype: 'int32' });
    expect(T.gather(x, idx).shape).toEqual([2, 2, 2]);
    expect(T.gather(T.tensor([5, 6, 7]), idx).toArray()).toEqual([[6, 7], [5, 5]]);
    expect(() => T.gather(x, [4])).toThrow('gather: index 4 (at 0) is out of range for 4 rows');
    expect(() => T.gather(x, T.tensor([0]))).toThrow('gather: indices must be int32, got float32');
  });

  it('scatterAdd is the adjoint of gather: <gather(x, i), u> = <x, scatterAdd(u, i)>', () => {
    const rng = testRandom(2);
    const rows = 5;
    const idx = [4, 1, 1, 0, 4, 4];
    const x = T.tensor(randomValues(rng, rows * 3), { shape: [rows, 3], dtype: 'float64' });
    const u = T.tensor(randomValues(rng, idx.length * 3), { shape: [idx.length, 3], dtype: 'float64' });
    const lhs = T.sum(T.mul(T.gather(x, idx), u)).item();
    const rhs = T.sum(T.mul(x, T.scatterAdd(u, idx, rows))).item();
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-12);
    // And by hand: repeated indices add up.
    expect(T.scatterAdd(T.tensor([[1], [2], [3]]), [2, 0, 2], 3).toArray()).toEqual([[2], [0], [4]]);
  });
});

describe('cast', () => {
  it('converts between dtypes; to int32 truncates toward zero and refuses non-finite values', () => {
    const x = T.tensor([1.7, -1.7, 2], { dtype: 'float64' });
    const i = T.cast(x, 'int32');
    expect(i.dtype).toBe('int32');
    expect(Array.from(i.data)).toEqual([1, -1, 2]);
    expect(T.cast(i, 'float32').dtype).toBe('float32');
    expect(T.cast(T.tensor([0.1], { dtype: 'float64' }), 'float32').item()).toBe(Math.fround(0.1));
    expect(() => T.cast(T.tensor([NaN]), 'int32')).toThrow('cast: element 0 of [1] is NaN, which has no int32 value');
  });
});

describe('clone', () => {
  it('copies into separate storage; the int32 extremes survive a cast round trip', () => {
    const x = T.tensor([1, 2, 3]);
    const y = T.clone(x);
    expect(Array.from(y.data)).toEqual([1, 2, 3]);
    x.dispose();
    expect(Array.from(y.data)).toEqual([1, 2, 3]);
    const extremes = T.tensor([-(2 ** 31), 2 ** 31 - 1], { dtype: 'float64' });
    expect(Array.from(T.cast(extremes, 'int32').data)).toEqual([-(2 ** 31), 2 ** 31 - 1]);
    expect(() => T.cast(T.tensor([2 ** 31], { dtype: 'float64' }), 'int32')).toThrow(T.ValueError);
  });
});
