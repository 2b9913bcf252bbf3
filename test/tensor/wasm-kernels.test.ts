// The `wasm` backend's SIMD kernels (src/wasm/*.wat) against independent float64 references written out here:
// matmul (public op; the exported matmul / packB kernels with bias, activation epilogue, row ranges and guards), the
// activations and their derivatives, broadcast arithmetic, batch sums, and the float64 / int32 fallbacks on views of
// the wasm memory. Tests named "was a bug" pin bugs these tests found (now fixed).
// Long (~850 lines): one describe per exported kernel, all sharing the raw-memory harness at the top.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import * as I from '@rill/tensor/internals';
import { EPS32, EPS64, expectClose } from '../helpers/close.js';
import { FLAGS, BINARY_REF, matmulRef, randomValues, reduceRef, size, testRandom, zipRef } from '../helpers/reference.js';

const fround = Math.fround;

beforeAll(() => T.setBackend('wasm'));
afterAll(() => T.setBackend('cpu'));

/** A float32 tensor on the active backend holding exactly `data`. */
const f32t = (data: ArrayLike<number>, shape: number[]) => T.tensor(Float32Array.from(data), { shape });

/** A copy of a tensor's elements, checked to come from the wasm backend, and the tensor disposed. */
function take(t: T.Tensor, backend = 'wasm'): Float32Array {
  expect(t.backend).toBe(backend);
  const out = Float32Array.from(t.data);
  t.dispose();
  return out;
}

/** Random float32 values in [lo, hi). */
const rand32 = (rng: () => number, n: number, lo = -2, hi = 2) => Float32Array.from(randomValues(rng, n, lo, hi));

/**
 * C = op(A)·op(B) in float64 (from explicit index formulas, A stored K×M when transA, B stored N×K when transB) and
 * the tolerance of a float32-accumulating kernel: atol = c·ε₃₂·K·(|op(A)|·|op(B)|) — the length-K dot product bound
 * γ_K·Σ|a_p b_p| (Higham §3.1) with γ_K ≈ K·u = K·ε/2, so c = 2 leaves a factor 4 of room. The kernel rounds twice per
 * term (multiply, then add: no FMA), which the bound covers (it counts one rounding per operation).
 */
function matmulRefTol(a: ArrayLike<number>, b: ArrayLike<number>, m: number, n: number, k: number, tA: boolean, tB: boolean, c = 2) {
  const ref = new Float64Array(m * n);
  const atol = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let abs = 0;
      for (let p = 0; p < k; p++) {
        const t = (tA ? a[p * m + i] : a[i * k + p]) * (tB ? b[j * k + p] : b[p * n + j]);
        s += t;
        abs += Math.abs(t);
      }
      ref[i * n + j] = s;
      atol[i * n + j] = c * EPS32 * Math.max(k, 1) * abs;
    }
  }
  return { ref, atol };
}

// ---------------------------------------------------------------------------------------------------------- matmul

