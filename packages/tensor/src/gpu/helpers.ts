// Helper functions the gpu.js kernels' formulas call (printed from ../formulas.ts into elementwise.generated.ts):
// what GLSL lacks (σ, Φ, φ, erf) or gets wrong (tanh overflows, pow of a negative base).
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
  // φ(x) = e^(−x²/2) / √(2π)
  ['normalPdf', `function normalPdf(x) {
    return 0.3989422804014327 * Math.exp(-0.5 * x * x);
  }`],
  // tanh(x) = sign(x)·(1 − e^(−2|x|)) / (1 + e^(−2|x|)): gpu.js's WebGL1 tanh overflows (NaN) for large |x|.
  ['tanhStable', `function tanhStable(x) {
    const e = Math.exp(-2 * Math.abs(x));
    return (Math.sign(x) * (1 - e)) / (1 + e);
  }`],
];

