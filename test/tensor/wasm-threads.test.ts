// The wasm backend's matmuls split by rows of C between worker threads (initThreads): bit-for-bit the product a
// single-threaded wasm backend computes (every row is computed the same way whatever the split), for odd sizes,
// every transpose flag and batches, and still after the shared memory has grown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import * as I from '@rill/tensor/internals';
import { initThreads, stopThreads, WASM_PARALLEL_MIN_WORK } from '@rill/tensor/threads';
import { EPS32 } from '../helpers/close.js';
import { FLAGS, randomValues, testRandom } from '../helpers/reference.js';


let threads = 0;
/** A second wasm backend on its own (non-shared) memory: always one thread. */
let solo: T.WasmBackend;

beforeAll(async () => {
  T.setBackend('wasm');
  threads = await initThreads(2);
  solo = T.createWasmBackend(I.compileKernels(false), 'wasm-solo');
  T.registerBackend('wasm-solo', () => solo);
});
afterAll(async () => {
  T.setBackend('cpu');
  await stopThreads();
});

const wasm = () => T.getBackend() as T.WasmBackend;

/** op(A)·op(B) of float32 data on the backend `name`, as a copy. */
function product(name: string, a: Float32Array, sa: number[], b: Float32Array, sb: number[], transA: boolean, transB: boolean): Float32Array {
  T.setBackend(name);
  const A = T.tensor(a, { shape: sa });
  const B = T.tensor(b, { shape: sb });
  const C = T.matmul(A, B, { transA, transB });
  expect(C.backend).toBe(name);
  const out = Float32Array.from(C.data);
  for (const t of [A, B, C]) t.dispose();
  T.setBackend('wasm');
  return out;
}

/** The first index where the float32 bit patterns differ, or −1. */
function firstBitDifference(x: Float32Array, y: Float32Array): number {
  if (x.length !== y.length) return 0;
  const bx = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const by = new Uint32Array(y.buffer, y.byteOffset, y.length);
  for (let i = 0; i < bx.length; i++) if (bx[i] !== by[i]) return i;
  return -1;
}

/** Checks C (batch × M × N) against the float64 product within the float32 dot-product bound (see matmul tests). */
function expectNearFloat64(c: Float32Array, a: Float32Array, b: Float32Array, batchA: number, batchB: number, m: number, n: number, k: number, tA: boolean, tB: boolean) {
  const batch = Math.max(batchA, batchB);
  for (let q = 0; q < batch; q++) {
    const ao = batchA === 1 ? 0 : q * m * k;
    const bo = batchB === 1 ? 0 : q * k * n;
    // sample rows: the first and last of each thread's part and some in between (a full float64 check is slow)
    for (const i of new Set([0, 1, 3, 4, 7, 8, (m >> 1) - 1, m >> 1, (m >> 1) + 1, m - 5, m - 2, m - 1].filter((r) => r >= 0 && r < m))) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        let abs = 0;
        for (let p = 0; p < k; p++) {
          const t = a[ao + (tA ? p * m + i : i * k + p)] * b[bo + (tB ? j * k + p : p * n + j)];
          s += t;
          abs += Math.abs(t);
        }
        const got = c[q * m * n + i * n + j];
        if (!(Math.abs(got - s) <= 2 * EPS32 * k * abs)) expect.fail(`batch ${q} C[${i},${j}] = ${got}, float64 ${s}`);
      }
    }
  }
}

/** A random product on `wasm` (threaded) and on `wasm-solo` (one thread): the same bits, and near float64. */
function expectThreadedSame(rng: () => number, m: number, k: number, n: number, tA: boolean, tB: boolean, label: string): void {
  const a = Float32Array.from(randomValues(rng, m * k));
  const b = Float32Array.from(randomValues(rng, k * n));
  const sa = tA ? [k, m] : [m, k];
  const sb = tB ? [n, k] : [k, n];
  const threaded = product('wasm', a, sa, b, sb, tA, tB);
  const single = product('wasm-solo', a, sa, b, sb, tA, tB);
  const at = firstBitDifference(threaded, single);
  expect(at, `${label}: element ${at}: ${threaded[at]} vs ${single[at]}`).toBe(-1);
  expectNearFloat64(threaded, a, b, 1, 1, m, n, k, tA, tB);
}

