// The conditional flow matching loss: regress the model's velocity on the path's conditional velocity.
import * as A from '@rill/autograd';
import type { Var } from '@rill/autograd';
import * as T from '@rill/tensor';
import type { Generator, Tensor } from '@rill/tensor';
import type { Labels } from './mlp.js';
import type { GaussianPath, PathBatch } from './paths.js';

/** A velocity model u_θ(x, t) with t (B, 1) during training; a class-conditional one also takes labels y. */
export interface VelocityModel {
  /** The velocity at x: (B, D) and time t (a number, or (B, 1)), for classes y when given: (B, D). */
  forward(x: A.TensorArg, t: number | A.TensorArg, y?: Labels): Var;
}

/**
 * The denoising score-matching target as noise prediction: ε = (x_t − α_t z)/s_t, s_t = √(β_t² + σ²) — the scaled
 * total noise in x_t, whose regression gives ε̂ = −s_t ∇log p_t (Vincent 2011; Ho et al. 2020's ε-parameterisation,
 * i.e. score matching weighted by s_t², so the target stays bounded as s_t → 0). x_t, z: (B, D); t values per row.
 */
export function epsilonTarget(path: GaussianPath, xt: Tensor, z: Tensor, tValues: ArrayLike<number>): Tensor {
  const rows = Array.from(tValues);
  const col = (f: (t: number) => number) => T.tensor(rows.map(f), { shape: [rows.length, 1], dtype: xt.dtype });
  const s = (t: number) => Math.sqrt(path.scheduler.beta(t) ** 2 + path.sigma ** 2);
  return T.tidy(() => T.div(T.sub(xt, T.mul(col(path.scheduler.alpha), z)), col(s)));
}

/**
 * L(θ) = mean over the batch and dimensions of (u_θ(x_t, t) − u_t(x_t | z))², with x_t, u_t from the path for data z,
 * source samples x0 and times t — the CFM objective (Lipman et al. 2023, eq. 9; torchcfm's `torch.mean((vt − ut)²)`).
 * Its gradient equals that of regressing the unknown marginal velocity (Lipman et al., Theorem 2).
 * The batch is named — { z: data (B, D), x0: source samples (B, D), t: (B, 1) } — so a swap cannot pass silently.
 * `options` as for {@link GaussianPath.sample}, and `labels`: the class of each row for a conditional model. Returns a
 * scalar Var; call backward() on it.
 */
export function cfmLoss(model: VelocityModel, path: GaussianPath, batch: PathBatch, options: { generator?: Generator; tValues?: ArrayLike<number>; labels?: Labels; objective?: 'velocity' | 'score' } = {}): Var {
  const { z, x0, t } = batch ?? ({} as Partial<PathBatch>);
  if (!(z instanceof T.Tensor) || !(x0 instanceof T.Tensor) || !(t instanceof T.Tensor)) {
    throw new T.ValueError('cfmLoss', 'needs a batch { z, x0, t } of tensors: z the data, x0 the source samples, t the times');
  }
  const { xt, ut } = path.sample(batch, options);
  // objective `score`: the model predicts the noise ε (see epsilonTarget) instead of the velocity
  const target = options.objective === 'score' ? epsilonTarget(path, xt, z, options.tValues ?? t.data) : ut;
  return A.mse(options.labels === undefined ? model.forward(xt, batch.t) : model.forward(xt, batch.t, options.labels), target);
}
