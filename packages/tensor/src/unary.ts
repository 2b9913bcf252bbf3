// The unary op table: each op's f(x) beside its derivative df(x, y) (y = f(x)); the binary ops are in binary.ts.
// Backends dispatch on these names; the CPU kernels call these functions, the GPU backend writes its own by the same names.
import { normalCdf, normalPdf } from './special.js';

/** One unary op: the forward function and its derivative dy/dx, given x and y = f(x). `p` holds the op's parameters. */
export interface UnaryDef {
  /** f(x): the op's value at x, with `p` its parameters in the order of `params`. */
  f(x: number, p: readonly number[]): number;
  /** f′(x): the derivative at x; y = f(x) is given too, so that e.g. exp and tanh need no second exp / tanh. */
  df(x: number, y: number, p: readonly number[]): number;
  /** Parameter names and defaults, e.g. leakyRelu's slope `alpha = 0.01`. */
  params?: readonly (readonly [string, number])[];
  /** Whether the op maps integers to integers, so int32 tensors are accepted. */
  int?: boolean;
}

/**
 * SELU's α ≈ 1.6733: for x → −∞, selu(x) tends to −λα.
 * Reference: Klambauer et al., "Self-Normalizing Neural Networks" (2017), eq. 2.
 */
export const SELU_ALPHA = 1.6732632423543772;
/** SELU's scale λ ≈ 1.0507: selu(x) = λx for x > 0 (Klambauer et al. 2017, eq. 2). */
export const SELU_LAMBDA = 1.0507009873554805;
const SQRT_2_OVER_PI = 0.7978845608028654; // √(2/π)
const GELU_C = 0.044715;

