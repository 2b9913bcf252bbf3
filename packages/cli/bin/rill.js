#!/usr/bin/env node
// The `rill` command: a committed shim (so pnpm can link it before anything is built) that loads the built CLI.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';

// V8 optimizes a function once it has run a budget of bytecode; at the default budget, a training loop's functions (and
// the matmul worker's, in its own isolate) got there only after thousands of steps: rounds of 400 steps at W = 64 on
// two threads took 2.0, 0.9, 0.9, 0.8 … ms per step and settled at ~0.5 only after ~4000. A smaller budget optimizes
// them within the first few hundred (the main job, 20 000 steps: ~0.4 s less). Set before the CLI's code is loaded.
setFlagsFromString('--interrupt-budget=10000');

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
