// 2-D convolution with PyTorch's semantics and layout, and its input and weight gradients, as matrix products over the
// unfolded windows (im2col): y[n] = W·cols[n], dcols[n] = Wᵀ·dy[n], dW = Σ_n dy[n]·cols[n]ᵀ. A backend with its own
// kernels runs them (wasm: image by image in SIMD, wasm/conv.ts); else the windows are unfolded on the host
// (cpu/conv.ts) and the arithmetic is the backend's matmul. The direct loops of cpu/conv.ts stay as the reference.
import { allocate, type DType } from './dtype.js';
import { ShapeError, ValueError, fmt } from './errors.js';
import { fromArray, input, needFloat, sameDType, wrap } from './internal.js';
import { getBackend } from './backend.js';
import { add, matmul, sum } from './ops.js';
import { reshape } from './shapeops.js';
import { tidy } from './lifetime.js';
import type { Tensor } from './tensor.js';
import { col2im, im2col, type ConvDims } from './cpu/conv.js';

/** Stride and zero padding of a convolution: one number for both axes, or [height, width]. */
export interface Conv2dOptions {
  /** Step of the window (default 1). */
  stride?: number | [number, number];
  /** Zeros added on each side of the input (default 0). */
  padding?: number | [number, number];
}

const pair = (op: string, name: string, v: number | [number, number] | undefined, fallback: number, min: number): [number, number] => {
  const p = v === undefined ? [fallback, fallback] : typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((k) => Number.isInteger(k) && k >= min)) {
    throw new ValueError(op, `${name} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p as [number, number];
};

/** The sizes of a convolution of an input of `xShape` with a weight of `wShape`, checked (errors name `op`). */
export function convDims(op: string, xShape: readonly number[], wShape: readonly number[], options: Conv2dOptions = {}): ConvDims {
  const [sh, sw] = pair(op, 'stride', options.stride, 1, 1);
  const [ph, pw] = pair(op, 'padding', options.padding, 0, 0);
  if (xShape.length !== 4 || wShape.length !== 4) throw new ShapeError(op, `needs x (N, C, H, W) and w (C_out, C_in, kH, kW), got x ${fmt(xShape)}, w ${fmt(wShape)}`);
  const [n, c, h, w] = xShape;
  const [co, ci, kh, kw] = wShape;
  if (ci !== c) throw new ShapeError(op, `x has ${c} channels but w expects ${ci} (x ${fmt(xShape)}, w ${fmt(wShape)})`);
  const ho = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const wo = Math.floor((w + 2 * pw - kw) / sw) + 1;
  if (!(ho >= 1 && wo >= 1)) throw new ShapeError(op, `the ${kh}×${kw} kernel does not fit the ${h}×${w} input with padding ${ph}, ${pw}`);
  return { n, c, h, w, co, kh, kw, sh, sw, ph, pw, ho, wo };
}

/**
 * y = conv2d(x, w) + b: x (N, C_in, H, W), w (C_out, C_in, kH, kW), b (C_out) or none → (N, C_out, H_out, W_out) with
 * H_out = ⌊(H + 2·padding − kH) / stride⌋ + 1 (likewise W_out). Cross-correlation, as PyTorch's conv2d.
 */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  const [tx, tw] = [input(op, x, 'x'), input(op, w, 'w')];
  const tb = b === null ? null : input(op, b, 'b');
  const dtype = sameDType(op, ...[tx, tw, ...(tb ? [tb] : [])]);
  needFloat(op, tx);
  const d = convDims(op, tx.shape, tw.shape, options);
  if (tb && (tb.rank !== 1 || tb.shape[0] !== d.co)) throw new ShapeError(op, `b must be (${d.co}), got ${fmt(tb.shape)}`);
  return tidy(() => {
    const own = getBackend().conv2d?.(tx, tw, tb, d);
    if (own) return wrap(own, [d.n, d.co, d.ho, d.wo], dtype);
    const y = matmul(reshape(tw, [d.co, d.c * d.kh * d.kw]), columns(tx, d, dtype)); // (N, C_out, Ho·Wo)
    const shaped = reshape(y, [d.n, d.co, d.ho, d.wo]);
    return tb ? add(shaped, reshape(tb, [1, d.co, 1, 1])) : shaped;
  });
}

/** ∂L/∂x of conv2d for the output gradient dy (N, C_out, H_out, W_out): (N, C_in, H, W) as xShape. */
export function conv2dInputGrad(dy: Tensor, w: Tensor, xShape: readonly number[], options: Conv2dOptions = {}): Tensor {
  const op = 'conv2dInputGrad';
  const [tg, tw] = [input(op, dy, 'dy'), input(op, w, 'w')];
  const dtype = sameDType(op, tg, tw);
  const d = convDims(op, xShape, tw.shape, options);
  if (tg.shape.join() !== [d.n, d.co, d.ho, d.wo].join()) throw new ShapeError(op, `dy must be ${fmt([d.n, d.co, d.ho, d.wo])}, got ${fmt(tg.shape)}`);
  const own = getBackend().conv2dInputGrad?.(tg, tw, d);
  if (own) return wrap(own, [...xShape], dtype);
  const out = allocate(dtype, d.n * d.c * d.h * d.w);
  tidy(() => {
    const dcols = matmul(reshape(tw, [d.co, d.c * d.kh * d.kw]), reshape(tg, [d.n, d.co, d.ho * d.wo]), { transA: true }); // (N, K, P)
    col2im(dcols.data, d, out);
  });
  return fromArray(out, [...xShape], dtype);
}

/** ∂L/∂w of conv2d for the output gradient dy: (C_out, C_in, kH, kW) as wShape. */
export function conv2dWeightGrad(x: Tensor, dy: Tensor, wShape: readonly number[], options: Conv2dOptions = {}): Tensor {
  const op = 'conv2dWeightGrad';
  const [tx, tg] = [input(op, x, 'x'), input(op, dy, 'dy')];
  const dtype = sameDType(op, tx, tg);
  const d = convDims(op, tx.shape, wShape, options);
  if (tg.shape.join() !== [d.n, d.co, d.ho, d.wo].join()) throw new ShapeError(op, `dy must be ${fmt([d.n, d.co, d.ho, d.wo])}, got ${fmt(tg.shape)}`);
  const own = getBackend().conv2dWeightGrad?.(tx, tg, d);
  if (own) return wrap(own, [...wShape], dtype);
  return tidy(() => {
    const perImage = matmul(reshape(tg, [d.n, d.co, d.ho * d.wo]), columns(tx, d, dtype), { transB: true }); // (N, C_out, K)
    return reshape(sum(perImage, 0), [...wShape]);
  });
}

/** The im2col columns of x as a tensor (N, C·kH·kW, Ho·Wo) on the active backend. */
function columns(x: Tensor, d: ConvDims, dtype: DType): Tensor {
  const cols = allocate(dtype, d.n * d.c * d.kh * d.kw * d.ho * d.wo);
  im2col(x.data, d, cols);
  return fromArray(cols, [d.n, d.c * d.kh * d.kw, d.ho * d.wo], dtype);
}
