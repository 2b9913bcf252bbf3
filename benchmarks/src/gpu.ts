// GPU backend throughput next to the CPU: matmul GFLOP/s with and without upload/read-back, activation GB/s, and the
// reference training step. Under Xvfb + Mesa these are software-rendering (llvmpipe) numbers, labelled as such.
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';
import { Bench } from 'tinybench';
import type { Row } from './report.js';

function rows(bench: Bench, work: Map<string, [number, string]>): Row[] {
  return bench.tasks.map((task) => {
    const r = task.result;
    if (!('latency' in r)) throw new Error(`benchmark ${task.name} failed: ${r.state}`);
    const [amount, unit] = work.get(task.name)!;
    const ms = r.latency;
    return { name: task.name, unit, median: amount / (ms.p50 / 1000), min: amount / (ms.max / 1000), max: amount / (ms.min / 1000), samples: ms.samplesCount };
  });
}

export async function gpuSuite(quick: boolean, label: string): Promise<Row[]> {
  const sizes = quick ? [64, 256, 512] : [64, 128, 256, 512, 1024, 2048];
  const bench = new Bench({ time: quick ? 300 : 1000, warmupTime: 100, iterations: 3 });
  const work = new Map<string, [number, string]>();
  const g = new T.Generator(1);
  for (const n of sizes) {
    const host = [T.rand([n, n], { generator: g }), T.rand([n, n], { generator: g })];
    const flop = (2 * n * n * n) / 1e9;
    T.setBackend('gpu');
    const [a, b] = host.map((h) => T.clone(h)); // now resident on the GPU
    T.setBackend('cpu');
    const resident = `gpu ${label} matmul ${n}³ (on device)`;
    work.set(resident, [flop, 'GFLOP/s']);
    bench.add(resident, () => {
      T.setBackend('gpu');
      const c = T.matmul(a, b);
      c.data; // wait for the result: read-back of C only
      c.dispose();
      T.setBackend('cpu');
    });
    const roundTrip = `gpu ${label} matmul ${n}³ (upload + read-back)`;
    work.set(roundTrip, [flop, 'GFLOP/s']);
    bench.add(roundTrip, () => {
      T.setBackend('gpu');
      const [x, y] = host.map((h) => T.tensor(h.data, { shape: [n, n] }));
      const c = T.matmul(x, y);
      c.data;
      T.dispose([x, y, c]);
      T.setBackend('cpu');
    });
  }
  for (const backend of ['cpu', 'gpu']) {
    const n = 1 << 20;
    const x = T.randn([n], { generator: g });
    const name = `${backend === 'gpu' ? `gpu ${label}` : 'cpu (js)'} selu 2²⁰ floats (read + write)`;
    work.set(name, [(8 * n) / 1e9, 'GB/s']);
    bench.add(name, () => {
      T.setBackend(backend);
      const y = T.selu(x);
      y.data;
      y.dispose();
      T.setBackend('cpu');
    });
  }
  await bench.run();
  // The training step of the reference recipe (W = 64, batch 256), on each backend: steps/s.
  const steps: Row[] = [];
  for (const backend of ['cpu', 'gpu']) {
    const trainer = new F.Trainer({ seed: 0 });
    T.setBackend(backend);
    trainer.trainStep();
    const times: number[] = [];
    for (let i = 0; i < (quick ? 5 : 20); i++) {
      const t0 = performance.now();
      trainer.trainStep();
      times.push(performance.now() - t0);
    }
    T.setBackend('cpu');
    times.sort((p, q) => p - q);
    steps.push({
      name: `${backend === 'gpu' ? `gpu ${label}` : 'cpu (js)'} training step W=64 B=256`,
      unit: 'steps/s',
      median: 1000 / times[times.length >> 1],
      min: 1000 / times[times.length - 1],
      max: 1000 / times[0],
      samples: times.length,
    });
  }
  return [...rows(bench, work), ...steps];
}
