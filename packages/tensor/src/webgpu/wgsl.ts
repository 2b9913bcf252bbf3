// The webgpu backend's kernels as WGSL compute shaders: one invocation per output element (a 4×4 block of a 64×64 tile
// for matmul). Every tensor is a flat array<f32> in a storage buffer (int32 tensors too, exact below 2²⁴).
// Bindings: 0 is `spec` (the u32 parameters: sizes, shapes, strides, float parameters as bit patterns), then the
// inputs, then `out`. Index arithmetic is u32, so it is exact (unlike the float indices of the gpu.js kernels).
// One file (~310 lines): every kernel follows the binding convention above, and is read beside it.
import type { BinaryOp, PrintedFormula, UnaryOp } from '../formulas.js';
import { BINARY_SOURCE, UNARY_SOURCE } from './elementwise.generated.js';
import { ADAM_SCALAR_ORDER } from '../adam.js';

/** Up to this many axes are handled by the strided kernels (shapes padded with leading 1s, strides with 0s). */
export const MAX_RANK = 6;
/** Invocations per workgroup of the elementwise kernels. */
export const WORKGROUP = 64;
/** The matmul: TILE × TILE outputs per workgroup of 16 × 16 invocations, BLOCK × BLOCK per invocation, KSTEP terms of K per step. */
export const TILE = 64;
export const BLOCK = 4;
export const KSTEP = 16;
/** Elementwise kernels read spec[0] = output size and spec[1] = invocations per row of the 2-D dispatch; theirs start here. */
export const FIRST = 2;

/** A kernel's module: spec, the named inputs, the output, helpers, and a main whose `i` is the output index. */
function elementwise(inputs: string[], body: string, helpers = ''): string {
  const bindings = inputs.map((name, k) => `@group(0) @binding(${k + 1}) var<storage, read> ${name}: array<f32>;`);
  return `@group(0) @binding(0) var<storage, read> spec: array<u32>;
${bindings.join('\n')}
@group(0) @binding(${inputs.length + 1}) var<storage, read_write> out: array<f32>;
fn param(k: u32) -> f32 { return bitcast<f32>(spec[k]); }
${helpers}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * spec[1];
  if (i >= spec[0]) { return; }
  ${body}
}`;
}

/**
 * Decomposes `i` into MAX_RANK coordinates over the shape at spec[shapeAt…] and sums coordinate × stride into
 * off0, off1, … for each strides array at spec[stridesAt[k]…] (stride 0 along broadcast axes).
 */
function offsets(shapeAt: number, stridesAt: number[]): string {
  return `var rem = i;
  ${stridesAt.map((_, k) => `var off${k} = 0u;`).join(' ')}
  for (var d = 0u; d < ${MAX_RANK}u; d++) {
    let axis = ${MAX_RANK - 1}u - d;
    let n = spec[${shapeAt}u + axis];
    let c = rem % n;
    rem = rem / n;
    ${stridesAt.map((s, k) => `off${k} += c * spec[${s}u + axis];`).join(' ')}
  }`;
}

/**
 * Functions the expressions call. NaN and ∞ come from bit patterns read at run time: WGSL rejects a constant
 * expression that overflows (1.0 / 0.0 does not compile).
 */
const HELPERS = `
fn nan() -> f32 { return bitcast<f32>(0x7fc00000u | (spec[0] & 0u)); }
fn inf() -> f32 { return bitcast<f32>(0x7f800000u | (spec[0] & 0u)); }
fn logistic(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
// tanh(x) = sign(x)·(1 − e^(−2|x|)) / (1 + e^(−2|x|)): finite for every x (a naive (e^x − e^−x)/(e^x + e^−x) is NaN past |x| ≈ 44).
fn tanhStable(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
// erf by Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7, float32 precision; the CPU kernels use a float64 series).
fn erfApprox(x: f32) -> f32 {
  let ax = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-ax * ax));
}
fn normalCdf(x: f32) -> f32 { return 0.5 * (1.0 + erfApprox(x * 0.7071067811865476)); }
fn normalPdf(x: f32) -> f32 { return 0.3989422804014327 * exp(-0.5 * x * x); }
// uᵛ as the CPU computes it: WGSL's pow is undefined for u < 0 (and 0⁰); a negative base needs an integer v.
fn powSafe(u: f32, v: f32) -> f32 {
  if (u > 0.0) { return pow(u, v); }
  if (u == 0.0) {
    if (v == 0.0) { return 1.0; }
    if (v > 0.0) { return 0.0; }
    return inf();
  }
  if (floor(v) != v) { return nan(); }
  let r = pow(-u, v);
  if (v - 2.0 * floor(v / 2.0) > 0.5) { return -r; }
  return r;
}`;

