// ODE solvers for dx/dt = f(x, t): fixed-step Euler, midpoint, Heun, RK4, and adaptive Dormand–Prince 5(4).
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';

/** A vector field on plain tensors: x (B, D), a time t → dx/dt (B, D). No graph is built. */
export type Field = (x: Tensor, t: number) => Tensor;

/** Anything with a forward(x, t) returning a Var (an MLP), or a function of Vars. */
export type Model =
  | {
      /** The velocity at x: (B, D) and time t: (B, D). */
      forward(x: A.TensorArg, t: number): A.Var;
    }
  | ((x: A.Var, t: number) => A.Var);

/** A model as a Field: evaluated under noGrad (sampling never records a graph) and tidy (intermediates are freed). */
export function fieldOf(model: Model): Field {
  const f = typeof model === 'function' ? model : (x: A.Var, t: number) => model.forward(x, t);
  return (x, t) => T.tidy(() => A.noGrad(() => f(new A.Var(x), t).value));
}

/**
 * A field evaluated `rows` rows at a time, the results concatenated: the same numbers as one evaluation for a field
 * that treats rows independently (an MLP), with the memory of its intermediates bounded by `rows` — so sampling a
 * million points needs a few chunks' worth of activations, not a million rows' (and every solver, dopri5's shared step
 * size included, takes the same steps). `rows` is rounded up to a multiple of 8, the matmul kernels' row tile.
 */
export function inChunks(f: Field, rows: number): Field {
  if (!Number.isInteger(rows) || rows < 1) throw new T.ValueError('inChunks', `rows must be a positive integer, got ${rows}`);
  const size = Math.ceil(rows / 8) * 8;
  return (x, t) => {
    const n = x.shape[0];
    if (n <= size) return f(x, t);
    return T.tidy(() => {
      const parts: Tensor[] = [];
      for (let start = 0; start < n; start += size) parts.push(f(T.slice(x, [start], [Math.min(n, start + size)]), t));
      return T.concat(parts, 0);
    });
  };
}

/**
 * The fixed-step methods: Euler (order 1), explicit midpoint and Heun (order 2), classical RK4 (order 4); see
 * Hairer, Nørsett & Wanner, "Solving Ordinary Differential Equations I", §II.1.
 */
export const FIXED_STEP = ['euler', 'midpoint', 'heun', 'rk4'] as const;
/** An ODE method: a fixed-step one, or `dopri5`, adaptive Dormand–Prince 5(4) (Dormand & Prince 1980). */
export type Method = (typeof FIXED_STEP)[number] | 'dopri5';
/** Every method name: `euler`, `midpoint`, `heun`, `rk4`, `dopri5`. */
export const METHODS: readonly Method[] = [...FIXED_STEP, 'dopri5'];

/** Options of {@link solve}. */
export interface SolveOptions {
  /** The integration method (default `rk4`). */
  method?: Method;
  /** Fixed-step methods: number of steps (default 100). */
  steps?: number;
  /** Start and end time: 0 → 1 carries noise to data; 1 → 0 runs in reverse. Default t0 = 0. */
  t0?: number;
  /** End time (finite; default 1). t1 = t0 returns a copy of x without evaluating the field. */
  t1?: number;
  /** dopri5 tolerances (default 1e-5 each): per component, error ≤ atol + rtol·|x|. rtol must be > 0. */
  rtol?: number;
  /** dopri5 absolute tolerance, ≥ 0 (default 1e-5); see rtol. */
  atol?: number;
  /** dopri5: give up after this many accepted + rejected steps (default 100 000). */
  maxSteps?: number;
  /** Also return x at these times (within [t0, t1], in the direction of integration). */
  times?: number[];
}

/** What {@link solve} returns; the tensors are new (the caller disposes them). */
export interface SolveResult {
  /** x(t1), the shape of the initial x. */
  x: Tensor;
  /** Number of evaluations of the vector field. */
  nfe: number;
  /** x at each requested time, in the order given. */
  trajectory: Tensor[];
  /** Steps taken (for dopri5, the accepted ones; for fixed-step methods, including steps split at requested times). */
  accepted: number;
  /** dopri5: steps rejected by the error control and retried with a smaller h; 0 for fixed-step methods. */
  rejected: number;
}

/** x + Σ cᵢ kᵢ (all (B, D)). */
const combine = (x: Tensor, terms: [number, Tensor][]) => terms.reduce((acc, [c, k]) => (c === 0 ? acc : T.add(acc, T.mul(k, c))), x);

/**
 * One step of a fixed-step method from (x, t) with step h; returns x(t + h). Butcher tableaux:
 * Euler x + h f(x, t) (order 1); midpoint x + h f(x + ½h k₁, t + ½h) (order 2); Heun x + ½h (k₁ + f(x + h k₁, t + h))
 * (order 2); classical RK4 x + h/6 (k₁ + 2k₂ + 2k₃ + k₄) (order 4). Reference: Hairer, Nørsett & Wanner, "Solving
 * Ordinary Differential Equations I", §II.1.
 */
