// The training worker: runs Rill's Trainer off the page's thread (the page never freezes), reports progress, and
// answers snapshot / field / save / load requests between training chunks.
import * as A from '@rill/autograd';
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';
import { TIMES, type BackendName, type FromWorker, type Settings, type ToWorker } from './protocol.js';

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
    custom.data = T.keep(T.tensor(s.points, { shape: [s.points.length / 2, 2] }));
  }
  return new F.Trainer(
    { data: s.data, steps: s.steps, batch: s.batch, hidden: s.hidden, activation: s.activation, optimizer: s.optimizer, lr: s.lr,
      weightDecay: s.optimizer === 'adamw' ? 0.01 : 0, // AdamW's decoupled decay at PyTorch's default; none for Adam and SGD
      path: s.path, sigma: s.sigma, coupling: s.coupling, seed: s.seed },
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

function snapshot(solver: F.Method, steps: number): void {
  const t = trainer!;
  const start = performance.now();
  const out = T.tidy(() => {
    const g = new T.Generator(1234);
    const noise = T.randn([500, 2], { generator: g });
    const model = t.samplingModel();
    const { x, nfe, trajectory } = F.solve(F.fieldOf(model), noise, { method: solver, steps, rtol: 1e-4, atol: 1e-4, times: TIMES });
    const data = dataPoints(500, new T.Generator(99));
    span = Math.max(3, ...Array.from(data.data, Math.abs)) * 1.15;
    return { nfe, w2: F.wasserstein2(x, data), data: Float32Array.from(data.data), trajectory: trajectory.map((p) => Float32Array.from(p.data)) };
  });
  const seconds = (performance.now() - start) / 1000;
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

function field(time: number): void {
  const grid = 15;
  const xy = new Float32Array(grid * grid * 2);
  for (let j = 0; j < grid; j++) for (let i = 0; i < grid; i++) xy.set([-span + (2 * span * i) / (grid - 1), -span + (2 * span * j) / (grid - 1)], 2 * (j * grid + i));
  const uv = A.noGrad(() => T.tidy(() => Float32Array.from(trainer!.model.forward(T.tensor(xy, { shape: [grid * grid, 2] }), time).value.data)));
  post({ type: 'field', t: time, grid, span, xy, uv }, [xy.buffer, uv.buffer]);
}

async function handle(m: ToWorker): Promise<void> {
  if (m.type === 'train') {
    await useBackend(m.settings.backend);
    trainer = makeTrainer(m.settings);
    await onHost(() => snapshot(m.solver, m.solverSteps)); // the untrained model: where the samples start from
    // errors of the loop (a failing step) reach the page like those of any request
    train().catch((err: Error) => {
      running = null;
      post({ type: 'error', message: err.message });
    });
  } else if (m.type === 'load') {
    await useBackend(m.backend);
    // The same .rill format as the CLI: a model trained by `rill train` opens here, and the other way round.
    trainer = F.Trainer.fromCheckpoint(F.decodeCheckpoint(new Uint8Array(m.bytes), 'the .rill file'));
    post({ type: 'loaded', step: trainer.step, data: String(trainer.config.data) });
  } else if (!trainer) throw new Error('train or load a model first');
  else if (m.type === 'snapshot') await onHost(() => snapshot(m.solver, m.steps));
  else if (m.type === 'field') await onHost(() => field(m.t));
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
