// @rill/tensor/webgpu: registers the WebGPU backend `webgpu` (WGSL compute shaders written for Rill: gpu.js has no
// WebGPU mode). Browsers with WebGPU; in Node through Dawn (the optional peer `webgpu`); elsewhere, and where no adapter
// is found, `webgpu` falls back to the CPU.
/**
 * Registers the WebGPU backend `webgpu` (WGSL compute shaders written for Rill: gpu.js has no WebGPU mode). Browsers with WebGPU; in Node through Dawn, Chrome's WebGPU (the `webgpu` npm package, an optional peer dependency: `npm install webgpu`); elsewhere, and where no adapter is found, `webgpu` falls back to the CPU.
 *
 * @module @rill/tensor/webgpu
 */
import { gpuUnavailable, registerBackend } from '../backend.js';
import { BackendError } from '../errors.js';
import { registerStarter } from '../ready.js';
import { wrap } from '../internal.js';
import type { NavigatorGpuLike } from './api.js';
import { createWebGpuBackend, webgpuBufferCount } from './backend.js';

export { webgpuBufferCount };

/** What initWebGpu found: the adapter's own description of itself. */
export interface WebGpuInfo {
  /**
   * The adapter's vendor, `unknown` when it does not say (SwiftShader, Chromium's software WebGPU, reads vendor
   * 'google', architecture 'swiftshader').
   */
  vendor: string;
  /** The adapter's architecture, `unknown` when it does not say. */
  architecture: string;
  /** The adapter's description, else its device name, else the empty string. */
  description: string;
}

let info: WebGpuInfo | null = null;

/**
 * In Node: loads Dawn (the `webgpu` npm package, an optional peer dependency) and exposes it as `navigator.gpu`, as a
 * browser would; `flags` are Dawn's own options (e.g. `backend=vulkan`; initWebGpu reads them from $DAWN_FLAGS,
 * comma-separated). Throws a BackendError saying why when the package is missing or its native module does not load
 * (Dawn's build needs GLIBCXX 3.4.32: Debian 13, Ubuntu 24.04).
 */
export async function useDawn(flags: string[] = []): Promise<void> {
  const name = 'webgpu'; // in a variable: bundlers leave it alone
  let dawn: { create(flags: string[]): unknown; globals: Record<string, unknown> };
  try {
    dawn = (await import(/* @vite-ignore */ name)) as typeof dawn;
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    const missing = (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && why.includes(`'${name}'`);
    throw new BackendError('webgpu', missing ? 'Dawn is not installed: `npm install webgpu` (the package that runs WebGPU in Node)' : `Dawn (the webgpu package) does not load here: ${why}`);
  }
  Object.assign(globalThis, dawn.globals);
  Object.defineProperty(globalThis, 'navigator', { value: { ...(globalThis as { navigator?: object }).navigator, gpu: dawn.create(flags) }, configurable: true });
}

/**
 * Requests a WebGPU adapter and device and registers the backend as `webgpu`. Returns what it found, or null when
 * there is no WebGPU here — then it warns once and `webgpu` names the CPU (tensors say `device: 'cpu'`). With
 * `require: true` (or RILL_REQUIRE_GPU=1) it throws instead. Reading a webgpu tensor back is asynchronous: use
 * `await t.dataAsync()`, `await prefetch(tensors)`, or Trainer.trainStepAsync.
 */
export async function initWebGpu(options: { require?: boolean; powerPreference?: 'low-power' | 'high-performance' } = {}): Promise<WebGpuInfo | null> {
  if (info) return info;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const required = options.require ?? env?.RILL_REQUIRE_GPU === '1';
  const inNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
  if (inNode && !(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) {
    try {
      await useDawn((env?.DAWN_FLAGS ?? '').split(',').filter(Boolean));
    } catch (e) {
      if (!(e instanceof BackendError)) throw e;
      return gpuUnavailable('webgpu', e.message.replace(/^webgpu: /, ''), required);
    }
  }
  const gpu = (globalThis as { navigator?: { gpu?: NavigatorGpuLike } }).navigator?.gpu;
  if (!gpu) return gpuUnavailable('webgpu', 'navigator.gpu is absent (a browser without WebGPU; Chromium on Linux needs --enable-unsafe-webgpu)', required);
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) return gpuUnavailable('webgpu', 'no WebGPU adapter was found', required);
  // The adapter's largest buffers, not the spec's 128 MiB default binding.
  const device = await adapter.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
  });
  // Validation errors (a kernel that fails to compile, a bad binding) are reported asynchronously: make them loud.
  try {
    device.addEventListener('uncapturederror', (e) => console.error(`rill webgpu: ${e.error.message}`));
  } catch {
    // Dawn's Node binding (the `webgpu` package) accepts no JavaScript listener here; it prints such errors itself.
  }
  void device.lost.then((l) => l.reason !== 'destroyed' && console.error(`rill webgpu: the device was lost: ${l.message}`));
  const backend = createWebGpuBackend(device);
  // Probe: one kernel must run and read back right.
  const x = wrap(backend.fromArray(Float32Array.of(1, 2)), [2], 'float32', backend);
  const probe = backend.unary('neg', x, []);
  const values = Array.from(await backend.readAsync!(probe, 'float32', 2));
  backend.dispose(probe);
  x.dispose();
  if (values.join() !== '-1,-2') return gpuUnavailable('webgpu', `a test kernel returned [${values}] instead of [-1,-2]`, required);
  const a = adapter.info ?? {};
  info = { vendor: a.vendor ?? 'unknown', architecture: a.architecture ?? 'unknown', description: a.description || a.device || '' };
  registerBackend('webgpu', () => backend);
  return info;
}

registerStarter('webgpu', (options) => initWebGpu(options) as Promise<unknown>);
