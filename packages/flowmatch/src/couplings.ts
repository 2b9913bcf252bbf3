// Couplings of a minibatch of source samples x0 with data z: independent (I-CFM) or minibatch optimal transport (OT-CFM).
import * as T from '@rill/tensor';
import type { Generator, Tensor } from '@rill/tensor';
import { linearSumAssignment } from './assignment.js';

/** How {@link couple} pairs source samples with data: as drawn, exact minibatch OT, or sampled from a Sinkhorn plan. */
export type CouplingName = 'independent' | 'ot' | 'sinkhorn';
/** Every coupling name, in the order `independent`, `ot`, `sinkhorn`. */
export const COUPLINGS: readonly CouplingName[] = ['independent', 'ot', 'sinkhorn'];

/** Options of {@link couple}; only `sinkhorn` uses them. */
export interface CouplingOptions {
  /** Sinkhorn: entropic regularisation as a fraction of the mean cost (default 0.05). */
  reg?: number;
  /** Sinkhorn: iterations (default 100). */
  iterations?: number;
  /** Sinkhorn draws pairs from the plan with this generator (default: the global generator). */
  generator?: Generator;
}

/** Squared Euclidean costs ‖x0ᵢ − zⱼ‖² between the rows of two (n, d) batches, row-major (n, n). */
function costs(x0: Float64Array, z: Float64Array, n: number, d: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += (x0[i * d + k] - z[j * d + k]) ** 2;
      c[i * n + j] = s;
    }
  return c;
}

/**
 * Pairs the rows of the batch's x0 (source samples) and z (data), given by name, returning z reordered (x0 stays): `independent` keeps the order (the batches are already
 * independent draws); `ot` solves the exact minibatch OT problem — the permutation minimising Σ‖x0ᵢ − z_π(i)‖² —
 * by linear assignment (Tong et al., "Improving and generalizing flow-based generative models with minibatch optimal
 * transport", 2024, OT-CFM); `sinkhorn` draws n pairs (i, j) from the entropic OT plan (Cuturi, "Sinkhorn
 * Distances", 2013), as torchcfm's OTPlanSampler does with method="sinkhorn" (NB: here `reg` is relative to the mean
 * cost, torchcfm's is absolute) — then x0 is reordered too.
 */
export function couple(
  name: CouplingName,
  batch: {
    /** Source samples, (n, d). */
    x0: Tensor;
    /** Data points, (n, d). */
    z: Tensor;
  },
  options: CouplingOptions = {},
): {
  /** The source samples, (n, d): the input itself for `independent` and `ot`, rows resampled for `sinkhorn`. */
  x0: Tensor;
  /** The data paired row by row with x0, (n, d): the input itself for `independent`, reordered otherwise. */
  z: Tensor;
} {
  if (!COUPLINGS.includes(name)) throw new T.ValueError('couple', `unknown coupling '${String(name)}' (known: ${COUPLINGS.join(', ')})`);
  const { x0, z } = batch ?? ({} as { x0?: Tensor; z?: Tensor });
  if (!(x0 instanceof T.Tensor) || !(z instanceof T.Tensor)) throw new T.ValueError('couple', 'needs a batch { x0, z } of tensors: x0 the source samples, z the data');
  if (x0.rank !== 2 || !T.sameShape(x0.shape, z.shape)) {
    throw new T.ShapeError('couple', `needs x0 and z of the same (n, d) shape, got [${x0.shape}] and [${z.shape}]`);
  }
  if (name === 'independent') return { x0, z };
  const [n, d] = x0.shape;
  const c = costs(Float64Array.from(x0.data), Float64Array.from(z.data), n, d);
  if (c.some((v) => !Number.isFinite(v))) throw new T.ValueError('couple', 'x0 or z contains NaN or ±∞');
  if (name === 'ot') return { x0, z: T.gather(z, Array.from(linearSumAssignment(c, n))) };
  const { reg = 0.05, iterations = 100 } = options;
  if (!(reg > 0) || !Number.isFinite(reg)) throw new T.ValueError('couple', `sinkhorn needs a positive, finite reg, got ${reg}`);
  if (!Number.isInteger(iterations) || iterations < 1) throw new T.ValueError('couple', `sinkhorn needs a positive integer number of iterations, got ${iterations}`);
  const plan = sinkhornPlan(c, n, reg, iterations);
  const g = options.generator ?? T.getGenerator();
  const rows: number[] = [];
  const cols: number[] = [];
  const cdf = new Float64Array(n * n); // running sums of the plan: drawing a pair = inverting this CDF
  let acc = 0;
  plan.forEach((p, k) => (cdf[k] = acc += p));
  for (let s = 0; s < n; s++) {
    const u = g.uniform() * cdf[n * n - 1];
    let lo = 0;
    let hi = n * n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    rows.push(Math.floor(lo / n));
    cols.push(lo % n);
  }
  return { x0: T.gather(x0, rows), z: T.gather(z, cols) };
}

/**
 * The entropic OT plan between two uniform measures of n points: P = diag(a) K diag(b) with K = exp(−C / ε),
 * ε = reg · mean(C), scaled by alternating a ← (1/n) / (K b), b ← (1/n) / (Kᵀ a). Computed in the log domain
 * (log-sum-exp) so that small ε does not underflow.
 */
export function sinkhornPlan(cost: Float64Array, n: number, reg: number, iterations: number): Float64Array {
  const meanCost = cost.reduce((s, v) => s + v, 0) / cost.length;
  const eps = reg * (meanCost > 0 ? meanCost : 1);
  const f = new Float64Array(n); // log a
  const g = new Float64Array(n); // log b
  const logMarginal = -Math.log(n);
  const lse = (get: (k: number) => number) => {
    let m = -Infinity;
    for (let k = 0; k < n; k++) m = Math.max(m, get(k));
    let s = 0;
    for (let k = 0; k < n; k++) s += Math.exp(get(k) - m);
    return m + Math.log(s);
  };
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < n; i++) f[i] = logMarginal - lse((j) => g[j] - cost[i * n + j] / eps);
    for (let j = 0; j < n; j++) g[j] = logMarginal - lse((i) => f[i] - cost[i * n + j] / eps);
  }
  const plan = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) plan[i * n + j] = Math.exp(f[i] + g[j] - cost[i * n + j] / eps);
  return plan;
}
