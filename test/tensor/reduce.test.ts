// Reductions (sum, mean, max, min, var, argmax, argmin) over an axis, a list of axes or all, against float64 loops.
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { expectClose } from '../helpers/close.js';
import { randomValues, reduceRef, size, testRandom } from '../helpers/reference.js';

const SHAPE = [3, 4, 5];
const AXES: (number | number[] | undefined)[] = [undefined, 0, 1, 2, -1, [0, 2], [1, 2], [0, 1, 2], []];

function axesList(axis: number | number[] | undefined, rank: number): number[] {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  return (typeof axis === 'number' ? [axis] : axis).map((a) => (a < 0 ? a + rank : a));
}

const squeeze = (kept: number[], axes: number[]) => kept.filter((_, i) => !axes.includes(i));

describe('sum / mean / max / min / var', () => {
  const xs = randomValues(testRandom(5), size(SHAPE), -3, 3);
  for (const dtype of ['float64', 'float32'] as const) {
    const x = T.tensor(xs, { shape: SHAPE, dtype });
    const v = Array.from(x.data); // the exact stored inputs
    for (const axis of AXES) {
      const axes = axesList(axis, SHAPE.length);
      it(`${dtype} over axes ${JSON.stringify(axis)}, with and without keepdims`, () => {
        const count = axes.reduce((p, a) => p * SHAPE[a], 1);
        const s = reduceRef(v, SHAPE, axes, (acc, e) => acc + e, 0);
        const mx = reduceRef(v, SHAPE, axes, (acc, e) => (e > acc ? e : acc), -Infinity);
        const mn = reduceRef(v, SHAPE, axes, (acc, e) => (e < acc ? e : acc), Infinity);
        const meanRef = s.data.map((e) => e / count);
        // Population variance by its definition, Σ(x − mean)² / count, in float64.
        const dev = v.map((e, i) => {
          const idx = [Math.floor(i / 20), Math.floor(i / 5) % 4, i % 5].map((d, k) => (axes.includes(k) ? 0 : d));
          return (e - meanRef[(idx[0] * s.keptShape[1] + idx[1]) * s.keptShape[2] + idx[2]]) ** 2;
        });
        const varRef = reduceRef(dev, SHAPE, axes, (acc, e) => acc + e, 0).data.map((e) => e / count);
        const rtol = dtype === 'float64' ? 1e-12 : 1e-5;
        const atol = dtype === 'float64' ? 1e-12 : 1e-5;
        for (const keepdims of [false, true]) {
          const shape = keepdims ? s.keptShape : squeeze(s.keptShape, axes);
          for (const [out, ref] of [
            [T.sum(x, axis, keepdims), s.data],
            [T.mean(x, axis, keepdims), meanRef],
            [T.max(x, axis, keepdims), mx.data],
            [T.min(x, axis, keepdims), mn.data],
            [T.variance(x, axis, keepdims), varRef],
          ] as const) {
            expect(out.shape).toEqual(shape);
            expect(out.dtype).toBe(dtype);
            expectClose(out.data, ref, { rtol, atol });
          }
        }
      });
    }
  }

  it('var is population variance (ddof = 0), like NumPy: var([1,2,3,4]) = 1.25', () => {
    expect(T.var(T.tensor([1, 2, 3, 4], { dtype: 'float64' })).item()).toBe(1.25);
  });

  it('sum of an empty axis is 0; max of one is an error', () => {
    const e = T.zeros([0, 3]);
    expect(Array.from(T.sum(e, 0).data)).toEqual([0, 0, 0]);
    expect(() => T.max(e, 0)).toThrow(/max: cannot reduce an empty axis/);
  });

  it('max and min propagate NaN', () => {
    const x = T.tensor([[1, NaN, 3], [4, 5, 6]]);
    expect(Array.from(T.max(x, 1).data).map(Number.isNaN)).toEqual([true, false]);
    expect(Number.isNaN(T.min(x).item())).toBe(true);
  });

  it('int32 sums stay int32; mean needs floats', () => {
    const x = T.tensor([[1, 2], [3, 4]], { dtype: 'int32' });
    expect(T.sum(x).dtype).toBe('int32');
    expect(T.sum(x).item()).toBe(10);
    expect(() => T.mean(x)).toThrow(T.DTypeError);
  });
});

describe('argmax / argmin', () => {
  it('along each axis, against a float64 loop', () => {
    const shape = [3, 4, 5];
    const xs = randomValues(testRandom(9), size(shape));
    const x = T.tensor(xs, { shape, dtype: 'float64' });
    for (let axis = 0; axis < 3; axis++) {
      for (const op of ['argmax', 'argmin'] as const) {
        const out = T[op](x, axis);
        expect(out.dtype).toBe('int32');
        const outShape = shape.filter((_, i) => i !== axis);
        expect(out.shape).toEqual(outShape);
        const got = out.data;
        for (let o = 0; o < got.length; o++) {
          const idx = [Math.floor(o / outShape[1]), o % outShape[1]];
          const line = Array.from({ length: shape[axis] }, (_, k) => {
            const full = [...idx];
            full.splice(axis, 0, k);
            return xs[(full[0] * 4 + full[1]) * 5 + full[2]];
          });
          const best = op === 'argmax' ? Math.max(...line) : Math.min(...line);
          expect(got[o]).toBe(line.indexOf(best));
        }
      }
    }
  });

  it('of the flattened tensor when no axis is given; first index wins ties', () => {
    expect(T.argmax(T.tensor([[1, 9], [9, 0]])).item()).toBe(1);
    expect(T.argmin(T.tensor([[1, 0], [0, 0]])).item()).toBe(1);
    expect(T.argmax(T.tensor([[1, 9], [9, 0]])).shape).toEqual([]);
  });
});
