// Rill's benchmark tasks: matmul (square and the MLP's real shapes) for every CPU kernel variant and the public op,
// activations (GB/s), elementwise and reductions, and the reference training step.
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';
import * as I from '@rill/tensor/internals';
import type { Task } from './timing.js';
import { recipeLabel, type StepRecipe } from './peers.js';

export const SQUARE = [64, 128, 256, 512, 1024];
/** The MLP's matmuls: (B×3)·(3×W), (B×W)·(W×W), (B×W)·(W×2). */
export const mlpShapes = (quick: boolean) =>
  (quick ? [[256, 64]] : [[256, 64], [256, 256], [1024, 64], [1024, 256]]).flatMap(([b, w]) => [
    [b, 3, w, `(${b}×3)·(3×${w})`],
    [b, w, w, `(${b}×${w})·(${w}×${w})`],
    [b, w, 2, `(${b}×${w})·(${w}×2)`],
  ]) as [number, number, number, string][];

/** Square sizes and MLP shapes as [m, k, n, label]. */
export function matmulShapes(quick: boolean): [number, number, number, string][] {
  const sizes = quick ? [64, 256] : SQUARE;
  return [...sizes.map((s) => [s, s, s, `${s}³`] as [number, number, number, string]), ...mlpShapes(quick)];
}

/**
 * The CPU backends measured: `js` (plain TypeScript), `js-threads` (its large matmuls on both cores), `wasm-1t`
 * (the WebAssembly SIMD kernels on one thread: a wasm backend without workers, registered by run.ts) and `wasm`
 * (the same kernels, large matmuls on both cores once initThreads() has run).
 */
export const CPU_BACKENDS = ['js', 'js-threads', 'wasm-1t', 'wasm'] as const;
export type CpuBackend = (typeof CPU_BACKENDS)[number];
const LABEL: Record<CpuBackend, string> = { js: 'js', 'js-threads': 'js-threads', 'wasm-1t': 'wasm, one thread', wasm: 'wasm, both cores' };

/** Runs fn with `backend` active (tensors made inside live there, so a task never copies between backends). */
function on<R>(backend: string, fn: () => R): R {
  const before = T.getBackend().name;
  T.setBackend(backend);
  try {
    return fn();
  } finally {
    T.setBackend(before);
  }
}

export function rillMatmulTasks(quick: boolean): Task[] {
  const tasks: Task[] = [];
  for (const [m, k, n, label] of matmulShapes(quick)) {
    const g = new T.Generator(1);
    const [a0, b0] = [T.rand([m, k], { generator: g }), T.rand([k, n], { generator: g })];
    const c = new Float32Array(m * n);
    const work = (2 * m * n * k) / 1e9;
    for (const kernel of [I.matmulReference, I.matmulBlocked]) {
      if (kernel === I.matmulReference && m * n * k > 2 ** 27) continue; // the triple loop at 1024³ takes seconds
      const [a, b] = [a0.data.slice(), b0.data.slice()];
      tasks.push({ name: `rill ${kernel.name} ${label}`, group: `rill ${kernel.name}`, unit: 'GFLOP/s', work, fn: () => kernel({ a, b, c, m, n, k, transA: false, transB: false }) });
    }
    for (const backend of CPU_BACKENDS) {
      const [a, b] = on(backend, () => [T.clone(a0), T.clone(b0)]);
      const fn = () => on(backend, () => T.matmul(a, b).dispose());
      tasks.push({ name: `rill matmul op (${LABEL[backend]}) ${label}`, group: `rill ${backend}`, unit: 'GFLOP/s', work, fn });
    }
  }
  return tasks;
}

/** Activations, a broadcasting add and reductions on 2¹⁸ floats: bytes read + written per second. */
export function rillElementwiseTasks(): Task[] {
  const n = 1 << 18;
  const gb = (bytes: number) => bytes / 1e9;
  return (['js', 'wasm-1t'] as const).flatMap((backend) => {
    const [x, row] = on(backend, () => [T.randn([512, 512], { generator: new T.Generator(2) }), T.randn([512], { generator: new T.Generator(3) })]);
    const task = (name: string, bytes: number, fn: () => T.Tensor): Task => ({
      name: `rill ${name} (${LABEL[backend]})`,
      group: `rill ${backend}`,
      unit: 'GB/s',
      work: gb(bytes),
      fn: () => on(backend, () => fn().dispose()),
    });
    return [
      ...(['selu', 'silu', 'gelu', 'tanh', 'relu'] as const).map((op) => task(`${op} 2¹⁸`, 8 * n, () => T.unary(op, x))),
      task('seluGrad 2¹⁸', 16 * n, () => T.unaryGrad('selu', x, x, x)),
      task('add (512×512)+(512)', 8 * n, () => T.add(x, row)),
      task('mul 2¹⁸', 12 * n, () => T.mul(x, x)),
      task('sum axis 0 (512×512)', 4 * n, () => T.sum(x, 0)),
      task('sum all 2¹⁸', 4 * n, () => T.sum(x)),
    ];
  });
}

/** A recipe's training step: the reference one (moons, N(0, I), MLP 3→W→W→W→2 SELU, batch 256, Adam 1e-3, σ = 0.01) or the checkerboard one. */
export function rillTrainTask(recipe: StepRecipe, backend: CpuBackend): Task {
  const { width, batch, data, activation, sigma } = recipe;
  const trainer = on(backend, () => new F.Trainer({ hidden: [width, width, width], batch, data, activation, sigma, seed: 0 }));
  return {
    name: `rill training step ${recipeLabel(recipe)} (${LABEL[backend]})`,
    group: `rill ${backend}`,
    unit: 'steps/s',
    work: 1,
    fn: () => on(backend, () => trainer.trainStep()),
  };
}
