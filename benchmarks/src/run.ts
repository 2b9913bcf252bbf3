// `npx pnpm@12.4.2 bench [--quick] [--gpu] [--peers torch]`: Rill next to TensorFlow.js (and PyTorch CPU) in one run; prints tables and the target
// ratios, writes benchmarks/results/<date>.json and .md. See benchmarks/README.md for what each number means.
import { fileURLToPath } from 'node:url';
import * as T from '@rill/tensor';
import { initGpu } from '@rill/tensor/gpu';
import { initThreads } from '@rill/tensor/threads';
import { gpuSuite } from './gpu.js';
import { CHECKERBOARD, initPeers, PEERS, PEER_VERSIONS, peerMatmul, peerTrainStep, recipeLabel, referenceRecipe } from './peers.js';
import { meta, printTable, writeResults, type Ratio, type Row } from './report.js';
import { CPU_BACKENDS, matmulShapes, rillElementwiseTasks, rillMatmulTasks, rillTrainTask } from './suites.js';
import { measure, pairedRatio, type Task } from './timing.js';
import { torchSection } from './torch-section.js';

const quick = process.argv.includes('--quick');
const m = meta(quick, PEER_VERSIONS);
console.log(`Rill benchmarks${quick ? ' (quick)' : ''} — ${m.cpu} (${m.cores} cores), Node ${m.node}, V8 ${m.v8}, commit ${m.commit}`);
await initPeers();
// `wasm-1t`: the wasm kernels on one thread (a second wasm backend, without workers); `wasm` gets the workers.
T.registerBackend('wasm-1t', () => T.createWasmBackend(), -1);
const threads = await initThreads(); // wasm and js-threads: large matmuls split between worker threads
T.setBackend('js');
console.log(`wasm and js-threads use ${threads} threads`);

const allTasks: Task[] = [];
const section = async (title: string, tasks: Task[]) => {
  allTasks.push(...tasks);
  console.log(`\n${title}`);
  const rows = await measure(tasks, quick);
  printTable(rows);
  return rows;
};
const rows: Row[] = [];
const shapes = matmulShapes(quick);
rows.push(...(await section('matmul (float32)', [...rillMatmulTasks(quick), ...PEERS.flatMap((p) => shapes.map(([mm, k, n, label]) => peerMatmul(p, mm, k, n, label)))])));
rows.push(...(await section('elementwise and reductions', rillElementwiseTasks())));
rows.push(...(await section('training step (reference recipe)', [64, 256].flatMap((w) => [...CPU_BACKENDS.map((b) => rillTrainTask(referenceRecipe(w), b)), ...PEERS.map((p) => peerTrainStep(p, referenceRecipe(w)))]))));
// the checkerboard recipe (issue #21): the wasm backends against tfjs-backend-wasm
const wasmBackends = CPU_BACKENDS.filter((b) => b.startsWith('wasm'));
rows.push(...(await section(`training step (${recipeLabel(CHECKERBOARD)})`, [...wasmBackends.map((b) => rillTrainTask(CHECKERBOARD, b)), peerTrainStep('tfjs-backend-wasm', CHECKERBOARD)])));

if (process.argv.includes('--gpu')) {
  const info = await initGpu({ require: true });
  const software = !process.env.RILL_REAL_GPU;
  console.log(`\ngpu backend: GL renderer '${info!.renderer}', version '${info!.version}'${software ? ' — software rendering (Mesa llvmpipe under Xvfb): not GPU speed' : ''}`);
  const gpuRows = await gpuSuite(quick, software ? '(software rendering)' : '');
  printTable(gpuRows);
  rows.push(...gpuRows);
}

// `--peers torch`: the training steps against PyTorch CPU, the efficiency column and the step's profile
const peersAt = process.argv.indexOf('--peers');
const withTorch = peersAt > 0 && (process.argv[peersAt + 1] ?? '').split(',').includes('torch');
const peakRow = rows.find((r) => r.name === 'rill matmul op (wasm, both cores) 1024³') ?? rows.find((r) => r.name === 'rill matmul op (wasm, both cores) 256³');
const torch = withTorch ? await torchSection(quick, peakRow!.median, true) : null;