describe('wasm matmul on worker threads', () => {
  it('runs on 2 threads over the wasm backend\'s shared memory', () => {
    expect(threads).toBe(2);
    expect(wasm().name).toBe('wasm');
    expect(wasm().parts.heap.shared).toBe(true);
    expect(wasm().parts.rows).not.toBe(solo.parts.rows); // the threaded row splitter is installed
  });

  it('129×257×131 (odd, above WASM_PARALLEL_MIN_WORK) with every flag: bit-identical to one thread, near float64', () => {
    const [m, k, n] = [129, 257, 131];
    expect(m * n * k).toBeGreaterThanOrEqual(WASM_PARALLEL_MIN_WORK);
    const rng = testRandom(1);
    for (const [tA, tB] of FLAGS) expectThreadedSame(rng, m, k, n, tA, tB, `transA=${tA} transB=${tB}`);
  });

  it('shapes around the split: M from 8 (the smallest threaded) to 13, N < 8 (edge columns only), K = 1', () => {
    const rng = testRandom(2);
    for (const [m, n, k] of [[8, 1024, 513], [9, 700, 700], [11, 640, 600], [13, 601, 541], [1025, 7, 600], [4099, 1025, 1]]) {
      const tA = m % 2 === 1;
      const tB = n % 2 === 1;
      expect(m * n * k).toBeGreaterThanOrEqual(WASM_PARALLEL_MIN_WORK);
      expectThreadedSame(rng, m, k, n, tA, tB, `${m}×${k}×${n}`);
    }
  });

  it('batched, with a batch of 1 and a 2D operand broadcast, every flag: bit-identical to one thread', () => {
    const rng = testRandom(3);
    const [bs, m, k, n] = [3, 133, 129, 251];
    expect(m * n * k).toBeGreaterThanOrEqual(WASM_PARALLEL_MIN_WORK);
    for (const [tA, tB] of FLAGS) {
      const aMat = tA ? [k, m] : [m, k];
      const bMat = tB ? [n, k] : [k, n];
      for (const [sa, sb] of [
        [[bs, ...aMat], [bs, ...bMat]],
        [[1, ...aMat], [bs, ...bMat]],
        [[bs, ...aMat], bMat],
      ]) {
        const a = Float32Array.from(randomValues(rng, sa.reduce((p, d) => p * d, 1)));
        const b = Float32Array.from(randomValues(rng, sb.reduce((p, d) => p * d, 1)));
        const threaded = product('wasm', a, sa, b, sb, tA, tB);
        const single = product('wasm-solo', a, sa, b, sb, tA, tB);
        expect(threaded.length).toBe(bs * m * n);
        const at = firstBitDifference(threaded, single);
        expect(at, `${JSON.stringify(sa)} @ ${JSON.stringify(sb)} transA=${tA} transB=${tB}: element ${at}`).toBe(-1);
        const batchA = sa.length === 3 ? sa[0] : 1;
        const batchB = sb.length === 3 ? sb[0] : 1;
        expectNearFloat64(threaded, a, b, batchA, batchB, m, n, k, tA, tB);
      }
    }
  });

  it('a layer\'s backward products (dz·Wᵀ and xᵀ·dz, one job whose chunks are the rows of both): the bits of one thread and of two matmuls', () => {
    expect(wasm().parts.pair).not.toBe(solo.parts.pair); // the threaded pair runner
    const rng = testRandom(6);
    // (B, In, Out): equal products (run as a pair), unequal ones (split one after the other), and a thin output layer
    for (const [rows, inputs, outputs] of [[256, 64, 64], [130, 67, 61], [256, 64, 200], [256, 64, 2], [256, 3, 64]]) {
      const x = Float32Array.from(randomValues(rng, rows * inputs));
      const w = Float32Array.from(randomValues(rng, inputs * outputs));
      const dz = Float32Array.from(randomValues(rng, rows * outputs));
      const run = (name: string, alone: boolean) => {
        T.setBackend(name);
        const [tx, tw, tdz] = [T.tensor(x, { shape: [rows, inputs] }), T.tensor(w, { shape: [inputs, outputs] }), T.tensor(dz, { shape: [rows, outputs] })];
        const { dx, dw } = alone
          ? { dx: T.matmul(tdz, tw, { transB: true }), dw: T.matmul(tx, tdz, { transA: true }) }
          : T.linearBackwardProducts(tx, tw, tdz, { x: true, w: true });
        const out = [Float32Array.from(dx!.data), Float32Array.from(dw!.data)];
        T.dispose([tx, tw, tdz, dx, dw]);
        T.setBackend('wasm');
        return out;
      };
      const [paired, single, separate] = [run('wasm', false), run('wasm-solo', false), run('wasm', true)];
      for (const [i, name] of [[0, 'dx'], [1, 'dw']] as const) {
        expect(firstBitDifference(paired[i], single[i]), `${rows}×${inputs}×${outputs} ${name} vs one thread`).toBe(-1);
        expect(firstBitDifference(paired[i], separate[i]), `${rows}×${inputs}×${outputs} ${name} vs T.matmul`).toBe(-1);
      }
      expectNearFloat64(paired[0], dz, w, 1, 1, rows, inputs, outputs, false, true);
      expectNearFloat64(paired[1], x, dz, 1, 1, inputs, outputs, rows, true, false);
    }
  });

  it('after the shared memory grew past its size at initThreads, the workers still read and write the new pages', () => {
    const heap = wasm().parts.heap;
    const before = heap.memory.buffer.byteLength;
    const filler = [T.zeros([1 << 22]), T.zeros([1 << 22])]; // 32 MiB above everything so far
    expect(heap.memory.buffer.byteLength).toBeGreaterThan(before + (16 << 20));
    const [m, k, n] = [257, 129, 131];
    const rng = testRandom(4);
    const a = Float32Array.from(randomValues(rng, m * k));
    const b = Float32Array.from(randomValues(rng, k * n));
    const threaded = product('wasm', a, [m, k], b, [k, n], false, false);
    const single = product('wasm-solo', a, [m, k], b, [k, n], false, false);
    expect(firstBitDifference(threaded, single)).toBe(-1);
    expectNearFloat64(threaded, a, b, 1, 1, m, n, k, false, false);
    for (const t of filler) t.dispose();
  });

  it('the same backend after stopThreads gives the same bits (then threads start again)', async () => {
    const [m, k, n] = [131, 257, 129];
    const rng = testRandom(5);
    const a = Float32Array.from(randomValues(rng, m * k));
    const b = Float32Array.from(randomValues(rng, n * k));
    const threaded = product('wasm', a, [m, k], b, [n, k], false, true);
    const rows = wasm().parts.rows;
    await stopThreads();
    expect(wasm().parts.rows).not.toBe(rows);
    const single = product('wasm', a, [m, k], b, [n, k], false, true);
    expect(firstBitDifference(threaded, single)).toBe(-1);
    expect(await initThreads(2)).toBe(2);
    expect(wasm().parts.rows).toBe(rows);
  });
});