describe('matmul on the wasm backend (float32) against the float64 reference', () => {
  const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 65];

  for (const [tA, tB] of FLAGS) {
    it(`2D, every M, N, K in {${SIZES.join(',')}}, transA=${tA} transB=${tB} (crosses the 4×8 tile edges)`, () => {
      const rng = testRandom(1000 + 2 * Number(tA) + Number(tB));
      for (const m of SIZES) {
        for (const n of SIZES) {
          // every K for the sizes around the tile edges, a spread of K for the others (keeps the file fast)
          const ks = m <= 9 || n <= 9 ? SIZES : [1, 4, 9, 17, 65];
          for (const k of ks) {
            const a = rand32(rng, m * k);
            const b = rand32(rng, k * n);
            const A = f32t(a, tA ? [k, m] : [m, k]);
            const B = f32t(b, tB ? [n, k] : [k, n]);
            const C = T.matmul(A, B, { transA: tA, transB: tB });
            expect(C.shape).toEqual([m, n]);
            const got = take(C);
            A.dispose();
            B.dispose();
            const { ref, atol } = matmulRefTol(a, b, m, n, k, tA, tB);
            expectClose(got, ref, { rtol: 0, atol });
          }
        }
      }
    });
  }

  it('batched 3D with every flag, including a batch of 1 or a 2D operand broadcast against the other', () => {
    const rng = testRandom(7);
    const [bs, m, n, k] = [3, 9, 17, 13];
    for (const [tA, tB] of FLAGS) {
      const aMat = tA ? [k, m] : [m, k];
      const bMat = tB ? [n, k] : [k, n];
      const cases: [number[], number[]][] = [
        [[bs, ...aMat], [bs, ...bMat]],
        [[1, ...aMat], [bs, ...bMat]],
        [[bs, ...aMat], [1, ...bMat]],
        [aMat, [bs, ...bMat]],
        [[bs, ...aMat], bMat],
        [[1, ...aMat], [1, ...bMat]],
      ];
      for (const [sa, sb] of cases) {
        const a = rand32(rng, size(sa));
        const b = rand32(rng, size(sb));
        const C = T.matmul(f32t(a, sa), f32t(b, sb), { transA: tA, transB: tB });
        const batch = Math.max(sa.length === 3 ? sa[0] : 1, sb.length === 3 ? sb[0] : 1);
        expect(C.shape).toEqual([batch, m, n]);
        const got = take(C);
        for (let i = 0; i < batch; i++) {
          const ai = sa.length === 3 && sa[0] !== 1 ? a.subarray(i * m * k, (i + 1) * m * k) : a.subarray(0, m * k);
          const bi = sb.length === 3 && sb[0] !== 1 ? b.subarray(i * k * n, (i + 1) * k * n) : b.subarray(0, k * n);
          const { ref, atol } = matmulRefTol(ai, bi, m, n, k, tA, tB);
          expectClose(got.subarray(i * m * n, (i + 1) * m * n), ref, { rtol: 0, atol });
        }
      }
    }
  });

  it('seeded fuzz over 2000 random shapes (2D and batched, broadcast batches, every flag)', () => {
    const rng = testRandom(2024);
    const dim = () => 1 + Math.floor(rng() * 19);
    for (let trial = 0; trial < 2000; trial++) {
      const [m, n, k] = [dim(), dim(), dim()];
      const tA = rng() < 0.5;
      const tB = rng() < 0.5;
      const kind = Math.floor(rng() * 4); // 0: 2D; 1: both batched; 2: A batch 1 or 2D; 3: B batch 1 or 2D
      const bs = 1 + Math.floor(rng() * 3);
      const aMat = tA ? [k, m] : [m, k];
      const bMat = tB ? [n, k] : [k, n];
      const lead = (on: boolean) => (on ? [bs] : rng() < 0.5 ? [1] : []);
      const sa = kind === 0 ? aMat : [...lead(kind !== 2), ...aMat];
      const sb = kind === 0 ? bMat : [...lead(kind !== 3), ...bMat];
      const a = rand32(rng, size(sa));
      const b = rand32(rng, size(sb));
      const C = T.matmul(f32t(a, sa), f32t(b, sb), { transA: tA, transB: tB });
      const batchA = sa.length === 3 ? sa[0] : 1;
      const batchB = sb.length === 3 ? sb[0] : 1;
      const batch = Math.max(batchA, batchB);
      expect(C.shape).toEqual(sa.length === 2 && sb.length === 2 ? [m, n] : [batch, m, n]);
      const got = take(C);
      for (let i = 0; i < batch; i++) {
        const ai = batchA === 1 ? a.subarray(0, m * k) : a.subarray(i * m * k, (i + 1) * m * k);
        const bi = batchB === 1 ? b.subarray(0, k * n) : b.subarray(i * k * n, (i + 1) * k * n);
        const { ref, atol } = matmulRefTol(ai, bi, m, n, k, tA, tB);
        const slice = got.subarray(i * m * n, (i + 1) * m * n);
        for (let q = 0; q < ref.length; q++) {
          if (!(Math.abs(slice[q] - ref[q]) <= atol[q])) {
            expect.fail(`trial ${trial} ${JSON.stringify({ sa, sb, tA, tB })} batch ${i} element ${q}: ${slice[q]} vs ${ref[q]} (atol ${atol[q]})`);
          }
        }
      }
    }
  });

  it('products large enough to be cache-blocked (> 256 columns, > 128 terms) and packed (K·N ≥ 2¹⁴), every flag', () => {
    const rng = testRandom(1010);
    for (const [m, n, k] of [[5, 257, 129], [9, 264, 256], [13, 520, 300], [4, 263, 385], [3, 64, 256]]) {
      for (const [tA, tB] of FLAGS) {
        const a = rand32(rng, m * k);
        const b = rand32(rng, k * n);
        const got = take(T.matmul(f32t(a, tA ? [k, m] : [m, k]), f32t(b, tB ? [n, k] : [k, n]), { transA: tA, transB: tB }));
        const { ref, atol } = matmulRefTol(a, b, m, n, k, tA, tB);
        expectClose(got, ref, { rtol: 0, atol });
      }
    }
  });

  it('empty products: K = 0 gives zeros even in reused (dirty) memory; M = 0, N = 0 and a batch of 0 give empty results', () => {
    for (const [tA, tB] of FLAGS) {
      // dirty a block of the output's size class, then free it so the product's output reuses it
      T.full([5, 7], 123.5).dispose();
      const C = T.matmul(T.zeros(tA ? [0, 5] : [5, 0]), T.zeros(tB ? [7, 0] : [0, 7]), { transA: tA, transB: tB });
      expect(C.shape).toEqual([5, 7]);
      expect(Array.from(take(C))).toEqual(new Array(35).fill(0));
    }
    expect(T.matmul(T.zeros([0, 3]), T.zeros([3, 4])).shape).toEqual([0, 4]);
    expect(T.matmul(T.zeros([2, 3]), T.zeros([3, 0])).shape).toEqual([2, 0]);
    expect(T.matmul(T.zeros([0, 2, 3]), T.zeros([3, 4])).shape).toEqual([0, 2, 4]);
  });

  it('special values propagate as IEEE arithmetic says (∞·0 = NaN, ∞ + finite = ∞)', () => {
    const A = f32t([Infinity, 1, 0, 1, 2, 3, 4, 5], [2, 4]);
    const B = f32t([1, 0, 1, 1, 2, 2, 3, 3], [4, 2]); // column 1 has B[0,1] = 0 → ∞·0
    const got = take(T.matmul(A, B));
    expect(got[0]).toBe(Infinity);
    expect(got[1]).toBeNaN();
    expect(Array.from(got.subarray(2))).toEqual([2 + 3 + 8 + 15, 0 + 3 + 8 + 15]);
  });
});

// --------------------------------------------------------------------------------------- the matmul kernel itself

