// Gaussian probability paths x_t = α_t z + β_t x0 (t = 0 noise, t = 1 data) and their conditional velocities.
import * as T from '@rill/tensor';
import type { Generator, Tensor } from '@rill/tensor';

/** A noise schedule: α_t scales the data point z, β_t the source sample x0; with their time derivatives. */
export interface Scheduler {
  /** Display name, e.g. `linear`, `linear(σ_min=0.1)`, `cosine`, `vp`. */
  name: string;
  /** α_t, the coefficient of the data point z at time t ∈ [0, 1]. */
  alpha(t: number): number;
  /** β_t, the coefficient of the source sample x0 at time t ∈ [0, 1]. */
  beta(t: number): number;
  /** α̇_t = dα/dt. */
  dAlpha(t: number): number;
  /** β̇_t = dβ/dt. */
  dBeta(t: number): number;
  /** Training samples t in [0, tMax]: 1, or 1 − ε where β̇ blows up at t = 1. */
  tMax: number;
  /** The source distribution the path needs: `any` (an interpolant between two distributions) or `normal` (N(0, I)). */
  source: 'any' | 'normal';
}

/**
 * CondOT (Lipman et al., "Flow Matching for Generative Modeling", 2023, eq. 20–23; torchcfm's I-CFM):
 * α_t = t, β_t = 1 − (1 − σ_min) t, so α̇ = 1, β̇ = −(1 − σ_min). With σ_min = 0 the path is the straight line from x0
 * to z and the target velocity is z − x0. Works from any source distribution.
 */
export function linear(sigmaMin = 0): Scheduler {
  if (!(sigmaMin >= 0 && sigmaMin < 1)) throw new T.ValueError('linear', `sigmaMin must be in [0, 1), got ${sigmaMin}`);
  return {
    name: sigmaMin === 0 ? 'linear' : `linear(σ_min=${sigmaMin})`,
    alpha: (t) => t,
    beta: (t) => 1 - (1 - sigmaMin) * t,
    dAlpha: () => 1,
    dBeta: () => -(1 - sigmaMin),
    tMax: 1,
    source: 'any',
  };
}

/** Cosine (trigonometric interpolant): α_t = sin(πt/2), β_t = cos(πt/2); α̇ = (π/2) cos(πt/2), β̇ = −(π/2) sin(πt/2). */
export function cosine(): Scheduler {
  const h = Math.PI / 2;
  return {
    name: 'cosine',
    alpha: (t) => Math.sin(h * t),
    beta: (t) => Math.cos(h * t),
    dAlpha: (t) => h * Math.cos(h * t),
    dBeta: (t) => -h * Math.sin(h * t),
    tMax: 1,
    source: 'any',
  };
}

/**
 * Variance-preserving (the diffusion schedule of score-based SDEs, written in flow-matching time; Lipman et al. 2023,
 * eq. 18–19): with b(s) = b_min + s (b_max − b_min) and B(s) = ∫₀ˢ b = s b_min + ½ s² (b_max − b_min),
 * α_t = exp(−½ B(1 − t)), β_t = √(1 − α_t²); α̇_t = ½ b(1 − t) α_t, β̇_t = −α_t α̇_t / β_t.
 * NB: β_1 = 0, so β̇ blows up as t → 1: training samples t in [0, 1 − ε] (ε = 1e-3 by default). α_0 ≈ 0.006, not 0:
 * the t = 0 marginal is only approximately N(0, I), and the path requires the standard normal source.
 */
export function vp(options: { betaMin?: number; betaMax?: number; epsilon?: number } = {}): Scheduler {
  const { betaMin = 0.1, betaMax = 20, epsilon = 1e-3 } = options;
  if (!(betaMin > 0 && betaMax >= betaMin && Number.isFinite(betaMax))) throw new T.ValueError('vp', `needs 0 < betaMin ≤ betaMax, got ${betaMin}, ${betaMax}`);
  if (!(epsilon > 0 && epsilon < 1)) throw new T.ValueError('vp', `epsilon must be in (0, 1), got ${epsilon}`);
  const b = (s: number) => betaMin + s * (betaMax - betaMin);
  const B = (s: number) => s * betaMin + 0.5 * s * s * (betaMax - betaMin);
  const alpha = (t: number) => Math.exp(-0.5 * B(1 - t));
  const dAlpha = (t: number) => 0.5 * b(1 - t) * alpha(t);
  const beta = (t: number) => Math.sqrt(1 - alpha(t) ** 2);
  return { name: 'vp', alpha, beta, dAlpha, dBeta: (t) => (-alpha(t) * dAlpha(t)) / beta(t), tMax: 1 - epsilon, source: 'normal' };
}

/** The schedulers by name, as a config names them (`path: 'linear' | 'cosine' | 'vp'`). */
export const SCHEDULERS = {
  /** CondOT, α_t = t, β_t = 1 − (1 − σ_min)t (see {@link linear}). */
  linear,
  /** Trigonometric, α_t = sin(πt/2), β_t = cos(πt/2) (see {@link cosine}). */
  cosine,
  /** Variance-preserving diffusion schedule (see {@link vp}). */
  vp,
};

/** A training batch by name: the data, the source samples paired with it row by row, and the times. */
export interface PathBatch {
  /** Data points z (torchcfm's x1), (B, D). */
  z: Tensor;
  /** Source samples x0 (noise for a normal source; torchcfm's x0), (B, D). */
  x0: Tensor;
  /** Times t ∈ [0, tMax], (B, 1). */
  t: Tensor;
}

