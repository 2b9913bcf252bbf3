// `rill train`: fit a flow-matching model (or, with --kind flow, a normalizing flow) to a dataset or a CSV file, with
// checkpoints, resume and Ctrl-C handling.
import { existsSync } from 'node:fs';
import * as T from '@rill/tensor';
import { COUPLINGS, ACTIVATIONS, Trainer, DEFAULT_CONFIG, type TrainConfig, type CustomPoints, FlowTrainer, DEFAULT_FLOW_CONFIG, type FlowTrainConfig } from '@rill/flowmatch';
import { saveCheckpoint, loadCheckpoint } from '@rill/flowmatch/node';
import { writeFigure } from './figure.js';
import { INDEX_COL_FLAG, UsageError, type Flag, type Values } from './flags.js';
import { isDataset, readPoints, seconds } from './io.js';
import { progress } from './progress.js';

export const TRAIN_FLAGS: Flag[] = [
  { name: 'kind', kind: 'choice', choices: ['cfm', 'flow'], default: 'cfm', help: 'cfm: flow matching (an ODE velocity field); flow: a normalizing flow (RealNVP) by maximum likelihood' },
  { name: 'data', kind: 'string', default: 'moons', help: 'a dataset (moons, moons-sklearn, 8gaussians, checkerboard, circles, spirals, swissroll, gmm), a CSV file or a .npy array (n, d)' },
  { name: 'out', kind: 'string', required: true, help: 'the .rill file to write (model + optimizer + RNG state)' },
  { name: 'steps', kind: 'int', min: 1, default: DEFAULT_CONFIG.steps, help: 'training steps (in total, also when resuming)' },
  { name: 'batch', kind: 'int', min: 1, max: 65536, default: DEFAULT_CONFIG.batch, help: 'batch size' },
  { name: 'hidden', kind: 'ints', min: 1, help: `hidden layer widths (default ${DEFAULT_CONFIG.hidden} for cfm; ${DEFAULT_FLOW_CONFIG.hidden} in each coupling of a flow)` },
  { name: 'act', kind: 'choice', choices: Object.keys(ACTIVATIONS), help: `activation (default ${DEFAULT_CONFIG.activation} for cfm, ${DEFAULT_FLOW_CONFIG.activation} for a flow)` },
  { name: 'couplings', kind: 'int', min: 1, default: DEFAULT_FLOW_CONFIG.couplings, help: 'flow: affine coupling layers' },
  { name: 'actnorm', kind: 'bool', default: false, help: 'flow: an ActNorm layer before each coupling' },
  { name: 'lr', kind: 'number', above: 0, default: DEFAULT_CONFIG.lr, help: 'learning rate' },
  { name: 'optimizer', kind: 'choice', choices: ['adam', 'adamw', 'sgd'], default: DEFAULT_CONFIG.optimizer, help: 'optimizer' },
  { name: 'weight-decay', kind: 'number', min: 0, help: 'weight decay: L2 for adam/sgd (default 0), decoupled for adamw (default 0.01, as PyTorch)' },
  { name: 'path', kind: 'choice', choices: ['linear', 'cosine', 'vp'], default: DEFAULT_CONFIG.path, help: 'probability path' },
  { name: 'sigma', kind: 'number', min: 0, default: DEFAULT_CONFIG.sigma, help: 'I-CFM noise σ on x_t' },
  { name: 'sigma-min', kind: 'number', min: 0, max: 0.999, default: 0, help: 'CondOT σ_min (linear path)' },
  { name: 'source', kind: 'string', default: 'normal', help: 'source distribution: normal, a dataset, or a CSV file' },
  { name: 'coupling', kind: 'choice', choices: COUPLINGS, default: DEFAULT_CONFIG.coupling, help: 'minibatch coupling: independent (I-CFM) or optimal transport' },
  { name: 'ema', kind: 'number', min: 0, max: 0.99999, default: 0, help: 'EMA decay of the weights used for sampling (0 = off; e.g. 0.999)' },
  { name: 'seed', kind: 'int', min: 0, default: 0, help: 'random seed (same seed, same run)' },
  { name: 'backend', kind: 'choice', choices: ['cpu', 'js', 'wasm', 'gpu'], default: 'cpu', help: 'compute backend: cpu = the fastest CPU one (wasm where WebAssembly SIMD runs, on all cores)' },
  { name: 'checkpoint-every', kind: 'int', min: 0, default: 0, help: 'also save a checkpoint every N steps (0 = only at the end)' },
  { name: 'resume', kind: 'bool', default: false, help: 'continue the run saved in --out' },
  { name: 'log-every', kind: 'int', min: 1, default: 1000, help: 'progress line interval when stderr is not a terminal' },
  INDEX_COL_FLAG,
  { name: 'png', kind: 'string', help: 'also draw the loss curve to this PNG file' },
];