/** A formula (printed from ../formulas.ts into elementwise.generated.ts) as statements: its locals, then `target = value;`. */
const assign = (target: string, f: PrintedFormula, wrap = (v: string) => v) => [...f.lets, `${target} = ${wrap(f.value)};`].join('\n  ');

/** y = f(x); spec: p0, p1. */
export const unary = (op: UnaryOp) =>
  elementwise(['a'], `let x = a[i]; let p0 = param(${FIRST}u); let p1 = param(${FIRST + 1}u);\n  ${assign('out[i]', UNARY_SOURCE[op].f)}`, HELPERS);

/** dx = dy · f'(x); inputs x, y = f(x), dy; spec: p0, p1. */
export const unaryGrad = (op: UnaryOp) =>
  elementwise(['a', 'b', 'g'], `let x = a[i]; let y = b[i]; let p0 = param(${FIRST}u); let p1 = param(${FIRST + 1}u);\n  ${assign('out[i]', UNARY_SOURCE[op].df, (v) => `g[i] * (${v})`)}`, HELPERS);


/** Where the strided kernels keep their shape and strides in spec. */
export const AT = { shape: FIRST, s0: FIRST + MAX_RANK, s1: FIRST + 2 * MAX_RANK, s2: FIRST + 3 * MAX_RANK } as const;

/** out = f(a, b) with broadcasting; spec: out shape, a's strides, b's strides. */
export const binary = (op: BinaryOp) =>
  elementwise(
    ['a', 'b'],
    `${offsets(AT.shape, [AT.s0, AT.s1])}
  let u = a[off0];
  let v = b[off1];
  ${assign('out[i]', BINARY_SOURCE[op])}`,
    HELPERS,
  );

/** out = cond ≠ 0 ? a : b; spec: out shape, then the strides of cond, a, b. */
export const WHERE = elementwise(
  ['cond', 'a', 'b'],
  `${offsets(AT.shape, [AT.s0, AT.s1, AT.s2])}
  out[i] = select(b[off2], a[off1], cond[off0] != 0.0);`,
);

/** out[i] = x[offset + Σ coordinate · stride]: transpose, broadcastTo and slice; spec: shape, strides, offset. */
export const STRIDED = elementwise(['x'], `${offsets(AT.shape, [AT.s0])}\n  out[i] = x[spec[${AT.s1}u] + off0];`);

/**
 * Reductions: output i has coordinates over the kept axes (shape at AT.shape, strides at AT.s0); the loop walks the
 * `count` reduced elements (spec[AT.s2 + MAX_RANK]) decomposed over the reduced shape (AT.s1) and strides (AT.s2).
 * Accumulates in float32.
 */
export const reduce = (op: 'sum' | 'max' | 'min') =>
  elementwise(
    ['x'],
    `${offsets(AT.shape, [AT.s0])}
  let count = spec[${AT.s2 + MAX_RANK}u];
  var acc = ${op === 'sum' ? '0.0' : 'x[off0]'};
  for (var r = 0u; r < count; r++) {
    var rr = r;
    var off = off0;
    for (var d = 0u; d < ${MAX_RANK}u; d++) {
      let axis = ${MAX_RANK - 1}u - d;
      let n = spec[${AT.s1}u + axis];
      off += (rr % n) * spec[${AT.s2}u + axis];
      rr = rr / n;
    }
    ${op === 'sum' ? 'acc += x[off];' : `acc = ${op}(acc, x[off]);`}
  }
  out[i] = acc;`,
  );

/** Index of the largest (smallest) of the len elements at base + k·inner, the first on ties; spec: len, inner. */
export const argReduce = (op: 'argmax' | 'argmin') =>
  elementwise(
    ['x'],
    `let len = spec[${FIRST}u];
  let inner = spec[${FIRST + 1}u];
  let base = (i / inner) * len * inner + i % inner;
  var best = 0u;
  var bestV = x[base];
  for (var k = 1u; k < len; k++) {
    let v = x[base + k * inner];
    if (v ${op === 'argmax' ? '>' : '<'} bestV) { best = k; bestV = v; }
  }
  out[i] = f32(best);`,
  );

