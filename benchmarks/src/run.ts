// `npx pnpm@12.4.2 bench [--quick] [--gpu]`: Rill next to TensorFlow.js in one run; prints tables and the target
// ratios, writes benchmarks/results/<date>.json and .md. See benchmarks/README.md for what each number means.
import { fileURLToPath } from 'node:url';
import * as T from '@rill/tensor';
import { initGpu } from '@rill/tensor/gpu';
import { initThreads } from '@rill/tensor/threads';
import { gpuSuite } from './gpu.js';
import { initPeers, PEERS, PEER_VERSIONS, peerMatmul, peerTrainStep } from './peers.js';
import { meta, printTable, writeResults, type Ratio, type Row } from './report.js';
import { CPU_BACKENDS, matmulShapes, rillElementwiseTasks, rillMatmulTasks, rillTrainTask } from './suites.js';
import { measure } from './timing.js';

const quick = process.argv.includes('--quick');
const m = meta(quick, PEER_VERSIONS);
console.log(`Rill benchmarks${quick ? ' (quick)' : ''} — ${m.cpu} (${m.cores} cores), Node ${m.node}, V8 ${m.v8}, commit ${m.commit}`);
await initPeers();
// `wasm-1t`: the wasm kernels on one thread (a second wasm backend, without workers); `wasm` gets the workers.
T.registerBackend('wasm-1t', () => T.createWasmBackend(), -1);
const threads = await initThreads(); // wasm and js-threads: large matmuls split between worker threads
T.setBackend('js');
console.log(`wasm and js-threads use ${threads} threads`);

const section = async (title: string, tasks: Parameters<typeof measure>[0]) => {
  console.log(`\n${title}`);
  const rows = await measure(tasks, quick);
  printTable(rows);
  return rows;
};
const rows: Row[] = [];
const shapes = matmulShapes(quick);
rows.push(...(await section('matmul (float32)', [...rillMatmulTasks(quick), ...PEERS.flatMap((p) => shapes.map(([mm, k, n, label]) => peerMatmul(p, mm, k, n, label)))])));
rows.push(...(await section('elementwise and reductions', rillElementwiseTasks())));
rows.push(...(await section('training step (reference recipe)', [64, 256].flatMap((w) => [...CPU_BACKENDS.map((b) => rillTrainTask(w, b)), ...PEERS.map((p) => peerTrainStep(p, w))]))));

if (process.argv.includes('--gpu')) {
  const info = await initGpu({ require: true });
  const software = !process.env.RILL_REAL_GPU;
  console.log(`\ngpu backend: GL renderer '${info!.renderer}', version '${info!.version}'${software ? ' — software rendering (Mesa llvmpipe under Xvfb): not GPU speed' : ''}`);
  const gpuRows = await gpuSuite(quick, software ? '(software rendering)' : '');
  printTable(gpuRows);
  rows.push(...gpuRows);
}

const find = (name: string) => rows.find((r) => r.name === name)!.median;
/** Rill's best CPU figure for a row name with `(backend)` in it. */
const best = (name: (label: string) => string) =>
  Math.max(...['js', 'js-threads', 'wasm, one thread', 'wasm, both cores'].map((l) => find(name(l))));
const train = (w: number) => best((l) => `rill training step W=${w} B=256 (${l})`);
const trainWasm = (w: number) => Math.max(...['wasm, one thread', 'wasm, both cores'].map((l) => find(`rill training step W=${w} B=256 (${l})`)));
const ratios: Ratio[] = [
  // Issue #7: Rill's best CPU path against each target's peer.
  { target: 'matmul 256³ vs tfjs-backend-cpu', rill: best((l) => `rill matmul op (${l}) 256³`), peer: find('tfjs-backend-cpu matmul 256³'), ratio: 0, goal: 5 },
  { target: 'training step W=64 vs tfjs-backend-wasm', rill: train(64), peer: find('tfjs-backend-wasm training step W=64 B=256'), ratio: 0, goal: 1.5 },
  { target: 'training step W=256 vs tfjs-backend-wasm', rill: train(256), peer: find('tfjs-backend-wasm training step W=256 B=256'), ratio: 0, goal: 2 },
  // Issue #9: the WebAssembly SIMD tier.
  { target: 'matmul 256³, wasm one thread vs tfjs-backend-wasm', rill: find('rill matmul op (wasm, one thread) 256³'), peer: find('tfjs-backend-wasm matmul 256³'), ratio: 0, goal: 1.2 },
  ...(quick ? [] : [{ target: 'matmul 1024³, wasm both cores vs 50 GFLOP/s', rill: find('rill matmul op (wasm, both cores) 1024³'), peer: 50, ratio: 0, goal: 1 }]),
  { target: 'training step W=64 (wasm) vs tfjs-backend-wasm', rill: trainWasm(64), peer: find('tfjs-backend-wasm training step W=64 B=256'), ratio: 0, goal: 3 },
  { target: 'training step W=256 (wasm) vs tfjs-backend-wasm', rill: trainWasm(256), peer: find('tfjs-backend-wasm training step W=256 B=256'), ratio: 0, goal: 4 },
].map((r) => ({ ...r, ratio: r.rill / r.peer }));
console.log('\ntargets (Rill / peer, higher is better)');
for (const r of ratios) console.log(`  ${r.target.padEnd(52)} ${r.ratio.toFixed(2)}×  (goal ≥ ${r.goal}×) ${r.ratio >= r.goal ? 'met' : 'NOT met'}`);
const path = writeResults(fileURLToPath(new URL('../results', import.meta.url)), m, rows, ratios);
console.log(`\nwrote ${path} and its .json`);
