// A matmul worker: waits for a job on the shared control block, computes its rows of C with the js blocked kernel
// (on shared scratch copies) or the wasm kernel (on the wasm backend's own shared memory, instantiated here too).
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { matmulBlocked } from '../cpu/matmul.js';
import { wasmApi, type WasmMemory, type WasmModule } from '../wasm/api.js';
import { matmulPart } from '../wasm/backend.js';
import { EACH_KERNELS, KERNEL_NAMES, type Kernels } from '../wasm/module.js';
import { EACH, FAILED, GEN, SCRATCH, PARAMS, PENDING, SPLIT, WASM_EACH_JOB, WASM_JOB, WASM_PAIR_JOB, WASM_SPLIT_JOB, rowsOf, waitWhile, type Scratch } from './protocol.js';

const { control, params, index, port, wasm } = workerData as {
  control: SharedArrayBuffer;
  params: SharedArrayBuffer;
  index: number;
  port: MessagePort;
  wasm?: { module: WasmModule; memory: WasmMemory };
};
const kernels = wasm ? (new wasmApi!.Instance(wasm.module, { env: { memory: wasm.memory } }).exports as Kernels) : null;
const ctrl = new Int32Array(control);
const p = new Float64Array(params);
let scratch: { a: Float32Array; b: Float32Array; c: Float32Array } | null = null;
let seen = Atomics.load(ctrl, GEN);
let scratchSeen = -1; // the first job reads the buffers posted at start
parentPort!.postMessage('ready');

/** Serves jobs until the main thread stops the pool. */
function serve(): void {
  for (;;) {
    seen = waitWhile(ctrl, GEN, seen); // poll, then sleep, until the job number changes
    if (seen < 0) break;
    // New scratch buffers arrive on the port before the job that needs them (read only when some were posted).
    const posted = Atomics.load(ctrl, SCRATCH);
    if (posted !== scratchSeen) {
      scratchSeen = posted;
      for (let msg = receiveMessageOnPort(port); msg; msg = receiveMessageOnPort(port)) {
        const s = msg.message as Scratch;
        scratch = { a: new Float32Array(s.a), b: new Float32Array(s.b), c: new Float32Array(s.c) };
      }
    }
    try {
      runPart();
    } catch (e) {
      // reported, not thrown: a worker that died here would leave the main thread waiting for it forever
      port.postMessage({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
      Atomics.store(ctrl, FAILED, 1);
    }
    if (Atomics.sub(ctrl, PENDING, 1) === 1) Atomics.notify(ctrl, PENDING);
  }
}

/** This worker's part of the job in params (a function, not the loop's body: V8 optimizes functions, not a module's top level). */
function runPart(): void {
  const [m, n, k, parts] = [p[PARAMS.m], p[PARAMS.n], p[PARAMS.k], p[PARAMS.parts]];
  if (p[PARAMS.kind] === WASM_SPLIT_JOB) {
    const [start, end] = rowsOf(index, parts, m, 4);
    const argc = p[SPLIT.argc];
    const args = Array.from({ length: argc }, (_, i) => p[SPLIT.args + i] + p[SPLIT.steps + i] * start);
    if (end > start) (kernels![KERNEL_NAMES[p[SPLIT.kernel]]] as (...a: number[]) => void)(...args, end - start);
    return;
  }
  if (p[PARAMS.kind] === WASM_EACH_JOB) {
    const [start, end] = rowsOf(index, parts, m);
    const args = Array.from(p.subarray(EACH.args, EACH.args + p[EACH.argc]));
    if (end > start) kernels![EACH_KERNELS[p[EACH.kernel]]](...args, start, end, index);
    return;
  }
  if (p[PARAMS.kind] === WASM_JOB || p[PARAMS.kind] === WASM_PAIR_JOB) {
    const [start, end] = p[PARAMS.kind] === WASM_PAIR_JOB ? [0, m] : rowsOf(index, parts, m, 4);
    if (end > start) {
      const at = (name: keyof typeof PARAMS) => p[PARAMS[name]];
      matmulPart(kernels!, [at('a'), at('apacked'), at('b'), at('packed'), at('c'), at('bias'), at('y'), at('act'), n, k, at('ai'), at('ap'), at('bp'), at('bj'), 0, m], start, end);
    }
    return;
  }
  const [start, end] = rowsOf(index, parts, m);
  if (end > start) {
    matmulBlocked({ a: scratch!.a, b: scratch!.b, c: scratch!.c, m: end - start, n, k, transA: false, transB: p[PARAMS.transB] === 1, aOffset: start * k, cOffset: start * n });
  }
}

serve();
