// @rill/tensor/gpu: registers the gpu.js backend `gpu`. gpu.js is an optional dependency loaded here by dynamic import,
// so users of the CPU backends never need it (nor the native `gl` build it uses in Node).
/**
 * Registers the gpu.js backend `gpu`. gpu.js is an optional dependency loaded here by dynamic import, so users of the CPU backends never need it (nor the native `gl` build it uses in Node).
 *
 * @module @rill/tensor/gpu
 */
import { gpuUnavailable, registerBackend } from '../backend.js';
import { BackendError } from '../errors.js';
import { registerStarter } from '../ready.js';
import { createGpuBackend, gpuTextureCount, type GpuInstance } from './backend.js';

export { gpuTextureCount };

/** What initGpu found: the GL context's renderer and version, and the mode gpu.js runs in. */
export interface GpuInfo {
  /**
   * The GL renderer string, followed by ` / ` and the unmasked renderer where WEBGL_debug_renderer_info gives one
   * (under Xvfb + Mesa: software rendering by llvmpipe); `unknown` without a context object.
   */
  renderer: string;
  /** The GL version string; `unknown` without a context object. */
  version: string;
  /** The gpu.js kernel mode actually running: 'gpu' for a GL context. */
  mode: string;
}

let info: GpuInfo | null = null;

/**
 * Loads gpu.js, creates a GL context (Node: gpu.js `headlessgl` mode, which needs a display, e.g. Xvfb; browsers:
 * WebGL2, else WebGL) and registers the backend as `gpu`. Returns what it found, or null when no GL context is
 * available — then it warns once and `gpu` falls back to the CPU (tensors say `device: 'cpu'`), instead of gpu.js
 * silently running its CPU fallback while claiming to be a GPU. With `require: true` (or RILL_REQUIRE_GPU=1) it throws.
 */
export async function initGpu(options: { require?: boolean } = {}): Promise<GpuInfo | null> {
  if (info) return info;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const required = options.require ?? env?.RILL_REQUIRE_GPU === '1';
  const g = globalThis as { process?: { versions?: { node?: string } }; document?: unknown; OffscreenCanvas?: new (w: number, h: number) => object };
  const inNode = typeof g.process?.versions?.node === 'string';
  let gpu: GpuInstance;
  type GpuModule = { GPU?: new (s: object) => GpuInstance; default?: { GPU: new (s: object) => GpuInstance } };
  let module: GpuModule;
  try {
    module = (await import('gpu.js')) as unknown as GpuModule;
  } catch (e) {
    // A missing package is a setup mistake, not a machine without a GPU: say how to add it, whatever `require` says.
    // Node: ERR_MODULE_NOT_FOUND for the package 'gpu.js' itself (not a module missing inside an installed gpu.js).
    if (!((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && /package 'gpu\.js'|'gpu\.js'/.test(String(e)))) throw e;
    throw new BackendError(
      'initGpu',
      "the gpu backend needs gpu.js, an optional peer dependency of @rill/tensor that is not installed: add it with `npm install gpu.js@2` (or `pnpm add gpu.js@2`; in Node it builds the native `gl` package, which needs a C++ toolchain and the X11/GL headers, and runs under a display such as xvfb-run)",
    );
  }
  try {
    const GPU = module.GPU ?? module.default!.GPU;
    // Node: headless GL. A page: WebGL2 on a canvas of its own. A Web Worker (no document): WebGL2 on an OffscreenCanvas.
    const worker = !inNode && g.document === undefined && g.OffscreenCanvas !== undefined;
    gpu = new GPU(inNode ? { mode: 'headlessgl' } : worker ? { mode: 'webgl2', canvas: new g.OffscreenCanvas!(1, 1) } : { mode: 'webgl2' });
  } catch (e) {
    return gpuUnavailable('gpu', `no GL context (${(e as Error).message.split('\n')[0]}); in Node run under a display, e.g. xvfb-run`, required);
  }
  const backend = createGpuBackend(gpu);
  // Probe: one tiny kernel must run in GL mode, never gpu.js's CPU or WebAssembly fallback.
  const probe = backend.fromArray(new Float32Array([1, 2])) as { texture: { toArray(): ArrayLike<number> } };
  const mode = backend.kernelMode();
  const ok = mode === 'gpu' && Array.from(probe.texture.toArray()).join() === '1,2';
  backend.dispose(probe);
  if (!ok) return gpuUnavailable('gpu', `gpu.js runs in '${mode}' mode, not on a GL context`, required);
  const gl = (gpu as unknown as { context?: WebGLLike }).context;
  info = { renderer: glString(gl, 'RENDERER'), version: glString(gl, 'VERSION'), mode };
  registerBackend('gpu', () => backend);
  return info;
}

interface WebGLLike {
  getParameter(p: number): unknown;
  getExtension(name: string): Record<string, number> | null;
  RENDERER: number;
  VERSION: number;
}

function glString(gl: WebGLLike | undefined, what: 'RENDERER' | 'VERSION'): string {
  if (!gl) return 'unknown';
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const unmasked = what === 'RENDERER' && debug ? String(gl.getParameter(debug.UNMASKED_RENDERER_WEBGL)) : '';
  return [String(gl.getParameter(gl[what])), unmasked].filter(Boolean).join(' / ');
}

registerStarter('gpu', (options) => initGpu(options) as Promise<unknown>);
