// The wasm backend's memory: block sizes (size classes), the free-list heap (reuse, no overlaps, merging when full), growth of a
// non-shared memory (views detach: everything reads through fresh views) and of a shared one (old views stay valid),
// and loading the kernels module (initWasm from bytes and from a URL, and its errors).
// Long (~400 lines): the heap, growth and loading share one set of helpers over a real WebAssembly.Memory.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import * as I from '@rill/tensor/internals';
import { expectClose } from '../helpers/close.js';
import { randomValues, testRandom } from '../helpers/reference.js';

const PAGE = 65536;

afterAll(() => T.setBackend('cpu'));

/** The engine's WebAssembly object (declared here: the test project compiles without the DOM library). */
const WA = (globalThis as unknown as {
  WebAssembly: {
    Memory: new (d: { initial: number; maximum: number; shared?: boolean }) => { buffer: ArrayBuffer | SharedArrayBuffer; grow(pages: number): number };
    validate(bytes: ArrayBuffer | ArrayBufferView): boolean;
  };
}).WebAssembly;

/** A plain WebAssembly.Memory of `initial` pages (at most `maximum`). */
const memoryOf = (initial: number, maximum: number, shared = false) => new WA.Memory({ initial, maximum, shared });

/** Fills the heap up to the exact end of its memory (blocks of powers of two: their own size class), so that the
 * next allocation not served by a free list must grow the memory. Returns the memory's size. */
function fillToEnd(heap: I.WasmHeap): number {
  const end = () => heap.memory.buffer.byteLength;
  for (let left = end() - heap.reservedBytes; left > 0; left = end() - heap.reservedBytes) heap.alloc(2 ** Math.floor(Math.log2(left)));
  expect(heap.reservedBytes).toBe(end());
  return end();
}

// -------------------------------------------------------------------------------------------------------- blockSize

