#!/usr/bin/env node
// The `rill` command: a committed shim (so pnpm can link it before anything is built) that loads the built CLI.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('rill: @rill/cli is not built yet; run `npx pnpm@12.4.2 build` first\n');
  process.exit(2);
}
// A reader that stops early (`rill eval | head`) closes the pipe: stop quietly, as Unix tools do, not with a stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
