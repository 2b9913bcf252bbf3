// What the main thread and the matmul workers share: a control block of Int32 counters and Float64 parameters.
//
// A job is cut into chunks (rows of a product, ranges of items or elements) that the threads claim one at a time: the
// main thread from the front, the workers from the back, so in the usual case each thread computes about the half of
// the rows it computed in the layer before (the data stays in its core's cache) — but a thread that runs slower (a
// busier core) or wakes late claims fewer, and nobody waits for a worker that has not started. Which thread computes a
// chunk never changes its numbers.

/** ctrl[GEN]: bumped by the main thread for each job (workers wake on it); −1 stops them. */
export const GEN = 0;
/** ctrl[DONE]: chunks the workers have finished in the current job (the main thread waits for those it did not do). */
export const DONE = 1;
/** ctrl[SCRATCH]: bumped when new scratch buffers are posted to the workers (who then read their ports, else not). */
export const SCRATCH = 2;
/** ctrl[FAILED]: set by a worker whose chunk threw (its message follows on its port); the main thread then throws it. */
export const FAILED = 3;
/**
 * ctrl[CHUNKS]: the unclaimed chunks [front, back) of the current job, as back << CHUNK_BITS | front; claimed by
 * compare-and-swap (front + 1 by the main thread, back − 1 by a worker). Set after the job's params; front = back once
 * every chunk is claimed, so nothing can be claimed while the next job's params are written.
 */
export const CHUNKS = 4;
/** Int32 slots in the control block. */
export const CTRL_COUNT = 5;
/** Bits of each end in ctrl[CHUNKS]. */
export const CHUNK_BITS = 9;
/** The most chunks a job is cut into (below 2^CHUNK_BITS). */
export const MAX_CHUNKS = 256;

/**
 * Claims the next chunk of the current job, from the front (the main thread) or the back (workers); −1 when none is
 * left.
 */
export function claimChunk(ctrl: Int32Array, fromFront: boolean): number {
  const mask = (1 << CHUNK_BITS) - 1;
  for (;;) {
    const v = Atomics.load(ctrl, CHUNKS);
    const [front, back] = [v & mask, v >>> CHUNK_BITS];
    if (front >= back) return -1;
    const next = fromFront ? v + 1 : v - (1 << CHUNK_BITS);
    if (Atomics.compareExchange(ctrl, CHUNKS, v, next) === v) return fromFront ? front : back - 1;
  }
}

/**
 * params, in a Float64Array over shared memory: m, n, k, transB, the number of chunks, the job's kind
 * (JS_JOB: the js kernel on the scratch matrices; WASM_JOB: the wasm kernel on the wasm memory, whose byte addresses
 * a, apacked, b, packed, c, bias, y, the activation's number and the strides ai, ap, bp, bj follow).
 */
export const PARAMS = { m: 0, n: 1, k: 2, transB: 3, parts: 4, kind: 5, a: 6, apacked: 7, b: 8, packed: 9, c: 10, bias: 11, y: 12, act: 13, ai: 14, ap: 15, bp: 16, bj: 17 } as const;
export const PARAM_COUNT = 48;
export const JS_JOB = 0;
export const WASM_JOB = 1;
/**
 * A per-item wasm kernel (EACH_KERNELS): params[EACH.kernel] its index there, params[EACH.argc] the argument count,
 * the arguments from EACH.args on; m is the item count, cut into chunks (each thread with its own scratch).
 */
export const WASM_EACH_JOB = 2;
export const EACH = { kernel: 6, argc: 7, args: 8 } as const;
/**
 * An elementwise wasm kernel over n elements, split into ranges: params[SPLIT.kernel] its index in KERNEL_NAMES, then
 * argc, the arguments before n, and for each the bytes it advances per element (4: an array; 0: a constant, a stride,
 * a broadcast operand); m is n. Each chunk calls the kernel on its range with its pointers moved there.
 */
export const WASM_SPLIT_JOB = 3;
/**
 * Two independent wasm matmul calls in one job: the first's arguments as for WASM_JOB (m, n, k and a … bj), the
 * second's laid out the same way from PAIR.second on (18 slots); chunks below params[PAIR.split] are rows of the first, the rest rows
 * of the second.
 */
export const WASM_PAIR_JOB = 4;
export const PAIR = { second: 18, split: 36 } as const;
export const SPLIT = { kernel: 6, argc: 7, args: 8, steps: 24 } as const;

/**
 * How long a thread polls the control block before it sleeps in Atomics.wait: ~6 ms, measured in polls, each an
 * Atomics.load (~5.5 ns here). A sleeping thread's wake-up through the kernel (futex) costs ~50 µs at best on a small
 * VM and often ~1 ms (the idle vCPU must be scheduled again), more than a 64-wide layer's matmul, while a training step
 * calls kernels every few µs — with pauses between steps (the optimizer, the next batch, a GC) that outlast a short
 * poll. Measured over 2000 steps at W = 64 (2 vCPUs): with a 0.35 ms poll, 4 % of the matmul jobs waited ≥ 50 µs for
 * a sleeping worker (~1 ms at the 99th percentile), 0.22 ms per 0.95 ms step; with 6 ms, 0.09 ms per 0.82 ms step. A
 * worker polls this long after its last job, the main thread this long for the workers' chunks to finish; then both
 * sleep, so an idle process does not spin.
 */
export const SPIN_POLLS = 1 << 20;

/**
 * Polls ctrl[at] up to SPIN_POLLS times while it equals `value`, then sleeps until it changes. Returns its new value.
 */
export function waitWhile(ctrl: Int32Array, at: number, value: number): number {
  for (let i = 0; i < SPIN_POLLS; i++) {
    const now = Atomics.load(ctrl, at);
    if (now !== value) return now;
  }
  Atomics.wait(ctrl, at, value);
  return Atomics.load(ctrl, at);
}

/** The shared scratch matrices: op(A) row-major (M×K), B as stored, C (M×N). */
export interface Scratch {
  a: SharedArrayBuffer;
  b: SharedArrayBuffer;
  c: SharedArrayBuffer;
}

/**
 * Rows [start, end) of C in chunk `index` of `parts` (an even split), with the boundaries on multiples of `align` (the
 * wasm kernel's 4-row tile).
 */
export function rowsOf(index: number, parts: number, m: number, align = 1): [number, number] {
  const at = (i: number) => (i === parts ? m : Math.min(m, align * Math.floor((i * m) / parts / align)));
  return [at(index), at(index + 1)];
}
