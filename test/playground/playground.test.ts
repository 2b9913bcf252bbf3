// The playground in a real browser (Debian's chromium driven by playwright-core): training on each CPU backend lowers
// the loss and brings the samples near the data, .rill files go both ways between the page and the CLI, no console
// errors, labelled controls, a phone-sized layout, and a screenshot (out/playground.png).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as F from '@rill/flowmatch';
import { loadCheckpoint } from '@rill/flowmatch/node';
import * as T from '@rill/tensor';
import { rill } from '../cli/run.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PLAYGROUND = join(ROOT, 'packages/playground');
const CHROMIUM = process.env.RILL_CHROMIUM ?? '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'rill-playground-'));

let server: PreviewServer;
let url: string;
let browser: Browser;
const consoleErrors: string[] = [];

interface PageState {
  step: number;
  losses: number[];
  training: boolean;
  backend: string;
  stepsPerSecond: number;
  w2: { step: number; w2: number }[];
  errors: string[];
  loaded: number;
}

async function open(width = 1280, height = 800): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height }, acceptDownloads: true });
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(`${m.text()} (${m.location().url})`));
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.goto(url);
  return page;
}

const state = (page: Page) => page.evaluate(() => (globalThis as unknown as { rill: PageState }).rill);

/** Sets the controls, clicks Train, waits for the run and its final snapshot. */
async function trainOn(page: Page, backend: string, steps: number): Promise<PageState> {
  await page.selectOption('#data', 'moons');
  await page.selectOption('#backend', backend);
  await page.fill('#steps', String(steps));
  await page.click('#train');
  await page.waitForFunction((n) => {
    const s = (globalThis as unknown as { rill: PageState }).rill;
    return s.errors.length > 0 || (s.step === n && !s.training && s.w2.some((w) => w.step === n));
  }, steps, { timeout: 200_000 });
  return state(page);
}

/** Loads `name` (in the test folder) into the page; waits for its first snapshot (the model is at `step`), or an error. */
async function load(page: Page, name: string, step: number): Promise<PageState> {
  await page.setInputFiles('#load', join(dir, name));
  await page.waitForFunction((n) => {
    const s = (globalThis as unknown as { rill: PageState }).rill;
    return s.errors.length > 0 || (s.loaded === 1 && s.w2.some((w) => w.step === n));
  }, step, { timeout: 60_000 });
  return state(page);
}

