// conv2d (PyTorch's semantics: NCHW, cross-correlation, zero padding) against a hand-computed case and an independent
// float64 reference written here as im2col + a matrix product; its gradients by central differences (gradcheck).
import { describe, expect, it } from 'vitest';
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import * as I from '@rill/tensor/internals';
import { expectClose } from '../helpers/close.js';
import { randomValues, testRandom } from '../helpers/reference.js';

/** conv2d by unfolding every window into a row (im2col) and multiplying by the filters as columns, in float64. */
function im2colConv(x: number[], xs: number[], w: number[], ws: number[], b: number[] | null, s: [number, number], p: [number, number]): { y: number[]; shape: number[] } {
  const [n, c, h, wd] = xs;
  const [co, , kh, kw] = ws;
  const ho = Math.floor((h + 2 * p[0] - kh) / s[0]) + 1;
  const wo = Math.floor((wd + 2 * p[1] - kw) / s[1]) + 1;
  const at = (bb: number, cc: number, r: number, q: number) => (r < 0 || r >= h || q < 0 || q >= wd ? 0 : x[((bb * c + cc) * h + r) * wd + q]);
  const y = new Array<number>(n * co * ho * wo).fill(0);
  for (let bb = 0; bb < n; bb++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++) {
        const row: number[] = []; // the window, in (c, kh, kw) order: the layout of one filter
        for (let cc = 0; cc < c; cc++) for (let u = 0; u < kh; u++) for (let v = 0; v < kw; v++) row.push(at(bb, cc, i * s[0] - p[0] + u, j * s[1] - p[1] + v));
        for (let o = 0; o < co; o++) {
          const filter = w.slice(o * row.length, (o + 1) * row.length);
          y[((bb * co + o) * ho + i) * wo + j] = row.reduce((acc, v, k) => acc + v * filter[k], b ? b[o] : 0);
        }
      }
  return { y, shape: [n, co, ho, wo] };
}

