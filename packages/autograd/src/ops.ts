// The op table: each differentiable op's forward beside its vector-Jacobian product (VJP), and the free functions.
// Notation: y = f(x…), dy = ∂L/∂y (same shape as y); each VJP returns ∂L/∂xᵢ = dyᵀ·∂y/∂xᵢ for every input.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { apply, Var, type In, type OpDef, type TensorArg, type VarLike } from './engine.js';
import { valueOf } from './inputs.js';

// ---------------------------------------------------------------- unary (one entry serves every activation)

/**
 * y = f(x) for any op in @rill/tensor's UNARY table; dx = dy · f'(x), by the derivative kernel written beside f
 * there (packages/tensor/src/formulas.ts: each activation's f and df side by side, with references).
 */
const unaryTemplate: OpDef<{ op: T.UnaryOp; params: number[] }> = {
  name: 'unary',
  forward: ([x], { op, params }) => T.unary(op, x, ...params),
  vjp: (dy, { inputs: [x], output: y, attrs: { op, params } }) => [T.unaryGrad(op, x, y, dy, ...params)],
};

/** One OpDef per activation name (so graphs and errors show `selu`, not `unary`), all sharing unaryOp's code. */
const UNARY_DEFS = Object.fromEntries(T.UNARY_OPS.map((op) => [op, { ...unaryTemplate, name: op }])) as Record<T.UnaryOp, typeof unaryTemplate>;
/** y = f(x) for the unary op named `op`, recorded for backward (the same call as @rill/tensor's unary). */
export function unary(op: T.UnaryOp, x: TensorArg, ...params: number[]): Var {
  if (!Object.hasOwn(UNARY_DEFS, op)) throw new T.ValueError('unary', `unknown op '${String(op)}' (known: ${T.UNARY_OPS.join(' ')})`);
  return apply(UNARY_DEFS[op], [x], { op, params });
}

/** y = −x; dx = −dy. */
export const neg = (x: TensorArg) => unary('neg', x);
/** y = |x|; dx = dy·sign(x) (0 at x = 0). */
export const abs = (x: TensorArg) => unary('abs', x);
/** y = eˣ; dx = dy·y. */
export const exp = (x: TensorArg) => unary('exp', x);
/** y = ln x (natural log; −∞ at 0, NaN below); dx = dy / x. */
export const log = (x: TensorArg) => unary('log', x);
/** y = √x; dx = dy / (2y) (∞ at x = 0). */
export const sqrt = (x: TensorArg) => unary('sqrt', x);
/** y = x²; dx = 2x·dy. */
export const square = (x: TensorArg) => unary('square', x);
/** y = sin x (radians); dx = dy·cos x. */
export const sin = (x: TensorArg) => unary('sin', x);
/** y = cos x (radians); dx = −dy·sin x. */
export const cos = (x: TensorArg) => unary('cos', x);
/** y = tanh x; dx = dy·(1 − y²). */
export const tanh = (x: TensorArg) => unary('tanh', x);
/** y = σ(x) = 1 / (1 + e^(−x)), computed without overflow; dx = dy·y(1 − y). */
export const sigmoid = (x: TensorArg) => unary('sigmoid', x);
/** y = max(x, 0); dx = dy where x > 0, else 0 (also at the kink x = 0, as PyTorch). */
export const relu = (x: TensorArg) => unary('relu', x);
/** y = x for x > 0, else α·x (slope `alpha`, default 0.01); dx = dy or α·dy. */
export const leakyRelu = (x: TensorArg, alpha = 0.01) => unary('leakyRelu', x, alpha);
/** y = x for x > 0, else α(eˣ − 1) (`alpha` default 1); dx = dy for x > 0, else dy·(y + α). */
export const elu = (x: TensorArg, alpha = 1) => unary('elu', x, alpha);
/**
 * y = λx for x > 0, else λα(eˣ − 1), with λ ≈ 1.0507 and α ≈ 1.6733 (Klambauer et al. 2017, "Self-Normalizing
 * Neural Networks", eq. 2).
 */
