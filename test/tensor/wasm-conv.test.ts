// The wasm backend's convolution kernels (wasm/conv.ts, conv.wat, winograd.wat): forward (Winograd's F(2×2, 3×3) for
// 3×3 at stride 1, packed panels for other filters with Co a multiple of 8, row-major otherwise), input gradient (the flipped-filter convolution at stride 1, col2im otherwise), weight gradient
// (fixed chunks of images) against the float64 direct loops, within the float32 dot-product bound; and on two threads,
// the same bits as on one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import * as I from '@rill/tensor/internals';
import { initThreads, stopThreads } from '@rill/tensor/threads';
import { EPS32 } from '../helpers/close.js';
import { randomValues, testRandom } from '../helpers/reference.js';

let solo: T.WasmBackend;
beforeAll(async () => {
  T.setBackend('wasm');
  await initThreads(2);
  solo = T.createWasmBackend(I.compileKernels(false), 'wasm-conv-solo');
  T.registerBackend('wasm-conv-solo', () => solo);
});
afterAll(async () => {
  T.setBackend('cpu');
  await stopThreads();
});

type Case = { x: number[]; w: number[]; stride: [number, number]; padding: [number, number] };
const r = testRandom(2024);
const pick = <V>(vs: V[]) => vs[Math.floor(r() * vs.length)];
// Odd sizes, both strides, padding 0 and 1, 1×1 and 3×3 (and 2×3); output channels on and off the 8-wide panels;
// input channels on and off 8 (the flipped-filter path needs C a multiple of 8); batches past a weight-gradient chunk.
const cases: Case[] = Array.from({ length: 16 }, (_, k) => {
  const [kh, kw] = k % 5 === 4 ? [2, 3] : k % 2 ? [3, 3] : [1, 1];
  const stride: [number, number] = k % 4 === 3 ? [2, 2] : k % 7 === 5 ? [1, 2] : [1, 1];
  const padding: [number, number] = kh === 1 ? [0, 0] : pick([[0, 0], [1, 1], [1, 0]] as [number, number][]);
  const [h, w] = [kh + 2 + Math.floor(r() * 12), kw + 2 + Math.floor(r() * 12)];
  return { x: [k < 3 ? 11 : 1 + Math.floor(r() * 3), pick([1, 3, 8, 16]), h, w], w: [pick([1, 5, 8, 16, 24]), 0, kh, kw], stride, padding };
}).map((c) => ({ ...c, w: [c.w[0], c.x[1], c.w[2], c.w[3]] }));
// and the U-Net's own shapes, scaled down: 3×3 same-size convolutions, a strided one down, a 1×1 skip
cases.push(
  { x: [9, 16, 14, 14], w: [16, 16, 3, 3], stride: [1, 1], padding: [1, 1] },
  { x: [9, 8, 7, 7], w: [24, 8, 3, 3], stride: [2, 2], padding: [1, 1] },
  { x: [10, 24, 7, 7], w: [8, 24, 1, 1], stride: [1, 1], padding: [0, 0] },
  { x: [3, 8, 9, 6], w: [8, 8, 3, 3], stride: [1, 1], padding: [1, 0] },
  // Winograd's tiles: wide sums (C = 64, 128 as the U-Net's deepest level), odd outputs (a last half tile), no padding
  { x: [2, 64, 13, 13], w: [16, 64, 3, 3], stride: [1, 1], padding: [1, 1] },
  { x: [2, 128, 7, 7], w: [8, 128, 3, 3], stride: [1, 1], padding: [1, 1] },
  { x: [3, 8, 10, 7], w: [8, 8, 3, 3], stride: [1, 1], padding: [0, 0] },
);

/** Float64 reference of `which` and its error bound: 4·K·ε₃₂·Σ|terms| (Higham's γ_K, with room), per element. */
function reference(which: 'y' | 'dx' | 'dw', d: I.ConvDims, x: number[], w: number[], dy: number[]) {
  const abs = (v: number[]) => v.map(Math.abs);
  const run = (xs: number[], ws: number[], gs: number[]) => {
    const out = new Float64Array(which === 'y' ? d.n * d.co * d.ho * d.wo : which === 'dx' ? x.length : w.length);
    if (which === 'y') I.conv2dReference(xs, ws, null, d, out);
    else if (which === 'dx') I.conv2dInputGradReference(gs, ws, d, out);
    else I.conv2dWeightGradReference(xs, gs, d, out);
    return out;
  };
  const terms = which === 'dw' ? d.n * d.ho * d.wo : d.c * d.kh * d.kw * (which === 'dx' ? d.co : 1);
  const bound = run(abs(x), abs(w), abs(dy)).map((v) => 4 * terms * EPS32 * v + 1e-30);
  return { ref: run(x, w, dy), bound };
}

