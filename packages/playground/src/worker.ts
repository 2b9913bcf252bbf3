// The training worker: runs Rill's Trainer off the page's thread (the page never freezes), reports progress, and
// answers snapshot / field / save / load requests between training chunks.
import * as A from '@rill/autograd';
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';
import { TIMES, type BackendName, type FromWorker, type Sampling, type Settings, type ToWorker } from './protocol.js';

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

let trainer: F.Trainer | null = null;
/** The id of the training loop that may go on: null after Stop (the loop then reports `done`), 0 while a new run or a load takes over. */
let running: number | null = null;
let runs = 0;
let span = 4;

let queue: Promise<unknown> = Promise.resolve();
/**
 * Runs jobs one at a time — training chunks, views, saves, loads — so that no job sees the model halfway through a
 * step: with webgpu a step awaits its read-backs, and messages arrive in those gaps.
 */
function exclusive<R>(job: () => R | Promise<R>): Promise<R> {
  const next = queue.then(job);
  queue = next.catch(() => undefined);
  return next;
}

async function useBackend(name: BackendName): Promise<void> {
  // The GPU entries are imported here (loaded only when asked for), which registers how T.ready starts them: gpu.js
  // on WebGL2 (an OffscreenCanvas in this worker), or WGSL compute shaders on WebGPU (navigator.gpu exists in workers).
  if (name === 'gpu') await import('@rill/tensor/gpu');
  if (name === 'webgpu') await import('@rill/tensor/webgpu');
  // wasm compiles its kernels asynchronously (also fine on a page's main thread); threads are Node-only: one here.
  await T.ready({ backend: name, threads: 1, require: true });
}

function makeTrainer(s: Settings): F.Trainer {
  const custom: F.CustomPoints = {};
  if (s.data === 'custom') {
    if (!s.points || s.points.length < 4) throw new Error('paint at least two points first');
    if (s.conditional) throw new Error('painted points have no classes to condition on: pick a dataset with classes');
    custom.data = T.keep(T.tensor(s.points, { shape: [s.points.length / 2, 2] }));
  }
  return new F.Trainer(
    { data: s.data, steps: s.steps, batch: s.batch, hidden: s.hidden, activation: s.activation, optimizer: s.optimizer, lr: s.lr,
      weightDecay: s.optimizer === 'adamw' ? 0.01 : 0, // AdamW's decoupled decay at PyTorch's default; none for Adam and SGD
      path: s.path, sigma: s.sigma, coupling: s.coupling, seed: s.seed,
      classes: s.conditional && s.data !== 'custom' ? F.DATASET_CLASSES[s.data] : 0 },
    custom,
  );
}

/** n points of the training data (fresh draws for a dataset, the painted points for custom data). */
function dataPoints(n: number, g: T.Generator): T.Tensor {
  return trainer!.draw('data', n, g);
}

async function train(): Promise<void> {
  const t = trainer!;
  const run = (running = ++runs);
  let last = performance.now();
  let lastStep = t.step;
  while (running === run && t.step < t.config.steps) {
    // ~50 ms of steps, then let messages through; the asynchronous loop reads the loss without blocking (webgpu needs
    // that; on the CPU it gives the same numbers as trainFor)
    const losses = await exclusive(() => t.trainForAsync(50));
    const now = performance.now();
    post({ type: 'progress', step: t.step, steps: t.config.steps, losses, stepsPerSecond: ((t.step - lastStep) * 1000) / (now - last), backend: T.getBackend().name });
    [last, lastStep] = [now, t.step];
    await new Promise((r) => setTimeout(r, 0));
  }
  if (running !== run && running !== null) return; // a new run or a loaded model took over: no `done` for this one
  running = null;
  post({ type: 'done', step: t.step });
}

/**
 * Runs a view of the model (samples, the solver table, the field) where it can read its results synchronously: on the
 * CPU backends where they are; on webgpu, which reads back only asynchronously, the weights are read back first
 * (checkpointAsync) and the view runs on wasm — the weights move there, and back to the GPU at the next training step.
 */
async function onHost<R>(view: () => R): Promise<R> {
  const backend = T.getBackend();
  if (!backend.asyncRead) return view();
  await trainer!.checkpointAsync();
  T.setBackend('wasm');
  try {
    return view();
  } finally {
    T.setBackend(backend.name);
  }
}

/** The field to sample: the model's (EMA weights when on), or its guided field for a class. */
function samplingField(s: Pick<Sampling, 'label' | 'guidance'>): { field: F.Field; evaluations: number } {
  const model = trainer!.samplingModel();
  if (s.label === null || model.config.classes === 0) return { field: F.fieldOf(model), evaluations: 1 };
  const guided = F.guidedField(model, s.label, s.guidance);
  return { field: guided, evaluations: guided.evaluationsPerCall };
}

/** Euler–Maruyama with g·√β_t, run interval by interval between the TIMES so that the trajectory has them all. */
function sdeTrajectory(field: F.Field, noise: T.Tensor, g: number, steps: number) {
  const gen = new T.Generator(4321);
  const trajectory = [T.clone(noise)];
  let nfe = 0;
  for (let k = 0; k + 1 < TIMES.length; k++) {
    const per = Math.max(1, Math.round(steps / (TIMES.length - 1)));
    const r = F.sdeSolve(field, trajectory[k], { path: trainer!.path, diffusion: g, schedule: 'vanishing', steps: per, generator: gen, t0: TIMES[k], t1: TIMES[k + 1] });
    trajectory.push(r.x);
    nfe += r.nfe;
  }
  return { x: trajectory[trajectory.length - 1], nfe, trajectory };
}

