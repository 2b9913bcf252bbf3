// Rill's benchmark tasks: matmul (square and the MLP's real shapes) for every CPU kernel variant and the public op,
// activations (GB/s), elementwise and reductions, and the reference training step.
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';
import type { Task } from './timing.js';

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

export function rillMatmulTasks(quick: boolean): Task[] {
  const g = new T.Generator(1);
  const tasks: Task[] = [];
  for (const [m, k, n, label] of matmulShapes(quick)) {
    const a = T.rand([m, k], { generator: g });
    const b = T.rand([k, n], { generator: g });
    const c = new Float32Array(m * n);
    const work = (2 * m * n * k) / 1e9;
    for (const kernel of [T.matmulReference, T.matmulBlocked]) {
      if (kernel === T.matmulReference && m * n * k > 2 ** 27) continue; // the triple loop at 1024³ takes seconds
      tasks.push({ name: `rill ${kernel.name} ${label}`, group: `rill ${kernel.name}`, unit: 'GFLOP/s', work, fn: () => kernel({ a: a.data, b: b.data, c, m, n, k, transA: false, transB: false }) });
    }
    tasks.push({ name: `rill matmul op (js) ${label}`, group: 'rill js', unit: 'GFLOP/s', work, fn: () => T.matmul(a, b).dispose() });
    tasks.push({
      name: `rill matmul op (js-threads) ${label}`,
      group: 'rill js-threads',
      unit: 'GFLOP/s',
      work,
      fn: () => {
        T.setBackend('js-threads');
        T.matmul(a, b).dispose();
        T.setBackend('js');
      },
    });
  }
  return tasks;
}

/** Activations, a broadcasting add and reductions on 2¹⁸ floats: bytes read + written per second. */
export function rillElementwiseTasks(): Task[] {
  const n = 1 << 18;
  const x = T.randn([512, 512], { generator: new T.Generator(2) });
  const row = T.randn([512], { generator: new T.Generator(3) });
  const gb = (bytes: number) => bytes / 1e9;
  const tasks: Task[] = ['selu', 'silu', 'gelu', 'tanh', 'relu'].map((op) => ({
    name: `rill ${op} 2¹⁸`, group: 'rill js', unit: 'GB/s', work: gb(8 * n), fn: () => T.unary(op as T.UnaryOp, x).dispose(),
  }));
  tasks.push({ name: 'rill seluGrad 2¹⁸', group: 'rill js', unit: 'GB/s', work: gb(16 * n), fn: () => T.unaryGrad('selu', x, x, x).dispose() });
  tasks.push({ name: 'rill add (512×512)+(512)', group: 'rill js', unit: 'GB/s', work: gb(8 * n), fn: () => T.add(x, row).dispose() });
  tasks.push({ name: 'rill mul 2¹⁸', group: 'rill js', unit: 'GB/s', work: gb(12 * n), fn: () => T.mul(x, x).dispose() });
  tasks.push({ name: 'rill sum axis 0 (512×512)', group: 'rill js', unit: 'GB/s', work: gb(4 * n), fn: () => T.sum(x, 0).dispose() });
  tasks.push({ name: 'rill sum all 2¹⁸', group: 'rill js', unit: 'GB/s', work: gb(4 * n), fn: () => T.sum(x).dispose() });
  return tasks;
}

/** The reference recipe's training step (moons, N(0, I), MLP 3→W→W→W→2 SELU, batch 256, Adam 1e-3, σ = 0.01). */
export function rillTrainTask(width: number, backend: 'js' | 'js-threads'): Task {
  const trainer = new F.Trainer({ hidden: [width, width, width], seed: 0 });
  return {
    name: `rill ${backend} training step W=${width} B=256`,
    group: `rill ${backend}`,
    unit: 'steps/s',
    work: 1,
    fn: () => {
      T.setBackend(backend);
      trainer.trainStep();
      T.setBackend('js');
    },
  };
}