/** Starts the backend by the names the library uses (`T.ready`): cpu, wasm, js, gpu; an unavailable one is a UsageError. */
export async function useBackend(command: string, name: string): Promise<void> {
  try {
    const info = await T.ready({ backend: name as T.BackendChoice });
    if (info.gpu) process.stderr.write(`gpu backend: ${info.gpu.renderer} (${info.gpu.version})\n`);
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
  if (isDataset(data)) config.data = data;
  else {
    custom.data = readPoints('train', 'data', data, undefined, { indexCol: Boolean(v['index-col']) });
    config.data = 'custom';
  }
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
const CFM_ONLY = ['optimizer', 'weight-decay', 'path', 'sigma', 'sigma-min', 'source', 'coupling', 'ema'];

export async function train(v: Values): Promise<number> {
  await useBackend('train', String(v.backend));
  const out = String(v.out);
  const { config: inputs, custom } = resolveInputs(v);
  let trainer: Trainer | FlowTrainer;
  if (v.resume) {
    if (!existsSync(out)) throw new UsageError(`rill train: --resume needs an existing checkpoint at --out ${out}`);
    const ckpt = loadCheckpoint(out);
    trainer = ckpt.kind === 'flow' ? FlowTrainer.fromCheckpoint(ckpt, custom) : Trainer.fromCheckpoint(ckpt, custom);
    trainer.config.steps = Number(v.steps);
    if (trainer.step >= trainer.config.steps) throw new UsageError(`rill train: ${out} is already at step ${trainer.step} ≥ --steps ${trainer.config.steps}`);
    process.stderr.write(`resuming ${out} at step ${trainer.step}\n`);
  } else if (v.kind === 'flow') {
    for (const name of CFM_ONLY) {
      const flag = TRAIN_FLAGS.find((f) => f.name === name)!;
      if (v[name] !== flag.default) throw new UsageError(`rill train: --${name} is for --kind cfm (flow matching); a normalizing flow has no such setting`);
    }
    const config: Partial<FlowTrainConfig> = {
      data: inputs.data,
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
      hidden: (v.hidden as number[] | undefined) ?? DEFAULT_CONFIG.hidden,
      activation: (v.act as TrainConfig['activation'] | undefined) ?? DEFAULT_CONFIG.activation,
      lr: Number(v.lr),
      optimizer: v.optimizer as TrainConfig['optimizer'],
      weightDecay: v['weight-decay'] === undefined ? (v.optimizer === 'adamw' ? 0.01 : 0) : Number(v['weight-decay']),
      path: v.path as TrainConfig['path'],
      sigma: Number(v.sigma),
      sigmaMin: Number(v['sigma-min']),
      coupling: v.coupling as TrainConfig['coupling'],
      ema: Number(v.ema),
      seed: Number(v.seed),
    };
    trainer = configured(() => new Trainer(config, custom));
  }
  const { steps } = trainer.config;
  const save = () => saveCheckpoint(out, trainer.checkpoint({ backend: T.getBackend().name }));
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  const start = performance.now();
  const bar = progress(steps, trainer.step, Number(v['log-every']));
  try {
    while (trainer.step < steps && !interrupted) {
      const loss = trainer.trainStep();
      if (!Number.isFinite(loss)) throw new UsageError(`rill train: the loss became ${loss} at step ${trainer.step}; try a smaller --lr`);
      bar.update(trainer.step, loss);
      if (Number(v['checkpoint-every']) > 0 && trainer.step % Number(v['checkpoint-every']) === 0) save();
      if (trainer.step % 20 === 0) await new Promise((r) => setImmediate(r)); // let a Ctrl-C (SIGINT) be handled
    }
  } finally {
    bar.done();
    process.off('SIGINT', onSigint);
  }
  save();
  if (interrupted) {
    process.stderr.write(`interrupted at step ${trainer.step}: checkpoint saved to ${out}; continue with --resume\n`);
    return 130;
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
