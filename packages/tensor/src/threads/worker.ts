// A matmul worker: waits for a job on the shared control block, computes its rows of C with the blocked kernel.
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { matmulBlocked } from '../cpu/matmul.js';
import { GEN, PARAMS, PENDING, rowsOf, type Scratch } from './protocol.js';

const { control, params, index, port } = workerData as { control: SharedArrayBuffer; params: SharedArrayBuffer; index: number; port: MessagePort };
const ctrl = new Int32Array(control);
const p = new Float64Array(params);
let scratch: { a: Float32Array; b: Float32Array; c: Float32Array } | null = null;
let seen = Atomics.load(ctrl, GEN);
parentPort!.postMessage('ready');

for (;;) {
  Atomics.wait(ctrl, GEN, seen); // sleep until the job number changes
  seen = Atomics.load(ctrl, GEN);
  if (seen < 0) break;
  // New scratch buffers arrive on the port before the job that needs them.
  for (let msg = receiveMessageOnPort(port); msg; msg = receiveMessageOnPort(port)) {
    const s = msg.message as Scratch;
    scratch = { a: new Float32Array(s.a), b: new Float32Array(s.b), c: new Float32Array(s.c) };
  }
  const [m, n, k, parts] = [p[PARAMS.m], p[PARAMS.n], p[PARAMS.k], p[PARAMS.parts]];
  const [start, end] = rowsOf(index, parts, m);
  if (end > start) {
    matmulBlocked({ a: scratch!.a, b: scratch!.b, c: scratch!.c, m: end - start, n, k, transA: false, transB: p[PARAMS.transB] === 1, aOffset: start * k, cOffset: start * n });
  }
  if (Atomics.sub(ctrl, PENDING, 1) === 1) Atomics.notify(ctrl, PENDING);
}
