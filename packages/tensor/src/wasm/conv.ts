// The wasm backend's convolution, one image at a time on every thread; the columns of the whole batch never exist.
// Forward (K = C·kH·kW, P = Ho·Wo): y[n]ᵀ (P×Co) = cols[n]ᵀ·Wᵀ, the windows unfolded straight into the matmul kernel's
// packed layout (im2colPanels) so that P — hundreds of positions — is the kernel's row count, then turned to (Co, P)
// with the bias added (unpanel). Input gradient, stride 1: a forward convolution of dy with the flipped, transposed
// filters (the transposed convolution); other strides: dcols[n] = Wᵀ·dy[n], then col2im. Weight gradient:
// dWᵀ = Σ cols[n]·dy[n]ᵀ in fixed chunks of images. Fewer than 8 output channels (the kernel's panel width) take the row-major path.
import type { ConvDims } from '../cpu/conv.js';
import type { Tensor } from '../tensor.js';
import type { Block } from './heap.js';
import type { WasmParts } from './backend.js';

/** The three convolution kernels of the Backend interface, for float32 tensors on `parts`' memory. */
export function wasmConv(parts: WasmParts, ptr: (t: Tensor) => number) {
  const { heap, kernels } = parts;
  const unfoldArgs = (d: ConvDims) => [d.c, d.h, d.w, d.kh, d.kw, d.sh, d.sw, d.ph, d.pw, d.ho, d.wo] as const;
  /** Runs `body` with scratch blocks of the given float counts, freed afterwards. */
  function withScratch<R>(floats: number[], body: (...blocks: number[]) => R): R {
    const blocks: Block[] = floats.map((f) => heap.alloc(4 * Math.max(f, 1)));
    try {
      return body(...blocks.map((b) => b.ptr));
    } finally {
      for (const b of blocks) heap.free(b);
    }
  }
  /** Rows [0, m) of C (m×n) = op(A)·op(B) with op(A) already packed (read in place at `a` only for n mod 8 columns). */
  function product(a: number, apacked: number, ai: number, ap: number, b: number, bp: number, bj: number, c: number, m: number, n: number, k: number): void {
    withScratch([k * n], (packed) => {
      kernels.packB(b, packed, k, n, bp, bj);
      parts.rows(kernels, [a, apacked, b, packed, c, 0, 0, 0, n, k, ai, ap, bp, bj, 0, m], m * n * k);
    });
  }
  const m4 = (m: number) => m - (m % 4);

  /** y (N, Co, Ho, Wo) = x ∗ w (+ b) at x, w, b (0: none), y: byte addresses; the threads split the images. */
  function forward(x: number, w: number, b: number, y: number, d: ConvDims): void {
    const [k, p] = [d.c * d.kh * d.kw, d.ho * d.wo];
    if (d.co % 8 !== 0) return forwardRowMajor(x, w, b, y, d);
    if (d.kh === 3 && d.kw === 3 && d.sh === 1 && d.sw === 1 && winograd.enabled) return forwardWinograd(x, w, b, y, d);
    const p4 = Math.ceil(p / 4) * 4;
    const padded = d.c * (d.h + 2 * d.ph) * (d.w + 2 * d.pw);
    withScratch([k * d.co, parts.parts * (p4 * (k + d.co) + padded)], (wPacked, scratch) => {
      kernels.packB(w, wPacked, k, d.co, 1, k); // Wᵀ (K, Co): element (k, o) at w[o·K + k]
      parts.each(kernels, 'convForward', [x, wPacked, w, b, y, scratch, ...unfoldArgs(d), d.co], d.n);
    });
  }

  /**
   * The same for 3×3 filters at stride 1 by Winograd's F(2×2, 3×3) (winograd.wat): U[ξ] (C × Co) = (G g Gᵀ)[ξ] for
   * each filter g = w[o, c] (winogradFilters, in float64 and rounded once), packed for the matmul kernel; the
   * filters, then the images, on the threads.
   */
  function forwardWinograd(x: number, w: number, b: number, y: number, d: ConvDims): void {
    const [th, tw4] = [Math.ceil(d.ho / 2), Math.ceil(Math.ceil(d.wo / 2) / 4) * 4];
    const [tiles, padded] = [th * tw4, d.c * (2 * th + 2) * (2 * tw4 + 2)];
    withScratch([16 * d.c * d.co, 16 * d.c * d.co, parts.parts * (16 * tiles * (d.c + d.co) + padded)], (u, uPacked, scratch) => {
      parts.each(kernels, 'winogradFilters', [w, u, d.c, d.co], d.co);
      for (let xi = 0; xi < 16; xi++) kernels.packB(u + 4 * xi * d.c * d.co, uPacked + 4 * xi * d.c * d.co, d.c, d.co, d.co, 1);
      parts.each(kernels, 'convWinograd', [x, uPacked, b, y, scratch, d.c, d.h, d.w, d.ph, d.pw, d.ho, d.wo, d.co], d.n);
    });
  }

  /**
   * dw for 3×3 filters at stride 1, the adjoint of forwardWinograd: with Q = A dY Aᵀ per output tile, dU[ξ] = Σ_tiles
   * V[ξ]ᵀ·Q[ξ] (the threads sum fixed chunks of images, added here in order), then dw[o, c] = Gᵀ dU G
   * (winogradFilterGrads, in float64 and rounded once).
   */
  function weightGradWinograd(x: number, dy: number, d: ConvDims): Block {
    const [th, tw4] = [Math.ceil(d.ho / 2), Math.ceil(Math.ceil(d.wo / 2) / 4) * 4];
    const len = WEIGHT_GRAD_CHUNK * th * tw4;
    const size = 17 * len * (d.c + d.co) + Math.max(d.c, d.co) * (2 * th + 2) * (2 * tw4 + 2);
    const [chunks, plane] = [Math.ceil(d.n / WEIGHT_GRAD_CHUNK), 16 * d.c * d.co];
    const dw = heap.allocate('float32', d.co * d.c * 9);
    withScratch([chunks * plane, parts.parts * size], (sums, scratch) => {
      parts.each(kernels, 'convWinogradWeightGrad', [x, dy, sums, scratch, d.c, d.h, d.w, d.ph, d.pw, d.ho, d.wo, d.co, WEIGHT_GRAD_CHUNK, d.n], chunks);
      for (let q = 1; q < chunks; q++) kernels.add(sums, 1, sums + 4 * q * plane, 1, sums, plane);
      parts.each(kernels, 'winogradFilterGrads', [sums, dw.ptr, d.c, d.co], d.co);
    });
    return dw;
  }

  /** The same with y[n] = W·cols[n] (rows = output channels), for Co not a multiple of 8; the bias added after. */
  function forwardRowMajor(x: number, w: number, b: number, y: number, d: ConvDims): void {
    const [k, p] = [d.c * d.kh * d.kw, d.ho * d.wo];
    withScratch([m4(d.co) * k, k * p], (wPacked, cols) => {
      kernels.packA(w, wPacked, m4(d.co), k, k, 1); // W as (Co, K), row-major
      for (let i = 0; i < d.n; i++) {
        kernels.im2col(x + 4 * i * d.c * d.h * d.w, cols, ...unfoldArgs(d), p);
        product(w, wPacked, k, 1, cols, p, 1, y + 4 * i * d.co * p, d.co, p, k);
      }
    });
    if (!b) return;
    const [out, bias] = [heap.view({ ptr: y, bytes: 0 }, 'float32', d.n * d.co * p), heap.view({ ptr: b, bytes: 0 }, 'float32', d.co)];
    for (let i = 0; i < out.length; i++) out[i] += bias[Math.floor(i / p) % d.co];
  }

  return {
    /** y (N, Co, Ho, Wo) = x ∗ w + b. */
    conv2d(x: Tensor, w: Tensor, b: Tensor | null, d: ConvDims): Block {
      const y = heap.allocate('float32', d.n * d.co * d.ho * d.wo);
      forward(ptr(x), ptr(w), b ? ptr(b) : 0, y.ptr, d);
      return y;
    },

    /** dx (N, C, H, W) for dy (N, Co, Ho, Wo). */
    conv2dInputGrad(dy: Tensor, w: Tensor, d: ConvDims): Block {
      const [k, p] = [d.c * d.kh * d.kw, d.ho * d.wo];
      const dx = heap.allocate('float32', d.n * d.c * d.h * d.w);
      const [qh, qw] = [d.kh - 1 - d.ph, d.kw - 1 - d.pw];
      if (d.sh === 1 && d.sw === 1 && qh >= 0 && qw >= 0 && d.c % 8 === 0) {
        // dx = dy ∗ W̃ with W̃[c, o, p, q] = W[o, c, kH−1−p, kW−1−q] and padding kH−1−pad: each dx pixel sums the
        // dy pixels whose windows covered it, through the filter tap that joined them.
        withScratch([d.c * d.co * d.kh * d.kw], (flipped) => {
          const [from, to] = [heap.view({ ptr: ptr(w), bytes: 0 }, 'float32', d.co * k), heap.view({ ptr: flipped, bytes: 0 }, 'float32', d.co * k)];
          for (let o = 0; o < d.co; o++)
            for (let c = 0; c < d.c; c++)
              for (let i = 0; i < d.kh * d.kw; i++) to[((c * d.co + o) * d.kh * d.kw) + d.kh * d.kw - 1 - i] = from[(o * d.c + c) * d.kh * d.kw + i];
          const t = { n: d.n, c: d.co, h: d.ho, w: d.wo, co: d.c, kh: d.kh, kw: d.kw, sh: 1, sw: 1, ph: qh, pw: qw, ho: d.h, wo: d.w };
          forward(ptr(dy), flipped, 0, dx.ptr, t);
        });
        return dx;
      }
      withScratch([m4(k) * d.co, parts.parts * p * (k + d.co)], (wtPacked, scratch) => {
        kernels.packA(ptr(w), wtPacked, m4(k), d.co, 1, k); // Wᵀ as (K, Co): element (i, o) at w[o·K + i]
        parts.each(kernels, 'convInputGrad', [ptr(w), wtPacked, ptr(dy), dx.ptr, scratch, ...unfoldArgs(d), d.co], d.n);
      });
      return dx;
    },

    /**
     * dw (Co, C, kH, kW) = Σ_n dy[n]·cols[n]ᵀ: the threads sum fixed chunks of images (transposed, K × Co, image by
     * image in float32), then the chunks' sums are added in order and turned — the same bits on any number of threads.
     */
    conv2dWeightGrad(x: Tensor, dy: Tensor, d: ConvDims): Block {
      if (d.kh === 3 && d.kw === 3 && d.sh === 1 && d.sw === 1 && winograd.enabled) return weightGradWinograd(ptr(x), ptr(dy), d);
      const [k, p] = [d.c * d.kh * d.kw, d.ho * d.wo];
      const chunks = Math.ceil(d.n / WEIGHT_GRAD_CHUNK);
      const dw = heap.allocate('float32', d.co * k);
      withScratch([chunks * k * d.co, parts.parts * (2 * k * p + 2 * p * d.co + k * d.co)], (sums, scratch) => {
        parts.each(kernels, 'convWeightGrad', [ptr(x), ptr(dy), sums, scratch, ...unfoldArgs(d), d.co, WEIGHT_GRAD_CHUNK, d.n], chunks);
        for (let q = 1; q < chunks; q++) kernels.add(sums, 1, sums + 4 * q * k * d.co, 1, sums, k * d.co);
        const [from, to] = [heap.view({ ptr: sums, bytes: 0 }, 'float32', k * d.co), heap.view(dw, 'float32', d.co * k)];
        for (let r = 0; r < k; r++) for (let o = 0; o < d.co; o++) to[o * k + r] = from[r * d.co + o];
      });
      return dw;
    },
  };
}

/**
 * Whether 3×3 stride-1 convolutions take the Winograd path (else im2col): a switch for benchmarks and tests that
 * compare the two.
 */
export const winograd = { enabled: true };

/** Images per chunk of the weight gradient's sum (fixed, so that the sum's order does not depend on the threads). */
export const WEIGHT_GRAD_CHUNK = 8;
