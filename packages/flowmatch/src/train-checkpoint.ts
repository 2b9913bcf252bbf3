// Trainers and models from `.rill` checkpoints: every tensor the config implies is checked against the file first
// (architecture.ts), then the model, optimizer, EMA, generator and history are restored exactly as they were.
import * as T from '@rill/tensor';
import { CheckpointError, optimizerSlots, show, tensorsUnder, type Checkpoint } from './checkpoint.js';
import { checkConfig, checkTensors, modelArchitecture, plain } from './architecture.js';
import { loadStateDict } from '@rill/autograd';
import { DEFAULT_CONFIG, IMAGE_DATA, makeModel, validateConfig, type CustomPoints, type FieldModel, type TrainConfig } from './train-config.js';
import { Trainer } from './train.js';

/**
 * Rebuilds a Trainer from a checkpoint, with the model, optimizer, EMA and generator exactly as they were. Custom
 * points default to those stored in the checkpoint (`custom.data`, `custom.source`); pass them to override.
 * Everything the trainer will hold is checked against the checkpoint's tensors before anything is allocated;
 * problems are errors naming the file (see checkTensors).
 */
export function trainerFromCheckpoint(ckpt: Checkpoint, custom: CustomPoints = {}): Trainer {
  const source = ckpt.source ?? 'checkpoint';
  if (ckpt.kind !== 'cfm') throw new T.ValueError(source, `holds a '${plain(ckpt.kind)}' model, not a flow-matching (cfm) one`);
  const config: TrainConfig = { ...DEFAULT_CONFIG, ...(ckpt.config as Partial<TrainConfig>) };
  const architecture = modelArchitecture(config as unknown as Record<string, unknown>, source);
  checkConfig(config, DEFAULT_CONFIG, validateConfig, source);
  const slots = config.optimizer === 'sgd' ? ['momentum'] : ['m', 'v']; // what SGD and Adam(W) keep per parameter
  checkTensors(ckpt, architecture, { optimizerSlots: slots, ema: config.ema > 0 ? 'required' : undefined });
  if (!ckpt.rng) throw new T.ValueError(source, 'has no RNG state, so the run cannot resume exactly');
  const optimizer = ckpt.meta?.optimizer ?? config.optimizer;
  if (optimizer !== config.optimizer) throw new CheckpointError(source, `meta.optimizer is ${show(optimizer)} but config.optimizer is '${config.optimizer}'`);
  const optimizerStep = ckpt.meta?.optimizerStep ?? ckpt.step;
  if (!Number.isSafeInteger(optimizerStep) || (optimizerStep as number) < 0) {
    throw new CheckpointError(source, `meta.optimizerStep must be a non-negative integer, got ${show(optimizerStep)}`);
  }
  const history = Object.hasOwn(ckpt.tensors, 'history.loss') ? ckpt.tensors['history.loss'] : undefined;
  if (history && history.rank !== 1) throw new CheckpointError(source, `history.loss must be 1-D (one loss per step), got shape [${history.shape}]`);

  const stored = { data: ckpt.tensors['custom.data'], source: ckpt.tensors['custom.source'] };
  for (const field of ['data', 'source'] as const) {
    const pts = stored[field];
    if (config[field] === 'custom' && !custom[field] && !pts) throw new CheckpointError(source, `config.${field} is custom but the file holds no custom.${field} points`);
    if (!custom[field] && pts && (pts.rank !== 2 || pts.shape[0] < 1 || pts.shape[1] !== config.dim)) {
      throw new CheckpointError(source, `custom.${field} must hold points (n ≥ 1, ${config.dim}), got shape [${pts.shape}]`);
    }
  }
  if (Object.hasOwn(IMAGE_DATA, config.data) && !custom.data) {
    throw new CheckpointError(source, `config.data is ${config.data}: its images are not stored in the file; pass them as the custom data (readMnist)`);
  }
  const labels = custom.labels ?? (custom.data ? undefined : ckpt.tensors['custom.labels']);
  if (config.classes > 0 && config.data === 'custom' && !labels) throw new CheckpointError(source, `config.classes is ${config.classes} but the file holds no custom.labels`);
  const trainer = new Trainer(config, { data: custom.data ?? stored.data, source: custom.source ?? stored.source, labels });
  try {
    const pick = (prefix: string) => tensorsUnder(ckpt, prefix);
    loadStateDict(trainer.model, pick('model.'));
    trainer.optimizer.loadState({ kind: config.optimizer, step: optimizerStep as number, slots: optimizerSlots(ckpt) });
    if (trainer.ema) {
      for (const [n, t] of Object.entries(pick('ema.'))) {
        trainer.ema.shadow.get(n)?.dispose();
        trainer.ema.shadow.set(n, T.keep(T.clone(t)));
      }
    }
    trainer.generator.setState(ckpt.rng);
    trainer.step = ckpt.step;
    if (history) for (const loss of history.data) trainer.losses.push(loss); // a loop: a long history is no argument list
  } catch (e) {
    trainer.dispose();
    throw e;
  }
  return trainer;
}

/**
 * The model stored in a checkpoint (its EMA weights when `ema` is true and the checkpoint has them). Its tensors are
 * checked against the config before the model is built; problems are errors naming the file (see checkTensors).
 */
export function modelFromCheckpoint(ckpt: Checkpoint, options: { ema?: boolean } = {}): FieldModel {
  const source = ckpt.source ?? 'checkpoint';
  if (ckpt.kind !== 'cfm') throw new T.ValueError(source, `holds a '${plain(ckpt.kind)}' model, not a flow-matching (cfm) one`);
  const config = { ...DEFAULT_CONFIG, ...(ckpt.config as Partial<TrainConfig>) };
  const useEma = Boolean(options.ema) && Object.keys(ckpt.tensors).some((n) => n.startsWith('ema.'));
  checkTensors(ckpt, modelArchitecture(config as unknown as Record<string, unknown>, source), { ema: useEma ? 'when-present' : undefined });
  const model = makeModel(config, new T.Generator(0));
  const pick = (prefix: string) => tensorsUnder(ckpt, prefix);
  const weights = useEma ? pick('ema.') : {};
  // EMA weights replace the raw ones; the buffers (time frequencies) always come from the model.
  loadStateDict(model, { ...pick('model.'), ...weights });
  return model;
}
