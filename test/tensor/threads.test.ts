// The js-threads backend: matmuls split by rows between worker threads give bit-identical results to the blocked
// kernel (same summation order for every element), for every flag, odd sizes and batches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import * as I from '@rill/tensor/internals';
import { initThreads, matmulThreaded, PARALLEL_MIN_WORK, stopThreads } from '@rill/tensor/threads';
import { randomValues, testRandom } from '../helpers/reference.js';

let threads = 0;
beforeAll(async () => {
  threads = await initThreads(2);
});
afterAll(async () => {
  T.setBackend('cpu');
  await stopThreads();
});

describe('matmulThreaded', () => {
  it('starts workers, registers js-threads above js, and the cpu alias still prefers wasm (now on all cores)', () => {
    expect(threads).toBe(2);
    expect(T.listBackends()).toContain('js-threads');
    T.setBackend('cpu');
    expect(T.getBackend().name).toBe('wasm');
    T.setBackend('js');
  });

  it('equals the blocked kernel bit for bit on odd sizes above the threshold, with every transpose flag and offsets', () => {
    const rng = testRandom(12);
    for (const [m, k, n] of [[129, 257, 65], [301, 77, 129], [65, 1025, 33], [3, 1000, 1000]]) {
      expect(m * n * k).toBeGreaterThanOrEqual(PARALLEL_MIN_WORK);
      for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
        const a = Float32Array.from(randomValues(rng, m * k + 5));
        const b = Float32Array.from(randomValues(rng, k * n + 3));
        const expected = new Float32Array(m * n + 7);
        const got = new Float32Array(m * n + 7);
        I.matmulBlocked({ a, b, c: expected, m, n, k, transA, transB, aOffset: 5, bOffset: 3, cOffset: 7 });
        matmulThreaded({ a, b, c: got, m, n, k, transA, transB, aOffset: 5, bOffset: 3, cOffset: 7 });
        expect(Array.from(got)).toEqual(Array.from(expected));
      }
    }
  });

  it('the js-threads backend runs batched matmuls and every other op like js', () => {
    const g = new T.Generator(4);
    const a = T.randn([3, 128, 96], { generator: g });
    const b = T.randn([96, 130], { generator: g });
    T.setBackend('js');
    const ref = T.matmul(a, b, {}).data.slice();
    T.setBackend('js-threads');
    const out = T.matmul(a, b);
    expect(out.shape).toEqual([3, 128, 130]);
    expect(Array.from(out.data)).toEqual(Array.from(ref));
    expect(T.sum(T.selu(out)).item()).toBeCloseTo(T.sum(T.selu(T.tensor(ref, { shape: [3, 128, 130] }))).item(), 3);
    T.setBackend('js');
  });
});
