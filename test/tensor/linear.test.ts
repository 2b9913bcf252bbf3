// The fused linear layer: linearForward / linear / linearBackward on every CPU backend against float64 loops.
import { afterEach, describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { EPS32, expectClose } from '../helpers/close.js';
import { randomValues, testRandom } from '../helpers/reference.js';

/** The activations and their derivatives in float64, written out independently of the library's tables. */
const SELU = [1.0507009873554805, 1.6732632423543772];
const REF: Record<string, [(z: number) => number, (z: number) => number]> = {
  selu: [(z) => SELU[0] * (z > 0 ? z : SELU[1] * Math.expm1(z)), (z) => (z > 0 ? SELU[0] : SELU[0] * SELU[1] * Math.exp(z))],
  relu: [(z) => Math.max(z, 0), (z) => (z > 0 ? 1 : 0)],
  tanh: [Math.tanh, (z) => 1 - Math.tanh(z) ** 2],
  sigmoid: [(z) => 1 / (1 + Math.exp(-z)), (z) => Math.exp(-z) / (1 + Math.exp(-z)) ** 2],
  silu: [(z) => z / (1 + Math.exp(-z)), (z) => (1 + Math.exp(-z) + z * Math.exp(-z)) / (1 + Math.exp(-z)) ** 2],
  softplus: [(z) => Math.log1p(Math.exp(z)), (z) => 1 / (1 + Math.exp(-z))],
};

function layerRef(x: number[], w: number[], b: number[] | null, m: number, k: number, n: number) {
  const z = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = b ? b[j] : 0;
      for (let p = 0; p < k; p++) s += x[i * k + p] * w[p * n + j];
      z[i * n + j] = s;
    }
  }
  return z;
}

/** Float32-rounded inputs as numbers and as tensors. */
function inputs(seed: number, m: number, k: number, n: number) {
  const rng = testRandom(seed);
  const round = (v: number[]) => v.map(Math.fround);
  const [x, w, b, dy] = [round(randomValues(rng, m * k)), round(randomValues(rng, k * n)), round(randomValues(rng, n)), round(randomValues(rng, m * n))];
  return { x, w, b, dy, tx: T.tensor(x, { shape: [m, k] }), tw: T.tensor(w, { shape: [k, n] }), tb: T.tensor(b), tdy: T.tensor(dy, { shape: [m, n] }) };
}

afterEach(() => T.setBackend('cpu'));

