// CPU matmul kernels, C = op(A)·op(B): a reference triple loop and a register-blocked kernel, both reading
// transposed operands in place through strides (nothing is materialised).

/**
 * Where the operands live. op(A) is M×K: with transA, A is stored K×M. op(B) is K×N: with transB, B is stored N×K.
 * Offsets select one matrix of a batch.
 */
export interface MatmulArgs {
  /** A's elements: row-major M×K, or K×M with transA. */
  a: ArrayLike<number>;
  /** B's elements: row-major K×N, or N×K with transB. */
  b: ArrayLike<number>;
  /** The output: C (M×N, row-major) is written from cOffset on, overwriting what was there. */
  c: {
    [i: number]: number;
    /** Number of elements. */
    length: number;
  };
  /** Rows of op(A) and of C. */
  m: number;
  /** Columns of op(B) and of C. */
  n: number;
  /** The inner dimension: columns of op(A), rows of op(B). */
  k: number;
  /** A is stored transposed (K×M). */
  transA: boolean;
  /** B is stored transposed (N×K). */
  transB: boolean;
  /** Index of A's first element in `a` (default 0). */
  aOffset?: number;
  /** Index of B's first element in `b` (default 0). */
  bOffset?: number;
  /** Index of C's first element in `c` (default 0). */
  cOffset?: number;
}

/**
 * Element strides of op(A) and op(B): op(A)[i, p] = a[aOffset + i·ai + p·ap], op(B)[p, j] = b[bOffset + p·bp + j·bj].
 * Row-major A (M×K): ai = K, ap = 1; stored transposed (K×M): ai = 1, ap = M. Likewise for B.
 */
function strides({ m, n, k, transA, transB }: MatmulArgs): { ai: number; ap: number; bp: number; bj: number } {
  return {
    ai: transA ? 1 : k,
    ap: transA ? m : 1,
    bp: transB ? 1 : n,
    bj: transB ? k : 1,
  };
}

/** The textbook triple loop: C[i, j] = Σ_p op(A)[i, p] · op(B)[p, j]. Slow and obviously right: the reference. */
export function matmulReference(args: MatmulArgs): void {
  const { a, b, c, m, n, k, aOffset = 0, bOffset = 0, cOffset = 0 } = args;
  const { ai, ap, bp, bj } = strides(args);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += a[aOffset + i * ai + p * ap] * b[bOffset + p * bp + j * bj];
      c[cOffset + i * n + j] = sum;
    }
  }
}

/**
 * Register blocking: each pass of the p loop loads 4 elements of op(A) (a column of a 4-row block) and 8 of op(B)
 * (a row of an 8-column block) and does 32 multiply-adds into 32 accumulators that live in registers (or the
 * stack) for the whole K loop. The reference loop does 2 loads per multiply-add; this one 12 per 32, and C is
 * written once. Rows and columns left over at the edges (M mod 4, N mod 8) use a plain dot product.
 */
export function matmulBlocked(args: MatmulArgs): void {
  const { a, b, c, m, n, k, aOffset = 0, bOffset = 0, cOffset = 0 } = args;
  const { ai, ap, bp, bj } = strides(args);
  const m4 = m - (m % 4);
  const n8 = n - (n % 8);
  for (let i = 0; i < m4; i += 4) {
    for (let j = 0; j < n8; j += 8) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c04 = 0, c05 = 0, c06 = 0, c07 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0, c16 = 0, c17 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c24 = 0, c25 = 0, c26 = 0, c27 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0, c34 = 0, c35 = 0, c36 = 0, c37 = 0;
      let pa = aOffset + i * ai; // op(A)[i, p]
      let pb = bOffset + j * bj; // op(B)[p, j]
      for (let p = 0; p < k; p++) {
        const a0 = a[pa], a1 = a[pa + ai], a2 = a[pa + 2 * ai], a3 = a[pa + 3 * ai];
        const b0 = b[pb], b1 = b[pb + bj], b2 = b[pb + 2 * bj], b3 = b[pb + 3 * bj];
        const b4 = b[pb + 4 * bj], b5 = b[pb + 5 * bj], b6 = b[pb + 6 * bj], b7 = b[pb + 7 * bj];
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3; c04 += a0 * b4; c05 += a0 * b5; c06 += a0 * b6; c07 += a0 * b7;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3; c14 += a1 * b4; c15 += a1 * b5; c16 += a1 * b6; c17 += a1 * b7;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3; c24 += a2 * b4; c25 += a2 * b5; c26 += a2 * b6; c27 += a2 * b7;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3; c34 += a3 * b4; c35 += a3 * b5; c36 += a3 * b6; c37 += a3 * b7;
        pa += ap;
        pb += bp;
      }
      let o = cOffset + i * n + j;
      c[o] = c00; c[o + 1] = c01; c[o + 2] = c02; c[o + 3] = c03; c[o + 4] = c04; c[o + 5] = c05; c[o + 6] = c06; c[o + 7] = c07;
      o += n;
      c[o] = c10; c[o + 1] = c11; c[o + 2] = c12; c[o + 3] = c13; c[o + 4] = c14; c[o + 5] = c15; c[o + 6] = c16; c[o + 7] = c17;
      o += n;
      c[o] = c20; c[o + 1] = c21; c[o + 2] = c22; c[o + 3] = c23; c[o + 4] = c24; c[o + 5] = c25; c[o + 6] = c26; c[o + 7] = c27;
      o += n;
      c[o] = c30; c[o + 1] = c31; c[o + 2] = c32; c[o + 3] = c33; c[o + 4] = c34; c[o + 5] = c35; c[o + 6] = c36; c[o + 7] = c37;
    }
  }
  // Edges: the last n − n8 columns of every row, then the last m − m4 rows over all columns.
  edgeDots(args, ai, ap, bp, bj, 0, m4, n8, n);
  edgeDots(args, ai, ap, bp, bj, m4, m, 0, n);
}

/** C[i, j] for rows [i0, i1) and columns [j0, j1) as plain dot products. */
function edgeDots(
  args: MatmulArgs,
  ai: number,
  ap: number,
  bp: number,
  bj: number,
  i0: number,
  i1: number,
  j0: number,
  j1: number,
): void {
  const { a, b, c, n, k, aOffset = 0, bOffset = 0, cOffset = 0 } = args;
  for (let i = i0; i < i1; i++) {
    for (let j = j0; j < j1; j++) {
      let sum = 0;
      let pa = aOffset + i * ai;
      let pb = bOffset + j * bj;
      for (let p = 0; p < k; p++, pa += ap, pb += bp) sum += a[pa] * b[pb];
      c[cOffset + i * n + j] = sum;
    }
  }
}
