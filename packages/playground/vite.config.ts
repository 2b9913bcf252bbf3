// Vite builds the playground's two pages (index.html: 2D training; digits.html: sampling digits) into static files
// (dist/); the worker is bundled as an ES module.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const page = (name: string) => fileURLToPath(new URL(name, import.meta.url));

// Cross-origin isolation lets the wasm backend use a shared memory (its threads, initThreads, run in Node only: the page's
// wasm runs on one thread).
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  base: './',
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true, rollupOptions: { input: { main: page('index.html'), digits: page('digits.html') } } },
  worker: { format: 'es' },
  server: { headers: isolation },
  preview: { headers: isolation },
});
