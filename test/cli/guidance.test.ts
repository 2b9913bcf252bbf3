// `rill train --cond class` and `rill sample --class/--guidance`, `--solver euler-maruyama`: the files they write and
// the mistakes they refuse.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import * as F from '@rill/flowmatch';
import { decodePng, rill } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'rill-guidance-'));
const GMM = [[-2, 0], [2, 0], [0, 2 * Math.sqrt(3)]];

beforeAll(() => {
  const r = rill(dir, 'train', '--data', 'gmm', '--cond', 'class', '--steps', '1500', '--out', 'c.rill');
  expect(r.status, r.stderr).toBe(0);
  const u = rill(dir, 'train', '--data', 'gmm', '--steps', '300', '--out', 'u.rill');
  expect(u.status, u.stderr).toBe(0);
}, 120_000);

describe('rill with classes', () => {
  it('sample --class all --guidance 3: --n rows per class with a label column, each near its class centre; NFE counts both evaluations', () => {
    const r = rill(dir, 'sample', '--model', 'c.rill', '--class', 'all', '--guidance', '3', '--n', '200', '--solver', 'rk4', '--steps', '20', '--out', 's.csv');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/NFE 160 per class, guidance w = 3/); // 20 RK4 steps × 4 calls × 2 evaluations
    const rows = readFileSync(join(dir, 's.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toBe('x0,x1,label');
    expect(rows.length).toBe(1 + 600);
    let hit = 0;
    for (const line of rows.slice(1)) {
      const [x, y, k] = line.split(',').map(Number);
      const d = GMM.map(([a, b]) => (x - a) ** 2 + (y - b) ** 2);
      if (d.indexOf(Math.min(...d)) === k) hit++;
    }
    expect(hit / 600).toBeGreaterThan(0.97);
  });

  it('sample --solver euler-maruyama: one evaluation per step; --diffusion 0 gives Euler', () => {
    const em = rill(dir, 'sample', '--model', 'u.rill', '--solver', 'euler-maruyama', '--diffusion', '0', '--steps', '30', '--n', '50', '--out', 'em.csv');
    const eu = rill(dir, 'sample', '--model', 'u.rill', '--solver', 'euler', '--steps', '30', '--n', '50', '--out', 'eu.csv');
    expect(em.status, em.stderr).toBe(0);
    expect(em.stdout).toMatch(/euler-maruyama: NFE 30/);
    expect(readFileSync(join(dir, 'em.csv'), 'utf8')).toBe(readFileSync(join(dir, 'eu.csv'), 'utf8'));
    const noisy = rill(dir, 'sample', '--model', 'u.rill', '--solver', 'euler-maruyama', '--diffusion', '1', '--diffusion-schedule', 'vanishing', '--steps', '30', '--n', '50', '--out', 'em1.csv');
    expect(noisy.status, noisy.stderr).toBe(0);
    expect(readFileSync(join(dir, 'em1.csv'), 'utf8')).not.toBe(readFileSync(join(dir, 'eu.csv'), 'utf8'));
  });

  it('eval --guidance 0,1,4: class accuracy rises with w (k-NN vote), per-class W2 given, a grid figure drawn', () => {
    const r = rill(dir, 'eval', '--model', 'c.rill', '--n', '200', '--guidance', '0,1,4', '--png', 'grid.png', '--json');
    expect(r.status, r.stderr).toBe(0);
    const { guidance } = JSON.parse(r.stdout) as { guidance: { rows: { w: number; accuracy: number; w2: number; nfe: number }[]; ceiling: number; floor: number } };
    expect(guidance.rows.map((row) => row.w)).toEqual([0, 1, 4]);
    const [w0, w1, w4] = guidance.rows.map((row) => row.accuracy);
    expect(w0).toBeLessThan(0.6); // the null class: samples spread over all three components
    expect(w1).toBeGreaterThan(0.97); // gmm's classes barely overlap: the ceiling is ≈ 1
    expect(w4).toBeGreaterThanOrEqual(w1 - 0.01);
    expect(guidance.ceiling).toBeGreaterThan(0.99);
    expect(guidance.rows[2].nfe).toBeGreaterThan(guidance.rows[1].nfe); // w = 4: two evaluations per call
    const one = (guidance.rows[1] as unknown as { perClass: { accuracy: number[]; w2: number[] } }).perClass;
    expect(one.accuracy).toHaveLength(3); // class by class, and the reported accuracy is their mean
    expect(one.accuracy.reduce((a, b) => a + b, 0) / 3).toBeCloseTo(w1, 10);
    expect(decodePng(join(dir, 'grid.png'))).toEqual({ width: 3 * 260, height: 3 * 250 });
  }, 60_000);

  it('logprob --class k: each class has its highest density at its own centre, near the Gaussian value −log(2π·0.25)', () => {
    writeFileSync(join(dir, 'centres.csv'), `x0,x1\n${GMM.map((c) => c.join(',')).join('\n')}\n`);
    for (let k = 0; k < 3; k++) {
      const r = rill(dir, 'logprob', '--model', 'c.rill', '--points', 'centres.csv', '--class', String(k), '--steps', '30');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/NFE 120/); // 30 RK4 steps × 4, one evaluation each at w = 1
      const lp = r.stdout.trim().split('\n').slice(1).map(Number);
      expect(lp.indexOf(Math.max(...lp))).toBe(k);
      expect(Math.abs(lp[k] + Math.log(2 * Math.PI * 0.25))).toBeLessThan(0.6);
    }
  });

  it.each([
    [['sample', '--model', 'u.rill', '--class', '0'], /--class needs a class-conditional model \(rill train --cond class\); u\.rill is unconditional/],
    [['sample', '--model', 'c.rill', '--class', '3'], /--class must be all or an integer in \[0, 2\], got 3/],
    [['sample', '--model', 'c.rill', '--guidance', '2'], /--guidance needs --class/],
    [['eval', '--model', 'u.rill', '--guidance', '1,2'], /--guidance needs a class-conditional model/],
    [['eval', '--model', 'c.rill', '--guidance', '1,x'], /--guidance must be a list of scales/],
    [['eval', '--model', 'c.rill', '--png', 'g.png'], /--png draws the guidance grid: it needs --guidance/],
    [['train', '--data', 'swissroll', '--cond', 'class', '--out', 'x.rill'], /--cond class needs a dataset with classes .*swissroll has none/],
    [['train', '--data', 'gmm', '--p-uncond', '0.2', '--out', 'x.rill'], /--p-uncond is for --cond class/],
    [['train', '--data', 'gmm', '--cond', 'class', '--coupling', 'ot', '--out', 'x.rill'], /coupling must be independent for a conditional field/],
  ])('refuses %j', (args, message) => {
    const r = rill(dir, ...args);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });
});

