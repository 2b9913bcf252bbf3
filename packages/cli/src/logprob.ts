// `rill logprob`: log-densities of points under a trained model (instantaneous change of variables for CFM, the exact
// change of variables for a normalizing flow), and a heat map.
import * as T from '@rill/tensor';
import { writeFileAtomic, writeNpy } from '@rill/flowmatch/node';
import { writeFigure } from './figure.js';
import { sampleDataset } from '@rill/flowmatch';
import type { Flag, Values } from './flags.js';
import { INDEX_COL_FLAG, UsageError } from './flags.js';
import { finiteOutputs, isDataset, loadAnyModel, modelLogProb, readPoints, seconds } from './io.js';

export const LOGPROB_FLAGS: Flag[] = [
  { name: 'model', kind: 'string', io: 'in', required: true, help: 'a .rill model file' },
  { name: 'points', kind: 'string', io: 'in', required: true, help: 'a CSV file of points (header optional) or a .npy array (n, d)' },
  INDEX_COL_FLAG,
  { name: 'out', kind: 'string', io: 'out', help: 'file for the log-densities: CSV, or .npy (a float32 array (n)); default: print them' },
  { name: 'steps', kind: 'int', min: 1, max: 10_000, default: 50, help: 'RK4 steps from data (t = 1) to noise (t = 0) (cfm models)' },
  { name: 'divergence', kind: 'choice', choices: ['exact', 'hutchinson'], default: 'exact', help: 'Jacobian trace: exact (one pass per dimension) or Hutchinson' },
  { name: 'png', kind: 'string', io: 'out', help: 'draw the density exp(log p) on a grid around the points to this PNG' },
  { name: 'grid', kind: 'int', min: 4, max: 200, default: 48, help: 'heat-map resolution (cells per side)' },
  { name: 'raw', kind: 'bool', default: false, help: 'use the raw weights even when the model has EMA weights' },
  { name: 'class', kind: 'int', min: 0, max: 1_000_000, help: 'a class-conditional model: the density of this class (its guided field)' },
  { name: 'guidance', kind: 'number', min: 0, max: 1000, default: 1, help: 'with --class: the guidance scale w of the field whose density is computed' },
];

export async function logprob(v: Values): Promise<number> {
  const m = loadAnyModel('logprob', String(v.model), Boolean(v.raw));
  const { config } = m;
  const points = readPoints('logprob', 'points', String(v.points), config.dim, { indexCol: Boolean(v['index-col']) });
  if (v.class === undefined && v.guidance !== 1) throw new UsageError('rill logprob: --guidance needs --class');
  if (v.class !== undefined && (m.kind !== 'cfm' || !(Number(v.class) < m.model.config.classes))) {
    throw new UsageError(`rill logprob: --class ${v.class} needs a class-conditional model with more than ${v.class} classes`);
  }
  const options = { steps: Number(v.steps), divergence: v.divergence as 'exact' | 'hutchinson', label: v.class === undefined ? null : Number(v.class), guidance: Number(v.guidance) };
  const start = performance.now();
  const { logProb: lp, nfe } = modelLogProb('logprob', m, points, options);
  finiteOutputs('logprob', lp, 'log-densities', 'the points lie where the density underflows or the ODE diverged: check their scale, or raise --steps');
  const text = `logp\n${Array.from(lp.data).join('\n')}\n`;
  if (v.out && /\.npy$/i.test(String(v.out))) writeNpy(String(v.out), lp);
  else if (v.out) writeFileAtomic(String(v.out), text);
  else process.stdout.write(text);
  console.error(`log p of ${points.shape[0]} points: NFE ${nfe}, ${seconds(start)}${v.out ? ` → ${v.out}` : ''}`);
  if (v.png) {
    if (config.dim !== 2) throw new UsageError('rill logprob: --png draws 2D models only');
    const n = Number(v.grid);
    const d = points.data;
    // The map covers the points and, for a model trained on a named dataset, that dataset's extent.
    const extent = isDataset(config.data) ? Array.from(sampleDataset(config.data, 2000, { generator: new T.Generator(0) }).data) : [];
    const all = [...Array.from(d), ...extent];
    let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let i = 0; i < all.length; i += 2) [x0, x1, y0, y1] = [Math.min(x0, all[i]), Math.max(x1, all[i]), Math.min(y0, all[i + 1]), Math.max(y1, all[i + 1])];
    const pad = 0.15 * Math.max(x1 - x0, y1 - y0, 1);
    [x0, x1, y0, y1] = [x0 - pad, x1 + pad, y0 - pad, y1 + pad];
    const centres = new Float32Array(2 * n * n);
    for (let j = 0; j < n; j++)
      for (let i = 0; i < n; i++) centres.set([x0 + ((i + 0.5) * (x1 - x0)) / n, y0 + ((j + 0.5) * (y1 - y0)) / n], 2 * (j * n + i));
    const grid = modelLogProb('logprob', m, T.tensor(centres, { shape: [n * n, 2] }), { ...options, steps: Math.min(Number(v.steps), 20) });
    const density = Array.from(grid.logProb.data, Math.exp);
    const size = writeFigure(String(v.png), [
      {
        title: m.kind === 'flow' ? 'Model density p(x) (normalizing flow)' : 'Model density p₁(x)',
        xLabel: 'x₀',
        yLabel: 'x₁',
        x: [x0, x1],
        y: [y0, y1],
        layers: [
          { kind: 'heatmap', values: density, nx: n, ny: n, x: [x0, x1], y: [y0, y1] },
          { kind: 'scatter', xy: d, color: '#ff7f0e', label: 'points', radius: 1.5, opacity: 0.8 },
        ],
      },
    ], 540, 500);
    console.error(`density map → ${v.png} (${size.width}×${size.height})`);
  }
  return 0;
}
