// Each unary op and its derivative as GLSL-ready expressions for gpu.js kernels: the GPU twin of ../unary.ts, by name.
// In the expressions, x is the input, y = f(x), p0 and p1 the op's parameters. Reference for each formula: ../unary.ts.
import type { UnaryOp } from '../unary.js';

/** f(x) and df(x, y) per op; both are spliced into a kernel function's source. */
export const GPU_UNARY: Record<UnaryOp, { f: string; df: string }> = {
  neg: { f: '-x', df: '-1.0' },
  abs: { f: 'Math.abs(x)', df: 'Math.sign(x)' },
  exp: { f: 'Math.exp(x)', df: 'y' },
  log: { f: 'Math.log(x)', df: '1.0 / x' },
  sqrt: { f: 'Math.sqrt(x)', df: '0.5 / y' },
  square: { f: 'x * x', df: '2.0 * x' },
  sin: { f: 'Math.sin(x)', df: 'Math.cos(x)' },
  cos: { f: 'Math.cos(x)', df: '-Math.sin(x)' },
  tanh: { f: 'tanhStable(x)', df: '1.0 - y * y' },
  sigmoid: { f: 'logistic(x)', df: 'y * (1.0 - y)' },
  relu: { f: 'Math.max(x, 0.0)', df: '(x > 0.0 ? 1.0 : 0.0)' },
  leakyRelu: { f: '(x > 0.0 ? x : p0 * x)', df: '(x > 0.0 ? 1.0 : p0)' },
  elu: { f: '(x > 0.0 ? x : p0 * (Math.exp(x) - 1.0))', df: '(x > 0.0 ? 1.0 : y + p0)' },
  selu: {
    f: '(x > 0.0 ? 1.0507009873554805 * x : 1.7580993408473766 * (Math.exp(x) - 1.0))', // λ and λα
    df: '(x > 0.0 ? 1.0507009873554805 : y + 1.7580993408473766)',
  },
  silu: { f: 'x * logistic(x)', df: 'logistic(x) * (1.0 + x * (1.0 - logistic(x)))' },
  gelu: { f: 'x * normalCdf(x)', df: 'normalCdf(x) + x * 0.3989422804014327 * Math.exp(-0.5 * x * x)' },
  geluTanh: {
    f: '0.5 * x * (1.0 + tanhStable(0.7978845608028654 * (x + 0.044715 * x * x * x)))',
    df: 'geluTanhGrad(x)',
  },
  softplus: { f: 'Math.max(x, 0.0) + Math.log(1.0 + Math.exp(-Math.abs(x)))', df: 'logistic(x)' },
  clip: { f: 'Math.min(Math.max(x, p0), p1)', df: '(x >= p0 && x <= p1 ? 1.0 : 0.0)' },
};

/**
 * Helper functions the expressions call, registered with gpu.js by name, which translates their JavaScript to GLSL.
 * NB: kept as source text, like the kernels: a bundler's minifier renames and rewrites functions (the page's build
 * did), and gpu.js reads the source it is given.
 */
export const GPU_HELPERS: [name: string, source: string][] = [
  ['logistic', `function logistic(x) {
    return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
  }`],
  // erf by Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7: float32 precision; the CPU kernels use a float64 series).
  ['erfApprox', `function erfApprox(x) {
    const ax = Math.abs(x);
    const t = 1 / (1 + 0.3275911 * ax);
    const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    return Math.sign(x) * (1 - poly * Math.exp(-ax * ax));
  }`],
  // uᵛ as the CPU computes it: GLSL's pow is undefined for u < 0 (and for 0⁰); a negative base needs an integer v.
  ['powSafe', `function powSafe(u, v) {
    if (u > 0) return Math.pow(u, v);
    if (u === 0) return v === 0 ? 1 : v > 0 ? 0 : 1 / 0;
    if (Math.floor(v) !== v) return 0 / 0;
    const r = Math.pow(-u, v);
    return v - 2 * Math.floor(v / 2) > 0.5 ? -r : r;
  }`],
  ['normalCdf', `function normalCdf(x) {
    return 0.5 * (1 + erfApprox(x * 0.7071067811865476));
  }`],
  // tanh(x) = sign(x)·(1 − e^(−2|x|)) / (1 + e^(−2|x|)): gpu.js's WebGL1 tanh overflows (NaN) for large |x|.
  ['tanhStable', `function tanhStable(x) {
    const e = Math.exp(-2 * Math.abs(x));
    return (Math.sign(x) * (1 - e)) / (1 + e);
  }`],
  ['geluTanhGrad', `function geluTanhGrad(x) {
    const t = tanhStable(0.7978845608028654 * (x + 0.044715 * x * x * x));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * 0.7978845608028654 * (1 + 3 * 0.044715 * x * x);
  }`],
];

