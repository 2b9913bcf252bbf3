// The binary op table: each elementwise op's f(a, b) (broadcasting is the kernels' job); backends dispatch on these names.

/** Binary elementwise ops (broadcasting is done by the kernels, not here). Comparisons give 1 or 0. */
export const BINARY = {
  /** a + b. */
  add: (a: number, b: number) => a + b,
  /** a − b. */
  sub: (a: number, b: number) => a - b,
  /** a · b. */
  mul: (a: number, b: number) => a * b,
  /** a / b (IEEE: ±∞ for b = 0, NaN for 0/0). */
  div: (a: number, b: number) => a / b,
  /** aᵇ (Math.pow: NaN for a negative a and a non-integer b). */
  pow: (a: number, b: number) => Math.pow(a, b),
  /** The larger of a and b; NaN if either is NaN. */
  maximum: (a: number, b: number) => (a >= b || Number.isNaN(a) ? a : b),
  /** The smaller of a and b; NaN if either is NaN. */
  minimum: (a: number, b: number) => (a <= b || Number.isNaN(a) ? a : b),
  /** 1 if a > b, else 0. */
  gt: (a: number, b: number) => (a > b ? 1 : 0),
  /** 1 if a < b, else 0. */
  lt: (a: number, b: number) => (a < b ? 1 : 0),
  /** 1 if a ≥ b, else 0. */
  ge: (a: number, b: number) => (a >= b ? 1 : 0),
  /** 1 if a ≤ b, else 0. */
  le: (a: number, b: number) => (a <= b ? 1 : 0),
  /** 1 if a = b, else 0 (NaN equals nothing, itself included). */
  eq: (a: number, b: number) => (a === b ? 1 : 0),
} satisfies Record<string, (a: number, b: number) => number>;

/** The name of a binary elementwise op: a key of BINARY. */
export type BinaryOp = keyof typeof BINARY;
/** Every binary op's name, in BINARY's order. */
export const BINARY_OPS = Object.keys(BINARY) as BinaryOp[];