/** Two tensors side by side, seen as (outer, chunk): row r is a's chunk then b's; spec: chunkA, chunkB. */
export const CONCAT2 = elementwise(
  ['a', 'b'],
  `let chunkA = spec[${FIRST}u];
  let chunkB = spec[${FIRST + 1}u];
  let row = i / (chunkA + chunkB);
  let col = i % (chunkA + chunkB);
  if (col < chunkA) { out[i] = a[row * chunkA + col]; } else { out[i] = b[row * chunkB + col - chunkA]; }`,
);

/** out[r, c] = x[idx[r], c]; spec: rowSize. */
export const GATHER = elementwise(['x', 'idx'], `let rowSize = spec[${FIRST}u];\n  out[i] = x[u32(idx[i / rowSize]) * rowSize + i % rowSize];`);

/** The adjoint of gather, without atomics: each output element sums the updates whose index names its row; spec: rowSize, count. */
export const SCATTER_ADD = elementwise(
  ['u', 'idx'],
  `let rowSize = spec[${FIRST}u];
  let count = spec[${FIRST + 1}u];
  let row = f32(i / rowSize);
  let c = i % rowSize;
  var sum = 0.0;
  for (var k = 0u; k < count; k++) {
    if (idx[k] == row) { sum += u[k * rowSize + c]; }
  }
  out[i] = sum;`,
);

/** A copy (clone, casts that keep the values). */
export const COPY = elementwise(['x'], 'out[i] = x[i];');
/** float → int32 rounds toward zero, as the CPU cast. */
export const TRUNC = elementwise(['x'], 'out[i] = trunc(x[i]);');
/** A constant (the zeros of an empty sum or product); spec: the value's bits. */
export const FILL = elementwise([], `out[i] = param(${FIRST}u);`);

/**
 * C = op(A)·op(B), batched, with op(A)[r, p] = a[aBatch + r·ai + p·ap] and op(B)[p, c] = b[bBatch + p·bp + c·bj] (as
 * the CPU kernels). Workgroup (x, y, z) computes the TILE×TILE block of C at column block x, row block y, batch z with
 * 16×16 invocations, each owning a BLOCK×BLOCK (4×4) block of outputs held in registers. At each step of K the
 * workgroup stages a TILE×KSTEP piece of A and a KSTEP×TILE piece of B in workgroup memory (four elements of each per
 * invocation), waits for all, and every invocation does KSTEP × 16 multiply-adds: per term it reads 4 values of A and
 * 4 of B from the shared tiles and updates 16 sums (register blocking, as in the wasm micro-kernel's 4×8 tile).
 * spec: m, n, k, ai, ap, bp, bj, batch stride of a, batch stride of b (0 for a broadcast operand).
 * The fused linear layer is the same kernel with an epilogue: z = C + bias, written to `outZ`, and y = act(z) to
 * `out` (see linearSource).
 */
