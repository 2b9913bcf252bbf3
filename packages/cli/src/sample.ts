// `rill sample`: draw points from a trained model by integrating its velocity field from noise (t = 0) to data (t = 1),
// or, for a normalizing flow, by pushing noise through it in one pass.
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import { DIFFUSION_SCHEDULES, fieldOf, guidedField, inChunks, makePath, METHODS, sdeSolve, solve, type DiffusionSchedule, type Field, type Method, type TrainConfig, type SolveOptions, sampleDataset, IMAGE_DATA } from '@rill/flowmatch';
import { denoisingStrip, sampleGrid, writeImages } from './images.js';
import { isSpecialFile } from '@rill/flowmatch/node';
import { writeFigure } from './figure.js';
import type { Flag, Values } from './flags.js';
import { MAX_SEED, UsageError } from './flags.js';
import { finiteOutputs, isDataset, loadAnyModel, samplingField, seconds, writePoints } from './io.js';
import type { Layer } from './plot/svg.js';

/** Rows per evaluation of the velocity field when sampling: a chunk's activations, not --n rows', are in memory. */
const CHUNK_ROWS = 16_384;
/** The same for images, whose activations are ~10⁵ floats a row in a U-Net. */
const IMAGE_CHUNK_ROWS = 200;

/** Whether a flow-matching config describes images (an image dataset, or a U-Net). */
export const isImageModel = (config: TrainConfig) => Object.hasOwn(IMAGE_DATA, config.data) || config.model === 'unet';

export const SOLVER_FLAGS: Flag[] = [
  { name: 'solver', kind: 'choice', choices: METHODS, default: 'dopri5', help: 'ODE solver' },
  { name: 'steps', kind: 'int', min: 1, max: 100_000, default: 100, help: 'steps of a fixed-step solver' },
  { name: 'rtol', kind: 'number', above: 0, default: 1e-5, help: 'dopri5 relative tolerance' },
  { name: 'atol', kind: 'number', above: 0, default: 1e-5, help: 'dopri5 absolute tolerance' },
];

export const SAMPLE_FLAGS: Flag[] = [
  { name: 'model', kind: 'string', io: 'in', required: true, help: 'a .rill model file' },
  { name: 'n', kind: 'int', min: 1, max: 1_000_000, default: 2000, help: 'number of samples' },
  { ...SOLVER_FLAGS[0], choices: [...METHODS, 'euler-maruyama'], help: 'ODE solver, or euler-maruyama: the SDE with the same marginals (--diffusion)' },
  ...SOLVER_FLAGS.slice(1),
  { name: 'diffusion', kind: 'number', min: 0, max: 100, default: 1, help: 'euler-maruyama: the diffusion g (0 = Euler exactly)' },
  { name: 'diffusion-schedule', kind: 'choice', choices: DIFFUSION_SCHEDULES, default: 'constant', help: 'euler-maruyama: g_t = g (constant) or g·√β_t (vanishing at t = 1)' },
  { name: 'class', kind: 'string', help: 'a class-conditional model: the class to sample (0, 1, …), or all (--n samples of each; a label column in the CSV)' },
  { name: 'guidance', kind: 'number', min: 0, max: 1000, default: 1, help: 'with --class: the guidance scale w (0 unconditional, 1 conditional, > 1 guided)' },
  { name: 'seed', kind: 'int', min: 0, max: MAX_SEED, default: 0, help: 'seed of the noise' },
  { name: 'out', kind: 'string', io: 'out', default: 'samples.csv', help: 'file for the samples: CSV (header x0,x1,…; images: label,p0,…,p783 with intensities in [0, 1]), or .npy (a float32 array (n, d))' },
  { name: 'png', kind: 'string', io: 'out', help: 'draw data vs samples to this PNG (images: a grid, one row per class)' },
  { name: 'trajectories', kind: 'string', io: 'out', help: 'draw trajectories from noise to data to this PNG (images: a denoising strip, x_t at t = 0, ¼, ½, ¾, 1)' },
  { name: 'field', kind: 'string', io: 'out', help: 'draw the velocity field at t = 0, ½, 0.9 to this PNG' },
  { name: 'raw', kind: 'bool', default: false, help: 'use the raw weights even when the model has EMA weights' },
];

export const solverOptions = (v: Values): SolveOptions => ({
  method: v.solver as Method,
  steps: Number(v.steps),
  rtol: Number(v.rtol),
  atol: Number(v.atol),
});

