// The conditional flow matching loss: regress the model's velocity on the path's conditional velocity.
import * as A from '@rill/autograd';
import type { Var } from '@rill/autograd';
import type { Generator, Tensor } from '@rill/tensor';
import type { GaussianPath } from './paths.js';

/** A velocity model u_θ(x, t) with t (B, 1) during training. */
export interface VelocityModel {
  /** The velocity at x: (B, D) and time t (a number, or (B, 1)): (B, D). */
  forward(x: A.VarLike, t: number | A.VarLike): Var;
}

/**
 * L(θ) = mean over the batch and dimensions of (u_θ(x_t, t) − u_t(x_t | z))², with x_t, u_t from the path for data z,
 * source samples x0 and times t — the CFM objective (Lipman et al. 2023, eq. 9; torchcfm's `torch.mean((vt − ut)²)`).
 * Its gradient equals that of regressing the unknown marginal velocity (Lipman et al., Theorem 2).
 * z, x0: (B, D); t: (B, 1). Returns a scalar Var; call backward() on it.
 */
export function cfmLoss(model: VelocityModel, path: GaussianPath, z: Tensor, x0: Tensor, t: Tensor, generator?: Generator, tValues?: ArrayLike<number>): Var {
  const { xt, ut } = path.sample(z, x0, t, generator, tValues);
  return A.mse(model.forward(xt, t), ut);
}
