// Nothing lost, nothing clobbered: `rill` as a careless or hostile user runs it — links, FIFOs, outputs that are
// inputs, unwritable places, diverging runs, NaN outputs, signals, huge counts, conflicting flags. One describe per
// class of failure; each test would fail on a Rill that did not guard against it. No real device file is touched.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '@rill/flowmatch/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { RILL, rill } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'rill-safety-'));
const SMALL = ['--steps', '20', '--batch', '16', '--hidden', '8'];
const bytesOf = (f: string) => readFileSync(join(dir, f));
/**
 * Exit code 2 and one line on stderr naming the problem (no stack trace): the shape of every refusal. `after` allows
 * the progress lines a run printed before it was stopped.
 */
function refused(r: { status: number | null; stderr: string }, message: RegExp, after = false): void {
  expect(r.status, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  if (!after) expect(lines, r.stderr).toHaveLength(1);
  expect(lines.at(-1)).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}
/** Hidden temporary files left in the folder (there must be none). */
const leftovers = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

beforeAll(() => {
  expect(rill(dir, 'train', ...SMALL, '--out', 'm.rill').status).toBe(0);
  writeFileSync(join(dir, 'pts.csv'), 'x0,x1\n0,0\n1,1\n');
});

describe('1. links and special files: written through, never replaced', () => {
  it('a symbolic link to a file: the target gets the samples, the link stays a link', () => {
    symlinkSync('target.csv', join(dir, 'link.csv'));
    expect(rill(dir, 'sample', '--model', 'm.rill', '--n', '5', '--out', 'link.csv').status).toBe(0);
    expect(lstatSync(join(dir, 'link.csv')).isSymbolicLink()).toBe(true);
    expect(bytesOf('target.csv').toString().split('\n')[0]).toBe('x0,x1');
  });

  it('a FIFO: the reader gets the samples, and the FIFO is still a FIFO', async () => {
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    const reader = new Promise<string>((resolve) => {
      const cat = spawn('cat', [join(dir, 'pipe')]);
      let text = '';
      cat.stdout.on('data', (d) => (text += d));
      cat.on('close', () => resolve(text));
    });
    const r = rill(dir, 'sample', '--model', 'm.rill', '--n', '5', '--out', 'pipe');
    expect(r.status, r.stderr).toBe(0);
    expect((await reader).trim().split('\n')).toHaveLength(6); // header + 5 rows, unbuffered through the pipe
    expect(lstatSync(join(dir, 'pipe')).isFIFO()).toBe(true);
  });
});

describe('2. an output that is an input (or another output) is refused before any work', () => {
  it.each([
    [['sample', '--model', 'm.rill', '--out', 'm.rill'], /--out m\.rill is the same file as --model m\.rill/],
    [['train', '--data', 'pts.csv', '--out', 'pts.csv', '--force'], /--out pts\.csv is the same file as --data pts\.csv/],
    [['logprob', '--model', 'm.rill', '--points', 'pts.csv', '--out', 'pts.csv'], /--out pts\.csv is the same file as --points pts\.csv/],
    [['sample', '--model', 'm.rill', '--out', 's.csv', '--png', 's.csv'], /--png s\.csv is the same file as --out s\.csv/],
    [['sample', '--model', 'm.rill', '--png', 'alias.rill'], /--png alias\.rill is the same file as --model m\.rill/],
  ])('%j', (args, message) => {
    if (!existsSync(join(dir, 'alias.rill'))) symlinkSync('m.rill', join(dir, 'alias.rill'));
    const before = [bytesOf('m.rill'), bytesOf('pts.csv')];
    refused(rill(dir, ...args), message);
    expect([bytesOf('m.rill'), bytesOf('pts.csv')]).toEqual(before);
  });
});

describe('3. an output that cannot be written is refused before training, in one line', () => {
  it.each([
    [['--out', 'nodir/x.rill'], /--out nodir\/x\.rill: the folder .*nodir does not exist \(ENOENT\)/],
    [['--out', '.'], /--out \.: is a folder \(EISDIR\)/],
    [['--out', `${'n'.repeat(260)}.rill`], /the file name is 265 bytes, over the limit of 255 \(ENAMETOOLONG\)/],
    [['--out', 'ok.rill', '--png', 'nodir/loss.png'], /--png nodir\/loss\.png: the folder/],
  ])('%j', (args, message) => {
    const r = rill(dir, 'train', '--steps', '100000000', ...args); // would run for hours if not refused first
    refused(r, message);
    expect(existsSync(join(dir, 'ok.rill'))).toBe(false);
  });

  it('a long but legal name works: the temporary name stays short', () => {
    const name = `${'l'.repeat(250)}.csv`;
    expect(rill(dir, 'sample', '--model', 'm.rill', '--n', '3', '--out', name).status).toBe(0);
    expect(existsSync(join(dir, name))).toBe(true);
  });
});

describe('4. permissions are respected', () => {
  it('a write-protected file is refused and left as it was; a writable file keeps its mode', () => {
    writeFileSync(join(dir, 'ro.csv'), 'keep\n');
    chmodSync(join(dir, 'ro.csv'), 0o444);
    refused(rill(dir, 'sample', '--model', 'm.rill', '--out', 'ro.csv'), /--out ro\.csv: is write-protected \(mode 444\)/);
    expect(bytesOf('ro.csv').toString()).toBe('keep\n');
    writeFileSync(join(dir, 'private.csv'), 'old\n');
    chmodSync(join(dir, 'private.csv'), 0o600);
    expect(rill(dir, 'sample', '--model', 'm.rill', '--n', '3', '--out', 'private.csv').status).toBe(0);
    expect(statSync(join(dir, 'private.csv')).mode & 0o777).toBe(0o600);
    expect(bytesOf('private.csv').toString()).toMatch(/^x0,x1\n/);
  });
});

describe('6. a diverging run is never saved', () => {
  it('--lr 1e39: exit 2 naming the step and the cause; no model written', () => {
    refused(rill(dir, 'train', '--lr', '1e39', '--steps', '1', '--out', 'inf.rill'), /the weights became NaN or ±∞ by step 1; the run diverged: try a smaller --lr/, true);
    expect(existsSync(join(dir, 'inf.rill'))).toBe(false);
  });

  it('the last good checkpoint stays when a resumed run diverges', () => {
    expect(rill(dir, 'train', ...SMALL, '--checkpoint-every', '10', '--out', 'good.rill').status).toBe(0);
    const good = bytesOf('good.rill');
    const r = rill(dir, 'train', '--steps', '40', '--lr', '1e39', '--checkpoint-every', '10', '--out', 'good.rill', '--resume');
    refused(r, /(at|by) step 2\d; the run diverged.*the checkpoint of step 20 in --out is kept/, true);
    expect(bytesOf('good.rill')).toEqual(good);
  });
});

describe('7. no NaN written as a result', () => {
  it('a model with infinite weights is refused by sample and logprob, naming the file', () => {
    const ckpt = loadCheckpoint(join(dir, 'm.rill'));
    (ckpt.tensors['model.net.0.weight'].data as Float32Array)[0] = Infinity;
    saveCheckpoint(join(dir, 'bad.rill'), ckpt);
    refused(rill(dir, 'sample', '--model', 'bad.rill', '--out', 'nan.csv'), /bad\.rill: the model's weights contain NaN or ±∞/);
    refused(rill(dir, 'logprob', '--model', 'bad.rill', '--points', 'pts.csv'), /bad\.rill: the model's weights contain NaN/);
    expect(existsSync(join(dir, 'nan.csv'))).toBe(false);
  });

  it('a point that overflows float32 is refused with its line, not turned into NaN log-densities', () => {
    writeFileSync(join(dir, 'huge.csv'), 'x0,x1\n0,0\n1e39,1\n');
    refused(rill(dir, 'logprob', '--model', 'm.rill', '--points', 'huge.csv', '--out', 'lp.csv'), /huge\.csv: line 3, column 1: 1e39 overflows float32/);
    expect(existsSync(join(dir, 'lp.csv'))).toBe(false);
  });
});

describe('8–9. SIGTERM and SIGHUP save the run like Ctrl-C; no temporary file is left', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s: a checkpoint, exit %i, and --resume continues it', async (signal, code) => {
    const out = `${signal}.rill`;
    const child = spawn(process.execPath, [RILL, 'train', '--steps', '1000000', '--batch', '32', '--hidden', '8', '--out', out, '--log-every', '50'], { cwd: dir });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      if (/step \d+/.test(err) && !child.killed) child.kill(signal);
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(status, err).toBe(code);
    expect(err).toMatch(new RegExp(`stopped by ${signal} at step \\d+: checkpoint saved to ${out}`));
    const saved = loadCheckpoint(join(dir, out));
    expect(saved.step).toBeGreaterThan(0);
    expect(rill(dir, 'train', '--steps', String(saved.step + 5), '--batch', '32', '--hidden', '8', '--out', out, '--resume').status).toBe(0);
    expect(leftovers()).toEqual([]);
  });

  it('a signal during a large write leaves either the whole file or none, and no temporary file', async () => {
    for (const delay of [150, 400, 800]) {
      const child = spawn(process.execPath, [RILL, 'sample', '--model', 'm.rill', '--n', '300000', '--solver', 'euler', '--steps', '1', '--out', 'big.csv'], { cwd: dir });
      setTimeout(() => child.kill('SIGTERM'), delay);
      await new Promise((resolve) => child.on('close', resolve));
      if (existsSync(join(dir, 'big.csv'))) expect(bytesOf('big.csv').toString().trim().split('\n')).toHaveLength(300_001);
      expect(leftovers()).toEqual([]);
    }
  });
});

