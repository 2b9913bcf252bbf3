// gradcheck: compares the engine's gradients with central finite differences in float64, as users check their own ops.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { AutogradError, backpropagate, noGrad, Var } from './engine.js';
import type { VarFn } from './functional.js';

/** Options of {@link gradcheck}. */
export interface GradcheckOptions {
  /** Relative step: each element moves by h = eps · max(1, |x|). Default 1e-6. */
  eps?: number;
  /** Relative tolerance of the analytic vs numeric comparison. Default 1e-5. */
  rtol?: number;
  /** Absolute tolerance of the analytic vs numeric comparison. Default 1e-8. */
  atol?: number;
  /** Seed of the random cotangent c and directions t (default 0). */
  seed?: number;
  /** `elementwise` perturbs one input element at a time; `directional` a whole input along random directions; `auto` picks by size. */
  mode?: 'auto' | 'elementwise' | 'directional';
  /** In `auto` mode, inputs with more elements than this (in total) use the directional check. Default 256. */
  maxElementwise?: number;
  /** Directional mode: random directions tried per input (default 2). */
  directions?: number;
  /** The name reported on failure (default: the function's name). */
  name?: string;
  /** Throw GradcheckError on failure (default true); otherwise just return the report. */
  raise?: boolean;
}

/** What {@link gradcheck} found. */
export interface GradcheckReport {
  /** True when every comparison was within its tolerance. */
  ok: boolean;
  /** The checked function's name (`options.name`, else `f.name`, else `'f'`). */
  name: string;
  /** The mode that ran (`auto` resolved). */
  mode: 'elementwise' | 'directional';
  /** The worst comparison (largest |analytic − numeric| relative to its tolerance); index null for a direction. */
  worst: {
    /** Index of the input (argument) compared. */
    input: number;
    /** Multi-index of the element within that input, or null for a directional comparison. */
    index: number[] | null;
    /** The engine's gradient (elementwise: (Jᵀc)ⱼ; directional: ⟨d, Jᵀc⟩). */
    analytic: number;
    /** The central-difference estimate of the same quantity. */
    numeric: number;
    /** The allowed |analytic − numeric|: atol + rtol·scale + a rounding term. */
    tolerance: number;
  };
  /** A one-line summary: name, mode, pass/fail and the worst comparison. */
  message: string;
}

/** Thrown by {@link gradcheck} when a gradient does not match (unless `raise: false`); its message names the worst comparison. */
export class GradcheckError extends AutogradError {}

const EPS64 = 2 ** -52;
const norm = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
};
const unravel = (flat: number, shape: readonly number[]) =>
  shape.map((_, d) => Math.floor(flat / shape.slice(d + 1).reduce((p, n) => p * n, 1)) % shape[d]);

/**
 * Checks the gradients of f at `inputs` (copied to float64) against central differences.
 * A random cotangent c (seeded normal; never all-ones, which hides errors that cancel) turns f into the scalar
 * φ(x) = ⟨c, f(x)⟩, whose gradient the engine gives as Jᵀc by one backward pass.
 * - elementwise: ∂φ/∂x_j ≈ Σᵢ cᵢ (fᵢ(x + h e_j) − fᵢ(x − h e_j)) / 2h; |a − n| ≤ atol + rtol·|n| + rounding, where
 *   rounding = 2ε Σᵢ |cᵢ| max|fᵢ(x ± h e_j)| / 2h over the outputs that moved (the error of differencing floats).
 * - directional (JAX's check_vjp), per input: ⟨d, Jᵀc⟩ ≈ Σᵢ cᵢ (fᵢ(x + h d) − fᵢ(x − h d)) / 2h along random
 *   d = t ⊙ max(1, |x|), with rtol scaled by ‖d‖·‖Jᵀc‖ since the inner product can cancel. A failing input is then
 *   checked elementwise (up to 4096 elements) to name the worst element.
 * NB: the step grows with |x| (so rounding stays small); for functions that oscillate on a unit scale far from the
 * origin, pass a smaller eps.
 */
