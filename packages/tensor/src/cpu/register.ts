// Registers the plain TypeScript CPU backends: `js` (blocked matmul) and `js-reference` (textbook matmul).
import { registerBackend } from '../backend.js';
import { createJsBackend, createJsReferenceBackend } from './backend.js';

registerBackend('js', () => createJsBackend(), 10);
registerBackend('js-reference', () => createJsReferenceBackend(), 0);
