// emaUpdate: the fused wasm kernel equals the composite of elementwise ops bit for bit, and follows d·s + (1 − d)·x.
import { afterEach, describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { randomValues, testRandom } from '../helpers/reference.js';

afterEach(() => T.setBackend('cpu'));

function pair(n: number, seed: number, dtype: T.DType = 'float32') {
  const rng = testRandom(seed);
  return { s: T.tensor(randomValues(rng, n, -1, 1), { dtype }), x: T.tensor(randomValues(rng, n, -2, 2), { dtype }) };
}

describe('emaUpdate', () => {
  // 4099: whole vectors and a tail of 3 (the kernel's scalar path)
  it.each([0.999, 0.9, 0.5, 0, 1])('decay %s: wasm (fused) equals the composite on js bit for bit', (d) => {
    T.setBackend('wasm');
    const { s, x } = pair(4099, 1);
    const fused = T.emaUpdate(s, x, d);
    T.setBackend('js');
    const composite = T.emaUpdate(s, x, d);
    expect(Array.from(fused.data)).toEqual(Array.from(composite.data));
  });

  it('float64: d·shadow + (1 − d)·value, element by element', () => {
    const { s, x } = pair(37, 2, 'float64');
    const out = T.emaUpdate(s, x, 0.99).data;
    const [sv, xv] = [s.data, x.data];
    for (let i = 0; i < 37; i++) expect(out[i]).toBeCloseTo(0.99 * sv[i] + 0.01 * xv[i], 14);
  });

  it('float32 on wasm: within float32 rounding of the float64 formula', () => {
    T.setBackend('wasm');
    const { s, x } = pair(1001, 3);
    const out = T.emaUpdate(s, x, 0.999).data;
    const [sv, xv] = [s.data, x.data];
    for (let i = 0; i < 1001; i++) expect(Math.abs(out[i] - (0.999 * sv[i] + 0.001 * xv[i]))).toBeLessThan(4e-7);
  });

  it('bad input: a named error', () => {
    const { s, x } = pair(4, 4);
    expect(() => T.emaUpdate(s, T.zeros([5]), 0.9)).toThrow(/emaUpdate.*one shape/);
    expect(() => T.emaUpdate(s, x, 1.5)).toThrow(/emaUpdate.*decay must be in \[0, 1\]/);
    expect(() => T.emaUpdate(s, T.zeros([4], { dtype: 'float64' }), 0.9)).toThrow(/emaUpdate/);
  });
});
