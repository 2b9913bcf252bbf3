// Compare ODE samplers by the number of field evaluations (NFE) they spend and the quality they buy (W2 to data):
// train a small moons model, run every solver at equal budgets from the same noise, print a table, draw W2 against NFE.
// Run: npx pnpm@12.4.2 example samplers   (the CLI's `rill solvers` does the same on any model file, with the ODE error)
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as F from '@rill/flowmatch';
import { writeFigure, type Layer } from '@rill/cli';
import * as T from '@rill/tensor';

const trainer = new F.Trainer({ data: 'moons', steps: Number(process.env.STEPS ?? 2000), hidden: [64, 64, 64], ema: 0.99, seed: 0 });
while (trainer.step < trainer.config.steps) trainer.trainFor(2000);
const field = F.fieldOf(trainer.samplingModel()); // (x, t) ↦ u_θ(x, t), no graph recorded
const g = new T.Generator(7);
const noise = T.randn([1000, 2], { generator: g });
const data = F.sampleDataset('moons', 1000, { generator: g });

const budgets = [4, 8, 16, 32, 64];
const colors: Record<string, string> = { euler: '#d62728', midpoint: '#ff7f0e', heun: '#2ca02c', rk4: '#1f77b4' };
const layers: Layer[] = [];
console.log('solver      steps   NFE      W2');
for (const method of F.FIXED_STEP) {
  const nfes: number[] = [];
  const w2s: number[] = [];
  for (const budget of budgets.filter((b) => b >= F.EVALS_PER_STEP[method])) {
    const steps = budget / F.EVALS_PER_STEP[method]; // rk4 evaluates the field 4 times a step, euler once
    const { x, nfe } = F.solve(field, noise, { method, steps });
    const w2 = F.wasserstein2(x, data);
    console.log(`${method.padEnd(10)}${String(steps).padStart(6)}${String(nfe).padStart(6)}  ${w2.toFixed(4)}`);
    nfes.push(nfe);
    w2s.push(w2);
  }
  layers.push({ kind: 'line', x: nfes, y: w2s, color: colors[method], label: method, width: 2 });
}
const adaptive = F.solve(field, noise, { method: 'dopri5', rtol: 1e-4, atol: 1e-4 });
const best = F.wasserstein2(adaptive.x, data);
console.log(`dopri5 (rtol = atol = 1e-4): NFE ${adaptive.nfe}, W2 ${best.toFixed(4)}`);

const out = fileURLToPath(new URL('../../out/examples/', import.meta.url));
mkdirSync(out, { recursive: true });
layers.push({ kind: 'line', x: [4, 64], y: [best, best], color: '#555', label: 'dopri5, 1e-4', width: 1 });
writeFigure(`${out}samplers.png`, [{ title: 'W2 to the data against NFE', xLabel: 'field evaluations (NFE)', yLabel: 'W2', layers, logX: true, x: [3.5, 72] }], 560, 440);
console.log(`figure: ${out}samplers.png`);
