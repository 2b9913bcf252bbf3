// Public elementwise, reduction and matmul ops: validate inputs (clear errors), then dispatch to the backend by op name.
import { getBackend, type ArgReduceOp, type ReduceOp } from './backend.js';
import { allocate, type DType, type TypedArray } from './dtype.js';
import { AxisError, DTypeError, ShapeError, ValueError, fmt } from './errors.js';
import { fromArray, input, isInt32, isTensor, needFloat, sameDType, scalarOf, wrap, type TensorLike } from './internal.js';
import { tidy } from './lifetime.js';
import { broadcastShapes, normalizeAxes, normalizeAxis, reducedShape, sameShape, sizeOf } from './shape.js';
import { Tensor } from './tensor.js';
import { UNARY, UNARY_OPS, type UnaryOp } from './unary.js';
import { BINARY, BINARY_OPS, type BinaryOp } from './binary.js';

// ---------------------------------------------------------------- unary

/** The parameters of a unary op, with defaults filled in. */
function unaryParams(op: UnaryOp, given: readonly number[]): number[] {
  const def = UNARY[op] as { params?: readonly (readonly [string, number])[] };
  const names = def.params ?? [];
  return names.map(([name, fallback], i) => {
    const v = given[i] ?? fallback;
    if (typeof v !== 'number' || Number.isNaN(v)) throw new ValueError(op, `${name} must be a number, got ${String(v)}`);
    return v;
  });
}

function checkUnary(op: UnaryOp, x: unknown): Tensor {
  if (!Object.hasOwn(UNARY, op)) throw new ValueError('unary', `unknown op '${String(op)}' (known: ${UNARY_OPS.join(' ')})`);
  const t = input(op, x);
  if (t.dtype === 'int32' && !(UNARY[op] as { int?: boolean }).int) needFloat(op, t);
  return t;
}

/** y = f(x) elementwise for the unary op named `op` (see UNARY for the list and each op's parameters). */
export function unary(op: UnaryOp, x: Tensor, ...params: number[]): Tensor {
  const t = checkUnary(op, x);
  return wrap(getBackend().unary(op, t, unaryParams(op, params)), t.shape, t.dtype);
}

/** dx = dy · f'(x) elementwise, given y = f(x): the backward kernel of a unary op (autograd uses it). */
export function unaryGrad(op: UnaryOp, x: Tensor, y: Tensor, dy: Tensor, ...params: number[]): Tensor {
  const t = checkUnary(op, x);
  for (const [name, other] of [['y', y], ['dy', dy]] as const) {
    const o = input(`${op}Grad`, other, name);
    if (o.shape.length !== t.shape.length || o.shape.some((d, i) => d !== t.shape[i])) {
      throw new ShapeError(`${op}Grad`, `${name} has shape ${fmt(o.shape)} but x has ${fmt(t.shape)}`);
    }
    sameDType(`${op}Grad`, t, o);
  }
  return wrap(getBackend().unaryGrad(op, t, y, dy, unaryParams(op, params)), t.shape, t.dtype);
}