function matmulSource(epilogue: { bias: boolean; activation: UnaryOp | null } | null): string {
  // After a and b: the bias (when there is one), z (when there is an activation), then `out` — every binding used,
  // as the 'auto' layout keeps only the bindings a kernel reads or writes.
  const names = [...(epilogue?.bias ? ['bias'] : []), ...(epilogue?.activation ? ['outZ'] : []), 'out'];
  const extra = names
    .map((name, k) => `@group(0) @binding(${3 + k}) var<storage, ${name === 'bias' ? 'read' : 'read_write'}> ${name}: array<f32>;`)
    .join('\n');
  const write = !epilogue
    ? 'out[at] = sum;'
    : epilogue.activation
      ? `let x = sum${epilogue.bias ? ' + bias[col]' : ''};\n        let p0 = 0.0;\n        let p1 = 0.0;\n        outZ[at] = x;\n        ${assign('out[at]', UNARY_SOURCE[epilogue.activation].f).replaceAll('\n  ', '\n        ')}`
      : `out[at] = sum${epilogue.bias ? ' + bias[col]' : ''};`;
  return `@group(0) @binding(0) var<storage, read> spec: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
${extra}
var<workgroup> tileA: array<array<f32, ${KSTEP}>, ${TILE}>; // [row of the block][term]
var<workgroup> tileB: array<array<f32, ${TILE}>, ${KSTEP}>; // [term][column of the block]
${epilogue?.activation ? HELPERS : ''}
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let m = spec[0]; let n = spec[1]; let k = spec[2];
  let ai = spec[3]; let ap = spec[4]; let bp = spec[5]; let bj = spec[6];
  let aBatch = wg.z * spec[7];
  let bBatch = wg.z * spec[8];
  let row0 = wg.y * ${TILE}u;
  let col0 = wg.x * ${TILE}u;
  let me = lid.y * 16u + lid.x;
  var acc: array<vec4<f32>, ${BLOCK}>; // acc[i][j]: C[row0 + 4·lid.y + i, col0 + 4·lid.x + j]
  for (var t = 0u; t < k; t += ${KSTEP}u) {
    for (var r = 0u; r < ${(TILE * KSTEP) / 256}u; r++) {
      let e = me + r * 256u;
      let ar = e / ${KSTEP}u; // A's piece: TILE rows × KSTEP terms, consecutive invocations along the terms
      let ak = t + e % ${KSTEP}u;
      var va = 0.0;
      if (row0 + ar < m && ak < k) { va = a[aBatch + (row0 + ar) * ai + ak * ap]; }
      tileA[ar][e % ${KSTEP}u] = va;
      let bk = t + e / ${TILE}u; // B's piece: KSTEP terms × TILE columns, consecutive invocations along the columns
      let bc = e % ${TILE}u;
      var vb = 0.0;
      if (col0 + bc < n && bk < k) { vb = b[bBatch + bk * bp + (col0 + bc) * bj]; }
      tileB[e / ${TILE}u][bc] = vb;
    }
    workgroupBarrier();
    for (var q = 0u; q < ${KSTEP}u; q++) {
      let c = lid.x * ${BLOCK}u;
      let bq = vec4<f32>(tileB[q][c], tileB[q][c + 1u], tileB[q][c + 2u], tileB[q][c + 3u]);
      for (var i = 0u; i < ${BLOCK}u; i++) { acc[i] += tileA[lid.y * ${BLOCK}u + i][q] * bq; }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < ${BLOCK}u; i++) {
    let row = row0 + lid.y * ${BLOCK}u + i;
    for (var j = 0u; j < ${BLOCK}u; j++) {
      let col = col0 + lid.x * ${BLOCK}u + j;
      if (row < m && col < n) {
        let sum = acc[i][j];
        let at = (wg.z * m + row) * n + col;
        ${write}
      }
    }
  }
}`;
}

export const MATMUL = matmulSource(null);

/** x·W (+ b) and act(x·W + b) in one kernel; bindings after x and W: the bias if any, z if there is an activation, out. */
export const linearSource = (bias: boolean, activation: UnaryOp | null) => matmulSource({ bias, activation });


/**
 * One Adam step per element in one pass, writing θ, m and v (see ../adam.ts for the scalars; the same operations in
 * the same order as its composite): g ← g + l2·θ; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
 * θ ← decay·θ − lr·(m / bc1) / (√(v / bc2) + ε). Eight storage buffers: WebGPU's default limit per stage.
 */
export const ADAM = `@group(0) @binding(0) var<storage, read> spec: array<u32>;
@group(0) @binding(1) var<storage, read> theta: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read> m: array<f32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;
@group(0) @binding(5) var<storage, read_write> outTheta: array<f32>;
@group(0) @binding(6) var<storage, read_write> outM: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;
fn param(k: u32) -> f32 { return bitcast<f32>(spec[k]); }
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * spec[1];
  if (i >= spec[0]) { return; }
  ${ADAM_SCALAR_ORDER.map((name, k) => `let ${name} = param(${FIRST + k}u);`).join('\n  ')}
  let p = theta[i];
  var g = grad[i];
  if (l2 != 0.0) { g = g + p * l2; }
  let m1 = m[i] * beta1 + g * oneMinusBeta1;
  let v1 = v[i] * beta2 + (g * g) * oneMinusBeta2;
  let direction = (m1 / bc1) / (sqrt(v1 / bc2) + eps);
  var decayed = p;
  if (decay != 1.0) { decayed = p * decay; }
  outTheta[i] = decayed - direction * lr;
  outM[i] = m1;
  out[i] = v1;
}`;