function snapshot(s: Sampling): void {
  const t = trainer!;
  const start = performance.now();
  const out = T.tidy(() => {
    const g = new T.Generator(1234);
    const noise = T.randn([500, 2], { generator: g });
    const { field, evaluations } = samplingField(s);
    const run = s.diffusion > 0 ? sdeTrajectory(field, noise, s.diffusion, s.steps) : F.solve(field, noise, { method: s.solver, steps: s.steps, rtol: 1e-4, atol: 1e-4, times: TIMES });
    // the data to compare with: the requested class's points for a guided sample
    const all = dataPoints(500, new T.Generator(99));
    span = Math.max(3, ...Array.from(all.data, Math.abs)) * 1.15;
    let data = all;
    if (s.label !== null && t.config.classes > 0) {
      const { z, y } = t.drawLabeled(1500, new T.Generator(99));
      data = T.gather(z, Array.from(y.keys()).filter((i) => y[i] === s.label));
    }
    const m = Math.min(data.shape[0], 500);
    const w2 = F.wasserstein2(T.slice(run.x, [0], [m]), T.slice(data, [0], [m]));
    return { nfe: run.nfe * evaluations, w2, data: Float32Array.from(data.data), trajectory: run.trajectory.map((p) => Float32Array.from(p.data)) };
  });
  const seconds = (performance.now() - start) / 1000;
  const solver = s.diffusion > 0 ? `SDE (g = ${s.diffusion}·√β_t)` : s.solver;
  post({ type: 'snapshot', step: t.step, solver, seconds, ...out }, [out.data.buffer, ...out.trajectory.map((p) => p.buffer)]);
}

/** Every solver on the same 500 noise points at about 40 evaluations each (dopri5 adapts): NFE, W2 and time. */
const BUDGET: [F.Method, number][] = [['euler', 40], ['midpoint', 20], ['heun', 20], ['rk4', 10], ['dopri5', 0]];

function compare(): void {
  const t = trainer!;
  const rows = T.tidy(() => {
    const noise = T.randn([500, 2], { generator: new T.Generator(1234) });
    const data = dataPoints(500, new T.Generator(99));
    const field = F.fieldOf(t.samplingModel());
    return BUDGET.map(([solver, steps]) => {
      const start = performance.now();
      const { x, nfe } = F.solve(field, noise, { method: solver, steps, rtol: 1e-4, atol: 1e-4 });
      return { solver, nfe, w2: F.wasserstein2(x, data), seconds: (performance.now() - start) / 1000 };
    });
  });
  post({ type: 'compare', step: t.step, rows });
}

/** The field on a grid at `time` (guided for a class), and with `exact` the exact field (∗) of 200 data points. */
function field(m: Extract<ToWorker, { type: 'field' }>): void {
  const grid = 15;
  const xy = new Float32Array(grid * grid * 2);
  for (let j = 0; j < grid; j++) for (let i = 0; i < grid; i++) xy.set([-span + (2 * span * i) / (grid - 1), -span + (2 * span * j) / (grid - 1)], 2 * (j * grid + i));
  const points = () => T.tensor(xy, { shape: [grid * grid, 2] });
  const uv = A.noGrad(() => T.tidy(() => Float32Array.from(samplingField(m).field(points(), m.t).data)));
  // (∗) is singular at t = 1 (it snaps onto the points): drawn at t ≤ 0.99
  const exact = m.exact ? T.tidy(() => Float32Array.from(F.marginalVelocity(dataPoints(200, new T.Generator(7)), trainer!.path)(points(), Math.min(m.t, 0.99)).data)) : null;
  post({ type: 'field', t: m.t, grid, span, xy, uv, exact }, [xy.buffer, uv.buffer, ...(exact ? [exact.buffer] : [])]);
}

async function handle(m: ToWorker): Promise<void> {
  if (m.type === 'train') {
    await useBackend(m.settings.backend);
    trainer = makeTrainer(m.settings);
    post({ type: 'started', classes: trainer.config.classes });
    await onHost(() => snapshot(m.sampling)); // the untrained model: where the samples start from
    // errors of the loop (a failing step) reach the page like those of any request
    train().catch((err: Error) => {
      running = null;
      post({ type: 'error', message: err.message });
    });
  } else if (m.type === 'load') {
    await useBackend(m.backend);
    // The same .rill format as the CLI: a model trained by `rill train` opens here, and the other way round.
    const loaded = F.Trainer.fromCheckpoint(F.decodeCheckpoint(new Uint8Array(m.bytes), 'the .rill file'));
    if (loaded.config.objective === 'score') throw new Error('the playground samples velocity fields; this model predicts noise (objective score): sample it with rill sample');
    trainer = loaded;
    post({ type: 'loaded', step: trainer.step, data: String(trainer.config.data), classes: trainer.config.classes });
  } else if (!trainer) throw new Error('train or load a model first');
  else if (m.type === 'snapshot') await onHost(() => snapshot(m.sampling));
  else if (m.type === 'field') await onHost(() => field(m));
  else if (m.type === 'compare') await onHost(compare);
  else if (m.type === 'save') {
    const bytes = F.encodeCheckpoint(await trainer.checkpointAsync({ backend: T.getBackend().name, from: 'playground' }));
    const copy = bytes.slice().buffer;
    post({ type: 'saved', bytes: copy }, [copy]);
  }
}

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  // the loop stops after its chunk
  if (m.type === 'stop') {
    running = null;
    return;
  }
  if (m.type === 'train' || m.type === 'load') running = 0;
  try {
    await exclusive(() => handle(m));
  } catch (err) {
    post({ type: 'error', message: (err as Error).message });
  }
};
