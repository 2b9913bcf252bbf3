// The reference run recorded in the README: torchcfm's 2D recipe (MLP 3→64→64→64→2 SELU, batch 256, Adam 1e-3,
// I-CFM σ = 0.01) from standard normal noise to moons, then W2 against fresh data for every solver.
// Usage: npx pnpm@12.4.2 build && node scripts/reference-run.mjs [steps=20000] [seed=0] [ema decay, e.g. 0.999; 0 = off]
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';

const steps = Number(process.argv[2] ?? 20000);
const seed = Number(process.argv[3] ?? 0);
const ema = Number(process.argv[4] ?? 0);
const trainer = new F.Trainer({ ...F.DEFAULT_CONFIG, steps, seed, ema });
const t0 = performance.now();
for (let i = 1; i <= steps; i++) {
  trainer.trainStep();
  if (i % 2000 === 0) console.error(`step ${i}: loss (mean of last 2000) ${(trainer.losses.slice(-2000).reduce((a, b) => a + b, 0) / 2000).toFixed(4)}`);
}
const trainSeconds = (performance.now() - t0) / 1000;
const g = new T.Generator(2024);
const data = F.sampleDataset('moons', 2000, { generator: g });
const floor = F.wasserstein2(data, F.sampleDataset('moons', 2000, { generator: g }));
const noise = T.randn([2000, 2], { generator: g });
const field = F.fieldOf(trainer.samplingModel()); // the EMA weights when EMA is on
const solvers = {};
for (const [method, options] of [
  ['euler', { steps: 100 }],
  ['midpoint', { steps: 50 }],
  ['heun', { steps: 50 }],
  ['rk4', { steps: 25 }],
  ['dopri5', { rtol: 1e-4, atol: 1e-4 }],
]) {
  const s0 = performance.now();
  const r = F.solve(field, noise, { method, ...options });
  solvers[method] = { w2: +F.wasserstein2(r.x, data).toFixed(4), nfe: r.nfe, seconds: +((performance.now() - s0) / 1000).toFixed(2) };
}
console.log(JSON.stringify({ steps, seed, ema, trainSeconds: +trainSeconds.toFixed(1), stepsPerSecond: +(steps / trainSeconds).toFixed(1), validationLoss: +trainer.validationLoss().toFixed(4), floor: +floor.toFixed(4), noiseW2: +F.wasserstein2(noise, data).toFixed(4), solvers }, null, 1));
