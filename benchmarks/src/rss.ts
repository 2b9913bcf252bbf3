// Memory over a long run: `node benchmarks/dist/rss.js [steps=20000] [width=64]` trains the reference recipe and prints
// the resident set size (RSS) every 10 % of the run and its peak — it should stay flat in the step count — with the
// JS heap and the wasm backend's memory.
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';

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
  if (i % Math.max(1, Math.floor(steps / 10)) === 0) {
    // The wasm backend's tensors live in its WebAssembly.Memory (part of RSS): its high-water mark must stay put too.
    const wasm = (T.getBackend() as Partial<T.WasmBackend>).parts?.heap;
    const tensors = wasm ? `, wasm heap ${mb(wasm.reservedBytes)} MB (${mb(wasm.liveBytes)} MB live)` : '';
    console.log(`step ${i}: RSS ${mb(rss)} MB, JS heap used ${mb(process.memoryUsage().heapUsed)} MB${tensors}`);
  }
}
console.log(`peak RSS ${mb(peak)} MB over ${steps} steps (W = ${width}) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
