// Vite builds the playground into static files (dist/); the worker is bundled as an ES module.
import { defineConfig } from 'vite';

// Cross-origin isolation lets the wasm backend use a shared memory (its threads, initThreads, run in Node only: the page's
// wasm runs on one thread).
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  base: './',
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true },
  worker: { format: 'es' },
  server: { headers: isolation },
  preview: { headers: isolation },
});
