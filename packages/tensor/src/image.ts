// Nearest-neighbour 2× upsampling and its adjoint (the sum of each 2 × 2 block) as direct loops over (N, C, H, W):
// one pass each, where the broadcast-and-reshape composite makes a 6-D copy forward and a strided reduction backward.
// The backend's kernel where it has one (wasm: image.wat), else the host loops here (the reference).
import { allocate } from './dtype.js';
import { ShapeError, fmt } from './errors.js';
import { getBackend } from './backend.js';
import { fromArray, input, wrap } from './internal.js';
import type { Tensor } from './tensor.js';

function nchw(op: string, x: Tensor): [number, number, number, number] {
  if (x.rank !== 4) throw new ShapeError(op, `needs an image batch (N, C, H, W), got ${fmt(x.shape)}`);
  return x.shape as [number, number, number, number];
}

/** y[n, c, 2i + a, 2j + b] = x[n, c, i, j] for a, b ∈ {0, 1}: (N, C, H, W) → (N, C, 2H, 2W). */
export function upsample2x(x: Tensor): Tensor {
  const t = input('upsample2x', x, 'x');
  const [n, c, h, w] = nchw('upsample2x', t);
  const own = getBackend().upsample2x?.(t);
  if (own) return wrap(own, [n, c, 2 * h, 2 * w], t.dtype);
  const [xs, y] = [t.data, allocate(t.dtype, 4 * t.size)];
  for (let plane = 0; plane < n * c; plane++)
    for (let i = 0; i < h; i++) {
      const from = (plane * h + i) * w;
      const to = (plane * 2 * h + 2 * i) * 2 * w; // output row 2i; row 2i + 1 is 2w further
      for (let j = 0; j < w; j++) y[to + 2 * j] = y[to + 2 * j + 1] = y[to + 2 * w + 2 * j] = y[to + 2 * w + 2 * j + 1] = xs[from + j];
    }
  return fromArray(y, [n, c, 2 * h, 2 * w], t.dtype);
}

/** upsample2x's adjoint: dx[n, c, i, j] = Σ of dy's 2 × 2 block at (2i, 2j); dy (N, C, 2H, 2W) → (N, C, H, W). */
export function upsample2xGrad(dy: Tensor): Tensor {
  const t = input('upsample2xGrad', dy, 'dy');
  const [n, c, h2, w2] = nchw('upsample2xGrad', t);
  if (h2 % 2 || w2 % 2) throw new ShapeError('upsample2xGrad', `needs an even height and width, got ${h2}×${w2}`);
  const [h, w] = [h2 / 2, w2 / 2];
  const own = getBackend().upsample2xGrad?.(t);
  if (own) return wrap(own, [n, c, h, w], t.dtype);
  const [ds, dx] = [t.data, allocate(t.dtype, t.size / 4)];
  for (let plane = 0; plane < n * c; plane++)
    for (let i = 0; i < h; i++) {
      const to = (plane * h + i) * w;
      const from = (plane * h2 + 2 * i) * w2;
      for (let j = 0; j < w; j++) dx[to + j] = ds[from + 2 * j] + ds[from + 2 * j + 1] + (ds[from + w2 + 2 * j] + ds[from + w2 + 2 * j + 1]);
    }
  return fromArray(dx, [n, c, h, w], t.dtype);
}

/** x's 2 × 2 blocks, checked: (N, C, H, W) with H, W even → [planes, h/2, w/2, w]. */
function blocks(op: string, x: Tensor): [number, number, number, number] {
  const [n, c, h, w] = nchw(op, x);
  if (h % 2 || w % 2) throw new ShapeError(op, `needs an even height and width, got ${h}×${w}`);
  return [n * c, h / 2, w / 2, w];
}

/** maxPool2d's output and what its gradient needs. */
export interface MaxPoolResult {
  /** The block maxima, (N, C, H/2, W/2). */
  y: Tensor;
  /** Which of each block's four elements is its maximum, 0…3 in reading order, int32 (y's shape). */
  which: Tensor;
}

/**
 * 2 × 2 max pooling with stride 2: y[n, c, i, j] = max of x's block at (2i, 2j); `which` (int32, y's shape) says which
 * of the block's four (0…3 in reading order, the first on ties, as PyTorch) its gradient goes to.
 */
export function maxPool2d(x: Tensor): MaxPoolResult {
  const t = input('maxPool2d', x, 'x');
  const [planes, h, w, width] = blocks('maxPool2d', t);
  const xs = t.data;
  const [y, which] = [allocate(t.dtype, planes * h * w), new Int32Array(planes * h * w)];
  for (let o = 0; o < planes * h * w; o++) {
    const [plane, i, j] = [Math.floor(o / (h * w)), Math.floor(o / w) % h, o % w];
    const at = (plane * 2 * h + 2 * i) * width + 2 * j;
    const four = [xs[at], xs[at + 1], xs[at + width], xs[at + width + 1]];
    let best = 0;
    for (let k = 1; k < 4; k++) if (four[k] > four[best] || (Number.isNaN(four[k]) && !Number.isNaN(four[best]))) best = k;
    [y[o], which[o]] = [four[best], best];
  }
  const shape = [t.shape[0], t.shape[1], h, w];
  return { y: fromArray(y, shape, t.dtype), which: fromArray(which, shape, 'int32') };
}

/** maxPool2d's adjoint: each dy goes to the block element `which` names; the other three get 0. */
export function maxPool2dGrad(dy: Tensor, which: Tensor): Tensor {
  const t = input('maxPool2dGrad', dy, 'dy');
  const [n, c, h, w] = nchw('maxPool2dGrad', t);
  const [ds, ws] = [t.data, which.data];
  const dx = allocate(t.dtype, 4 * t.size);
  for (let o = 0; o < t.size; o++) {
    const [plane, i, j] = [Math.floor(o / (h * w)), Math.floor(o / w) % h, o % w];
    const k = ws[o];
    dx[(plane * 2 * h + 2 * i + (k >> 1)) * 2 * w + 2 * j + (k & 1)] = ds[o];
  }
  return fromArray(dx, [n, c, 2 * h, 2 * w], t.dtype);
}
