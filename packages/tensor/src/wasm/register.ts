// Registers the `wasm` backend, which the `cpu` alias prefers wherever WebAssembly SIMD runs (else `js` takes over).
import { registerBackend } from '../backend.js';
import { createWasmBackend } from './backend.js';

registerBackend('wasm', () => createWasmBackend(), 30);
