// Closed forms for Gaussian data z ~ N(μ, Σ) in 2-D carried by a Gaussian path from N(0, I): the independent reference
// for the prediction conversions, the SDE sampler and the marginal field. Everything by joint-Gaussian conditioning.
//   x_t = α z + β x0 + σ ε  ⇒  x_t ~ N(α μ, C), C = α² Σ + s² I, s² = β² + σ²;
//   E[z | x] = μ + α Σ C⁻¹ (x − α μ);  E[x0 | x] = β C⁻¹ (x − α μ);  ∇log p_t(x) = −C⁻¹ (x − α μ).

/** A 2 × 2 matrix, row-major. */
export type M2 = [number, number, number, number];

export const inv2 = ([a, b, c, d]: M2): M2 => {
  const det = a * d - b * c;
  return [d / det, -b / det, -c / det, a / det];
};
export const mulv = ([a, b, c, d]: M2, [x, y]: number[]): [number, number] => [a * x + b * y, c * x + d * y];

/** The coefficients of a path at one time. */
export interface Coef {
  a: number;
  b: number;
  sigma: number;
  da: number;
  db: number;
}

/** The exact quantities at one point x of the t-marginal. */
export function gaussianTruth(mu: number[], S: M2, c: Coef, x: number[]) {
  const s2 = c.b * c.b + c.sigma * c.sigma;
  const C: M2 = [c.a * c.a * S[0] + s2, c.a * c.a * S[1], c.a * c.a * S[2], c.a * c.a * S[3] + s2];
  const Ci = inv2(C);
  const r = [x[0] - c.a * mu[0], x[1] - c.a * mu[1]];
  const w = mulv(Ci, r); // C⁻¹ (x − α μ)
  const Sw = mulv(S, w);
  const zhat = [mu[0] + c.a * Sw[0], mu[1] + c.a * Sw[1]];
  const x0hat = [c.b * w[0], c.b * w[1]];
  const score = [-w[0], -w[1]];
  const s = Math.sqrt(s2);
  const epsilon = [s * w[0], s * w[1]];
  const velocity = [c.da * zhat[0] + c.db * x0hat[0], c.da * zhat[1] + c.db * x0hat[1]];
  const detC = C[0] * C[3] - C[1] * C[2];
  const density = Math.exp(-0.5 * (r[0] * w[0] + r[1] * w[1])) / (2 * Math.PI * Math.sqrt(detC));
  return { zhat, x0hat, score, epsilon, velocity, density, mean: [c.a * mu[0], c.a * mu[1]], cov: C };
}
