// The `rill` command line as a user runs it (a subprocess): happy paths, help, resume, Ctrl-C, figures that decode.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '@rill/flowmatch/node';
import { decodePng, rill, RILL } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'rill-cli-'));
const SMALL = ['--steps', '60', '--batch', '64', '--hidden', '16,16', '--seed', '3'];

describe('a reader that stops early', () => {
  it('rill logprob … | (read one chunk, close): rill exits quietly (0, no EPIPE stack trace), as Unix tools do', async () => {
    expect(rill(dir, 'train', '--steps', '5', '--batch', '16', '--hidden', '4', '--out', 'pipe.rill').status).toBe(0);
    writeFileSync(join(dir, 'many.csv'), `x0,x1\n${Array.from({ length: 20000 }, (_, i) => `${(i % 97) / 50 - 1},${(i % 89) / 40 - 1}`).join('\n')}\n`);
    const child = spawn(process.execPath, [RILL, 'logprob', '--model', 'pipe.rill', '--points', 'many.csv', '--steps', '2'], { cwd: dir });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.once('data', () => child.stdout.destroy()); // the reader goes away after the first chunk
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(err).not.toMatch(/EPIPE|at Socket|Unhandled/);
    expect(code).toBe(0);
  }, 60_000);
});

describe('help', () => {
  it('rill --help lists the commands; rill <cmd> --help lists every flag with its default', () => {
    const top = rill(dir, '--help');
    expect(top.status).toBe(0);
    for (const c of ['train', 'sample', 'eval', 'logprob']) expect(top.stdout).toContain(`  ${c}`);
    const help = rill(dir, 'train', '--help');
    expect(help.status).toBe(0);
    for (const flag of ['data', 'out', 'steps', 'batch', 'hidden', 'act', 'lr', 'optimizer', 'path', 'sigma', 'sigma-min', 'source', 'coupling', 'ema', 'seed', 'backend', 'checkpoint-every', 'resume']) {
      expect(help.stdout).toMatch(new RegExp(`--${flag}\\b`));
    }
    expect(help.stdout).toContain('default 64,64,64 for cfm; 36,36 in each coupling of a flow');
    expect(help.stdout).toContain('--kind');
    expect(help.stdout).toContain('(1…100000000, default: 20000)'); // every integer flag says its range
    for (const c of ['sample', 'eval', 'logprob']) expect(rill(dir, c, '--help').stdout).toContain('--model');
  });
});