describe('the exported matmul, packA and packB kernels: bias, activation epilogue, row ranges, nothing written outside C', () => {
  const be = T.createWasmBackend(I.compileKernels(false), 'wasm-direct');
  const { heap, kernels } = be.parts;
  // The epilogue's numbering: 0 none, then each SIMD op at its ACTIVATION_IDS number.
  const ACT_IDS = ['none', ...(Object.entries(I.ACTIVATION_IDS) as [I.SimdUnaryOp, number][]).sort((p, q) => p[1] - q[1]).map(([op]) => op)] as const;
  const SELU = I.ACTIVATION_IDS.selu;
  it('numbers the activations 1, 2, … with none at 0, every SIMD op once', () => {
    expect(ACT_IDS.slice(1).sort()).toEqual([...I.SIMD_UNARY_OPS].sort());
    expect(ACT_IDS.map((op) => (op === 'none' ? 0 : I.ACTIVATION_IDS[op]))).toEqual(ACT_IDS.map((_, i) => i));
  });

  it('has the signature these tests call: matmul(a, apacked, b, packed, c, bias, y, act, n, k, ai, ap, bp, bj, row0, row1), packA(a, dst, m4, k, ai, ap), packB(b, dst, k, n, bp, bj)', () => {
    expect(kernels.matmul.length).toBe(16);
    expect(kernels.matmulNarrow.length).toBe(12);
    expect(kernels.packA.length).toBe(6);
    expect(kernels.packB.length).toBe(6);
  });

  interface Case {
    m: number;
    n: number;
    k: number;
    transA: boolean;
    /** 'rows': row-major B read in place; 'packed': row-major B packed first; 'trans': B stored N×K, packed first. */
    bMode: 'rows' | 'packed' | 'trans';
    bias: boolean;
    act: number | null; // null: no y
    row0: number;
    row1: number;
    cShift?: number;
    /** Call matmulNarrow (n ≤ 4, bMode 'rows', act null) instead of matmul. */
    narrow?: boolean;
  }

  /**
   * One call on a region laid out as [guard | A | guard | A panels | guard | B | guard | bias | guard | panels | guard |
   * C | guard | Y | guard] (C at `cShift` floats past a 16-byte boundary), everything but A, B, bias pre-filled with a sentinel.
   */
  function run(t: Case, rng: () => number) {
    const { m, n, k, transA, bMode, row0, row1, cShift = 0 } = t;
    const n8 = n - (n % 8);
    const G = 12; // guard floats
    const round4 = (x: number) => Math.ceil(x / 4) * 4;
    const at: Record<string, number> = {};
    let top = G;
    const m4 = m - (m % 4);
    for (const [name, len] of [['a', m * k], ['apanels', m4 * k], ['b', k * n], ['bias', n], ['panels', k * n], ['c', m * n], ['y', m * n]] as const) {
      if (name === 'c') top += cShift;
      at[name] = top;
      top = round4(top + len) + G;
    }
    const block = heap.alloc(4 * top);
    const mem = heap.view(block, 'float32', top) as Float32Array; // taken after the allocation (see CpuMemory)
    const SENTINEL = -7777.25;
    mem.fill(SENTINEL);
    const a = rand32(rng, m * k);
    const b = rand32(rng, k * n);
    const bias = rand32(rng, n, -4, 4);
    mem.set(a, at.a);
    mem.set(b, at.b);
    if (t.bias) mem.set(bias, at.bias);
    const ptr = (name: string) => block.ptr + 4 * at[name];
    const [ai, ap] = transA ? [1, m] : [k, 1];
    const [bp, bj] = bMode === 'trans' ? [1, k] : [n, 1];
    const B = (p: number, j: number) => b[p * bp + j * bj];
    if (bMode !== 'rows') {
      kernels.packB(ptr('b'), ptr('panels'), k, n, bp, bj);
      const panels = heap.view(block, 'float32', top) as Float32Array;
      // panel q holds op(B)[p, 8q…8q+7] for p = 0…K−1; nothing past the K·(N − N mod 8) floats is written
      for (let q = 0; q < n8 / 8; q++) {
        for (let p = 0; p < k; p++) {
          for (let jj = 0; jj < 8; jj++) {
            const got = panels[at.panels + q * 8 * k + p * 8 + jj];
            if (!Object.is(got, B(p, 8 * q + jj))) expect.fail(`packB ${k}×${n} (bp=${bp}, bj=${bj}): panel ${q} p=${p} lane ${jj} = ${got}, expected ${B(p, 8 * q + jj)}`);
          }
        }
      }
      for (let q = at.panels + k * n8; q < at.panels + k * n; q++) expect(panels[q]).toBe(SENTINEL);
    }
    kernels.packA(ptr('a'), ptr('apanels'), m4, k, ai, ap);
    const A0 = (i: number, p: number) => (transA ? a[p * m + i] : a[i * k + p]);
    const apanels = heap.view(block, 'float32', top) as Float32Array;
    // panel q holds op(A)[4q…4q+3, p] side by side for p = 0…K−1; nothing past its m4·K floats is written
    for (let i = 0; i < m4; i++) {
      for (let p = 0; p < k; p++) {
        const got = apanels[at.apanels + (i >> 2) * 4 * k + p * 4 + (i % 4)];
        if (!Object.is(got, A0(i, p))) expect.fail(`packA ${m}×${k} (transA=${transA}): row ${i} p=${p} = ${got}, expected ${A0(i, p)}`);
      }
    }
    expect(apanels[at.apanels + m4 * k]).toBe(SENTINEL);
    const before = (heap.view(block, 'float32', top) as Float32Array).slice();
    if (t.narrow) kernels.matmulNarrow(ptr('a'), ptr('apanels'), ptr('b'), ptr('c'), t.bias ? ptr('bias') : 0, n, k, ai, ap, bp, row0, row1);
    else {
      kernels.matmul(ptr('a'), ptr('apanels'), ptr('b'), bMode === 'rows' ? 0 : ptr('panels'), ptr('c'), t.bias ? ptr('bias') : 0, t.act === null ? 0 : ptr('y'), t.act ?? 0,
        n, k, ai, ap, bp, bj, row0, row1);
    }
    const after = heap.view(block, 'float32', top) as Float32Array;
    const label = `${JSON.stringify(t)}`;
    // Every element outside rows [row0, row1) of C (and of Y when there is one) is as it was.
    const inRows = (q: number, base: number) => q >= base + row0 * n && q < base + row1 * n;
    for (let q = 0; q < top; q++) {
      const written = inRows(q, at.c) || (t.act !== null && inRows(q, at.y));
      if (!written && !Object.is(after[q], before[q])) expect.fail(`${label}: float ${q} changed (C at ${at.c}, Y at ${at.y}): ${before[q]} → ${after[q]}`);
    }
    // Rows [row0, row1): float64 reference within tolerance, and bit-for-bit the documented float32 arithmetic
    // (sum = bias[j] or 0, then sum = fl(sum + fl(A[i,p]·B[p,j])) for p = 0…K−1, whatever the cache blocking;
    // computing each step in float64 and rounding once equals the float32 operation: double rounding is innocuous
    // for + and × since 53 ≥ 2·24 + 2).
    const A = (i: number, p: number) => (transA ? a[p * m + i] : a[i * k + p]);
    const cRows = new Float32Array(Math.max(0, row1 - row0) * n);
    for (let i = row0; i < row1; i++) {
      for (let j = 0; j < n; j++) {
        let s32 = t.bias ? bias[j] : 0;
        let s64 = s32;
        let abs = Math.abs(s32);
        for (let p = 0; p < k; p++) {
          s32 = fround(s32 + fround(A(i, p) * B(p, j)));
          s64 += A(i, p) * B(p, j);
          abs += Math.abs(A(i, p) * B(p, j));
        }
        const got = after[at.c + i * n + j];
        cRows[(i - row0) * n + j] = got;
        if (!(Math.abs(got - s64) <= 2 * EPS32 * (k + 1) * abs) || !Object.is(got, s32)) {
          expect.fail(`${label}: C[${i},${j}] = ${got}, float32 order ${s32}, float64 ${s64}`);
        }
      }
    }
    // Y = act(C), bit-for-bit what the unary kernel gives for those values (the same SIMD function)
    if (t.act !== null && cRows.length > 0) {
      const name = ACT_IDS[t.act];
      const want = name === 'none' ? cRows : take(T.unary(name, f32t(cRows, [cRows.length])));
      for (let q = 0; q < cRows.length; q++) {
        const got = after[at.y + row0 * n + q];
        if (!Object.is(got, want[q])) expect.fail(`${label}: Y element ${q} = ${got}, ${name}(${cRows[q]}) = ${want[q]}`);
      }
    }
    heap.free(block);
  }

  it('computes exactly rows [row0, row1), bias first, for ranges that start and end off the 4-row tiles, every B layout', () => {
    const rng = testRandom(99);
    for (const [m, n, k] of [[13, 17, 9], [8, 8, 8], [5, 3, 7], [16, 33, 4], [9, 24, 1], [21, 9, 16], [4, 7, 0], [6, 16, 0]]) {
      const ranges: [number, number][] = [[0, m], [1, m], [0, m - 1], [3, Math.max(3, m - 2)], [2, 3], [m >> 1, m >> 1], [m - 1, m]];
      for (const [row0, row1] of ranges) {
        for (const transA of [false, true]) {
          for (const bMode of ['rows', 'packed', 'trans'] as const) {
            for (const bias of [true, false]) run({ m, n, k, transA, bMode, bias, act: null, row0, row1 }, rng);
          }
        }
      }
    }
  });

  it('matmulNarrow (n = 1…4, row-major B): the same documented float32 sums, exactly rows [row0, row1), nothing past n columns', () => {
    const rng = testRandom(102);
    for (const n of [1, 2, 3, 4]) {
      for (const [m, k] of [[13, 9], [4, 1], [3, 64], [64, 257], [9, 0], [21, 130]]) {
        const ranges: [number, number][] = [[0, m], [1, m], [0, m - 1], [2, 3], [m >> 1, m >> 1]];
        for (const [row0, row1] of ranges) {
          for (const transA of [false, true]) {
            for (const bias of [true, false]) run({ m, n, k, transA, bMode: 'rows', bias, act: null, row0, row1, narrow: true, cShift: (m + n) % 4 }, rng);
          }
        }
      }
    }
  });

  it('across the cache blocks (256 columns × 128 terms): partial sums continue exactly, also on a row range', () => {
    const rng = testRandom(100);
    for (const [m, n, k] of [[5, 267, 131], [6, 520, 257], [9, 263, 128], [4, 256, 129]]) {
      for (const bMode of ['rows', 'packed', 'trans'] as const) {
        run({ m, n, k, transA: bMode === 'trans', bMode, bias: true, act: ACT_IDS.length - 1, row0: 0, row1: m }, rng);
        run({ m, n, k, transA: false, bMode, bias: false, act: null, row0: 1, row1: m - 1 }, rng);
      }
    }
  });

  it('the epilogue writes y = act(C) for every activation (0 = a copy), with C = the pre-activation sums', () => {
    const rng = testRandom(101);
    for (let act = 0; act < ACT_IDS.length; act++) {
      for (const [m, n, k] of [[7, 19, 5], [12, 16, 33], [3, 5, 2]]) {
        for (const bMode of ['rows', 'trans'] as const) run({ m, n, k, transA: act % 2 === 1, bMode, bias: act !== 2, act, row0: act === 3 ? 2 : 0, row1: m }, rng);
      }
    }
  });

  it('writes nothing outside C when C is not 16-byte aligned (the tile stores are whole vectors)', () => {
    const rng = testRandom(5);
    for (const cShift of [1, 2, 3]) {
      for (const [m, n, k] of [[4, 8, 3], [7, 17, 5], [12, 16, 2]]) run({ m, n, k, transA: false, bMode: 'packed', bias: true, act: SELU, row0: 0, row1: m, cShift }, rng);
    }
  });

  it('elementwise kernels write exactly n elements (n = 0…9: whole vectors, then the scalar tail)', () => {
    const rng = testRandom(8);
    for (let n = 0; n <= 9; n++) {
      // floats: [guard 4 | x n | guard 4 | y n | guard 4 | out n | guard 4] (x, y, out not 16-byte aligned for most n)
      const [xo, yo, oo, len] = [4, 8 + n, 12 + 2 * n, 16 + 3 * n];
      const region = heap.alloc(4 * len);
      const x = rand32(rng, n, 0.5, 2);
      const y = rand32(rng, n, 0.5, 2);
      const view = () => heap.view(region, 'float32', len) as Float32Array;
      const init = view();
      init.fill(-3);
      init.set(x, xo);
      init.set(y, yo);
      const before = init.slice();
      const [px, py, po] = [xo, yo, oo].map((o) => region.ptr + 4 * o);
      const check = (name: string, expected: (j: number) => number) => {
        const v = view();
        for (let q = 0; q < len; q++) {
          const want = q >= oo && q < oo + n ? expected(q - oo) : before[q];
          if (!Object.is(v[q], want)) expect.fail(`${name} n=${n}: float ${q} (output at ${oo}) is ${v[q]}, expected ${want}`);
        }
        v.fill(-3, oo, oo + n);
      };
      for (const op of ['add', 'sub', 'mul', 'div'] as const) {
        kernels[op](px, 1, py, 1, po, n);
        check(op, (j) => fround(BINARY_REF[op](x[j], y[j])));
        kernels[op](px, 0, py, 1, po, n); // a[0] repeated
        check(`${op} (a broadcast)`, (j) => fround(BINARY_REF[op](x[0], y[j])));
        kernels[op](px, 1, py, 0, po, n); // b[0] repeated
        check(`${op} (b broadcast)`, (j) => fround(BINARY_REF[op](x[j], y[0])));
      }
      kernels.relu(px, po, n);
      check('relu', (j) => x[j]);
      kernels.sumRows(px, po, 1, n);
      check('sumRows', (j) => x[j]);
      heap.free(region);
    }
  });
});

