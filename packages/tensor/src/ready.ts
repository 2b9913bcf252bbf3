// One way to start: `await ready({ backend, threads })` loads and starts what a backend needs, makes it active and
// says what it found — instead of initWasm, initThreads, initGpu and initWebGpu called by hand.
import { BackendError } from './errors.js';
import { getBackend, setBackend } from './backend.js';
import { hasWasmSimd, initWasm, wasmKernelVariant, type WasmSource } from './wasm/module.js';

/** The backends `ready` starts: `cpu` is the fastest CPU backend here (wasm where WebAssembly SIMD runs) on all cores. */
export type BackendChoice = 'cpu' | 'wasm' | 'js' | 'gpu' | 'webgpu';

/** What {@link ready} starts. */
export interface ReadyOptions {
  /** The backend to start and make active (default `cpu`). */
  backend?: BackendChoice;
  /**
   * Threads for large matmuls (Node; a browser runs one): a count, or `all` for every core. Default: `all` for `cpu`
   * and `wasm`, 1 for `js` (the plain kernels, for reading and testing). Ignored by the GPU backends.
   */
  threads?: number | 'all';
  /** For `gpu` and `webgpu`: throw when the GPU cannot start, instead of warning once and using the CPU. */
  require?: boolean;
  /** Where the WebAssembly kernels come from (bytes or a URL; default the bytes built into this package). */
  wasm?: WasmSource;
}

/** What {@link ready} found and started. */
export interface ReadyInfo {
  /** The backend asked for. */
  requested: BackendChoice;
  /** The active backend's name: `wasm`, `js`, `js-threads`, `gpu` or `webgpu` (or what a GPU fell back to). */
  backend: string;
  /** Where new tensors live: `cpu` or `gpu`. */
  device: string;
  /** Threads the CPU kernels use (1 in browsers and on GPU backends). */
  threads: number;
  /** Whether this engine runs WebAssembly SIMD (the `wasm` backend's requirement). */
  simd: boolean;
  /**
   * Whether the wasm kernels are the relaxed-SIMD variant (the matmul tile on fused multiply-adds; where the engine has
   * relaxed SIMD, unless `wasm: { relaxed: false }`): its results differ in the last bits from the baseline variant's.
   */
  relaxedSimd: boolean;
  /** What the GPU reported (renderer, vendor…), or null on the CPU or when the GPU could not start. */
  gpu: Record<string, string> | null;
  /** Why the backend asked for is not the one running, or null when it is. */
  fallback: string | null;
}

/** A backend's asynchronous start, registered by the entry that holds it (`@rill/tensor/gpu`, `/webgpu`, `/threads`). */
type Starter = (options: { require?: boolean; threads?: number }) => Promise<unknown>;
const starters = new Map<string, Starter>();

/**
 * Registers how `ready` starts `name` (`gpu`, `webgpu` or `threads`). The entries `@rill/tensor/gpu`, `/webgpu` and
 * `/threads` call it when imported, so an app that bundles them (a browser page) needs no dynamic import by name.
 */
export function registerStarter(name: 'gpu' | 'webgpu' | 'threads', start: Starter): void {
  starters.set(name, start);
}

const inNode = () => typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

/** The starter for `name`: registered already, else (in Node) loaded from this package's own entry by name. */
async function starter(name: 'gpu' | 'webgpu' | 'threads'): Promise<Starter> {
  if (!starters.has(name) && inNode()) {
    // A specifier in a variable: bundlers leave it alone, so the CPU path never pulls gpu.js or worker_threads in.
    const entry = `@rill/tensor/${name}`;
    try {
      await import(/* @vite-ignore */ entry);
    } catch (e) {
      throw new BackendError('ready', `cannot load ${entry} (${(e as Error).message.split('\n')[0]})`);
    }
  }
  const start = starters.get(name);
  // A page that bundles Rill imports the entry itself (the bundler must see it); so does a second copy of the package.
  if (!start) throw new BackendError('ready', `the ${name} backend is not loaded here: \`await import('@rill/tensor/${name}')\` first`);
  return start;
}

/**
 * Starts a backend and makes it active: `cpu` (the default) is the fastest CPU backend here — `wasm` where
 * WebAssembly SIMD runs, else `js` — with its large matmuls split across every core (Node); `wasm` and `js` name one;
 * `gpu` loads gpu.js (an optional peer dependency: `npm install gpu.js`) and `webgpu` requests a WebGPU device, each
 * warning once and using the CPU where it cannot run (or throwing, with `require`). Safe to call again; the same
 * options give the same backend, so a seeded run gives the same numbers.
 *
 * ```ts
 * const info = await T.ready({ backend: 'cpu' }); // { backend: 'wasm', threads: 2, simd: true, … }
 * ```
 */
export async function ready(options: ReadyOptions = {}): Promise<ReadyInfo> {
  const requested = options.backend ?? 'cpu';
  if (!['cpu', 'wasm', 'js', 'gpu', 'webgpu'].includes(requested)) {
    throw new BackendError('ready', `unknown backend '${String(requested)}' (cpu, wasm, js, gpu or webgpu)`);
  }
  const { threads: wanted = requested === 'js' ? 1 : 'all' } = options;
  if (wanted !== 'all' && !(Number.isInteger(wanted) && wanted >= 1)) {
    throw new BackendError('ready', `threads must be a positive integer or 'all', got ${String(wanted)}`);
  }
  const simd = hasWasmSimd();
  const info: ReadyInfo = { requested, backend: requested, device: 'cpu', threads: 1, simd, relaxedSimd: false, gpu: null, fallback: null };

  if (requested === 'gpu' || requested === 'webgpu') {
    const found = (await (await starter(requested))({ require: options.require })) as Record<string, string> | null;
    setBackend(requested);
    info.gpu = found;
    if (!found) info.fallback = `the ${requested} backend is unavailable here; the CPU runs instead`;
  } else {
    if (requested !== 'js' && simd) {
      await initWasm(options.wasm);
      info.relaxedSimd = wasmKernelVariant() === 'relaxed-simd';
    }
    if (requested === 'wasm' && !simd) throw new BackendError('ready', 'the wasm backend needs WebAssembly SIMD, which this engine lacks: use cpu or js');
    if (inNode()) {
      // The pool is resized to exactly what is asked (a pool left running would still split the matmuls).
      const count = wanted === 'all' ? undefined : wanted;
      if (count !== 1) info.threads = (await (await starter('threads'))({ threads: count })) as number;
      else if (starters.has('threads')) await starters.get('threads')!({ threads: 1 });
    } else if (options.threads !== undefined && wanted !== 1) {
      info.fallback = 'threads run only in Node: one thread here';
    }
    // `js` on several threads is `js-threads`, the same kernels split by rows.
    setBackend(requested === 'js' && info.threads > 1 ? 'js-threads' : requested);
    if (requested === 'cpu' && !simd) info.fallback = 'no WebAssembly SIMD here: the js kernels run';
  }
  const active = getBackend();
  info.backend = active.name;
  info.device = active.device;
  if (info.device !== 'cpu') info.threads = 1;
  return info;
}
