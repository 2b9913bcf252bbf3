// The webgpu backend (WGSL compute shaders) in a real browser — Debian's chromium with --enable-unsafe-webgpu, whose
// WebGPU adapter is SwiftShader on the CPU: every kernel against a float64 reference computed on the js backend in the
// same page, the asynchronous read rule, buffer lifetimes and training. In Node (no WebGPU): the fallback and errors.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { initWebGpu } from '@rill/tensor/webgpu';
import { expectClose } from '../helpers/close.js';
import type { Checks, Pair } from './page/checks.js';

const PAGE = fileURLToPath(new URL('./page/', import.meta.url));
const CHROMIUM = process.env.RILL_CHROMIUM ?? '/usr/bin/chromium';

let server: PreviewServer;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

/** Calls one of the page's checks (test/webgpu/page/checks.ts) and returns its result. */
function check<K extends keyof Checks>(name: K, ...args: Parameters<Checks[K]>): Promise<Awaited<ReturnType<Checks[K]>>> {
  return page.evaluate(
    ([n, a]) => ((globalThis as unknown as { checks: Record<string, (...x: unknown[]) => unknown> }).checks[n](...a) as Promise<never>),
    [name, args] as [string, unknown[]],
  );
}

function expectPairs(pairs: Pair[]): void {
  expect(pairs.length).toBeGreaterThan(0);
  for (const p of pairs) {
    expect(p.got.length, p.label).toBe(p.want.length);
    try {
      expectClose(p.got, p.want, { rtol: p.rtol, atol: p.atol });
    } catch (e) {
      throw new Error(`${p.label}: ${(e as Error).message}`);
    }
  }
}

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `the browser tests need ${CHROMIUM} (Debian's chromium; scripts/setup.sh installs it)`).toBe(true);
  await build({ root: PAGE, logLevel: 'warn' });
  // navigator.gpu exists only in a secure context: a page served from 127.0.0.1 is one (about:blank is not)
  server = await preview({ root: PAGE, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0, open: false } });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-background-networking', '--no-first-run'],
  });
  page = await browser.newPage();
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.goto(server.resolvedUrls!.local[0]);
  await page.waitForFunction(() => 'checks' in globalThis);
  const info = await check('info').catch((e: Error) => {
    throw new Error(`${e.message}\nconsole errors: ${consoleErrors.join('\n')}`);
  });
  console.log(`webgpu backend: adapter vendor '${info?.vendor}', architecture '${info?.architecture}'`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the webgpu backend in chromium, against float64 references', () => {
  it('every activation and its derivative on odd sizes (rtol 1e-4; sin and cos to WGSL’s 2⁻¹¹)', async () => expectPairs(await check('unary')), 60_000);
  it('every binary op with broadcasting; pow of negative bases, int32, where', async () => expectPairs(await check('binary')), 60_000);
  it('matmul: every transpose flag, odd sizes that cut tiles, K = 300, batched and broadcast', async () => expectPairs(await check('matmul')), 60_000);
  it('reductions, arg-reductions, transpose, slice, broadcastTo, concat, gather, scatterAdd, cast', async () => expectPairs(await check('shapes')), 60_000);
  it('the fused linear layer: z = x·W (+ b) and y = act(z) from one kernel, for each fusable activation', async () => expectPairs(await check('linear')), 60_000);
  it('the fused Adam step (θ, m and v from one kernel), with L2 and with decoupled decay', async () => expectPairs(await check('adam')), 60_000);
  it('conv2d with bias and both gradients (direct WGSL kernels): strides 1 and 2, padding 0 and 1, 1×1 and 3×3', async () => expectPairs(await check('conv')), 60_000);
  it('a small conditional U-Net: its velocity and every parameter gradient, against float64', async () => expectPairs(await check('unet')), 60_000);
  it('sizes past one dispatch row and one tile: a 300×300 add, a 256³ matmul, a sum of 40 000', async () => expectPairs(await check('large')), 60_000);

  it('tensors live on the device; synchronous reads need an awaited read-back first; nothing leaks', async () => {
    const r = await check('residency');
    expect(r.device).toBe('gpu');
    expect(r.uploadRead).toEqual([1, 2, 3]);
    expect(r.syncError).toMatch(/^webgpu: WebGPU reads back only asynchronously: `await tensor\.dataAsync\(\)`/);
    expect(r.afterPrefetch).toEqual([2, 4, 6]);
    expect(r.onCpu).toEqual([3, 5, 7]);
    expect(r.leaked).toBe(0);
  });

  for (const config of [
    { data: 'moons' as const, batch: 64, hidden: [32, 32], seed: 3 },
    { data: 'moons' as const, batch: 64, hidden: [32, 32], seed: 4, coupling: 'ot' as const, clipNorm: 0.5, ema: 0.9, optimizer: 'adamw' as const },
  ]) {
    it(`30 steps track the CPU run's losses (${config.coupling ?? 'independent'}${config.clipNorm ? ', clipped, EMA' : ''}); buffers stay flat; the checkpoint encodes`, async () => {
      const r = await check('training', config);
      expectClose(r.gpu, r.cpu, { rtol: 2e-3, atol: 1e-4 });
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(r.last)).toBeLessThan(mean(r.cpu.slice(0, 10)));
      expect(r.buffersAt130).toBe(r.buffersAt30);
      expect(r.savedBytes).toBeGreaterThan(1000);
    }, 120_000);
  }

  it('no console errors (a WGSL compile error or a validation error would print one)', () => {
    expect(consoleErrors).toEqual([]);
  });
});

describe('without WebGPU (Node)', () => {
  it('selecting webgpu before initWebGpu explains what to call', () => {
    expect(() => T.setBackend('webgpu')).toThrow("setBackend: the webgpu backend is not started: `await initWebGpu()` from '@rill/tensor/webgpu' first");
  });

  it('initWebGpu({ require: true }) throws; without require it warns once, returns null, and webgpu names the CPU', async () => {
    // in Node it tries Dawn first (the optional peer `webgpu`): absent, or its native module needs GLIBCXX 3.4.32
    const dawn = /Dawn (is not installed: `npm install webgpu`|\(the webgpu package\) does not load here: )/;
    await expect(initWebGpu({ require: true })).rejects.toThrow(new RegExp(`^webgpu: ${dawn.source}`));
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (m: string) => warnings.push(m);
    try {
      expect(await initWebGpu({ require: false })).toBeNull();
      expect(await initWebGpu({ require: false })).toBeNull();
    } finally {
      console.warn = warn;
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`the webgpu backend is unavailable: ${dawn.source}.*Using the CPU`));
    T.setBackend('webgpu');
    try {
      expect(T.tensor([1, 2]).device).toBe('cpu');
    } finally {
      T.setBackend('cpu');
    }
  });
});
