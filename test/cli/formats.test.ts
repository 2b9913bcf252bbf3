// The formats people have, through the `rill` command: NumPy .npy data in and samples out, safetensors weights in
// torchcfm's layout out and in (a file written by an independent Python writer imports and samples), and CSV files
// as pandas and spreadsheets write them (an index column, quoted numbers, semicolons).
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { rill } from './run.js';
import { python } from '../helpers/python.js';

const dir = mkdtempSync(join(tmpdir(), 'rill-cli-formats-'));
const FIXTURE = fileURLToPath(new URL('../fixtures/formats/torchcfm_mlp.safetensors', import.meta.url));

/** numpy's own reading of a .npy file: shape, dtype and values, as JSON. */
function numpyLoad(path: string): { shape: number[]; dtype: string; values: number[] } {
  const py = `import json, numpy as np; a = np.load(${JSON.stringify(path)}); print(json.dumps({"shape": list(a.shape), "dtype": str(a.dtype), "values": a.ravel().tolist()}))`;
  const r = python(py);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** What `rill train` printed, without the time it took and the file name. */
const trained = (stdout: string) => stdout.replace(/in [\d.]+ s/, '').replace(/→ .*/, '');

/** The rows of a CSV file written by `rill sample` (header x0,x1). */
const csvRows = (path: string) => readFileSync(path, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));

beforeAll(() => {
  expect(rill(dir, 'train', '--steps', '40', '--batch', '32', '--hidden', '16,16', '--seed', '3', '--out', 'm.rill').status).toBe(0);
  expect(rill(dir, 'train', '--steps', '40', '--batch', '32', '--hidden', '16,16', '--seed', '3', '--ema', '0.9', '--out', 'ema.rill').status).toBe(0);
});

describe('NumPy .npy', () => {
  it('sample --out x.npy writes a float32 (n, 2) array that numpy reads, equal to the CSV of the same run', () => {
    expect(rill(dir, 'sample', '--model', 'm.rill', '--n', '50', '--solver', 'rk4', '--steps', '8', '--out', 's.npy').status).toBe(0);
    expect(rill(dir, 'sample', '--model', 'm.rill', '--n', '50', '--solver', 'rk4', '--steps', '8', '--out', 's.csv').status).toBe(0);
    const a = numpyLoad(join(dir, 's.npy'));
    expect(a.shape).toEqual([50, 2]);
    expect(a.dtype).toBe('float32');
    expect(a.values).toEqual(csvRows(join(dir, 's.csv')).flat()); // CSV holds float32 values exactly (shortest form)
  });

  it('train --data x.npy trains on a numpy array (float64 in C order), like the same points from CSV', () => {
    const py = `import numpy as np; r = np.random.default_rng(0); x = np.concatenate([r.normal(-2, 0.3, (60, 2)), r.normal(2, 0.3, (60, 2))]); np.save(${JSON.stringify(join(dir, 'd.npy'))}, x); np.savetxt(${JSON.stringify(join(dir, 'd.csv'))}, x.astype(np.float32), delimiter=',', header='x0,x1', comments='', fmt='%.9g')`;
    expect(python(py).status).toBe(0);
    const fromNpy = rill(dir, 'train', '--data', 'd.npy', '--steps', '30', '--batch', '32', '--hidden', '8', '--out', 'npy.rill');
    const fromCsv = rill(dir, 'train', '--data', 'd.csv', '--steps', '30', '--batch', '32', '--hidden', '8', '--out', 'csv.rill');
    expect(fromNpy.status, fromNpy.stderr).toBe(0);
    expect(fromCsv.status, fromCsv.stderr).toBe(0);
    const loss = (s: string) => /loss ([\d.]+) \(mean/.exec(s)![1];
    expect(loss(fromNpy.stdout)).toBe(loss(fromCsv.stdout)); // the same float32 points, the same run
  });

  it('refuses a Fortran-order or a 1-D array, naming the file and the fix', () => {
    const fortran = rill(dir, 'train', '--data', fileURLToPath(new URL('../fixtures/formats/fortran.npy', import.meta.url)), '--out', 'x.rill');
    expect(fortran.status).toBe(2);
    expect(fortran.stderr).toMatch(/fortran\.npy.*Fortran order.*ascontiguousarray/);
    const oneD = rill(dir, 'train', '--data', fileURLToPath(new URL('../fixtures/formats/f32_1d.npy', import.meta.url)), '--out', 'x.rill');
    expect(oneD.status).toBe(2);
    expect(oneD.stderr).toMatch(/^rill train: .*f32_1d\.npy holds an array of shape \(\d+\); points are a 2-D array/);
    expect(existsSync(join(dir, 'x.rill'))).toBe(false);
  });
});

describe('safetensors in torchcfm layout', () => {
  it("export → import keeps the model: the same samples bit for bit (EMA weights by default, --raw the model's)", () => {
    for (const [model, raw] of [['m.rill', false], ['ema.rill', false], ['ema.rill', true]] as const) {
      const out = rill(dir, 'export', '--model', model, '--out', 'w.safetensors', ...(raw ? ['--raw'] : []));
      expect(out.status, out.stderr).toBe(0);
      expect(rill(dir, 'import', '--model', 'w.safetensors', '--out', 'back.rill').status).toBe(0);
      const args = ['--n', '40', '--solver', 'euler', '--steps', '10'];
      expect(rill(dir, 'sample', '--model', model, ...args, ...(raw ? ['--raw'] : []), '--out', 'a.csv').status).toBe(0);
      expect(rill(dir, 'sample', '--model', 'back.rill', ...args, '--out', 'b.csv').status).toBe(0);
      expect(readFileSync(join(dir, 'b.csv'), 'utf8'), `${model} raw=${raw}`).toBe(readFileSync(join(dir, 'a.csv'), 'utf8'));
    }
  });

  it("the export is torchcfm's state dict, read by an independent reader: keys net.0 … net.4, weights (out, in), metadata", () => {
    expect(rill(dir, 'export', '--model', 'm.rill', '--out', 'w.safetensors').status).toBe(0);
    const py = `import json, struct; b = open(${JSON.stringify(join(dir, 'w.safetensors'))}, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n]); print(json.dumps({k: v['shape'] if k != '__metadata__' else v for k, v in h.items()}))`;
    const r = python(py);
    expect(r.status, r.stderr).toBe(0);
    const header = JSON.parse(r.stdout);
    expect(header).toMatchObject({ 'net.0.weight': [16, 3], 'net.0.bias': [16], 'net.2.weight': [16, 16], 'net.4.weight': [2, 16], 'net.4.bias': [2] });
    expect(header.__metadata__).toMatchObject({ format: 'rill-cfm', dim: '2', hidden: '16,16', activation: 'selu', time: 'concat', path: 'linear', sigma: '0.01', source: 'normal', data: 'moons' });
  });

  it('imports a file written by an independent writer (Python, no Rill code) and samples from it', () => {
    const imported = rill(dir, 'import', '--model', FIXTURE, '--out', 'torch.rill', '--data', 'moons');
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/MLP 3→8→8→8→2 selu, linear path, σ = 0, source normal → torch\.rill/);
    const sampled = rill(dir, 'sample', '--model', 'torch.rill', '--n', '20', '--out', 't.csv');
    expect(sampled.status, sampled.stderr).toBe(0);
    expect(csvRows(join(dir, 't.csv')).flat().every(Number.isFinite)).toBe(true);
    // Flags fill in what the weights do not say.
    const silu = rill(dir, 'import', '--model', FIXTURE, '--out', 'silu.rill', '--act', 'silu', '--sigma', '0.1');
    expect(silu.stdout).toMatch(/3→8→8→8→2 silu, linear path, σ = 0\.1/);
  });

  it('bad files and flags: one line naming the file or flag, exit 2, nothing written', () => {
    writeFileSync(join(dir, 'junk.safetensors'), 'not a safetensors file at all');
    const cases: [string[], RegExp][] = [
      [['import', '--model', 'junk.safetensors', '--out', 'j.rill'], /^rill import: junk\.safetensors: /],
      [['import', '--model', 'absent.safetensors', '--out', 'j.rill'], /^rill import: absent\.safetensors: cannot read the file \(ENOENT: no such file or folder\)/],
      [['import', '--model', FIXTURE, '--out', 'j.rill', '--source', 'mars'], /^rill import: --source must be normal or a dataset/],
      [['export', '--model', 'm.rill', '--out', 'j.st', '--format', 'onnx'], /^rill export: --format must be one of safetensors, got 'onnx'/],
    ];
    for (const [args, message] of cases) {
      const r = rill(dir, ...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(join(dir, 'j.rill'))).toBe(false);
    const flow = rill(dir, 'train', '--kind', 'flow', '--steps', '2', '--out', 'flow.rill');
    expect(flow.status).toBe(0);
    const refused = rill(dir, 'export', '--model', 'flow.rill', '--out', 'f.safetensors');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^rill export: flow\.rill holds a 'flow' model/);
  });
});