// ----------------------------------------------------------------------------------------------------- activations

const LAMBDA = 1.0507009873554805; // SELU λ, Klambauer et al. (2017), eq. 2
const ALPHA = 1.6732632423543772; // SELU α
/** σ(x) in float64, each branch free of overflow. */
const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** Float64 definitions (the same conventions as the op table: relu(NaN) = 0, silu(−∞) = −∞·0 = NaN). */
const FORWARD: Record<string, (x: number) => number> = {
  selu: (x) => (x > 0 ? LAMBDA * x : LAMBDA * ALPHA * Math.expm1(x)),
  relu: (x) => (x > 0 ? x : 0),
  tanh: (x) => Math.tanh(x),
  sigmoid,
  silu: (x) => x * sigmoid(x),
};
/** f'(x) given x and y = f(x), as each derivative kernel is documented to compute it (src/formulas.ts). */
const DERIV: Record<string, (x: number, y: number) => number> = {
  selu: (x, y) => (x > 0 ? LAMBDA : y + LAMBDA * ALPHA),
  relu: (x) => (x > 0 ? 1 : 0),
  tanh: (_x, y) => 1 - y * y,
  sigmoid: (_x, y) => y * (1 - y),
  silu: (x) => sigmoid(x) * (1 + x * (1 - sigmoid(x))),
};
const ACTS = ['selu', 'relu', 'tanh', 'sigmoid', 'silu'] as const;

/** The spacing of float32 numbers at |v| (2⁻¹⁴⁹ in the subnormal range). */
function ulp32(v: number): number {
  const a = Math.abs(v);
  if (a < 2 ** -126) return 2 ** -149;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return 2 ** (e - 23);
}

/** |got − ref| in float32 ulps of ref; 0 / ∞ for non-finite references (exact match required: NaN with NaN). */
function ulps(got: number, ref: number): number {
  const r32 = fround(ref);
  if (!Number.isFinite(r32)) return Object.is(got, r32) || (Number.isNaN(got) && Number.isNaN(r32)) ? 0 : Infinity;
  if (Number.isNaN(got)) return Infinity;
  return Math.abs(got - ref) / ulp32(ref);
}