/** −x elementwise; int32 accepted. */
export const neg = (x: Tensor) => unary('neg', x);
/** |x| elementwise; int32 accepted. */
export const abs = (x: Tensor) => unary('abs', x);
/** eˣ elementwise. Float tensors only: int32 throws DTypeError. */
export const exp = (x: Tensor) => unary('exp', x);
/** Natural logarithm ln x elementwise: −∞ at 0, NaN below. Float tensors only. */
export const log = (x: Tensor) => unary('log', x);
/** √x elementwise: NaN for x < 0. Float tensors only. */
export const sqrt = (x: Tensor) => unary('sqrt', x);
/** x² elementwise; int32 accepted. */
export const square = (x: Tensor) => unary('square', x);
/** sin x elementwise (radians). Float tensors only. */
export const sin = (x: Tensor) => unary('sin', x);
/** cos x elementwise (radians). Float tensors only. */
export const cos = (x: Tensor) => unary('cos', x);
/** tanh x elementwise. Float tensors only. */
export const tanh = (x: Tensor) => unary('tanh', x);
/** The logistic sigmoid σ(x) = 1 / (1 + e^(−x)) elementwise. Float tensors only. */
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
/** ReLU, max(x, 0) elementwise; int32 accepted. The CPU backends map NaN to 0. */
export const relu = (x: Tensor) => unary('relu', x);
/** Leaky ReLU: x for x > 0, alpha·x otherwise. Float tensors only. */
export const leakyRelu = (x: Tensor, alpha = 0.01) => unary('leakyRelu', x, alpha);
/** ELU: x for x > 0, alpha·(eˣ − 1) otherwise. Float tensors only. */
export const elu = (x: Tensor, alpha = 1) => unary('elu', x, alpha);
/** SELU, λx for x > 0 and λα(eˣ − 1) otherwise (λ = SELU_LAMBDA, α = SELU_ALPHA). Float tensors only. */
export const selu = (x: Tensor) => unary('selu', x);
/** SiLU ("swish"), x·σ(x) elementwise. Float tensors only. */
export const silu = (x: Tensor) => unary('silu', x);
/** Exact GELU, x·Φ(x) with Φ the standard normal CDF. Float tensors only. */
export const gelu = (x: Tensor) => unary('gelu', x);
/** GELU's tanh approximation, ½x(1 + tanh(√(2/π)(x + 0.044715x³))). Float tensors only. */
export const geluTanh = (x: Tensor) => unary('geluTanh', x);
/** Softplus, ln(1 + eˣ) elementwise, without overflow for large x. Float tensors only. */
export const softplus = (x: Tensor) => unary('softplus', x);
/**
 * Limits every element to [lo, hi] (either bound may be ±∞). Throws ValueError unless lo ≤ hi, and DTypeError for
 * non-integer bounds on an int32 tensor.
 */
export function clip(x: Tensor, lo: number, hi: number): Tensor {
  if (!(lo <= hi)) throw new ValueError('clip', `needs lo ≤ hi, got ${lo}, ${hi}`);
  if (x instanceof Tensor && x.dtype === 'int32' && !(isInt32(lo, true) && isInt32(hi, true))) {
    throw new DTypeError('clip', `bounds of an int32 clip must be integers, got ${lo}, ${hi}`);
  }
  return unary('clip', x, lo, hi);
}

// ---------------------------------------------------------------- binary and where

/** Turns a number into a scalar of the tensor's dtype (refusing a fraction for int32); checks tensors. */
function operands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor, Tensor[]] {
  const temps: Tensor[] = [];
  const other = isTensor(a) ? input(op, a, 'a') : isTensor(b) ? input(op, b, 'b') : undefined;
  const dtype: DType = other?.dtype ?? 'float32';
  const lift = (x: TensorLike, name: string): Tensor => {
    if (isTensor(x)) return input(op, x, name);
    if (typeof x !== 'number') throw new ValueError(op, `${name} must be a Tensor or a number, got ${typeof x}`);
    if (dtype === 'int32' && !isInt32(x)) {
      throw new DTypeError(op, `${x} is not an int32 value but the other operand is int32${fmt(other!.shape)}`);
    }
    const s = scalarOf(x, dtype);
    temps.push(s);
    return s;
  };
  try {
    return [lift(a, 'a'), lift(b, 'b'), temps];
  } catch (e) {
    for (const t of temps) t.dispose();
    throw e;
  }
}

/** out = f(a, b) with NumPy broadcasting, for the binary op named `op`; numbers act as scalars. */
export function binary(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  if (!Object.hasOwn(BINARY, op)) throw new ValueError('binary', `unknown op '${String(op)}' (known: ${BINARY_OPS.join(' ')})`);
  const [ta, tb, temps] = operands(op, a, b);
  try {
    const dtype = sameDType(op, ta, tb);
    if (dtype === 'int32' && (op === 'div' || op === 'pow')) {
      throw new DTypeError(op, `int32 tensors are not supported (the result would be truncated); cast to float32 first`);
    }
    const shape = broadcastShapes(op, ta.shape, tb.shape);
    return wrap(getBackend().binary(op, ta, tb, shape, dtype), shape, dtype);
  } finally {
    for (const t of temps) t.dispose(); // the scalars made for number operands, also when the op throws
  }
}