describe('labels from files', () => {
  it('a CSV label column (taken out of the coordinates) or --labels FILE.npy conditions a run; without --cond class a label column is refused', () => {
    const rows = Array.from({ length: 200 }, (_, i) => `${(i % 2 ? 2 : -2) + ((i * 37) % 11) / 20},${((i * 53) % 13) / 20},${i % 2}`);
    writeFileSync(join(dir, 'lab.csv'), `x,y,label\n${rows.join('\n')}\n`);
    const trained = rill(dir, 'train', '--data', 'lab.csv', '--cond', 'class', '--steps', '50', '--out', 'lab.rill');
    expect(trained.status, trained.stderr).toBe(0);
    const sampled = rill(dir, 'sample', '--model', 'lab.rill', '--class', '1', '--n', '5', '--out', 'lab-s.csv');
    expect(sampled.status, sampled.stderr).toBe(0);
    expect(readFileSync(join(dir, 'lab-s.csv'), 'utf8').split('\n')[0]).toBe('x0,x1,label'); // two coordinates: label was not one
    const plain = rill(dir, 'train', '--data', 'lab.csv', '--steps', '5', '--out', 'plain.rill');
    expect(plain.status).not.toBe(0);
    expect(plain.stderr).toMatch(/lab\.csv has class labels; pass --cond class/);
    writeFileSync(join(dir, 'nolabels.csv'), 'x0,x1\n0,0\n1,1\n');
    const none = rill(dir, 'train', '--data', 'nolabels.csv', '--cond', 'class', '--steps', '5', '--out', 'n.rill');
    expect(none.stderr).toMatch(/--cond class needs the class of each point: a column named label in the CSV, or --labels FILE\.npy/);
    // .npy points with their labels in a second .npy file
    const pts = T.tensor(Array.from({ length: 100 }, (_, i) => [i % 2 ? 2 : -2, (i % 7) / 7]));
    writeFileSync(join(dir, 'pts.npy'), F.encodeNpy(pts));
    writeFileSync(join(dir, 'labels.npy'), F.encodeNpy(T.tensor(Array.from({ length: 100 }, (_, i) => i % 2), { dtype: 'int32' })));
    const npy = rill(dir, 'train', '--data', 'pts.npy', '--labels', 'labels.npy', '--cond', 'class', '--steps', '20', '--out', 'npy.rill');
    expect(npy.status, npy.stderr).toBe(0);
    writeFileSync(join(dir, 'short.npy'), F.encodeNpy(T.tensor([0, 1, 0], { dtype: 'int32' })));
    const short = rill(dir, 'train', '--data', 'pts.npy', '--labels', 'short.npy', '--cond', 'class', '--steps', '5', '--out', 's.rill');
    expect(short.stderr).toMatch(/--labels short\.npy holds an array of shape \(3\); it needs one label per row of pts\.npy: \(100\)/);
  });
});
