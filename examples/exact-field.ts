// The exact marginal field u_t(x) of formula (∗) next to a learned one, on a dataset of 24 points: the network
// approximates the field the conditional loss secretly regresses, and where it differs it generalises — the exact
// field carries every sample onto a training point (memorisation). Run: npx pnpm@12.4.2 example exact-field
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as F from '@rill/flowmatch';
import { writeFigure, type Chart } from '@rill/cli';
import * as T from '@rill/tensor';

const steps = Number(process.env.STEPS ?? 4000);
const points = F.sampleDataset('moons', 24, { generator: new T.Generator(1) });
const trainer = new F.Trainer({ data: 'custom', sigma: 0, steps, batch: 128, hidden: [64, 64, 64], ema: 0.99, seed: 0 }, { data: points });
while (trainer.step < trainer.config.steps) trainer.trainFor(2000);
const path = F.makePath(trainer.config);
const learned = F.fieldOf(trainer.samplingModel());
// The exact field in float64: near t = 1 it is a softmax of distances ~1e-4 apart, below float32's resolution
const exact64 = F.marginalVelocity(T.cast(points, 'float64'), path);
const exact: F.Field = (x, t) => T.tidy(() => T.cast(exact64(T.cast(x, 'float64'), t), x.dtype));

// 1. The two fields at x_t drawn from the path (t, a training point, noise), over t: the RMS of their difference
const g = new T.Generator(2);
const z = T.gather(points, Array.from({ length: 400 }, () => Math.floor(g.uniform() * 24)));
const x0 = T.randn([400, 2], { generator: g });
const ts = Array.from({ length: 19 }, (_, k) => 0.05 * (k + 1));
const rms = ts.map((t) => {
  const xt = T.add(T.mul(z, t), T.mul(x0, 1 - t));
  const d = T.sub(learned(xt, t), exact(xt, t)).data;
  const u = exact(xt, t).data;
  let [err, size] = [0, 0];
  for (let i = 0; i < d.length; i++) (err += d[i] * d[i]), (size += u[i] * u[i]);
  return [Math.sqrt(err / 400), Math.sqrt(size / 400)];
});
console.log('t      RMS ‖u_θ − u‖   RMS ‖u‖');
for (const [k, t] of ts.entries()) if (k % 3 === 1) console.log(`${t.toFixed(2)}   ${rms[k][0].toFixed(4).padStart(12)}   ${rms[k][1].toFixed(4).padStart(8)}`);

// 2. Where each field carries the same noise: the exact one onto the training points, the learned one between them
const noise = T.randn([600, 2], { generator: new T.Generator(3) });
const onExact = F.solve(exact64, T.cast(noise, 'float64'), { method: 'dopri5', t1: 1 - 1e-4, rtol: 1e-7, atol: 1e-7 }).x;
const onLearned = F.solve(learned, noise, { method: 'dopri5' }).x;
const onPoint = (x: T.Tensor) => {
  let hits = 0;
  for (let i = 0; i < x.shape[0]; i++) {
    let nearest = Infinity;
    for (let j = 0; j < 24; j++) nearest = Math.min(nearest, Math.hypot(x.data[2 * i] - points.data[2 * j], x.data[2 * i + 1] - points.data[2 * j + 1]));
    if (nearest < 0.01) hits++;
  }
  return hits / x.shape[0];
};
console.log(`samples within 0.01 of a training point: exact field ${onPoint(onExact).toFixed(3)}, learned field ${onPoint(onLearned).toFixed(3)}`);

const grid = Array.from({ length: 21 * 13 }, (_, k) => [-4.5 + (10.5 * (k % 21)) / 20, -3 + (6 * Math.floor(k / 21)) / 12]).flat();
const gridT = T.tensor(grid, { shape: [21 * 13, 2] });
const arrows = (t: number): Chart => ({
  title: `u_t at t = ${t}`,
  xLabel: 'x₀',
  yLabel: 'x₁',
  equal: true,
  layers: [
    { kind: 'arrows', xy: grid, uv: learned(gridT, t).data, color: '#1f77b4', scale: 0.08, label: 'learned u_θ' },
    { kind: 'arrows', xy: grid, uv: exact(gridT, t).data, color: '#ff7f0e', scale: 0.08, label: 'exact u (∗)' },
    { kind: 'scatter', xy: points.data, color: '#000000', radius: 2.5, label: 'training points' },
  ],
});
const out = fileURLToPath(new URL('../../out/examples/', import.meta.url));
mkdirSync(out, { recursive: true });
writeFigure(`${out}exact-field.png`, [arrows(0.3), arrows(0.6), arrows(0.9)]);
writeFigure(`${out}exact-field-error.png`, [
  {
    title: 'RMS over x_t ~ p_t',
    xLabel: 't',
    yLabel: 'RMS',
    layers: [
      { kind: 'line', x: ts, y: rms.map((r) => r[0]), color: '#d62728', width: 2, label: '‖u_θ − u‖' },
      { kind: 'line', x: ts, y: rms.map((r) => r[1]), color: '#7f7f7f', width: 2, label: '‖u‖' },
    ],
  },
  {
    title: 'Where the same noise ends (t = 1)',
    xLabel: 'x₀',
    yLabel: 'x₁',
    equal: true,
    layers: [
      { kind: 'scatter', xy: points.data, color: '#000000', radius: 5, label: 'training points' },
      { kind: 'scatter', xy: onLearned.data, color: '#1f77b4', radius: 1.6, label: 'learned field' },
      { kind: 'scatter', xy: onExact.data, color: '#ff7f0e', radius: 2.5, label: 'exact field' },
    ],
  },
]);
console.log(`figures: ${out}exact-field.png ${out}exact-field-error.png`);
