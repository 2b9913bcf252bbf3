// The wasm backend's per-item image kernels (image.wat, norm.wat): 2× upsampling and its adjoint, sums over trailing
// axes, group norm forward and backward, against float64 loops written here, over more than 2¹⁶ elements so that the
// two threads split them (odd widths: the vector loops' tails); and on two threads, the same bits as on one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import * as I from '@rill/tensor/internals';
import { initThreads, stopThreads } from '@rill/tensor/threads';
import { EPS32 } from '../helpers/close.js';
import { randomValues, testRandom } from '../helpers/reference.js';

let solo: T.WasmBackend;
beforeAll(async () => {
  T.setBackend('wasm');
  await initThreads(2);
  solo = T.createWasmBackend(I.compileKernels(false), 'wasm-image-solo');
  T.registerBackend('wasm-image-solo', () => solo);
});
afterAll(async () => {
  T.setBackend('cpu');
  await stopThreads();
});

const r = testRandom(77);
/** float32 values on the given shape, rounded to float32 for the float64 references too. */
const values = (n: number) => Float32Array.from(randomValues(r, n));

/** How many elements of the float32 arrays differ (NaN-free data): 0 means the same bits. */
function differing(a: Float32Array[], b: Float32Array[]): number {
  let count = Math.abs(a.length - b.length);
  a.forEach((x, k) => {
    if (x.length !== b[k]?.length) count++;
    else for (let i = 0; i < x.length; i++) if (x[i] !== b[k][i]) count++;
  });
  return count;
}

/** `fn` on backend `name`, its outputs as float32 copies (the backend checked). */
function on(name: string, fn: () => T.Tensor[]): Float32Array[] {
  T.setBackend(name);
  const outs = fn();
  expect(outs.every((t) => t.backend === name)).toBe(true);
  const copies = outs.map((t) => Float32Array.from(t.data));
  T.dispose(outs);
  T.setBackend('wasm');
  return copies;
}

describe('wasm image kernels', () => {
  for (const shape of [[3, 5, 67, 69], [2, 16, 42, 40], [1, 3, 1, 3]]) {
    const [n, c, h, w] = shape;
    it(`upsample2x and its adjoint on ${shape.join('×')}: the 2 × 2 blocks (exactly) and their sums (float32 bound); 2 threads = 1`, () => {
      const x = values(n * c * h * w);
      const dy = values(4 * x.length);
      const run = (name: string) =>
        on(name, () => [T.upsample2x(T.tensor(x, { shape })), T.upsample2xGrad(T.tensor(dy, { shape: [n, c, 2 * h, 2 * w] }))]);
      const [y, dx] = run('wasm');
      let wrong = 0;
      for (let p = 0; p < n * c; p++)
        for (let i = 0; i < 2 * h; i++)
          for (let j = 0; j < 2 * w; j++) if (y[(p * 2 * h + i) * 2 * w + j] !== x[(p * h + (i >> 1)) * w + (j >> 1)]) wrong++;
      expect(wrong).toBe(0);
      let worst = 0;
      for (let p = 0; p < n * c; p++)
        for (let i = 0; i < h; i++)
          for (let j = 0; j < w; j++) {
            const at = (a: number, b: number) => dy[(p * 2 * h + 2 * i + a) * 2 * w + 2 * j + b];
            const want = at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1);
            const scale = Math.abs(at(0, 0)) + Math.abs(at(0, 1)) + Math.abs(at(1, 0)) + Math.abs(at(1, 1));
            worst = Math.max(worst, Math.abs(dx[(p * h + i) * w + j] - want) / (3 * EPS32 * scale + 1e-30));
          }
      expect(worst).toBeLessThanOrEqual(1);
      expect(differing(run('wasm-image-solo'), [y, dx])).toBe(0);
    });
  }

  it('sums over trailing axes (a bias broadcast over pixels): float64 in order, rounded once — the js backend’s bits; 2 threads = 1', () => {
    const shape = [5, 7, 45, 47];
    const x = values(5 * 7 * 45 * 47);
    const [rows, cols] = [35, 45 * 47];
    const want = Float32Array.from({ length: rows }, (_, row) => {
      let s = 0;
      for (let j = 0; j < cols; j++) s += x[row * cols + j];
      return s;
    });
    const run = (name: string) => on(name, () => [T.sum(T.tensor(x, { shape }), [2, 3]), T.sum(T.tensor(x, { shape }), [1, 2, 3])]);
    const [pixels, samples] = run('wasm');
    expect(pixels).toEqual(want);
    expect(samples).toEqual(Float32Array.from({ length: 5 }, (_, s) => Array.from(x.subarray(s * 7 * cols, (s + 1) * 7 * cols)).reduce((a, v) => a + v, 0)));
    expect(differing(run('wasm-image-solo'), [pixels, samples])).toBe(0);
    expect(differing(run('js'), [pixels, samples])).toBe(0);
  });

  it('group norm forward and backward split by sample: 2 threads give the same bits as 1, and match the js loops within float32', () => {
    const shape = [6, 8, 33, 35];
    const [x, dy, gamma, beta] = [values(6 * 8 * 33 * 35), values(6 * 8 * 33 * 35), values(8), values(8)];
    const run = (name: string) =>
      on(name, () => {
        const [tx, tg] = [T.tensor(x, { shape }), T.tensor(gamma, { shape: [8] })];
        const { y, stats } = T.groupNorm(tx, 4, tg, T.tensor(beta, { shape: [8] }));
        const g = T.groupNormBackward(T.tensor(dy, { shape }), tx, tg, stats);
        return [y, stats, g.dx, g.dgamma, g.dbeta];
      });
    const threaded = run('wasm');
    expect(differing(run('wasm-image-solo'), threaded)).toBe(0);
    const reference = run('js');
    let worst = 0;
    threaded.forEach((got, k) => {
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - reference[k][i]) / (1e-4 * (1 + Math.abs(reference[k][i]))));
    });
    expect(worst).toBeLessThanOrEqual(1);
  });
});
