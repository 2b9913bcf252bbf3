// Creating tensors (tensor, zeros, ones, full, arange, linspace, eye) and reading them back (data, toArray, item).
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';

describe('tensor()', () => {
  it('infers shape from nested arrays; float32 by default; row-major data', () => {
    const x = T.tensor([[1, 2, 3], [4, 5, 6]]);
    expect(x.shape).toEqual([2, 3]);
    expect(x.rank).toBe(2);
    expect(x.size).toBe(6);
    expect(x.dtype).toBe('float32');
    expect(x.data).toBeInstanceOf(Float32Array);
    expect(Array.from(x.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(x.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  it('scalars, empty arrays and flat data with a shape', () => {
    const s = T.tensor(3.5);
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(3.5);
    expect(s.toArray()).toBe(3.5);
    expect(T.tensor([]).shape).toEqual([0]);
    expect(T.tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2] }).toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(T.zeros([2, 0, 3]).toArray()).toEqual([[], []]);
  });

  it('typed arrays keep their dtype unless told otherwise, and are copied', () => {
    const src = new Float64Array([0.1, 0.2]);
    const x = T.tensor(src);
    expect(x.dtype).toBe('float64');
    src[0] = 99;
    expect(x.data[0]).toBe(0.1);
    expect(T.tensor(new Int32Array([1, 2])).dtype).toBe('int32');
    const f = T.tensor(new Float64Array([0.1]), { dtype: 'float32' });
    expect(f.item()).toBe(Math.fround(0.1));
  });

  it('float32 storage rounds to the nearest float32', () => {
    expect(T.tensor([1 / 3]).item()).toBe(Math.fround(1 / 3));
    expect(T.tensor([1 / 3], { dtype: 'float64' }).item()).toBe(1 / 3);
  });

  it('int32 data must be integers in range', () => {
    expect(Array.from(T.tensor([-2, 7], { dtype: 'int32' }).data)).toEqual([-2, 7]);
    expect(() => T.tensor([1.5], { dtype: 'int32' })).toThrow('tensor: int32 data must be integers in the int32 range, element 0 is 1.5');
    expect(() => T.tensor([2 ** 31], { dtype: 'int32' })).toThrow(T.ValueError);
  });

  it('item() needs exactly one element; toString shows values, shape, dtype and backend', () => {
    expect(() => T.zeros([2]).item()).toThrow('item: needs a tensor with one element, got shape [2]');
    expect(T.tensor([[1, 2]]).toString()).toBe(`Tensor([[1,2]], shape=[1,2], dtype=float32, backend=${T.getBackend().name})`);
  });
});

describe('constant and range creators', () => {
  it('zeros, ones, full, eye', () => {
    expect(T.zeros([2, 2]).toArray()).toEqual([[0, 0], [0, 0]]);
    expect(T.ones([3], { dtype: 'int32' }).data).toEqual(new Int32Array([1, 1, 1]));
    expect(T.full([2], 7, { dtype: 'float64' }).toArray()).toEqual([7, 7]);
    expect(T.eye(3).toArray()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    expect(T.eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
  });

  it('arange follows NumPy: [start, stop) by step, also negative steps and arange(n)', () => {
    expect(T.arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(T.arange(1, 2, 0.25, { dtype: 'float64' }).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(T.arange(3, 0, -1).toArray()).toEqual([3, 2, 1]);
    expect(T.arange(2, 2).shape).toEqual([0]);
    expect(() => T.arange(0, 1, 0)).toThrow('arange: step must not be 0');
  });

  it('linspace includes both ends exactly', () => {
    const x = T.linspace(0, 1, 5, { dtype: 'float64' });
    expect(x.toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(T.linspace(-1, 0.3, 7, { dtype: 'float64' }).data[6]).toBe(0.3);
    expect(T.linspace(2, 5, 1).toArray()).toEqual([2]);
    expect(T.linspace(2, 5, 0).shape).toEqual([0]);
    expect(() => T.linspace(0, 1, -1)).toThrow('linspace: num must be a non-negative integer, got -1');
  });
});
