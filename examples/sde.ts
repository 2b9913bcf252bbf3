// Sampling a flow-matching model by the SDE with the same marginals (Euler–Maruyama), against the diffusion g and the
// number of steps: W2 to fresh data for each, the ODE (g = 0) included; then the same network trained by score
// matching (noise prediction), sampled the same ways. SDE g = 1·√β_t throughout the comparison. Run: npx pnpm@12.4.2 example sde
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as F from '@rill/flowmatch';
import { writeFigure, type Chart } from '@rill/cli';
import * as T from '@rill/tensor';

const trainSteps = Number(process.env.STEPS ?? 10000);
const SEEDS = [3, 5, 7]; // W2 averaged over three noise draws: one draw of 500 points wobbles by ~0.03
const n = Number(process.env.N ?? 500);
const trainer = new F.Trainer({ data: 'moons', steps: trainSteps, ema: 0.99, sigma: 0, seed: 0 });
while (trainer.step < trainer.config.steps) trainer.trainFor(2000);
const field = F.fieldOf(trainer.samplingModel());
const path = F.makePath(trainer.config);
const data = F.sampleDataset('moons', n, { generator: new T.Generator(1) });
const floor = F.wasserstein2(F.sampleDataset('moons', n, { generator: new T.Generator(2) }), data);
const STEPS = [10, 20, 50, 100, 200];
const RUNS: [F.DiffusionSchedule, number][] = [['constant', 0], ['constant', 0.5], ['constant', 1], ['constant', 2], ['vanishing', 1], ['vanishing', 2]];

console.log(`W2 of ${n} samples to fresh moons, mean of ${SEEDS.length} draws (data-vs-data floor ${floor.toFixed(4)}), Euler–Maruyama, NFE = steps:`);
console.log(`g_t               ${STEPS.map((s) => `${s} steps`.padStart(10)).join('')}`);
const table: number[][] = [];
for (const [schedule, g] of RUNS) {
  const row = STEPS.map((steps) => {
    let sum = 0;
    for (const seed of SEEDS) {
      const noise = T.randn([n, 2], { generator: new T.Generator(seed) });
      const { x } = F.sdeSolve(field, noise, { path, diffusion: g, schedule, steps, generator: new T.Generator(seed + 1) });
      sum += F.wasserstein2(x, data);
    }
    return sum / SEEDS.length;
  });
  table.push(row);
  const name = g === 0 ? '0 (the ODE: Euler)' : `${g}${schedule === 'vanishing' ? '·√β_t' : ''}`;
  console.log(`${name.padEnd(18)}${row.map((w) => w.toFixed(4).padStart(10)).join('')}`);
}

// The diffusion-model baseline: the same network trained by denoising score matching (noise prediction), sampled by
// the same SDE and ODE from t = SCORE_T0, at equal steps
// on the diffusion models' own variance-preserving path
const scoreTrainer = new F.Trainer({ data: 'moons', steps: trainSteps, ema: 0.99, sigma: 0, seed: 0, objective: 'score', path: 'vp' });
while (scoreTrainer.step < scoreTrainer.config.steps) scoreTrainer.trainFor(2000);
const vpPath = F.makePath(scoreTrainer.config);
const scoreField = F.asVelocity(F.fieldOf(scoreTrainer.samplingModel()), vpPath, 'epsilon');
const compare = (f: F.Field, g: number, p: F.GaussianPath, t0: number) =>
  STEPS.map((steps) => {
    let sum = 0;
    for (const seed of SEEDS) {
      const noise = T.randn([n, 2], { generator: new T.Generator(seed) });
      const { x } = F.sdeSolve(f, noise, { path: p, diffusion: g, schedule: 'vanishing', steps, generator: new T.Generator(seed + 1), t0, t1: p.scheduler.tMax });
      sum += F.wasserstein2(x, data);
    }
    return sum / SEEDS.length;
  });
console.log(`flow matching (linear path) against score matching (vp path), equal training (${trainSteps} steps) and sampling steps:`);
console.log(`objective, sampler   ${STEPS.map((s) => `${s} steps`.padStart(10)).join('')}`);
for (const [name, f, g, p, t0] of [
  ['velocity, ODE', field, 0, path, 0],
  ['velocity, SDE', field, 1, path, 0],
  ['score (vp), ODE', scoreField, 0, vpPath, F.SCORE_T0],
  ['score (vp), SDE', scoreField, 1, vpPath, F.SCORE_T0],
] as const) console.log(`${name.padEnd(20)}${compare(f, g, p, t0).map((w) => w.toFixed(4).padStart(10)).join('')}`);

const colours = ['#000000', '#9ecae1', '#3182bd', '#08519c', '#fd8d3c', '#d94701'];
const chart: Chart = {
  title: `W2 to data against steps (floor ${floor.toFixed(3)})`,
  xLabel: 'steps (= NFE)',
  yLabel: 'W2',
  layers: RUNS.map(([schedule, g], i) => ({
    kind: 'line' as const,
    x: STEPS,
    y: table[i],
    color: colours[i],
    width: 2,
    label: g === 0 ? 'g = 0 (ODE)' : `g = ${g}${schedule === 'vanishing' ? '·√β_t' : ''}`,
  })),
};
const out = fileURLToPath(new URL('../../out/examples/', import.meta.url));
mkdirSync(out, { recursive: true });
writeFigure(`${out}sde.png`, [chart], 620, 440);
console.log(`figure: ${out}sde.png`);
