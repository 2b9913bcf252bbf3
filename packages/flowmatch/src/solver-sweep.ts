// Every ODE solver at several budgets of field evaluations (NFE) on one model: the endpoint's error against a tight
// dopri5 solution (the solver's own error, falling like NFE^−order) and W2 to data (what a user sees of it).
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { wasserstein2 } from './metrics.js';
import { EVALS_PER_STEP, FIXED_STEP, solve, type Field, type Method } from './solvers.js';

/** One solver run of a sweep. */
export interface SweepRow {
  /** The solver method. */
  method: Method;
  /** Fixed-step methods: the number of steps. */
  steps: number | null;
  /** dopri5: rtol = atol. */
  tolerance: number | null;
  /** Field evaluations the run took. */
  nfe: number;
  /** Root-mean-square distance of the endpoints to the reference solution's: √(Σᵢ ‖xᵢ − x_ref,ᵢ‖² / n). */
  error: number;
  /** W2 of the endpoints to the data. */
  w2: number;
  /** Wall-clock time of the solve, in seconds (not of the error and W2 computations). */
  seconds: number;
}

/** What {@link sweepSolvers} returns. */
export interface SweepResult {
  /** One row per run: the fixed-step methods at each budget (in FIXED_STEP order), then dopri5 at each tolerance. */
  rows: SweepRow[];
  /** The reference solution: dopri5 at rtol = atol = `tolerance`. */
  reference: {
    /** Its rtol = atol. */
    tolerance: number;
    /** Field evaluations it took. */
    nfe: number;
    /** W2 of its endpoints to the data. */
    w2: number;
  };
}

/** Options of {@link sweepSolvers}. */
export interface SweepOptions {
  /** NFE budgets for the fixed-step methods: steps = budget / evaluations per step (default 4, 8, …, 128). */
  budgets?: number[];
  /** dopri5 tolerances (rtol = atol; default 1e-1 … 1e-6). */
  tolerances?: number[];
  /** The reference solution's tolerance (default 1e-7). */
  referenceTolerance?: number;
}

/**
 * Runs every solver from the same `noise` (n, D) through `field` (t from 0 to 1) and compares the endpoints with
 * a tight dopri5 solution and with `data` (m, D). A method of order p has a global error of O(h^p) = O(NFE^−p):
 * on a log-log plot of error against NFE, a line of slope −p (Hairer, Nørsett & Wanner, Solving ODEs I, §II.3).
 */
export function sweepSolvers(field: Field, noise: Tensor, data: Tensor, options: SweepOptions = {}): SweepResult {
  const { budgets = [4, 8, 16, 32, 64, 128], tolerances = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6], referenceTolerance = 1e-7 } = options;
  const n = noise.shape[0];
  return T.tidy(() => {
    const ref = solve(field, noise, { method: 'dopri5', rtol: referenceTolerance, atol: referenceTolerance });
    const run = (method: Method, steps: number | null, tolerance: number | null): SweepRow => {
      const start = performance.now();
      const { x, nfe } = solve(field, noise, steps === null ? { method, rtol: tolerance!, atol: tolerance! } : { method, steps });
      const seconds = (performance.now() - start) / 1000;
      const error = Math.sqrt(T.sum(T.square(T.sub(x, ref.x))).item() / n);
      return { method, steps, tolerance, nfe, error, w2: wasserstein2(x, data), seconds };
    };
    const rows: SweepRow[] = [];
    for (const method of FIXED_STEP) {
      const steps = new Set(budgets.filter((b) => b >= EVALS_PER_STEP[method]).map((b) => Math.round(b / EVALS_PER_STEP[method])));
      for (const s of steps) rows.push(run(method, s, null));
    }
    for (const tol of tolerances) rows.push(run('dopri5', null, tol));
    return { rows, reference: { tolerance: referenceTolerance, nfe: ref.nfe, w2: wasserstein2(ref.x, data) } };
  });
}
