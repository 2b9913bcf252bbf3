// The four things a network on a Gaussian path can predict — velocity, score, noise ε, data ẑ — and the exact
// conversions between them, for the independent coupling from an N(0, I) source.
//
// Along x_t = α_t z + β_t x0 + σ ε (x0, ε ~ N(0, I) independent of z), x_t given z is N(α_t z, s_t² I) with
// s_t = √(β_t² + σ²). Write ẑ = E[z | x_t = x] and ε̂ = E[(x − α_t z)/s_t | x_t = x] (the total noise, scaled). Then
//   x        = α ẑ + s ε̂                                (taking E[· | x] of the path's definition)
//   score    = ∇log p_t(x) = −ε̂ / s                     (Tweedie's formula: ∇log p_t(x) = (α ẑ − x)/s²)
//   velocity = E[α̇ z + β̇ x0 | x] = α̇ ẑ + β̇ (β/s) ε̂     (E[x0 | β x0 + σ ε] = (β/s²)(β x0 + σ ε))
// so each prediction is a linear combination qz·ẑ + qe·ε̂, and any one of them, with x, determines the others by a
// 2 × 2 solve. References: Lipman et al., "Flow Matching Guide and Code" (2024), §4.8 (Gaussian paths); Song et al.,
// "Score-Based Generative Modeling through SDEs" (2021); the MIT 6.S184 notes, lecture 4.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import type { GaussianPath } from './paths.js';

/** What a network predicts: the velocity u_t(x), the score ∇log p_t(x), the noise ε̂, or the data ẑ. */
export type Prediction = 'velocity' | 'score' | 'epsilon' | 'data';
/** Every prediction's name. */
export const PREDICTIONS: readonly Prediction[] = ['velocity', 'score', 'epsilon', 'data'];

/** A Gaussian path's coefficients at one time. */
export interface PathCoefficients {
  /** α_t. */
  a: number;
  /** β_t. */
  b: number;
  /** s_t = √(β_t² + σ²), the conditional standard deviation of x_t given z. */
  s: number;
  /** α̇_t. */
  da: number;
  /** β̇_t. */
  db: number;
  /** β_t / s_t (1 when σ = 0, also where β = 0). */
  bOverS: number;
}

/** The path's coefficients at time t: α, β, s = √(β² + σ²), α̇, β̇, and β/s. */
export function pathCoefficients(path: GaussianPath, t: number): PathCoefficients {
  const { scheduler: sc, sigma } = path;
  const [a, b] = [sc.alpha(t), sc.beta(t)];
  const s = Math.sqrt(b * b + sigma * sigma);
  return { a, b, s, da: sc.dAlpha(t), db: sc.dBeta(t), bOverS: sigma === 0 ? 1 : b / s };
}

/** A prediction as (qz, qe): its value is qz·ẑ + qe·ε̂. */
function weights(p: Prediction, c: PathCoefficients): [number, number] {
  switch (p) {
    case 'data':
      return [1, 0];
    case 'epsilon':
      return [0, 1];
    case 'score':
      return [0, -1 / c.s];
    case 'velocity':
      return [c.da, c.db * c.bOverS];
  }
}

/** What the conversions need of a model beyond its path: they hold for an N(0, I) source and independent pairs only. */
export interface PredictionSetting {
  /** The source distribution (`normal`: N(0, I); anything else is refused). Default `normal`. */
  source?: string;
  /** The coupling the model was trained with (`independent`; OT and Sinkhorn change p_t(x | z) and are refused). */
  coupling?: string;
}

/** Throws ValueError where the conversions do not hold: a non-normal source, or a coupling other than independent. */
export function checkPredictionSetting(op: string, setting: PredictionSetting = {}): void {
  const { source = 'normal', coupling = 'independent' } = setting;
  if (source !== 'normal') {
    throw new T.ValueError(op, `needs the N(0, I) source (the score of p_t follows from the velocity only for a Gaussian path from a standard normal); this model's source is '${source}'`);
  }
  if (coupling !== 'independent') {
    throw new T.ValueError(op, `needs the independent coupling; with '${coupling}' the pairs (x0, z) are not independent, so x_t given z is not N(α_t z, s_t² I) and the score does not follow from the velocity`);
  }
}

/**
 * The scalars (cv, cx) with `to` = cv·value + cx·x, where `value` is the `from` prediction at (x, t). Throws
 * ValueError where the conversion is singular at this t (the score from a velocity at t = 1 where s = 0, a velocity
 * from a score at t = 0 where α = 0): work on t ∈ [ε, 1 − ε].
 */
export function conversionCoefficients(path: GaussianPath, from: Prediction, to: Prediction, t: number): {
  /** The factor of the `from` value. */
  cv: number;
  /** The factor of x. */
  cx: number;
} {
  for (const p of [from, to]) if (!PREDICTIONS.includes(p)) throw new T.ValueError('convertPrediction', `unknown prediction '${String(p)}' (known: ${PREDICTIONS.join(', ')})`);
  if (!(t >= 0 && t <= 1)) throw new T.ValueError('convertPrediction', `t must lie in [0, 1], got ${t}`);
  const c = pathCoefficients(path, t);
  const singular = () =>
    new T.ValueError('convertPrediction', `${from} → ${to} is singular at t = ${t} on the ${path.scheduler.name} path (α = ${c.a}, s = ${c.s}); use t ∈ [ε, 1 − ε]`);
  if (from === to) return { cv: 1, cx: 0 };
  if (to === 'score' && !(c.s > 1e-12)) throw singular();
  const [qz, qe] = weights(from, c);
  const [tz, te] = weights(to, c);
  // Solve [qz qe; α s] [ẑ; ε̂] = [value; x], then to = tz·ẑ + te·ε̂.
  const det = qz * c.s - qe * c.a;
  if (!(Math.abs(det) > 1e-12) || !Number.isFinite(det)) throw singular();
  const [cv, cx] = [(tz * c.s - te * c.a) / det, (te * qz - tz * qe) / det];
  if (!Number.isFinite(cv) || !Number.isFinite(cx)) throw singular(); // e.g. a velocity at t = 1 on vp, where β̇ = −∞
  return { cv, cx };
}

/** A field of `from` predictions (e.g. a noise-predicting model's ε̂) as the velocity field a solver integrates. */
export function asVelocity(field: (x: Tensor, t: number) => Tensor, path: GaussianPath, from: Prediction): (x: Tensor, t: number) => Tensor {
  if (from === 'velocity') return field;
  return (x, t) => T.tidy(() => convertPrediction(path, from, 'velocity', x, field(x, t), t));
}

/** Converts a `from` prediction `value` (B, D) at points x (B, D) and time t into the `to` prediction (a new tensor). */
export function convertPrediction(path: GaussianPath, from: Prediction, to: Prediction, x: Tensor, value: Tensor, t: number): Tensor {
  const { cv, cx } = conversionCoefficients(path, from, to, t);
  return T.tidy(() => (cx === 0 ? T.mul(value, cv) : T.add(T.mul(value, cv), T.mul(x, cx))));
}
