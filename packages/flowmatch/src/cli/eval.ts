// `rill eval`: sample quality against fresh data (W2, MMD², energy distance), the data-vs-data floor, NFE per solver.
import * as T from '@rill/tensor';
import { energyDistance, mmd2, wasserstein2 } from '../metrics.js';
import { fieldOf, solve, type Method, type SolveOptions } from '../solvers.js';
import { UsageError, type Flag, type Values } from './flags.js';
import { loadModel, loadPoints } from './io.js';

export const EVAL_FLAGS: Flag[] = [
  { name: 'model', kind: 'string', required: true, help: 'a .rill model file' },
  { name: 'data', kind: 'string', help: "a dataset or a CSV file to compare with (default: the model's training data)" },
  { name: 'n', kind: 'int', min: 2, max: 5000, default: 2000, help: 'points per sample (W2 solves an n×n assignment)' },
  { name: 'seed', kind: 'int', min: 0, default: 0, help: 'seed of the noise and the fresh data' },
  { name: 'json', kind: 'bool', default: false, help: 'print JSON (keys: model, data, n, seed, metrics, floor, solvers)' },
  { name: 'raw', kind: 'bool', default: false, help: 'use the raw weights even when the model has EMA weights' },
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
  const { model, config } = loadModel('eval', String(v.model), Boolean(v.raw));
  const spec = v.data === undefined ? String(config.data) : String(v.data);
  if (spec === 'custom') throw new UsageError('rill eval: the model was trained on a CSV file; pass it again with --data FILE.csv');
  const n = Number(v.n);
  const g = new T.Generator(Number(v.seed));
  const take = (pts: T.Tensor) => (pts.shape[0] >= n ? T.slice(pts, [0], [n]) : pts);
  const data = take(loadPoints('eval', 'data', spec, n, g, config.dim));
  const other = take(loadPoints('eval', 'data', spec, n, g, config.dim));
  const m = Math.min(data.shape[0], other.shape[0]);
  if (m < 2) throw new UsageError(`rill eval: --data ${spec} has fewer than 2 points`);
  const noise = T.randn([m, config.dim], { generator: g });
  const field = fieldOf(model);
  const solvers: Record<string, { nfe: number; w2: number; seconds: number }> = {};
  let best: T.Tensor | null = null;
  for (const [method, options] of SOLVERS) {
    const start = performance.now();
    const { x, nfe } = solve(field, noise, { method, ...options });
    solvers[method] = { nfe, w2: wasserstein2(x, T.slice(data, [0], [m])), seconds: (performance.now() - start) / 1000 };
    best = x;
  }
  const report = {
    model: String(v.model),
    data: spec,
    n: m,
    seed: Number(v.seed),
    metrics: metrics(best!, T.slice(data, [0], [m])),
    floor: metrics(T.slice(other, [0], [m]), T.slice(data, [0], [m])),
    solvers,
  };
  if (v.json) {
    console.log(JSON.stringify(report, null, 2));
    return 0;
  }
  const r = (x: number) => x.toFixed(4);
  console.log(`${report.model} against ${m} fresh points of ${spec} (seed ${report.seed}), samples by dopri5:`);
  console.log(`  metric        model     floor (data vs data)`);
  for (const k of ['w2', 'mmd2', 'energy'] as const) console.log(`  ${k.padEnd(12)}${r(report.metrics[k]).padStart(8)}  ${r(report.floor[k]).padStart(8)}`);
  console.log(`  solver      NFE     W2      time`);
  for (const [name, s] of Object.entries(solvers)) console.log(`  ${name.padEnd(10)}${String(s.nfe).padStart(5)}  ${r(s.w2)}  ${s.seconds.toFixed(2)} s`);
  return 0;
}
