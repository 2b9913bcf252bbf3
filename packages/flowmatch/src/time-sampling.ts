// How training draws t: uniform on [0, 1) (the reference recipes), or logit-normal — t = σ(m + s·ξ), ξ ~ N(0, 1) —
// which spends more steps at mid-range t, where the velocity is hardest to predict (Esser et al., "Scaling Rectified
// Flow Transformers for High-Resolution Image Synthesis", 2024, §3.1: lognorm(0, 1) gave their best FID).

/** The time distributions a config may name. */
export const TIME_SAMPLINGS = ['uniform', 'logit-normal'] as const;
/** One of TIME_SAMPLINGS. */
export type TimeSampling = (typeof TIME_SAMPLINGS)[number];

/**
 * Φ⁻¹(p), the standard normal quantile, for p in (0, 1): Acklam's rational approximation (relative error < 1.2·10⁻⁹),
 * P. J. Acklam, "An algorithm for computing the inverse normal cumulative distribution function" (2003).
 */
export function probit(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -probit(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * Turns uniform draws u ∈ [0, tMax) into the named distribution on [0, tMax), in place: logit-normal with m = 0, s = 1
 * maps u ↦ tMax·σ(Φ⁻¹(u / tMax)) (inverse-transform sampling; u = 0 stays 0). Returns the array.
 */
export function shapeTimes(t: Float32Array, sampling: TimeSampling, tMax = 1): Float32Array {
  if (sampling === 'uniform') return t;
  for (let i = 0; i < t.length; i++) {
    const u = t[i] / tMax;
    t[i] = u <= 0 ? 0 : Math.fround(tMax / (1 + Math.exp(-probit(u))));
    if (t[i] >= tMax) t[i] = Math.fround(tMax * (1 - 2 ** -24)); // never t = tMax, as the uniform draws
  }
  return t;
}
