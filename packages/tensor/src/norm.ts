// Group normalisation as one forward and one backward pass over the data (float64 sums), instead of the ten full-size
// tensors its composite of elementwise ops and reductions keeps for backward: what makes a U-Net's batch fit. The
// backend's kernel where it has one (wasm: norm.wat), else the host loops here (the reference).
import { allocate } from './dtype.js';
import { ShapeError, ValueError, fmt } from './errors.js';
import { fromArray, input, needFloat, sameDType, wrap } from './internal.js';
import { getBackend } from './backend.js';
import type { Tensor } from './tensor.js';

/** What the forward pass gives back: y, and each sample-group's statistics for the backward. */
export interface GroupNormResult {
  /** The normalised, scaled and shifted x, (N, C, H, W). */
  y: Tensor;
  /** (N, G, 2): each sample's group's μ and r = 1/√(σ² + ε) (σ² the biased variance). */
  stats: Tensor;
}

/** Group norm's gradients. */
export interface GroupNormGrads {
  /** ∂L/∂x, x's shape. */
  dx: Tensor;
  /** ∂L/∂γ, (C). */
  dgamma: Tensor;
  /** ∂L/∂β, (C). */
  dbeta: Tensor;
}

function dims(op: string, x: Tensor, groups: number, gamma: Tensor): { n: number; c: number; groups: number; m: number; hw: number } {
  if (x.rank !== 4) throw new ShapeError(op, `needs an image batch (N, C, H, W), got ${fmt(x.shape)}`);
  const [n, c, h, w] = x.shape;
  if (!(Number.isInteger(groups) && groups >= 1 && c % groups === 0)) throw new ValueError(op, `groups must divide the ${c} channels, got ${groups}`);
  if (gamma.rank !== 1 || gamma.shape[0] !== c) throw new ShapeError(op, `gamma must be (${c}), got ${fmt(gamma.shape)}`);
  return { n, c, groups, m: (c / groups) * h * w, hw: h * w };
}

/** Calls fn(channel, from, to) for each channel of sample-group k (its elements [from, to) of the flat (N, C, H, W)). */
function forEachChannel(k: number, groups: number, c: number, hw: number, fn: (ch: number, from: number, to: number) => void): void {
  const [sample, group, per] = [Math.floor(k / groups), k % groups, c / groups];
  for (let j = 0; j < per; j++) {
    const ch = group * per + j;
    const from = (sample * c + ch) * hw;
    fn(ch, from, from + hw);
  }
}

/**
 * y[n, c] = (x[n, c] − μ[n, g])·r[n, g]·γ[c] + β[c] for channel c in group g, with μ and r = 1/√(σ² + ε) over the
 * group's channels and pixels (Wu & He 2018; PyTorch's GroupNorm).
 */
export function groupNorm(x: Tensor, groups: number, gamma: Tensor, beta: Tensor, eps = 1e-5): GroupNormResult {
  const op = 'groupNorm';
  const [tx, tg, tb] = [input(op, x, 'x'), input(op, gamma, 'gamma'), input(op, beta, 'beta')];
  const dtype = sameDType(op, tx, tg, tb);
  needFloat(op, tx);
  const { n, c, m, hw } = dims(op, tx, groups, tg);
  if (tb.rank !== 1 || tb.shape[0] !== c) throw new ShapeError(op, `beta must be (${c}), got ${fmt(tb.shape)}`);
  const own = getBackend().groupNorm?.(tx, groups, tg, tb, eps);
  if (own) return { y: wrap(own.y, tx.shape, dtype), stats: wrap(own.stats, [n, groups, 2], dtype) };
  const [xs, gs, bs] = [tx.data, tg.data, tb.data];
  const y = allocate(dtype, tx.size);
  const stats = allocate(dtype, 2 * n * groups);
  for (let k = 0; k < n * groups; k++) {
    const start = k * m;
    let s = 0;
    for (let i = start; i < start + m; i++) s += xs[i];
    const mean = s / m;
    let v = 0;
    for (let i = start; i < start + m; i++) v += (xs[i] - mean) ** 2;
    const r = 1 / Math.sqrt(v / m + eps);
    [stats[2 * k], stats[2 * k + 1]] = [mean, r];
    forEachChannel(k, groups, c, hw, (ch, from, to) => {
      for (let i = from; i < to; i++) y[i] = (xs[i] - mean) * r * gs[ch] + bs[ch];
    });
  }
  return { y: fromArray(y, tx.shape, dtype), stats: fromArray(stats, [n, groups, 2], dtype) };
}

/**
 * groupNorm's gradients for the output gradient dy, from its `stats`: with x̂ = (x − μ)·r and g = dy·γ over one sample's group of M
 * elements, dx = r·(g − mean(g) − x̂·mean(g·x̂)); dγ[c] = Σ dy·x̂ and dβ[c] = Σ dy over the batch and pixels.
 */
export function groupNormBackward(dy: Tensor, x: Tensor, gamma: Tensor, stats: Tensor): GroupNormGrads {
  const op = 'groupNormBackward';
  const dtype = sameDType(op, dy, x, gamma, stats);
  const { n, c, m, hw, groups } = dims(op, x, stats.shape[1], gamma);
  if (dy.shape.join() !== x.shape.join()) throw new ShapeError(op, `dy must be ${fmt(x.shape)}, got ${fmt(dy.shape)}`);
  const own = getBackend().groupNormBackward?.(dy, x, gamma, stats);
  if (own) return { dx: wrap(own.dx, x.shape, dtype), dgamma: wrap(own.dgamma, [c], dtype), dbeta: wrap(own.dbeta, [c], dtype) };
  const [gs, xs, ds, st] = [gamma.data, x.data, dy.data, stats.data];
  const dx = allocate(dtype, x.size);
  const [dg, db] = [new Float64Array(c), new Float64Array(c)];
  for (let k = 0; k < n * groups; k++) {
    const [mk, rk] = [st[2 * k], st[2 * k + 1]];
    let [sg, sgx] = [0, 0];
    forEachChannel(k, groups, c, hw, (ch, from, to) => {
      let [sdx, sd] = [0, 0];
      for (let i = from; i < to; i++) {
        const xhat = (xs[i] - mk) * rk;
        sdx += ds[i] * xhat;
        sd += ds[i];
      }
      dg[ch] += sdx;
      db[ch] += sd;
      sg += sd * gs[ch];
      sgx += sdx * gs[ch];
    });
    const [a, b] = [sg / m, sgx / m];
    forEachChannel(k, groups, c, hw, (ch, from, to) => {
      for (let i = from; i < to; i++) dx[i] = rk * (ds[i] * gs[ch] - a - (xs[i] - mk) * rk * b);
    });
  }
  const cast = (v: Float64Array) => fromArray(dtype === 'float32' ? Float32Array.from(v) : v, [c], dtype);
  return { dx: fromArray(dx, x.shape, dtype), dgamma: cast(dg), dbeta: cast(db) };
}