const find = (name: string) => rows.find((r) => r.name === name)!.median;
const task = (name: string) => allTasks.find((t) => t.name === name)!;
// The targets: Rill against the peer in alternating rounds (pairedRatio), on Rill's best CPU backend for the row.
const paired = (target: string, rillName: string, peerName: string, goal: number): Ratio => {
  const { rill, peer, ratio } = pairedRatio(task(rillName), task(peerName), quick ? 5 : 9, quick ? 150 : 400);
  return { target, rill, peer, ratio, goal };
};
const trainRow = (w: number, l: string) => `rill training step W=${w} B=256 (${l})`;
const bestOf = (names: string[]) => names.reduce((x, y) => (find(y) > find(x) ? y : x));
const ratios: Ratio[] = [
  // Issue #7: Rill's fastest CPU path against each target's peer.
  paired('matmul 256³ vs tfjs-backend-cpu', 'rill matmul op (wasm, both cores) 256³', 'tfjs-backend-cpu matmul 256³', 5),
  paired('training step W=64 vs tfjs-backend-wasm', bestOf(['wasm, one thread', 'wasm, both cores'].map((l) => trainRow(64, l))), 'tfjs-backend-wasm training step W=64 B=256', 1.5),
  paired('training step W=256 vs tfjs-backend-wasm', bestOf(['wasm, one thread', 'wasm, both cores'].map((l) => trainRow(256, l))), 'tfjs-backend-wasm training step W=256 B=256', 2),
  // Issue #9: the WebAssembly SIMD tier.
  paired('matmul 256³, wasm one thread vs tfjs-backend-wasm', 'rill matmul op (wasm, one thread) 256³', 'tfjs-backend-wasm matmul 256³', 1.2),
  ...(quick ? [] : [{ target: 'matmul 1024³, wasm both cores vs 50 GFLOP/s', rill: find('rill matmul op (wasm, both cores) 1024³'), peer: 50, ratio: find('rill matmul op (wasm, both cores) 1024³') / 50, goal: 1 }]),
  paired('training step W=64 (wasm) vs tfjs-backend-wasm', bestOf(['wasm, one thread', 'wasm, both cores'].map((l) => trainRow(64, l))), 'tfjs-backend-wasm training step W=64 B=256', 3),
  paired('training step W=256 (wasm) vs tfjs-backend-wasm', bestOf(['wasm, one thread', 'wasm, both cores'].map((l) => trainRow(256, l))), 'tfjs-backend-wasm training step W=256 B=256', 4),
];
// Issue #21: the step near the machine's limit (ratios to tfjs-backend-wasm; the checkerboard step also in ms)
const checkerRow = bestOf(['wasm, one thread', 'wasm, both cores'].map((l) => `rill training step ${recipeLabel(CHECKERBOARD)} (${l})`));
ratios.push(
  paired('#21 training step W=64 vs tfjs-backend-wasm', bestOf(['wasm, one thread', 'wasm, both cores'].map((l) => trainRow(64, l))), 'tfjs-backend-wasm training step W=64 B=256', 8),
  paired('#21 training step W=256 vs tfjs-backend-wasm', bestOf(['wasm, one thread', 'wasm, both cores'].map((l) => trainRow(256, l))), 'tfjs-backend-wasm training step W=256 B=256', 15),
  paired('#21 checkerboard step vs tfjs-backend-wasm', checkerRow, `tfjs-backend-wasm training step ${recipeLabel(CHECKERBOARD)}`, 10),
  { target: '#21 checkerboard step ≤ 3 ms (3 ms / Rill\'s ms)', rill: find(checkerRow), peer: 1000 / 3, ratio: find(checkerRow) / (1000 / 3), goal: 1 },
);
if (torch) {
  // Issue #21's goals against PyTorch (the checkerboard recipe's is in ms per step, in the table above)
  for (const c of torch.comparisons) {
    const goal = { ref64: 2, ref256: 1, checker: null }[c.step];
    if (c.ratio !== null && goal !== null) ratios.push({ target: `training step ${c.step} vs PyTorch CPU (best of 1, 2 threads)`, rill: 1000 / c.rillMs, peer: 1000 / c.torchMs!, ratio: c.ratio, goal });
    if (c.relaxedRatio !== null && goal !== null) ratios.push({ target: `  the same with relaxed SIMD (beside it)`, rill: 1000 / c.relaxedMs!, peer: 1000 / c.torchMs!, ratio: c.relaxedRatio, goal });
  }
  m.peers.torch = torch.torch ?? 'not found';
}
console.log('\ntargets (Rill / peer, higher is better; the median of alternating rounds)');
for (const r of ratios) console.log(`  ${r.target.padEnd(52)} ${r.ratio.toFixed(2)}×  (goal ≥ ${r.goal}×) ${r.ratio >= r.goal ? 'met' : 'NOT met'}`);
const path = writeResults(fileURLToPath(new URL('../results', import.meta.url)), m, rows, ratios, torch ? { torchSteps: torch.comparisons, profiles: torch.profiles } : {});
console.log(`\nwrote ${path} and its .json`);