export async function sample(v: Values): Promise<number> {
  const m = loadAnyModel('sample', String(v.model), Boolean(v.raw));
  const { config } = m;
  if (m.kind === 'flow' && (v.trajectories || v.field)) {
    throw new UsageError(`rill sample: --${v.trajectories ? 'trajectories' : 'field'} draws an ODE's paths or velocity field; ${v.model} is a normalizing flow, which maps noise to data in one pass`);
  }
  if (m.kind === 'cfm' && isImageModel(m.config) && v.field) throw new UsageError('rill sample: --field draws a 2D velocity field; this model makes images');
  const g = new T.Generator(Number(v.seed));
  const noise = T.randn([Number(v.n), config.dim], { generator: g });
  const start = performance.now();
  let x: T.Tensor;
  let how: string;
  let labels: number[] | null = null;
  if (m.kind === 'flow' && (v.class !== undefined || v.solver === 'euler-maruyama')) {
    throw new UsageError(`rill sample: --${v.class !== undefined ? 'class' : 'solver euler-maruyama'} needs a flow-matching model; ${v.model} is a normalizing flow`);
  }
  if (m.kind === 'flow') {
    x = inChunks((z) => A.noGrad(() => T.tidy(() => m.flow.forward(z).value)), CHUNK_ROWS)(noise, 0);
    how = 'one pass of the flow';
  } else {
    // The noise is drawn whole (the same draws for any --n split), the field evaluated in chunks (bounded memory).
    const parts: T.Tensor[] = [];
    let nfe = 0;
    const rows = isImageModel(m.config) ? IMAGE_CHUNK_ROWS : CHUNK_ROWS;
    for (const label of classesToSample(v, m.model.config.classes)) {
      const guided = label === null ? Object.assign(fieldOf(m.model), { evaluationsPerCall: 1 }) : guidedField(m.model, label, Number(v.guidance));
      const { field, t0, t1 } = samplingField(m.model, m.config, guided); // a noise-predicting model: ε̂ → velocity, from t0
      const run = integrate(v, inChunks(field, rows), noise, m.config, g, t0, t1);
      const evaluations = guided.evaluationsPerCall;
      parts.push(run.x);
      nfe = run.calls * evaluations; // network evaluations (two per call for a guided field)
      labels = label === null ? null : [...(labels ?? []), ...new Array<number>(noise.shape[0]).fill(label)];
    }
    x = parts.length === 1 ? parts[0] : T.concat(parts, 0);
    how = `${v.solver}, NFE ${nfe}${labels ? `${parts.length > 1 ? ' per class' : ''}, guidance w = ${v.guidance}` : ''}`;
  }
  const took = seconds(start);
  // Samples written to stdout (or a pipe): the report goes to stderr, out of their way.
  const say = isSpecialFile(String(v.out)) ? console.error : console.log;
  finiteOutputs('sample', x, 'samples', m.kind === 'cfm' ? 'the ODE solver diverged: try dopri5 or more --steps' : 'the flow overflowed');
  if (m.kind === 'cfm' && isImageModel(m.config)) return sampleImages(v, m, x, labels, how, took, noise, say);
  writePoints(String(v.out), x, labels ?? undefined);
  say(`sampled ${v.n} points with ${m.kind === 'flow' ? 'the normalizing flow: one pass' : how.replace(', NFE', ': NFE')}, ${took} → ${v.out}`);
  if (labels && labels.length > Number(v.n) && /\.npy$/i.test(String(v.out))) say(`the .npy holds the classes in blocks of ${v.n} rows: class 0 first, then 1, …`);
  if (config.dim !== 2 && (v.png || v.trajectories || v.field)) {
    say(`figures skipped: the model is ${config.dim}-dimensional (figures are drawn for 2D data)`);
    return 0;
  }
  const data = isDataset(config.data) ? sampleDataset(config.data, Number(v.n), { generator: new T.Generator(Number(v.seed) + 1) }) : null;
  const view = { equal: true, xLabel: 'x₀', yLabel: 'x₁' };
  if (v.png) {
    const layers: Layer[] = [];
    if (data) layers.push({ kind: 'scatter', xy: data.data, color: '#1f77b4', label: `data (${config.data})`, opacity: 0.5 });
    layers.push({ kind: 'scatter', xy: x.data, color: '#d62728', label: 'samples', opacity: 0.5 });
    const size = writeFigure(String(v.png), [{ title: `Samples (${how})`, ...view, layers }]);
    say(`data vs samples → ${v.png} (${size.width}×${size.height})`);
  }
  if (m.kind !== 'cfm') return 0;
  const { model } = m;
  const { field, t0, t1 } = samplingField(model, m.config);
  if (v.trajectories) {
    const k = Math.min(300, Number(v.n));
    const times = Array.from({ length: 33 }, (_, i) => i / 32);
    const few = T.slice(noise, [0], [k]);
    const { trajectory } = solve(field, few, { ...solverOptions(v), times: times.map((t) => Math.min(Math.max(t, t0), t1)), t0, t1 });
    const paths = Array.from({ length: k }, (_, i) => Float64Array.from(trajectory.flatMap((t) => [t.data[2 * i], t.data[2 * i + 1]])));
    const size = writeFigure(String(v.trajectories), [
      {
        title: 'Trajectories from noise (t = 0) to data (t = 1)',
        ...view,
        layers: [
          ...(data ? [{ kind: 'scatter' as const, xy: data.data, color: '#9ecae1', label: 'data', radius: 1.2, opacity: 0.5 }] : []),
          { kind: 'paths', xy: paths, color: '#555555' },
          { kind: 'scatter', xy: trajectory[0].data, color: '#7f7f7f', label: 't = 0 (noise)', radius: 1.8 },
          { kind: 'scatter', xy: trajectory[times.length - 1].data, color: '#d62728', label: 't = 1 (samples)', radius: 1.8 },
        ],
      },
    ], 560, 520);
    say(`trajectories → ${v.trajectories} (${size.width}×${size.height})`);
  }
  if (v.field) {
    const span = data ? Math.max(...Array.from(data.data, Math.abs)) * 1.1 : 4;
    const grid = 17;
    const pts = new Float32Array(grid * grid * 2);
    for (let j = 0; j < grid; j++)
      for (let i = 0; i < grid; i++) pts.set([-span + (2 * span * i) / (grid - 1), -span + (2 * span * j) / (grid - 1)], 2 * (j * grid + i));
    const points = T.tensor(pts, { shape: [grid * grid, 2] });
    const charts = [0, 0.5, 0.9].map((t) => {
      const u = field(points, Math.min(Math.max(t, t0), t1));
      return { title: `u_θ(x, t = ${t})`, ...view, x: [-span, span] as [number, number], y: [-span, span] as [number, number],
        layers: [{ kind: 'arrows' as const, xy: pts, uv: u.data, color: '#1f4e9a', scale: (span / grid) * 0.35 }] };
    });
    const size = writeFigure(String(v.field), charts, 420, 420);
    say(`velocity field → ${v.field} (${size.width}×${size.height})`);
  }
  return 0;
}

