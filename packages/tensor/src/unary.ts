// The elementwise op tables: each unary op's f(x) beside its derivative df(x, y) (y = f(x)), and each binary op's f(a, b).
// Backends dispatch on these names; the CPU kernels call these functions, the GPU backend writes its own by the same names.
import { normalCdf, normalPdf } from './special.js';

/** One unary op: the forward function and its derivative dy/dx, given x and y = f(x). `p` holds the op's parameters. */
export interface UnaryDef {
  f(x: number, p: readonly number[]): number;
  df(x: number, y: number, p: readonly number[]): number;
  /** Parameter names and defaults, e.g. leakyRelu's slope `alpha = 0.01`. */
  params?: readonly (readonly [string, number])[];
  /** Whether the op maps integers to integers, so int32 tensors are accepted. */
  int?: boolean;
}

// SELU constants. Reference: Klambauer et al., "Self-Normalizing Neural Networks" (2017), eq. 2.
export const SELU_ALPHA = 1.6732632423543772;
export const SELU_LAMBDA = 1.0507009873554805;
const SQRT_2_OVER_PI = 0.7978845608028654; // √(2/π)
const GELU_C = 0.044715;

/** The logistic function σ(x) = 1 / (1 + e^(−x)) on one number, written so that neither branch overflows. */
export function logistic(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export const UNARY = {
  neg: { f: (x) => -x, df: () => -1, int: true },
  abs: { f: (x) => Math.abs(x), df: (x) => Math.sign(x), int: true },
  exp: { f: (x) => Math.exp(x), df: (_x, y) => y },
  log: { f: (x) => Math.log(x), df: (x) => 1 / x },
  sqrt: { f: (x) => Math.sqrt(x), df: (_x, y) => 0.5 / y },
  square: { f: (x) => x * x, df: (x) => 2 * x, int: true },
  sin: { f: (x) => Math.sin(x), df: (x) => Math.cos(x) },
  cos: { f: (x) => Math.cos(x), df: (x) => -Math.sin(x) },
  tanh: { f: (x) => Math.tanh(x), df: (_x, y) => 1 - y * y },
  sigmoid: { f: logistic, df: (_x, y) => y * (1 - y) },
  // NB: the derivative at the kink x = 0 is taken as 0 (PyTorch's convention).
  relu: { f: (x) => (x > 0 ? x : 0), df: (x) => (x > 0 ? 1 : 0), int: true },
  leakyRelu: {
    f: (x, p) => (x > 0 ? x : p[0] * x),
    df: (x, _y, p) => (x > 0 ? 1 : p[0]),
    params: [['alpha', 0.01]],
  },
  // elu(x) = x for x > 0, α(eˣ − 1) otherwise; for x ≤ 0 the derivative αeˣ equals y + α.
  elu: {
    f: (x, p) => (x > 0 ? x : p[0] * Math.expm1(x)),
    df: (x, y, p) => (x > 0 ? 1 : y + p[0]),
    params: [['alpha', 1]],
  },
  // selu(x) = λx for x > 0, λα(eˣ − 1) otherwise; for x ≤ 0 the derivative λαeˣ equals y + λα.
  selu: {
    f: (x) => SELU_LAMBDA * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
    df: (x, y) => (x > 0 ? SELU_LAMBDA : y + SELU_LAMBDA * SELU_ALPHA),
  },
  // silu(x) = x σ(x) ("swish"); derivative σ(x) (1 + x (1 − σ(x))).
  silu: {
    f: (x) => x * logistic(x),
    df: (x) => {
      const s = logistic(x);
      return s * (1 + x * (1 - s));
    },
  },
  // Exact GELU: x Φ(x) with Φ the standard normal CDF; derivative Φ(x) + x φ(x).
  // Reference: Hendrycks & Gimpel, "Gaussian Error Linear Units" (2016), §2.
  gelu: { f: (x) => x * normalCdf(x), df: (x) => normalCdf(x) + x * normalPdf(x) },
  // Tanh approximation: ½x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³) (same paper, §2);
  // derivative ½(1 + t) + ½x(1 − t²) √(2/π)(1 + 3·0.044715x²), t = tanh(u).
  geluTanh: {
    f: (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x))),
    df: (x) => {
      const t = Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x);
    },
  },
  // softplus(x) = log(1 + eˣ) = max(x, 0) + log1p(e^(−|x|)) (no overflow); derivative σ(x).
  softplus: { f: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), df: (x) => logistic(x) },
  // NB: like PyTorch's clamp, the derivative is 1 on the closed interval [lo, hi] and 0 outside it.
  clip: {
    f: (x, p) => (x < p[0] ? p[0] : x > p[1] ? p[1] : x),
    df: (x, _y, p) => (x >= p[0] && x <= p[1] ? 1 : 0),
    params: [['lo', -Infinity], ['hi', Infinity]],
    int: true,
  },
} satisfies Record<string, UnaryDef>;

export type UnaryOp = keyof typeof UNARY;
export const UNARY_OPS = Object.keys(UNARY) as UnaryOp[];

/** Binary elementwise ops (broadcasting is done by the kernels, not here). Comparisons give 1 or 0. */
export const BINARY = {
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  div: (a: number, b: number) => a / b,
  pow: (a: number, b: number) => Math.pow(a, b),
  maximum: (a: number, b: number) => (a >= b || Number.isNaN(a) ? a : b),
  minimum: (a: number, b: number) => (a <= b || Number.isNaN(a) ? a : b),
  gt: (a: number, b: number) => (a > b ? 1 : 0),
  lt: (a: number, b: number) => (a < b ? 1 : 0),
  ge: (a: number, b: number) => (a >= b ? 1 : 0),
  le: (a: number, b: number) => (a <= b ? 1 : 0),
  eq: (a: number, b: number) => (a === b ? 1 : 0),
} satisfies Record<string, (a: number, b: number) => number>;

export type BinaryOp = keyof typeof BINARY;
export const BINARY_OPS = Object.keys(BINARY) as BinaryOp[];