describe('train → sample → eval → logprob', () => {
  beforeAll(() => {
    const r = rill(dir, 'train', '--data', 'moons', ...SMALL, '--ema', '0.9', '--out', 'm.rill', '--png', 'loss.png', '--log-every', '20');
    expect(r.stderr).toContain('step 20/60');
    expect(r.status, r.stderr).toBe(0);
  });

  it('train writes a .rill model, prints the result, plain progress lines when not a TTY, and a loss curve', () => {
    const ckpt = loadCheckpoint(join(dir, 'm.rill'));
    expect(ckpt.step).toBe(60);
    expect(ckpt.config).toMatchObject({ data: 'moons', hidden: [16, 16], batch: 64, ema: 0.9, seed: 3 });
    expect(decodePng(join(dir, 'loss.png'))).toEqual({ width: 640, height: 400 });
  });

  it('sample writes a CSV with a header and n rows, prints NFE and time, and draws three figures', () => {
    const r = rill(dir, 'sample', '--model', 'm.rill', '--n', '300', '--solver', 'rk4', '--steps', '10', '--out', 's.csv', '--png', 's.png', '--trajectories', 't.png', '--field', 'f.png');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/sampled 300 points with rk4: NFE 40, [\d.]+ s → s\.csv/);
    const lines = readFileSync(join(dir, 's.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('x0,x1');
    expect(lines).toHaveLength(301);
    for (const l of lines.slice(1)) expect(l.split(',').map(Number).every(Number.isFinite)).toBe(true);
    expect(decodePng(join(dir, 's.png'))).toEqual({ width: 480, height: 440 });
    expect(decodePng(join(dir, 't.png'))).toEqual({ width: 560, height: 520 });
    expect(decodePng(join(dir, 'f.png'))).toEqual({ width: 1260, height: 420 });
  });

  it('the same seed gives the same samples', () => {
    rill(dir, 'sample', '--model', 'm.rill', '--n', '50', '--out', 'a.csv', '--seed', '7');
    rill(dir, 'sample', '--model', 'm.rill', '--n', '50', '--out', 'b.csv', '--seed', '7');
    expect(readFileSync(join(dir, 'a.csv'), 'utf8')).toBe(readFileSync(join(dir, 'b.csv'), 'utf8'));
  });

  it('eval --json has the documented keys; the floor is well below the undertrained model', () => {
    const r = rill(dir, 'eval', '--model', 'm.rill', '--n', '200', '--json');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report)).toEqual(['model', 'kind', 'data', 'n', 'seed', 'metrics', 'floor', 'sampling', 'nll', 'solvers']);
    expect(Object.keys(report.nll)).toEqual(['natsPerDim', 'bitsPerDim', 'nfe', 'seconds']);
    expect(Object.keys(report.metrics)).toEqual(['w2', 'mmd2', 'energy']);
    expect(Object.keys(report.solvers)).toEqual(['euler', 'midpoint', 'heun', 'rk4', 'dopri5']);
    expect(report.solvers.euler.nfe).toBe(100);
    expect(report.floor.w2).toBeLessThan(report.metrics.w2);
    const table = rill(dir, 'eval', '--model', 'm.rill', '--n', '100');
    expect(table.stdout).toContain('floor (data vs data)');
  });

  it('logprob prints or writes log-densities and draws a density map', () => {
    const pts = join(dir, 'pts.csv');
    writeFileSync(pts, 'x0,x1\n0,0\n1,-1\n');
    const printed = rill(dir, 'logprob', '--model', 'm.rill', '--points', 'pts.csv', '--steps', '10');
    expect(printed.status, printed.stderr).toBe(0);
    const values = printed.stdout.trim().split('\n');
    expect(values[0]).toBe('logp');
    expect(values.slice(1).map(Number).every((v) => Number.isFinite(v) && v < 0)).toBe(true);
    const r = rill(dir, 'logprob', '--model', 'm.rill', '--points', 'pts.csv', '--steps', '10', '--out', 'lp.csv', '--png', 'd.png', '--grid', '12');
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'lp.csv'), 'utf8')).toBe(printed.stdout);
    expect(decodePng(join(dir, 'd.png'))).toEqual({ width: 540, height: 500 });
  });

  it('trains on a CSV file as data', () => {
    const csv = join(dir, 'blob.csv');
    writeFileSync(csv, 'a,b\n1,1\n2,2\n1,2\n2,1\n');
    const r = rill(dir, 'train', '--data', 'blob.csv', ...SMALL, '--out', 'blob.rill');
    expect(r.status, r.stderr).toBe(0);
    expect(loadCheckpoint(join(dir, 'blob.rill')).config).toMatchObject({ data: 'custom' });
  });
});

describe('resume and Ctrl-C', () => {
  it('train 30 steps then --resume to 60 equals 60 steps straight, bit for bit', () => {
    expect(rill(dir, 'train', ...SMALL, '--out', 'straight.rill').status).toBe(0);
    expect(rill(dir, 'train', ...SMALL.map((v) => (v === '60' ? '30' : v)), '--out', 'resumed.rill').status).toBe(0);
    const r = rill(dir, 'train', ...SMALL, '--out', 'resumed.rill', '--resume');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('resuming resumed.rill at step 30');
    const a = loadCheckpoint(join(dir, 'straight.rill'));
    const b = loadCheckpoint(join(dir, 'resumed.rill'));
    for (const [name, t] of Object.entries(a.tensors)) expect(Array.from(b.tensors[name].data), name).toEqual(Array.from(t.data));
  });

  it('Ctrl-C (SIGINT) saves a checkpoint, exits with 130, and the run resumes from it', async () => {
    const child = spawn(process.execPath, [RILL, 'train', '--steps', '1000000', '--batch', '32', '--hidden', '8', '--out', 'int.rill', '--log-every', '50'], { cwd: dir });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (stderr.includes('step 100/')) {
          clearInterval(poll);
          child.kill('SIGINT');
          resolve();
        }
      }, 20);
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    const saved = loadCheckpoint(join(dir, 'int.rill'));
    expect(saved.step).toBeGreaterThanOrEqual(100);
    expect(stderr).toContain(`interrupted at step ${saved.step}: checkpoint saved to int.rill`);
    const r = rill(dir, 'train', '--steps', String(saved.step + 5), '--batch', '32', '--hidden', '8', '--out', 'int.rill', '--resume');
    expect(r.status, r.stderr).toBe(0);
    expect(loadCheckpoint(join(dir, 'int.rill')).step).toBe(saved.step + 5);
  }, 60_000);

  it('leaves no temporary files behind', () => {
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(join(dir, 'm.rill'))).toBe(true);
  });
});