/** The test grid: special values, a dense sweep of [−30, 30], and random magnitudes from 2⁻¹²⁶ to 2⁷ of both signs. */
function activationGrid(): Float32Array {
  const specials = [0, -0, 2 ** -149, 1e-40, 2 ** -126, 1e-30, 1e-10, 1e-7, 1e-4, 0.01, 0.25, 0.3465736, 0.5, 1, 2, 3, 5, 8, 10, 15, 17, 20, 30, 50,
    86.9, 87, 87.5, 88, 88.7, 89, 100, 1e4, 1e30, 3.4028234663852886e38, Infinity];
  const xs = [...specials, ...specials.map((v) => -v), NaN];
  for (let i = 0; i <= 60000; i++) xs.push(-30 + i / 1000);
  const rng = testRandom(31);
  for (let i = 0; i < 20000; i++) xs.push((rng() < 0.5 ? -1 : 1) * 2 ** (-126 + 133 * rng()));
  while (xs.length % 4 !== 3) xs.push(0.125); // n mod 4 ≠ 0: the scalar tail runs too
  return Float32Array.from(xs);
}

/** Worst error (in ulps) over the grid points `where` selects, and where it happens. */
function worst(xs: Float32Array, got: ArrayLike<number>, ref: (i: number) => number, where: (x: number) => boolean = () => true) {
  let max = 0;
  let at = NaN;
  for (let i = 0; i < xs.length; i++) {
    if (!where(xs[i])) continue;
    const e = ulps(got[i], ref(i));
    if (e > max || (e === max && Number.isNaN(at))) [max, at] = [e, xs[i]];
  }
  return { max, at };
}

describe('activations on wasm float32 against float64 formulas', () => {
  const xs = activationGrid();
  const run = (op: string) => take(T.unary(op as T.UnaryOp, f32t(xs, [xs.length])));

  // Tolerances, from the kernels' arithmetic: every op is a handful of float32 operations on a polynomial exp / expm1
  // accurate to ~2 ulp (Cody–Waite reduction with ln2 split in two, degree-7 Taylor series), and the float32
  // constants λ, λα (each within ½ ulp of the real constant) add one rounding. So a correctly written kernel stays
  // within a few ulps: 4 is asserted. Worst cases measured on this grid (kernels of commit 92f8f7d / 6933921):
  // selu 1.78 ulp (x ≈ −0.143), tanh 2.44 ulp (x ≈ −4.226), sigmoid 2.39 ulp (x ≈ −2.724), silu 2.86 ulp
  // (x ≈ −3.209), relu exact. (Before 92f8f7d, σ was built as expm1 + 1 and lost all relative precision for x < −3:
  // 16.8 million ulp, σ(x) = 0 for x ≤ −17.) Below x = −87, the clamp of exp's argument: see "was a bug" below.
  const BOUND: Record<string, number> = { relu: 0, selu: 4, tanh: 4, sigmoid: 4, silu: 4 };
  /** sigmoid and silu are held to the ulp bound on x ≥ −87 (the range of the exp; "was a bug" below). */
  const domain: Record<string, (x: number) => boolean> = { sigmoid: (x) => !(x < -87), silu: (x) => !(x < -87) };

  for (const op of ACTS) {
    const limits = op === 'sigmoid' || op === 'silu' ? 'x ≥ −87, NaN → NaN, +∞' : `NaN → ${op === 'relu' ? '0, as in the op table' : 'NaN'}, ±∞`;
    it(`${op}: within ${BOUND[op]} ulp of the float64 value (${limits}, ±0, subnormals and huge values included)`, () => {
      const got = run(op);
      const w = worst(xs, got, (i) => FORWARD[op](xs[i]), domain[op]);
      expect(w.max, `${op}: worst ${w.max} ulp at x = ${w.at}`).toBeLessThanOrEqual(BOUND[op]);
      // special values, one by one
      const at = (x: number) => got[xs.indexOf(x)];
      if (op !== 'relu') expect(got[xs.findIndex(Number.isNaN)]).toBeNaN();
      expect(at(0) === (op === 'sigmoid' ? 0.5 : 0)).toBe(true); // the sign of a zero result: see the "was a bug" below
      expect(at(Infinity)).toBe(op === 'tanh' || op === 'sigmoid' ? 1 : Infinity);
      if (op === 'selu' || op === 'relu' || op === 'tanh') {
        const minusInf = { selu: fround(-LAMBDA * ALPHA), relu: 0, tanh: -1 }[op];
        expect(Math.abs(at(-Infinity) - minusInf)).toBeLessThanOrEqual(ulp32(minusInf));
      }
    });
  }

  // Was a bug (cosmetic, fixed): signed zeros. The float64 definitions give tanh(+0) = +0 and selu(−0) = λα·expm1(−0)
  // = −0; the kernels give tanh(+0) = −0 (t = −u/(2 + u) with u = expm1(−0) = +0 is −0, and OR-ing in x's sign bit
  // cannot clear it) and selu(−0) = +0 (the polynomial expm1 returns +0 for −0). 1/tanh(0) is then −∞.
  it('was a bug: signed zeros follow the float64 definitions (tanh(+0) = +0, selu(−0) = −0)', () => {
    const got = take(T.unary('tanh', f32t([0, -0, 0, -0, 0], [5])));
    const sel = take(T.unary('selu', f32t([0, -0, 0, -0, 0], [5])));
    for (const [i, x] of [0, -0, 0, -0, 0].entries()) {
      expect(Object.is(got[i], Math.tanh(x)), `tanh(${Object.is(x, -0) ? '-0' : '+0'}) = ${Object.is(got[i], -0) ? '-0' : got[i]}`).toBe(true);
      expect(Object.is(sel[i], FORWARD.selu(x)), `selu(${Object.is(x, -0) ? '-0' : '+0'}) = ${Object.is(sel[i], -0) ? '-0' : sel[i]}`).toBe(true);
    }
  });

  it('an element gets the same result in every SIMD lane and in the scalar tail (shifted copies agree bit for bit)', () => {
    const base = xs.subarray(0, 4001);
    for (const op of ACTS) {
      const ref = run0(op, base);
      for (const shift of [1, 2, 3]) {
        const shifted = new Float32Array(base.length + shift);
        shifted.set(base, shift);
        const got = run0(op, shifted).subarray(shift);
        for (let i = 0; i < base.length; i++) {
          if (!Object.is(got[i], ref[i])) expect.fail(`${op}(${base[i]}) = ${ref[i]} at position ${i}, ${got[i]} at position ${i + shift}`);
        }
      }
    }
    function run0(op: string, x: Float32Array) {
      return take(T.unary(op as T.UnaryOp, f32t(x, [x.length])));
    }
  });
});

