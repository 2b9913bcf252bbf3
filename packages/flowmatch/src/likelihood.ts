// Exact log-likelihood of a flow-matching model: integrate the instantaneous change of variables from data to noise.
import * as A from '@rill/autograd';
import { Var } from '@rill/autograd';
import * as T from '@rill/tensor';
import type { Generator, Tensor } from '@rill/tensor';
import { solve, type Method } from './solvers.js';

/** A velocity field on Vars, differentiable in x: (x (B, D), t) → (B, D). An MLP's forward, or your own. */
export type DiffField = (x: Var, t: number) => Var;

/** Options of {@link logProb}. */
export interface LogProbOptions {
  /** `exact`: the Jacobian trace, one backward pass per dimension. `hutchinson`: E[εᵀ (∂u/∂x) ε], one pass. */
  divergence?: 'exact' | 'hutchinson';
  /** ODE method for the reverse-time integration (default `rk4`). */
  method?: Method;
  /** Fixed-step methods: number of steps from t = 1 to t = 0 (default 50). */
  steps?: number;
  /** dopri5 relative tolerance (default 1e-5, as {@link SolveOptions.rtol}). */
  rtol?: number;
  /** dopri5 absolute tolerance (default 1e-5, as {@link SolveOptions.atol}). */
  atol?: number;
  /**
   * log p₀ of the noise end (B, D) → (B). Default: the path's t = 0 marginal when `path` is given, else N(0, I).
   * Only meaningful for models trained from the standard normal source.
   */
  sourceLogProb?: (x: Tensor) => Tensor;
  /** The path the model was trained on: its t = 0 marginal (with σ) is then the default sourceLogProb. */
  path?: {
    /** log-density of the path's t = 0 marginal per row: (B, D) → (B). */
    sourceLogProb(x: Tensor): Tensor;
  };
  /** For Hutchinson's probe vectors (Rademacher ±1, drawn once per solve as in FFJORD). */
  generator?: Generator;
}

/** log N(x; 0, I) per row: −½‖x‖² − (D/2) log 2π. */
export function standardNormalLogProb(x: Tensor): Tensor {
  return T.tidy(() => T.sub(T.mul(T.sum(T.square(x), 1), -0.5), 0.5 * x.shape[1] * Math.log(2 * Math.PI)));
}

/**
 * u(x, t) and its divergence ∇·u = Σ_d ∂u_d/∂x_d per row. Rows are independent (the MLP acts row by row), so one
 * backward pass with the cotangent e_d in every row gives ∂u_d/∂x_d for all rows at once: D passes in all.
 * Hutchinson: ∇·u ≈ εᵀ(∂u/∂x)ε for random ε with E[εεᵀ] = I (Hutchinson 1989; used by FFJORD, Grathwohl et al. 2019).
 */
function velocityAndDivergence(field: DiffField, x: Tensor, t: number, probe: Tensor | null): { u: Tensor; div: Tensor } {
  const [batch, dim] = x.shape;
  const { value: u, vjp } = A.vjp((v) => field(v, t), x);
  if (probe) {
    const [g] = vjp(probe);
    return { u, div: T.sum(T.mul(g, probe), 1) };
  }
  let div = T.zeros([batch], { dtype: x.dtype });
  for (let d = 0; d < dim; d++) {
    const oneHot = T.broadcastTo(T.reshape(T.scatterAdd(T.ones([1], { dtype: x.dtype }), [d], dim), [1, dim]), [batch, dim]);
    const [g] = vjp(oneHot);
    div = T.add(div, T.reshape(T.slice(g, [0, d], [batch, d + 1]), [batch]));
  }
  return { u, div };
}

/**
 * log p₁(x) of data points x (B, D) under the flow of `field`, by the instantaneous change of variables
 * (Chen et al., "Neural ODEs", 2018, Theorem 1): d log p(x_t)/dt = −∇·u(x_t, t). Integrating the augmented state
 * [x, ℓ] with dℓ/dt = ∇·u from t = 1 (ℓ = 0) back to t = 0 gives x₀ and ℓ₀ = −∫₀¹ ∇·u dt, so
 * log p₁(x) = log p₀(x₀) + ℓ₀. Returns (B) log-densities and the NFE.
 */
export function logProb(
  model: DiffField | { forward(x: Var, t: number): Var },
  x: Tensor,
  options: LogProbOptions = {},
): {
  /** log p₁(x) per row, (B). */
  logProb: Tensor;
  /** Number of evaluations of the augmented field (each one evaluation of the model plus its divergence). */
  nfe: number;
  /** x₀, the points carried back to t = 0, (B, D). */
  noise: Tensor;
} {
  const field: DiffField = typeof model === 'function' ? model : (v, t) => model.forward(v, t);
  if (x.rank !== 2) throw new T.ShapeError('logProb', `needs points of shape (B, D), got [${x.shape}]`);
  const { divergence = 'exact', method = 'rk4', steps = 50, rtol, atol } = options;
  if (divergence !== 'exact' && divergence !== 'hutchinson') throw new T.ValueError('logProb', `divergence must be exact or hutchinson, got '${divergence}'`);
  const [batch, dim] = x.shape;
  const probe =
    divergence === 'hutchinson'
      ? T.keep(T.tidy(() => T.sub(T.mul(T.cast(T.randint(0, 2, [batch, dim], { generator: options.generator }), x.dtype), 2), 1)))
      : null;
  // The augmented state [x, ℓ]: (B, D + 1).
  const augmented = (state: Tensor, t: number) => {
    const xs = T.slice(state, [0, 0], [batch, dim]);
    const { u, div } = velocityAndDivergence(field, xs, t, probe);
    return T.concat([u, T.reshape(div, [batch, 1])], 1);
  };
  const start = T.tidy(() => T.concat([x, T.zeros([batch, 1], { dtype: x.dtype })], 1));
  const { x: end, nfe } = solve(augmented, start, { method, steps, t0: 1, t1: 0, rtol, atol });
  const result = T.tidy(() => {
    const noise = T.slice(end, [0, 0], [batch, dim]);
    const ell = T.reshape(T.slice(end, [0, dim], [batch, dim + 1]), [batch]);
    const logP0 = (options.sourceLogProb ?? (options.path ? (v: Tensor) => options.path!.sourceLogProb(v) : standardNormalLogProb))(noise);
    return { logProb: T.add(logP0, ell), noise };
  });
  probe?.dispose();
  start.dispose();
  end.dispose();
  return { ...result, nfe };
}
