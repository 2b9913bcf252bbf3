// The unary op table: each op's f(x) beside its derivative df(x, y) (y = f(x)), as functions the CPU kernels call.
// The formulas themselves are written once, in formulas.ts; the functions are printed from them at build time.
import { UNARY_JS } from './elementwise.generated.js';
import { CONSTANTS, UNARY_FORMULAS, UNARY_OPS, type UnaryOp } from './formulas.js';

export { UNARY_OPS, type UnaryOp };
export { logistic } from './special.js';

/** One unary op: the forward function and its derivative dy/dx, given x and y = f(x). `p` holds the op's parameters. */
export interface UnaryDef {
  /** f(x): the op's value at x, with `p` its parameters in the order of `params`. */
  f(x: number, p: readonly number[]): number;
  /** f′(x): the derivative at x; y = f(x) is given too, so that e.g. exp and tanh need no second exp / tanh. */
  df(x: number, y: number, p: readonly number[]): number;
  /** The formulas f and df are printed from (formulas.ts). */
  formula: {
    /** f(x), in the formula language of formulas.ts. */
    f: string;
    /** f′(x), which may use y = f(x). */
    df: string;
  };
  /** Parameter names and defaults, e.g. leakyRelu's slope `alpha = 0.01`. */
  params?: readonly (readonly [string, number])[];
  /** Whether the op maps integers to integers, so int32 tensors are accepted. */
  int?: boolean;
}

/** SELU's α ≈ 1.6733: for x → −∞, selu(x) tends to −λα (Klambauer et al., "Self-Normalizing Neural Networks", 2017, eq. 2). */
export const SELU_ALPHA = CONSTANTS.SELU_ALPHA;
/** SELU's scale λ ≈ 1.0507: selu(x) = λx for x > 0 (Klambauer et al. 2017, eq. 2). */
export const SELU_LAMBDA = CONSTANTS.SELU_LAMBDA;

/**
 * The unary elementwise ops by name: each op's f(x), its derivative f′(x) (`df`, given x and y = f(x)), its formulas,
 * its parameters with their defaults, and whether it accepts int32 tensors (ops without `int` throw DTypeError on them).
 */
export const UNARY = Object.fromEntries(
  UNARY_OPS.map((op) => {
    const { f, df, ...rest } = UNARY_FORMULAS[op] as (typeof UNARY_FORMULAS)[UnaryOp] & Partial<Pick<UnaryDef, 'params' | 'int'>>;
    const def: UnaryDef = { ...UNARY_JS[op], formula: { f, df } };
    if (rest.params) def.params = rest.params;
    if (rest.int) def.int = true;
    return [op, def];
  }),
) as Record<UnaryOp, UnaryDef>;
