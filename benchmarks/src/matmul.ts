// Matmul throughput (GFLOP/s) of every CPU kernel variant over square sizes, float32, one thread.
import * as T from '@rill/tensor';
import { Bench } from 'tinybench';
import type { Row } from './report.js';

export async function matmulSuite(quick: boolean): Promise<Row[]> {
  const sizes = quick ? [64, 256] : [64, 128, 256, 512];
  const bench = new Bench({ time: quick ? 300 : 1000, warmupTime: quick ? 100 : 300 });
  const flops = new Map<string, number>();
  const g = new T.Generator(1);
  for (const n of sizes) {
    const a = Float32Array.from({ length: n * n }, () => g.uniform());
    const b = Float32Array.from({ length: n * n }, () => g.uniform());
    const c = new Float32Array(n * n);
    for (const kernel of [T.matmulReference, T.matmulBlocked]) {
      if (kernel === T.matmulReference && n > 256 && quick) continue;
      const name = `matmul ${kernel.name} ${n}³`;
      flops.set(name, 2 * n * n * n);
      bench.add(name, () => kernel({ a, b, c, m: n, n, k: n, transA: false, transB: false }));
    }
    // The public op on the `js` backend: the blocked kernel plus validation and allocating the result.
    const ta = T.tensor(a, { shape: [n, n] });
    const tb = T.tensor(b, { shape: [n, n] });
    const name = `matmul op (js backend) ${n}³`;
    flops.set(name, 2 * n * n * n);
    bench.add(name, () => T.matmul(ta, tb).dispose());
  }
  await bench.run();
  return bench.tasks.map((task) => {
    const r = task.result;
    if (!('latency' in r)) throw new Error(`benchmark ${task.name} failed: ${r.state}`);
    const work = flops.get(task.name)! / 1e9; // GFLOP per call
    const ms = r.latency;
    return { name: task.name, unit: 'GFLOP/s', median: work / (ms.p50 / 1000), min: work / (ms.max / 1000), max: work / (ms.min / 1000), samples: ms.samplesCount };
  });
}