describe('blockSize (the size classes)', () => {
  const request = fc.oneof(fc.integer({ min: 0, max: 8192 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }));

  it('is at least the request, at least 16, and a multiple of 16 (one v128)', () => {
    fc.assert(
      fc.property(request, (r) => {
        const s = I.blockSize(r);
        expect(s).toBeGreaterThanOrEqual(r);
        expect(s).toBeGreaterThanOrEqual(16);
        expect(s % 16).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('wastes under 16 bytes up to 4 KiB and at most 12.5 % of the request above', () => {
    fc.assert(
      fc.property(request, (r) => {
        const s = I.blockSize(r);
        if (s <= 4096) expect(s - Math.max(r, 1)).toBeLessThan(16);
        else expect((s - r) / r).toBeLessThanOrEqual(0.125);
      }),
      { numRuns: 2000 },
    );
    // the worst cases sit just above a power of two
    for (let e = 12; e < 31; e++) expect((I.blockSize(2 ** e + 1) - (2 ** e + 1)) / (2 ** e + 1)).toBeLessThanOrEqual(0.125);
  });

  it('is monotonic, and every size class maps to itself (a freed block serves every request of its class)', () => {
    fc.assert(
      fc.property(request, request, (r1, r2) => {
        const [lo, hi] = r1 <= r2 ? [r1, r2] : [r2, r1];
        expect(I.blockSize(lo)).toBeLessThanOrEqual(I.blockSize(hi));
        expect(I.blockSize(I.blockSize(r1))).toBe(I.blockSize(r1));
      }),
      { numRuns: 2000 },
    );
  });

  it('has 8 classes per power of two above 4 KiB', () => {
    for (const e of [12, 13, 17, 24]) {
      const classes = new Set<number>();
      for (let r = 2 ** e + 1; r <= 2 ** (e + 1); r += 16) classes.add(I.blockSize(r));
      classes.add(I.blockSize(2 ** (e + 1)));
      expect(classes.size).toBe(8);
    }
  });
});

// --------------------------------------------------------------------------------------------------------- WasmHeap

describe('WasmHeap', () => {
  it('hands out 16-aligned blocks from address 64 up (never 0: a kernel reads 0 as "no pointer")', () => {
    const heap = new I.WasmHeap(memoryOf(1, 16), false);
    const blocks = [1, 17, 100, 4096, 5000].map((r) => heap.alloc(r));
    expect(blocks[0].ptr).toBe(64);
    for (const b of blocks) {
      expect(b.ptr % 16).toBe(0);
      expect(b.ptr).toBeGreaterThan(0);
    }
    expect(blocks.map((b) => b.bytes)).toEqual([16, 32, 112, 4096, 5120]);
    expect(heap.reservedBytes).toBe(blocks[4].ptr + 5120);
  });

  it('reuses a freed block for a request of the same size class (last freed first), never for another class', () => {
    const heap = new I.WasmHeap(memoryOf(1, 16), false);
    const a = heap.alloc(100); // class 112
    const b = heap.alloc(112);
    const c = heap.alloc(50); // class 64
    expect(heap.liveBytes).toBe(112 + 112 + 64);
    heap.free(a);
    heap.free(b);
    expect(heap.liveBytes).toBe(64);
    const top = heap.reservedBytes;
    expect(heap.alloc(113).ptr).toBeGreaterThanOrEqual(top); // class 128: fresh
    expect(heap.alloc(97)).toEqual({ ptr: b.ptr, bytes: 112 }); // last freed first
    expect(heap.alloc(112)).toEqual({ ptr: a.ptr, bytes: 112 });
    const fresh = heap.alloc(112); // the list is empty again
    expect(fresh.ptr).toBeGreaterThan(c.ptr);
    heap.free(c);
    expect(heap.alloc(64).ptr).toBe(c.ptr);
    expect(heap.liveBytes).toBe(128 + 112 + 112 + 112 + 64);
  });

  it('fuzz: live blocks never overlap, stay inside the memory, and keep their contents across alloc / free / growth', () => {
    const size = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 300 }) }, { weight: 3, arbitrary: fc.integer({ min: 0, max: 20000 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 300000 }) });
    const step = fc.oneof(fc.record({ alloc: size }), fc.record({ free: fc.nat() }));
    fc.assert(
      fc.property(fc.array(step, { maxLength: 120 }), (steps) => {
        const memory = memoryOf(1, 2048);
        const heap = new I.WasmHeap(memory, false);
        const live: { ptr: number; bytes: number; tag: number }[] = [];
        let tag = 1;
        let liveBytes = 0;
        for (const s of steps) {
          if ('alloc' in s) {
            const block = heap.alloc(s.alloc);
            expect(block.bytes).toBe(I.blockSize(s.alloc));
            expect(block.ptr % 16).toBe(0);
            expect(block.ptr).toBeGreaterThanOrEqual(64);
            expect(block.ptr + block.bytes).toBeLessThanOrEqual(memory.buffer.byteLength);
            for (const other of live) {
              const disjoint = block.ptr + block.bytes <= other.ptr || other.ptr + other.bytes <= block.ptr;
              if (!disjoint) expect.fail(`block [${block.ptr}, +${block.bytes}) overlaps live block [${other.ptr}, +${other.bytes})`);
            }
            // stamp the whole block with its tag (a view taken now: the allocation may have grown the memory)
            new Int32Array(memory.buffer, block.ptr, block.bytes / 4).fill(tag);
            live.push({ ...block, tag: tag++ });
            liveBytes += block.bytes;
          } else if (live.length > 0) {
            const [gone] = live.splice(s.free % live.length, 1);
            heap.free({ ptr: gone.ptr, bytes: gone.bytes });
            liveBytes -= gone.bytes;
          }
          expect(heap.liveBytes).toBe(liveBytes);
        }
        for (const b of live) {
          const words = new Int32Array(memory.buffer, b.ptr, b.bytes / 4);
          if (words.some((w) => w !== b.tag)) expect.fail(`block [${b.ptr}, +${b.bytes}) lost its contents`);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('grows the memory when the top passes its end (by at least a quarter, so grows are few)', () => {
    const memory = memoryOf(4, 4096);
    const heap = new I.WasmHeap(memory, false);
    expect(fillToEnd(heap)).toBe(4 * PAGE);
    heap.alloc(16);
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(5 * PAGE);
    heap.alloc(10 * PAGE); // more than a quarter: grows by what it needs
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(heap.reservedBytes);
  });

  it('a request past the maximum is a ValueError naming wasm; the heap is unchanged and still works', () => {
    const memory = memoryOf(1, 2);
    const heap = new I.WasmHeap(memory, false);
    const a = heap.alloc(1000);
    const live = heap.liveBytes;
    const top = heap.reservedBytes;
    expect(() => heap.alloc(3 * PAGE)).toThrow(T.ValueError);
    expect(() => heap.alloc(3 * PAGE)).toThrow(/^wasm: cannot grow the WebAssembly memory/);
    expect(heap.liveBytes).toBe(live);
    expect(heap.reservedBytes).toBe(top);
    const b = heap.alloc(PAGE);
    expect(b.ptr).toBeGreaterThan(a.ptr);
    expect(memory.buffer.byteLength).toBe(2 * PAGE);
  });

  it('at the maximum, free blocks of other size classes are merged to serve a request; live blocks keep their bytes', () => {
    const memory = memoryOf(1, 1);
    const heap = new I.WasmHeap(memory, false);
    const blocks: ReturnType<I.WasmHeap['alloc']>[] = [];
    while (heap.reservedBytes + 112 <= PAGE) blocks.push(heap.alloc(112));
    const bytes = () => new Uint8Array(memory.buffer);
    blocks.forEach((b, i) => bytes().fill(i % 251, b.ptr, b.ptr + b.bytes));
    // free 20 neighbours in the middle and every other block of the first 40: only the 20 make a run of 2240 bytes
    const run = blocks.slice(100, 120);
    const scattered = blocks.slice(0, 40).filter((_, i) => i % 2 === 0);
    for (const b of [...run, ...scattered]) heap.free(b);
    const live = blocks.filter((b) => !run.includes(b) && !scattered.includes(b));
    const got = heap.alloc(2000); // a class no block had; the memory cannot grow
    expect(got.ptr).toBeGreaterThanOrEqual(run[0].ptr);
    expect(got.ptr + got.bytes).toBeLessThanOrEqual(run[19].ptr + run[19].bytes);
    expect(live.every((b) => bytes().subarray(b.ptr, b.ptr + b.bytes).every((v) => v === blocks.indexOf(b) % 251))).toBe(true);
    // the run's rest (240 bytes) went back to the free lists: a 240-byte request takes it without growing
    const rest = heap.alloc(240);
    expect(rest.ptr).toBe(got.ptr + 2000);
    // no run holds 4 KiB: a ValueError, and the heap still serves what fits (a scattered 112-byte block)
    expect(() => heap.alloc(4096)).toThrow(/^wasm: cannot grow the WebAssembly memory/);
    expect(scattered.map((b) => b.ptr)).toContain(heap.alloc(112).ptr);
  });

  it('near the maximum, where a quarter more does not fit, it grows by just what it needs', () => {
    const memory = memoryOf(8, 9);
    const heap = new I.WasmHeap(memory, false);
    expect(fillToEnd(heap)).toBe(8 * PAGE);
    heap.alloc(1000); // a quarter (2 pages) is past the maximum: the exact page is taken
    expect(memory.buffer.byteLength).toBe(9 * PAGE);
    expect(() => heap.alloc(PAGE)).toThrow(T.ValueError);
  });
});

// --------------------------------------------------------------------------------------------- growth, non-shared

/** A fresh wasm backend on its own memory, registered under `name` and made active. */
function useBackend(name: string, shared: boolean): T.WasmBackend {
  const be = T.createWasmBackend(I.compileKernels(shared), name);
  T.registerBackend(name, () => be);
  T.setBackend(name);
  expect(be.parts.heap.shared).toBe(shared);
  return be;
}

describe('growth of a non-shared memory', () => {
  it('tensors made before many large allocations keep their values, read again through .data (old views detach)', () => {
    const be = useBackend('wasm-grow', false);
    const rng = testRandom(1);
    const f = Float32Array.from(randomValues(rng, 1001));
    const d = Float64Array.from(randomValues(rng, 333));
    const i = Int32Array.from({ length: 77 }, (_, q) => q * q - 1000);
    const F = T.tensor(f, { shape: [7, 143] });
    const D = T.tensor(d);
    const I = T.tensor(i);
    const stale = F.data;
    const start = be.parts.heap.memory.buffer.byteLength;
    const big: T.Tensor[] = [];
    for (let q = 0; q < 24; q++) big.push(T.full([1 << 18], q)); // 24 MiB: many grows
    expect(be.parts.heap.memory.buffer.byteLength).toBeGreaterThanOrEqual(Math.max(2 * start, 24 * 4 * (1 << 18)));
    // A non-shared WebAssembly.Memory detaches its ArrayBuffer on growth (the engine may move the memory):
    // views taken before are empty now, which is why the backend builds a new view on every read.
    expect(stale.length).toBe(0);
    expect(Array.from(F.data)).toEqual(Array.from(f));
    expect(Array.from(D.data)).toEqual(Array.from(d));
    expect(Array.from(I.data)).toEqual(Array.from(i));
    expect(big.map((t) => t.data[(1 << 18) - 1])).toEqual(big.map((_, q) => q));
    // and ops read them right
    expect(Array.from(T.mul(F, 2).data)).toEqual(Array.from(f, (v) => Math.fround(2 * v)));
    expect(T.sum(I).item()).toBe(i.reduce((s, v) => s + v, 0));
    for (const t of [F, D, I, ...big]) t.dispose();
    T.setBackend('cpu');
  });

  it('an op whose output allocation grows the memory still reads its inputs right (views are taken after allocating)', () => {
    const be = useBackend('wasm-edge-ops', false);
    const heap = be.parts.heap;
    const rng = testRandom(2);
    const x = Float32Array.from(randomValues(rng, 6 * 9));
    const w = Float32Array.from(randomValues(rng, 5 * 9));
    const row = Float32Array.from(randomValues(rng, 9));
    const x64 = Float64Array.from(x);
    const X = T.tensor(x, { shape: [6, 9] });
    const W = T.tensor(w, { shape: [5, 9] });
    const R = T.tensor(row);
    const X64 = T.tensor(x64, { shape: [6, 9] });
    // 3 rows (112-byte blocks): a gather output of 4 or 5 rows would reuse a block the matmul case frees after use
    // (its packed A, 144 bytes, or packed B, 192), and then nothing would grow.
    const idx = T.tensor(new Int32Array([5, 0, 3]));
    const positive = T.gt(X, 0);
    const at = (r: number, c: number) => x[r * 9 + c];
    const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
    const cases: [string, () => T.Tensor, number[]][] = [
      ['tanh (wasm kernel)', () => T.tanh(X), Array.from(x, Math.tanh)],
      ['add row broadcast (wasm kernel)', () => T.add(X, R), Array.from(x, (v, q) => v + row[q % 9])],
      ['sigmoid grad (wasm kernel)', () => T.unaryGrad('sigmoid', X, X, X), Array.from(x, (v) => v * v * (1 - v))],
      ['matmul transB (wasm kernel + packed B)', () => T.matmul(X, W, { transB: true }), Array.from({ length: 30 }, (_, q) => {
        let s = 0;
        for (let p = 0; p < 9; p++) s += at(Math.floor(q / 5), p) * w[(q % 5) * 9 + p];
        return s;
      })],
      ['sum over the batch axis (wasm kernel)', () => T.sum(X, 0), Array.from({ length: 9 }, (_, c) => [0, 1, 2, 3, 4, 5].reduce((s, r) => s + at(r, c), 0))],
      ['exp (js kernel on views)', () => T.exp(X), Array.from(x, Math.exp)],
      ['transpose (js)', () => T.transpose(X), Array.from({ length: 54 }, (_, q) => at(q % 6, Math.floor(q / 6)))],
      ['float64 mul (js)', () => T.mul(X64, X64), Array.from(x64, (v) => v * v)],
      ['max over rows (js)', () => T.max(X, 1), Array.from({ length: 6 }, (_, r) => Math.max(...x.subarray(r * 9, r * 9 + 9)))],
      ['concat (js)', () => T.concat([X, X], 0), [...x, ...x]],
      ['gather (js)', () => T.gather(X, idx), [5, 0, 3].flatMap((r) => Array.from(x.subarray(r * 9, r * 9 + 9)))],
      ['where (js)', () => T.where(positive, X, R), Array.from(x, (v, q) => (v > 0 ? v : row[q % 9]))],
      ['cast (js)', () => T.cast(X, 'float64'), Array.from(x)],
      ['silu (wasm kernel)', () => T.silu(X), Array.from(x, (v) => v * sigmoid(v))],
      // a typed array viewing this very memory (X's data): copied out before the new storage grows it
      ['tensor of a view of the memory (creation)', () => T.tensor(X.data, { shape: [6, 9] }), Array.from(x)],
      ['tensor of a float64 view, cast to float32 (creation)', () => T.tensor(X64.data, { shape: [6, 9], dtype: 'float32' }), Array.from(x)],
    ];
    const outs: T.Tensor[] = [];
    for (const [name, op, ref] of cases) {
      const before = fillToEnd(heap);
      const out = op();
      expect(heap.memory.buffer.byteLength, `${name}: the output allocation grew the memory`).toBeGreaterThan(before);
      const got = out.data;
      expect(got.length, name).toBe(ref.length);
      // (a growth bug would read garbage or a detached, empty view: far outside these tolerances)
      expectClose(got, ref, out.dtype === 'float64' ? { rtol: 1e-15, atol: 1e-15 } : { rtol: 1e-6, atol: 1e-5 });
      outs.push(out); // kept alive: a freed output would serve the next op's output from the free list (no growth)
    }
    for (const t of outs) t.dispose();
    T.setBackend('cpu');
  });
});

// ------------------------------------------------------------------------------------------------- growth, shared

describe('growth of a shared memory', () => {
  it('a view taken before growth still reads (and writes) the same bytes, with its old length', () => {
    const be = useBackend('wasm-shared-grow', true);
    const heap = be.parts.heap;
    const values = Float32Array.from(randomValues(testRandom(3), 500));
    const X = T.tensor(values);
    const view = X.data;
    expect(view.buffer).toBeInstanceOf(SharedArrayBuffer);
    const oldLength = view.buffer.byteLength;
    for (let q = 0; q < 6; q++) heap.alloc(4 << 20); // 24 MiB: grows
    const newLength = heap.memory.buffer.byteLength;
    expect(newLength).toBeGreaterThan(oldLength);
    // Why: a SharedArrayBuffer can never be detached (other threads may hold it), and a shared WebAssembly.Memory
    // grows in place (it reserves its maximum up front). memory.buffer is a new SharedArrayBuffer object with the
    // new length over the same bytes; the old one keeps its old length and its bytes.
    expect(view.buffer.byteLength).toBe(oldLength);
    expect(view.length).toBe(500);
    expect(Array.from(view)).toEqual(Array.from(values));
    expect(heap.memory.buffer).not.toBe(view.buffer);
    // the old view and a fresh one see the same memory
    view[7] = 1234.5;
    expect(X.data[7]).toBe(1234.5);
    const fresh = X.data;
    fresh[8] = -8;
    expect(view[8]).toBe(-8);
    // and ops read it
    expect(T.sum(X).item()).toBeCloseTo(Array.from(X.data).reduce((s, v) => s + v, 0), 3);
    X.dispose();
    T.setBackend('cpu');
  });
});

// --------------------------------------------------------------------------------------------------- module loading

describe('loading the kernels module', () => {
  /** After initWasm(), a new wasm backend (from the module it compiled) computes right. */
  function checkWorks(shared: boolean) {
    const be = T.createWasmBackend();
    expect(be.parts.heap.shared).toBe(shared);
    T.registerBackend('wasm-loaded', () => be);
    T.setBackend('wasm-loaded');
    const x = T.tensor([[-1, 0, 2], [3, -4, 5]]);
    expect(Array.from(T.relu(x).data)).toEqual([0, 0, 2, 3, 0, 5]);
    expect(Array.from(T.matmul(x, x, { transB: true }).data)).toEqual([5, 7, 7, 50]);
    expectClose(T.tanh(x).data, [-1, 0, 2, 3, -4, 5].map(Math.tanh), { rtol: 5e-7, atol: 0 });
    T.setBackend('cpu');
  }

  afterAll(async () => {
    await T.initWasm(); // back to the built-in module
  });

  it('the engine runs WebAssembly SIMD and can share memory (Node)', () => {
    expect(T.hasWasmSimd()).toBe(true);
    expect(T.canShareMemory()).toBe(true);
    expect(WA.validate(I.kernelBytes(false))).toBe(true);
    expect(WA.validate(I.kernelBytes(true))).toBe(true);
  });

  it('initWasm({ bytes }) with the non-shared build (the memory kind follows the bytes: LinkError fallback)', async () => {
    await expect(T.initWasm({ bytes: I.kernelBytes(false) })).resolves.toBeUndefined();
    checkWorks(false);
    await T.initWasm({ bytes: I.kernelBytes(true), shared: true });
    checkWorks(true);
    await T.initWasm({ bytes: I.kernelBytes(true).buffer as ArrayBuffer, shared: false }); // an ArrayBuffer too
    checkWorks(true);
  });

  it('initWasm({ url }) fetches a data: URL (string or URL object)', async () => {
    const url = `data:application/wasm;base64,${Buffer.from(I.kernelBytes(false)).toString('base64')}`;
    await T.initWasm({ url });
    checkWorks(false);
    await T.initWasm({ url: new URL(url), shared: false });
    checkWorks(false);
  });

  it('bad bytes give a BackendError naming initWasm (and leave the loaded module in place)', async () => {
    await T.initWasm({ bytes: I.kernelBytes(false) });
    for (const bytes of [new Uint8Array([1, 2, 3, 4]), new Uint8Array(0), I.kernelBytes(false).subarray(0, 50)]) {
      const err = await T.initWasm({ bytes }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(T.BackendError);
      expect((err as T.BackendError).op).toBe('initWasm');
      expect(String((err as Error).message)).toMatch(/^initWasm: the bytes are not a valid kernels module/);
    }
    const bad = `data:application/wasm;base64,${Buffer.from('not wasm').toString('base64')}`;
    await expect(T.initWasm({ url: bad })).rejects.toThrow(T.BackendError);
    checkWorks(false);
  });

  // Was a bug (minor, fixed): initWasm() only ran WA.validate(), so any valid module passed, though its
  // message promised to catch "not Rill's kernels.wasm". An empty module is accepted (so is the kernels file cut at
  // a section boundary: its first 100 bytes, types + import, validate); the next wasm backend then instantiates it
  // and fails at its first op with a TypeError (kernels[op] is not a function), far from the cause.
  it('was a bug: initWasm rejects a valid WebAssembly module that is not the kernels module', async () => {
    const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]); // "\0asm", version 1
    expect(WA.validate(empty)).toBe(true);
    try {
      const err = await T.initWasm({ bytes: empty }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(T.BackendError);
    } finally {
      await T.initWasm();
    }
  });
});
