// Builds the page that runs the webgpu backend's checks in chromium (test/webgpu/webgpu.test.ts).
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  logLevel: 'warn',
});