describe('10. no unbounded work from a typo', () => {
  it.each([
    [['train', '--out', 'x.rill', '--steps', '1e300'], /--steps must be ≤ 100000000, got '1e300'/],
    [['sample', '--model', 'm.rill', '--solver', 'euler', '--steps', '1000000000'], /--steps must be ≤ 100000, got '1000000000'/],
    [['train', '--out', 'x.rill', '--hidden', '64,100000'], /--hidden must be ≤ 8192/],
    [['train', '--out', 'x.rill', '--seed', '99999999999'], /--seed must be ≤ 4294967295/],
  ])('%j', (args, message) => refused(rill(dir, ...args), message));
});

describe('11. the error names the real cause and the place', () => {
  it('data of 1e30 overflow float32 when squared: the message says so, not "a smaller --lr"', () => {
    writeFileSync(join(dir, 'vast.csv'), 'x0,x1\n1e30,2\n3,4e30\n-1e30,0\n');
    const r = rill(dir, 'train', '--data', 'vast.csv', '--steps', '5', '--out', 'vast.rill');
    refused(r, /the data reach 4\.0e\+30 in magnitude, and their squares overflow float32: rescale them/, true);
    expect(r.stderr).not.toMatch(/smaller --lr/);
  });

  it('--sigma 1e30 is out of range, with the limit', () => {
    refused(rill(dir, 'train', '--out', 'x.rill', '--sigma', '1e30'), /--sigma must be ≤ 1000, got '1e30'/);
  });
});

