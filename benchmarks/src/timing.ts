// One way to time everything: tinybench tasks turned into rows of throughput (work per second) with min/median/max.
import { Bench } from 'tinybench';
import type { Row } from './report.js';

export interface Task {
  name: string;
  /** Work per call, in `unit`'s numerator (GFLOP, GB, steps…). */
  work: number;
  unit: string;
  fn: () => unknown;
  /** The peer or backend measured, for grouping and ratios. */
  group: string;
}

/** Runs the tasks (each warmed up first) and returns a row per task. */
export async function measure(tasks: Task[], quick: boolean): Promise<Row[]> {
  const bench = new Bench({ time: quick ? 200 : 800, warmupTime: quick ? 50 : 200, iterations: 3 });
  for (const t of tasks) bench.add(t.name, t.fn);
  await bench.run();
  return bench.tasks.map((task, i) => {
    const r = task.result;
    if (!('latency' in r)) throw new Error(`benchmark ${task.name} failed: ${r.state}`);
    const { work, unit, group } = tasks[i];
    const ms = r.latency;
    return { name: task.name, group, unit, median: work / (ms.p50 / 1000), min: work / (ms.max / 1000), max: work / (ms.min / 1000), samples: ms.samplesCount };
  });
}

/**
 * A Rill / peer ratio measured in alternating rounds: each round times `rill` then `peer` for `ms` milliseconds each
 * (after a warm-up) and takes the ratio of their throughputs; the result is the median round. On a shared machine
 * whose speed drifts by tens of percent over minutes, pairing keeps both sides of a ratio under the same conditions.
 */
export function pairedRatio(rill: Task, peer: Task, rounds: number, ms: number): { rill: number; peer: number; ratio: number } {
  const rate = (t: Task, budget: number) => {
    let calls = 0;
    const start = performance.now();
    let now = start;
    while (now - start < budget) {
      t.fn();
      calls++;
      now = performance.now();
    }
    return (calls * t.work) / ((now - start) / 1000);
  };
  rate(rill, ms / 2);
  rate(peer, ms / 2);
  const results = Array.from({ length: rounds }, () => {
    const r = rate(rill, ms);
    const p = rate(peer, ms);
    return { rill: r, peer: p, ratio: r / p };
  });
  results.sort((x, y) => x.ratio - y.ratio);
  return results[Math.floor(rounds / 2)];
}
