// Rill with relaxed SIMD (started by torch-section.ts as `node --experimental-wasm-relaxed-simd`): serves the same
// training steps as the main process, a request (`<step> <k> <w>`: w untimed steps, then k timed) at a time, so its
// rounds pair with the others.
import { createInterface } from 'node:readline';
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';
import { TORCH_STEPS, type TorchStep } from './torch-peer.js';
import { warm } from './torch-section.js';

const info = await T.ready({ backend: 'wasm' });
console.log(JSON.stringify({ variant: T.wasmKernelVariant(), threads: info.threads }));
const trainers = new Map<TorchStep, F.Trainer>();
for await (const line of createInterface({ input: process.stdin })) {
  const [name, k, w = '0'] = line.split(' ') as [TorchStep, string, string?];
  let trainer = trainers.get(name);
  if (!trainer) {
    trainer = new F.Trainer(TORCH_STEPS[name]);
    warm(trainer); // as in the main process
    trainers.set(name, trainer);
  }
  for (let i = 0; i < Number(w); i++) trainer.trainStep(); // the turn's untimed warm-up, as every peer's
  const start = performance.now();
  for (let i = 0; i < Number(k); i++) trainer.trainStep();
  console.log(JSON.stringify({ seconds: (performance.now() - start) / 1000 }));
}