describe('12. flags that contradict a run, and models that would be replaced', () => {
  it('train --out on an existing model needs --resume or --force', () => {
    const before = bytesOf('m.rill');
    refused(rill(dir, 'train', ...SMALL, '--out', 'm.rill'), /--out m\.rill already exists; pass --resume to continue its run, or --force to replace it/);
    expect(bytesOf('m.rill')).toEqual(before);
    expect(rill(dir, 'train', ...SMALL, '--out', 'again.rill').status).toBe(0);
    expect(rill(dir, 'train', ...SMALL, '--seed', '5', '--out', 'again.rill', '--force').status).toBe(0);
  });

  it('--resume with another data set, batch, width or kind is refused, naming each flag', () => {
    expect(rill(dir, 'train', ...SMALL, '--out', 'run.rill').status).toBe(0);
    const r = rill(dir, 'train', '--steps', '40', '--data', 'circles', '--batch', '32', '--hidden', '16', '--kind', 'flow', '--out', 'run.rill', '--resume');
    refused(r, /contradict: --kind flow \(the run is cfm\), --data circles \(the run's data is moons\), --batch 32 \(the run has 16\), --hidden 16 \(the run has \[8\]\)/);
    writeFileSync(join(dir, 'other.csv'), 'x0,x1\n5,5\n6,6\n');
    expect(rill(dir, 'train', '--data', 'pts.csv', ...SMALL, '--out', 'csvrun.rill').status).toBe(0);
    refused(rill(dir, 'train', '--data', 'other.csv', '--steps', '40', '--out', 'csvrun.rill', '--resume'), /--data other\.csv holds other points than the run/);
  });

  it('--resume may change --lr and --steps, and says so; the new learning rate is the one saved', () => {
    const r = rill(dir, 'train', '--steps', '30', '--lr', '0.01', '--out', 'run.rill', '--resume');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('resuming run.rill at step 20, with --lr 0.01 (was 0.001) and --steps 30 (was 20)');
    expect(loadCheckpoint(join(dir, 'run.rill')).config).toMatchObject({ lr: 0.01, steps: 30 });
  });
});

describe('memory: points from a file are stored once, or referenced', () => {
  it('--data-in-checkpoint ref keeps the checkpoint the size of the model; --resume reads the file again, checked unchanged', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `${Math.cos(i)},${Math.sin(3 * i)}`);
    writeFileSync(join(dir, 'many.csv'), `x0,x1\n${rows.join('\n')}\n`);
    const args = ['--data', 'many.csv', '--steps', '10', '--batch', '16', '--hidden', '8'];
    expect(rill(dir, 'train', ...args, '--out', 'copy.rill').status).toBe(0);
    expect(rill(dir, 'train', ...args, '--data-in-checkpoint', 'ref', '--out', 'ref.rill').status).toBe(0);
    expect(statSync(join(dir, 'copy.rill')).size).toBeGreaterThan(5000 * 2 * 4); // the points, as float32
    expect(statSync(join(dir, 'ref.rill')).size).toBeLessThan(4000);
    expect(loadCheckpoint(join(dir, 'ref.rill')).meta?.['custom.data']).toMatchObject({ path: join(dir, 'many.csv'), shape: [5000, 2] });
    // Resumed without --data: the referenced file is read again; the run continues exactly as the copied one does.
    expect(rill(dir, 'train', '--steps', '20', '--out', 'ref.rill', '--resume').status).toBe(0);
    expect(statSync(join(dir, 'ref.rill')).size).toBeLessThan(4000); // still a reference
    expect(rill(dir, 'train', '--steps', '20', '--out', 'copy.rill', '--resume').status).toBe(0);
    const weights = (f: string) => Array.from(loadCheckpoint(join(dir, f)).tensors['model.net.0.weight'].data);
    expect(weights('ref.rill')).toEqual(weights('copy.rill'));
    writeFileSync(join(dir, 'many.csv'), `x0,x1\n${rows.slice(1).join('\n')}\n`);
    refused(rill(dir, 'train', '--steps', '30', '--out', 'ref.rill', '--resume'), /many\.csv, the data of the run in ref\.rill, has changed since the run started/);
  });
});

describe('1. /dev/stdout into a pipe', () => {
  it('sample --out /dev/stdout writes the CSV to the pipe, the report to stderr', () => {
    const r = rill(dir, 'sample', '--model', 'm.rill', '--n', '4', '--solver', 'euler', '--steps', '3', '--out', '/dev/stdout');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(5); // the header and 4 rows, nothing else
    expect(r.stdout.split('\n')[0]).toBe('x0,x1');
    expect(r.stderr).toMatch(/sampled 4 points with euler: NFE 3/);
  });
});
