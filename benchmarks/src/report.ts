// Benchmark rows, the console table, and the results files (JSON + Markdown) with everything needed to compare runs.
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { TorchComparison } from './torch-section.js';

export interface Row {
  name: string;
  /** Who ran it: `rill js`, `tfjs-backend-cpu`, … */
  group?: string;
  unit: string;
  /** Throughput at the median latency; min / max at the slowest / fastest sample. */
  median: number;
  min: number;
  max: number;
  samples: number;
}

export function printTable(rows: Row[]): void {
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'benchmark'.padEnd(width)}  ${'median'.padStart(9)}  ${'min'.padStart(9)}  ${'max'.padStart(9)}  unit     samples`);
  for (const r of rows) {
    const f = (v: number) => v.toFixed(2).padStart(9);
    console.log(`${r.name.padEnd(width)}  ${f(r.median)}  ${f(r.min)}  ${f(r.max)}  ${r.unit.padEnd(8)} ${r.samples}`);
  }
}

export interface Meta {
  date: string;
  cpu: string;
  cores: number;
  node: string;
  v8: string;
  commit: string;
  quick: boolean;
  peers: Record<string, string>;
}

export function meta(quick: boolean, peers: Record<string, string>): Meta {
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {}
  return { date: new Date().toISOString(), cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, v8: process.versions.v8, commit, quick, peers };
}

export interface Ratio {
  target: string;
  rill: number;
  peer: number;
  ratio: number;
  goal: number;
}

/** Writes results/<date>.json (with `extra`'s fields) and results/<date>.md under `dir`; returns the Markdown path. */
export function writeResults(dir: string, m: Meta, rows: Row[], ratios: Ratio[], extra: Record<string, unknown> = {}): string {
  mkdirSync(dir, { recursive: true });
  const stamp = m.date.slice(0, 19).replace(/:/g, '-');
  const data = { meta: m, rows, ratios, ...extra };
  writeFileSync(join(dir, `${stamp}.json`), JSON.stringify(data, null, 2));
  const path = join(dir, `${stamp}.md`);
  writeFileSync(path, resultsMarkdown(data));
  return path;
}

/**
 * A run's results as Markdown: the targets, then (with `bench --peers torch`) the steps against PyTorch and where the
 * reference step's time goes, then every figure. Also renders an older run's .json again.
 */
export function resultsMarkdown(data: { meta: Meta; rows: Row[]; ratios: Ratio[]; torchSteps?: TorchComparison[]; profiles?: Record<string, Record<string, number>> }): string {
  const { meta: m, rows, ratios, torchSteps, profiles } = data;
  const torch = torchSteps?.length
    ? [
        '## Training steps vs PyTorch CPU (paired rounds; efficiency = the step\'s FLOPs per second / the 1024³ matmul peak)',
        '',
        '| step | MFLOP | Rill ms | efficiency | PyTorch ms (threads) | PyTorch / Rill (rounds) | relaxed SIMD ms | PyTorch / relaxed |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
        ...torchSteps.map((r) => {
          const vs = r.ratio === null ? '— | —' : `${r.torchMs!.toFixed(2)} (${r.torchThreads}) | ${r.ratio.toFixed(2)}× (${r.range![0].toFixed(2)}–${r.range![1].toFixed(2)})`;
          const relaxed = r.relaxedMs === null ? '— | —' : `${r.relaxedMs.toFixed(2)} | ${r.relaxedRatio === null ? '—' : `${r.relaxedRatio.toFixed(2)}×`}`;
          return `| ${r.step} | ${(r.flops / 1e6).toFixed(1)} | ${r.rillMs.toFixed(2)} | ${(100 * r.efficiency).toFixed(1)} % | ${vs} | ${relaxed} |`;
        }),
        '',
      ]
    : [];
  const names = Object.keys(profiles ?? {});
  const categories = names.length ? Object.keys(profiles![names[0]]) : [];
  const profile = names.length
    ? [
        '## Where the reference step\'s time goes (ms per step, wasm on both cores)',
        '',
        `| category | ${names.join(' | ')} |`,
        `| --- | ${names.map(() => '---').join(' | ')} |`,
        ...categories.map((c) => `| ${c} | ${names.map((n) => profiles![n][c].toFixed(3)).join(' | ')} |`),
        `| total | ${names.map((n) => Object.values(profiles![n]).reduce((a, b) => a + b, 0).toFixed(3)).join(' | ')} |`,
        '',
      ]
    : [];
  return [
    `# Rill benchmarks — ${m.date}`,
    '',
    `CPU ${m.cpu} (${m.cores} cores), Node ${m.node}, V8 ${m.v8}, commit ${m.commit}${m.quick ? ', quick mode' : ''}; peers: ${Object.entries(m.peers).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    '',
    '## Targets (Rill / peer, same run: the median of alternating rounds, see pairedRatio)',
    '',
    '| target | Rill | peer | ratio | goal |',
    '| --- | --- | --- | --- | --- |',
    ...ratios.map((r) => `| ${r.target} | ${r.rill.toFixed(2)} | ${r.peer.toFixed(2)} | ${r.ratio.toFixed(2)}× | ≥ ${r.goal}× ${r.ratio >= r.goal ? '✓' : '✗'} |`),
    '',
    ...torch,
    ...profile,
    '## All figures',
    '',
    '| benchmark | median | min | max | unit | samples |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.name} | ${r.median.toFixed(2)} | ${r.min.toFixed(2)} | ${r.max.toFixed(2)} | ${r.unit} | ${r.samples} |`),
    '',
  ].join('\n');
}
