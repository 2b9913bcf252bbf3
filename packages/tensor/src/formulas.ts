// Every elementwise op's formula, written once: the source the build prints into each backend's kernels.
//
// scripts/build-kernels.mjs parses these strings (codegen/parse.ts) and prints them as JavaScript (the reference
// functions and the inlined loops of the CPU backends), as gpu.js kernel code (GLSL), as WGSL (WebGPU) and as
// WebAssembly SIMD text (the ops marked `simd`); the outputs are the `*.generated.*` files, never edited by hand.
//
// The language: numbers; the input x (unary ops; y = f(x) too in derivatives) or a and b (binary ops); the op's
// parameters by name; the constants below by name; + − × / with the usual precedence; comparisons, && and ||;
// `c ? u : v`; `name = expr;` for a local value; and these functions: exp, expm1 (eˣ − 1), log, log1p (ln(1 + x)),
// sqrt, abs, sign, sin, cos, tanh, logistic (σ), normalCdf (Φ), normalPdf (φ), max, min, pow, isNaN.

/** Named constants the formulas use; every target prints them as these float64 values. */
export const CONSTANTS = {
  /** SELU's scale λ: selu(x) = λx for x > 0. Reference: Klambauer et al., "Self-Normalizing Neural Networks" (2017), eq. 2. */
  SELU_LAMBDA: 1.0507009873554805,
  /** SELU's α: selu(x) → −λα as x → −∞ (Klambauer et al. 2017, eq. 2). */
  SELU_ALPHA: 1.6732632423543772,
  /** λ·α, the product the negative branch multiplies by. */
  SELU_LAMBDA_ALPHA: 1.0507009873554805 * 1.6732632423543772,
  /** √(2/π), in GELU's tanh approximation. */
  SQRT_2_OVER_PI: 0.7978845608028654,
  /** The cubic coefficient of GELU's tanh approximation (Hendrycks & Gimpel 2016, §2). */
  GELU_C: 0.044715,
} as const;

/** A unary op's formulas: f(x), and its derivative df in terms of x and y = f(x). */
export interface UnaryFormula {
  /** f(x). */
  readonly f: string;
  /** f′(x), which may use y = f(x) (so exp and tanh need no second exp / tanh). */
  readonly df: string;
  /** Parameter names and defaults, in the order ops take them. */
  readonly params?: readonly (readonly [string, number])[];
  /** Integer in, integer out: int32 tensors accepted. */
  readonly int?: boolean;
  /** Has a WebAssembly SIMD kernel (and a fused-linear epilogue); needs a formula the SIMD printer can express. */
  readonly simd?: boolean;
}

/** A binary op's formula f(a, b) (broadcasting is the kernels' job). */
export interface BinaryFormula {
  /** f(a, b). */
  readonly f: string;
  /** Has a WebAssembly SIMD kernel. */
  readonly simd?: boolean;
}