/** The outputs of image samples: the CSV or .npy of intensities, the grid (--png), the denoising strip (--trajectories). */
function sampleImages(v: Values, m: Extract<ReturnType<typeof loadAnyModel>, { kind: 'cfm' }>, x: T.Tensor, labels: number[] | null, how: string, took: string, noise: T.Tensor, say: (...a: unknown[]) => void): number {
  writeImages(String(v.out), x, labels ?? undefined);
  say(`sampled ${v.n} images${labels && labels.length > Number(v.n) ? ' of each class' : ''} with ${how.replace(', NFE', ': NFE')}, ${took} → ${v.out}`);
  if (v.png) {
    sampleGrid(String(v.png), x, labels, `Samples (${how})`);
    say(`grid → ${v.png}`);
  }
  if (v.trajectories) {
    const classes = labels ? [...new Set(labels)] : [null];
    const strip = classes.map((k) => {
      const guided = k === null ? fieldOf(m.model) : guidedField(m.model, k, Number(v.guidance));
      return { label: k === null ? 'sample' : `class ${k}`, field: samplingField(m.model, m.config, guided).field, noise: T.slice(noise, [0], [1]) };
    });
    const { t0, t1 } = samplingField(m.model, m.config);
    const method = v.solver === 'euler-maruyama' ? 'euler' : (v.solver as 'euler' | 'midpoint' | 'rk4' | 'dopri5');
    denoisingStrip(String(v.trajectories), strip, t0, t1, { method, steps: Number(v.steps), rtol: Number(v.rtol), atol: Number(v.atol) });
    say(`denoising strip → ${v.trajectories}`);
  }
  return 0;
}

/** The classes --class asks for (null: the unconditional field), checked against the model's K. */
function classesToSample(v: Values, K: number): (number | null)[] {
  if (v.class === undefined) {
    if (v.guidance !== 1) throw new UsageError('rill sample: --guidance needs --class (guidance steers towards a class)');
    return [null];
  }
  if (K === 0) throw new UsageError(`rill sample: --class needs a class-conditional model (rill train --cond class); ${v.model} is unconditional`);
  if (v.class === 'all') return Array.from({ length: K }, (_, k) => k);
  const k = Number(v.class);
  if (!(Number.isInteger(k) && k >= 0 && k < K)) throw new UsageError(`rill sample: --class must be all or an integer in [0, ${K - 1}], got ${String(v.class)}`);
  return [k];
}

/** Runs the chosen solver from the noise; returns the samples and the number of field calls. */
function integrate(v: Values, field: Field, noise: T.Tensor, config: TrainConfig, g: T.Generator, t0: number, t1: number) {
  if (v.solver !== 'euler-maruyama') {
    const solved = solve(field, noise, { ...solverOptions(v), t0, t1 });
    return { x: solved.x, calls: solved.nfe };
  }
  const path = makePath(config);
  const setting = { source: config.source, coupling: config.coupling };
  try {
    const r = sdeSolve(field, noise, { path, diffusion: Number(v.diffusion), schedule: v['diffusion-schedule'] as DiffusionSchedule, steps: Number(v.steps), generator: g, setting, t0, t1 });
    return { x: r.x, calls: r.nfe };
  } catch (e) {
    if (e instanceof T.ValueError) throw new UsageError(`rill sample: --solver euler-maruyama: ${e.message.replace(/^[\w-]+: /, '')}`);
    throw e;
  }
}
