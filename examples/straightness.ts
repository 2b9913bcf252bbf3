// OT-CFM vs I-CFM: pairing each batch's noise with its data by minibatch optimal transport (Tong et al. 2024) makes
// the learned ODE paths straighter, so few solver steps suffice. Trains both couplings with the same seed and budget,
// then measures how straight their trajectories are and what 2 Euler steps give. Run: npx pnpm@12.4.2 example straightness
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as F from '@rill/flowmatch';
import { writeFigure, type Chart } from '@rill/cli';
import * as T from '@rill/tensor';

const steps = Number(process.env.STEPS ?? 1500);
const times = Array.from({ length: 41 }, (_, k) => k / 40);
const noise = T.randn([500, 2], { generator: new T.Generator(5) });
const data = F.sampleDataset('moons', 500, { generator: new T.Generator(6) });
const charts: Chart[] = [];

console.log('coupling      path length / chord   W2, 2 Euler steps   W2, dopri5');
for (const coupling of ['independent', 'ot'] as const) {
  const trainer = new F.Trainer({ data: 'moons', coupling, steps, batch: 128, hidden: [64, 64, 64], ema: 0.99, seed: 0 });
  while (trainer.step < trainer.config.steps) trainer.trainFor(2000);
  const field = F.fieldOf(trainer.samplingModel());
  const { trajectory } = F.solve(field, noise, { method: 'rk4', steps: 40, times }); // x at t = 0, 1/40, …, 1
  const points = trajectory.map((x) => x.data);
  // Straightness: the length of each path Σₖ ‖x(tₖ₊₁) − x(tₖ)‖ over its chord ‖x(1) − x(0)‖ (1 for a straight line)
  let length = 0;
  let chord = 0;
  for (let i = 0; i < 500; i++) {
    const at = (k: number, d: number) => points[k][2 * i + d];
    for (let k = 0; k + 1 < points.length; k++) length += Math.hypot(at(k + 1, 0) - at(k, 0), at(k + 1, 1) - at(k, 1));
    chord += Math.hypot(at(times.length - 1, 0) - at(0, 0), at(times.length - 1, 1) - at(0, 1));
  }
  const fewSteps = F.wasserstein2(F.solve(field, noise, { method: 'euler', steps: 2 }).x, data);
  const converged = F.wasserstein2(F.solve(field, noise, { method: 'dopri5' }).x, data);
  console.log(`${coupling.padEnd(14)}${(length / chord).toFixed(4).padStart(19)}${fewSteps.toFixed(4).padStart(20)}${converged.toFixed(4).padStart(13)}`);
  const paths = Array.from({ length: 60 }, (_, i) => points.flatMap((p) => [p[2 * i], p[2 * i + 1]]));
  charts.push({ title: coupling === 'ot' ? 'OT-CFM trajectories' : 'I-CFM trajectories', xLabel: 'x₀', yLabel: 'x₁', equal: true, layers: [
    { kind: 'paths', xy: paths, color: '#1f77b4', opacity: 0.6, label: 'paths from noise' },
    { kind: 'scatter', xy: points[points.length - 1].slice(0, 120), color: '#ff7f0e', radius: 2, label: 'where they end (t = 1)' },
  ] });
}
const out = fileURLToPath(new URL('../../out/examples/', import.meta.url));
mkdirSync(out, { recursive: true });
writeFigure(`${out}straightness.png`, charts);
console.log(`figure: ${out}straightness.png`);
