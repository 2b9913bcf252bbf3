// `rill solvers`: every solver at several NFE budgets on one model — the NFE each spends, the error against a tight
// reference solution falling at each method's order, W2, the figure, and the mistakes refused.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodePng, rill } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'rill-solvers-'));

interface Row {
  method: string;
  steps: number | null;
  tolerance: number | null;
  nfe: number;
  error: number;
  w2: number;
}

let rows: Row[];
let report: { n: number; floor: number; reference: { tolerance: number; nfe: number; w2: number }; rows: Row[] };

describe('rill solvers', () => {
  beforeAll(() => {
    const trained = rill(dir, 'train', '--data', 'moons', '--steps', '400', '--hidden', '32,32', '--out', 'm.rill');
    expect(trained.status, trained.stderr).toBe(0);
    const r = rill(dir, 'solvers', '--model', 'm.rill', '--n', '300', '--nfe', '4,8,16,32', '--json', '--png', 'sweep.png');
    expect(r.status, r.stderr).toBe(0);
    report = JSON.parse(r.stdout);
    rows = report.rows;
  }, 120_000);

  it('runs each fixed-step solver at each budget (steps = NFE / evaluations per step) and dopri5 at six tolerances', () => {
    const perStep: Record<string, number> = { euler: 1, midpoint: 2, heun: 2, rk4: 4 };
    for (const method of Object.keys(perStep)) {
      const mine = rows.filter((r) => r.method === method);
      expect(mine.map((r) => r.nfe)).toEqual([4, 8, 16, 32]);
      for (const r of mine) expect(r.steps! * perStep[method]).toBe(r.nfe);
    }
    const dopri = rows.filter((r) => r.method === 'dopri5');
    expect(dopri.map((r) => r.tolerance)).toEqual([1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6]);
    for (let i = 1; i < dopri.length; i++) expect(dopri[i].nfe).toBeGreaterThanOrEqual(dopri[i - 1].nfe); // tighter costs more
    expect(report.reference.tolerance).toBe(1e-7);
    expect(report.reference.nfe).toBeGreaterThan(dopri.at(-1)!.nfe);
  });

  it('the error falls at each method’s order: slope ≈ 1 for Euler, ≈ 2 for midpoint and Heun (NFE 8 → 32); RK4 is the most accurate', () => {
    const error = (method: string, nfe: number) => rows.find((r) => r.method === method && r.nfe === nfe)!.error;
    const slope = (method: string) => Math.log(error(method, 8) / error(method, 32)) / Math.log(4);
    expect(slope('euler')).toBeGreaterThan(0.8);
    expect(slope('euler')).toBeLessThan(1.2);
    for (const m of ['midpoint', 'heun']) {
      expect(slope(m)).toBeGreaterThan(1.6);
      expect(slope(m)).toBeLessThan(2.4);
    }
    for (const nfe of [8, 16, 32]) for (const m of ['euler', 'midpoint', 'heun']) expect(error('rk4', nfe)).toBeLessThan(error(m, nfe));
  });

  it('W2 of accurate solutions equals the reference’s; the figure has two panels', () => {
    for (const r of rows.filter((x) => x.error < 1e-2)) expect(Math.abs(r.w2 - report.reference.w2)).toBeLessThan(0.02);
    expect(report.floor).toBeGreaterThan(0);
    expect(decodePng(join(dir, 'sweep.png'))).toEqual({ width: 1120, height: 440 });
  });

  it('prints a table by default', () => {
    const r = rill(dir, 'solvers', '--model', 'm.rill', '--n', '50', '--nfe', '8');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}rk4 +2 +8 +\d\.\d\de[-+]\d+ +\d\.\d{4} +\d/m);
    expect(r.stdout).toMatch(/error: against dopri5 at rtol = atol = 1e-7 \(NFE \d+\)/);
  });

  it('refuses a normalizing flow, a missing file and a zero budget, saying why', () => {
    expect(rill(dir, 'train', '--kind', 'flow', '--data', 'moons', '--steps', '5', '--out', 'f.rill').status).toBe(0);
    const flow = rill(dir, 'solvers', '--model', 'f.rill');
    expect(flow.status).toBe(2);
    expect(flow.stderr).toMatch(/rill solvers: f\.rill holds a 'flow' model, which this command cannot use/);
    const missing = rill(dir, 'solvers', '--model', 'nope.rill');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/nope\.rill/);
    const zero = rill(dir, 'solvers', '--model', 'm.rill', '--nfe', '0');
    expect(zero.status).toBe(2);
    expect(zero.stderr).toMatch(/--nfe/);
  });
});
