// @rill/tensor/threads (Node only): large matmuls of the `wasm` backend, and of `js-threads` (the `js` kernels), cut into
// chunks of rows of C that worker threads claim over shared memory (worker_threads + SharedArrayBuffer + Atomics).
/**
 * Large matmuls of the `wasm` backend, and of `js-threads` (the `js` kernels), cut into chunks of rows of C that worker threads claim over shared memory (worker_threads + SharedArrayBuffer + Atomics).
 *
 * @module @rill/tensor/threads
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { backendByName, registerBackend } from '../backend.js';
import { registerStarter } from '../ready.js';
import { createJsBackend } from '../cpu/backend.js';
import { matmulBlocked, type MatmulArgs } from '../cpu/matmul.js';
import { BackendError } from '../errors.js';
import { SPLIT_MIN_ELEMENTS, allOnOneThread, matmulPart, oneAfterTheOther, oneThread, unsplit, type EachRunner, type MatmulRows, type PairRunner, type SplitRunner, type WasmBackend } from '../wasm/backend.js';
import type { Kernels } from '../wasm/module.js';
import { runChunk } from './chunks.js';
import { EACH_KERNELS, KERNEL_NAMES } from '../wasm/module.js';
import { CHUNK_BITS, CHUNKS, CTRL_COUNT, DONE, EACH, FAILED, GEN, MAX_CHUNKS, PAIR, SCRATCH, JS_JOB, PARAM_COUNT, PARAMS, SPLIT, WASM_EACH_JOB, WASM_JOB, WASM_PAIR_JOB, WASM_SPLIT_JOB, claimChunk, waitWhile } from './protocol.js';

/** Products smaller than this many multiply-adds run on one thread: waking workers costs more than it saves. */
export const PARALLEL_MIN_WORK = 1 << 21;
/**
 * The same for the wasm kernel (~8× faster per thread). Workers poll for jobs before they sleep (SPIN_POLLS), so
 * handing one half a 256×64×64 product costs a few µs: that product (2²⁰) runs 1.8× faster on two threads here.
 */
export const WASM_PARALLEL_MIN_WORK = 1 << 19;

interface Pool {
  /** The wasm backend whose memory the workers share, if any. */
  wasm: WasmBackend | null;
  workers: Worker[];
  ports: MessagePort[];
  ctrl: Int32Array;
  params: Float64Array;
  a: Float32Array;
  b: Float32Array;
  c: Float32Array;
}

let pool: Pool | null = null;

// The worker script, built beside this file. NB: when this module runs from the TypeScript sources (the tests do),
// the worker still comes from the build, which the test command makes first.
const WORKER = new URL(import.meta.url.endsWith('.ts') ? '../../dist/threads/worker.js' : './worker.js', import.meta.url);

/** Shared scratch of at least `size` floats (grown by doubling; new buffers are posted to every worker). */
function scratch(p: Pool, which: 'a' | 'b' | 'c', size: number): Float32Array {
  if (p[which].length < size) {
    const grown = new Float32Array(new SharedArrayBuffer(4 * Math.max(size, 2 * p[which].length)));
    p[which] = grown;
    for (const port of p.ports) port.postMessage({ a: p.a.buffer, b: p.b.buffer, c: p.c.buffer });
    Atomics.add(p.ctrl, SCRATCH, 1);
  }
  return p[which];
}

/**
 * How many chunks a job over `m` rows (or items) is cut into: about 4 per thread, each at least 8 of `align` rows, so
 * a thread that falls behind leaves its last chunks to the others (see protocol.ts); at least 1.
 */
function chunksFor(p: Pool, m: number, align: number): number {
  return Math.max(1, Math.min(4 * (p.workers.length + 1), MAX_CHUNKS, Math.floor(m / (8 * align))));
}

/**
 * Runs the job in params in `chunks` chunks on every thread: publishes its chunks (after its params), wakes the
 * workers, claims chunks from the front until none is left, then waits for those the workers claimed.
 */
