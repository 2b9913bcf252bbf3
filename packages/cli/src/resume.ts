// `rill train --resume`: which flags may change from the checkpoint (lr, steps), and which would make it another run.
import type { Checkpoint } from '@rill/flowmatch';
import { given, UsageError, type Values } from './flags.js';

/** Flags whose value is fixed by the run, each with the config field it sets. */
const FIXED: [flag: string, field: string][] = [
  ['batch', 'batch'],
  ['model', 'model'],
  ['channels', 'channels'],
  ['hidden', 'hidden'],
  ['act', 'activation'],
  ['couplings', 'couplings'],
  ['actnorm', 'actnorm'],
  ['optimizer', 'optimizer'],
  ['schedule', 'schedule'],
  ['warmup', 'warmup'],
  ['weight-decay', 'weightDecay'],
  ['path', 'path'],
  ['sigma', 'sigma'],
  ['sigma-min', 'sigmaMin'],
  ['coupling', 'coupling'],
  ['ema', 'ema'],
  ['time-sampling', 'timeSampling'],
  ['seed', 'seed'],
];

/**
 * The flags given with `--resume` that contradict the checkpoint: a different kind, data set, model, batch, coupling…
 * is a usage error naming each (exit 2); `--lr` and `--steps` may change, and the returned lines say so.
 * `data` and `source` are the names the checkpoint was made with (`custom` for a file, whose points it stores).
 */
export function resumeChanges(out: string, ckpt: Checkpoint, v: Values, inputs: { data?: string; source?: string }): string[] {
  const config = ckpt.config;
  const conflicts: string[] = [];
  const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
  if (given(v, 'kind') && v.kind !== ckpt.kind) conflicts.push(`--kind ${v.kind} (the run is ${ckpt.kind})`);
  for (const field of ['data', 'source'] as const) {
    if (given(v, field) && inputs[field] !== undefined && config[field] !== undefined && differs(inputs[field], config[field])) {
      conflicts.push(`--${field} ${v[field]} (the run's ${field} is ${config[field] === 'custom' ? 'a file' : config[field]})`);
    }
  }
  for (const [flag, field] of FIXED) {
    if (given(v, flag) && field in config && differs(v[flag], config[field])) conflicts.push(`--${flag} ${v[flag]} (the run has ${JSON.stringify(config[field])})`);
  }
  if (conflicts.length > 0) {
    throw new UsageError(`rill train: --resume continues the run in ${out}, which these flags contradict: ${conflicts.join(', ')}; drop them, or start a new run with --force`);
  }
  const changes: string[] = [];
  if (given(v, 'lr') && differs(v.lr, config.lr)) changes.push(`--lr ${v.lr} (was ${config.lr})`);
  if (given(v, 'steps') && differs(v.steps, config.steps)) changes.push(`--steps ${v.steps} (was ${config.steps})`);
  return changes;
}