describe('wasm elementwise kernels split between threads', () => {
  /** op on `wasm` (threaded) and on `wasm-solo`, as copies. */
  function both(fn: () => T.Tensor): [Float32Array, Float32Array] {
    const run = (name: string) => {
      T.setBackend(name);
      const out = fn();
      expect(out.backend).toBe(name);
      const copy = Float32Array.from(out.data);
      out.dispose();
      T.setBackend('wasm');
      return copy;
    };
    return [run('wasm'), run('wasm-solo')];
  }

  it('activations, their derivatives and broadcast arithmetic over 2¹⁶ + 3 … 300 001 elements: the same bits as one thread, and right', () => {
    expect(wasm().parts.split).not.toBe(solo.parts.split); // the threaded runner, not the single-thread one
    const rng = testRandom(17);
    for (const n of [(1 << 16) + 3, 300_001]) {
      const xs = Float32Array.from(randomValues(rng, n));
      const ys = Float32Array.from(randomValues(rng, n));
      const make = (v: Float32Array) => T.tensor(v);
      const cases: [string, () => T.Tensor][] = [
        ['silu', () => T.silu(make(xs))],
        ['tanh', () => T.tanh(make(xs))],
        ['add', () => T.add(make(xs), make(ys))],
        ['mul by a scalar', () => T.mul(make(xs), 3)],
        ['sub from a scalar', () => T.sub(2, make(ys))],
        ['siluGrad', () => T.unaryGrad('silu', make(xs), T.silu(make(xs)), make(ys))],
        ['adam (θ)', () => T.adamUpdate(make(xs), make(ys), T.mul(make(ys), 0.1), T.square(make(xs)), { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 3 }).param],
        ['adam (v)', () => T.adamUpdate(make(xs), make(ys), T.mul(make(ys), 0.1), T.square(make(xs)), { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 3 }).v],
      ];
      for (const [name, fn] of cases) {
        const [threaded, single] = both(fn);
        expect(firstBitDifference(threaded, single), `${name}, n = ${n}`).toBe(-1);
      }
      const [sum] = both(() => T.add(make(xs), make(ys)));
      for (const i of [0, 1, n >> 1, n - 2, n - 1]) expect(sum[i]).toBe(Math.fround(xs[i] + ys[i]));
      const [act] = both(() => T.silu(make(xs)));
      for (const i of [0, n >> 1, n - 1]) expect(Math.abs(act[i] - xs[i] / (1 + Math.exp(-xs[i])))).toBeLessThan(1e-5 * (1 + Math.abs(xs[i])));
    }
  });
});