export const selu = (x: TensorArg) => unary('selu', x);
/** SiLU / swish: y = x·σ(x); dx = dy·σ(x)(1 + x(1 − σ(x))). */
export const silu = (x: TensorArg) => unary('silu', x);
/** Exact GELU: y = x·Φ(x), Φ the standard normal CDF; dx = dy·(Φ(x) + x·φ(x)) (Hendrycks & Gimpel 2016). */
export const gelu = (x: TensorArg) => unary('gelu', x);
/** GELU's tanh approximation: y = ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (Hendrycks & Gimpel 2016, §2). */
export const geluTanh = (x: TensorArg) => unary('geluTanh', x);
/** y = ln(1 + eˣ), computed as max(x, 0) + log1p(e^(−|x|)) (no overflow); dx = dy·σ(x). */
export const softplus = (x: TensorArg) => unary('softplus', x);
/** Limits x to [lo, hi]; the gradient passes where lo ≤ x ≤ hi. */
export function clip(x: TensorArg, lo: number, hi: number): Var {
  if (!(lo <= hi)) throw new T.ValueError('clip', `needs lo ≤ hi, got ${lo}, ${hi}`);
  return unary('clip', x, lo, hi);
}

// ---------------------------------------------------------------- binary (inputs broadcast; the engine sums gradients back)

type BinaryDef = OpDef<undefined, undefined, [In, In]>;
const binaryDef = (name: string, forward: (a: In, b: In) => Tensor, vjp: BinaryDef['vjp']): BinaryDef => ({
  name,
  forward: ([a, b]) => forward(a, b),
  vjp,
  broadcasts: true,
});

/** The `add` OpDef: y = a + b (broadcasting); d(a + b) = da + db. */
export const addOp = binaryDef('add', T.add, (dy) => [dy, dy]);
/** The `sub` OpDef: y = a − b (broadcasting); d(a − b) = da − db. */
export const subOp = binaryDef('sub', T.sub, (dy, { needsGrad: [, gb] }) => [dy, gb ? T.neg(dy) : null]);
/** The `mul` OpDef: y = a·b elementwise (broadcasting); d(a·b) = b·da + a·db. */
export const mulOp = binaryDef('mul', T.mul, (dy, { inputs: [a, b], needsGrad: [ga, gb] }) => [ga ? T.mul(dy, b) : null, gb ? T.mul(dy, a) : null]);
/** The `div` OpDef: y = a / b (broadcasting); d(a/b) = da/b − (a/b²)·db = da/b − (y/b)·db. */
export const divOp = binaryDef('div', T.div, (dy, { inputs: [, b], output: y, needsGrad: [ga, gb] }) => [
  ga ? T.div(dy, b) : null,
  gb ? T.neg(T.div(T.mul(dy, y), b)) : null,
]);
/** A tensor for a number operand, so that the elementwise masks below work with either. */
const lift = (x: In, like: Tensor) => (typeof x === 'number' ? T.full([], x, { dtype: like.dtype }) : x);
/**
 * The `pow` OpDef: y = aᵇ (broadcasting); d(aᵇ) = b·aᵇ⁻¹·da + aᵇ·ln(a)·db. As PyTorch does, the da term is 0 where
 * b = 0 (not 0·0⁻¹ = NaN at a = 0), and the db term is 0 where a = 0 (its limit for b > 0; ln 0 = −∞ would give NaN).
 */
export const powOp = binaryDef('pow', T.pow, (dy, { inputs: [a, b], output: y, needsGrad: [ga, gb] }) => [
  ga ? T.mul(dy, T.where(T.eq(lift(b, y), 0), 0, T.mul(b, T.pow(a, typeof b === 'number' ? b - 1 : T.sub(b, 1))))) : null,
  gb ? T.mul(dy, T.where(T.eq(lift(a, y), 0), 0, T.mul(y, T.log(lift(a, y))))) : null,
]);
// maximum/minimum: the gradient goes to the selected input; on ties it is split in half (PyTorch's convention).
const pick = (dy: Tensor, a: In, b: In, first: (a: In, b: In) => Tensor): [Tensor, Tensor] => {
  const share = T.add(first(a, b), T.mul(T.eq(a, b), 0.5)); // 1 where a wins, ½ on ties, 0 where b wins
  return [T.mul(dy, share), T.mul(dy, T.sub(1, share))];
};
/** The `maximum` OpDef: y = max(a, b) elementwise; dy goes to the larger input, split ½/½ on ties. */
export const maximumOp = binaryDef('maximum', T.maximum, (dy, { inputs: [a, b] }) => pick(dy, a, b, T.gt));
/** The `minimum` OpDef: y = min(a, b) elementwise; dy goes to the smaller input, split ½/½ on ties. */
export const minimumOp = binaryDef('minimum', T.minimum, (dy, { inputs: [a, b] }) => pick(dy, a, b, T.lt));

