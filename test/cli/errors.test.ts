// Every class of bad input to `rill`: one line on stderr naming the problem, exit code 2, no stack trace, and no
// output file clobbered or left half-written.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { rill } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'rill-cli-err-'));

beforeAll(() => {
  expect(rill(dir, 'train', '--steps', '5', '--batch', '16', '--hidden', '8', '--out', 'ok.rill').status).toBe(0);
  writeFileSync(join(dir, 'ragged.csv'), 'x0,x1\n1,2\n3\n');
  writeFileSync(join(dir, 'words.csv'), 'x0,x1\n1,2\n3,four\n');
  writeFileSync(join(dir, 'empty.csv'), '');
  writeFileSync(join(dir, 'three.csv'), 'a,b,c\n1,2,3\n');
  const good = readFileSync(join(dir, 'ok.rill'));
  writeFileSync(join(dir, 'truncated.rill'), good.subarray(0, good.length - 100));
  const flipped = Buffer.from(good);
  flipped[flipped.length - 10] ^= 0xff;
  writeFileSync(join(dir, 'corrupted.rill'), flipped);
  writeFileSync(join(dir, 'keep.csv'), 'precious\n');
});

const CASES: [string, string[], RegExp][] = [
  ['no command (the usage, on stderr)', [], /^rill — conditional flow matching from the command line/],
  ['an unknown command', ['fly'], /^rill: unknown command 'fly' \(commands: train, sample, eval, logprob/],
  ['an unknown flag', ['train', '--out', 'x.rill', '--speed', '3'], /^rill train: unknown flag '--speed'/],
  ['a missing required flag', ['sample'], /^rill sample: --model is required/],
  ['a flag without its value', ['train', '--out'], /^rill train: Option '--out <value>' argument missing/],
  ['a non-numeric value', ['train', '--out', 'x.rill', '--steps', 'ten'], /^rill train: --steps must be a number, got 'ten'/],
  ['a non-integer count', ['train', '--out', 'x.rill', '--batch', '2.5'], /^rill train: --batch must be an integer, got '2\.5'/],
  ['an out-of-range value', ['train', '--out', 'x.rill', '--lr', '-1'], /^rill train: --lr must be > 0, got '-1'/],
  ['a bad list', ['train', '--out', 'x.rill', '--hidden', '64,,64'], /^rill train: --hidden must be a number, got '64,,64'/],
  ['an unknown dataset', ['train', '--out', 'x.rill', '--data', 'spiralz'], /^rill train: --data 'spiralz' is neither a dataset \(moons,.*\) nor an existing CSV or \.npy file/],
  ['an unknown solver', ['sample', '--model', 'ok.rill', '--solver', 'rk5'], /^rill sample: --solver must be one of euler, midpoint, heun, rk4, dopri5, euler-maruyama, got 'rk5'/],
  ['an unknown activation', ['train', '--out', 'x.rill', '--act', 'swish'], /^rill train: --act must be one of selu, silu, relu, tanh, gelu, got 'swish'/],
  ['an unknown backend', ['train', '--out', 'x.rill', '--backend', 'tpu'], /^rill train: --backend .*must be one of cpu, js, wasm, gpu, webgpu/],
  // Dawn is an optional peer, absent here (or, where installed, its native module needs a newer C++ runtime): a run
  // asked for on the GPU stops instead of training on the CPU
  ['webgpu without Dawn', ['train', '--out', 'x.rill', '--steps', '5', '--backend', 'webgpu'], /^rill train: --backend webgpu: Dawn (is not installed: `npm install webgpu`|\(the webgpu package\) does not load here)/],
  ['a normalizing flow on webgpu', ['train', '--out', 'x.rill', '--kind', 'flow', '--backend', 'webgpu'], /^rill train: --backend webgpu trains flow matching \(--kind cfm\)/],
  ['a missing model file', ['sample', '--model', 'nope.rill'], /^rill sample: nope\.rill: cannot read the file \(ENOENT: no such file or folder\)/],
  ['a truncated model file', ['eval', '--model', 'truncated.rill'], /^rill eval: truncated\.rill: truncated/],
  ['a corrupted model file', ['sample', '--model', 'corrupted.rill', '--out', 'keep.csv'], /^rill sample: corrupted\.rill: corrupted \(payload checksum mismatch\)/],
  ['a CSV with ragged rows', ['train', '--out', 'x.rill', '--data', 'ragged.csv'], /^rill train: ragged\.csv: line 3 has 1 fields, expected 2/],
  ['a CSV with a non-number', ['logprob', '--model', 'ok.rill', '--points', 'words.csv'], /^rill logprob: words\.csv: line 3, column 2: 'four' is not a number/],
  ['an empty CSV', ['train', '--out', 'x.rill', '--data', 'empty.csv'], /^rill train: empty\.csv: the file is empty/],
  ['a model/data dimension mismatch', ['logprob', '--model', 'ok.rill', '--points', 'three.csv'], /^rill logprob: three\.csv has 3 columns but the model works in 2 dimensions/],
  ['a config the path cannot use', ['train', '--out', 'x.rill', '--path', 'vp', '--source', 'moons'], /^rill train: source must be normal for the vp path/],
  ['resuming a missing run', ['train', '--out', 'absent.rill', '--resume'], /^rill train: --resume needs an existing checkpoint at --out absent\.rill/],
];

describe('bad input → one line on stderr and exit code 2', () => {
  for (const [what, args, message] of CASES) {
    it(what, () => {
      const r = rill(dir, ...args);
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n')[0]).toMatch(message);
      if (args.length > 0) expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  }

  it('failed runs clobber nothing and leave no temporary or partial files', () => {
    expect(readFileSync(join(dir, 'keep.csv'), 'utf8')).toBe('precious\n');
    const files = readdirSync(dir).sort();
    expect(files.filter((f) => f.includes('.tmp') || f === 'x.rill' || f === 'absent.rill')).toEqual([]);
  });
});
