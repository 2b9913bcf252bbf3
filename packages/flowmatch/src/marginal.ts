// The exact marginal velocity u_t(x) of formula (∗), u_t(x) = ∫ u_t(x | z) p_t(x | z) p(z) / p_t(x) dz, for data
// whose posterior over z is computable: a finite dataset, and a mixture of isotropic Gaussians.
//
// On a Gaussian path from N(0, I) with independent pairs, p_t(x | z) = N(α z, s² I), s² = β² + σ², and the
// conditional velocity written as a function of x is u_t(x | z) = α̇ z + β̇ E[x0 | x, z] = α̇ z + β̇ (β/s²)(x − α z).
// So u_t(x) = α̇ ẑ + β̇ (β/s²)(x − α ẑ) with ẑ = E[z | x_t = x], the posterior mean of the data point.
// - A finite dataset {z_j}: ẑ = Σ_j w_j z_j with w = softmax_j(−‖x − α z_j‖² / (2s²)) (computed stably: each row's
//   largest logit subtracted first). At t → 1 the weights become one-hot on the nearest point: the exact field
//   carries every sample onto a training point — memorisation, which a learned field avoids.
// - A mixture Σ_k π_k N(μ_k, τ_k² I): given component k, x_t ~ N(α μ_k, c_k I), c_k = α² τ_k² + s², and
//   E[z | x, k] = μ_k + (α τ_k² / c_k)(x − α μ_k); the component's posterior weight ∝ π_k N(x; α μ_k, c_k I).
// Reference: Lipman et al., "Flow Matching for Generative Modeling" (2023), eq. 8; the MIT 6.S184 notes, §3.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { pathCoefficients } from './predictions.js';
import type { GaussianPath } from './paths.js';
import type { Field } from './solvers.js';

/** A mixture of isotropic Gaussians: weights π_k (normalised here), means μ_k (D each), standard deviations τ_k. */
export interface IsotropicMixture {
  /** π_k ≥ 0, not all 0 (default: equal). */
  weights?: number[];
  /** μ_k, each of length D. */
  means: number[][];
  /** τ_k ≥ 0, one per component (a single number: the same for all). */
  stds: number[] | number;
}

/** The marginal velocity field u_t(x) of a finite dataset (points (N, D)) or an isotropic mixture, on `path`. */
export function marginalVelocity(data: Tensor | IsotropicMixture, path: GaussianPath): Field {
  const posterior = data instanceof T.Tensor ? empiricalPosterior(data) : mixturePosterior(data);
  return (x, t) => {
    if (!(t >= 0 && t < 1)) throw new T.ValueError('marginalVelocity', `t must lie in [0, 1) (the field is singular at t = 1), got ${t}`);
    const c = pathCoefficients(path, t);
    const s2 = c.s * c.s;
    return T.tidy(() => {
      const zhat = posterior(x, c.a, s2);
      // u = α̇ ẑ + β̇ (β/s²)(x − α ẑ)
      return T.add(T.mul(zhat, c.da), T.mul(T.sub(x, T.mul(zhat, c.a)), (c.db * c.b) / s2));
    });
  };
}

/** Rows of softmax(logits) (B, K), each row's largest logit subtracted first. */
function softmaxRows(logits: Tensor): Tensor {
  const e = T.exp(T.sub(logits, T.max(logits, 1, true)));
  return T.div(e, T.sum(e, 1, true));
}

/** ẑ = E[z | x_t = x] for a finite dataset: the softmax-weighted mean of the points. */
function empiricalPosterior(points: Tensor) {
  if (points.rank !== 2 || points.shape[0] === 0) throw new T.ShapeError('marginalVelocity', `needs the data points as (N, D), got [${points.shape}]`);
  return (x: Tensor, a: number, s2: number): Tensor => {
    if (x.shape[1] !== points.shape[1]) throw new T.ShapeError('marginalVelocity', `x is (B, ${x.shape[1]}) but the data are (N, ${points.shape[1]})`);
    const z = x.dtype === points.dtype ? points : T.cast(points, x.dtype);
    const [B, D] = x.shape;
    // −‖x − α z_j‖² / (2s²) from the differences themselves, (B, N, D): the expanded 2α x·z_j − α²‖z_j‖² − ‖x‖² loses
    // every digit to cancellation near t = 1, where s is tiny and the logits are huge.
    const diff = T.sub(T.reshape(x, [B, 1, D]), T.reshape(T.mul(z, a), [1, z.shape[0], D]));
    const logits = T.div(T.sum(T.square(diff), 2), -2 * s2); // (B, N)
    return T.matmul(softmaxRows(logits), z); // (B, D)
  };
}

/** ẑ = E[z | x_t = x] for an isotropic mixture: Σ_k P(k | x) E[z | x, k]. */
function mixturePosterior(m: IsotropicMixture) {
  const K = m.means?.length ?? 0;
  const D = K ? m.means[0].length : 0;
  if (!K || m.means.some((mu) => mu.length !== D || !mu.every(Number.isFinite))) throw new T.ValueError('marginalVelocity', 'a mixture needs means: a non-empty list of finite vectors of one length');
  const stds = typeof m.stds === 'number' ? new Array<number>(K).fill(m.stds) : m.stds;
  const weights = m.weights ?? new Array<number>(K).fill(1);
  if (stds.length !== K || stds.some((v) => !(v >= 0))) throw new T.ValueError('marginalVelocity', `a mixture needs ${K} standard deviations ≥ 0`);
  if (weights.length !== K || weights.some((v) => !(v >= 0)) || !(weights.reduce((p, q) => p + q, 0) > 0)) {
    throw new T.ValueError('marginalVelocity', `a mixture needs ${K} weights ≥ 0 with a positive sum`);
  }
  return (x: Tensor, a: number, s2: number): Tensor => {
    if (x.shape[1] !== D) throw new T.ShapeError('marginalVelocity', `x is (B, ${x.shape[1]}) but the mixture is ${D}-dimensional`);
    const dtype = x.dtype;
    const mu = T.tensor(m.means, { dtype }); // (K, D)
    const c = stds.map((tau) => a * a * tau * tau + s2); // per-component variance of x_t
    const row = (v: number[]) => T.tensor([v], { dtype }); // (1, K)
    // log π_k − (D/2) log c_k − ‖x − α μ_k‖² / (2 c_k), dropping what is the same for every k
    const sq = T.add(T.sub(T.reshape(T.sum(T.square(x), 1), [x.shape[0], 1]), T.mul(T.matmul(x, mu, { transB: true }), 2 * a)), T.mul(T.reshape(T.sum(T.square(mu), 1), [1, K]), a * a));
    const logits = T.add(T.div(T.mul(sq, -0.5), row(c)), row(c.map((ck, k) => Math.log(weights[k]) - 0.5 * D * Math.log(ck))));
    const post = softmaxRows(logits); // (B, K)
    // E[z | x, k] = μ_k (1 − α² τ_k²/c_k) + (α τ_k²/c_k) x, so ẑ = post·(μ ⊙ (1 − α²τ²/c)) + (post·(ατ²/c)) x
    const gain = c.map((ck, k) => (a * stds[k] * stds[k]) / ck);
    const shrunk = T.mul(mu, T.tensor(gain.map((gk) => [1 - a * gk]), { dtype }));
    return T.add(T.matmul(post, shrunk), T.mul(x, T.matmul(post, T.tensor(gain.map((gk) => [gk]), { dtype }))));
  };
}
