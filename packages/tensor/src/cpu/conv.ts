// The reference 2-D convolution and its two gradients as plain loops (PyTorch's conv2d semantics: cross-correlation,
// NCHW layout, zero padding), accumulating in float64: the readable definition every faster tier is tested against.

/** A convolution's sizes: input (N, C, H, W), weight (Co, C, kH, kW), stride and padding per axis, output (Ho, Wo). */
export interface ConvDims {
  n: number;
  c: number;
  h: number;
  w: number;
  co: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  ho: number;
  wo: number;
}

type Arr = ArrayLike<number> & { [i: number]: number };

/**
 * Every multiplication a convolution makes: tap(yi, xi, wi) for each output element y[n, o, i, j], input element
 * x[n, c, i·sh − ph + p, j·sw − pw + q] inside the input (the zero padding contributes nothing) and weight w[o, c, p, q].
 * The forward pass and both gradients are the same set of taps, accumulated into y, dx or dw.
 */
function forEachTap(d: ConvDims, tap: (yi: number, xi: number, wi: number) => void): void {
  const { n, c, h, w, co, kh, kw, sh, sw, ph, pw, ho, wo } = d;
  for (let b = 0; b < n; b++)
    for (let o = 0; o < co; o++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          const yi = ((b * co + o) * ho + i) * wo + j;
          for (let ci = 0; ci < c; ci++)
            for (let p = 0; p < kh; p++) {
              const r = i * sh - ph + p;
              if (r < 0 || r >= h) continue;
              for (let q = 0; q < kw; q++) {
                const col = j * sw - pw + q;
                if (col >= 0 && col < w) tap(yi, ((b * c + ci) * h + r) * w + col, ((o * c + ci) * kh + p) * kw + q);
              }
            }
        }
}

/**
 * y[n, o, i, j] = b[o] + Σ_{c, p, q} x[n, c, i·sh − ph + p, j·sw − pw + q] · w[o, c, p, q], the input read as 0 outside
 * its H × W (zero padding). Reference: PyTorch's `torch.nn.functional.conv2d` (which computes cross-correlation).
 */
export function conv2dReference(x: ArrayLike<number>, weight: ArrayLike<number>, bias: ArrayLike<number> | null, d: ConvDims, y: Arr): void {
  const acc = new Float64Array(d.n * d.co * d.ho * d.wo);
  if (bias) for (let k = 0; k < acc.length; k++) acc[k] = bias[Math.floor(k / (d.ho * d.wo)) % d.co];
  forEachTap(d, (yi, xi, wi) => (acc[yi] += x[xi] * weight[wi]));
  for (let k = 0; k < acc.length; k++) y[k] = acc[k];
}

/** dx[n, c, r, col] = Σ dy[n, o, i, j] · w[o, c, p, q] over the taps that read x[n, c, r, col]. */
export function conv2dInputGradReference(dy: ArrayLike<number>, weight: ArrayLike<number>, d: ConvDims, dx: Arr): void {
  const acc = new Float64Array(d.n * d.c * d.h * d.w);
  forEachTap(d, (yi, xi, wi) => (acc[xi] += dy[yi] * weight[wi]));
  for (let k = 0; k < acc.length; k++) dx[k] = acc[k];
}

/** dw[o, c, p, q] = Σ_{n, i, j} dy[n, o, i, j] · x[n, c, i·sh − ph + p, j·sw − pw + q] (0 outside the input). */
export function conv2dWeightGradReference(x: ArrayLike<number>, dy: ArrayLike<number>, d: ConvDims, dw: Arr): void {
  const acc = new Float64Array(d.co * d.c * d.kh * d.kw);
  forEachTap(d, (yi, xi, wi) => (acc[wi] += dy[yi] * x[xi]));
  for (let k = 0; k < acc.length; k++) dw[k] = acc[k];
}

/**
 * The windows of x laid out as columns, cols[n, (c, p, q), (i, j)] = x[n, c, i·sh − ph + p, j·sw − pw + q] (0 in the
 * padding): `gather` fills cols from x (im2col); `scatter` adds cols back into x's positions (col2im, its adjoint).
 * Plain loops over the columns' layout, one input row at a time: the hot path of the im2col convolution.
 */
function unfold(d: ConvDims, x: Arr, cols: Arr, mode: 'gather' | 'scatter'): void {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, ho, wo } = d;
  const [k, positions] = [c * kh * kw, ho * wo];
  const gather = mode === 'gather';
  for (let b = 0; b < n; b++)
    for (let ci = 0; ci < c; ci++)
      for (let p = 0; p < kh; p++)
        for (let q = 0; q < kw; q++) {
          const base = (b * k + (ci * kh + p) * kw + q) * positions;
          for (let i = 0; i < ho; i++) {
            const r = i * sh - ph + p;
            const o = base + i * wo;
            const inside = r >= 0 && r < h;
            const xRow = ((b * c + ci) * h + r) * w;
            for (let j = 0; j < wo; j++) {
              const col = j * sw - pw + q;
              const ok = inside && col >= 0 && col < w;
              if (gather) cols[o + j] = ok ? x[xRow + col] : 0;
              else if (ok) x[xRow + col] += cols[o + j];
            }
          }
        }
}

/** im2col: every window of x as a column, so that the convolution is one matrix product per image, y[n] = W·cols[n]. */
export function im2col(x: ArrayLike<number>, d: ConvDims, cols: Arr): void {
  unfold(d, x as Arr, cols, 'gather');
}

/** col2im, im2col's adjoint: dx[n, c, r, col] = Σ dcols over every window position that read x[n, c, r, col]. */
export function col2im(cols: ArrayLike<number>, d: ConvDims, dx: Arr): void {
  const acc = new Float64Array(d.n * d.c * d.h * d.w);
  unfold(d, acc, cols as Arr, 'scatter');
  for (let i = 0; i < acc.length; i++) dx[i] = acc[i];
}
