// A matmul worker: waits for a job on the shared control block, then claims chunks from the back (see protocol.ts) and
// runs each as the main thread would (chunks.ts): the js blocked kernel on shared scratch copies, or the wasm kernels
// on the wasm backend's own shared memory, instantiated here too.
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { wasmApi, type WasmMemory, type WasmModule } from '../wasm/api.js';
import type { Kernels } from '../wasm/module.js';
import { runChunk, type ScratchArrays } from './chunks.js';
import { DONE, FAILED, GEN, PARAM_COUNT, SCRATCH, claimChunk, waitWhile, type Scratch } from './protocol.js';

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
/** This worker's copy of a job's params, taken once it has claimed a chunk (they cannot change until it is done). */
const copy = new Float64Array(PARAM_COUNT);
let scratch: ScratchArrays | null = null;
let seen = Atomics.load(ctrl, GEN);
let scratchSeen = -1; // the first job reads the buffers posted at start
parentPort!.postMessage('ready');

/** Serves jobs until the main thread stops the pool. */
function serve(): void {
  for (;;) {
    seen = waitWhile(ctrl, GEN, seen); // poll, then sleep, until a job is published
    if (seen < 0) break;
    while (takeChunk());
  }
}

/** Claims a chunk of the current job and runs it; false when none is left. */
function takeChunk(): boolean {
  const c = claimChunk(ctrl, false);
  if (c < 0) return false;
  try {
    copy.set(p);
    // New scratch buffers arrive on the port before the job that needs them (read only when some were posted).
    const posted = Atomics.load(ctrl, SCRATCH);
    if (posted !== scratchSeen) {
      scratchSeen = posted;
      for (let msg = receiveMessageOnPort(port); msg; msg = receiveMessageOnPort(port)) {
        const s = msg.message as Scratch;
        scratch = { a: new Float32Array(s.a), b: new Float32Array(s.b), c: new Float32Array(s.c) };
      }
    }
    runChunk(copy, c, index, kernels, scratch);
  } catch (e) {
    // reported, not thrown: a worker that died here would leave the main thread waiting for it forever
    port.postMessage({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    Atomics.store(ctrl, FAILED, 1);
  }
  Atomics.add(ctrl, DONE, 1);
  Atomics.notify(ctrl, DONE);
  return true;
}

serve();
