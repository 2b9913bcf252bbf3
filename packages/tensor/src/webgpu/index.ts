// @rill/tensor/webgpu: registers the WebGPU backend `webgpu` (WGSL compute shaders written for Rill: gpu.js has no
// WebGPU mode). Browsers with WebGPU only; in Node, and where no adapter is found, `webgpu` falls back to the CPU.
/**
 * Registers the WebGPU backend `webgpu` (WGSL compute shaders written for Rill: gpu.js has no WebGPU mode). Browsers with WebGPU only; in Node, and where no adapter is found, `webgpu` falls back to the CPU.
 *
 * @module @rill/tensor/webgpu
 */
import { gpuUnavailable, registerBackend } from '../backend.js';
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
 * Requests a WebGPU adapter and device and registers the backend as `webgpu`. Returns what it found, or null when
 * there is no WebGPU here — then it warns once and `webgpu` names the CPU (tensors say `device: 'cpu'`). With
 * `require: true` (or RILL_REQUIRE_GPU=1) it throws instead. Reading a webgpu tensor back is asynchronous: use
 * `await t.dataAsync()`, `await prefetch(tensors)`, or Trainer.trainStepAsync.
 */
export async function initWebGpu(options: { require?: boolean; powerPreference?: 'low-power' | 'high-performance' } = {}): Promise<WebGpuInfo | null> {
  if (info) return info;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const required = options.require ?? env?.RILL_REQUIRE_GPU === '1';
  const gpu = (globalThis as { navigator?: { gpu?: NavigatorGpuLike } }).navigator?.gpu;
  if (!gpu) return gpuUnavailable('webgpu', 'navigator.gpu is absent (Node, or a browser without WebGPU; Chromium on Linux needs --enable-unsafe-webgpu)', required);
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