/**
 * Was a bug (found by these tests, fixed): $exp clamped its argument to [−87, 88], so for x < −87 σ(x) = e^(−|x|)/(1 + …)
 * stayed at e^(−87) ≈ 1.65e-38 instead of decaying (to subnormals, then 0), and silu(x) = x·σ(x) grew without bound:
 * silu(−1e30) = −1.6e-8, silu(−3.4e38) = −5.6, silu(−∞) = −∞, where the float64 values are ≈ −0 (the js backend:
 * 0, 0, NaN). Now $exp reaches the subnormals (2ᵏ applied in two normal factors) and is 0 below −104.
 * Criterion: within 4 ulp of the float64 value where that is a normal float32, else at most the smallest normal in
 * magnitude (flushing subnormals to 0 is accepted); at −∞: σ = 0, and silu, siluGrad not −∞ (0 or NaN). silu and
 * siluGrad multiply σ(x) by x: where σ(x) is itself subnormal (x < −87.3) its rounding, at most 2⁻¹⁵⁰, is scaled by
 * |x|, so an absolute |x|·2⁻¹⁴⁹ is allowed there too (silu(−90) is off by 4.8e-7 relative: σ(−90) has 10 bits).
 */
describe('activations for x < −87', () => {
  const TAIL = [-87.5, -88, -90, -95, -100, -104, -110, -150, -1e4, -1e30, -3.4e38];
  const check = (name: string, got: ArrayLike<number>, ref: (x: number) => number, atol: (x: number) => number = () => 0) => {
    for (const [i, x] of TAIL.entries()) {
      const r = ref(x);
      const ok = Math.abs(got[i] - r) <= atol(x) || (Math.abs(r) >= 2 ** -126 ? ulps(got[i], r) <= 4 : Math.abs(got[i]) <= 2 ** -126);
      if (!ok) expect.fail(`${name}(${x}) = ${got[i]}, float64 ${r}`);
    }
  };
  const xs = [...TAIL, -Infinity];
  const ones = xs.map(() => 1);

  it('was a bug: sigmoid(x) decays to 0 below x = −87 (stuck at e^(−87) ≈ 1.65e-38)', () => {
    const got = take(T.sigmoid(f32t(xs, [xs.length])));
    check('sigmoid', got, sigmoid);
    expect(got[TAIL.length]).toBe(0);
  });
  it('was a bug: silu(x) → 0 below x = −87 (silu(−3.4e38) = −5.6, silu(−∞) = −∞)', () => {
    const got = take(T.silu(f32t(xs, [xs.length])));
    check('silu', got, FORWARD.silu, (x) => Math.abs(x) * 2 ** -149);
    expect(got[TAIL.length]).not.toBe(-Infinity);
  });
  it('was a bug: siluGrad(x) → 0 below x = −87', () => {
    const got = take(T.unaryGrad('silu', f32t(xs, [xs.length]), f32t(xs.map(FORWARD.silu), [xs.length]), f32t(ones, [xs.length])));
    check('siluGrad', got, (x) => DERIV.silu(x, 0), (x) => (Math.abs(x) + 1) * 2 ** -149);
    expect(got[TAIL.length]).not.toBe(-Infinity);
  });
  it('selu, relu and tanh are right there (their exp argument is clamped where its value no longer matters)', () => {
    for (const op of ['selu', 'relu', 'tanh'] as const) check(op, take(T.unary(op, f32t(TAIL, [TAIL.length]))), FORWARD[op]);
  });
});

describe('activation derivatives (unaryGrad) on wasm float32 against float64 formulas', () => {
  const xs = activationGrid();
  const rng = testRandom(77);
  const dy = Float32Array.from(xs, (_, i) => (i % 97 === 0 ? 1 : i % 89 === 0 ? 0 : fround(-2 + 4 * rng())));

  // Bound: |got − ref| ≤ 4 ulp(ref) + |dy|·c·ε₃₂, where ref = dy·f'(x, y) is evaluated in float64 on the same float32
  // inputs (y = f(x) rounded to float32). The absolute term is the cancellation the float32 formulas have by nature:
  // tanh' = 1 − y² (y² rounded: ≤ 2⁻²⁵ of 1), selu' = y + λα (λα rounded to float32: ≤ ½ ulp of 1.76), silu' =
  // σ(1 + x(1 − σ)) from σ(x) recomputed in float32 (1 − σ loses ≤ ½ ulp of 1, times |x|; that matters only while
  // e^(−|x|) ≳ ε, i.e. |x| ≲ 20); sigmoid' = y(1 − y) and relu' have none (c = 0).
  // Measured relative to ref where c = 0: relu' exact, sigmoid' 1.75 ulp; tanh' reaches ~1400 ulp near |x| ≈ 4.7 (all
  // of it the 1 − y² cancellation, inside the absolute term). siluGrad is checked for x ≥ −87 ("was a bug" above).
  const C: Record<string, (x: number) => number> = { relu: () => 0, sigmoid: () => 0, tanh: () => 1, selu: () => 2, silu: (x) => 2 * (1 + Math.min(Math.abs(x), 20)) };

  for (const op of ACTS) {
    it(`${op}Grad: within 4 ulp + |dy|·c·ε₃₂ of dy·${op}'(x) (NaN and ±∞ included${op === 'silu' ? '; x ≥ −87' : ''})`, () => {
      const y = Float32Array.from(xs, (x) => FORWARD[op](x));
      const got = take(T.unaryGrad(op as T.UnaryOp, f32t(xs, [xs.length]), f32t(y, [y.length]), f32t(dy, [dy.length])));
      let worstUlp = 0;
      for (let i = 0; i < xs.length; i++) {
        const x = xs[i];
        if (op === 'silu' && x < -87) continue;
        const ref = dy[i] * DERIV[op](x, y[i]);
        if (!Number.isFinite(ref)) {
          if (!(Object.is(got[i], ref) || (Number.isNaN(got[i]) && Number.isNaN(ref)))) expect.fail(`${op}Grad at x = ${x}: got ${got[i]}, expected ${ref}`);
          continue;
        }
        const tol = 4 * ulp32(ref) + Math.abs(dy[i]) * C[op](x) * EPS32;
        if (!(Math.abs(got[i] - ref) <= tol)) expect.fail(`${op}Grad at x = ${x}, y = ${y[i]}, dy = ${dy[i]}: got ${got[i]}, float64 ${ref}, tol ${tol}`);
        if (C[op](x) === 0) worstUlp = Math.max(worstUlp, ulps(got[i], ref));
      }
      if (op === 'relu' || op === 'sigmoid') expect(worstUlp).toBeLessThanOrEqual(op === 'relu' ? 0 : 4);
    });
  }
});

// --------------------------------------------------------------------------------------------- binary arithmetic

