// The digits page's model: `node scripts/playground-model.mjs IN.rill [OUT]` keeps only what sampling needs from a
// trained image model — its EMA weights (else its raw ones) as the model, with its config — and writes OUT (default
// packages/playground/public/mnist.rill): no optimizer state, no generator, a quarter of the training file's size.
// The shipped one comes from the recipe in docs/8-images.md (scripts/mnist-recipe.sh).
import { fileURLToPath } from 'node:url';
import * as F from '@rill/flowmatch';
import { loadCheckpoint, saveCheckpoint } from '@rill/flowmatch/node';

const [input, output = fileURLToPath(new URL('../packages/playground/public/mnist.rill', import.meta.url))] = process.argv.slice(2);
if (!input) {
  console.error('usage: node scripts/playground-model.mjs IN.rill [OUT.rill]');
  process.exit(2);
}
const ckpt = loadCheckpoint(input);
const model = F.modelFromCheckpoint(ckpt, { ema: true });
const tensors = Object.fromEntries(Object.entries(F.stateDict(model)).map(([name, t]) => [`model.${name}`, t]));
const config = { ...ckpt.config, ema: 0 }; // the weights are the average already
saveCheckpoint(output, { kind: 'cfm', config, step: ckpt.step, tensors, meta: { from: input.split('/').pop(), weights: 'ema' } });
console.log(`${input} (step ${ckpt.step}) → ${output}: ${Object.keys(tensors).length} tensors`);
