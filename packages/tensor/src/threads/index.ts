// @rill/tensor/threads (Node only): the `js-threads` backend — the `js` kernels, with large matmuls split by rows of C
// between worker threads over shared memory (worker_threads + SharedArrayBuffer + Atomics).
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { registerBackend } from '../backend.js';
import { createJsBackend } from '../cpu/backend.js';
import { matmulBlocked, type MatmulArgs } from '../cpu/matmul.js';
import { GEN, PARAMS, PENDING, rowsOf } from './protocol.js';

/** Products smaller than this many multiply-adds run on one thread: waking workers costs more than it saves. */
export const PARALLEL_MIN_WORK = 1 << 21;

interface Pool {
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
  }
  return p[which];
}

/**
 * C = op(A)·op(B) on all cores: op(A) is copied row-major and B as stored into shared scratch (O(MK + KN), small
 * next to the O(MNK) product), each part computes its rows of C with the blocked kernel, then C is copied out.
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
  const parts = p.workers.length + 1;
  p.params.set([m, n, k, transB ? 1 : 0, parts]);
  Atomics.store(p.ctrl, PENDING, p.workers.length);
  Atomics.add(p.ctrl, GEN, 1);
  Atomics.notify(p.ctrl, GEN);
  const [start, end] = rowsOf(0, parts, m);
  matmulBlocked({ a: A, b: B, c: C, m: end - start, n, k, transA: false, transB, aOffset: start * k, cOffset: start * n });
  for (let left = Atomics.load(p.ctrl, PENDING); left !== 0; left = Atomics.load(p.ctrl, PENDING)) Atomics.wait(p.ctrl, PENDING, left);
  for (let q = 0; q < m * n; q++) c[cOffset + q] = C[q];
}

/**
 * Starts `threads − 1` workers (default: every core) and registers `js-threads`, which the `cpu` alias then prefers.
 * Workers do not keep the process alive; stopThreads() ends them.
 */
export async function initThreads(threads = availableParallelism()): Promise<number> {
  if (pool) return pool.workers.length + 1;
  const control = new SharedArrayBuffer(8);
  const params = new SharedArrayBuffer(8 * 5);
  const p: Pool = { workers: [], ports: [], ctrl: new Int32Array(control), params: new Float64Array(params), a: new Float32Array(0), b: new Float32Array(0), c: new Float32Array(0) };
  p.a = new Float32Array(new SharedArrayBuffer(4));
  p.b = new Float32Array(new SharedArrayBuffer(4));
  p.c = new Float32Array(new SharedArrayBuffer(4));
  const ready: Promise<unknown>[] = [];
  for (let index = 1; index < Math.max(1, threads); index++) {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER, { workerData: { control, params, index, port: port2 }, transferList: [port2] });
    worker.unref();
    port1.unref();
    ready.push(new Promise((resolve, reject) => (worker.once('message', resolve), worker.once('error', reject))));
    port1.postMessage({ a: p.a.buffer, b: p.b.buffer, c: p.c.buffer });
    p.workers.push(worker);
    p.ports.push(port1);
  }
  await Promise.all(ready);
  pool = p;
  registerBackend('js-threads', () => createJsBackend(matmulThreaded, 'js-threads'), 20);
  return p.workers.length + 1;
}

/** Stops the workers (large matmuls then run on one thread again). */
export async function stopThreads(): Promise<void> {
  if (!pool) return;
  const p = pool;
  pool = null;
  Atomics.store(p.ctrl, GEN, -1);
  Atomics.notify(p.ctrl, GEN);
  await Promise.all(p.workers.map((w) => w.terminate()));
}