describe('add / sub / mul / div on wasm float32 with broadcasting: exactly the float64 result rounded once', () => {
  /** Values with zeros of both signs, infinities, NaN, subnormals and overflow-prone magnitudes among the random ones. */
  function values(rng: () => number, n: number): Float32Array {
    const specials = [0, -0, Infinity, -Infinity, NaN, 1e-40, -3e-39, 3e38, -2.5e38, 1, -1];
    return Float32Array.from({ length: n }, (_, i) => (i % 13 === 5 ? specials[Math.floor(rng() * specials.length)] : fround(-4 + 8 * rng())));
  }
  const LAYOUTS: [number[], number[]][] = [
    [[7, 13], [7, 13]],
    [[1001], [1001]],
    [[3], [3]],
    [[5, 7], []],
    [[], [5, 7]],
    [[6, 9], [1]],
    [[1, 1], [6, 9]],
    [[4, 13], [13]],
    [[13], [4, 13]],
    [[9, 4], [4]],
    [[7, 1], [7, 6]],
    [[7, 6], [7, 1]],
    [[5, 1], [1, 11]],
    [[2, 3, 5], [3, 5]],
    [[2, 1, 5], [1, 3, 1]],
    [[2, 3, 1], [1, 1, 7]],
    [[4, 1, 6], [4, 5, 1]],
    [[3, 4, 9], [3, 1, 9]],
    [[3, 4, 9], [3, 4, 1]],
    [[1, 4, 1], [3, 1, 2]],
    [[0, 5], [5]],
  ];

  for (const op of ['add', 'sub', 'mul', 'div'] as const) {
    it(`${op} on ${LAYOUTS.length} layouts (same shape, scalar either side, row and column broadcasts, 3-D, n mod 4 ≠ 0)`, () => {
      const rng = testRandom(op.length * 17 + op.charCodeAt(0));
      for (const [sa, sb] of LAYOUTS) {
        const a = values(rng, size(sa));
        const b = values(rng, size(sb));
        const out = T.binary(op, f32t(a, sa), f32t(b, sb));
        const ref = zipRef(BINARY_REF[op], a, sa, b, sb);
        expect(out.shape).toEqual(ref.shape);
        const got = take(out);
        for (let i = 0; i < ref.data.length; i++) {
          const want = fround(ref.data[i]);
          if (!(Object.is(got[i], want) || (Number.isNaN(got[i]) && Number.isNaN(want)))) {
            expect.fail(`${op} ${JSON.stringify(sa)} ∘ ${JSON.stringify(sb)}: element ${i} = ${got[i]}, expected ${want}`);
          }
        }
      }
    });
  }

  it('number operands on either side (lifted to float32 scalars) and row broadcasts over every width 1…17', () => {
    const rng = testRandom(3);
    for (let n = 1; n <= 17; n++) {
      const x = values(rng, 5 * n);
      const row = values(rng, n);
      const X = f32t(x, [5, n]);
      const R = f32t(row, [n]);
      const s = fround(-1.7 + rng());
      const cases: [T.Tensor, (i: number) => number][] = [
        [T.add(X, R), (i) => x[i] + row[i % n]],
        [T.mul(R, X), (i) => row[i % n] * x[i]],
        [T.sub(s, X), (i) => s - x[i]],
        [T.div(X, s), (i) => x[i] / s],
      ];
      for (const [out, f] of cases) {
        const got = take(out);
        for (let i = 0; i < got.length; i++) {
          const want = fround(f(i));
          if (!(Object.is(got[i], want) || (Number.isNaN(got[i]) && Number.isNaN(want)))) expect.fail(`n=${n}: element ${i} = ${got[i]}, expected ${want}`);
        }
      }
    }
  });

  /**
   * On a fresh non-shared wasm backend: b = ones(4, 8), then `a` created last so that its block ends exactly at the end
   * of the WebAssembly memory, with a free block of the output's size class below (the product reuses it: no growth).
   */
  function atMemoryEnd(aData: number[], aShape: number[], run: (a: T.Tensor, b: T.Tensor) => void) {
    const be = T.createWasmBackend(I.compileKernels(false), 'wasm-edge');
    T.registerBackend('wasm-edge', () => be);
    T.setBackend('wasm-edge');
    try {
      const heap = be.parts.heap;
      const b = T.ones([4, 8]);
      const aBytes = I.blockSize(4 * aData.length);
      const hold = heap.alloc(4 * 4 * 8);
      const end = () => heap.memory.buffer.byteLength;
      for (let left = end() - heap.reservedBytes - aBytes; left > 0; left = end() - heap.reservedBytes - aBytes) heap.alloc(2 ** Math.floor(Math.log2(left)));
      const a = T.tensor(Float32Array.from(aData), { shape: aShape });
      heap.free(hold);
      const block = a.storageFor('test').storage as { ptr: number; bytes: number };
      expect(block.ptr + block.bytes).toBe(end()); // the precondition: a's block is the last bytes of the memory
      const before = end();
      run(a, b);
      expect(end()).toBe(before); // the output came from the free list
    } finally {
      T.setBackend('wasm');
    }
  }

  it('an operand whose block ends exactly at the end of the memory: row broadcast and same-shape ops work (control)', () => {
    atMemoryEnd([1, 2, 3, 4, 5, 6, 7, 8], [8], (a, b) => expect(T.mul(a, b).toArray()).toEqual(new Array(4).fill([1, 2, 3, 4, 5, 6, 7, 8])));
    atMemoryEnd(new Array(32).fill(2), [4, 8], (a, b) => expect(T.add(a, b).toArray()).toEqual(new Array(4).fill(new Array(8).fill(3))));
  });

  // Was a bug (fixed): the binary kernels evaluated both arms of `select (v128.load a) (f32x4.splat (f32.load a))`,
  // so a broadcast operand (stride 0) was still read as a whole v128: up to 12 bytes past its last element. When that
  // operand's block ended at the end of the WebAssembly memory, the op trapped with "memory access out of bounds"
  // (column broadcasts, (B,1) with (B,N), N ≥ 4, whose output comes from the free list: no growth first).
  it('was a bug: a column-broadcast operand (4,1) whose block ends exactly at the end of the memory does not trap', () => {
    atMemoryEnd([1, 2, 3, 4], [4, 1], (a, b) => {
      let out;
      try {
        out = T.mul(a, b).toArray();
      } catch (e) {
        if (/memory access out of bounds/.test(String(e))) throw e; // the bug
        console.error('unexpected error', e);
        return;
      }
      expect(out).toEqual([1, 2, 3, 4].map((v) => new Array(8).fill(v)));
    });
  });
});

// ---------------------------------------------------------------------------------------------------------- sums

