// `rill eval`: sample quality against fresh data (W2, MMD², energy distance), the data-vs-data floor, the NLL of fresh
// data, the cost of sampling, and for flow matching NFE and W2 per solver. Both model kinds (cfm, flow).
import * as T from '@rill/tensor';
import { energyDistance, mmd2, wasserstein2, fieldOf, solve, type FieldModel, type Method, type SolveOptions, type TrainConfig } from '@rill/flowmatch';
import { COMPARE_FLAGS, MAX_SEED, UsageError, given, type Flag, type Values } from './flags.js';
import * as A from '@rill/autograd';
import { guidanceSweep } from './guidance.js';
import { evaluateImages } from './eval-images.js';
import { MNIST_DIR_FLAG } from './mnist.js';
import { isImageModel } from './sample.js';
import { loadAnyModel, loadPoints, modelLogProb, samplingField } from './io.js';

export const EVAL_FLAGS: Flag[] = [
  ...COMPARE_FLAGS,
  { name: 'n', kind: 'int', min: 2, max: 5000, default: 2000, help: 'points per sample (W2 solves an n×n assignment)' },
  { name: 'seed', kind: 'int', min: 0, max: MAX_SEED, default: 0, help: 'seed of the noise and the fresh data' },
  { name: 'nll-steps', kind: 'int', min: 1, max: 10_000, default: 50, help: 'cfm: RK4 steps of the likelihood ODE (the NLL of fresh data)' },
  { name: 'json', kind: 'bool', default: false, help: 'print JSON (keys: model, kind, data, n, seed, metrics, floor, sampling, nll, solvers)' },
  { name: 'raw', kind: 'bool', default: false, help: 'use the raw weights even when the model has EMA weights' },
  { name: 'guidance', kind: 'string', help: 'a class-conditional model: guidance scales to compare, e.g. 0,1,2,4 (class accuracy and per-class W2 for each)' },
  { name: 'png', kind: 'string', io: 'out', help: 'with --guidance: a grid of samples, classes × guidance scales' },
  { name: 'referee', kind: 'string', io: 'in', help: "images: the classifier that scores them (default: the one @rill/cli ships, made by rill referee)" },
  { name: 'solver', kind: 'choice', choices: ['euler', 'midpoint', 'heun', 'rk4', 'dopri5'], default: 'euler', help: 'images: the ODE solver of the samples' },
  { name: 'steps', kind: 'int', min: 1, max: 10_000, default: 50, help: 'images: its steps' },
  MNIST_DIR_FLAG,
];

/** The solvers compared, at about 100 evaluations each (dopri5 adapts). */
const SOLVERS: [Method, SolveOptions][] = [
  ['euler', { steps: 100 }],
  ['midpoint', { steps: 50 }],
  ['heun', { steps: 50 }],
  ['rk4', { steps: 25 }],
  ['dopri5', { rtol: 1e-4, atol: 1e-4 }],
];

const metrics = (a: T.Tensor, b: T.Tensor) => ({ w2: wasserstein2(a, b), mmd2: mmd2(a, b), energy: energyDistance(a, b) });

