// The training steps against PyTorch CPU (`bench --peers torch`): paired rounds per step and thread count, the
// efficiency of each step (its FLOPs over the run's 1024³ matmul peak) and where Rill's step time goes (profile.ts).
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';
import { CATEGORIES, profileStep, type Category } from './profile.js';
import { fileURLToPath } from 'node:url';
import { TORCH_STEPS, debianBlas, findTorchPython, serveScript, startTorch, writeInitialWeights, type TorchServer, type TorchStep } from './torch-peer.js';

/** One step's comparison: Rill's and PyTorch's seconds per step (PyTorch's best thread count), their ratio and spread. */
export interface TorchComparison {
  step: TorchStep;
  /** Multiply-adds × 2 of the step's matmuls: forward, and both gradients but the first layer's input gradient. */
  flops: number;
  rillMs: number;
  torchMs: number | null;
  torchThreads: number | null;
  /** PyTorch's time / Rill's: above 1, Rill is faster. The median round's; the range of the rounds beside it. */
  ratio: number | null;
  range: [number, number] | null;
  /** The step's FLOPs per second over the peak (GFLOP/s of 1024³ on both cores, this run). */
  efficiency: number;
  /** Rill with relaxed SIMD (a child Node with --experimental-wasm-relaxed-simd) in the same rounds; null where unavailable. */
  relaxedMs: number | null;
  /** PyTorch's time / relaxed Rill's, the median round's. */
  relaxedRatio: number | null;
}

/**
 * Steps for about three seconds (at least 20) before any timing: kernels compiled, blocks in the heap's lists, and
 * V8's tiering done, in the main thread and in the worker — functions start on the baseline compilers and move to the
 * optimizing ones only once hot. Timed in rounds of 400 steps at W = 64 on two threads, the step took 2.0, 1.0, 0.9,
 * 0.9, 0.7 … ms and settled at ~0.48 only after ~4000 steps (on one thread, after ~800); a one-second warm-up left
 * the first rounds in that slope.
 */
export function warm(trainer: F.Trainer): void {
  const until = performance.now() + 3000;
  for (let i = 0; i < 20 || performance.now() < until; i++) trainer.trainStep();
}

