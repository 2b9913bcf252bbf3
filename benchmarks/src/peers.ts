// The peer in the same run: TensorFlow.js 4.22 on tfjs-backend-cpu and tfjs-backend-wasm (XNNPACK, SIMD), doing the
// same matmuls and the same training step as Rill (MLP 3→W→W→W→2 SELU, batch 256, Adam 1e-3, I-CFM loss, σ = 0.01).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs'; // the union package: core, its gradients and tfjs-backend-cpu
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';
import type { Task } from './timing.js';

const require = createRequire(import.meta.url);
export const PEER_VERSIONS = {
  '@tensorflow/tfjs-core': require('@tensorflow/tfjs-core/package.json').version as string,
  '@tensorflow/tfjs': require('@tensorflow/tfjs/package.json').version as string,
  '@tensorflow/tfjs-backend-wasm': require('@tensorflow/tfjs-backend-wasm/package.json').version as string,
};
export const PEERS = ['tfjs-backend-cpu', 'tfjs-backend-wasm'] as const;
const TF_BACKEND = { 'tfjs-backend-cpu': 'cpu', 'tfjs-backend-wasm': 'wasm' } as const;

/** Makes tfjs ready: the wasm backend loads its .wasm files from the installed package (single-threaded SIMD build). */
export async function initPeers(): Promise<void> {
  setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}/`);
  for (const b of Object.values(TF_BACKEND)) {
    await tf.setBackend(b);
    await tf.ready();
  }
}

/** The peer's C = A·B of the given shape, as a timed task (the result is read back, as Rill's is). */
export function peerMatmul(peer: (typeof PEERS)[number], m: number, k: number, n: number, label: string): Task {
  const g = new T.Generator(1);
  const a = T.rand([m, k], { generator: g }).data;
  const b = T.rand([k, n], { generator: g }).data;
  let A: tf.Tensor2D | null = null;
  let B: tf.Tensor2D | null = null;
  return {
    name: `${peer} matmul ${label}`,
    group: peer,
    unit: 'GFLOP/s',
    work: (2 * m * n * k) / 1e9,
    fn: () => {
      if (tf.getBackend() !== TF_BACKEND[peer]) tf.setBackend(TF_BACKEND[peer]);
      A ??= tf.tensor2d(a as Float32Array, [m, k]);
      B ??= tf.tensor2d(b as Float32Array, [k, n]);
      const c = tf.matMul(A, B);
      c.dataSync();
      c.dispose();
    },
  };
}

/** A training recipe both sides run: the reference one (moons, SELU, batch 256, σ = 0.01) or the checkerboard one. */
export interface StepRecipe {
  width: number;
  batch: number;
  data: 'moons' | 'checkerboard';
  activation: 'selu' | 'silu';
  sigma: number;
}
/** The reference recipe at width W. */
export const referenceRecipe = (width: number): StepRecipe => ({ width, batch: 256, data: 'moons', activation: 'selu', sigma: 0.01 });
/** The checkerboard recipe: MLP 3-128-128-128-2 SiLU, batch 512, σ = 0. */
export const CHECKERBOARD: StepRecipe = { width: 128, batch: 512, data: 'checkerboard', activation: 'silu', sigma: 0 };

/** A recipe's training step in tfjs: same MLP, init range, batch, optimizer and loss as Rill's Trainer. */
export function peerTrainStep(peer: (typeof PEERS)[number], recipe: StepRecipe): Task {
  tf.setBackend(TF_BACKEND[peer]);
  const { width, batch, data, activation, sigma } = recipe;
  const g = new T.Generator(3);
  const widths = [3, width, width, width, 2];
  const params = widths.slice(1).map((out, i) => {
    const bound = 1 / Math.sqrt(widths[i]);
    return {
      w: tf.variable(tf.tensor2d(T.rand([widths[i], out], { low: -bound, high: bound, generator: g }).data as Float32Array, [widths[i], out])),
      b: tf.variable(tf.tensor1d(T.rand([out], { low: -bound, high: bound, generator: g }).data as Float32Array)),
    };
  });
  const optimizer = tf.train.adam(1e-3);
  return {
    name: `${peer} training step ${recipeLabel(recipe)}`,
    group: peer,
    unit: 'steps/s',
    work: 1,
    fn: () => {
      if (tf.getBackend() !== TF_BACKEND[peer]) tf.setBackend(TF_BACKEND[peer]);
      // Same data pipeline as Rill's step: the data, N(0, I), t ~ U[0, 1), σ-noise — drawn on the host, then uploaded.
      const z = F.sampleDataset(data, batch, { generator: g }).data as Float32Array;
      const x0 = T.randn([batch, 2], { generator: g }).data as Float32Array;
      const t = T.rand([batch, 1], { generator: g }).data as Float32Array;
      const eps = sigma > 0 ? (T.randn([batch, 2], { std: sigma, generator: g }).data as Float32Array) : new Float32Array(2 * batch);
      tf.tidy(() => {
        const Z = tf.tensor2d(z, [batch, 2]);
        const X0 = tf.tensor2d(x0, [batch, 2]);
        const Tt = tf.tensor2d(t, [batch, 1]);
        const xt = tf.add(tf.add(tf.mul(Tt, Z), tf.mul(tf.sub(tf.scalar(1), Tt), X0)), tf.tensor2d(eps, [batch, 2]));
        const ut = tf.sub(Z, X0);
        const loss = optimizer.minimize(() => {
          let h: tf.Tensor = tf.concat([xt, Tt], 1);
          params.forEach((p, i) => {
            h = tf.add(tf.matMul(h as tf.Tensor2D, p.w), p.b);
            if (i < params.length - 1) h = activation === 'selu' ? tf.selu(h) : tf.mul(h, tf.sigmoid(h));
          });
          return tf.mean(tf.square(tf.sub(h, ut))) as tf.Scalar;
        }, true);
        loss!.dataSync();
      });
    },
  };
}

/** How a recipe's rows are named: `W=64 B=256` for the reference recipe, `checkerboard W=128 B=512 SiLU` for that one. */
export function recipeLabel(r: StepRecipe): string {
  return r.data === 'moons' ? `W=${r.width} B=${r.batch}` : `${r.data} W=${r.width} B=${r.batch} ${r.activation === 'silu' ? 'SiLU' : 'SELU'}`;
}