export async function evaluate(v: Values): Promise<number> {
  const m = loadAnyModel('eval', String(v.model), Boolean(v.raw));
  const { config } = m;
  if (m.kind === 'cfm' && isImageModel(m.config)) return evaluateImageModel(v, m.model, m.config);
  // the guidance flags, checked before any work (the exact W2 of 2000 points alone takes a minute)
  let ws: number[] | null = null;
  if (v.guidance !== undefined) {
    if (m.kind !== 'cfm' || m.model.config.classes === 0) throw new UsageError(`rill eval: --guidance needs a class-conditional model (rill train --cond class); ${v.model} is not one`);
    ws = String(v.guidance).split(',').map(Number);
    if (!ws.length || ws.some((w) => !(w >= 0 && w <= 1000))) throw new UsageError(`rill eval: --guidance must be a list of scales in [0, 1000], e.g. 0,1,2,4; got ${String(v.guidance)}`);
  } else if (v.png !== undefined) throw new UsageError('rill eval: --png draws the guidance grid: it needs --guidance');
  const spec = v.data === undefined ? String(config.data) : String(v.data);
  if (spec === 'custom') throw new UsageError('rill eval: the model says nothing of its training data (a CSV or .npy file, or imported weights); pass the data with --data FILE');
  const n = Number(v.n);
  const g = new T.Generator(Number(v.seed));
  const take = (pts: T.Tensor) => (pts.shape[0] >= n ? T.slice(pts, [0], [n]) : pts);
  const data = take(loadPoints('eval', 'data', spec, n, g, config.dim, { indexCol: Boolean(v['index-col']) }));
  const other = take(loadPoints('eval', 'data', spec, n, g, config.dim, { indexCol: Boolean(v['index-col']) }));
  const m2 = Math.min(data.shape[0], other.shape[0]);
  if (m2 < 2) throw new UsageError(`rill eval: --data ${spec} has fewer than 2 points`);
  const fresh = T.slice(data, [0], [m2]);
  const noise = T.randn([m2, config.dim], { generator: g });
  // Samples, and what they cost: every solver for flow matching (the report's metrics use dopri5), one pass for a flow.
  const solvers: Record<string, { nfe: number; w2: number; seconds: number }> = {};
  let samples: T.Tensor;
  let sampling: { method: string; nfe: number; seconds: number };
  if (m.kind === 'cfm') {
    const { field, t0, t1 } = samplingField(m.model, m.config);
    let best: T.Tensor | null = null;
    for (const [method, options] of SOLVERS) {
      const start = performance.now();
      const { x, nfe } = solve(field, noise, { method, ...options, t0, t1 });
      const seconds = (performance.now() - start) / 1000; // the sampling alone: read before W2 is computed
      solvers[method] = { nfe, w2: wasserstein2(x, fresh), seconds };
      best = x;
    }
    samples = best!;
    sampling = { method: 'dopri5', nfe: solvers.dopri5.nfe, seconds: solvers.dopri5.seconds };
  } else {
    const start = performance.now();
    samples = A.noGrad(() => T.tidy(() => T.keep(m.flow.forward(noise).value)));
    sampling = { method: 'flow (one pass)', nfe: 1, seconds: (performance.now() - start) / 1000 };
  }
  // The NLL of the fresh data: exact for a flow; by the likelihood ODE for flow matching (standard normal source only).
  let nll: { natsPerDim: number; bitsPerDim: number; nfe: number; seconds: number } | null = null;
  if (m.kind === 'flow' || (m.config.source === 'normal' && m.config.objective !== 'score')) {
    const start = performance.now();
    const { logProb, nfe } = modelLogProb('eval', m, fresh, { steps: Number(v['nll-steps']) });
    const natsPerDim = -Array.from(logProb.data).reduce((a, b) => a + b, 0) / logProb.size / config.dim;
    nll = { natsPerDim, bitsPerDim: natsPerDim / Math.LN2, nfe, seconds: (performance.now() - start) / 1000 };
  }
  let guidance: ReturnType<typeof guidanceSweep> | null = null;
  if (m.kind === 'cfm' && ws !== null) guidance = guidanceSweep(m.model, m.config, spec, Math.min(n, 1000), Number(v.seed), ws, v.png === undefined ? undefined : String(v.png));
  const report = {
    model: String(v.model),
    kind: m.kind,
    data: spec,
    n: m2,
    seed: Number(v.seed),
    metrics: metrics(samples, fresh),
    floor: metrics(T.slice(other, [0], [m2]), fresh),
    sampling,
    nll,
    ...(m.kind === 'cfm' ? { solvers } : {}),
    ...(guidance ? { guidance } : {}),
  };
  if (v.json) {
    console.log(JSON.stringify(report, null, 2));
    return 0;
  }
  const r = (x: number) => x.toFixed(4);
  const by = m.kind === 'cfm' ? 'samples by dopri5' : 'samples by the normalizing flow';
  console.log(`${report.model} (${m.kind}) against ${m2} fresh points of ${spec} (seed ${report.seed}), ${by}:`);
  console.log(`  metric        model     floor (data vs data)`);
  for (const k of ['w2', 'mmd2', 'energy'] as const) console.log(`  ${k.padEnd(12)}${r(report.metrics[k]).padStart(8)}  ${r(report.floor[k]).padStart(8)}`);
  if (nll) console.log(`  NLL of the data: ${r(nll.natsPerDim)} nats/dim (${r(nll.bitsPerDim)} bits/dim), NFE ${nll.nfe}, ${nll.seconds.toFixed(2)} s`);
  else if (m.kind === 'cfm' && m.config.objective === 'score') console.log('  NLL: not computed (a noise-predicting model: its velocity is singular at t = 0)');
  else console.log(`  NLL: not available (the model maps from '${m.kind === 'cfm' ? m.config.source : ''}', whose density is unknown)`);
  console.log(`  sampling ${m2} points: ${sampling.method}, NFE ${sampling.nfe}, ${sampling.seconds.toFixed(2)} s`);
  if (m.kind === 'cfm') {
    console.log(`  solver      NFE     W2      time`);
    for (const [name, s] of Object.entries(solvers)) console.log(`  ${name.padEnd(10)}${String(s.nfe).padStart(5)}  ${r(s.w2)}  ${s.seconds.toFixed(2)} s`);
  }
  if (guidance) {
    console.log(`  guidance (dopri5; class by a ${15}-nearest-neighbour vote; ceiling: the vote on fresh data ${r(guidance.ceiling)}; per-class W2 floor ${r(guidance.floor)}):`);
    console.log(`  w       class accuracy   per-class W2   NFE per class   (class by class: accuracy / W2)`);
    for (const row of guidance.rows) {
      const each = row.perClass.accuracy.map((a, k) => `${k}: ${a.toFixed(2)}/${row.perClass.w2[k].toFixed(2)}`).join('  ');
      console.log(`  ${String(row.w).padEnd(8)}${r(row.accuracy).padStart(14)}   ${r(row.w2).padStart(12)}   ${String(row.nfe).padStart(13)}   ${each}`);
    }
    if (v.png) console.log(`  grid (classes × w) → ${v.png}`);
  }
  return 0;
}

