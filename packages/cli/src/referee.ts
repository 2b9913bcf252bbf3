// `rill referee`: train the classifier that scores generated digits (a ConvClassifier, by Rill itself, on MNIST's
// training set), report its accuracy on the test set, and save it — the file `rill eval --data mnist` uses.
import { existsSync } from 'node:fs';
import * as T from '@rill/tensor';
import { accuracy, classify, refereeCheckpoint, trainReferee } from '@rill/flowmatch';
import { saveCheckpoint } from '@rill/flowmatch/node';
import { MAX_SEED, UsageError, type Flag, type Values } from './flags.js';
import { loadMnist, MNIST_DIR_FLAG } from './mnist.js';
import { progress } from './progress.js';

export const REFEREE_FLAGS: Flag[] = [
  { name: 'out', kind: 'string', io: 'out', required: true, help: 'the .rill file to write (kind classifier)' },
  { name: 'steps', kind: 'int', min: 1, max: 1_000_000, default: 2000, help: 'Adam steps (cosine-decayed learning rate)' },
  { name: 'batch', kind: 'int', min: 1, max: 4096, default: 128, help: 'batch size' },
  { name: 'lr', kind: 'number', above: 0, default: 1e-3, help: 'peak learning rate' },
  { name: 'seed', kind: 'int', min: 0, max: MAX_SEED, default: 0, help: 'seed of the initialisation and the batches' },
  { name: 'min-accuracy', kind: 'number', min: 0, max: 1, default: 0.985, help: 'refuse to save a classifier below this test accuracy' },
  { name: 'force', kind: 'bool', default: false, help: 'replace an existing --out' },
  MNIST_DIR_FLAG,
  { name: 'log-every', kind: 'int', min: 1, max: 1_000_000, default: 200, help: 'progress line interval when stderr is not a terminal' },
];

export async function referee(v: Values): Promise<number> {
  if (!v.force && existsSync(String(v.out))) throw new UsageError(`rill referee: --out ${v.out} already exists; pass --force to replace it`);
  const { train, test } = loadMnist('referee', v);
  const steps = Number(v.steps);
  const bar = progress(steps, 0, Number(v['log-every']));
  const start = performance.now();
  let model;
  try {
    model = trainReferee(train.images, train.labels, { steps, batch: Number(v.batch), lr: Number(v.lr), seed: Number(v.seed), onStep: (s, l) => bar.update(s, l) });
  } finally {
    bar.done();
  }
  const seconds = (performance.now() - start) / 1000;
  const { labels, features } = classify(model, test.images);
  features.dispose();
  const acc = accuracy(labels, test.labels.data);
  const min = Number(v['min-accuracy']);
  console.log(`trained the referee for ${steps} steps in ${seconds.toFixed(0)} s: test accuracy ${(100 * acc).toFixed(2)} % on ${labels.length} images`);
  if (acc < min) throw new UsageError(`rill referee: test accuracy ${(100 * acc).toFixed(2)} % is below --min-accuracy ${100 * min} %; nothing was written (train longer: --steps)`);
  saveCheckpoint(String(v.out), refereeCheckpoint(model, { testAccuracy: acc, steps, batch: Number(v.batch), lr: Number(v.lr), seed: Number(v.seed), seconds, backend: T.getBackend().name }));
  console.log(`→ ${v.out}`);
  return 0;
}
