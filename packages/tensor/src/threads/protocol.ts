// What the main thread and the matmul workers share: a control block of Int32 counters and Float64 parameters.

/** ctrl[GEN]: the job number (the main thread bumps it and wakes the workers; −1 stops them). */
export const GEN = 0;
/** ctrl[PENDING]: workers still computing the current job (the last one to finish wakes the main thread). */
export const PENDING = 1;
/** params: m, n, k, transB, the number of parts (workers + main), in a Float64Array over shared memory. */
export const PARAMS = { m: 0, n: 1, k: 2, transB: 3, parts: 4 } as const;

/** The shared scratch matrices: op(A) row-major (M×K), B as stored, C (M×N). */
export interface Scratch {
  a: SharedArrayBuffer;
  b: SharedArrayBuffer;
  c: SharedArrayBuffer;
}

/** Rows [start, end) of C that part `index` of `parts` computes (even split; the main thread is part 0). */
export function rowsOf(index: number, parts: number, m: number): [number, number] {
  return [Math.floor((index * m) / parts), Math.floor(((index + 1) * m) / parts)];
}
