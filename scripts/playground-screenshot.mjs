// Regenerates docs/playground.png (or the path given): builds the playground, serves it with `vite preview`, trains 3000 steps on moons
// in Debian's chromium (playwright-core), compares the solvers, and takes a screenshot. `node scripts/playground-screenshot.mjs`
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';

const root = fileURLToPath(new URL('../packages/playground', import.meta.url));
const out = process.argv[2] ?? fileURLToPath(new URL('../docs/playground.png', import.meta.url)); // or the path given
await build({ root, logLevel: 'warn' });
const server = await preview({ root, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0, open: false } });
const browser = await chromium.launch({ executablePath: process.env.RILL_CHROMIUM ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(server.resolvedUrls.local[0]);
  const steps = Number(process.env.PLAYGROUND_STEPS ?? 3000); // fewer for figures.sh --check
  await page.fill('#steps', String(steps));
  await page.click('#train');
  await page.waitForFunction((n) => globalThis.rill.step === n && !globalThis.rill.training && globalThis.rill.w2.some((w) => w.step === n), steps, { timeout: 120_000 });
  await page.click('#compare');
  await page.waitForFunction(() => globalThis.rill.comparison !== null);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`screenshot → ${out}`);
} finally {
  await browser.close();
  await server.close();
}