/** One training sample of the path: the point x_t and the conditional target velocity u_t(x | z). */
export interface PathSample {
  /** x_t = α_t z + β_t x0 (+ σ ε): (B, D). */
  xt: Tensor;
  /** u_t(x | z) = α̇_t z + β̇_t x0: (B, D). */
  ut: Tensor;
}

/**
 * A Gaussian conditional path built on a scheduler, with optional constant noise σ on x_t (torchcfm's I-CFM σ).
 * The target velocity is computed in the general form α̇_t z + β̇_t x0 — never as (…)/β_t, which is singular where
 * β_t = 0 and wrong once noise is added to x_t.
 */
export class GaussianPath {
  constructor(
    /** The α_t, β_t schedule of the path. */
    readonly scheduler: Scheduler,
    /** Standard deviation σ ≥ 0 of the Gaussian noise added to x_t (default 0: none). */
    readonly sigma = 0,
  ) {
    if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new T.ValueError('GaussianPath', `sigma must be finite and ≥ 0, got ${sigma}`);
  }

  /** Which source distribution this path requires (see Scheduler.source). */
  get source(): 'any' | 'normal' {
    return this.scheduler.source;
  }

  /** t ~ U[0, tMax] for a batch: (B, 1). */
  sampleTimes(batch: number, generator: Generator, dtype: T.DType = 'float32'): Tensor {
    return T.rand([batch, 1], { low: 0, high: this.scheduler.tMax, generator, dtype });
  }

  /**
   * The same float32 draws as sampleTimes, as host numbers: the trainer builds the path's coefficients from them on the
   * CPU, so a GPU backend never has to read t back.
   */
  sampleTimeValues(batch: number, generator: Generator): Float32Array {
    const out = new Float32Array(batch);
    const high = this.scheduler.tMax;
    for (let i = 0; i < batch; i++) {
      let v = Math.fround(high * generator.uniformFloat32());
      while (v >= high) v = Math.fround(high * generator.uniformFloat32()); // as T.rand: never t = tMax
      out[i] = v;
    }
    return out;
  }

  /**
   * x_t and u_t for a batch given by name — `z` the data (B, D), `x0` the source samples (B, D), `t` the times
   * (B, 1) — so the two same-shaped tensors can never be swapped silently (a swap trains data → noise). With σ > 0
   * the noise ε is drawn from `options.generator` (needed then); `options.tValues`, host copies of t, spare a device
   * read-back. Names as in torchcfm: `x0` = x0, `z` = x1 (see docs/names.md).
   */
  sample(batch: PathBatch, options: { generator?: Generator; tValues?: ArrayLike<number> } = {}): PathSample {
    const { z, x0, t } = batch ?? ({} as Partial<PathBatch>);
    if (!(z instanceof T.Tensor) || !(x0 instanceof T.Tensor) || !(t instanceof T.Tensor)) {
      throw new T.ValueError('GaussianPath.sample', 'needs a batch { z, x0, t } of tensors: z the data, x0 the source samples, t the times');
    }
    if (z.rank !== 2 || !T.sameShape(x0.shape, z.shape) || !T.sameShape(t.shape, [z.shape[0], 1])) {
      throw new T.ShapeError('GaussianPath.sample', `needs z (B, D), x0 (B, D) and t (B, 1), got [${z.shape}], [${x0.shape}], [${t.shape}]`);
    }
    if (z.dtype !== x0.dtype || t.dtype !== z.dtype) {
      throw new T.DTypeError('GaussianPath.sample', `z, x0 and t must share a dtype, got ${z.dtype}, ${x0.dtype}, ${t.dtype}`);
    }
    const { generator, tValues } = options;
    const s = this.scheduler;
    const tv = tValues ?? t.data; // host copies of t spare a device read-back
    // one coefficient per row (its own t), from the float64 formulas, in one pass (one call site per formula, which
    // V8 inlines); weightedSum rounds them to z's dtype and mixes the rows: x_t = α_t z + β_t x0, u_t = α̇_t z + β̇_t x0
    const n = tv.length;
    const all = new Float64Array(4 * n);
    const [alpha, beta, dAlpha, dBeta] = [0, 1, 2, 3].map((k) => all.subarray(k * n, (k + 1) * n));
    for (let i = 0; i < n; i++) {
      const v = tv[i];
      if (!(v >= 0 && v <= s.tMax)) throw new T.ValueError('GaussianPath.sample', `t must lie in [0, ${s.tMax}] for the ${s.name} path, got ${v}`);
      alpha[i] = s.alpha(v);
      beta[i] = s.beta(v);
      dAlpha[i] = s.dAlpha(v);
      dBeta[i] = s.dBeta(v);
    }
    return T.tidy(() => {
      let xt = T.weightedSum(z, alpha, x0, beta);
      if (this.sigma > 0) {
        if (!generator) throw new T.ValueError('GaussianPath.sample', 'sigma > 0 needs a generator for the noise');
        xt = T.add(xt, T.randn([...z.shape], { std: this.sigma, generator, dtype: z.dtype }));
      }
      const ut = T.weightedSum(z, dAlpha, x0, dBeta);
      return { xt, ut };
    });
  }

  /**
   * log-density of the path's t = 0 marginal for the standard normal source: x_0 = α_0 z + β_0 x0 + σε, taken as
   * N(0, (β_0² + σ²) I) — exact when α_0 = 0 (linear, cosine), an approximation for vp (α_0 ≈ 0.006).
   */
  sourceLogProb(x: Tensor): Tensor {
    const s = this.scheduler;
    const variance = s.beta(0) ** 2 + this.sigma ** 2;
    const d = x.shape[1];
    return T.tidy(() => T.sub(T.mul(T.sum(T.square(x), 1), -0.5 / variance), 0.5 * d * Math.log(2 * Math.PI * variance)));
  }
}
