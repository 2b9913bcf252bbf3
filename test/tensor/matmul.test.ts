// matmul: 2D and batched, every transpose flag, both CPU kernels (reference and blocked) on odd sizes, vs float64.
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import * as I from '@rill/tensor/internals';
import { EPS64, expectClose, matmulAtol } from '../helpers/close.js';
import { FLAGS, matmulRef, opMatrix, randomValues, testRandom } from '../helpers/reference.js';

const ODD = [1, 3, 7, 33, 129];

describe('CPU matmul kernels against the float64 reference', () => {
  const rng = testRandom(42);
  for (const kernel of [I.matmulReference, I.matmulBlocked]) {
    for (const [tA, tB] of FLAGS) {
      it(`${kernel.name} transA=${tA} transB=${tB} on sizes ${ODD.join(', ')} (float32 and float64 storage)`, () => {
        for (const m of ODD) {
          for (const [n, k] of [
            [m, m],
            [ODD[(ODD.indexOf(m) + 1) % 5], ODD[(ODD.indexOf(m) + 2) % 5]],
          ]) {
            const a = randomValues(rng, m * k);
            const b = randomValues(rng, k * n);
            const ref = matmulRef(a, b, m, n, k, tA, tB);
            const atol = matmulAtol(opMatrix(a, m, k, tA), opMatrix(b, k, n, tB), m, n, k);
            const c32 = new Float32Array(m * n);
            kernel({ a: Float32Array.from(a), b: Float32Array.from(b), c: c32, m, n, k, transA: tA, transB: tB });
            // float32 inputs differ from a, b by rounding: compare with the reference at the rounded inputs.
            const ref32 = matmulRef(Float32Array.from(a), Float32Array.from(b), m, n, k, tA, tB);
            expectClose(c32, ref32, { rtol: 0, atol });
            const c64 = new Float64Array(m * n);
            kernel({ a: Float64Array.from(a), b: Float64Array.from(b), c: c64, m, n, k, transA: tA, transB: tB });
            expectClose(c64, ref, { rtol: 0, atol: matmulAtol(opMatrix(a, m, k, tA), opMatrix(b, k, n, tB), m, n, k, { eps: EPS64 }) });
          }
        }
      });
    }
  }

  it('kernels honour offsets (one matrix of a batch) and write only their block of C', () => {
    const a = Float64Array.from([9, 9, 1, 2, 3, 4]); // matrix [[1,2],[3,4]] at offset 2
    const b = Float64Array.from([9, 5, 6, 7, 8]); // [[5,6],[7,8]] at offset 1
    for (const kernel of [I.matmulReference, I.matmulBlocked]) {
      const c = new Float64Array(6).fill(-1);
      kernel({ a, b, c, m: 2, n: 2, k: 2, transA: false, transB: false, aOffset: 2, bOffset: 1, cOffset: 1 });
      expect(Array.from(c)).toEqual([-1, 19, 22, 43, 50, -1]);
    }
  });
});