/** Clicks Save, stores the download as `name`, and checks that `rill eval` opens it as a moons model. */
async function saveAndEvaluate(page: Page, name: string): Promise<void> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
  const fromPage = join(dir, name);
  await download.saveAs(fromPage);
  const evaluated = rill(dir, 'eval', '--model', fromPage, '--n', '300', '--json');
  expect(evaluated.status, evaluated.stderr).toBe(0);
  expect(JSON.parse(evaluated.stdout)).toMatchObject({ kind: 'cfm', data: 'moons', n: 300 });
}

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `the browser tests need ${CHROMIUM} (Debian's chromium; scripts/setup.sh installs it)`).toBe(true);
  await build({ root: PLAYGROUND, logLevel: 'warn' });
  // `vite preview` serves dist/ with the config's cross-origin isolation headers, as `pnpm playground` does
  server = await preview({ root: PLAYGROUND, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0, open: false } });
  url = server.resolvedUrls!.local[0];
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu', '--disable-background-networking', '--no-first-run'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the playground in chromium', () => {
  for (const backend of ['wasm', 'js']) {
    it(`trains 400 steps on moons on ${backend}: the loss falls and W2 to the data falls below 0.6 × its first value and below 1`, async () => {
      const page = await open();
      const s = await trainOn(page, backend, 400);
      expect(s.errors).toEqual([]);
      expect(s.backend).toBe(backend);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(s.losses.slice(-50))).toBeLessThan(mean(s.losses.slice(0, 50)) - 0.5);
      expect(s.w2[0].step).toBe(0); // the untrained model, sampled before the first step
      const [first, last] = [s.w2[0].w2, s.w2.at(-1)!.w2];
      expect(last).toBeLessThan(0.6 * first);
      expect(last).toBeLessThan(1);
      // every solver at ~40 evaluations, dopri5 adaptive: a table of NFE, W2 and time
      await page.click('#compare');
      await page.waitForFunction(() => (globalThis as unknown as { rill: { comparison: unknown } }).rill.comparison !== null);
      const rows = await page.evaluate(() => (globalThis as unknown as { rill: { comparison: { rows: { solver: string; nfe: number; w2: number }[] } } }).rill.comparison.rows);
      expect(rows.map((r) => [r.solver, r.nfe])).toEqual([['euler', 40], ['midpoint', 40], ['heun', 40], ['rk4', 40], ['dopri5', rows[4].nfe]]);
      for (const r of rows) expect(r.w2).toBeLessThan(1.5 * last + 0.1); // the same model: every solver near the snapshot's W2
      expect(await page.locator('#solvers tr').count()).toBe(6);
      await page.close();
    }, 120_000);
  }

  it('trains 60 steps on gpu (gpu.js WebGL2 in the worker, on SwiftShader): the loss and W2 fall', async () => {
    const page = await open();
    const s = await trainOn(page, 'gpu', 60);
    expect(s.errors).toEqual([]);
    expect(s.backend).toBe('gpu');
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(s.losses.slice(-10))).toBeLessThan(mean(s.losses.slice(0, 10)) - 0.5);
    expect(s.w2.at(-1)!.w2).toBeLessThan(0.8 * s.w2[0].w2);
    await page.close();
  }, 240_000);

  it('trains 200 steps on webgpu (WGSL kernels on SwiftShader’s WebGPU) with OT-CFM: the loss and W2 fall; the views and a save work', async () => {
    const page = await open();
    await page.selectOption('#coupling', 'ot'); // the pairing reads each batch back asynchronously
    await page.fill('#batch', '128'); // SwiftShader runs the shaders on the CPU: half the default batch, twice the steps/s
    const s = await trainOn(page, 'webgpu', 200);
    expect(s.errors).toEqual([]);
    expect(s.backend).toBe('webgpu');
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(s.losses.slice(-20))).toBeLessThan(0.6 * mean(s.losses.slice(0, 20))); // OT pairs start the loss low (≈ 0.5)
    expect(s.w2.at(-1)!.w2).toBeLessThan(0.7 * s.w2[0].w2);
    console.log(`playground on webgpu (SwiftShader): ${s.stepsPerSecond.toFixed(1)} steps/s; W2 ${s.w2[0].w2.toFixed(3)} → ${s.w2.at(-1)!.w2.toFixed(3)}`);
    // the solver table and the field run on the CPU from weights read back asynchronously
    await page.click('#compare');
    await page.waitForFunction(() => (globalThis as unknown as { rill: { comparison: unknown } }).rill.comparison !== null);
    const rows = await page.evaluate(() => (globalThis as unknown as { rill: { comparison: { rows: { solver: string; w2: number }[] } } }).rill.comparison.rows);
    for (const r of rows) expect(r.w2).toBeLessThan(1.5 * s.w2.at(-1)!.w2 + 0.1);
    await saveAndEvaluate(page, 'webgpu.rill');
    expect((await state(page)).errors).toEqual([]);
    await page.close();
  }, 240_000);

  it('conditions on the class: guided samples of one class sit on its data; the SDE samples too; the exact field is drawn beside u_θ', async () => {
    const page = await open();
    await page.selectOption('#data', 'gmm');
    await page.check('#conditional');
    await page.selectOption('#backend', 'wasm');
    await page.fill('#steps', '800');
    await page.click('#train');
    const done = () => page.waitForFunction(() => {
      const s = (globalThis as unknown as { rill: PageState }).rill;
      return s.errors.length > 0 || (s.step === 800 && !s.training && s.w2.some((w) => w.step === 800));
    }, undefined, { timeout: 120_000 });
    await done();
    expect(await page.locator('#class option').count()).toBe(4); // ∅, 0, 1, 2
    const snapshots = async () => (await page.evaluate(() => (globalThis as unknown as { rill: { w2: { w2: number; solver: string; nfe: number }[] } }).rill.w2)).length;
    /** Acts, waits for a new snapshot and then for quiet (a control may ask for more than one), returns the last. */
    const next = async (act: () => Promise<void>) => {
      const before = await snapshots();
      await act();
      await page.waitForFunction((n) => (globalThis as unknown as { rill: { w2: unknown[] } }).rill.w2.length > n, before, { timeout: 60_000 });
      for (let seen = await snapshots(); ; ) {
        await page.waitForTimeout(1500);
        const now = await snapshots();
        if (now === seen) break;
        seen = now;
      }
      return page.evaluate(() => (globalThis as unknown as { rill: { w2: { w2: number; solver: string; nfe: number }[] } }).rill.w2.at(-1)!);
    };
    // class 1 at w = 1: W2 to that class's points (a single Gaussian, std 0.5) is small; at w = 3 guidance pushes the
    // samples away from the other classes, off the class's own spread: W2 grows (the trade-off of chapter 6)
    const guided = await next(async () => {
      await page.selectOption('#class', '1');
    });
    expect(guided.w2).toBeLessThan(0.5);
    const stronger = await next(async () => {
      await page.fill('#guidance', '3');
      await page.dispatchEvent('#guidance', 'change');
    });
    expect(stronger.nfe).toBeGreaterThan(guided.nfe); // two evaluations per call
    expect(stronger.w2).toBeGreaterThan(guided.w2);
    await next(async () => {
      await page.fill('#guidance', '1');
      await page.dispatchEvent('#guidance', 'change');
    });
    // the SDE with g = 1·√β_t from the same field: fixed steps, one or two evaluations each
    await page.fill('#diffusion', '1');
    const sde = await next(() => page.click('#sample'));
    expect(sde.solver).toMatch(/^SDE/);
    expect(sde.w2).toBeLessThan(0.6);
    // the field view with the exact field (∗) of 200 data points
    await page.check('#show-exact');
    await page.check('#show-field');
    await page.waitForFunction(() => (globalThis as unknown as { rill: { field: { exact: unknown } | null } }).rill.field?.exact != null, undefined, { timeout: 60_000 });
    expect((await state(page)).errors).toEqual([]);
    await page.close();
  }, 240_000);

  it('trains on points painted onto the canvas: the samples land near them (adamw, OT-CFM)', async () => {
    const page = await open();
    await page.selectOption('#data', 'custom');
    // two clusters of 15 clicks, around canvas pixels (105, 105) and (315, 315) of the 420-pixel square
    for (let i = 0; i < 15; i++) {
      for (const [cx, cy] of [[105, 105], [315, 315]]) await page.click('#samples', { position: { x: cx + ((i * 7) % 21) - 10, y: cy + ((i * 11) % 21) - 10 } });
    }
    await page.selectOption('#optimizer', 'adamw');
    await page.selectOption('#coupling', 'ot');
    await page.selectOption('#backend', 'wasm');
    await page.fill('#steps', '600');
    await page.click('#train');
    await page.waitForFunction(() => {
      const s = (globalThis as unknown as { rill: PageState }).rill;
      return s.errors.length > 0 || (s.step === 600 && !s.training && s.w2.some((w) => w.step === 600));
    }, undefined, { timeout: 120_000 });
    const result = await page.evaluate(() => {
      const s = (globalThis as unknown as { rill: PageState & { painted: number[]; snapshot: { trajectory: Float32Array[] } } }).rill;
      const x = s.snapshot.trajectory[s.snapshot.trajectory.length - 1];
      let total = 0;
      for (let i = 0; i < x.length; i += 2) {
        let best = Infinity;
        for (let j = 0; j < s.painted.length; j += 2) best = Math.min(best, Math.hypot(x[i] - s.painted[j], x[i + 1] - s.painted[j + 1]));
        total += best;
      }
      return { painted: s.painted.length / 2, meanDistance: total / (x.length / 2), errors: s.errors };
    });
    expect(result.errors).toEqual([]);
    expect(result.painted).toBe(30);
    // the two clusters are ~4.8 apart in data units; samples stay within a fraction of that of a painted point
    expect(result.meanDistance).toBeLessThan(0.6);
    // the saved file carries the painted points: it opens in a fresh page, which samples near them again
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    await download.saveAs(join(dir, 'painted.rill'));
    await page.close();
    const fresh = await open();
    const reloaded = await load(fresh, 'painted.rill', 600);
    expect(reloaded.errors).toEqual([]);
    expect(reloaded.w2.at(-1)!.w2).toBeLessThan(1);
    await fresh.close();
  }, 180_000);

  it('a .rill saved by the page opens in the CLI, and one trained by the CLI opens in the page', async () => {
    const page = await open();
    await trainOn(page, 'wasm', 200);
    await saveAndEvaluate(page, 'page.rill');

    const trained = rill(dir, 'train', '--data', 'moons', '--steps', '300', '--hidden', '32,32', '--out', 'cli.rill');
    expect(trained.status, trained.stderr).toBe(0);
    const s = await load(page, 'cli.rill', 300);
    expect(s.errors).toEqual([]);
    expect(s.w2.at(-1)!.w2).toBeLessThan(1.5);
    await page.close();
  }, 180_000);

  it('every control has a label; the layout fits a phone-sized viewport; a screenshot at 1280×800', async () => {
    const page = await open(390, 844);
    // (page-side code as strings: the tests compile without the DOM library)
    const unlabelled = await page.evaluate("[...document.querySelectorAll('input, select')].filter((el) => el.labels?.length === 0 && !el.getAttribute('aria-label')).map((el) => el.id)");
    expect(unlabelled).toEqual([]);
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await page.close();
    const wide = await open();
    await trainOn(wide, 'wasm', 300);
    await wide.check('#show-field');
    await wide.waitForFunction(() => (globalThis as unknown as { rill: { field: unknown } }).rill.field !== null);
    mkdirSync(join(ROOT, 'out'), { recursive: true });
    writeFileSync(join(ROOT, 'out/playground.png'), await wide.screenshot({ fullPage: true }));
    expect(readFileSync(join(ROOT, 'out/playground.png')).subarray(1, 4).toString()).toBe('PNG');
    await wide.close();
  }, 120_000);

  it('the digits page: the shipped MNIST model draws a 7 and a 2 on wasm and a 7 on webgpu, which the referee (run here, in Node) labels so; a 2D model is refused', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(`${m.text()} (${m.location().url})`));
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(new URL('digits.html', url).href);
    type Digits = { ready: boolean; generating: boolean; pixels: number[]; label: number; errors: string[]; backend: string };
    const digits = () => page.evaluate(() => (globalThis as unknown as { rill: Digits }).rill);
    await page.waitForFunction(() => (globalThis as unknown as { rill: Digits }).rill?.ready, null, { timeout: 60_000 });
    const referee = F.refereeFromCheckpoint(loadCheckpoint(join(ROOT, 'packages/cli/referee/mnist.rill')));
    for (const digit of [7, 2]) {
      await page.selectOption('#digit', String(digit));
      await page.fill('#steps', '20');
      await page.click('#generate');
      await page.waitForFunction((d) => {
        const s = (globalThis as unknown as { rill: Digits }).rill;
        return s.errors.length > 0 || (!s.generating && s.label === d && s.pixels.length === 784);
      }, digit, { timeout: 120_000 });
      const s = await digits();
      expect(s.errors).toEqual([]);
      const { labels } = F.classify(referee, T.tensor(Float32Array.from(s.pixels), { shape: [1, 784] }));
      expect(labels[0]).toBe(digit);
    }
    // the same on webgpu (WGSL convolutions on SwiftShader's WebGPU): the model moves to the device, a 7 comes out
    await page.evaluate(() => ((globalThis as unknown as { rill: Digits }).rill.ready = false));
    await page.selectOption('#backend', 'webgpu');
    await page.waitForFunction(() => {
      const s = (globalThis as unknown as { rill: Digits }).rill;
      return s.ready || s.errors.length > 0;
    }, null, { timeout: 60_000 });
    await page.selectOption('#digit', '7');
    await page.fill('#steps', '10');
    await page.click('#generate');
    await page.waitForFunction(() => {
      const s = (globalThis as unknown as { rill: Digits }).rill;
      return s.errors.length > 0 || (!s.generating && s.label === 7 && s.pixels.length === 784 && s.backend === 'webgpu');
    }, null, { timeout: 120_000 });
    const onGpu = await digits();
    expect(onGpu.errors).toEqual([]);
    expect(F.classify(referee, T.tensor(Float32Array.from(onGpu.pixels), { shape: [1, 784] })).labels[0]).toBe(7);
    const trained = rill(dir, 'train', '--data', 'moons', '--steps', '10', '--out', 'points.rill');
    expect(trained.status, trained.stderr).toBe(0);
    await page.setInputFiles('#load', join(dir, 'points.rill'));
    await page.waitForFunction(() => (globalThis as unknown as { rill: Digits }).rill.errors.length > 0);
    expect((await digits()).errors[0]).toMatch(/points.rill is a model of 2-dimensional points; this page draws images/);
    await page.close();
  }, 240_000);

  it('no console errors on any page', () => {
    expect(consoleErrors).toEqual([]);
  });
});
