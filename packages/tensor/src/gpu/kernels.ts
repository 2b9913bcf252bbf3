// The gpu.js kernel functions, as source text: gpu.js parses each one and translates it to a GLSL fragment shader.
// Every tensor is a flat texture; `this.thread.x` is the flat index of the output element a shader invocation writes.
// NB: shader arithmetic is float32, so indices are decomposed with floor((i + 0.5) / n), exact for sizes below 2²⁴.
import type { BinaryOp, PrintedFormula, UnaryOp } from '../formulas.js';
import { BINARY_SOURCE, UNARY_SOURCE } from './elementwise.generated.js';

/** Up to this many axes are handled by the strided kernels (shapes are padded with leading 1s). */
export const MAX_RANK = 6;

/**
 * Decomposes the output index into MAX_RANK coordinates over `shape` and accumulates offsets with each strides array.
 * Spliced into kernels: declares `rem`, `off0`, `off1`, … (and uses n, q, c), so kernel arguments must not use those names.
 */
function offsets(shape: string, strides: string[]): string {
  return `
    let rem = this.thread.x;
    ${strides.map((_, k) => `let off${k} = 0;`).join(' ')}
    for (let d = ${MAX_RANK - 1}; d >= 0; d--) {
      const n = ${shape}[d];
      const q = Math.floor((rem + 0.5) / n);
      const c = rem - q * n;
      rem = q;
      ${strides.map((s, k) => `off${k} += c * ${s}[d];`).join(' ')}
    }`;
}

/** Copies an uploaded array into a texture. */
export const UPLOAD = `function (a) { return a[this.thread.x]; }`;

/**
 * Copies a texture (clone, casts that keep the values). NB: a kernel of its own — gpu.js compiles a kernel for the
 * argument types of its first call, so one kernel must not be fed both arrays (UPLOAD) and textures.
 */
export const COPY = `function (t) { return t[this.thread.x]; }`;

/** A constant: the zeros of an empty reduction or product. */
export const FILL = `function (v) { return v; }`;

/** A formula's local declarations, a line each. */
const lets = (f: PrintedFormula) => f.lets.map((l) => `\n  ${l}`).join('');

export const unarySource = (op: UnaryOp) => `function (a, p0, p1) {
  const x = a[this.thread.x];${lets(UNARY_SOURCE[op].f)}
  return ${UNARY_SOURCE[op].f.value};
}`;

export const unaryGradSource = (op: UnaryOp) => `function (a, b, g, p0, p1) {
  const x = a[this.thread.x];
  const y = b[this.thread.x];${lets(UNARY_SOURCE[op].df)}
  return g[this.thread.x] * (${UNARY_SOURCE[op].df.value});
}`;


/** out = f(a, b) with broadcasting: a and b are read through strides that are 0 along broadcast axes. */
export const binarySource = (op: BinaryOp) => `function (a, b, shape, sa, sb) {
  ${offsets('shape', ['sa', 'sb'])}
  const u = a[off0];
  const v = b[off1];${lets(BINARY_SOURCE[op])}
  return ${BINARY_SOURCE[op].value};
}`;

export const WHERE = `function (cond, a, b, shape, sc, sa, sb) {
  ${offsets('shape', ['sc', 'sa', 'sb'])}
  return cond[off0] != 0.0 ? a[off1] : b[off2];
}`;

/** out[i] = x[offset + Σ i_d · strides[d]]: transpose, broadcastTo and slice in one kernel. */
export const STRIDED = `function (x, shape, strides, offset) {
  ${offsets('shape', ['strides'])}
  return x[offset + off0];
}`;

/**
 * Reductions: output element o has coordinates over the kept axes (keptShape, read through keptStrides); the loop
 * walks the `count` reduced elements, decomposed over redShape and read through redStrides. Accumulates in float32.
 */
export const reduceSource = (op: 'sum' | 'max' | 'min') => `function (x, keptShape, keptStrides, redShape, redStrides, count) {
  ${offsets('keptShape', ['keptStrides'])}
  let acc = ${op === 'sum' ? '0.0' : `x[off0]`};
  for (let r = 0; r < count; r++) {
    let rr = r;
    let off = off0;
    for (let d = ${MAX_RANK - 1}; d >= 0; d--) {
      const n = redShape[d];
      const q = Math.floor((rr + 0.5) / n);
      off += (rr - q * n) * redStrides[d];
      rr = q;
    }
    const v = x[off];
    ${op === 'sum' ? 'acc += v;' : op === 'max' ? 'acc = Math.max(acc, v);' : 'acc = Math.min(acc, v);'}
  }
  return acc;
}`;

/** Index of the largest (smallest) of the `len` elements at base + k·inner, the first one on ties. */
export const argReduceSource = (op: 'argmax' | 'argmin') => `function (x, len, inner) {
  const o = this.thread.x;
  const a = Math.floor((o + 0.5) / inner);
  const base = a * len * inner + (o - a * inner);
  let best = 0;
  let bestV = x[base];
  for (let k = 1; k < len; k++) {
    const v = x[base + k * inner];
    if (v ${op === 'argmax' ? '>' : '<'} bestV) {
      best = k;
      bestV = v;
    }
  }
  return best;
}`;

/**
 * C = op(A)·op(B), batched: op(A)[i, p] = a[aOff + i·ai + p·ap], op(B)[p, j] = b[bOff + p·bp + j·bj] (as the CPU
 * kernels), one output element per invocation, a K-long dot product in the loop.
 */
export const MATMUL = `function (a, b, m, n, k, ai, ap, bp, bj, aBatch, bBatch) {
  const o = this.thread.x;
  const mn = m * n;
  const batch = Math.floor((o + 0.5) / mn);
  const rem = o - batch * mn;
  const i = Math.floor((rem + 0.5) / n);
  const j = rem - i * n;
  const aOff = aBatch * batch * m * k + i * ai;
  const bOff = bBatch * batch * k * n + j * bj;
  let sum = 0.0;
  for (let p = 0; p < k; p++) {
    sum += a[aOff + p * ap] * b[bOff + p * bp];
  }
  return sum;
}`;

/** Two tensors side by side along an axis, seen as (outer, chunk): row r is a's chunk then b's. */
export const CONCAT2 = `function (a, b, chunkA, chunkB) {
  const o = this.thread.x;
  const width = chunkA + chunkB;
  const row = Math.floor((o + 0.5) / width);
  const col = o - row * width;
  return col < chunkA ? a[row * chunkA + col] : b[row * chunkB + col - chunkA];
}`;

export const GATHER = `function (x, idx, rowSize) {
  const o = this.thread.x;
  const r = Math.floor((o + 0.5) / rowSize);
  return x[idx[r] * rowSize + (o - r * rowSize)];
}`;

/** The adjoint of gather, without atomics: each output element sums the updates whose index names its row. */
export const SCATTER_ADD = `function (u, idx, rowSize, count) {
  const o = this.thread.x;
  const r = Math.floor((o + 0.5) / rowSize);
  const c = o - r * rowSize;
  let sum = 0.0;
  for (let i = 0; i < count; i++) {
    if (Math.abs(idx[i] - r) < 0.5) sum += u[i * rowSize + c];
  }
  return sum;
}`;

/** float → int32 rounds toward zero (as the CPU cast). */
export const TRUNC = `function (x) {
  const v = x[this.thread.x];
  return v < 0.0 ? -Math.floor(-v) : Math.floor(v);
}`;