describe('matmul op', () => {
  it('2D with every flag, on both CPU backends, equals hand-computed products', () => {
    const A = T.tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float64' }); // 2×3
    const B = T.tensor([[7, 8], [9, 10], [11, 12]], { dtype: 'float64' }); // 3×2
    const AB = [[58, 64], [139, 154]];
    for (const backend of ['js', 'js-reference']) {
      T.setBackend(backend);
      expect(T.matmul(A, B).toArray()).toEqual(AB);
      expect(T.matmul(T.transpose(A), B, { transA: true }).toArray()).toEqual(AB);
      expect(T.matmul(A, T.transpose(B), { transB: true }).toArray()).toEqual(AB);
      expect(T.matmul(T.transpose(A), T.transpose(B), { transA: true, transB: true }).toArray()).toEqual(AB);
    }
    T.setBackend('cpu');
  });

  it('batched 3D, with broadcasting of a batch of 1 or a 2D operand', () => {
    const rng = testRandom(3);
    const [bs, m, n, k] = [4, 5, 3, 6];
    const cases: [number[], number[]][] = [
      [[bs, m, k], [bs, k, n]],
      [[1, m, k], [bs, k, n]],
      [[bs, m, k], [k, n]],
      [[m, k], [bs, k, n]],
    ];
    for (const [sa, sb] of cases) {
      const av = randomValues(rng, sa.reduce((p, d) => p * d, 1));
      const bv = randomValues(rng, sb.reduce((p, d) => p * d, 1));
      const out = T.matmul(T.tensor(av, { shape: sa, dtype: 'float64' }), T.tensor(bv, { shape: sb, dtype: 'float64' }));
      expect(out.shape).toEqual([bs, m, n]);
      for (let i = 0; i < bs; i++) {
        const ai = sa.length === 3 && sa[0] === bs ? av.slice(i * m * k, (i + 1) * m * k) : av.slice(0, m * k);
        const bi = sb.length === 3 && sb[0] === bs ? bv.slice(i * k * n, (i + 1) * k * n) : bv.slice(0, k * n);
        expectClose(out.data.slice(i * m * n, (i + 1) * m * n), matmulRef(ai, bi, m, n, k), { rtol: 1e-12, atol: 1e-12 });
      }
    }
  });

  it('batched with transpose flags', () => {
    const rng = testRandom(8);
    const [bs, m, n, k] = [3, 4, 5, 7];
    const av = randomValues(rng, bs * m * k);
    const bv = randomValues(rng, bs * k * n);
    const out = T.matmul(T.tensor(av, { shape: [bs, k, m], dtype: 'float64' }), T.tensor(bv, { shape: [bs, n, k], dtype: 'float64' }), {
      transA: true,
      transB: true,
    });
    for (let i = 0; i < bs; i++) {
      const ref = matmulRef(av.slice(i * m * k, (i + 1) * m * k), bv.slice(i * k * n, (i + 1) * k * n), m, n, k, true, true);
      expectClose(out.data.slice(i * m * n, (i + 1) * m * n), ref, { rtol: 1e-12, atol: 1e-12 });
    }
  });

  it('errors name the op and show the shapes and flags', () => {
    expect(() => T.matmul(T.zeros([2, 3]), T.zeros([4, 5]))).toThrow('matmul: inner dimensions differ: [2,3] @ [4,5]');
    expect(() => T.matmul(T.zeros([2, 3]), T.zeros([2, 5]), { transA: true, transB: true })).toThrow(
      'matmul: inner dimensions differ: [2,3]ᵀ @ [2,5]ᵀ',
    );
    expect(() => T.matmul(T.zeros([2, 2, 3]), T.zeros([3, 3, 4]))).toThrow('matmul: batch dimensions differ');
    expect(() => T.matmul(T.zeros([3]), T.zeros([3, 4]))).toThrow(/matmul: needs 2D or 3D tensors/);
    expect(() => T.matmul(T.zeros([2, 3], { dtype: 'int32' }), T.zeros([3, 4], { dtype: 'int32' }))).toThrow(T.DTypeError);
  });
});

describe('blocked kernel against the library reference kernel', () => {
  it('gives bit-identical float64 results on odd sizes and every flag (same summation order, float64 accumulators)', () => {
    const rng = testRandom(77);
    for (const [tA, tB] of FLAGS) {
      for (const m of ODD) {
        for (const n of [1, 8, 33]) {
          const k = ODD[(ODD.indexOf(m) + 3) % 5];
          const a = Float32Array.from(randomValues(rng, m * k));
          const b = Float32Array.from(randomValues(rng, k * n));
          const ref = new Float32Array(m * n);
          const got = new Float32Array(m * n);
          I.matmulReference({ a, b, c: ref, m, n, k, transA: tA, transB: tB });
          I.matmulBlocked({ a, b, c: got, m, n, k, transA: tA, transB: tB });
          expect(Array.from(got)).toEqual(Array.from(ref));
        }
      }
    }
  });
});