describe('conv2d', () => {
  it('a hand-computed case: a 3×3 input, a 2×2 kernel, bias 1, no padding', () => {
    const x = T.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [1, 1, 3, 3], dtype: 'float64' });
    const w = T.tensor([1, 0, 0, -1], { shape: [1, 1, 2, 2], dtype: 'float64' }); // x[i, j] − x[i + 1, j + 1]
    const y = T.conv2d(x, w, T.tensor([1], { dtype: 'float64' }));
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(y.data)).toEqual([1 - 5 + 1, 2 - 6 + 1, 4 - 8 + 1, 5 - 9 + 1]);
    // padding 1, stride 2: windows centred on the corners and the middle
    const z = T.conv2d(x, T.ones([1, 1, 3, 3], { dtype: 'float64' }), null, { stride: 2, padding: 1 });
    expect(Array.from(z.data)).toEqual([1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9]);
  });

  const cases: [number[], number[], [number, number], [number, number]][] = [];
  const r = testRandom(11);
  for (let k = 0; k < 24; k++) {
    const [n, c, co] = [1 + Math.floor(r() * 2), 1 + Math.floor(r() * 3), 1 + Math.floor(r() * 3)];
    const [kh, kw] = [[1, 1], [3, 3], [2, 3], [3, 1]][k % 4];
    const [h, w] = [kh + 2 + Math.floor(r() * 5), kw + 2 + Math.floor(r() * 5)];
    cases.push([[n, c, h, w], [co, c, kh, kw], k % 3 === 2 ? [2, 2] : k % 3 === 1 ? [1, 2] : [1, 1], k % 2 ? [1, 1] : [0, k % 4 === 2 ? 1 : 0]]);
  }

  it.each(cases)('x %j, w %j, stride %j, padding %j: equals im2col · filters (float64 to 1e-12, float32 to 1e-5)', (xs, ws, stride, padding) => {
    const g = testRandom(xs.reduce((a, b) => a * 7 + b, 1));
    const xv = randomValues(g, xs.reduce((a, b) => a * b), -1, 1);
    const wv = randomValues(g, ws.reduce((a, b) => a * b), -1, 1);
    const bv = randomValues(g, ws[0], -1, 1);
    const want = im2colConv(xv, xs, wv, ws, bv, stride, padding);
    for (const dtype of ['float64', 'float32'] as const) {
      const y = T.conv2d(T.tensor(xv, { shape: xs, dtype }), T.tensor(wv, { shape: ws, dtype }), T.tensor(bv, { dtype }), { stride, padding });
      expect(y.shape).toEqual(want.shape);
      expectClose(y.data, want.y, dtype === 'float64' ? { rtol: 1e-12, atol: 1e-12 } : { rtol: 1e-5, atol: 1e-5 });
    }
  });

  it.each(cases.slice(0, 12))('gradients for x, w and b by central differences: x %j, w %j, stride %j, padding %j', (xs, ws, stride, padding) => {
    const g = new T.Generator(xs.reduce((a, b) => a * 5 + b, 3));
    const x = T.randn(xs, { generator: g, dtype: 'float64' });
    const w = T.randn(ws, { generator: g, dtype: 'float64' });
    const b = T.randn([ws[0]], { generator: g, dtype: 'float64' });
    const report = A.gradcheck((xi, wi, bi) => A.conv2d(xi, wi, bi, { stride, padding }), [x, w, b], { raise: false });
    expect(report.ok, report.message).toBe(true);
  });

  it.each(cases.slice(0, 8))('the im2col + matmul path equals the direct loops (forward and both gradients), leaking no tensor: x %j, w %j', (xs, ws, stride, padding) => {
    const g = new T.Generator(xs.reduce((a, b) => a * 3 + b, 9));
    const [x, w] = [T.randn(xs, { generator: g, dtype: 'float64' }), T.randn(ws, { generator: g, dtype: 'float64' })];
    const d = T.convDims('test', xs, ws, { stride, padding });
    const before = T.memory().numTensors;
    const y = T.conv2d(x, w, null, { stride, padding });
    const dy = T.randn(y.shape as number[], { generator: g, dtype: 'float64' });
    const dx = T.conv2dInputGrad(dy, w, xs, { stride, padding });
    const dw = T.conv2dWeightGrad(x, dy, ws, { stride, padding });
    expect(T.memory().numTensors).toBe(before + 4); // y, dy, dx, dw: nothing else left behind
    const ref = (size: number, fill: (out: Float64Array) => void) => { const out = new Float64Array(size); fill(out); return out; };
    expectClose(y.data, ref(y.size, (o) => I.conv2dReference(x.data, w.data, null, d, o)), { rtol: 1e-12, atol: 1e-12 });
    expectClose(dx.data, ref(dx.size, (o) => I.conv2dInputGradReference(dy.data, w.data, d, o)), { rtol: 1e-12, atol: 1e-12 });
    expectClose(dw.data, ref(dw.size, (o) => I.conv2dWeightGradReference(x.data, dy.data, d, o)), { rtol: 1e-12, atol: 1e-12 });
    T.dispose([x, w, y, dy, dx, dw]);
  });

  it('refuses what does not fit, naming the op and the shapes', () => {
    const x = T.zeros([1, 3, 5, 5]);
    expect(() => T.conv2d(x, T.zeros([2, 2, 3, 3]))).toThrow(/conv2d: x has 3 channels but w expects 2/);
    expect(() => T.conv2d(x, T.zeros([2, 3, 7, 7]))).toThrow(/conv2d: the 7×7 kernel does not fit the 5×5 input/);
    expect(() => T.conv2d(x, T.zeros([2, 3, 3, 3]), null, { stride: 0 })).toThrow(/conv2d: stride must be an integer ≥ 1/);
    expect(() => T.conv2d(T.zeros([3, 5, 5]), T.zeros([2, 3, 3, 3]))).toThrow(/conv2d: needs x \(N, C, H, W\)/);
    expect(() => T.conv2d(x, T.zeros([2, 3, 3, 3]), T.zeros([3]))).toThrow(/conv2d: b must be \(2\)/);
  });
});
