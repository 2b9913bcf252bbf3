// `rill train`: fit a flow-matching model (or, with --kind flow, a normalizing flow) to a dataset or a CSV file, with
// checkpoints, resume and Ctrl-C handling.
import { statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import * as T from '@rill/tensor';
import { crc32, type Checkpoint, COUPLINGS, ACTIVATIONS, Trainer, DEFAULT_CONFIG, DATASET_CLASSES, DATASET_NAMES, type DatasetName, type TrainConfig, type CustomPoints, FlowTrainer, DEFAULT_FLOW_CONFIG, type FlowTrainConfig } from '@rill/flowmatch';
import { saveCheckpoint, loadCheckpoint } from '@rill/flowmatch/node';
import { writeFigure } from './figure.js';
import { given, INDEX_COL_FLAG, MAX_SEED, UsageError, type Flag, type Values } from './flags.js';
import { isDataset, readLabeledPoints, readPoints, seconds } from './io.js';
import { progress } from './progress.js';
import { loadMnist, MNIST_DIR_FLAG } from './mnist.js';
import { resumeChanges } from './resume.js';

export const TRAIN_FLAGS: Flag[] = [
  { name: 'kind', kind: 'choice', choices: ['cfm', 'flow'], default: 'cfm', help: 'cfm: flow matching (an ODE velocity field); flow: a normalizing flow (RealNVP) by maximum likelihood' },
  { name: 'data', kind: 'string', io: 'in', default: 'moons', help: 'a dataset (moons, moons-sklearn, 8gaussians, checkerboard, circles, spirals, swissroll, gmm, overlap), mnist (images; see --mnist-dir), a CSV file or a .npy array (n, d)' },
  MNIST_DIR_FLAG,
  { name: 'model', kind: 'choice', choices: ['mlp', 'unet'], default: 'mlp', help: 'the velocity field: mlp (--hidden, --act), or unet for images (--channels)' },
  { name: 'channels', kind: 'int', min: 1, max: 1024, default: DEFAULT_CONFIG.channels, help: 'unet: channels c at full resolution (2c, 4c below)' },
  { name: 'out', kind: 'string', io: 'out', required: true, help: 'the .rill file to write (model + optimizer + RNG state)' },
  { name: 'steps', kind: 'int', min: 1, max: 100_000_000, default: DEFAULT_CONFIG.steps, help: 'training steps (in total, also when resuming)' },
  { name: 'batch', kind: 'int', min: 1, max: 65536, default: DEFAULT_CONFIG.batch, help: 'batch size' },
  { name: 'hidden', kind: 'ints', min: 1, max: 8192, help: `hidden layer widths (default ${DEFAULT_CONFIG.hidden} for cfm; ${DEFAULT_FLOW_CONFIG.hidden} in each coupling of a flow)` },
  { name: 'act', kind: 'choice', choices: Object.keys(ACTIVATIONS), help: `activation (default ${DEFAULT_CONFIG.activation} for cfm, ${DEFAULT_FLOW_CONFIG.activation} for a flow)` },
  { name: 'couplings', kind: 'int', min: 1, max: 64, default: DEFAULT_FLOW_CONFIG.couplings, help: 'flow: affine coupling layers' },
  { name: 'actnorm', kind: 'bool', default: false, help: 'flow: an ActNorm layer before each coupling' },
  { name: 'lr', kind: 'number', above: 0, default: DEFAULT_CONFIG.lr, help: 'learning rate' },
  { name: 'schedule', kind: 'choice', choices: ['constant', 'cosine'], default: DEFAULT_CONFIG.schedule, help: 'learning-rate schedule over --steps: constant, or cosine decay to 0' },
  { name: 'warmup', kind: 'int', min: 0, max: 100_000_000, default: 0, help: 'steps of linear learning-rate warm-up before the schedule' },
  { name: 'optimizer', kind: 'choice', choices: ['adam', 'adamw', 'sgd'], default: DEFAULT_CONFIG.optimizer, help: 'optimizer' },
  { name: 'weight-decay', kind: 'number', min: 0, help: 'weight decay: L2 for adam/sgd (default 0), decoupled for adamw (default 0.01, as PyTorch)' },
  { name: 'path', kind: 'choice', choices: ['linear', 'cosine', 'vp'], default: DEFAULT_CONFIG.path, help: 'probability path' },
  { name: 'sigma', kind: 'number', min: 0, max: 1000, default: DEFAULT_CONFIG.sigma, help: 'I-CFM noise σ on x_t' },
  { name: 'sigma-min', kind: 'number', min: 0, max: 0.999, default: 0, help: 'CondOT σ_min (linear path)' },
  { name: 'source', kind: 'string', io: 'in', default: 'normal', help: 'source distribution: normal, a dataset, or a CSV file' },
  { name: 'coupling', kind: 'choice', choices: COUPLINGS, default: DEFAULT_CONFIG.coupling, help: 'minibatch coupling: independent (I-CFM) or optimal transport' },
  { name: 'time-sampling', kind: 'choice', choices: ['uniform', 'logit-normal'], default: 'uniform', help: 'how t is drawn: uniform, or logit-normal (σ of a standard normal: more steps at mid-range t, as SD3)' },
  { name: 'ema', kind: 'number', min: 0, max: 0.99999, default: 0, help: 'EMA decay of the weights used for sampling (0 = off; e.g. 0.999)' },
  { name: 'objective', kind: 'choice', choices: ['velocity', 'score'], default: 'velocity', help: 'velocity: flow matching; score: denoising score matching (noise prediction), the diffusion baseline, sampled from t = 0.01' },
  { name: 'cond', kind: 'choice', choices: ['none', 'class'], default: 'none', help: "class: a class-conditional field u(x, t, y) on the dataset's classes, for classifier-free guidance (rill sample --class --guidance)" },
  { name: 'labels', kind: 'string', io: 'in', help: 'with --cond class and .npy data: a .npy file with the class of each row (integers 0, 1, …); a CSV has a label column instead' },
  { name: 'p-uncond', kind: 'number', min: 0, max: 1, default: DEFAULT_CONFIG.pUncond, help: 'with --cond class: the probability a training label is dropped to the null class' },
  { name: 'seed', kind: 'int', min: 0, max: MAX_SEED, default: 0, help: 'random seed (same seed, same run)' },
  { name: 'backend', kind: 'choice', choices: ['cpu', 'js', 'wasm', 'gpu', 'webgpu'], default: 'cpu', help: 'compute backend: cpu = the fastest CPU one (wasm where WebAssembly SIMD runs, on all cores); webgpu = a GPU through Dawn (npm install webgpu)' },
  { name: 'checkpoint-every', kind: 'int', min: 0, max: 100_000_000, default: 0, help: 'also save a checkpoint every N steps (0 = only at the end)' },
  { name: 'resume', kind: 'bool', default: false, help: 'continue the run saved in --out (--lr and --steps may change)' },
  { name: 'data-in-checkpoint', kind: 'choice', choices: ['copy', 'ref'], default: 'copy', help: 'points from a file: copied into the checkpoint (copy), or referenced by path and CRC-32 (ref: a small file; --resume checks the file is unchanged)' },
  { name: 'force', kind: 'bool', default: false, help: 'replace an existing --out (without it, an existing model is never overwritten)' },
  { name: 'log-every', kind: 'int', min: 1, max: 100_000_000, default: 1000, help: 'progress line interval when stderr is not a terminal' },
  INDEX_COL_FLAG,
  { name: 'png', kind: 'string', io: 'out', help: 'also draw the loss curve to this PNG file' },
];

/**
 * Starts the backend by the names the library uses (`T.ready`): cpu, wasm, js, gpu, webgpu; an unavailable one is a
 * UsageError. webgpu (Dawn in Node) must start: a run asked for on the GPU never quietly trains on the CPU.
 */
export async function useBackend(command: string, name: string): Promise<void> {
  try {
    const info = await T.ready({ backend: name as T.BackendChoice, require: name === 'webgpu' ? true : undefined });
    if (info.gpu && name === 'gpu') process.stderr.write(`gpu backend: ${info.gpu.renderer} (${info.gpu.version})\n`);
    if (info.gpu && name === 'webgpu') process.stderr.write(`webgpu backend: ${info.gpu.vendor} ${info.gpu.description}\n`);
  } catch (e) {
    if (e instanceof T.BackendError) throw new UsageError(`rill ${command}: --backend ${name}: ${e.message.replace(/^[\w.]+: /, '')}`);
    throw e;
  }
}

/** The run's data and source: dataset names stay names; CSV files become custom points. */
function resolveInputs(v: Values): { config: Partial<TrainConfig>; custom: CustomPoints } {
  const custom: CustomPoints = {};
  const config: Partial<TrainConfig> = {};
  const data = String(v.data);
  if (data === 'mnist') {
    const { train } = loadMnist('train', v);
    [config.data, custom.data] = ['mnist', train.images];
    if (v.cond === 'class') [custom.labels, config.classes] = [train.labels, 10];
  } else if (isDataset(data)) config.data = data;
  else {
    const labelsFile = v.labels === undefined ? undefined : String(v.labels);
    const read = readLabeledPoints('train', 'data', data, { indexCol: Boolean(v['index-col']) }, labelsFile);
    custom.data = read.points;
    config.data = 'custom';
    if (read.labels && v.cond !== 'class') throw new UsageError(`rill train: ${data} has class labels; pass --cond class to condition on them (or drop the label column)`);
    if (!read.labels && v.cond === 'class') throw new UsageError(`rill train: --cond class needs the class of each point: a column named label in the CSV, or --labels FILE.npy`);
    if (read.labels) {
      custom.labels = read.labels;
      config.classes = Math.max(...read.labels.data) + 1;
    }
  }
  if (v.labels !== undefined && config.data !== 'custom') throw new UsageError('rill train: --labels is for --data FILE.npy');
  const source = String(v.source);
  if (source === 'normal' || isDataset(source)) config.source = source;
  else {
    custom.source = readPoints('train', 'source', source, custom.data?.shape[1] ?? 2, { indexCol: Boolean(v['index-col']) });
    config.source = 'custom';
  }
  config.dim = custom.data?.shape[1] ?? 2;
  return { config, custom };
}

/** Flags that only flow matching uses: given with --kind flow, they are a mistake. */
const CFM_ONLY = ['model', 'channels', 'schedule', 'warmup', 'time-sampling', 'optimizer', 'weight-decay', 'path', 'sigma', 'sigma-min', 'source', 'coupling', 'ema', 'cond', 'p-uncond', 'objective'];

export async function train(v: Values): Promise<number> {
  const out = String(v.out);
  // Before any work: --resume needs the run, and a model is replaced only with --force (a device or FIFO is no model).
  const existing = statSync(out, { throwIfNoEntry: false })?.isFile() ?? false;
  if (v.resume && !existing) throw new UsageError(`rill train: --resume needs an existing checkpoint at --out ${out}`);
  if (!v.resume && existing && !v.force) throw new UsageError(`rill train: --out ${out} already exists; pass --resume to continue its run, or --force to replace it`);
  if (v.backend === 'webgpu' && v.kind === 'flow') throw new UsageError('rill train: --backend webgpu trains flow matching (--kind cfm); a normalizing flow trains on the CPU backends');
  await useBackend('train', String(v.backend));
  const { config: inputs, custom } = resolveInputs(v);
  // The files the points came from (for --data-in-checkpoint ref).
  const pointFiles = { data: inputs.data === 'custom' ? String(v.data) : undefined, source: custom.source && String(v.source), indexCol: Boolean(v['index-col']) };
  let trainer: Trainer | FlowTrainer;
  if (v.resume) {
    const ckpt = loadCheckpoint(out);
    const changes = resumeChanges(out, ckpt, v, { data: inputs.data, source: inputs.source });
    if (ckpt.config.data === 'mnist') {
      // MNIST is never stored in a checkpoint: read again (with its labels for a conditional run).
      const { train } = loadMnist('train', v);
      [custom.data, custom.labels] = [train.images, (ckpt.config.classes as number) > 0 ? train.labels : undefined];
    }
    for (const field of ['data', 'source'] as const) {
      const ref = referencedPoints(out, ckpt, field, custom[field]);
      if (ref && !custom[field]) [custom[field], pointFiles[field]] = [ref.points, ref.path];
      if (ref && !given(v, 'data-in-checkpoint')) v['data-in-checkpoint'] = 'ref'; // the run keeps referring to its files
    }
    for (const field of ['data', 'source'] as const) {
      const [mine, stored] = [custom[field], ckpt.tensors[`custom.${field}`]];
      if (mine && stored && (mine.shape.join() !== stored.shape.join() || mine.data.some((x, i) => x !== stored.data[i]))) {
        throw new UsageError(`rill train: --${field} ${v[field]} holds other points than the run in ${out} was trained on; start a new run with --force`);
      }
    }
    // The run's own learning rate unless --lr says otherwise; the steps are always --steps (in total).
    const config = { ...ckpt.config, steps: given(v, 'steps') ? Number(v.steps) : ckpt.config.steps, lr: given(v, 'lr') ? Number(v.lr) : ckpt.config.lr };
    const resumed = { ...ckpt, config };
    trainer = ckpt.kind === 'flow' ? FlowTrainer.fromCheckpoint(resumed, custom) : Trainer.fromCheckpoint(resumed, custom);
    if (trainer.step >= trainer.config.steps) throw new UsageError(`rill train: ${out} is already at step ${trainer.step} ≥ --steps ${trainer.config.steps}`);
    process.stderr.write(`resuming ${out} at step ${trainer.step}${changes.length ? `, with ${changes.join(' and ')}` : ''}\n`);
  } else if (v.kind === 'flow') {
    if (inputs.data === 'mnist') throw new UsageError('rill train: --kind flow is for points; train images with --kind cfm (--model unet or mlp)');
    for (const name of CFM_ONLY) {
      const flag = TRAIN_FLAGS.find((f) => f.name === name)!;
      if (v[name] !== flag.default) throw new UsageError(`rill train: --${name} is for --kind cfm (flow matching); a normalizing flow has no such setting`);
    }
    const config: Partial<FlowTrainConfig> = {
      data: inputs.data as FlowTrainConfig['data'],
      dim: inputs.dim,
      steps: Number(v.steps),
      batch: Number(v.batch),
      couplings: Number(v.couplings),
      hidden: (v.hidden as number[] | undefined) ?? DEFAULT_FLOW_CONFIG.hidden,
      activation: (v.act as FlowTrainConfig['activation'] | undefined) ?? DEFAULT_FLOW_CONFIG.activation,
      actnorm: Boolean(v.actnorm),
      lr: Number(v.lr),
      seed: Number(v.seed),
    };
    trainer = configured(() => new FlowTrainer(config, custom));
  } else {
    const config: Partial<TrainConfig> = {
      ...inputs,
      steps: Number(v.steps),
      batch: Number(v.batch),
      model: v.model as TrainConfig['model'],
      channels: Number(v.channels),
      hidden: (v.hidden as number[] | undefined) ?? DEFAULT_CONFIG.hidden,
      activation: (v.act as TrainConfig['activation'] | undefined) ?? DEFAULT_CONFIG.activation,
      lr: Number(v.lr),
      schedule: v.schedule as TrainConfig['schedule'],
      warmup: Number(v.warmup),
      optimizer: v.optimizer as TrainConfig['optimizer'],
      weightDecay: v['weight-decay'] === undefined ? (v.optimizer === 'adamw' ? 0.01 : 0) : Number(v['weight-decay']),
      path: v.path as TrainConfig['path'],
      sigma: Number(v.sigma),
      sigmaMin: Number(v['sigma-min']),
      coupling: v.coupling as TrainConfig['coupling'],
      ema: Number(v.ema),
      timeSampling: v['time-sampling'] as TrainConfig['timeSampling'],
      seed: Number(v.seed),
      pUncond: Number(v['p-uncond']),
      objective: v.objective as TrainConfig['objective'],
    };
    if (v.cond === 'class' && config.data !== 'custom' && config.data !== 'mnist') {
      const classes = DATASET_CLASSES[config.data as DatasetName];
      if (!classes) throw new UsageError(`rill train: --cond class needs a dataset with classes (${DATASET_NAMES.filter((d) => DATASET_CLASSES[d] > 0).join(', ')}); ${String(v.data)} has none`);
      config.classes = classes;
    } else if (v.cond !== 'class' && given(v, 'p-uncond')) throw new UsageError('rill train: --p-uncond is for --cond class');
    trainer = configured(() => new Trainer(config, custom));
  }
  const { steps } = trainer.config;
  let lastSaved: number | null = v.resume ? trainer.step : null; // the step of the last good checkpoint in --out
  // A backend that reads back only asynchronously (webgpu) steps with trainStepAsync and reads the weights before a save.
  const asyncRead = Boolean(T.getBackend().asyncRead);
  const save = async () => {
    if (asyncRead) await T.prefetch(trainer.model.parameters().map((p) => p.value));
    // Never save a diverged model over a good one: the weights (not only the loss) must be finite.
    if (!weightsFinite(trainer)) throw diverged(trainer, custom, `the weights became NaN or ±∞ by step ${trainer.step}`, lastSaved);
    const ckpt = asyncRead && trainer instanceof Trainer ? await trainer.checkpointAsync({ backend: T.getBackend().name }) : trainer.checkpoint({ backend: T.getBackend().name });
    if (v['data-in-checkpoint'] === 'ref') referToPoints(ckpt, pointFiles);
    saveCheckpoint(out, ckpt);
    lastSaved = trainer.step;
  };
  // Ctrl-C, kill (SIGTERM, a container stop, a CI timeout) and a closed terminal (SIGHUP) all save a checkpoint.
  let signal: NodeJS.Signals | null = null;
  const onSignal = (s: NodeJS.Signals) => {
    signal = s;
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  const start = performance.now();
  let yielded = start;
  const bar = progress(steps, trainer.step, Number(v['log-every']));
  try {
    while (trainer.step < steps && !signal) {
      const loss = asyncRead && trainer instanceof Trainer ? await trainer.trainStepAsync() : trainer.trainStep();
      if (!Number.isFinite(loss)) throw diverged(trainer, custom, `the loss became ${loss} at step ${trainer.step}`, lastSaved);
      bar.update(trainer.step, loss);
      if (Number(v['checkpoint-every']) > 0 && trainer.step % Number(v['checkpoint-every']) === 0) await save();
      if (performance.now() - yielded > 100) {
        await new Promise((r) => setImmediate(r)); // let a signal be handled, however long a step takes
        yielded = performance.now();
      }
    }
  } finally {
    bar.done();
    for (const s of SIGNALS) process.off(s, onSignal);
  }
  await save();
  // The validation loss reads its result synchronously: on an asynchronous backend it runs on the CPU, whose weights
  // were read back by the save.
  if (asyncRead) T.setBackend('cpu');
  if (signal) {
    process.stderr.write(`${signal === 'SIGINT' ? 'interrupted' : `stopped by ${signal}`} at step ${trainer.step}: checkpoint saved to ${out}; continue with --resume\n`);
    return 128 + SIGNAL_NUMBERS[signal as NodeJS.Signals];
  }
  const recent = trainer.losses.slice(-100);
  console.log(
    `trained ${steps} steps in ${seconds(start)}: loss ${(recent.reduce((a, b) => a + b, 0) / recent.length).toFixed(4)} (mean of the last ${recent.length}), ` +
      `validation loss ${trainer.validationLoss().toFixed(4)} → ${out}`,
  );
  if (v.png) {
    const xs = trainer.losses.map((_, i) => i + 1);
    const window = Math.max(10, Math.round(trainer.losses.length / 100));
    const smooth = trainer.losses.map((_, i) => {
      const s = trainer.losses.slice(Math.max(0, i - window + 1), i + 1);
      return s.reduce((a, b) => a + b, 0) / s.length;
    });
    const size = writeFigure(String(v.png), [
      {
        title: 'Training loss',
        xLabel: 'step',
        yLabel: trainer instanceof FlowTrainer ? 'NLL (nats per sample)' : 'CFM loss',
        layers: [
          { kind: 'line', x: xs, y: trainer.losses, color: '#c9d6ea', label: 'per step', width: 0.6 },
          { kind: 'line', x: xs, y: smooth, color: '#1f4e9a', label: `mean of ${window}`, width: 1.6 },
        ],
      },
    ], 640, 400);
    console.log(`loss curve → ${v.png} (${size.width}×${size.height})`);
  }
  return 0;
}

/** Builds a trainer; a config it refuses becomes a UsageError naming the field. */
function configured<R>(make: () => R): R {
  try {
    return make();
  } catch (e) {
    if (e instanceof T.ValueError && e.op === 'config') throw new UsageError(`rill train: ${e.message.replace(/^config: /, '')}`);
    throw e;
  }
}

/** The signals that stop a run with a checkpoint, and their numbers (the exit code is 128 + the number). */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** Whether every parameter of the model is finite (one pass over each weight tensor; done before each save). */
function weightsFinite(trainer: Trainer | FlowTrainer): boolean {
  return trainer.model.parameters().every((p) => p.value.data.every(Number.isFinite));
}

/**
 * A divergent run, with its likeliest cause: data whose squares overflow float32 (3.4e38), else a learning rate too
 * large for the loss. The last good checkpoint (if any) stays as it was.
 */
function diverged(trainer: Trainer | FlowTrainer, custom: CustomPoints, what: string, lastSaved: number | null): UsageError {
  let largest = 0;
  for (const t of [custom.data, custom.source]) if (t) for (const x of t.data) largest = Math.max(largest, Math.abs(x));
  const cause =
    largest > 1e15
      ? `the data reach ${largest.toExponential(1)} in magnitude, and their squares overflow float32: rescale them (e.g. standardize each column)`
      : `the run diverged: try a smaller --lr (it is ${trainer.config.lr})`;
  const kept = lastSaved === null ? 'nothing was saved' : `the checkpoint of step ${lastSaved} in --out is kept`;
  return new UsageError(`rill train: ${what}; ${cause}. Nothing was saved at this step; ${kept}`);
}

/** The CRC-32 of points' float32 bytes: what a checkpoint that refers to a file records of it. */
const pointsCrc = (t: T.Tensor) => crc32(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));

/**
 * `--data-in-checkpoint ref`: the points read from files leave the checkpoint, which records instead where they came
 * from (an absolute path), their shape and the CRC-32 of their float32 values — a checkpoint of a run on a 250 MB
 * CSV then stays the size of the model.
 */
function referToPoints(ckpt: Checkpoint, files: { data?: string; source?: string; indexCol?: boolean }): void {
  for (const field of ['data', 'source'] as const) {
    const stored = ckpt.tensors[`custom.${field}`];
    if (!stored || files[field] === undefined) continue;
    delete ckpt.tensors[`custom.${field}`];
    ckpt.meta = { ...ckpt.meta, [`custom.${field}`]: { path: resolvePath(String(files[field])), shape: [...stored.shape], crc32: pointsCrc(stored), indexCol: files.indexCol ?? false } };
  }
}

/**
 * The points a checkpoint refers to (see referToPoints), read again — or `given` on the command line — and checked
 * to be the same points (shape and CRC-32); undefined if the checkpoint stores its points.
 */
function referencedPoints(out: string, ckpt: Checkpoint, field: 'data' | 'source', given?: T.Tensor): { points: T.Tensor; path: string } | undefined {
  const ref = ckpt.meta?.[`custom.${field}`] as { path: string; shape: number[]; crc32: number; indexCol?: boolean } | undefined;
  if (!ref || ckpt.tensors[`custom.${field}`]) return undefined;
  if (given && (given.shape.join() !== ref.shape.join() || pointsCrc(given) !== ref.crc32)) {
    throw new UsageError(`rill train: --${field} holds other points than the run in ${out} was trained on (${ref.path}); start a new run with --force`);
  }
  const points = given ?? readPoints('train', field, ref.path, undefined, { indexCol: ref.indexCol });
  if (points.shape.join() !== ref.shape.join() || pointsCrc(points) !== ref.crc32) {
    throw new UsageError(`rill train: ${ref.path}, the ${field} of the run in ${out}, has changed since the run started (its CRC-32 differs); restore it, or start a new run with --force`);
  }
  return { points, path: ref.path };
}
