// Imports the packages the way a user does: pnpm pack each one, npm install the tarballs into an empty project,
// then type-check and run a consumer from plain Node (the built dist/, not the sources the other tests use).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const PACKAGES = ['tensor', 'autograd', 'flowmatch'];
const work = mkdtempSync(join(tmpdir(), 'rill-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** pnpm as the test command runs it (npm_execpath), else the pinned version through npx. */
function pnpm(args: string[], cwd: string): string {
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(execPath)) {
    // pnpm 12 ships a native executable; older ones a JavaScript entry point.
    const [cmd, pre] = /\.[cm]?js$/.test(execPath) ? [process.execPath, [execPath]] : [execPath, []];
    return execFileSync(cmd, [...pre, ...args], { cwd, encoding: 'utf8' });
  }
  return execFileSync('npx', ['-y', 'pnpm@12.4.2', ...args], { cwd, encoding: 'utf8' });
}

const CONSUMER = `
import * as T from '@rill/tensor';
import * as A from '@rill/autograd';
import * as F from '@rill/flowmatch';
import { saveCheckpoint, loadCheckpoint } from '@rill/flowmatch/node';
const a: T.Tensor = T.tensor([[1, 2], [3, 4]]);
const c = T.matmul(a, a, { transB: true });
const s: number = T.sum(T.relu(T.sub(a, 2))).item();
// d/dx Σ x² = 2x, through the packed autograd engine.
const [g] = A.grad((x: A.Var) => A.sum(A.square(x)))(T.tensor([1, -2, 3]));
// Two training steps and a checkpoint file through the packed flowmatch (and its /node entry).
const trainer = new F.Trainer({ hidden: [8], batch: 16, steps: 2, seed: 1 });
trainer.trainStep();
const loss: number = trainer.trainStep();
saveCheckpoint('model.rill', trainer.checkpoint());
const step = loadCheckpoint('model.rill').step;
console.log(JSON.stringify({ c: c.toArray(), s, g: g.toArray(), backend: T.getBackend().name, finite: Number.isFinite(loss), step }));
`;

describe('packed packages', () => {
  it('every package has been built (the test command runs tsc -b first)', () => {
    for (const p of PACKAGES) expect(existsSync(join(root, 'packages', p, 'dist', 'index.js')), `packages/${p}/dist`).toBe(true);
  });

  it('pack, install with npm into an empty project, type-check and import from plain Node', () => {
    const tarballs = join(work, 'tarballs');
    for (const p of PACKAGES) pnpm(['pack', '--pack-destination', tarballs], join(root, 'packages', p));
    const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
    expect(files.sort()).toEqual(['rill-autograd-0.1.0.tgz', 'rill-flowmatch-0.1.0.tgz', 'rill-tensor-0.1.0.tgz']);
    const listing = execFileSync('tar', ['tzf', join(tarballs, 'rill-tensor-0.1.0.tgz')], { encoding: 'utf8' });
    expect(listing).toMatch(/package\/dist\/index\.d\.ts/);
    expect(listing).toMatch(/package\/README\.md/);
    expect(listing).not.toMatch(/tsbuildinfo/);

    const app = join(work, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // --ignore-scripts: no native build runs (gpu.js's optional `gl` stays unbuilt); the CPU path must not need it.
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', ...files.map((f) => join(tarballs, f))], { cwd: app });
    expect(existsSync(join(app, 'node_modules', 'gl', 'build', 'Release', 'webgl.node'))).toBe(false);

    // Types: the consumer compiles against the installed declarations with Node's ESM resolution.
    writeFileSync(join(app, 'main.ts'), CONSUMER);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: [] }, files: ['main.ts'] }),
    );
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { cwd: app, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);

    // Runtime: the same program as plain JavaScript.
    writeFileSync(join(app, 'main.mjs'), CONSUMER.replace(/: T\.Tensor|: number|: A\.Var/g, ''));
    const out = JSON.parse(execFileSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8' }));
    expect(out).toEqual({ c: [[5, 11], [11, 25]], s: 3, g: [2, -4, 6], backend: 'wasm', finite: true, step: 2 });

    // The CLI: `npx rill` finds the packed package's bin in this project (no download), and it works on the model.
    const help = spawnSync('npx', ['--no-install', 'rill', '--help'], { cwd: app, encoding: 'utf8' });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('rill — conditional flow matching from the command line');
    const sampled = spawnSync('npx', ['--no-install', 'rill', 'sample', '--model', 'model.rill', '--n', '10', '--solver', 'euler', '--steps', '5'], { cwd: app, encoding: 'utf8' });
    expect(sampled.status, sampled.stderr).toBe(0);
    expect(sampled.stdout).toMatch(/sampled 10 points with euler: NFE 5/);
  });
});
