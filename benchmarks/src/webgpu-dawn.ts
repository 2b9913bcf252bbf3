// The webgpu backend in Node through Dawn (the `webgpu` npm package), on a machine whose GPU and C++ runtime it loads on
// (not this 2-core one: Dawn needs GLIBCXX 3.4.32): checks the WGSL kernels against float64 references on the js
// backend, then times matmul (GFLOP/s) and the reference training step (steps/s) next to the wasm CPU backend.
// `node benchmarks/dist/webgpu-dawn.js [--out result.json]`
import { writeFileSync } from 'node:fs';
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';
import { initWebGpu, useDawn } from '@rill/tensor/webgpu';

const outIndex = process.argv.indexOf('--out');
const outPath = outIndex > 0 ? process.argv[outIndex + 1] : null;
const report: Record<string, unknown> = { node: process.version };

try {
  // Dawn's own options from $DAWN_FLAGS, comma-separated (e.g. backend=vulkan)
  await useDawn((process.env.DAWN_FLAGS ?? '').split(',').filter(Boolean));
} catch (e) {
  console.log((e as Error).message);
  process.exit(0);
}
const info = await initWebGpu({ require: true });
report.adapter = info;
console.log(`webgpu adapter: ${JSON.stringify(info)}`);

/** Max |got − want| / (atol + rtol·|want|) over the elements: ≤ 1 passes. */
function worst(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number): number {
  let w = 0;
  for (let i = 0; i < want.length; i++) w = Math.max(w, Math.abs(got[i] - want[i]) / (atol + rtol * Math.abs(want[i])));
  return got.length === want.length ? w : Infinity;
}

/** A seeded stream of test values (mulberry32), independent of the library's generator. */
function values(seed: number, n: number, lo = -2, hi = 2): number[] {
  let a = seed >>> 0;
  return Array.from({ length: n }, () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  });
}

/** fn on webgpu (float32) and on js (float64): the worst scaled difference. */
async function check(name: string, fn: (cast: (v: number[], shape: number[]) => T.Tensor) => T.Tensor, rtol: number, atol: number) {
  T.setBackend('webgpu');
  const gpu = fn((v, shape) => T.tensor(Float32Array.from(v), { shape }));
  const got = await gpu.dataAsync();
  gpu.dispose();
  T.setBackend('js');
  const want = T.tidy(() => Array.from(fn((v, shape) => T.tensor(Float64Array.from(v), { shape })).data));
  return { name, worst: worst(got, want, rtol, atol) };
}

const checks = [];
for (const op of T.UNARY_OPS) {
  const [lo, hi] = op === 'log' || op === 'sqrt' ? [0.1, 4] : op === 'sin' || op === 'cos' ? [-3, 3] : [-4, 4];
  const x = values(1, 4099, lo, hi);
  const p = op === 'leakyRelu' ? [0.2] : op === 'elu' ? [0.7] : op === 'clip' ? [-0.5, 0.7] : [];
  const trig = op === 'sin' || op === 'cos';
  checks.push(await check(op, (t) => T.unary(op, t(x, [4099]), ...p), 1e-4, trig ? 2 ** -11 : 2e-6));
}
for (const op of T.BINARY_OPS) {
  const grid = ['gt', 'lt', 'ge', 'le', 'eq'].includes(op);
  const a = values(2, 3 * 5 * 7, op === 'pow' ? 0.1 : -2).map((v) => (grid ? Math.round(v) : v));
  const b = values(3, 5 * 1, op === 'pow' || op === 'div' ? 0.5 : -2).map((v) => (grid ? Math.round(v) : v));
  checks.push(await check(op, (t) => T.binary(op, t(a, [3, 5, 7]), t(b, [5, 1])), 1e-5, 1e-6));
}
for (const [m, k, n] of [[65, 300, 17], [256, 256, 256], [1000, 64, 2]]) {
  for (const [transA, transB] of [[false, false], [true, false], [false, true]]) {
    const a = values(m * k, m * k);
    const b = values(k * n + 1, k * n);
    const shapes = [transA ? [k, m] : [m, k], transB ? [n, k] : [k, n]];
    checks.push(await check(`matmul ${m}×${k}×${n} ${transA ? 'Aᵀ' : 'A'}${transB ? 'Bᵀ' : 'B'}`, (t) => T.matmul(t(a, shapes[0]), t(b, shapes[1]), { transA, transB }), 1e-4, 1e-4 * Math.sqrt(k)));
  }
}
const big = values(9, 6 * 50 * 70);
checks.push(await check('sum over axes 0, 2', (t) => T.sum(t(big, [6, 50, 70]), [0, 2]), 1e-4, 1e-4));
checks.push(await check('max over axis 1', (t) => T.max(t(big, [6, 50, 70]), 1), 1e-6, 1e-7)); // float32 inputs vs float64
checks.push(await check('transpose 2, 0, 1', (t) => T.transpose(t(big, [6, 50, 70]), [2, 0, 1]), 1e-6, 1e-7));
const failed = checks.filter((c) => !(c.worst <= 1));
report.checks = { count: checks.length, failed };
console.log(`${checks.length} kernel checks against float64: ${failed.length === 0 ? 'all pass' : `FAILED: ${JSON.stringify(failed)}`}`);