/** forward, input and weight gradients on backend `name`, as float32 copies. */
function onBackend(name: string, c: Case, x: number[], w: number[], dy: number[]) {
  T.setBackend(name);
  const [tx, tw, tdy] = [T.tensor(Float32Array.from(x), { shape: c.x }), T.tensor(Float32Array.from(w), { shape: c.w }), null as T.Tensor | null];
  const options = { stride: c.stride, padding: c.padding };
  const y = T.conv2d(tx, tw, null, options);
  const g = T.tensor(Float32Array.from(dy), { shape: y.shape as number[] });
  const dx = T.conv2dInputGrad(g, tw, c.x, options);
  const dw = T.conv2dWeightGrad(tx, g, c.w, options);
  expect([y, dx, dw].every((t) => t.backend === name)).toBe(true);
  const out = { y: Float32Array.from(y.data), dx: Float32Array.from(dx.data), dw: Float32Array.from(dw.data) };
  T.dispose([tx, tw, y, g, dx, dw, ...(tdy ? [tdy] : [])]);
  T.setBackend('wasm');
  return out;
}

describe('wasm conv2d kernels', () => {
  // 3×3 at stride 1 go through Winograd's F(2×2, 3×3) (the forward with Co, dx with C a multiple of 8; dw always);
  // the im2col path too:
  const winogradShapes = cases.filter((c) => c.w[2] === 3 && c.w[3] === 3 && c.stride[0] === 1 && c.stride[1] === 1 && c.w[0] % 8 === 0);
  it.each(winogradShapes)('x $x, w $w, padding $padding, Winograd off (im2col): forward and both gradients within the float32 bound', (c) => {
    I.winograd.enabled = false;
    try {
      const d = T.convDims('test', c.x, c.w, { stride: c.stride, padding: c.padding });
      const g = testRandom(c.x.reduce((a, b) => a * 37 + b, 5));
      const [x, w] = [randomValues(g, c.x.reduce((a, b) => a * b)).map(Math.fround), randomValues(g, c.w.reduce((a, b) => a * b)).map(Math.fround)];
      const dy = randomValues(g, d.n * d.co * d.ho * d.wo).map(Math.fround);
      const got = onBackend('wasm', c, x, w, dy);
      for (const which of ['y', 'dx', 'dw'] as const) {
        const { ref, bound } = reference(which, d, x, w, dy);
        const bad = ref.findIndex((v, i) => !(Math.abs(got[which][i] - v) <= bound[i]));
        expect(bad, `${which}[${bad}] = ${got[which][bad]}, float64 ${ref[bad]} (bound ${bound[bad]})`).toBe(-1);
      }
    } finally {
      I.winograd.enabled = true;
    }
  });

  it.each(cases)('x $x, w $w, stride $stride, padding $padding: forward and both gradients within the float32 bound; 2 threads = 1 thread, bit for bit', (c) => {
    const d = T.convDims('test', c.x, c.w, { stride: c.stride, padding: c.padding });
    const g = testRandom(c.x.reduce((a, b) => a * 31 + b, 7));
    const x = randomValues(g, c.x.reduce((a, b) => a * b)).map(Math.fround);
    const w = randomValues(g, c.w.reduce((a, b) => a * b)).map(Math.fround);
    const dy = randomValues(g, d.n * d.co * d.ho * d.wo).map(Math.fround);
    const threaded = onBackend('wasm', c, x, w, dy);
    const single = onBackend('wasm-conv-solo', c, x, w, dy);
    for (const which of ['y', 'dx', 'dw'] as const) {
      const { ref, bound } = reference(which, d, x, w, dy);
      const got = threaded[which];
      expect(got.length).toBe(ref.length);
      const bad = ref.findIndex((v, i) => !(Math.abs(got[i] - v) <= bound[i]));
      expect(bad, `${which}[${bad}] = ${got[bad]}, float64 ${ref[bad]} (bound ${bound[bad]})`).toBe(-1);
      expect(Buffer.from(got.buffer).equals(Buffer.from(single[which].buffer)), `${which}: threads changed the bits`).toBe(true);
    }
  });
});
