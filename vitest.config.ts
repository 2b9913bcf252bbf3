// Vitest runs test/ against the packages' TypeScript sources (the pack test checks the built, packed output).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@rill/tensor/threads': fileURLToPath(new URL('./packages/tensor/src/threads/index.ts', import.meta.url)),
      '@rill/tensor/gpu': fileURLToPath(new URL('./packages/tensor/src/gpu/index.ts', import.meta.url)),
      '@rill/tensor/webgpu': fileURLToPath(new URL('./packages/tensor/src/webgpu/index.ts', import.meta.url)),
      '@rill/tensor/internals': fileURLToPath(new URL('./packages/tensor/src/internals.ts', import.meta.url)),
      '@rill/tensor': src('tensor'),
      '@rill/autograd': src('autograd'),
      '@rill/flowmatch/node': fileURLToPath(new URL('./packages/flowmatch/src/node.ts', import.meta.url)),
      '@rill/flowmatch': src('flowmatch'),
      '@rill/cli': src('cli'),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // The autograd heap test calls global.gc() to measure heapUsed after collection.
    execArgv: ['--expose-gc'],
  },
});
