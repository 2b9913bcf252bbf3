// `node benchmarks/dist/conv.js [--quick] [--out FILE]`: conv2d at the U-Net's shapes and the U-Net's training step.
// Forward against TensorFlow.js's WebAssembly backend (XNNPACK, one thread; it has no filter-gradient kernel, so only
// the forward compares), on Rill's wasm backend on one thread and on both cores, as paired-round ratios; forward +
// backward and the U-Net step (c = 32, batch 128; three paired rounds, Rill then PyTorch) against PyTorch CPU when python3 has torch (2 threads,
// OMP_WAIT_POLICY=PASSIVE); GFLOP/s as direct-convolution FLOPs (2·N·Co·Ho·Wo·C·kH·kW), beside the 1024³ matmul peak
// measured on the same cores in the same run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import * as A from '@rill/autograd';
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';
import { initThreads } from '@rill/tensor/threads';
import { initPeers, PEER_VERSIONS } from './peers.js';
import { pairedRatio, type Task } from './timing.js';
import { serveScript } from './torch-peer.js';

const quick = process.argv.includes('--quick');
const outAt = process.argv.indexOf('--out');
T.registerBackend('wasm-1t', () => T.createWasmBackend(), -1);
await initThreads();
await initPeers();

/** The U-Net's 3 × 3 convolutions at c = 32 (a batch of 16 images; stride 2 where it halves the image). */
const SHAPES: [n: number, cin: number, size: number, cout: number, stride: number][] = [
  [16, 32, 28, 32, 1], // down0 / up0's second conv
  [16, 64, 28, 32, 1], // up0's first conv (after the skip's concat)
  [16, 32, 28, 64, 2], // pool0
  [16, 64, 14, 64, 1], // down1
  [16, 128, 7, 128, 1], // mid
];
const flops = ([n, cin, size, cout, stride]: (typeof SHAPES)[number]) => 2 * n * cout * (size / stride) ** 2 * cin * 9;
const label = (s: (typeof SHAPES)[number]) => `${s[0]}×${s[1]}×${s[2]}² → ${s[3]}${s[4] === 2 ? ' (stride 2)' : ''}`;

/** Rill's conv2d forward (with bias) on `backend`, read back as tfjs's is. */
function rillConv(shape: (typeof SHAPES)[number], backend: string, backward = false): Task {
  const [n, cin, size, cout, stride] = shape;
  T.setBackend(backend);
  const g = new T.Generator(1);
  const [x, w, b] = [T.keep(T.randn([n, cin, size, size], { generator: g })), T.keep(T.randn([cout, cin, 3, 3], { generator: g })), T.keep(T.randn([cout], { generator: g }))];
  return {
    name: `rill ${backend} ${label(shape)}${backward ? ' fwd+bwd' : ''}`,
    group: backend,
    unit: 'GFLOP/s',
    work: (flops(shape) * (backward ? 3 : 1)) / 1e9,
    fn: () => {
      T.setBackend(backend);
      T.tidy(() => {
        if (!backward) return void T.conv2d(x, w, b, { stride, padding: 1 }).data;
        const [vx, vw] = [new A.Var(x, { requiresGrad: true }), new A.Var(w, { requiresGrad: true })];
        A.sum(A.conv2d(vx, vw, b, { stride, padding: 1 })).backward();
        void vx.grad!.data;
      });
    },
  };
}

/** tfjs-backend-wasm's conv2d (NHWC, its native layout; filters [kH, kW, C, Co]) with bias, read back. */
function tfjsConv(shape: (typeof SHAPES)[number]): Task {
  const [n, cin, size, cout, stride] = shape;
  tf.setBackend('wasm');
  const x = tf.randomNormal([n, size, size, cin]) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, cin, cout]) as tf.Tensor4D;
  const b = tf.randomNormal([cout]) as tf.Tensor1D;
  return {
    name: `tfjs-backend-wasm ${label(shape)}`,
    group: 'tfjs-backend-wasm',
    unit: 'GFLOP/s',
    work: flops(shape) / 1e9,
    fn: () => {
      const y = tf.tidy(() => tf.add(tf.conv2d(x, w, stride, 'same'), b));
      y.dataSync();
      y.dispose();
    },
  };
}

