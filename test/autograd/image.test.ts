// groupNorm, upsample2x, avgPool2d and maxPool2d on (N, C, H, W) batches: values against loops written here in float64,
// gradients by central differences.
import { describe, expect, it } from 'vitest';
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import { expectClose } from '../helpers/close.js';

const f64 = (shape: number[], seed: number) => T.randn(shape, { generator: new T.Generator(seed), dtype: 'float64' });
const idx = (s: number[], n: number, c: number, i: number, j: number) => ((n * s[1] + c) * s[2] + i) * s[3] + j;

/** Group norm by its definition, in float64: each sample's group of channels and pixels to mean 0, variance 1, then γ, β. */
function groupNormRef(d: ArrayLike<number>, s: number[], groups: number, gamma: ArrayLike<number>, beta: ArrayLike<number>): Float64Array {
  const want = new Float64Array(d.length);
  const per = s[1] / groups;
  for (let n = 0; n < s[0]; n++)
    for (let g = 0; g < groups; g++) {
      const members: number[] = [];
      for (let c = per * g; c < per * (g + 1); c++) for (let i = 0; i < s[2]; i++) for (let j = 0; j < s[3]; j++) members.push(idx(s, n, c, i, j));
      const mu = members.reduce((a, k) => a + d[k], 0) / members.length;
      const v = members.reduce((a, k) => a + (d[k] - mu) ** 2, 0) / members.length;
      for (const k of members) {
        const c = Math.floor(k / (s[2] * s[3])) % s[1];
        want[k] = ((d[k] - mu) / Math.sqrt(v + 1e-5)) * gamma[c] + beta[c];
      }
    }
  return want;
}

describe('image ops', () => {
  it('groupNorm: each sample’s group has mean 0 and variance 1 before the affine map; values equal the formula', () => {
    const s = [2, 6, 3, 4];
    const x = f64(s, 1);
    const gamma = f64([6], 2);
    const beta = f64([6], 3);
    const y = A.groupNorm(x, 3, gamma, beta).value;
    expectClose(y.data, groupNormRef(x.data, s, 3, gamma.data, beta.data), { rtol: 1e-12, atol: 1e-12 });
    expect(() => A.groupNorm(x, 4, gamma, beta)).toThrow(/groups must divide the 6 channels, got 4/);
    expect(() => A.groupNorm(x, 3, f64([5], 1), beta)).toThrow(/gamma must be \(6\)/);
  });

  it('groupNorm in float32 on wasm (the SIMD kernel, odd pixel counts, a large mean): the formula to float32 rounding; gradients as float64’s', () => {
    T.setBackend('wasm');
    try {
      for (const [s, groups] of [[[3, 8, 7, 7], 4], [[2, 6, 5, 3], 3], [[1, 4, 2, 2], 1]] as [number[], number][]) {
        const x64 = T.add(f64(s, 11), 5); // μ ≈ 5, σ ≈ 1: the form (x − μ)·r must not cancel
        const [g64, b64, dy64] = [f64([s[1]], 12), f64([s[1]], 13), f64(s, 14)];
        const [x, g, b, dy] = [x64, g64, b64, dy64].map((t) => T.cast(t, 'float32'));
        const out = T.groupNorm(x, groups, g, b);
        expect(out.y.backend).toBe('wasm');
        expectClose(out.y.data, groupNormRef(x.data, s, groups, g.data, b.data), { rtol: 2e-5, atol: 2e-5 });
        const want = T.groupNormBackward(T.cast(dy, 'float64'), T.cast(x, 'float64'), T.cast(g, 'float64'), T.groupNorm(T.cast(x, 'float64'), groups, T.cast(g, 'float64'), T.cast(b, 'float64')).stats);
        const got = T.groupNormBackward(dy, x, g, out.stats);
        for (const k of ['dx', 'dgamma', 'dbeta'] as const) expectClose(got[k].data, want[k].data, { rtol: 1e-4, atol: 1e-4 });
      }
    } finally {
      T.setBackend('cpu');
    }
  });

  it('upsample2x repeats each pixel in a 2 × 2 block; the pools take the block’s mean and max', () => {
    const s = [2, 3, 4, 6];
    const x = f64(s, 4);
    const up = A.upsample2x(x).value;
    expect(up.shape).toEqual([2, 3, 8, 12]);
    const avg = A.avgPool2d(x).value;
    const mx = A.maxPool2d(x).value;
    expect(avg.shape).toEqual([2, 3, 2, 3]);
    for (let n = 0; n < 2; n++)
      for (let c = 0; c < 3; c++)
        for (let i = 0; i < 4; i++)
          for (let j = 0; j < 6; j++) {
            const v = x.data[idx(s, n, c, i, j)];
            for (const [a, b] of [[0, 0], [0, 1], [1, 0], [1, 1]]) expect(up.data[idx([2, 3, 8, 12], n, c, 2 * i + a, 2 * j + b)]).toBe(v);
          }
    for (let n = 0; n < 2; n++)
      for (let c = 0; c < 3; c++)
        for (let i = 0; i < 2; i++)
          for (let j = 0; j < 3; j++) {
            const block = [[0, 0], [0, 1], [1, 0], [1, 1]].map(([a, b]) => x.data[idx(s, n, c, 2 * i + a, 2 * j + b)]);
            expect(avg.data[idx([2, 3, 2, 3], n, c, i, j)]).toBeCloseTo(block.reduce((p, q) => p + q, 0) / 4, 14);
            expect(mx.data[idx([2, 3, 2, 3], n, c, i, j)]).toBe(Math.max(...block));
          }
    expect(() => A.avgPool2d(f64([1, 1, 3, 4], 1))).toThrow(/avgPool2d: needs an even height and width, got 3×4/);
    expect(() => A.upsample2x(f64([3, 4], 1))).toThrow(/upsample2x: needs an image batch \(N, C, H, W\)/);
  });

  it('maxPool2d sends each gradient to its block’s maximum, the first in reading order on a tie (as PyTorch)', () => {
    const v = new A.Var(T.tensor([1, 3, 2, 2, 0, 3, 5, 5, 7, 1, 5, 5, -1, -2, -3, -4], { shape: [1, 1, 4, 4], dtype: 'float64' }), { requiresGrad: true });
    const y = A.maxPool2d(v);
    expect(Array.from(y.value.data)).toEqual([3, 5, 7, 5]);
    A.sum(A.mul(y, T.tensor([1, 2, 3, 4], { shape: [1, 1, 2, 2], dtype: 'float64' }))).backward();
    // blocks: [1 3; 0 3] → the 3 at (0,1); [2 2; 5 5] → (1,2); [7 1; -1 -2] → (2,0); [5 5; -3 -4] → (2,2)
    expect(Array.from(v.grad!.data)).toEqual([0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 4, 0, 0, 0, 0, 0]);
  });

  it('groupNorm passes the gradient check for x, gamma and beta (float64)', () => {
    const report = A.gradcheck((x, g, b) => A.groupNorm(x, 2, g, b), [f64([2, 4, 3, 5], 6), f64([4], 7), f64([4], 8)], { raise: false });
    expect(report.ok, report.message).toBe(true);
  });

  it.each([
    ['upsample2x', (x: A.Var) => A.upsample2x(x)],
    ['avgPool2d', (x: A.Var) => A.avgPool2d(x)],
    ['maxPool2d', (x: A.Var) => A.maxPool2d(x)],
  ] as const)('%s passes the gradient check (float64)', (_name, f) => {
    const report = A.gradcheck(f, [f64([2, 4, 4, 6], 5)], { raise: false });
    expect(report.ok, report.message).toBe(true);
  });
});
