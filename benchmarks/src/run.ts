// Runs the benchmark suites and prints a table: `pnpm bench` (about a minute) or `pnpm bench --quick`.
import { cpus } from 'node:os';
import { matmulSuite } from './matmul.js';
import { printTable } from './report.js';

const quick = process.argv.includes('--quick');
console.log(`Rill benchmarks${quick ? ' (quick)' : ''} — ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, V8 ${process.versions.v8}`);
printTable(await matmulSuite(quick));