function runJob(p: Pool, chunks: number, kernels: Kernels | null): void {
  // more would carry one end of ctrl[CHUNKS] into the other (see CHUNK_BITS): a caller's bug, not a run-time condition
  if (!(chunks >= 1 && chunks <= MAX_CHUNKS)) throw new BackendError('threads', `a job needs 1 to ${MAX_CHUNKS} chunks, got ${chunks}`);
  p.params[PARAMS.parts] = chunks;
  Atomics.store(p.ctrl, DONE, 0);
  Atomics.store(p.ctrl, CHUNKS, chunks << CHUNK_BITS);
  Atomics.add(p.ctrl, GEN, 1);
  Atomics.notify(p.ctrl, GEN);
  // Chunks claimed here are counted even after one threw (then skipped), so that every chunk is accounted for and no
  // worker is still in one when the params change.
  let mine = 0;
  let error: unknown = null;
  for (let c = claimChunk(p.ctrl, true); c >= 0; c = claimChunk(p.ctrl, true)) {
    if (error === null) {
      try {
        runChunk(p.params, c, 0, kernels, p);
      } catch (e) {
        error = e;
      }
    }
    mine++;
  }
  for (let done = Atomics.load(p.ctrl, DONE); done + mine < chunks; ) done = waitWhile(p.ctrl, DONE, done);
  const failed = Atomics.load(p.ctrl, FAILED) !== 0;
  // every message waiting on the ports (a worker posts one per failed chunk), so none is left for a later failure
  const reasons: string[] = [];
  for (const port of failed ? p.ports : []) {
    for (let msg = receiveMessageOnPort(port); msg; msg = receiveMessageOnPort(port)) {
      const error = (msg.message as { error?: string }).error;
      if (error && !reasons.includes(error)) reasons.push(error);
    }
  }
  if (failed) Atomics.store(p.ctrl, FAILED, 0);
  if (error !== null) throw error;
  if (failed) throw new BackendError('threads', `a worker's part of a kernel failed: ${reasons.join('; ') || 'no reason given'}`);
}

/**
 * C = op(A)·op(B) on all cores: op(A) is copied row-major and B as stored into shared scratch (O(MK + KN), small
 * next to the O(MNK) product), each chunk's rows of C are computed with the blocked kernel, then C is copied out.
 */
export function matmulThreaded(args: MatmulArgs): void {
  const { m, n, k } = args;
  if (!pool || m * n * k < PARALLEL_MIN_WORK || m < 2) {
    matmulBlocked(args);
    return;
  }
  const p = pool;
  const { a, b, c, transA, transB, aOffset = 0, bOffset = 0, cOffset = 0 } = args;
  const A = scratch(p, 'a', m * k);
  const B = scratch(p, 'b', k * n);
  const C = scratch(p, 'c', m * n);
  for (let i = 0; i < m; i++) for (let q = 0; q < k; q++) A[i * k + q] = a[aOffset + (transA ? q * m + i : i * k + q)];
  for (let q = 0; q < k * n; q++) B[q] = b[bOffset + q];
  p.params.set([m, n, k, transB ? 1 : 0, 0, JS_JOB]);
  runJob(p, chunksFor(p, m, 1), null);
  for (let q = 0; q < m * n; q++) c[cOffset + q] = C[q];
}

/**
 * The wasm backend's matmul on all cores: the workers run the same kernel on the same memory (nothing is copied),
 * each on its rows of C (boundaries on whole 4-row tiles). Every row is computed as on one thread: identical results.
 */
const wasmRows: MatmulRows = (kernels, args, work) => {
  const [a, apacked, b, packed, c, bias, y, act, n, k, ai, ap, bp, bj, row0, row1] = args;
  const m = row1 - row0;
  if (!pool || !pool.wasm || work < WASM_PARALLEL_MIN_WORK || m < 8 || row0 !== 0) return matmulPart(kernels, args, row0, row1);
  const p = pool;
  p.params.set([m, n, k, 0, 0, WASM_JOB, a, apacked, b, packed, c, bias, y, act, ai, ap, bp, bj]);
  runJob(p, chunksFor(p, m, 4), kernels);
};

/**
 * Two independent wasm matmul calls in one job (one wake-up instead of two): the rows of both cut into chunks, which
 * the threads take in turn (as on one thread: identical results).
 */
const wasmPair: PairRunner = (kernels, first, second) => {
  if (!pool || !pool.wasm) {
    for (const args of [first, second]) wasmRows(kernels, args, args[15] * args[8] * args[9]);
    return;
  }
  const p = pool;
  const layout = (args: Parameters<Kernels['matmul']>) => {
    const [a, apacked, b, packed, c, bias, y, act, n, k, ai, ap, bp, bj, , m] = args;
    return { mnk: [m, n, k], rest: [a, apacked, b, packed, c, bias, y, act, ai, ap, bp, bj] };
  };
  const [one, two] = [layout(first), layout(second)];
  const [c1, c2] = [first[15], second[15]].map((m) => Math.min(chunksFor(p, m, 4), MAX_CHUNKS / 2)); // together ≤ MAX_CHUNKS
  p.params.set([...one.mnk, 0, 0, WASM_PAIR_JOB, ...one.rest]);
  p.params.set([...two.mnk, 0, 0, 0, ...two.rest], PAIR.second);
  p.params[PAIR.split] = c1;
  runJob(p, c1 + c2, kernels);
};