function fixedStep(method: (typeof FIXED_STEP)[number], f: Field, x: Tensor, t: number, h: number): Tensor {
  const k1 = f(x, t);
  if (method === 'euler') return combine(x, [[h, k1]]);
  if (method === 'midpoint') return combine(x, [[h, f(combine(x, [[h / 2, k1]]), t + h / 2)]]);
  if (method === 'heun') return combine(x, [[h / 2, k1], [h / 2, f(combine(x, [[h, k1]]), t + h)]]);
  const k2 = f(combine(x, [[h / 2, k1]]), t + h / 2);
  const k3 = f(combine(x, [[h / 2, k2]]), t + h / 2);
  const k4 = f(combine(x, [[h, k3]]), t + h);
  return combine(x, [[h / 6, k1], [h / 3, k2], [h / 3, k3], [h / 6, k4]]);
}

/** Field evaluations per step of each fixed-step method. */
export const EVALS_PER_STEP: Record<(typeof FIXED_STEP)[number], number> = { euler: 1, midpoint: 2, heun: 2, rk4: 4 };

/** Integrates dx/dt = f(x, t) from t0 to t1 starting at x. Runs each step in tidy: memory stays flat. */
export function solve(f: Field, x: Tensor, options: SolveOptions = {}): SolveResult {
  const { method = 'rk4', t0 = 0, t1 = 1, times = [] } = options;
  if (typeof f !== 'function') throw new T.ValueError('solve', 'the field must be a function (x, t) → dx/dt; wrap a model with fieldOf(model)');
  if (!Number.isFinite(t0) || !Number.isFinite(t1)) throw new T.ValueError('solve', `t0 and t1 must be finite, got ${t0}, ${t1}`);
  if (!METHODS.includes(method)) throw new T.ValueError('solve', `unknown method '${String(method)}' (known: ${METHODS.join(', ')})`);
  const lo = Math.min(t0, t1);
  const hi = Math.max(t0, t1);
  for (const s of times) if (!(s >= lo && s <= hi)) throw new T.ValueError('solve', `requested time ${s} is outside [${lo}, ${hi}]`);
  if (t0 === t1) return { x: T.clone(x), nfe: 0, trajectory: times.map(() => T.clone(x)), accepted: 0, rejected: 0 };
  return method === 'dopri5' ? dopri5(f, x, options) : fixed(method, f, x, options);
}

/** Index order of requested times along the direction of integration. */
const sortedTimes = (times: number[], dir: number) => times.map((s, i) => [s, i] as const).sort((a, b) => dir * (a[0] - b[0]));

function fixed(method: (typeof FIXED_STEP)[number], f: Field, x0: Tensor, options: SolveOptions): SolveResult {
  const { steps = 100, t0 = 0, t1 = 1, times = [] } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new T.ValueError('solve', `steps must be a positive integer, got ${steps}`);
  const dir = Math.sign(t1 - t0);
  // The time grid: `steps` equal steps, plus every requested time that falls between two grid points (the step that
  // crosses it is split in two), so the trajectory is exact at the requested times.
  const h = (t1 - t0) / steps;
  const grid = Array.from({ length: steps + 1 }, (_, i) => (i === steps ? t1 : t0 + i * h));
  const extra = times.filter((s) => !grid.some((g) => Math.abs(g - s) <= 1e-12 * Math.max(1, Math.abs(s))));
  const nodes = [...grid, ...extra].sort((a, b) => dir * (a - b));
  const pending = sortedTimes(times, dir);
  const trajectory: Tensor[] = new Array(times.length);
  let x = x0;
  let nfe = 0;
  const capture = (t: number) => {
    while (pending.length > 0 && Math.abs(pending[0][0] - t) <= 1e-12 * Math.max(1, Math.abs(t))) trajectory[pending.shift()![1]] = T.keep(T.clone(x));
  };
  capture(nodes[0]);
  for (let i = 0; i + 1 < nodes.length; i++) {
    const next = T.keep(T.tidy(() => fixedStep(method, f, x, nodes[i], nodes[i + 1] - nodes[i])));
    if (x !== x0) x.dispose();
    x = next;
    nfe += EVALS_PER_STEP[method];
    capture(nodes[i + 1]);
  }
  return { x, nfe, trajectory, accepted: nodes.length - 1, rejected: 0 };
}

// Dormand–Prince 5(4) tableau (Dormand & Prince, J. Comput. Appl. Math. 6, 1980; Hairer et al. I, Table II.5.2).
const C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1];
const AA = [
  [],
  [1 / 5],
  [3 / 40, 9 / 40],
  [44 / 45, -56 / 15, 32 / 9],
  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
  [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
];
/** 5th-order weights (= the last row of AA: "first same as last") and the 5th − 4th order difference for the error. */
const B5 = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0];
const E = [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40];

