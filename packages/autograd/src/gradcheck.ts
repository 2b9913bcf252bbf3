// gradcheck: compares the engine's gradients with central finite differences in float64, as users check their own ops.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { AutogradError, noGrad, Var } from './engine.js';
import type { VarFn } from './functional.js';

export interface GradcheckOptions {
  /** Relative step: each finite difference uses h = eps · max(1, |x|). Default 1e-6. */
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Seed of the random cotangent c and directions t. */
  seed?: number;
  /** `elementwise` perturbs one input element at a time; `directional` all at once along a random t; `auto` picks by size. */
  mode?: 'auto' | 'elementwise' | 'directional';
  /** In `auto` mode, inputs with more elements than this (in total) use the directional check. Default 256. */
  maxElementwise?: number;
  /** The name reported on failure (default: the function's name). */
  name?: string;
  /** Throw GradcheckError on failure (default true); otherwise just return the report. */
  raise?: boolean;
}

export interface GradcheckReport {
  ok: boolean;
  name: string;
  mode: 'elementwise' | 'directional';
  /** The worst comparison: largest |analytic − numeric| relative to its tolerance. */
  worst: { input: number; index: number[] | null; analytic: number; numeric: number; tolerance: number };
  message: string;
}

export class GradcheckError extends AutogradError {}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const unravel = (flat: number, shape: readonly number[]) =>
  shape.map((_, d) => Math.floor(flat / shape.slice(d + 1).reduce((p, n) => p * n, 1)) % shape[d]);

/**
 * Checks the gradients of f at `inputs` (copied to float64) against central differences.
 * A random cotangent c (seeded normal; never all-ones, which hides errors that cancel) turns f into the scalar
 * φ(x) = ⟨c, f(x)⟩, whose gradient the engine gives as Jᵀc by one backward pass.
 * - elementwise: ∂φ/∂x_j ≈ (φ(x + h e_j) − φ(x − h e_j)) / 2h for every element j; |a − n| ≤ atol + rtol·|n|.
 * - directional (JAX's check_vjp): ⟨t, Jᵀc⟩ ≈ (φ(x + h t) − φ(x − h t)) / 2h for a random direction t, with the
 *   tolerance scaled by ‖t‖·‖Jᵀc‖ because the inner product can cancel.
 */
export function gradcheck(f: VarFn, inputs: Tensor[], options: GradcheckOptions = {}): GradcheckReport {
  const { eps = 1e-6, rtol = 1e-5, atol = 1e-8, seed = 0, maxElementwise = 256, raise = true } = options;
  const name = options.name ?? (f.name || 'f');
  const xs = inputs.map((x) => Float64Array.from(x.data));
  const shapes = inputs.map((x) => [...x.shape]);
  const total = xs.reduce((n, x) => n + x.length, 0);
  const mode = options.mode === 'auto' || options.mode === undefined ? (total <= maxElementwise ? 'elementwise' : 'directional') : options.mode;
  const gen = new T.Generator(seed);

  // φ(x) = ⟨c, f(x)⟩ without recording a graph.
  const evaluate = (values: Float64Array[]): Float64Array =>
    noGrad(() => T.tidy(() => Float64Array.from(f(...values.map((v, i) => new Var(T.tensor(v, { shape: shapes[i], dtype: 'float64' })))).value.data)));
  const y0 = evaluate(xs);
  const c = new Float64Array(y0.length);
  gen.fillNormal(c);
  const phi = (values: Float64Array[]) => dot(c, evaluate(values));

  // Analytic Jᵀc for every input, by one backward pass seeded with c.
  const analytic = T.tidy(() => {
    const leaves = xs.map((v, i) => new Var(T.tensor(v, { shape: shapes[i], dtype: 'float64' }), { requiresGrad: true }));
    const out = f(...leaves);
    if (out.requiresGrad) out.backward(T.tensor(c, { shape: [...out.shape], dtype: 'float64' }));
    return leaves.map((l) => (l.grad ? Float64Array.from(l.grad.data) : new Float64Array(l.value.size)));
  });

  let worst: GradcheckReport['worst'] = { input: 0, index: null, analytic: 0, numeric: 0, tolerance: Infinity };
  let worstRatio = -1;
  const consider = (input: number, index: number[] | null, a: number, n: number, tolerance: number) => {
    const ratio = Number.isNaN(a - n) ? Infinity : Math.abs(a - n) / tolerance;
    if (ratio > worstRatio) [worstRatio, worst] = [ratio, { input, index, analytic: a, numeric: n, tolerance }];
  };

  if (mode === 'elementwise') {
    xs.forEach((x, i) => {
      for (let j = 0; j < x.length; j++) {
        const h = eps * Math.max(1, Math.abs(x[j]));
        const orig = x[j];
        x[j] = orig + h;
        const plus = phi(xs);
        x[j] = orig - h;
        const minus = phi(xs);
        x[j] = orig;
        const numeric = (plus - minus) / (2 * h);
        consider(i, unravel(j, shapes[i]), analytic[i][j], numeric, atol + rtol * Math.abs(numeric));
      }
    });
  } else {
    const ts = xs.map((x) => {
      const t = new Float64Array(x.length);
      gen.fillNormal(t);
      return t;
    });
    const scale = Math.max(1, ...xs.map((x) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
    const h = eps * scale;
    const shifted = (sign: number) => xs.map((x, i) => x.map((v, j) => v + sign * h * ts[i][j]));
    const numeric = (phi(shifted(1)) - phi(shifted(-1))) / (2 * h);
    const a = ts.reduce((s, t, i) => s + dot(t, analytic[i]), 0);
    const scaleTol = Math.sqrt(ts.reduce((s, t) => s + dot(t, t), 0)) * Math.sqrt(analytic.reduce((s, g) => s + dot(g, g), 0));
    consider(-1, null, a, numeric, atol + rtol * Math.max(scaleTol, Math.abs(numeric)));
  }

  const ok = worstRatio <= 1;
  const where = worst.index === null ? 'along a random direction' : `input ${worst.input} element [${worst.index}]`;
  const detail = `gradcheck (${mode}) ${ok ? 'passed' : 'FAILED'}; worst at ${where}: analytic ${worst.analytic}, numeric ${worst.numeric}, |diff| ${Math.abs(worst.analytic - worst.numeric)} vs tolerance ${worst.tolerance}`;
  if (!ok && raise) throw new GradcheckError(name, detail);
  return { ok, name, mode, worst, message: `${name}: ${detail}` };
}


