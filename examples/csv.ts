// Your own data from a CSV file: train flow matching on its rows, sample, save the model (a .rill file the CLI opens)
// and the samples. Run: npx pnpm@12.4.2 example csv [points.csv]   (no file: it writes and uses a noisy ring in 2-D)
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as F from '@rill/flowmatch';
import { readCsv, saveCheckpoint, writeCsv } from '@rill/flowmatch/node';
import * as T from '@rill/tensor';

const out = fileURLToPath(new URL('../../out/examples/', import.meta.url));
mkdirSync(out, { recursive: true });
let file = process.argv[2];
if (!file) {
  // A ring of radius 2: angle uniform on [0, 2π), radius 2 + N(0, 0.1²)
  const g = new T.Generator(1);
  const angle = T.mul(T.rand([600, 1], { generator: g }), 2 * Math.PI);
  const radius = T.add(2, T.mul(T.randn([600, 1], { generator: g }), 0.1));
  file = `${out}ring.csv`;
  writeCsv(file, T.concat([T.mul(radius, T.cos(angle)), T.mul(radius, T.sin(angle))], 1));
}
const { columns, points } = readCsv(file); // points: (rows, columns), float32; a header row names the columns
const [rows, dim] = points.shape;
console.log(`${file}: ${rows} points in ${dim} dimensions (${columns.join(', ')})`);

// The Trainer runs the same recipe as examples/moons.ts; 'custom' data is drawn from `points` (rows with replacement).
const trainer = new F.Trainer({ data: 'custom', dim, steps: Number(process.env.STEPS ?? 1500), hidden: [64, 64], ema: 0.99, seed: 0 }, { data: points });
while (trainer.step < trainer.config.steps) trainer.trainFor(2000);
console.log(`trained ${trainer.step} steps; last loss ${trainer.losses.at(-1)!.toFixed(4)}`);

const noise = T.randn([rows, dim], { generator: new T.Generator(2) });
const { x, nfe } = F.solve(F.fieldOf(trainer.samplingModel()), noise, { method: 'dopri5' });
console.log(`W2(samples, your points) = ${F.wasserstein2(x, points).toFixed(3)} (NFE ${nfe}); W2(noise, your points) = ${F.wasserstein2(noise, points).toFixed(3)}`);
const radii = Array.from({ length: rows }, (_, i) => Math.hypot(x.data[i * dim], x.data[i * dim + 1]));
if (!process.argv[2]) console.log(`mean radius of the samples: ${(radii.reduce((a, b) => a + b, 0) / rows).toFixed(3)} (the ring's: 2)`);
saveCheckpoint(`${out}csv.rill`, trainer.checkpoint());
writeCsv(`${out}csv-samples.csv`, x);
console.log(`wrote ${out}csv.rill and ${out}csv-samples.csv (try: rill sample --model ${out}csv.rill --png ring.png)`);
