// Every example in examples/ runs as a user runs it (the built file, `node examples/dist/NAME.js`, which is what
// `npx pnpm@12.4.2 example NAME` does) and prints what it claims: the numbers are read from its output and checked.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodePng, rill } from '../cli/run.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = join(ROOT, 'out/examples');

/** Runs an example to completion; returns its standard output (fails the test on a non-zero exit). */
function example(name: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [join(ROOT, 'examples/run.mjs'), name, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 170_000 });
  expect(r.status, `${name}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The number after `label` in the output. */
function number(text: string, label: RegExp): number {
  const m = text.match(new RegExp(`${label.source}\\s*=?\\s*(-?[0-9.]+(?:e[-+]?[0-9]+)?)`));
  expect(m, `no ${label} in:\n${text}`).not.toBeNull();
  return Number(m![1]);
}

describe('examples/', () => {
  it('autograd: backward() equals the derivative by hand, and gradcheck passes', () => {
    const out = example('autograd');
    expect(number(out, /largest difference/)).toBeLessThan(1e-12);
    expect(out).toMatch(/gradcheck: f: gradcheck \(elementwise\) passed/);
  });

  it('scalar: backward() on L = tanh(a·b + c)·a equals the chain rule at every node, and both figures are drawn', () => {
    const out = example('scalar');
    expect(number(out, /largest difference/)).toBe(0);
    // independent values: L and its gradients at a = 0.5, b = −1.5, c = 1, from the formulas in float64 here
    const t = Math.tanh(0.5 * -1.5 + 1);
    const dd = 0.5 * (1 - t * t);
    const leaf = (name: string) => Number(out.match(new RegExp(`^${name}\\s+\\S+\\s+(\\S+)`, 'm'))![1]);
    expect(leaf('a')).toBeCloseTo(t + dd * -1.5, 6);
    expect(leaf('b')).toBeCloseTo(dd * 0.5, 6);
    expect(leaf('c')).toBeCloseTo(dd, 6);
    for (const figure of ['scalar.png', 'scalar-graph.png']) expect(decodePng(join(OUT, figure)).width).toBeGreaterThan(600);
  });

  it('exact-field: the exact field of 24 points sends every sample onto a point, the learned one almost none; they agree early in t', () => {
    const out = example('exact-field');
    const m = out.match(/within 0\.01 of a training point: exact field ([0-9.]+), learned field ([0-9.]+)/);
    expect(m, out).not.toBeNull();
    expect(Number(m![1])).toBe(1);
    expect(Number(m![2])).toBeLessThan(0.2);
    const early = out.match(/^0\.10\s+([0-9.]+)\s+([0-9.]+)/m)!;
    expect(Number(early[1])).toBeLessThan(0.3 * Number(early[2])); // at t = 0.1 the learned field is the exact one to ~15 %
    for (const figure of ['exact-field.png', 'exact-field-error.png']) expect(decodePng(join(OUT, figure)).width).toBeGreaterThan(600);
  }, 120_000);

  it('sde: W2 for each diffusion g and step count; a large constant g is far worse than the same g vanishing at t = 1', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'examples/run.mjs'), 'sde'], { cwd: ROOT, encoding: 'utf8', timeout: 170_000, env: { ...process.env, STEPS: '3000', N: '300' } });
    expect(r.status, r.stderr).toBe(0);
    const row = (label: string) => r.stdout.split('\n').find((l) => l.startsWith(label))!.slice(18).trim().split(/\s+/).map(Number);
    expect(row('0 (the ODE')).toHaveLength(5);
    expect(row('2 ')[4]).toBeGreaterThan(row('2·√β_t')[4] + 0.2);
    expect(decodePng(join(OUT, 'sde.png')).width).toBe(620);
  }, 170_000);

  it('moons: 2000 steps bring W2 to fresh data below 0.3 × that of the noise', () => {
    const out = example('moons');
    expect(out.match(/^step \d+: loss/gm)).toHaveLength(4);
    expect(number(out, /W2\(samples, data\)/)).toBeLessThan(0.3 * number(out, /W2\(noise, data\)/));
  }, 120_000);

  it('csv: learns the demo ring (mean radius 2 ± 0.1) and writes a model the CLI samples from', () => {
    const out = example('csv');
    expect(Math.abs(number(out, /mean radius of the samples:/) - 2)).toBeLessThan(0.1);
    expect(number(out, /W2\(samples, your points\)/)).toBeLessThan(0.4 * number(out, /W2\(noise, your points\)/));
    const sampled = rill(OUT, 'sample', '--model', join(OUT, 'csv.rill'), '--n', '200', '--out', join(OUT, 'from-cli.csv'));
    expect(sampled.status, sampled.stderr).toBe(0);
  }, 120_000);

  it('csv: takes your own file — 3 columns with a header — and says what it read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rill-example-'));
    const file = join(dir, 'mine.csv');
    // two clusters in 3-D, from a fixed rule (no library code): (±1.5, ±1.5, ±1.5) + small offsets
    const rows = Array.from({ length: 300 }, (_, i) => {
      const s = i % 2 === 0 ? 1.5 : -1.5;
      return [s + ((i * 7) % 11) / 50, s - ((i * 5) % 13) / 50, s + ((i * 3) % 7) / 50].join(',');
    });
    writeFileSync(file, `a,b,c\n${rows.join('\n')}\n`);
    const out = example('csv', file);
    expect(out).toMatch(/300 points in 3 dimensions \(a, b, c\)/);
    expect(number(out, /W2\(samples, your points\)/)).toBeLessThan(0.5 * number(out, /W2\(noise, your points\)/));
  }, 120_000);

  it('samplers: a table of every fixed-step solver at 4–64 NFE, and a PNG; at 16+ NFE every solver is near dopri5', () => {
    const out = example('samplers');
    const rows = [...out.matchAll(/^(euler|midpoint|heun|rk4)\s+(\d+)\s+(\d+)\s+([0-9.]+)$/gm)].map((m) => ({ method: m[1], steps: +m[2], nfe: +m[3], w2: +m[4] }));
    expect(rows.length).toBe(5 + 5 + 5 + 5);
    for (const r of rows) expect(r.nfe).toBe(r.steps * { euler: 1, midpoint: 2, heun: 2, rk4: 4 }[r.method]!);
    const best = number(out, /dopri5 \(rtol = atol = 1e-4\): NFE \d+, W2/);
    for (const r of rows.filter((x) => x.nfe >= 16 && x.method !== 'euler')) expect(Math.abs(r.w2 - best)).toBeLessThan(0.05);
    const at = (method: string, nfe: number) => rows.find((r) => r.method === method && r.nfe === nfe)!.w2;
    expect(at('euler', 4)).toBeGreaterThan(at('rk4', 16) + 0.2); // 4 Euler steps are visibly worse
    expect(decodePng(join(OUT, 'samplers.png')).width).toBe(560);
  }, 170_000);

  it('straightness: OT-CFM paths are straighter than I-CFM paths, and 2 Euler steps do much better with them', () => {
    const out = example('straightness');
    const row = (name: string) => out.match(new RegExp(`^${name}\\s+([0-9.]+)\\s+([0-9.]+)\\s+([0-9.]+)$`, 'm'))!.slice(1).map(Number);
    const [iRatio, iFew] = row('independent');
    const [otRatio, otFew] = row('ot');
    expect(otRatio).toBeLessThan(1.01); // nearly straight lines
    expect(iRatio).toBeGreaterThan(otRatio + 0.05);
    expect(otFew).toBeLessThan(0.6 * iFew);
    expect(existsSync(join(OUT, 'straightness.png'))).toBe(true);
    expect(decodePng(join(OUT, 'straightness.png')).width).toBe(960);
  }, 170_000);
});
