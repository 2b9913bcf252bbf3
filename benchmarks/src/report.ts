// Benchmark rows, the console table, and the results files (JSON + Markdown) with everything needed to compare runs.
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

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
  writeFileSync(join(dir, `${stamp}.json`), JSON.stringify({ meta: m, rows, ratios, ...extra }, null, 2));
  const md = [
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
    '## All figures',
    '',
    '| benchmark | median | min | max | unit | samples |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.name} | ${r.median.toFixed(2)} | ${r.min.toFixed(2)} | ${r.max.toFixed(2)} | ${r.unit} | ${r.samples} |`),
    '',
  ].join('\n');
  const path = join(dir, `${stamp}.md`);
  writeFileSync(path, md);
  return path;
}