/** a + b elementwise with NumPy broadcasting; each gradient is summed back to its input's shape. */
export const add = (a: VarLike, b: VarLike) => apply(addOp, [a, b], undefined);
/** a − b elementwise with broadcasting; da = dy, db = −dy. */
export const sub = (a: VarLike, b: VarLike) => apply(subOp, [a, b], undefined);
/** a·b elementwise with broadcasting; da = dy·b, db = dy·a. */
export const mul = (a: VarLike, b: VarLike) => apply(mulOp, [a, b], undefined);
/** a / b elementwise with broadcasting; da = dy / b, db = −dy·a / b². */
export const div = (a: VarLike, b: VarLike) => apply(divOp, [a, b], undefined);
/** aᵇ elementwise with broadcasting; the da term is 0 where b = 0 and the db term 0 where a = 0 (as PyTorch). */
export const pow = (a: VarLike, b: VarLike) => apply(powOp, [a, b], undefined);
/** Elementwise max(a, b) with broadcasting; the gradient goes to the larger input, half to each on ties. */
export const maximum = (a: VarLike, b: VarLike) => apply(maximumOp, [a, b], undefined);
/** Elementwise min(a, b) with broadcasting; the gradient goes to the smaller input, half to each on ties. */
export const minimum = (a: VarLike, b: VarLike) => apply(minimumOp, [a, b], undefined);

/** where(cond, a, b): the gradient flows to a where cond ≠ 0 and to b elsewhere; cond gets none. */
export const whereOp: OpDef<undefined, undefined, [Tensor, In, In]> = {
  name: 'where',
  forward: ([c, a, b]) => T.where(c, a, b),
  vjp: (dy, { inputs: [c] }) => [null, T.where(c, dy, 0), T.where(c, 0, dy)],
  broadcasts: true,
};
/** a where cond ≠ 0, else b (all three broadcast); the gradient flows to a or b, none to cond. */
export const where = (cond: TensorArg, a: VarLike, b: VarLike) => apply(whereOp, [cond, a, b], undefined);

// ---------------------------------------------------------------- non-differentiable: the result is a constant

const value = (x: VarLike): In => (x instanceof Var ? x.value : x);
/**
 * 1 where a > b, else 0 (in the operands' dtype), as a constant Var: comparisons have zero derivative almost
 * everywhere, so they cut the graph.
 */
export const gt = (a: VarLike, b: VarLike) => new Var(T.gt(value(a), value(b)));
/** 1 where a < b, else 0, as a constant Var (no gradient), like {@link gt}. */
export const lt = (a: VarLike, b: VarLike) => new Var(T.lt(value(a), value(b)));
/** 1 where a ≥ b, else 0, as a constant Var (no gradient), like {@link gt}. */
export const ge = (a: VarLike, b: VarLike) => new Var(T.ge(value(a), value(b)));
/** 1 where a ≤ b, else 0, as a constant Var (no gradient), like {@link gt}. */
export const le = (a: VarLike, b: VarLike) => new Var(T.le(value(a), value(b)));
/** 1 where a = b, else 0, as a constant Var (no gradient), like {@link gt}. */
export const eq = (a: VarLike, b: VarLike) => new Var(T.eq(value(a), value(b)));
/**
 * int32 index of the largest element along `axis` (of the flattened tensor when undefined; first wins ties, NaN
 * counts as largest), as a constant Var; `keepdims` keeps the reduced axis as size 1.
 */
export const argmax = (x: TensorArg, axis?: number, keepdims = false) => new Var(T.argmax(valueOf('argmax', x), axis, keepdims));
/** int32 index of the smallest element along `axis`, as a constant Var; see {@link argmax}. */
export const argmin = (x: TensorArg, axis?: number, keepdims = false) => new Var(T.argmin(valueOf('argmin', x), axis, keepdims));

const DIFFERENTIABLE_BINARY = { add, sub, mul, div, pow, maximum, minimum } as const;
const COMPARISONS = { gt, lt, ge, le, eq } as const;

/** out = f(a, b) for the binary op named `op` (the same call as @rill/tensor's binary); comparisons give constants. */
export function binary(op: T.BinaryOp, a: VarLike, b: VarLike): Var {
  if (Object.hasOwn(DIFFERENTIABLE_BINARY, op)) return DIFFERENTIABLE_BINARY[op as keyof typeof DIFFERENTIABLE_BINARY](a, b);
  if (Object.hasOwn(COMPARISONS, op)) return COMPARISONS[op as keyof typeof COMPARISONS](a, b);
  throw new T.ValueError('binary', `unknown op '${String(op)}' (known: ${T.BINARY_OPS.join(' ')})`);
}