/** `rill eval` for a model of images: referee accuracy and FD per guidance scale (eval-images.ts), printed or as JSON. */
function evaluateImageModel(v: Values, model: FieldModel, config: TrainConfig): number {
  if (v.data !== undefined && v.data !== config.data) throw new UsageError(`rill eval: the model makes ${config.data} images; --data must be ${config.data} (or left out)`);
  if (!given(v, 'n')) v.n = 1000;
  const conditional = model.config.classes > 0;
  if (!conditional && v.guidance !== undefined) throw new UsageError(`rill eval: --guidance needs a class-conditional model (rill train --cond class); ${v.model} is not one`);
  const ws = String(v.guidance ?? '1,2,3').split(',').map(Number);
  if (!ws.length || ws.some((w) => !(w >= 0 && w <= 1000))) throw new UsageError(`rill eval: --guidance must be a list of scales in [0, 1000], e.g. 1,2,3; got ${String(v.guidance)}`);
  const r = evaluateImages(v, model, config, ws);
  const report = { model: String(v.model), kind: 'cfm', data: config.data, seed: Number(v.seed), ...r };
  if (v.json) {
    console.log(JSON.stringify(report, null, 2));
    return 0;
  }
  const f = (x: number) => x.toFixed(2);
  const ref = r.referee.testAccuracy === null ? '' : ` (test accuracy ${(100 * r.referee.testAccuracy).toFixed(2)} %)`;
  console.log(`${report.model}: ${r.n} samples${conditional ? ` (${r.perClass} per class)` : ''}, ${r.solver.method} ${r.solver.steps} steps, scored by the referee${ref}:`);
  console.log(`  floor: FD ${f(r.floor.fd)} (${r.n} training images vs the test set)`);
  console.log(`  w       accuracy   FD        FD/floor   NFE   seconds   (accuracy class by class)`);
  for (const row of r.guidance) {
    const each = row.perClass.map((a, k) => `${k}: ${a.toFixed(2)}`).join(' ');
    console.log(`  ${String(row.w).padEnd(8)}${(conditional ? (100 * row.accuracy).toFixed(1) + ' %' : '—').padStart(8)}   ${f(row.fd).padStart(7)}   ${f(row.fd / r.floor.fd).padStart(8)}   ${String(row.nfe).padStart(4)}   ${row.seconds.toFixed(1).padStart(7)}   ${each}`);
  }
  if (v.png) console.log(`  guidance grid (classes × w) → ${v.png}`);
  return 0;
}
