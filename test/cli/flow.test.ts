// `rill … --kind flow`: a normalizing flow through train, resume, sample, eval and logprob, and the mistakes refused.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '@rill/flowmatch/node';
import { decodePng, rill } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'rill-flow-'));
const SMALL = ['--kind', 'flow', '--steps', '80', '--batch', '64', '--couplings', '3', '--hidden', '12,12', '--seed', '2'];

describe('rill with --kind flow', () => {
  beforeAll(() => {
    const r = rill(dir, 'train', '--data', 'moons', ...SMALL, '--out', 'f.rill', '--png', 'loss.png');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^trained 80 steps in .*: loss \d+\.\d{4} .*validation loss \d+\.\d{4} → f\.rill/m);
  });

  it('train writes a checkpoint of kind flow with its config, and a loss curve', () => {
    const ckpt = loadCheckpoint(join(dir, 'f.rill'));
    expect(ckpt.kind).toBe('flow');
    expect(ckpt.step).toBe(80);
    expect(ckpt.config).toMatchObject({ data: 'moons', couplings: 3, hidden: [12, 12], batch: 64, seed: 2, activation: 'tanh' });
    expect(decodePng(join(dir, 'loss.png'))).toEqual({ width: 640, height: 400 });
  });

  it('--resume continues a flow run to the same weights as an uninterrupted one', () => {
    expect(rill(dir, 'train', '--data', 'moons', ...SMALL, '--steps', '40', '--out', 'half.rill').status).toBe(0);
    const r = rill(dir, 'train', '--data', 'moons', ...SMALL, '--out', 'half.rill', '--resume');
    expect(r.status, r.stderr).toBe(0);
    const [a, b] = [loadCheckpoint(join(dir, 'f.rill')), loadCheckpoint(join(dir, 'half.rill'))];
    for (const name of Object.keys(a.tensors).filter((n) => n.startsWith('model.'))) {
      expect(Array.from(b.tensors[name].data), name).toEqual(Array.from(a.tensors[name].data));
    }
  });

  it('sample draws in one pass and writes CSV and PNG', () => {
    const r = rill(dir, 'sample', '--model', 'f.rill', '--n', '300', '--out', 's.csv', '--png', 's.png');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('sampled 300 points with the normalizing flow: one pass');
    const lines = readFileSync(join(dir, 's.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('x0,x1');
    expect(lines).toHaveLength(301);
    expect(decodePng(join(dir, 's.png')).width).toBeGreaterThan(100);
  });

  it('eval reports W2, the NLL in nats and bits per dimension, and the sampling cost (one pass); --json has them', () => {
    const r = rill(dir, 'eval', '--model', 'f.rill', '--n', '300', '--json');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ kind: 'flow', data: 'moons', n: 300, sampling: { method: 'flow (one pass)', nfe: 1 } });
    expect(report.solvers).toBeUndefined();
    expect(report.nll.bitsPerDim).toBeCloseTo(report.nll.natsPerDim / Math.LN2, 10);
    expect(report.nll.natsPerDim).toBeGreaterThan(0.5); // moons: well above its floor, far below N(0, I)'s 1.42 + spread
    expect(report.metrics.w2).toBeGreaterThan(0);
    const text = rill(dir, 'eval', '--model', 'f.rill', '--n', '300');
    expect(text.stdout).toMatch(/NLL of the data: \d+\.\d{4} nats\/dim \(\d+\.\d{4} bits\/dim\), NFE 1/);
  });

  it('eval of a CFM model reports its NLL by the likelihood ODE and its sampling NFE', () => {
    expect(rill(dir, 'train', '--data', 'moons', '--steps', '30', '--batch', '64', '--hidden', '16,16', '--out', 'c.rill').status).toBe(0);
    const r = rill(dir, 'eval', '--model', 'c.rill', '--n', '200', '--nll-steps', '8', '--json');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.kind).toBe('cfm');
    expect(report.nll.nfe).toBe(32); // RK4: 4 evaluations per step
    expect(report.sampling.nfe).toBe(report.solvers.dopri5.nfe);
    expect(Number.isFinite(report.nll.natsPerDim)).toBe(true);
  });

  it('logprob gives the exact log-density (one pass) and a density map', () => {
    const r = rill(dir, 'logprob', '--model', 'f.rill', '--points', 's.csv', '--png', 'd.png', '--grid', '16');
    expect(r.status, r.stderr).toBe(0);
    const values = r.stdout.trim().split('\n').slice(1).map(Number);
    expect(values).toHaveLength(300);
    expect(values.every(Number.isFinite)).toBe(true);
    expect(r.stderr).toContain('NFE 1');
    expect(decodePng(join(dir, 'd.png')).width).toBeGreaterThan(100);
  });

  it('refuses what a flow does not have: CFM-only flags, trajectories, a velocity field', () => {
    const path = rill(dir, 'train', '--kind', 'flow', '--path', 'vp', '--out', 'x.rill');
    expect(path.status).toBe(2);
    expect(path.stderr).toMatch(/^rill train: --path is for --kind cfm \(flow matching\); a normalizing flow has no such setting/);
    const field = rill(dir, 'sample', '--model', 'f.rill', '--field', 'v.png');
    expect(field.status).toBe(2);
    expect(field.stderr).toMatch(/^rill sample: --field draws an ODE's paths or velocity field; f\.rill is a normalizing flow/);
    const couplings = rill(dir, 'train', '--kind', 'flow', '--couplings', '0', '--out', 'x.rill');
    expect(couplings.status).toBe(2);
    expect(couplings.stderr).toMatch(/^rill train: --couplings/);
  });
});