/** One U-Net training step (c = 32, batch 128, conditional, Adam 1e-3) on Rill's default backend. */
function unetStep(channels: number, batch: number): Task {
  T.setBackend('wasm');
  const g = new T.Generator(2);
  const model = new F.UNet({ channels, classes: 10 }, { generator: g });
  const opt = new A.Adam(model.parameters(), { lr: 1e-3 });
  const z = T.keep(T.randn([batch, 784], { generator: g }));
  const y = Int32Array.from({ length: batch }, (_, i) => i % 11);
  return {
    name: `rill U-Net step c=${channels} B=${batch}`,
    group: 'wasm',
    unit: 'steps/s',
    work: 1,
    fn: () => {
      T.tidy(() => {
        const x0 = T.randn([batch, 784], { generator: g });
        const t = T.rand([batch, 1], { generator: g });
        const xt = T.add(T.mul(t, z), T.mul(T.sub(1, t), x0));
        A.mse(model.forward(xt, t, y), T.sub(z, x0)).backward();
      });
      opt.step();
      opt.zeroGrad();
    },
  };
}

const rate = (t: Task, seconds: number) => {
  t.fn();
  let calls = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) (t.fn(), calls++);
  return (calls * t.work) / ((performance.now() - start) / 1000);
};

const rounds = quick ? 3 : 7;
const roundMs = quick ? 300 : 1500;
// the peak: 1024³ on both cores, the same run
T.setBackend('wasm');
const [ma, mb] = [T.keep(T.rand([1024, 1024])), T.keep(T.rand([1024, 1024]))];
const peak = rate({ name: 'matmul 1024³', group: 'wasm', unit: 'GFLOP/s', work: 2 * 1024 ** 3 / 1e9, fn: () => T.tidy(() => void T.matmul(ma, mb).data) }, quick ? 1 : 4);
console.log(`matmul 1024³ on both cores: ${peak.toFixed(1)} GFLOP/s (the peak the efficiencies below divide by)\n`);

// The U-Net step first, on a fresh heap (its activations for backward take ~1.1 GB of the 2 GiB wasm memory).
const stepFlops = 3 * 128 * unetForwardFlops(32); // forward, input gradient, weight gradient: 3 × the forward, 128 images
const step = unetStep(32, 128);

