// One chunk of a job (see protocol.ts), run the same way by the main thread and by the workers from the job's params.
import { matmulBlocked } from '../cpu/matmul.js';
import { matmulPart } from '../wasm/backend.js';
import { EACH_KERNELS, KERNEL_NAMES, type Kernels } from '../wasm/module.js';
import { EACH, PAIR, PARAMS, SPLIT, WASM_EACH_JOB, WASM_JOB, WASM_PAIR_JOB, WASM_SPLIT_JOB, rowsOf, type Scratch } from './protocol.js';

/** The shared scratch matrices as typed arrays (js-threads' jobs). */
export type ScratchArrays = { [K in keyof Scratch]: Float32Array };

/** A wasm matmul call's arguments (see Kernels['matmul']) for m rows, from a…bj at params[at …]. */
function matmulArgs(p: ArrayLike<number>, at: number, m: number, n: number, k: number): Parameters<Kernels['matmul']> {
  const v = (i: number) => p[at + i]; // a, apacked, b, packed, c, bias, y, act, ai, ap, bp, bj
  return [v(0), v(1), v(2), v(3), v(4), v(5), v(6), v(7), n, k, v(8), v(9), v(10), v(11), 0, m];
}

/**
 * Runs chunk `c` of the job described by `p` (the params, or a worker's copy of them) on the thread numbered `thread`
 * (0: main; a per-item kernel's scratch slot). Rows and ranges are computed as on one thread: identical results.
 */
export function runChunk(p: ArrayLike<number>, c: number, thread: number, kernels: Kernels | null, scratch: ScratchArrays | null): void {
  const [m, n, k, chunks, kind] = [p[PARAMS.m], p[PARAMS.n], p[PARAMS.k], p[PARAMS.parts], p[PARAMS.kind]];
  if (kind === WASM_JOB) {
    const [start, end] = rowsOf(c, chunks, m, 4);
    if (end > start) matmulPart(kernels!, matmulArgs(p, PARAMS.a, m, n, k), start, end);
  } else if (kind === WASM_PAIR_JOB) {
    // chunks [0, split) are rows of the first product, the rest rows of the second
    const split = p[PAIR.split];
    const [at, count, index] = c < split ? [0, split, c] : [PAIR.second, chunks - split, c - split];
    const [mm, nn, kk] = [p[at + PARAMS.m], p[at + PARAMS.n], p[at + PARAMS.k]];
    const [start, end] = rowsOf(index, count, mm, 4);
    if (end > start) matmulPart(kernels!, matmulArgs(p, at + PARAMS.a, mm, nn, kk), start, end);
  } else if (kind === WASM_EACH_JOB) {
    const [start, end] = rowsOf(c, chunks, m);
    const args = Array.from({ length: p[EACH.argc] }, (_, i) => p[EACH.args + i]);
    if (end > start) kernels![EACH_KERNELS[p[EACH.kernel]]](...args, start, end, thread);
  } else if (kind === WASM_SPLIT_JOB) {
    const [start, end] = rowsOf(c, chunks, m, 4);
    const args = Array.from({ length: p[SPLIT.argc] }, (_, i) => p[SPLIT.args + i] + p[SPLIT.steps + i] * start);
    if (end > start) (kernels![KERNEL_NAMES[p[SPLIT.kernel]]] as (...a: number[]) => void)(...args, end - start);
  } else {
    const [start, end] = rowsOf(c, chunks, m);
    const s = scratch!;
    if (end > start) matmulBlocked({ a: s.a, b: s.b, c: s.c, m: end - start, n, k, transA: false, transB: p[PARAMS.transB] === 1, aOffset: start * k, cOffset: start * n });
  }
}
