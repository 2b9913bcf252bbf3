#!/usr/bin/env node
// The `rill` command: a committed shim (so pnpm can link it before anything is built) that loads the built CLI.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('rill: @rill/cli is not built yet; run `npx pnpm@12.4.2 build` first\n');
  process.exit(2);
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