// PyTorch CPU, when python3 has torch (Debian's python3-torch)
type TorchRun = { torch: string; threads: number; conv: { shape: number[]; forward_s: number; forward_backward_s: number }[]; step: { seconds: number; params: number } };
const script = fileURLToPath(new URL('../torch/unet_step.py', import.meta.url));
// the first Python that imports torch: $RILL_PYTHON, python3 on the PATH, Debian's (where apt puts python3-torch)
const py = [process.env.RILL_PYTHON, 'python3', '/usr/bin/python3'].find((c) => c && spawnSync(c, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
if (!py) console.log('PyTorch: skipped (no python3 imports torch; apt-get install python3-torch)');
/**
 * The PyTorch script serving steps (--serve): it first runs the conv shapes, then answers each request "k" with the
 * mean time of k steps; null (with a line saying why) where it cannot run.
 */
async function torchServer(): Promise<{ info: TorchRun; steps(k: number): Promise<number>; close(): void } | null> {
  if (!py) return null;
  const server = serveScript(py, [script, '2', JSON.stringify(SHAPES), '--serve', ...(quick ? ['--quick'] : [])]);
  try {
    const info = (await server.ask()) as unknown as TorchRun;
    return { info, steps: async (k) => (await server.ask(String(k))).seconds as number, close: server.close };
  } catch (e) {
    console.log(`PyTorch: the script failed (${(e as Error).message})`);
    return null;
  }
}

// The step in paired rounds, a few Rill steps then a few PyTorch steps, alternating: a shared host's speed drifts by
// tens of per cent over minutes, and each pair sees it in the same state. The ratio is the median round's, the spread
// the rounds' range.
const server = await torchServer();
const torch: TorchRun | null = server?.info ?? null;
const stepRounds: { rillSecondsPerStep: number; torchSecondsPerStep: number | null; ratio: number | null }[] = [];
step.fn();
for (let round = 0; round < (quick ? 2 : 8); round++) {
  const start = performance.now();
  for (let i = 0; i < 2; i++) step.fn();
  const rill = (performance.now() - start) / 2000;
  const peer = server ? await server.steps(3) : null;
  stepRounds.push({ rillSecondsPerStep: rill, torchSecondsPerStep: peer, ratio: peer ? peer / rill : null });
  console.log(`U-Net step c = 32, batch 128, round ${round + 1}: rill ${rill.toFixed(2)} s/step (${(stepFlops / rill / 1e9).toFixed(1)} GFLOP/s direct-convolution-equivalent, ${((100 * stepFlops) / rill / 1e9 / peak).toFixed(0)} % of the matmul peak)${peer ? `, PyTorch ${peer.toFixed(2)} s/step → ${(peer / rill).toFixed(2)}×` : ''}`);
}
server?.close();
const byRatio = [...stepRounds].sort((a, b) => (a.ratio ?? 1 / a.rillSecondsPerStep) - (b.ratio ?? 1 / b.rillSecondsPerStep));
const median = byRatio[byRatio.length >> 1];

const forward = SHAPES.map((shape) => {
  const peer = tfjsConv(shape);
  const one = pairedRatio(rillConv(shape, 'wasm-1t'), peer, rounds, roundMs);
  const both = pairedRatio(rillConv(shape, 'wasm'), peer, rounds, roundMs);
  const row = { shape: label(shape), tfjsWasm: one.peer, rillOneThread: one.rill, rillBothCores: both.rill, ratioOneThread: one.ratio, ratioBothCores: both.ratio, efficiency: both.rill / peak };
  console.log(`conv2d ${row.shape.padEnd(28)} tfjs-wasm ${one.peer.toFixed(1).padStart(5)}  rill 1 thread ${one.rill.toFixed(1).padStart(5)} (${one.ratio.toFixed(2)}×)  both cores ${both.rill.toFixed(1).padStart(5)} (${both.ratio.toFixed(2)}×) GFLOP/s, ${(100 * row.efficiency).toFixed(0)} % of peak`);
  return row;
});

const fwdBwd = SHAPES.map((shape) => ({ shape: label(shape), rillBothCores: rate(rillConv(shape, 'wasm', true), quick ? 0.5 : 2) }));
for (const r of fwdBwd) console.log(`conv2d fwd+bwd ${r.shape.padEnd(28)} rill both cores ${r.rillBothCores.toFixed(1)} GFLOP/s`);

/** Direct-convolution FLOPs of the U-Net's forward pass on one 28 × 28 image (its convolutions; the rest is O(pixels)). */
function unetForwardFlops(c: number): number {
  const conv = (cin: number, cout: number, side: number, k = 3) => 2 * cout * side * side * cin * k * k;
  const res = (cin: number, cout: number, side: number) => conv(cin, cout, side) + conv(cout, cout, side) + (cin === cout ? 0 : conv(cin, cout, side, 1));
  return conv(1, c, 28) + res(c, c, 28) + conv(c, 2 * c, 14) + res(2 * c, 2 * c, 14) + conv(2 * c, 4 * c, 7) + res(4 * c, 4 * c, 7)
    + conv(4 * c, 2 * c, 14) + res(4 * c, 2 * c, 14) + conv(2 * c, c, 28) + res(2 * c, c, 28) + conv(c, 1, 28);
}
if (torch) {
  console.log(`PyTorch ${torch.torch}, ${torch.threads} threads:`);
  torch.conv.forEach((c, i) => {
    const f = flops(SHAPES[i]);
    console.log(`  conv2d ${fwdBwd[i].shape.padEnd(28)} fwd ${(f / c.forward_s / 1e9).toFixed(1)}  fwd+bwd ${((3 * f) / c.forward_backward_s / 1e9).toFixed(1)} GFLOP/s (rill fwd+bwd ${(fwdBwd[i].rillBothCores / ((3 * f) / c.forward_backward_s / 1e9)).toFixed(2)}×)`);
  });
  console.log(`  U-Net step: rill / PyTorch = ${median.ratio!.toFixed(2)}× (median of ${stepRounds.length} rounds; ${byRatio[0].ratio!.toFixed(2)}–${byRatio.at(-1)!.ratio!.toFixed(2)}×)`);
}

const result = {
  date: new Date().toISOString(),
  cpu: cpus()[0]?.model,
  cores: availableParallelism(),
  node: process.version,
  peers: { ...PEER_VERSIONS, torch: torch?.torch ?? null },
  quick,
  peakGflops: peak,
  forward,
  forwardBackward: fwdBwd,
  unetStep: { channels: 32, batch: 128, ...median, rounds: stepRounds, directEquivalentGflops: stepFlops / median.rillSecondsPerStep / 1e9 },
  torch,
};
if (outAt > 0) {
  const out = process.argv[outAt + 1];
  mkdirSync(fileURLToPath(new URL('.', `file://${out.startsWith('/') ? out : `${process.cwd()}/${out}`}`)), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`→ ${out}`);
}
process.exit(0);
