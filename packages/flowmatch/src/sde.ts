// Sampling by the stochastic differential equation with the flow's marginals: Euler–Maruyama.
//
// For any diffusion g_t ≥ 0, dX = [u_t(X) + (g_t²/2) ∇log p_t(X)] dt + g_t dW has the same marginals p_t as the ODE
// dX = u_t(X) dt: the extra drift (g²/2)∇log p cancels, in the Fokker–Planck equation, the spreading (g²/2)Δp of the
// noise. Reference: the MIT 6.S184 notes, Theorem 13 (SDE extension trick); Song et al., "Score-Based Generative
// Modeling through SDEs" (2021), eq. 6. The score comes from the learned velocity (predictions.ts), one network
// evaluation per step. Euler–Maruyama: X_{k+1} = X_k + h·drift(X_k, t_k) + g_{t_k}·√h·ξ_k, ξ_k ~ N(0, I)
// (Kloeden & Platen, "Numerical Solution of Stochastic Differential Equations", §9.1; weak order 1).
import * as T from '@rill/tensor';
import type { Generator, Tensor } from '@rill/tensor';
import { checkPredictionSetting, conversionCoefficients, pathCoefficients, type PredictionSetting } from './predictions.js';
import type { GaussianPath } from './paths.js';
import type { Field } from './solvers.js';

/** How g_t varies: `constant` (g_t = g), or `vanishing` (g_t = g·√β_t, 0 at t = 1, which keeps g_t²·∇log p_t bounded). */
export type DiffusionSchedule = 'constant' | 'vanishing';
/** Every diffusion schedule's name. */
export const DIFFUSION_SCHEDULES: readonly DiffusionSchedule[] = ['constant', 'vanishing'];

/** Options of {@link sdeSolve}. */
export interface SdeOptions {
  /** The path the velocity field was trained on (the score follows from the velocity through it). */
  path: GaussianPath;
  /** g ≥ 0, the diffusion's scale; 0 gives Euler's method exactly. */
  diffusion: number;
  /** How g_t varies over t (default `constant`). */
  schedule?: DiffusionSchedule;
  /** Steps from t = 0 to 1 (default 100). */
  steps?: number;
  /** The source of the noise dW (needed when g > 0). */
  generator?: Generator;
  /** The model's source and coupling: the conversion to a score holds for N(0, I) and independent pairs only. */
  setting?: PredictionSetting;
  /** Start time (default 0; SCORE_T0 for a noise-predicting model): the steps cover [t0, t1]. */
  t0?: number;
  /** End time (default 1; the path's tMax for a noise-predicting model on vp, whose velocity is singular at 1). */
  t1?: number;
}

/** What {@link sdeSolve} returns: the samples at t = 1 (a new tensor) and the network evaluations spent. */
export interface SdeResult {
  /** X at t = 1, the shape of the initial x. */
  x: Tensor;
  /** Evaluations of the velocity field: one per step. */
  nfe: number;
}

/** g_t for a schedule. */
export function diffusionAt(path: GaussianPath, g: number, schedule: DiffusionSchedule, t: number): number {
  return schedule === 'constant' ? g : g * Math.sqrt(Math.max(pathCoefficients(path, t).b, 0));
}

/** Integrates the SDE from t = 0 (x: samples of the source) to t = 1 with Euler–Maruyama; memory stays flat. */
export function sdeSolve(f: Field, x: Tensor, options: SdeOptions): SdeResult {
  const { path, diffusion: g, schedule = 'constant', steps = 100, generator, setting, t0 = 0, t1 = 1 } = options;
  if (!(t0 >= 0 && t0 < t1 && t1 <= 1)) throw new T.ValueError('euler-maruyama', `needs 0 ≤ t0 < t1 ≤ 1, got ${t0}, ${t1}`);
  const op = 'euler-maruyama';
  if (typeof f !== 'function') throw new T.ValueError(op, 'the field must be a function (x, t) → velocity; wrap a model with fieldOf(model)');
  if (!(g >= 0 && Number.isFinite(g))) throw new T.ValueError(op, `the diffusion g must be finite and ≥ 0, got ${g}`);
  if (!DIFFUSION_SCHEDULES.includes(schedule)) throw new T.ValueError(op, `unknown diffusion schedule '${String(schedule)}' (known: ${DIFFUSION_SCHEDULES.join(', ')})`);
  if (!(Number.isInteger(steps) && steps >= 1)) throw new T.ValueError(op, `steps must be an integer ≥ 1, got ${steps}`);
  if (g > 0 && !generator) throw new T.ValueError(op, 'a diffusion g > 0 needs a generator for the noise');
  if (g > 0) checkPredictionSetting(op, setting);
  // The grid of solve()'s fixed-step methods (t_k = k/steps, the last exactly 1), so that g = 0 is Euler bit for bit.
  const grid = Array.from({ length: steps + 1 }, (_, k) => (k === steps ? t1 : t0 === 0 && t1 === 1 ? k * (1 / steps) : t0 + k * ((t1 - t0) / steps)));
  let current = T.clone(x);
  for (let k = 0; k < steps; k++) {
    const [t, h] = [grid[k], grid[k + 1] - grid[k]];
    const gt = diffusionAt(path, g, schedule, t);
    const next = T.tidy(() => {
      const u = f(current, t);
      if (gt === 0) return T.add(current, T.mul(u, h)); // exactly Euler's step
      // drift = u + (g²/2)·score, with score = cv·u + cx·x (velocity → score at this t)
      const { cv, cx } = conversionCoefficients(path, 'velocity', 'score', t);
      const half = (gt * gt) / 2;
      const drift = T.add(T.mul(u, 1 + half * cv), T.mul(current, half * cx));
      const noise = T.randn([...x.shape], { generator, dtype: x.dtype, std: gt * Math.sqrt(h) });
      return T.add(T.add(current, T.mul(drift, h)), noise);
    });
    current.dispose();
    current = next;
  }
  return { x: current, nfe: steps };
}