describe.each(['wasm', 'js'])('linear on %s (float32) against float64 loops', (backend) => {
  const sizes: [number, number, number][] = [[1, 1, 1], [4, 3, 8], [9, 5, 11], [33, 17, 2], [256, 64, 64]];
  for (const act of [null, 'selu', 'relu', 'tanh', 'sigmoid', 'silu', 'softplus'] as const) {
    it.each(sizes)(`activation ${act ?? 'none'}: forward and backward on (%i×%i)·(%i)`, (m, k, n) => {
      T.setBackend(backend);
      const { x, w, b, dy, tx, tw, tb, tdy } = inputs(m * 7 + n, m, k, n);
      const zRef = layerRef(x, w, b, m, k, n);
      // Accumulated in float32 (multiply, then add): each sum carries ≤ (k + 1)·ε₃₂·Σ|terms| of rounding.
      const bound = Array.from({ length: m * n }, (_, e) => {
        const [i, j] = [Math.floor(e / n), e % n];
        let s = Math.abs(b[j]);
        for (let p = 0; p < k; p++) s += Math.abs(x[i * k + p] * w[p * n + j]);
        return (k + 2) * EPS32 * s;
      });
      const { z, y } = T.linearForward(tx, tw, tb, act);
      expect(z.shape).toEqual([m, n]);
      expectClose(z.data, zRef, { rtol: 0, atol: bound });
      const [f, df] = act ? REF[act] : [(v: number) => v, () => 1];
      // y = f(z): the activation's own error (a few ulps) plus f' times z's error.
      const yAtol = bound.map((e, i) => Math.abs(df(zRef[i])) * e + 4e-7 * Math.max(1, Math.abs(f(zRef[i]))));
      expectClose(y.data, Array.from(zRef, f), { rtol: 0, atol: yAtol });
      if (!act) expect(y).toBe(z);
      const { dz, db } = T.linearBackward(act, z, y, tdy);
      const dzRef = Array.from(zRef, (v, i) => dy[i] * df(v));
      expectClose(dz.data, dzRef, { rtol: 1e-5, atol: 1e-5 });
      const dbRef = Array.from({ length: n }, (_, j) => {
        let s = 0;
        for (let i = 0; i < m; i++) s += dz.data[i * n + j]; // the sum of the dz that came back, in float64
        return s;
      });
      expectClose(db.data, dbRef, { rtol: 1e-6, atol: 1e-6 });
      expect(T.linear(tx, tw, tb, act).data).toEqual(y.data);
    });
  }
  it.each(sizes)('linearBackwardProducts: dz·Wᵀ and xᵀ·dz on (%i×%i)·(%i), each only when wanted', (m, k, n) => {
    T.setBackend(backend);
    const { x, w, dy: dz, tx, tw, tdy: tdz } = inputs(m * 5 + k, m, k, n);
    const { dx, dw } = T.linearBackwardProducts(tx, tw, tdz, { x: true, w: true });
    expect([dx!.shape, dw!.shape]).toEqual([[m, k], [k, n]]);
    // float64 sums, each within the float32 dot product's bound (K terms rounded: ≤ (K + 1)·ε₃₂·Σ|terms|)
    const check = (got: ArrayLike<number>, rows: number, cols: number, terms: number, term: (i: number, j: number, p: number) => number) => {
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          let [s, abs] = [0, 0];
          for (let p = 0; p < terms; p++) [s, abs] = [s + term(i, j, p), abs + Math.abs(term(i, j, p))];
          expect(Math.abs(got[i * cols + j] - s)).toBeLessThanOrEqual((terms + 1) * EPS32 * abs);
        }
      }
    };
    check(dx!.data, m, k, n, (i, j, p) => dz[i * n + p] * w[j * n + p]); // dx[i, j] = Σ_p dz[i, p] W[j, p]
    check(dw!.data, k, n, m, (i, j, p) => x[p * k + i] * dz[p * n + j]); // dW[i, j] = Σ_p x[p, i] dz[p, j]
    const onlyW = T.linearBackwardProducts(tx, tw, tdz, { x: false, w: true });
    expect(onlyW.dx).toBeNull();
    expect(onlyW.dw!.data).toEqual(dw!.data);
  });

  it('without a bias', () => {
    T.setBackend(backend);
    const { x, w, tx, tw } = inputs(3, 6, 5, 10);
    expectClose(T.linear(tx, tw).data, layerRef(x, w, null, 6, 5, 10), { rtol: 1e-5, atol: 1e-5 });
  });
});

describe('linear: bad input names the op', () => {
  const x = T.zeros([4, 3]);
  const w = T.zeros([3, 5]);
  it('shapes, dtypes and activations', () => {
    expect(() => T.linear(x, T.zeros([4, 5]))).toThrow(/^linear: needs x \(B, In\), w \(In, Out\), b \(Out\), got x \[4,3\], w \[4,5\]/);
    expect(() => T.linear(x, w, T.zeros([4]))).toThrow(/^linear: needs .* b \[4\]/);
    expect(() => T.linear(x, T.zeros([3, 5], { dtype: 'float64' }))).toThrow(/^linear: dtypes differ/);
    expect(() => T.linear(x, w, null, 'leakyRelu')).toThrow(/^linear: activation 'leakyRelu' takes parameters/);
    expect(() => T.linearBackward('tanh', T.zeros([4, 5]), T.zeros([4, 5]), T.zeros([5, 4]))).toThrow(/^linearBackward: needs z, y and dy of one \(B, Out\) shape/);
    expect(() => T.linearBackwardProducts(x, w, T.zeros([4, 4]), { x: true, w: true })).toThrow(/^linearBackwardProducts: needs x \(B, In\), w \(In, Out\), dz \(B, Out\), got .* dz \[4,4\]/);
  });
});