/** Median seconds per call of `run` over `rounds` rounds of `reps` calls, each round ended by an awaited read. */
async function time(run: () => T.Tensor, reps: number, rounds = 5): Promise<number> {
  const per: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    const start = performance.now();
    let last: T.Tensor | null = null;
    for (let i = 0; i < reps; i++) {
      last?.dispose();
      last = run();
    }
    const probe = T.tidy(() => T.sum(T.slice(last!, [0, 0], [1, 1])));
    await probe.dataAsync(); // waits for everything submitted before it
    T.dispose([probe, last!]);
    if (r > 0) per.push((performance.now() - start) / 1000 / reps); // round 0 warms up (pipelines, buffers)
  }
  return per.sort((x, y) => x - y)[Math.floor(per.length / 2)];
}

const matmul: Record<string, { webgpu: number; wasm: number | null }> = {};
for (const n of [256, 512, 1024, 2048, 4096]) {
  const a = values(n, n * n, -1, 1);
  const b = values(n + 1, n * n, -1, 1);
  T.setBackend('webgpu');
  const [ga, gb] = [T.tensor(Float32Array.from(a), { shape: [n, n] }), T.tensor(Float32Array.from(b), { shape: [n, n] })];
  const gpu = (2 * n ** 3) / (await time(() => T.matmul(ga, gb), n <= 1024 ? 20 : 4)) / 1e9;
  T.dispose([ga, gb]);
  let cpu: number | null = null;
  if (n <= 1024) {
    T.setBackend('wasm');
    const [ca, cb] = [T.tensor(Float32Array.from(a), { shape: [n, n] }), T.tensor(Float32Array.from(b), { shape: [n, n] })];
    cpu = (2 * n ** 3) / (await time(() => T.matmul(ca, cb), n <= 512 ? 10 : 2, 3)) / 1e9;
    T.dispose([ca, cb]);
  }
  matmul[`${n}³`] = { webgpu: gpu, wasm: cpu };
  console.log(`matmul ${n}³: webgpu ${gpu.toFixed(1)} GFLOP/s${cpu === null ? '' : `, wasm (one thread) ${cpu.toFixed(1)}`}`);
}
report.matmulGflops = matmul;

/** Steps per second of the reference recipe (MLP 3→W→W→W→2 SELU, batch 256, Adam) over `seconds` after 20 warm-up steps. */
async function stepsPerSecond(backend: string, width: number, seconds: number): Promise<number> {
  T.setBackend(backend);
  const trainer = new F.Trainer({ hidden: [width, width, width], seed: 0, steps: 1e9 });
  for (let i = 0; i < 20; i++) await trainer.trainStepAsync();
  const start = performance.now();
  let steps = 0;
  while (performance.now() - start < seconds * 1000) {
    await trainer.trainStepAsync();
    steps++;
  }
  return steps / ((performance.now() - start) / 1000);
}
const training: Record<string, { webgpu: number; wasm: number }> = {};
for (const width of [64, 256, 1024]) {
  const row = { webgpu: await stepsPerSecond('webgpu', width, 4), wasm: await stepsPerSecond('wasm', width, 3) };
  training[`W=${width}`] = row;
  console.log(`training step W = ${width}: webgpu ${row.webgpu.toFixed(0)} steps/s, wasm (one thread) ${row.wasm.toFixed(0)} steps/s`);
}
report.trainingStepsPerSecond = training;
if (outPath) writeFileSync(outPath, `${JSON.stringify(report, null, 2)}\n`);
process.exit(failed.length === 0 ? 0 : 1);