/** The unary ops: f(x) beside f′(x). Ops without `int` refuse int32 tensors. */
export const UNARY_FORMULAS = {
  neg: { f: '-x', df: '-1', int: true },
  /** f′ = sign(x), taken as 0 at x = 0. */
  abs: { f: 'abs(x)', df: 'sign(x)', int: true },
  exp: { f: 'exp(x)', df: 'y' },
  /** −∞ at 0, NaN for x < 0. */
  log: { f: 'log(x)', df: '1 / x' },
  /** NaN for x < 0; f′ = 1/(2√x) is +∞ at 0. */
  sqrt: { f: 'sqrt(x)', df: '0.5 / y' },
  square: { f: 'x * x', df: '2 * x', int: true },
  sin: { f: 'sin(x)', df: 'cos(x)' },
  cos: { f: 'cos(x)', df: '-sin(x)' },
  /** tanh′ = 1 − tanh². */
  tanh: { f: 'tanh(x)', df: '1 - y * y', simd: true },
  /** σ′ = σ(1 − σ). */
  sigmoid: { f: 'logistic(x)', df: 'y * (1 - y)', simd: true },
  /** NaN gives 0 (x > 0 is false); f′ = 0 at the kink x = 0 (PyTorch's convention). */
  relu: { f: 'x > 0 ? x : 0', df: 'x > 0 ? 1 : 0', int: true, simd: true },
  /** α, the slope for x ≤ 0. */
  leakyRelu: { f: 'x > 0 ? x : alpha * x', df: 'x > 0 ? 1 : alpha', params: [['alpha', 0.01]] },
  /** Clevert et al., "Fast and Accurate Deep Network Learning by ELUs" (2016): f → −α as x → −∞; f′ = αeˣ = y + α below 0. */
  elu: { f: 'x > 0 ? x : alpha * expm1(x)', df: 'x > 0 ? 1 : y + alpha', params: [['alpha', 1]] },
  /** Scaled ELU (Klambauer et al. 2017, eq. 2); f′ = λαeˣ = y + λα below 0. */
  selu: {
    f: 'SELU_LAMBDA * (x > 0 ? x : SELU_ALPHA * expm1(x))',
    df: 'x > 0 ? SELU_LAMBDA : y + SELU_LAMBDA_ALPHA',
    simd: true,
  },
  /** SiLU ("swish"), x·σ(x); f′ = σ(x)(1 + x(1 − σ(x))). */
  silu: { f: 'x * logistic(x)', df: 's = logistic(x); s * (1 + x * (1 - s))', simd: true },
  /** Exact GELU, x·Φ(x) (Hendrycks & Gimpel, "Gaussian Error Linear Units", 2016, §2); f′ = Φ(x) + x·φ(x). */
  gelu: { f: 'x * normalCdf(x)', df: 'normalCdf(x) + x * normalPdf(x)' },
  /** GELU's tanh approximation ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³) (Hendrycks & Gimpel 2016, §2). */
  geluTanh: {
    f: 't = tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x)); 0.5 * x * (1 + t)',
    df: 't = tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x)); 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x)',
  },
  /** ln(1 + eˣ), written as max(x, 0) + ln(1 + e^(−|x|)) so that it never overflows; f′ = σ(x). */
  softplus: { f: 'max(x, 0) + log1p(exp(-abs(x)))', df: 'logistic(x)' },
  /** Clamps to [lo, hi] (PyTorch's clamp); f′ = 1 on the closed interval, 0 outside it (PyTorch's convention). */
  clip: {
    f: 'x < lo ? lo : x > hi ? hi : x',
    df: 'x >= lo && x <= hi ? 1 : 0',
    params: [['lo', -Infinity], ['hi', Infinity]],
    int: true,
  },
} as const satisfies Record<string, UnaryFormula>;

/** The binary ops. Comparisons give 1 or 0; maximum and minimum give NaN if either operand is NaN. */
export const BINARY_FORMULAS = {
  add: { f: 'a + b', simd: true },
  sub: { f: 'a - b', simd: true },
  mul: { f: 'a * b', simd: true },
  /** IEEE: ±∞ for b = 0, NaN for 0/0. */
  div: { f: 'a / b', simd: true },
  /** NaN for a negative a and a non-integer b. */
  pow: { f: 'pow(a, b)' },
  maximum: { f: 'a >= b || isNaN(a) ? a : b' },
  minimum: { f: 'a <= b || isNaN(a) ? a : b' },
  gt: { f: 'a > b ? 1 : 0' },
  lt: { f: 'a < b ? 1 : 0' },
  ge: { f: 'a >= b ? 1 : 0' },
  le: { f: 'a <= b ? 1 : 0' },
  /** NaN equals nothing, itself included. */
  eq: { f: 'a == b ? 1 : 0' },
} as const satisfies Record<string, BinaryFormula>;

/** The name of a unary elementwise op. */
export type UnaryOp = keyof typeof UNARY_FORMULAS;
/** The name of a binary elementwise op. */
export type BinaryOp = keyof typeof BINARY_FORMULAS;
/** The unary ops with a WebAssembly SIMD kernel. */
export type SimdUnaryOp = { [K in UnaryOp]: (typeof UNARY_FORMULAS)[K] extends { simd: true } ? K : never }[UnaryOp];
/** The binary ops with a WebAssembly SIMD kernel. */
export type SimdBinaryOp = { [K in BinaryOp]: (typeof BINARY_FORMULAS)[K] extends { simd: true } ? K : never }[BinaryOp];

/** Every unary op's name, in the table's order. */
export const UNARY_OPS = Object.keys(UNARY_FORMULAS) as UnaryOp[];
/** Every binary op's name, in the table's order. */
export const BINARY_OPS = Object.keys(BINARY_FORMULAS) as BinaryOp[];
/** The unary ops with a SIMD kernel, in the table's order (which numbers them for the fused linear layer: 1, 2, …). */
export const SIMD_UNARY_OPS = UNARY_OPS.filter((op) => 'simd' in UNARY_FORMULAS[op]) as SimdUnaryOp[];
/** The binary ops with a SIMD kernel. */
export const SIMD_BINARY_OPS = BINARY_OPS.filter((op) => 'simd' in BINARY_FORMULAS[op]) as SimdBinaryOp[];

/** A formula printed in a shader language (by the build): its locals' declarations, then its value's expression. */
export interface PrintedFormula {
  readonly lets: readonly string[];
  readonly value: string;
}