describe('CSV as pandas and spreadsheets write it', () => {
  it("an index column is refused with the fix; --index-col drops it and trains on the rest", () => {
    writeFileSync(join(dir, 'pandas.csv'), ',x,y\n0,1.5,2\n1,-1,0.5\n2,0.25,-3\n');
    writeFileSync(join(dir, 'plain.csv'), 'x,y\n1.5,2\n-1,0.5\n0.25,-3\n');
    const refused = rill(dir, 'train', '--data', 'pandas.csv', '--out', 'p.rill');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^rill train: pandas\.csv: the first column has no name .*--index-col/);
    const indexed = rill(dir, 'train', '--data', 'pandas.csv', '--index-col', '--steps', '20', '--batch', '8', '--hidden', '8', '--out', 'p.rill');
    const plain = rill(dir, 'train', '--data', 'plain.csv', '--steps', '20', '--batch', '8', '--hidden', '8', '--out', 'q.rill');
    expect(indexed.status, indexed.stderr).toBe(0);
    expect(trained(indexed.stdout)).toBe(trained(plain.stdout)); // the same two columns, the same run
  });

  it('quoted numbers are numbers; a semicolon-separated file is a clear error', () => {
    writeFileSync(join(dir, 'quoted.csv'), '"x","y"\n"1.5","2"\n-1,"0.5"\n0.25,-3\n');
    writeFileSync(join(dir, 'plain.csv'), 'x,y\n1.5,2\n-1,0.5\n0.25,-3\n');
    const quoted = rill(dir, 'train', '--data', 'quoted.csv', '--steps', '20', '--batch', '8', '--hidden', '8', '--out', 'a.rill');
    const plain = rill(dir, 'train', '--data', 'plain.csv', '--steps', '20', '--batch', '8', '--hidden', '8', '--out', 'b.rill');
    expect(quoted.status, quoted.stderr).toBe(0);
    expect(trained(quoted.stdout)).toBe(trained(plain.stdout));
    writeFileSync(join(dir, 'semi.csv'), 'x;y\n1,5;2\n');
    const semi = rill(dir, 'train', '--data', 'semi.csv', '--out', 's.rill');
    expect(semi.status).toBe(2);
    expect(semi.stderr).toMatch(/^rill train: semi\.csv: fields are separated by ';' — Rill reads comma-separated values/);
  });
});
