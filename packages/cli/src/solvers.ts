// `rill solvers`: every ODE solver at several NFE budgets on one trained model — the endpoint's error against a tight
// dopri5 solution and W2 to fresh data — as a table, JSON, and a figure (error and W2 against NFE).
import * as T from '@rill/tensor';
import { wasserstein2, sweepSolvers, type SweepRow, fieldOf, METHODS } from '@rill/flowmatch';
import { writeFigure } from './figure.js';
import type { Layer } from './plot/svg.js';
import { COMPARE_FLAGS, MAX_SEED, UsageError, type Flag, type Values } from './flags.js';
import { loadModel, loadPoints } from './io.js';

export const SOLVERS_FLAGS: Flag[] = [
  ...COMPARE_FLAGS,
  { name: 'n', kind: 'int', min: 2, max: 5000, default: 1000, help: 'noise points integrated (W2 solves an n×n assignment)' },
  { name: 'seed', kind: 'int', min: 0, max: MAX_SEED, default: 0, help: 'seed of the noise and the fresh data' },
  { name: 'nfe', kind: 'ints', min: 1, max: 100_000, help: 'NFE budgets of the fixed-step solvers (default 4,8,16,32,64,128)' },
  { name: 'png', kind: 'string', io: 'out', help: 'draw error and W2 against NFE to this PNG' },
  { name: 'json', kind: 'bool', default: false, help: 'print JSON (keys: model, data, n, seed, floor, reference, rows)' },
  { name: 'raw', kind: 'bool', default: false, help: 'use the raw weights even when the model has EMA weights' },
];

const COLORS: Record<string, string> = { euler: '#d62728', midpoint: '#ff7f0e', heun: '#2ca02c', rk4: '#1f77b4', dopri5: '#9467bd' };

export async function solvers(v: Values): Promise<number> {
  const { model, config } = loadModel('solvers', String(v.model), Boolean(v.raw));
  if (config.objective === 'score') throw new UsageError(`rill solvers: the sweep integrates from t = 0, where a noise-predicting model (objective score) has no velocity; sample it with rill sample`);
  const spec = v.data === undefined ? String(config.data) : String(v.data);
  if (spec === 'custom') throw new UsageError('rill solvers: the model says nothing of its training data (a CSV or .npy file, or imported weights); pass the data with --data FILE');
  const n = Number(v.n);
  const g = new T.Generator(Number(v.seed));
  const data = loadPoints('solvers', 'data', spec, n, g, config.dim, { indexCol: Boolean(v['index-col']) });
  const other = loadPoints('solvers', 'data', spec, n, g, config.dim, { indexCol: Boolean(v['index-col']) });
  const noise = T.randn([n, config.dim], { generator: g });
  const budgets = (v.nfe as number[] | undefined) ?? [4, 8, 16, 32, 64, 128];
  const { rows, reference } = sweepSolvers(fieldOf(model), noise, data, { budgets });
  const report = { model: String(v.model), data: spec, n, seed: Number(v.seed), floor: wasserstein2(other, data), reference, rows };
  if (v.png !== undefined) drawSweep(String(v.png), rows, reference.w2, report.floor);
  if (v.json) {
    console.log(JSON.stringify(report, null, 2));
    return 0;
  }
  console.log(`${report.model}: ${n} noise points integrated from t = 0 to 1, compared with ${n} fresh points of ${spec}`);
  console.log(`  solver     steps/tol    NFE   error (RMS)      W2     time`);
  for (const r of rows) {
    const setting = r.steps !== null ? String(r.steps) : r.tolerance!.toExponential(0);
    console.log(`  ${r.method.padEnd(9)}${setting.padStart(10)}${String(r.nfe).padStart(7)}   ${r.error.toExponential(2).padStart(9)}  ${r.w2.toFixed(4).padStart(8)}  ${r.seconds.toFixed(2)} s`);
  }
  console.log(`  error: against dopri5 at rtol = atol = ${reference.tolerance} (NFE ${reference.nfe}), whose W2 is ${reference.w2.toFixed(4)}`);
  console.log(`  floor: W2 between two fresh draws of the data, ${report.floor.toFixed(4)}`);
  if (v.png !== undefined) console.log(`  figure: ${String(v.png)}`);
  return 0;
}

/** Two panels: the error against NFE (log-log: slopes are the orders) and W2 against NFE, one line per solver. */
function drawSweep(path: string, rows: SweepRow[], referenceW2: number, floor: number): void {
  const perMethod = (y: (r: SweepRow) => number): Layer[] =>
    METHODS.flatMap((method) => {
      const rs = rows.filter((r) => r.method === method).sort((a, b) => a.nfe - b.nfe);
      const x = rs.map((r) => r.nfe);
      const ys = rs.map(y);
      const xy = x.flatMap((xv, i) => [xv, ys[i]]);
      return [{ kind: 'line', x, y: ys, color: COLORS[method], label: method, width: 2 }, { kind: 'scatter', xy, color: COLORS[method], radius: 3, opacity: 1 }];
    });
  const nfes = rows.map((r) => r.nfe);
  const xRange: [number, number] = [Math.min(...nfes) / 1.4, Math.max(...nfes) * 1.4];
  const errors = rows.map((r) => r.error).filter((e) => e > 0);
  const w2s = [...rows.map((r) => r.w2), floor];
  const level = (y: number, color: string, label: string): Layer => ({ kind: 'line', x: xRange, y: [y, y], color, label, width: 1 });
  writeFigure(path, [
    { title: 'ODE error against NFE', xLabel: 'function evaluations (NFE)', yLabel: 'RMS distance to the reference endpoint', layers: perMethod((r) => r.error), logX: true, logY: true, x: xRange, y: [Math.min(...errors) / 2, Math.max(...errors) * 2] },
    {
      title: 'W2 to the data against NFE',
      xLabel: 'function evaluations (NFE)',
      yLabel: 'W2 (samples vs fresh data)',
      layers: [...perMethod((r) => r.w2), level(referenceW2, '#555', 'reference ODE'), level(floor, '#aaa', 'data floor')],
      logX: true,
      x: xRange,
      y: [0, Math.max(...w2s) * 1.05],
    },
  ], 560, 440);
}