/**
 * conv2d, direct (one invocation per output element: a loop over its window), and its two gradients (one per input
 * element; one per filter tap, a loop over the batch and the positions). spec after FIRST: n, c, h, w, co, kh, kw,
 * sh, sw, ph, pw, ho, wo, and for the forward whether there is a bias. The window arithmetic is conv.ts's, in i32.
 */
const CONV_DIMS = `let n = spec[2u]; let c = spec[3u]; let h = i32(spec[4u]); let w = i32(spec[5u]); let co = spec[6u];
  let kh = spec[7u]; let kw = spec[8u]; let sh = i32(spec[9u]); let sw = i32(spec[10u]); let ph = i32(spec[11u]);
  let pw = i32(spec[12u]); let ho = spec[13u]; let wo = spec[14u];`;

/** y[b, o, r, q] = bias[o] + Σ x[b, ci, r·sh − ph + p, q·sw − pw + s]·wt[o, ci, p, s] (0 outside x). */
export const CONV2D = elementwise(['x', 'wt', 'bias'], `${CONV_DIMS}
  let j = i % wo; let r = (i / wo) % ho; let o = (i / (wo * ho)) % co; let b = i / (wo * ho * co);
  var acc = 0.0;
  if (spec[15u] == 1u) { acc = bias[o]; }
  for (var ci = 0u; ci < c; ci++) {
    for (var p = 0u; p < kh; p++) {
      let row = i32(r) * sh - ph + i32(p);
      if (row < 0 || row >= h) { continue; }
      for (var s = 0u; s < kw; s++) {
        let col = i32(j) * sw - pw + i32(s);
        if (col < 0 || col >= w) { continue; }
        acc += x[((b * c + ci) * u32(h) + u32(row)) * u32(w) + u32(col)] * wt[((o * c + ci) * kh + p) * kw + s];
      }
    }
  }
  out[i] = acc;`);

/** dx[b, ci, row, col] = Σ over the taps (o, p, s) whose window position (r, q) read it: dy[b, o, r, q]·wt[o, ci, p, s]. */
export const CONV2D_INPUT_GRAD = elementwise(['dy', 'wt'], `${CONV_DIMS}
  let col = i32(i % u32(w)); let row = i32((i / u32(w)) % u32(h)); let ci = (i / u32(w * h)) % c; let b = i / (u32(w * h) * c);
  var acc = 0.0;
  for (var o = 0u; o < co; o++) {
    for (var p = 0u; p < kh; p++) {
      let tr = row + ph - i32(p);
      if (tr < 0 || tr % sh != 0 || tr / sh >= i32(ho)) { continue; }
      for (var s = 0u; s < kw; s++) {
        let tq = col + pw - i32(s);
        if (tq < 0 || tq % sw != 0 || tq / sw >= i32(wo)) { continue; }
        acc += dy[((b * co + o) * ho + u32(tr / sh)) * wo + u32(tq / sw)] * wt[((o * c + ci) * kh + p) * kw + s];
      }
    }
  }
  out[i] = acc;`);

/** dw[o, ci, p, s] = Σ_{b, r, q} dy[b, o, r, q]·x[b, ci, r·sh − ph + p, q·sw − pw + s] (0 outside x). */
export const CONV2D_WEIGHT_GRAD = elementwise(['x', 'dy'], `${CONV_DIMS}
  let s = i % kw; let p = (i / kw) % kh; let ci = (i / (kw * kh)) % c; let o = i / (kw * kh * c);
  var acc = 0.0;
  for (var b = 0u; b < n; b++) {
    for (var r = 0u; r < ho; r++) {
      let row = i32(r) * sh - ph + i32(p);
      if (row < 0 || row >= h) { continue; }
      for (var q = 0u; q < wo; q++) {
        let col = i32(q) * sw - pw + i32(s);
        if (col < 0 || col >= w) { continue; }
        acc += dy[((b * co + o) * ho + r) * wo + q] * x[((b * c + ci) * u32(h) + u32(row)) * u32(w) + u32(col)];
      }
    }
  }
  out[i] = acc;`);