describe('sum over leading axes on wasm float32: the float64 sum in row order, rounded once', () => {
  /** Values spread over 16 binades, so that a float32 accumulator (or another order) would give different results. */
  const spread = (rng: () => number, n: number) => Float32Array.from({ length: n }, () => fround((rng() - 0.5) * 2 ** (16 * rng() - 8)));

  function expectSum(x: Float32Array, shape: number[], axes: number[], keepdims = false) {
    const out = T.sum(f32t(x, shape), axes, keepdims);
    const ref = reduceRef(x, shape, axes, (acc, v) => acc + v, 0); // float64, in the order of the flat index
    const want = ref.data.map(fround);
    expect(out.shape).toEqual(keepdims ? ref.keptShape : shape.filter((_, i) => !axes.includes(i)));
    const got = take(out);
    for (let i = 0; i < want.length; i++) {
      if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
        expect.fail(`sum ${JSON.stringify(shape)} over ${JSON.stringify(axes)}: element ${i} = ${got[i]}, expected ${want[i]}`);
      }
    }
  }

  it('sum(x, 0) on (B, N) for N = 1…13 and B up to 300 (vector columns and the N mod 4 tail)', () => {
    const rng = testRandom(11);
    for (const b of [1, 2, 7, 64, 300]) for (let n = 1; n <= 13; n++) expectSum(spread(rng, b * n), [b, n], [0]);
  });

  it('sum(x, 0) on (B, N) with N from 16 (16 columns at a time, then 4, then the tail)', () => {
    const rng = testRandom(13);
    for (const b of [1, 5, 256]) for (const n of [16, 17, 19, 20, 31, 33, 35, 64]) expectSum(spread(rng, b * n), [b, n], [0]);
  });

  it('sum(x, [0, 1]) on 3-D tensors, keepdims, a full sum, empty batches (zeros), and ±∞ / NaN columns', () => {
    const rng = testRandom(12);
    for (const [a, b, n] of [[3, 5, 7], [2, 9, 4], [1, 1, 9], [4, 33, 3], [5, 2, 1]]) {
      const x = spread(rng, a * b * n);
      expectSum(x, [a, b, n], [0, 1]);
      expectSum(x, [a, b, n], [0], true);
      expectSum(x, [a, b, n], [0, 1, 2]);
    }
    expectSum(new Float32Array(0), [0, 6], [0]);
    expectSum(new Float32Array(0), [3, 0, 5], [0, 1]);
    const x = spread(rng, 4 * 6);
    x[1] = Infinity;
    x[7] = -Infinity; // column 1: ∞ − ∞ = NaN
    x[2] = NaN;
    x[5] = Infinity;
    expectSum(x, [4, 6], [0]);
  });

  it('sums over other axes (the js fallback on the same memory) agree with the reference too', () => {
    const rng = testRandom(13);
    const x = spread(rng, 3 * 4 * 5);
    for (const axes of [[1], [2], [1, 2], [0, 2]]) {
      const out = T.sum(f32t(x, [3, 4, 5]), axes);
      const ref = reduceRef(x, [3, 4, 5], axes, (acc, v) => acc + v, 0);
      expectClose(take(out), ref.data, { rtol: 2 * EPS32, atol: 0 });
    }
  });
});

// ------------------------------------------------------------------------------------------- float64 and int32

describe('float64 and int32 tensors on the wasm backend (js kernels on views of the wasm memory)', () => {
  it('float64: arithmetic with broadcasting, unary ops, sums and matmul match float64 references', () => {
    const rng = testRandom(21);
    const a = Float64Array.from(randomValues(rng, 4 * 6));
    const row = Float64Array.from(randomValues(rng, 6));
    const A = T.tensor(a, { shape: [4, 6] });
    const R = T.tensor(row);
    expect(A.backend).toBe('wasm');
    for (const op of ['add', 'sub', 'mul', 'div'] as const) {
      const out = T.binary(op, A, R);
      expect(out.dtype).toBe('float64');
      expect(Array.from(out.data)).toEqual(zipRef(BINARY_REF[op], a, [4, 6], row, [6]).data);
    }
    for (const op of ['tanh', 'sigmoid', 'selu', 'silu', 'relu'] as const) {
      expectClose(T.unary(op, A).data, Array.from(a, FORWARD[op]), { rtol: 4 * EPS64, atol: 4 * EPS64 });
    }
    expectClose(T.sum(A, 0).data, reduceRef(a, [4, 6], [0], (s, v) => s + v, 0).data, { rtol: 4 * EPS64, atol: 0 });
    const b = Float64Array.from(randomValues(rng, 3 * 6 * 5));
    for (const [tA, tB] of FLAGS) {
      const Am = T.tensor(a, { shape: tA ? [6, 4] : [4, 6] });
      const Bm = T.tensor(b, { shape: tB ? [3, 5, 6] : [3, 6, 5] });
      const out = T.matmul(Am, Bm, { transA: tA, transB: tB });
      expect(out.shape).toEqual([3, 4, 5]);
      for (let i = 0; i < 3; i++) {
        const ref = matmulRef(a, b.subarray(i * 30, (i + 1) * 30), 4, 5, 6, tA, tB);
        expectClose(out.data.subarray(i * 20, (i + 1) * 20), ref, { rtol: 0, atol: 1e-14 });
      }
    }
  });

  it('int32: arithmetic, relu, sums, argmax and casts are exact', () => {
    const rng = testRandom(22);
    const a = Int32Array.from({ length: 5 * 7 }, () => Math.floor(-1000 + 2000 * rng()));
    const row = Int32Array.from({ length: 7 }, () => Math.floor(-50 + 100 * rng()));
    const A = T.tensor(a, { shape: [5, 7] });
    const R = T.tensor(row);
    expect(A.backend).toBe('wasm');
    for (const op of ['add', 'sub', 'mul'] as const) {
      const out = T.binary(op, A, R);
      expect(out.dtype).toBe('int32');
      expect(Array.from(out.data)).toEqual(zipRef(BINARY_REF[op], a, [5, 7], row, [7]).data);
    }
    expect(Array.from(T.relu(A).data)).toEqual(Array.from(a, (v) => Math.max(v, 0)));
    expect(Array.from(T.sum(A, 0).data)).toEqual(reduceRef(a, [5, 7], [0], (s, v) => s + v, 0).data);
    expect(Array.from(T.argmax(A, 1).data)).toEqual(
      Array.from({ length: 5 }, (_, i) => {
        const r = Array.from(a.subarray(i * 7, (i + 1) * 7));
        return r.indexOf(Math.max(...r));
      }),
    );
    const asFloat = T.cast(A, 'float32');
    expect(asFloat.dtype).toBe('float32');
    expect(Array.from(T.cast(T.mul(asFloat, 2), 'int32').data)).toEqual(Array.from(a, (v) => 2 * v));
  });
});
