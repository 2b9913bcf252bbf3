// Runs the benchmark suites and prints a table: `pnpm bench` (about a minute), `pnpm bench --quick` (seconds);
// `--gpu` adds the gpu.js backend (needs a GL context: in Node, run under xvfb-run).
import { cpus } from 'node:os';
import { initGpu } from '@rill/tensor/gpu';
import { gpuSuite } from './gpu.js';
import { matmulSuite } from './matmul.js';
import { printTable } from './report.js';

const quick = process.argv.includes('--quick');
console.log(`Rill benchmarks${quick ? ' (quick)' : ''} — ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, V8 ${process.versions.v8}`);
printTable(await matmulSuite(quick));
if (process.argv.includes('--gpu')) {
  const info = await initGpu({ require: true });
  const software = /llvmpipe|swiftshader|ANGLE|software/i.test(`${info!.renderer} ${info!.version}`) && !process.env.RILL_REAL_GPU;
  const label = software ? '(software rendering)' : '';
  console.log(`\ngpu backend: GL renderer '${info!.renderer}', version '${info!.version}'${software ? ' — software rendering (Mesa llvmpipe under Xvfb): not GPU speed' : ''}`);
  printTable(await gpuSuite(quick, label));
}