/** The logistic function σ(x) = 1 / (1 + e^(−x)) on one number, written so that neither branch overflows. */
export function logistic(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * The unary elementwise ops by name: each op's f(x), its derivative f′(x) (`df`, given x and y = f(x)), its
 * parameters with their defaults, and whether it accepts int32 tensors (ops without `int` throw DTypeError on them).
 * The CPU kernels call these functions; the gpu and webgpu shaders and wasm's SIMD kernels implement the same formulas.
 */
export const UNARY = {
  /** Negation. */
  neg: {
    /** f(x) = −x. */
    f: (x) => -x,
    /** f′(x) = −1. */
    df: () => -1,
    /** Integer in, integer out: int32 tensors accepted. */
    int: true,
  },
  /** Absolute value. */
  abs: {
    /** f(x) = |x|. */
    f: (x) => Math.abs(x),
    /** f′(x) = sign(x), taken as 0 at x = 0. */
    df: (x) => Math.sign(x),
    /** Integer in, integer out: int32 tensors accepted. */
    int: true,
  },
  /** Exponential. */
  exp: {
    /** f(x) = eˣ. */
    f: (x) => Math.exp(x),
    /** f′(x) = eˣ = y. */
    df: (_x, y) => y,
  },
  /** Natural logarithm. */
  log: {
    /** f(x) = ln x: −∞ at 0, NaN for x < 0. */
    f: (x) => Math.log(x),
    /** f′(x) = 1/x. */
    df: (x) => 1 / x,
  },
  /** Square root. */
  sqrt: {
    /** f(x) = √x: NaN for x < 0. */
    f: (x) => Math.sqrt(x),
    /** f′(x) = 1/(2√x) = 0.5/y: +∞ at x = 0. */
    df: (_x, y) => 0.5 / y,
  },
  /** Square. */
  square: {
    /** f(x) = x². */
    f: (x) => x * x,
    /** f′(x) = 2x. */
    df: (x) => 2 * x,
    /** Integer in, integer out: int32 tensors accepted. */
    int: true,
  },
  /** Sine (x in radians). */
  sin: {
    /** f(x) = sin x. */
    f: (x) => Math.sin(x),
    /** f′(x) = cos x. */
    df: (x) => Math.cos(x),
  },
  /** Cosine (x in radians). */
  cos: {
    /** f(x) = cos x. */
    f: (x) => Math.cos(x),
    /** f′(x) = −sin x. */
    df: (x) => -Math.sin(x),
  },
  /** Hyperbolic tangent. */
  tanh: {
    /** f(x) = tanh x. */
    f: (x) => Math.tanh(x),
    /** f′(x) = 1 − tanh²x = 1 − y². */
    df: (_x, y) => 1 - y * y,
  },
  /** Logistic sigmoid. */
  sigmoid: {
    /** f(x) = σ(x) = 1 / (1 + e^(−x)) (see logistic). */
    f: logistic,
    /** f′(x) = σ(x)(1 − σ(x)) = y(1 − y). */
    df: (_x, y) => y * (1 - y),
  },
  /** Rectified linear unit. */
  relu: {
    /** f(x) = max(x, 0); NaN gives 0 (x > 0 is false). */
    f: (x) => (x > 0 ? x : 0),
    /** f′(x) = 1 for x > 0, else 0 (0 at the kink x = 0, PyTorch's convention). */
    df: (x) => (x > 0 ? 1 : 0),
    /** Integer in, integer out: int32 tensors accepted. */
    int: true,
  },
  /** Leaky ReLU with slope α below 0. */
  leakyRelu: {
    /** f(x) = x for x > 0, αx otherwise. */
    f: (x, p) => (x > 0 ? x : p[0] * x),
    /** f′(x) = 1 for x > 0, α otherwise. */
    df: (x, _y, p) => (x > 0 ? 1 : p[0]),
    /** α, the slope for x ≤ 0: 0.01 by default. */
    params: [['alpha', 0.01]],
  },
  /** Exponential linear unit (Clevert et al., "Fast and Accurate Deep Network Learning by ELUs", 2016). */
  elu: {
    /** f(x) = x for x > 0, α(eˣ − 1) otherwise. */
    f: (x, p) => (x > 0 ? x : p[0] * Math.expm1(x)),
    /** f′(x) = 1 for x > 0, αeˣ = y + α otherwise. */
    df: (x, y, p) => (x > 0 ? 1 : y + p[0]),
    /** α (f tends to −α as x → −∞): 1 by default. */
    params: [['alpha', 1]],
  },
  /** Scaled ELU, with λ = SELU_LAMBDA and α = SELU_ALPHA (Klambauer et al. 2017). */
  selu: {
    /** f(x) = λx for x > 0, λα(eˣ − 1) otherwise. */
    f: (x) => SELU_LAMBDA * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
    /** f′(x) = λ for x > 0, λαeˣ = y + λα otherwise. */
    df: (x, y) => (x > 0 ? SELU_LAMBDA : y + SELU_LAMBDA * SELU_ALPHA),
  },
  /** SiLU ("swish"): x times its sigmoid. */
  silu: {
    /** f(x) = x·σ(x). */
    f: (x) => x * logistic(x),
    /** f′(x) = σ(x)(1 + x(1 − σ(x))). */
    df: (x) => {
      const s = logistic(x);
      return s * (1 + x * (1 - s));
    },
  },
  /** Exact GELU (Hendrycks & Gimpel, "Gaussian Error Linear Units", 2016, §2). */
  gelu: {
    /** f(x) = x·Φ(x), Φ the standard normal CDF (normalCdf). */
    f: (x) => x * normalCdf(x),
    /** f′(x) = Φ(x) + x·φ(x), φ the standard normal density (normalPdf). */
    df: (x) => normalCdf(x) + x * normalPdf(x),
  },
  /** GELU's tanh approximation (Hendrycks & Gimpel 2016, §2). */
  geluTanh: {
    /** f(x) = ½x(1 + tanh u), with u = √(2/π)(x + 0.044715x³). */
    f: (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x))),
    /** f′(x) = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²), with t = tanh u. */
    df: (x) => {
      const t = Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x);
    },
  },
  /** Softplus, a smooth ReLU. */
  softplus: {
    /** f(x) = ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^(−|x|)) so that it never overflows. */
    f: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
    /** f′(x) = σ(x). */
    df: (x) => logistic(x),
  },
  /** Clamps to [lo, hi] (PyTorch's clamp). */
  clip: {
    /** f(x) = lo for x < lo, hi for x > hi, else x. */
    f: (x, p) => (x < p[0] ? p[0] : x > p[1] ? p[1] : x),
    /** f′(x) = 1 on the closed interval [lo, hi], 0 outside it (PyTorch's convention). */
    df: (x, _y, p) => (x >= p[0] && x <= p[1] ? 1 : 0),
    /** lo and hi, −∞ and +∞ by default. */
    params: [['lo', -Infinity], ['hi', Infinity]],
    /** Integer in, integer out: int32 tensors accepted. */
    int: true,
  },
} satisfies Record<string, UnaryDef>;

/** The name of a unary elementwise op: a key of UNARY. */
export type UnaryOp = keyof typeof UNARY;
/** Every unary op's name, in UNARY's order. */
export const UNARY_OPS = Object.keys(UNARY) as UnaryOp[];
