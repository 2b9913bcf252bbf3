// PyTorch CPU as a benchmark peer (`bench --peers torch`): Debian's python3-torch (installed with apt when asked and
// run as root), serving the same training steps as Rill's in a Python process (torch/mlp_step.py) for paired rounds.
// The initial weights go over as safetensors files in torchcfm's layout (exportTorchcfm), so both start equal.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as F from '@rill/flowmatch';

/** The steps both sides run: the reference recipe at W = 64 and 256, and the checkerboard recipe. */
export const TORCH_STEPS = {
  ref64: { hidden: [64, 64, 64], seed: 0 },
  ref256: { hidden: [256, 256, 256], seed: 0 },
  checker: { data: 'checkerboard', hidden: [128, 128, 128], activation: 'silu', batch: 512, sigma: 0, seed: 0 },
} as const satisfies Record<string, Partial<F.TrainConfig>>;
/** One of TORCH_STEPS. */
export type TorchStep = keyof typeof TORCH_STEPS;

/** Where Debian's BLAS alternative points: PyTorch's nn.Linear runs on it (the reference BLAS is ~10× slower than OpenBLAS). */
export function debianBlas(): string | null {
  try {
    return realpathSync('/etc/alternatives/libblas.so.3-x86_64-linux-gnu');
  } catch {
    return null;
  }
}

/**
 * A Python that imports torch: $RILL_PYTHON, python3 on the PATH, Debian's /usr/bin/python3. With `install` (and root),
 * apt installs what is missing: python3-torch, and OpenBLAS where Debian's BLAS is the reference one — Debian's torch
 * runs its matmuls on the system BLAS, and a peer on the reference BLAS would flatter Rill tenfold.
 */
export function findTorchPython(install: boolean): string | null {
  // torch.ones, not a bare `import torch`: run from benchmarks/, whose torch/ folder (the scripts) imports as an empty package
  const importsTorch = (c: string) => spawnSync(c, ['-c', 'import torch; torch.ones(1)'], { encoding: 'utf8' }).status === 0;
  const candidates = () => [process.env.RILL_PYTHON, 'python3', '/usr/bin/python3'].find((c) => c && importsTorch(c)) ?? null;
  const referenceBlas = () => (debianBlas() ?? '').includes('/blas/');
  const missing = [...(candidates() ? [] : ['python3-torch']), ...(referenceBlas() ? ['libopenblas0'] : [])];
  if (missing.length > 0 && install && process.getuid?.() === 0) {
    console.log(`PyTorch: installing ${missing.join(' ')} with apt …`);
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
    spawnSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } else if (missing.length > 0) console.log(`PyTorch: missing ${missing.join(' ')} (apt-get install ${missing.join(' ')}, as root)`);
  if (referenceBlas()) console.log('PyTorch: Debian\'s BLAS is the reference one here: its matmuls are ~10× slower than with OpenBLAS');
  return candidates();
}

/** A PyTorch process serving the steps on `threads` threads: `steps(name, k, w)` runs w untimed, then k, and answers their mean seconds. */
export interface TorchServer {
  /** PyTorch's version and thread count, as it reports them. */
  info: { torch: string; threads: number };
  /** The mean seconds of k steps of `name`, after w untimed ones (the turn's warm-up). */
  steps(name: TorchStep, k: number, w?: number): Promise<number>;
  /** Ends the process. */
  close(): void;
}

/** Writes each step's initial weights (Rill's, seed 0) as <name>.safetensors into a new temporary folder. */
export function writeInitialWeights(): string {
  const folder = mkdtempSync(join(tmpdir(), 'rill-torch-'));
  for (const [name, config] of Object.entries(TORCH_STEPS)) {
    using trainer = new F.Trainer(config);
    writeFileSync(join(folder, `${name}.safetensors`), F.exportTorchcfm(trainer.checkpoint()));
  }
  return folder;
}

/**
 * Spawns a Python script that serves requests a line at a time (idle threads sleeping at once: see env below): `ask(line)` writes a request
 * (none: just the next answer) and resolves with the next JSON line it prints; a script that ends rejects with the last
 * line of its stderr.
 */
export function serveScript(python: string, args: string[]): { ask(line?: string): Promise<Record<string, unknown>>; close(): void } {
  // Idle threads must not spin into the next process's turn: OpenMP's (PASSIVE), and OpenBLAS's own pool, which after a
  // call spins 2^OPENBLAS_THREAD_TIMEOUT cycles (default 2²⁸, ~0.1 s: most of a Rill round) before it sleeps.
  const env = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OPENBLAS_THREAD_TIMEOUT: '4' };
  const child = spawn(python, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return {
    async ask(line) {
      if (line !== undefined) child.stdin!.write(`${line}\n`);
      const next = await lines.next();
      if (next.done) throw new Error(stderr.trim().split('\n').at(-1) ?? 'the script ended');
      return JSON.parse(next.value) as Record<string, unknown>;
    },
    close: () => child.stdin!.end(),
  };
}

/** Starts torch/mlp_step.py with `python` on `threads` threads over the weights in `folder`; null (and a line) if it fails. */
export async function startTorch(python: string, threads: number, folder: string): Promise<TorchServer | null> {
  const server = serveScript(python, [fileURLToPath(new URL('../torch/mlp_step.py', import.meta.url)), String(threads), folder]);
  try {
    const info = (await server.ask()) as unknown as TorchServer['info'];
    return { info, steps: async (name, k, w = 0) => (await server.ask(`${name} ${k} ${w}`)).seconds as number, close: server.close };
  } catch (e) {
    console.log(`PyTorch (${threads} threads): the script failed (${(e as Error).message})`);
    return null;
  }
}