/** FLOPs of one step of an MLP 3-W-W-W-2 at batch B (see TorchComparison.flops). */
export function stepFlops(width: number, batch: number): number {
  const layers = [[3, width], [width, width], [width, width], [width, 2]];
  const forward = layers.reduce((s, [i, o]) => s + 2 * batch * i * o, 0);
  return 3 * forward - 2 * batch * 3 * width; // weight and input gradients: 2× forward, less layer 1's input gradient
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Runs the comparison; `peak` in GFLOP/s. Returns the rows, and the profiles of the reference steps. */
export async function torchSection(quick: boolean, peak: number, install: boolean) {
  const python = findTorchPython(install);
  const folder = writeInitialWeights();
  const servers: [number, TorchServer][] = [];
  if (python) {
    for (const threads of [1, 2]) {
      const s = await startTorch(python, threads, folder);
      if (s) servers.push([threads, s]);
    }
  } else console.log('PyTorch: skipped (no python3 imports torch; `bench --peers torch` as root installs python3-torch)');
  const version = servers[0]?.[1].info.torch ?? null;
  if (version) console.log(`PyTorch ${version}, 1 and 2 threads (OMP_WAIT_POLICY=PASSIVE), BLAS ${debianBlas() ?? 'unknown'}`);
  T.setBackend('wasm');
  const relaxed = await startRelaxed();
  const rows: TorchComparison[] = [];
  for (const [name, config] of Object.entries(TORCH_STEPS) as [TorchStep, (typeof TORCH_STEPS)[TorchStep]][]) {
    using trainer = new F.Trainer(config);
    warm(trainer);
    const t0 = performance.now();
    trainer.trainStep();
    const k = Math.max(3, Math.ceil(250 / (performance.now() - t0))); // steps per turn: ~0.25 s of Rill
    // Every turn, every peer's, starts with w untimed steps: after the others' turns a peer's caches are cold and
    // Rill's worker asleep, and its first ~100 steps at W = 64 ran 10–20 % slower than the rest of the turn.
    const w = Math.ceil(k / 5);
    const rounds = quick ? 3 : 9;
    const rill: number[] = [];
    const peers = new Map<number, number[]>(servers.map(([threads]) => [threads, []]));
    const rillRelaxed: number[] = [];
    if (relaxed) await relaxed.steps(name, 1, 0); // its trainer made and warmed
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < w; i++) trainer.trainStep();
      const start = performance.now();
      for (let i = 0; i < k; i++) trainer.trainStep();
      rill.push((performance.now() - start) / k);
      if (relaxed) rillRelaxed.push((1000 * (await relaxed.steps(name, k, w))) / k);
      for (const [threads, s] of servers) peers.get(threads)!.push(1000 * (await s.steps(name, k, w)));
    }
    // PyTorch at its best thread count (by median); the ratio per round against that thread count's turn
    const best = [...peers].sort((a, b) => median(a[1]) - median(b[1]))[0];
    const ratios = best ? best[1].map((ms, i) => ms / rill[i]) : [];
    const width = config.hidden[0];
    const batch = 'batch' in config ? config.batch : 256;
    const flops = stepFlops(width, batch);
    rows.push({
      step: name,
      flops,
      rillMs: median(rill),
      torchMs: best ? median(best[1]) : null,
      torchThreads: best ? best[0] : null,
      ratio: best ? median(ratios) : null,
      range: best ? [Math.min(...ratios), Math.max(...ratios)] : null,
      efficiency: flops / (median(rill) / 1000) / 1e9 / peak,
      relaxedMs: relaxed ? median(rillRelaxed) : null,
      relaxedRatio: relaxed && best ? median(best[1].map((ms, i) => ms / rillRelaxed[i])) : null,
    });
  }
  for (const [, s] of servers) s.close();
  relaxed?.close();
  console.log('\ntraining steps vs PyTorch CPU (paired rounds; efficiency = the step\'s FLOPs per second / the 1024³ matmul peak)');
  for (const r of rows) {
    const vs = r.ratio === null ? 'PyTorch skipped' : `PyTorch ${r.torchMs!.toFixed(2)} ms (${r.torchThreads} thread${r.torchThreads === 1 ? '' : 's'}) → ${r.ratio.toFixed(2)}× (${r.range![0].toFixed(2)}–${r.range![1].toFixed(2)})`;
    console.log(`  ${r.step.padEnd(8)} rill ${r.rillMs.toFixed(2).padStart(6)} ms/step, ${(r.flops / 1e6).toFixed(1).padStart(6)} MFLOP, efficiency ${(100 * r.efficiency).toFixed(1).padStart(5)} %;  ${vs}`);
    if (r.relaxedMs !== null) console.log(`  ${''.padEnd(8)} relaxed SIMD ${r.relaxedMs.toFixed(2)} ms/step${r.relaxedRatio === null ? '' : ` → ${r.relaxedRatio.toFixed(2)}× PyTorch`}`);
  }

  // The profile: the reference step at W = 64 and 256 on the default CPU backend
  const profiles: Record<string, Record<Category, number>> = {};
  for (const name of ['ref64', 'ref256'] as const) {
    using trainer = new F.Trainer(TORCH_STEPS[name]);
    const g = new T.Generator(9);
    const data = () => {
      F.sampleDataset('moons', 256, { generator: g });
      T.randn([256, 2], { generator: g });
      T.rand([256, 1], { generator: g });
      T.randn([256, 2], { std: 0.01, generator: g });
    };
    profiles[name] = profileStep(() => trainer.trainStep(), data, quick ? 50 : name === 'ref64' ? 400 : 100);
  }
  console.log('\nwhere the reference step\'s time goes (ms per step, wasm on both cores)');
  console.log(`  ${'category'.padEnd(32)} ${'W = 64'.padStart(8)} ${'W = 256'.padStart(8)}`);
  for (const c of CATEGORIES) console.log(`  ${c.padEnd(32)} ${profiles.ref64[c].toFixed(3).padStart(8)} ${profiles.ref256[c].toFixed(3).padStart(8)}`);
  const total = (p: Record<Category, number>) => CATEGORIES.reduce((s, c) => s + p[c], 0);
  console.log(`  ${'total'.padEnd(32)} ${total(profiles.ref64).toFixed(3).padStart(8)} ${total(profiles.ref256).toFixed(3).padStart(8)}`);
  return { torch: version, blas: debianBlas(), comparisons: rows, profiles };
}

/**
 * Rill with relaxed SIMD in a child Node (--experimental-wasm-relaxed-simd), serving steps for the paired rounds; null
 * (and a line) where this Node has no such flag or the child runs the baseline kernels anyway.
 */
async function startRelaxed(): Promise<{ steps(name: TorchStep, k: number, w: number): Promise<number>; close(): void } | null> {
  const server = serveScript(process.execPath, ['--experimental-wasm-relaxed-simd', fileURLToPath(new URL('./relaxed-server.js', import.meta.url))]);
  try {
    const info = await server.ask();
    if (info.variant !== 'relaxed-simd') throw new Error(`the child runs ${String(info.variant)}`);
    console.log(`relaxed SIMD: a child Node with --experimental-wasm-relaxed-simd runs the same steps (${String(info.threads)} threads) in the same rounds`);
    return { steps: async (name, k, w) => (await server.ask(`${name} ${k} ${w}`)).seconds as number, close: server.close };
  } catch (e) {
    console.log(`relaxed SIMD: skipped (${(e as Error).message})`);
    server.close();
    return null;
  }
}