describe('chunks claimed from both ends (the threads\' job protocol)', () => {
  it('the main thread from the front, workers from the back: every chunk exactly once, then none for either', () => {
    for (const chunks of [1, 2, 7, I.MAX_CHUNKS]) {
      const ctrl = new Int32Array(I.CTRL_COUNT);
      Atomics.store(ctrl, I.CHUNKS, chunks << I.CHUNK_BITS);
      const claimed: number[] = [];
      for (let turn = 0; ; turn++) {
        const c = I.claimChunk(ctrl, turn % 3 !== 2); // two from the front for each one from the back
        if (c < 0) break;
        claimed.push(c);
      }
      expect([...claimed].sort((a, b) => a - b)).toEqual(Array.from({ length: chunks }, (_, i) => i));
      expect([I.claimChunk(ctrl, true), I.claimChunk(ctrl, false)]).toEqual([-1, -1]);
      if (chunks >= 3) expect(claimed.slice(0, 3)).toEqual([0, 1, chunks - 1]);
    }
  });

  it('repeated jobs, the worker claiming a different share each time (waking late or early), give one thread\'s bits', () => {
    // whoever claims a chunk, its rows are computed the same way
    const rng = testRandom(41);
    const [m, k, n] = [96, 80, 72];
    const a = T.tensor(randomValues(rng, m * k, -1, 1), { shape: [m, k] });
    const b = T.tensor(randomValues(rng, k * n, -1, 1), { shape: [k, n] });
    const want = Array.from(T.matmul(a, b).data);
    T.setBackend('wasm-solo');
    const one = Array.from(T.matmul(a, b).data);
    T.setBackend('wasm');
    expect(want).toEqual(one);
    for (let i = 0; i < 20; i++) expect(Array.from(T.matmul(a, b).data)).toEqual(one);
  });
});