/** a + b elementwise, with NumPy broadcasting; a number operand is a scalar of the other operand's dtype. */
export const add = (a: TensorLike, b: TensorLike) => binary('add', a, b);
/** a − b elementwise, with broadcasting (as add). */
export const sub = (a: TensorLike, b: TensorLike) => binary('sub', a, b);
/** a · b elementwise, with broadcasting (as add). */
export const mul = (a: TensorLike, b: TensorLike) => binary('mul', a, b);
/** a / b elementwise, with broadcasting (as add). Float only: int32 operands throw DTypeError (cast first). */
export const div = (a: TensorLike, b: TensorLike) => binary('div', a, b);
/** aᵇ elementwise, with broadcasting (as add). Float only: int32 operands throw DTypeError (cast first). */
export const pow = (a: TensorLike, b: TensorLike) => binary('pow', a, b);
/** The elementwise larger of a and b, with broadcasting (as add); on the CPU backends NaN if either is NaN. */
export const maximum = (a: TensorLike, b: TensorLike) => binary('maximum', a, b);
/** The elementwise smaller of a and b, with broadcasting (as add); on the CPU backends NaN if either is NaN. */
export const minimum = (a: TensorLike, b: TensorLike) => binary('minimum', a, b);
/** 1 where a > b, else 0 (in the operands' dtype). */
export const gt = (a: TensorLike, b: TensorLike) => binary('gt', a, b);
/** 1 where a < b, else 0 (in the operands' dtype). */
export const lt = (a: TensorLike, b: TensorLike) => binary('lt', a, b);
/** 1 where a ≥ b, else 0 (in the operands' dtype). */
export const ge = (a: TensorLike, b: TensorLike) => binary('ge', a, b);
/** 1 where a ≤ b, else 0 (in the operands' dtype). */
export const le = (a: TensorLike, b: TensorLike) => binary('le', a, b);
/** 1 where a = b, else 0 (in the operands' dtype); NaN equals nothing. */
export const eq = (a: TensorLike, b: TensorLike) => binary('eq', a, b);

/** a where cond ≠ 0, else b; all three broadcast together. The result has a's and b's (common) dtype. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const c = input('where', cond, 'cond');
  const [ta, tb, temps] = operands('where', a, b);
  try {
    const dtype = sameDType('where', ta, tb);
    const shape = broadcastShapes('where', c.shape, ta.shape, tb.shape);
    return wrap(getBackend().where(c, ta, tb, shape), shape, dtype);
  } finally {
    for (const t of temps) t.dispose();
  }
}

/** weightedSum's reused weight arrays, one per dtype (grown as needed). */
const weightArrays = new Map<DType, TypedArray>();
function weightScratch(dtype: DType, size: number): TypedArray {
  let a = weightArrays.get(dtype);
  if (!a || a.length < size) weightArrays.set(dtype, (a = allocate(dtype, Math.max(size, 2 * (a?.length ?? 0)))));
  return a;
}

/**
 * out[i, …] = a[i]·x[i, …] + b[i]·y[i, …]: two tensors of one float shape (B, …) mixed row by row with B host weights
 * each (rounded to the dtype first) — a flow-matching path's x_t = α_t z + β_t x0, each row at its own t, in one pass
 * on the CPU backends instead of four coefficient tensors, two multiplies and an add. The same numbers as
 * add(mul(a, x), mul(b, y)) with a and b as (B, 1, …) tensors, which is what the GPU backends run.
 */