/**
 * Adaptive Dormand–Prince 5(4) with local extrapolation and FSAL (the last stage of a step is the first of the next).
 * Error norm: RMS over components of err / (atol + rtol·max(|x|, |x_new|)); a step is accepted when ≤ 1; the next
 * h = h · min(10, max(0.2, 0.9 · err^(−1/5))). Initial h by Hairer et al.'s heuristic (§II.4). Requested times are hit
 * exactly by shortening the step that would pass them.
 */
function dopri5(f: Field, x0: Tensor, options: SolveOptions): SolveResult {
  const { t0 = 0, t1 = 1, rtol = 1e-5, atol = 1e-5, maxSteps = 100_000, times = [] } = options;
  if (!(rtol > 0 && atol >= 0)) throw new T.ValueError('solve', `dopri5 needs rtol > 0 and atol ≥ 0, got ${rtol}, ${atol}`);
  const dir = Math.sign(t1 - t0) || 1;
  const pending = sortedTimes(times, dir);
  const trajectory: Tensor[] = new Array(times.length);
  const rms = (v: Tensor, scale: Tensor) => T.tidy(() => Math.sqrt(T.mean(T.square(T.div(v, scale))).item()));
  let nfe = 0;
  const feval = (x: Tensor, t: number) => {
    nfe++;
    return f(x, t);
  };

  let x = x0;
  let t = t0;
  // The first stage; a clone when the field hands back its input, so that disposing stages never disposes x0.
  let k1 = T.keep(T.tidy(() => {
    const k = feval(x, t);
    return k === x ? T.clone(k) : k;
  }));
  // Initial step size (Hairer et al. I, §II.4, "starting step size").
  let h = T.tidy(() => {
    const scale = T.add(T.mul(T.abs(x), rtol), atol);
    const d0 = rms(x, scale);
    const d1 = rms(k1, scale);
    const h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : (0.01 * d0) / d1;
    const d2 = rms(T.sub(feval(combine(x, [[dir * h0, k1]]), t + dir * h0), k1), scale) / h0;
    const h1 = Math.max(d1, d2) <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : (0.01 / Math.max(d1, d2)) ** (1 / 5);
    return Math.min(100 * h0, h1, Math.abs(t1 - t0));
  });
  let accepted = 0;
  let rejected = 0;
  while (pending.length > 0 && pending[0][0] === t0) trajectory[pending.shift()![1]] = T.keep(T.clone(x));
  while (dir * (t1 - t) > 1e-12) {
    if (accepted + rejected >= maxSteps) throw new T.ValueError('solve', `dopri5 took more than ${maxSteps} steps (reached t = ${t}); loosen rtol/atol`);
    if (!(h > 1e-14 * Math.max(1, Math.abs(t1 - t0)))) {
      throw new T.ValueError('solve', `dopri5's step size fell to ${h} at t = ${t}: the field returns NaN or ±∞ there, or is too stiff`);
    }
    const target = pending.length > 0 ? pending[0][0] : t1;
    const reaches = Math.abs(target - t) <= h; // this step lands exactly on the next requested time (or t1)
    const step = dir * (reaches ? Math.abs(target - t) : h);
    const result = T.tidy(() => {
      const k = [k1];
      for (let s = 1; s < 7; s++) k.push(feval(combine(x, AA[s].map((a, j) => [step * a, k[j]] as [number, Tensor])), t + C[s] * step));
      const xNew = combine(x, B5.map((b, j) => [step * b, k[j]] as [number, Tensor]));
      const err = combine(T.zeros([...x.shape], { dtype: x.dtype }), E.map((e, j) => [step * e, k[j]] as [number, Tensor]));
      const scale = T.add(T.mul(T.maximum(T.abs(x), T.abs(xNew)), rtol), atol);
      return { xNew, k7: k[6], err: rms(err, scale) };
    });
    // NB: a NaN error (a trial stage left the field's domain) counts as a failure: shrink by the largest factor.
    const factor = Number.isFinite(result.err) ? Math.min(10, Math.max(0.2, 0.9 * result.err ** -0.2)) : 0.2;
    if (result.err <= 1) {
      accepted++;
      if (x !== x0) x.dispose();
      k1.dispose();
      x = T.keep(result.xNew);
      k1 = T.keep(result.k7);
      t = reaches ? target : t + step;
      while (pending.length > 0 && Math.abs(pending[0][0] - t) < 1e-12) trajectory[pending.shift()![1]] = T.keep(T.clone(x));
      // After a step shortened to land on a requested time, keep the longer step the controller had proposed.
      h = Math.max(Math.abs(step) * factor, reaches ? h : 0);
    } else {
      rejected++;
      result.xNew.dispose();
      result.k7.dispose();
      h = Math.abs(step) * Math.min(1, factor);
    }
  }
  k1.dispose();
  return { x: x === x0 ? T.clone(x0) : x, nfe, trajectory, accepted, rejected };
}
