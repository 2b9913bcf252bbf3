// Memory over a long run: `node benchmarks/dist/rss.js [steps=20000] [width=64]` trains the reference recipe and prints
// the resident set size (RSS) every 10 % of the run and its peak — it should stay flat in the step count.
import * as F from '@rill/flowmatch';

const steps = Number(process.argv[2] ?? 20000);
const width = Number(process.argv[3] ?? 64);
const trainer = new F.Trainer({ hidden: [width, width, width], seed: 0, steps });
const mb = (b: number) => (b / 2 ** 20).toFixed(1);
let peak = 0;
const t0 = performance.now();
for (let i = 1; i <= steps; i++) {
  trainer.trainStep();
  const rss = process.memoryUsage().rss;
  peak = Math.max(peak, rss);
  if (i % Math.max(1, Math.floor(steps / 10)) === 0) console.log(`step ${i}: RSS ${mb(rss)} MB, heap used ${mb(process.memoryUsage().heapUsed)} MB`);
}
console.log(`peak RSS ${mb(peak)} MB over ${steps} steps (W = ${width}) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