export function weightedSum(x: Tensor, a: ArrayLike<number>, y: Tensor, b: ArrayLike<number>): Tensor {
  const [tx, ty] = [input('weightedSum', x, 'x'), input('weightedSum', y, 'y')];
  const dtype = sameDType('weightedSum', tx, ty);
  needFloat('weightedSum', tx);
  if (tx.rank < 1 || !sameShape(tx.shape, ty.shape)) throw new ShapeError('weightedSum', `needs x and y of one shape (B, …), got ${fmt(tx.shape)} and ${fmt(ty.shape)}`);
  const rows = tx.shape[0];
  const backend = getBackend();
  // the weights rounded to the dtype: for a backend's kernel, in arrays reused from call to call (it reads them before
  // it returns; a new typed array costs ~2 µs, more than the pass itself at a training batch); else new ones
  const store = backend.weightedSum ? weightScratch(dtype, 2 * rows) : allocate(dtype, 2 * rows);
  const weights = (w: ArrayLike<number>, name: string, at: number) => {
    if (w?.length !== rows) throw new ShapeError('weightedSum', `needs ${rows} weights ${name}, one per row of x, got ${w?.length}`);
    const out = store.subarray(at, at + rows);
    for (let i = 0; i < rows; i++) {
      if (typeof w[i] !== 'number' || !Number.isFinite(w[i])) throw new ValueError('weightedSum', `weight ${name}[${i}] must be a finite number, got ${w[i]}`);
      out[i] = w[i];
    }
    return out;
  };
  const [wa, wb] = [weights(a, 'a', 0), weights(b, 'b', rows)];
  const fused = backend.weightedSum?.(tx, wa, ty, wb);
  if (fused) return wrap(fused, tx.shape, dtype);
  const column = [rows, ...tx.shape.slice(1).map(() => 1)];
  // copies: the backend's fromArray may keep the array it is given, and wa, wb may be views of the reused ones
  return tidy(() => add(mul(fromArray(wa.slice(), column, dtype), tx), mul(fromArray(wb.slice(), column, dtype), ty)));
}

// ---------------------------------------------------------------- reductions

/** Axes to reduce: one axis, a list, or all (undefined). */
export type Axes = number | number[] | undefined;

function reduce(op: ReduceOp, x: Tensor, axis: Axes, keepdims: boolean): Tensor {
  const t = input(op, x);
  const axes = normalizeAxes(op, axis, t.shape);
  if (op !== 'sum' && axes.some((a) => t.shape[a] === 0)) {
    throw new ValueError(op, `cannot reduce an empty axis: shape ${fmt(t.shape)}, axes [${axes}]`);
  }
  const out = getBackend().reduce(op, t, axes);
  return wrap(out, reducedShape(t.shape, axes, keepdims), t.dtype);
}

/** Σ over the given axes (all by default); keepdims keeps them as size 1. */
export const sum = (x: Tensor, axis?: Axes, keepdims = false) => reduce('sum', x, axis, keepdims);
/**
 * The largest element over the given axes (all by default); keepdims keeps them as size 1. An empty reduced axis
 * throws ValueError; on the CPU backends NaN propagates.
 */
export const max = (x: Tensor, axis?: Axes, keepdims = false) => reduce('max', x, axis, keepdims);
/** The smallest element over the given axes (all by default), as max. */
export const min = (x: Tensor, axis?: Axes, keepdims = false) => reduce('min', x, axis, keepdims);

/** Arithmetic mean over the given axes (all by default). */
export function mean(x: Tensor, axis?: Axes, keepdims = false): Tensor {
  const t = input('mean', x);
  needFloat('mean', t);
  const count = sizeOf(normalizeAxes('mean', axis, t.shape).map((a) => t.shape[a]));
  return tidy(() => div(sum(t, axis, keepdims), count));
}

/** Population variance (ddof = 0, as NumPy's default): mean((x − mean(x))²), computed in two passes. */
export function variance(x: Tensor, axis?: Axes, keepdims = false): Tensor {
  const t = input('var', x);
  needFloat('var', t);
  normalizeAxes('var', axis, t.shape); // report bad axes as var's, not mean's
  return tidy(() => {
    const d = sub(t, mean(t, axis, true));
    return mean(mul(d, d), axis, keepdims);
  });
}

