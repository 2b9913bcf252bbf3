// weightedSum: a[i]·x[i, …] + b[i]·y[i, …] per row — against a float64 loop, and bit for bit against the mul/add
// composite that a backend without the one-pass kernel (the GPUs) runs.
import { afterEach, describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { randomValues, testRandom } from '../helpers/reference.js';

afterEach(() => T.setBackend('cpu'));

function operands(shape: number[], seed: number, dtype: T.DType = 'float32') {
  const rng = testRandom(seed);
  const size = shape.reduce((p, d) => p * d, 1);
  const x = T.tensor(randomValues(rng, size, -3, 3), { shape, dtype });
  const y = T.tensor(randomValues(rng, size, -3, 3), { shape, dtype });
  return { x, y, a: randomValues(rng, shape[0], -2, 2), b: randomValues(rng, shape[0], -2, 2) };
}

// The composite's backend: the js kernels without the weightedSum hook.
const js = T.createJsBackend(undefined, 'no-weighted-sum');
T.registerBackend('no-weighted-sum', () => ({ ...js, weightedSum: undefined }));

describe('weightedSum', () => {
  it('float64: a[i]·x[i, j] + b[i]·y[i, j], row by row (a float64 loop)', () => {
    const { x, y, a, b } = operands([5, 3], 1, 'float64');
    const out = T.weightedSum(x, a, y, b);
    expect(out.shape).toEqual([5, 3]);
    const [xv, yv] = [x.data, y.data];
    for (let i = 0; i < 5; i++) for (let j = 0; j < 3; j++) expect(out.data[i * 3 + j]).toBeCloseTo(a[i] * xv[i * 3 + j] + b[i] * yv[i * 3 + j], 14);
  });

  it.each(['js', 'wasm'])('float32 on %s: the same bits as mul, mul, add with (B, 1, 1) weights (every row of a (7, 2, 3) tensor)', (backend) => {
    const { x, y, a, b } = operands([7, 2, 3], 2);
    T.setBackend('no-weighted-sum');
    const composite = Array.from(T.weightedSum(x, a, y, b).data);
    const by = (w: number[]) => T.tensor(w, { shape: [7, 1, 1] });
    const byHand = Array.from(T.add(T.mul(by(a), x), T.mul(by(b), y)).data);
    expect(composite).toEqual(byHand);
    T.setBackend(backend);
    expect(Array.from(T.weightedSum(x, a, y, b).data)).toEqual(composite);
  });

  it('float32: within float32 rounding of the float64 formula', () => {
    const { x, y, a, b } = operands([64, 2], 3);
    const out = T.weightedSum(x, a, y, b).data;
    const [xv, yv] = [x.data, y.data];
    for (let k = 0; k < 128; k++) {
      const i = k >> 1;
      const exact = Math.fround(a[i]) * xv[k] + Math.fround(b[i]) * yv[k];
      expect(Math.abs(out[k] - exact)).toBeLessThanOrEqual(4e-7 * (Math.abs(a[i] * xv[k]) + Math.abs(b[i] * yv[k])));
    }
  });

  it('bad input: a named error', () => {
    const { x, y, a, b } = operands([4, 2], 4);
    expect(() => T.weightedSum(x, a, T.zeros([4, 3]), b)).toThrow(/weightedSum.*one shape/);
    expect(() => T.weightedSum(x, a.slice(1), y, b)).toThrow(/weightedSum.*4 weights a/);
    expect(() => T.weightedSum(x, a, y, [1, 2, NaN, 4])).toThrow(/weightedSum.*b\[2\] must be a finite number/);
    expect(() => T.weightedSum(T.zeros([4, 2], { dtype: 'int32' }), a, T.zeros([4, 2], { dtype: 'int32' }), b)).toThrow(/weightedSum/);
    expect(() => T.weightedSum(x, a, T.zeros([4, 2], { dtype: 'float64' }), b)).toThrow(/weightedSum/);
  });
});
