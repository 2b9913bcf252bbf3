// The Fréchet distance between two sets of feature vectors, each summarised as a Gaussian (mean, covariance): the
// FID recipe (Heusel et al., "GANs Trained by a Two Time-Scale Update Rule…", 2017) with any feature extractor.
//   FD = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁^½ Σ₂ Σ₁^½)^½),
// the 2-Wasserstein distance² between N(μ₁, Σ₁) and N(μ₂, Σ₂). In float64, by symmetric eigendecompositions (Jacobi).
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';

/** Mean (d) and covariance (d × d, divided by n − 1 as numpy.cov) of the rows of x (n, d), in float64. */
export function meanCovariance(x: Tensor): {
  /** The mean of the rows, (d). */
  mean: Float64Array;
  /** Their covariance, d × d row-major. */
  cov: Float64Array;
} {
  if (x.rank !== 2 || x.shape[0] < 2) throw new T.ShapeError('meanCovariance', `needs (n ≥ 2, d) features, got [${x.shape}]`);
  const [n, d] = x.shape;
  const v = x.data;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += v[i * d + j] / n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = v[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ra = row[a] / (n - 1);
      for (let b = a; b < d; b++) cov[a * d + b] += ra * row[b];
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) cov[a * d + b] = cov[b * d + a];
  return { mean, cov };
}

/**
 * Eigenvalues and eigenvectors of a symmetric d × d matrix by cyclic Jacobi rotations (Golub & Van Loan §8.5), to
 * float64 precision: values (d) and vectors (d × d, column k the k-th eigenvector).
 */
export function symmetricEigen(matrix: ArrayLike<number>, d: number): {
  /** The eigenvalues, (d), in no particular order. */
  values: Float64Array;
  /** The eigenvectors, d × d row-major: column k belongs to values[k]. */
  vectors: Float64Array;
} {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < d * d; i++) total += a[i] * a[i];
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q] ** 2;
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < d; p++)
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (apq === 0) continue;
        // the rotation that zeroes a[p, q]: θ with cot 2θ = (a_qq − a_pp) / (2 a_pq), t = tan θ the smaller root
        const theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const [akp, akq] = [a[k * d + p], a[k * d + q]];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const [apk, aqk] = [a[p * d + k], a[q * d + k]];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const [vkp, vkq] = [v[k * d + p], v[k * d + q]];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
  }
  return { values: Float64Array.from({ length: d }, (_, i) => a[i * d + i]), vectors: v };
}

/** The symmetric square root of a positive semi-definite matrix: V·√max(Λ, 0)·Vᵀ. */
function sqrtPsd(m: Float64Array, d: number): Float64Array {
  const { values, vectors } = symmetricEigen(m, d);
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const r = Math.sqrt(Math.max(values[k], 0));
    if (r === 0) continue;
    for (let i = 0; i < d; i++) {
      const vik = vectors[i * d + k] * r;
      for (let j = 0; j < d; j++) out[i * d + j] += vik * vectors[j * d + k];
    }
  }
  return out;
}

/** FD between N(μ₁, Σ₁) and N(μ₂, Σ₂) given as d-vectors and d × d matrices. */
export function frechetDistanceOf(m1: ArrayLike<number>, c1: Float64Array, m2: ArrayLike<number>, c2: Float64Array): number {
  const d = m1.length;
  const s1 = sqrtPsd(c1, d);
  // M = Σ₁^½ Σ₂ Σ₁^½, symmetric PSD: tr √M = Σ √λ(M)
  const tmp = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) for (let j = 0; j < d; j++) tmp[i * d + j] += s1[i * d + k] * c2[k * d + j];
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) for (let j = 0; j < d; j++) m[i * d + j] += tmp[i * d + k] * s1[k * d + j];
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) m[i * d + j] = m[j * d + i] = (m[i * d + j] + m[j * d + i]) / 2;
  const traceSqrt = symmetricEigen(m, d).values.reduce((s, l) => s + Math.sqrt(Math.max(l, 0)), 0);
  let dist = 0;
  for (let i = 0; i < d; i++) dist += (m1[i] - m2[i]) ** 2 + c1[i * d + i] + c2[i * d + i];
  return Math.max(0, dist - 2 * traceSqrt);
}

/** The Fréchet distance between the features (n, d) of two sets, each summarised by its mean and covariance. */
export function frechetDistance(a: Tensor, b: Tensor): number {
  if (a.rank !== 2 || b.rank !== 2 || a.shape[1] !== b.shape[1]) throw new T.ShapeError('frechetDistance', `needs two (n, d) feature sets of one d, got [${a.shape}] and [${b.shape}]`);
  const [x, y] = [meanCovariance(a), meanCovariance(b)];
  return frechetDistanceOf(x.mean, x.cov, y.mean, y.cov);
}