function argReduce(op: ArgReduceOp, x: Tensor, axis: number | undefined, keepdims: boolean): Tensor {
  const t = input(op, x);
  if (axis !== undefined && typeof axis !== 'number') {
    throw new AxisError(op, `takes one axis (or none for the flattened tensor), got ${JSON.stringify(axis)}`);
  }
  if (axis === undefined) {
    if (t.size === 0) throw new ValueError(op, `cannot reduce an empty tensor ${fmt(t.shape)}`);
    const flat = tidy(() => wrap(getBackend().argReduce(op, Tensor.view(t, [t.size]), 0), [], 'int32'));
    return keepdims ? Tensor.view(flat, t.shape.map(() => 1)) : flat;
  }
  const a = normalizeAxis(op, axis, t.shape);
  if (t.shape[a] === 0) throw new ValueError(op, `cannot reduce an empty axis: shape ${fmt(t.shape)}, axis ${a}`);
  return wrap(getBackend().argReduce(op, t, a), reducedShape(t.shape, [a], keepdims), 'int32');
}

/**
 * int32 index of the largest element along `axis` (of the flattened tensor when axis is undefined); the first wins
 * ties and NaN counts as the largest. keepdims keeps the reduced axis (all axes, when flattened) as size 1.
 */
export const argmax = (x: Tensor, axis?: number, keepdims = false) => argReduce('argmax', x, axis, keepdims);
/** int32 index of the smallest element, as argmax. */
export const argmin = (x: Tensor, axis?: number, keepdims = false) => argReduce('argmin', x, axis, keepdims);

// ---------------------------------------------------------------- matmul

/** Options of matmul: which operands are stored transposed. */
export interface MatmulOptions {
  /** Use aᵀ: a is stored (…, K, M). */
  transA?: boolean;
  /** Use bᵀ: b is stored (…, N, K). */
  transB?: boolean;
}

/**
 * Matrix product op(a)·op(b) of 2D (M×K · K×N → M×N) or batched 3D tensors ((B, M, K) · (B, K, N) → (B, M, N));
 * a batch of 1, or a 2D operand, broadcasts over the other's batch. Transposed operands are read in place.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const { transA = false, transB = false } = options;
  const ta = input('matmul', a, 'a');
  const tb = input('matmul', b, 'b');
  const dtype = sameDType('matmul', ta, tb);
  needFloat('matmul', ta);
  // The operands as messages show them, e.g. `[2,3]ᵀ @ [4,5]` (ᵀ marks a transposed operand).
  const shown = () => `${fmt(ta.shape)}${transA ? 'ᵀ' : ''} @ ${fmt(tb.shape)}${transB ? 'ᵀ' : ''}`; // only when throwing
  for (const t of [ta, tb]) {
    if (t.rank !== 2 && t.rank !== 3) throw new ShapeError('matmul', `needs 2D or 3D tensors, got ${shown()}`);
  }
  const [ra, ca] = ta.shape.slice(-2);
  const [rb, cb] = tb.shape.slice(-2);
  const [m, k] = transA ? [ca, ra] : [ra, ca];
  const [kb, n] = transB ? [cb, rb] : [rb, cb];
  if (k !== kb) throw new ShapeError('matmul', `inner dimensions differ: ${shown()}`);
  const batchA = ta.rank === 3 ? ta.shape[0] : 1;
  const batchB = tb.rank === 3 ? tb.shape[0] : 1;
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) {
    throw new ShapeError('matmul', `batch dimensions differ: ${shown()}`);
  }
  const batch = batchA === 1 ? batchB : batchA; // a batch of 1 broadcasts (also against a batch of 0)
  const shape = ta.rank === 2 && tb.rank === 2 ? [m, n] : [batch, m, n];
  const out = getBackend().matmul(ta, tb, transA, transB, { batchA, batchB, m, n, k });
  return wrap(out, shape, dtype);
}

