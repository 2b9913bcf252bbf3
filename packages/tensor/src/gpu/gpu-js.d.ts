// gpu.js is an optional peer dependency, loaded by dynamic import and typed by hand where it is used (index.ts,
// backend.ts): this declaration lets the package build where gpu.js is not installed.
declare module 'gpu.js';