/** The per-item wasm kernels on all cores: chunks of the items, each thread with its own scratch. */
const wasmEach: EachRunner = (kernels, name, args, count) => {
  if (!pool || !pool.wasm || count < 2) return kernels[name](...args, 0, count, 0);
  const p = pool;
  p.params.set([count, 0, 0, 0, 0, WASM_EACH_JOB]);
  p.params.set([EACH_KERNELS.indexOf(name), args.length, ...args], EACH.kernel);
  runJob(p, Math.min(count, 4 * (p.workers.length + 1), MAX_CHUNKS), kernels);
};

export { SPLIT_MIN_ELEMENTS } from '../wasm/backend.js';

/** The elementwise wasm kernels on all cores: chunks of the elements (4-aligned ranges). */
const wasmSplit: SplitRunner = (kernels, name, args, steps, n) => {
  if (!pool || !pool.wasm || n < SPLIT_MIN_ELEMENTS) return unsplit(kernels, name, args, steps, n);
  const p = pool;
  p.params.set([n, 0, 0, 0, 0, WASM_SPLIT_JOB, KERNEL_NAMES.indexOf(name), args.length]);
  p.params.set(args, SPLIT.args);
  p.params.set(steps, SPLIT.steps);
  runJob(p, Math.min(4 * (p.workers.length + 1), MAX_CHUNKS), kernels);
};

/** The wasm backend, if it runs here on a shared memory (which the workers can then use too). */
function sharedWasm(): WasmBackend | null {
  try {
    const wasm = backendByName('wasm') as WasmBackend;
    return wasm.parts?.heap.shared ? wasm : null;
  } catch (e) {
    if (e instanceof BackendError) return null;
    throw e;
  }
}

/**
 * Starts `threads − 1` workers (default: every core): the `wasm` backend's large matmuls then run on all cores (on its
 * shared memory), and `js-threads` (the js kernels, parallel the same way) is registered, above `js`.
 * Workers do not keep the process alive; stopThreads() ends them.
 */
export async function initThreads(threads = availableParallelism()): Promise<number> {
  if (pool) return pool.workers.length + 1;
  const control = new SharedArrayBuffer(4 * CTRL_COUNT);
  const params = new SharedArrayBuffer(8 * PARAM_COUNT);
  const wasm = sharedWasm();
  const p: Pool = { wasm, workers: [], ports: [], ctrl: new Int32Array(control), params: new Float64Array(params), a: new Float32Array(0), b: new Float32Array(0), c: new Float32Array(0) };
  p.a = new Float32Array(new SharedArrayBuffer(4));
  p.b = new Float32Array(new SharedArrayBuffer(4));
  p.c = new Float32Array(new SharedArrayBuffer(4));
  const ready: Promise<unknown>[] = [];
  for (let index = 1; index < Math.max(1, threads); index++) {
    const { port1, port2 } = new MessageChannel();
    const shared = wasm ? { module: wasm.parts.module, memory: wasm.parts.heap.memory } : undefined;
    const worker = new Worker(WORKER, { workerData: { control, params, index, port: port2, wasm: shared }, transferList: [port2] });
    worker.unref();
    port1.unref();
    ready.push(new Promise((resolve, reject) => (worker.once('message', resolve), worker.once('error', reject))));
    port1.postMessage({ a: p.a.buffer, b: p.b.buffer, c: p.c.buffer });
    p.workers.push(worker);
    p.ports.push(port1);
  }
  await Promise.all(ready);
  pool = p;
  if (wasm) Object.assign(wasm.parts, { rows: wasmRows, pair: wasmPair, each: wasmEach, split: wasmSplit, parts: p.workers.length + 1 });
  registerBackend('js-threads', () => createJsBackend(matmulThreaded, 'js-threads'), 20);
  return p.workers.length + 1;
}

/** Stops the workers (large matmuls then run on one thread again). */
export async function stopThreads(): Promise<void> {
  if (!pool) return;
  const p = pool;
  pool = null;
  if (p.wasm) Object.assign(p.wasm.parts, { rows: oneThread, pair: oneAfterTheOther, each: allOnOneThread, split: unsplit, parts: 1 });
  Atomics.store(p.ctrl, GEN, -1);
  Atomics.notify(p.ctrl, GEN);
  await Promise.all(p.workers.map((w) => w.terminate()));
}

/**
 * Exactly `threads` threads for large matmuls (1: the workers stop): a running pool of another size, or one started
 * before the `wasm` backend it should serve, is replaced. Returns the count. What `T.ready({ threads })` calls.
 */
export async function useThreads(threads = availableParallelism()): Promise<number> {
  if (pool && (pool.workers.length + 1 !== threads || pool.wasm !== sharedWasm())) await stopThreads();
  return threads > 1 ? initThreads(threads) : 1;
}

registerStarter('threads', (options) => useThreads(options.threads));
