// The op table: each differentiable op's forward beside its vector-Jacobian product (VJP), and the free functions.
// Notation: y = f(x…), dy = ∂L/∂y (same shape as y); each VJP returns ∂L/∂xᵢ = dyᵀ·∂y/∂xᵢ for every input.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { apply, Var, type OpDef, type VarLike } from './engine.js';

type In = Tensor | number;
const t = (x: In) => x as Tensor; // inputs that an op only accepts as tensors

// ---------------------------------------------------------------- unary (one entry serves every activation)

/** y = f(x) for any op in @rill/tensor's UNARY table; dx = dy · f'(x), by the derivative kernel beside f. */
export const unaryOp: OpDef<{ op: T.UnaryOp; params: number[] }> = {
  name: 'unary',
  forward: ([x], { op, params }) => T.unary(op, t(x), ...params),
  vjp: (dy, { inputs: [x], output: y, attrs: { op, params } }) => [T.unaryGrad(op, t(x), y, dy, ...params)],
};

/** One OpDef per activation name (so graphs and errors show `selu`, not `unary`), all sharing unaryOp's code. */
const UNARY_DEFS = Object.fromEntries(T.UNARY_OPS.map((op) => [op, { ...unaryOp, name: op }])) as Record<T.UnaryOp, typeof unaryOp>;
const unary = (op: T.UnaryOp, x: VarLike, ...params: number[]): Var => apply(UNARY_DEFS[op], [x], { op, params });

export const neg = (x: VarLike) => unary('neg', x);
export const abs = (x: VarLike) => unary('abs', x);
export const exp = (x: VarLike) => unary('exp', x);
export const log = (x: VarLike) => unary('log', x);
export const sqrt = (x: VarLike) => unary('sqrt', x);
export const square = (x: VarLike) => unary('square', x);
export const sin = (x: VarLike) => unary('sin', x);
export const cos = (x: VarLike) => unary('cos', x);
export const tanh = (x: VarLike) => unary('tanh', x);
export const sigmoid = (x: VarLike) => unary('sigmoid', x);
export const relu = (x: VarLike) => unary('relu', x);
export const leakyRelu = (x: VarLike, alpha = 0.01) => unary('leakyRelu', x, alpha);
export const elu = (x: VarLike, alpha = 1) => unary('elu', x, alpha);
export const selu = (x: VarLike) => unary('selu', x);
export const silu = (x: VarLike) => unary('silu', x);
export const gelu = (x: VarLike) => unary('gelu', x);
export const geluTanh = (x: VarLike) => unary('geluTanh', x);
export const softplus = (x: VarLike) => unary('softplus', x);
/** Limits x to [lo, hi]; the gradient passes where lo ≤ x ≤ hi. */
export const clip = (x: VarLike, lo: number, hi: number) => unary('clip', x, lo, hi);

// ---------------------------------------------------------------- binary (inputs broadcast; the engine sums gradients back)

const binary = (name: string, forward: (a: In, b: In) => Tensor, vjp: OpDef['vjp']): OpDef => ({
  name,
  forward: ([a, b]) => forward(a, b),
  vjp,
  broadcasts: true,
});

// d(a + b) = da + db
export const addOp = binary('add', T.add, (dy) => [dy, dy]);
// d(a − b) = da − db
export const subOp = binary('sub', T.sub, (dy) => [dy, T.neg(dy)]);
// d(a·b) = b·da + a·db
export const mulOp = binary('mul', T.mul, (dy, { inputs: [a, b] }) => [T.mul(dy, b), T.mul(dy, a)]);
// d(a/b) = da/b − (a/b²)·db = da/b − (y/b)·db
export const divOp = binary('div', T.div, (dy, { inputs: [, b], output: y }) => [T.div(dy, b), T.neg(T.div(T.mul(dy, y), b))]);
// d(aᵇ) = b·aᵇ⁻¹·da + aᵇ·ln(a)·db  (the db term is only finite for a > 0)
export const powOp = binary('pow', T.pow, (dy, { inputs: [a, b], output: y }) => [
  typeof a === 'number' ? null : T.mul(dy, T.mul(b, T.pow(a, typeof b === 'number' ? b - 1 : T.sub(b, 1)))),
  typeof b === 'number' ? null : T.mul(dy, T.mul(y, T.log(typeof a === 'number' ? T.full([], a, { dtype: y.dtype }) : a))),
]);
// maximum/minimum: the gradient goes to the selected input; on ties it is split in half (PyTorch's convention).
const pick = (dy: Tensor, a: In, b: In, first: (a: In, b: In) => Tensor): [Tensor, Tensor] => {
  const share = T.add(first(a, b), T.mul(T.eq(a, b), 0.5)); // 1 where a wins, ½ on ties, 0 where b wins
  return [T.mul(dy, share), T.mul(dy, T.sub(1, share))];
};
export const maximumOp = binary('maximum', T.maximum, (dy, { inputs: [a, b] }) => pick(dy, a, b, T.gt));
export const minimumOp = binary('minimum', T.minimum, (dy, { inputs: [a, b] }) => pick(dy, a, b, T.lt));

export const add = (a: VarLike, b: VarLike) => apply(addOp, [a, b], undefined);
export const sub = (a: VarLike, b: VarLike) => apply(subOp, [a, b], undefined);
export const mul = (a: VarLike, b: VarLike) => apply(mulOp, [a, b], undefined);
export const div = (a: VarLike, b: VarLike) => apply(divOp, [a, b], undefined);
export const pow = (a: VarLike, b: VarLike) => apply(powOp, [a, b], undefined);
export const maximum = (a: VarLike, b: VarLike) => apply(maximumOp, [a, b], undefined);
export const minimum = (a: VarLike, b: VarLike) => apply(minimumOp, [a, b], undefined);

/** where(cond, a, b): the gradient flows to a where cond ≠ 0 and to b elsewhere; cond gets none. */
export const whereOp: OpDef = {
  name: 'where',
  forward: ([c, a, b]) => T.where(t(c), a, b),
  vjp: (dy, { inputs: [c] }) => [null, T.where(t(c), dy, 0), T.where(t(c), 0, dy)],
  broadcasts: true,
};
export const where = (cond: VarLike, a: VarLike, b: VarLike) => apply(whereOp, [cond, a, b], undefined);

// ---------------------------------------------------------------- non-differentiable: the result is a constant

const value = (x: VarLike): In => (x instanceof Var ? x.value : x);
/** Comparisons give 0/1 masks with zero derivative almost everywhere: they cut the graph. */
export const gt = (a: VarLike, b: VarLike) => new Var(T.gt(value(a), value(b)));
export const lt = (a: VarLike, b: VarLike) => new Var(T.lt(value(a), value(b)));
export const ge = (a: VarLike, b: VarLike) => new Var(T.ge(value(a), value(b)));
export const le = (a: VarLike, b: VarLike) => new Var(T.le(value(a), value(b)));
export const eq = (a: VarLike, b: VarLike) => new Var(T.eq(value(a), value(b)));
export const argmax = (x: VarLike, axis?: number) => new Var(T.argmax(t(value(x)), axis));
export const argmin = (x: VarLike, axis?: number) => new Var(T.argmin(t(value(x)), axis));