export function gradcheck(f: VarFn, inputs: Tensor[], options: GradcheckOptions = {}): GradcheckReport {
  const { eps = 1e-6, rtol = 1e-5, atol = 1e-8, seed = 0, maxElementwise = 256, directions = 2, raise = true } = options;
  const name = options.name ?? (f.name || 'f');
  const report = T.tidy(() => {
    const xs = inputs.map((x) => Float64Array.from(x.data));
    const shapes = inputs.map((x) => [...x.shape]);
    const total = xs.reduce((n, x) => n + x.length, 0);
    const mode = !options.mode || options.mode === 'auto' ? (total <= maxElementwise ? 'elementwise' : 'directional') : options.mode;
    const gen = new T.Generator(seed);
    const asVars = (values: Float64Array[], requiresGrad: boolean) =>
      values.map((v, i) => new Var(T.tensor(v, { shape: shapes[i], dtype: 'float64' }), { requiresGrad }));
    const evaluate = (values: Float64Array[]) => noGrad(() => T.tidy(() => Float64Array.from(f(...asVars(values, false)).value.data)));
    const c = new Float64Array(evaluate(xs).length);
    gen.fillNormal(c);

    // Analytic Jᵀc for every input, by one backward pass seeded with c (nothing else's .grad is touched).
    const leaves = asVars(xs, true);
    const out = f(...leaves);
    const got = out.requiresGrad ? backpropagate(out, T.tensor(c, { shape: [...out.shape], dtype: 'float64' }), false, leaves) : new Map();
    const analytic = leaves.map((l) => (got.has(l) ? Float64Array.from(got.get(l)!.data) : new Float64Array(l.value.size)));

    /** Σᵢ cᵢ (fᵢ(x⁺) − fᵢ(x⁻)) / 2h and the rounding error of that difference. */
    const difference = (plus: Float64Array[], minus: Float64Array[], h: number) => {
      const [fp, fm] = [evaluate(plus), evaluate(minus)];
      let s = 0;
      let rounding = 0;
      for (let i = 0; i < c.length; i++) {
        const d = fp[i] - fm[i];
        s += c[i] * d;
        if (d !== 0) rounding += Math.abs(c[i]) * Math.max(Math.abs(fp[i]), Math.abs(fm[i]));
      }
      return { numeric: s / (2 * h), rounding: (2 * EPS64 * rounding) / (2 * h) };
    };

    let worst: GradcheckReport['worst'] = { input: 0, index: null, analytic: 0, numeric: 0, tolerance: Infinity };
    let worstRatio = -1;
    const consider = (input: number, index: number[] | null, a: number, n: number, tolerance: number) => {
      const ratio = Number.isNaN(a - n) ? Infinity : Math.abs(a - n) / tolerance;
      if (ratio > worstRatio) [worstRatio, worst] = [ratio, { input, index, analytic: a, numeric: n, tolerance }];
    };
    const elementwise = (i: number) => {
      const x = xs[i];
      for (let j = 0; j < x.length; j++) {
        const h = eps * Math.max(1, Math.abs(x[j]));
        const plus = xs.map((v, k) => (k === i ? v.map((e, m) => (m === j ? e + h : e)) : v));
        const minus = xs.map((v, k) => (k === i ? v.map((e, m) => (m === j ? e - h : e)) : v));
        const { numeric, rounding } = difference(plus, minus, h);
        consider(i, unravel(j, shapes[i]), analytic[i][j], numeric, atol + rtol * Math.abs(numeric) + rounding);
      }
    };

    if (mode === 'elementwise') xs.forEach((_, i) => elementwise(i));
    else {
      xs.forEach((x, i) => {
        for (let r = 0; r < directions; r++) {
          const d = new Float64Array(x.length);
          gen.fillNormal(d);
          d.forEach((v, j) => (d[j] = v * Math.max(1, Math.abs(x[j]))));
          const plus = xs.map((v, k) => (k === i ? v.map((e, m) => e + eps * d[m]) : v));
          const minus = xs.map((v, k) => (k === i ? v.map((e, m) => e - eps * d[m]) : v));
          const { numeric, rounding } = difference(plus, minus, eps);
          const a = d.reduce((s, v, j) => s + v * analytic[i][j], 0);
          const norms = norm(d) * norm(analytic[i]);
          consider(i, null, a, numeric, atol + rtol * Math.max(norms, Math.abs(numeric)) + rounding);
        }
      });
      if (worstRatio > 1 && xs[worst.input].length <= 4096) {
        worstRatio = -1;
        elementwise(worst.input); // name the element that is wrong
      }
    }
    const ok = worstRatio <= 1;
    const where = worst.index === null ? `input ${worst.input} along a random direction` : `input ${worst.input} element [${worst.index}]`;
    const detail = `gradcheck (${mode}) ${ok ? 'passed' : 'FAILED'}; worst at ${where}: analytic ${worst.analytic}, numeric ${worst.numeric}, |diff| ${Math.abs(worst.analytic - worst.numeric)} vs tolerance ${worst.tolerance}`;
    return { ok, name, mode, worst, message: `${name}: ${detail}`, detail } as GradcheckReport & { detail: string };
  });
  const { detail, ...result } = report as GradcheckReport & { detail: string };
  if (!result.ok && raise) throw new GradcheckError(name, detail);
  return result;
}
