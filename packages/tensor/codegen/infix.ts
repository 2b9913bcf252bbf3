// Prints a parsed formula in an infix language: JavaScript (the CPU kernels), gpu.js's JavaScript subset (compiled
// to GLSL) and WGSL. One printer; each dialect says how it spells numbers, names, functions and `c ? u : v`.
import type { Expr, Fn, Formula } from './parse.js';

/** How one target language spells the parts of a formula. */
export interface Dialect {
  /** A non-negative literal (GLSL and WGSL want 1.0, not 1). */
  num(value: number): string;
  /** An input or local named `name`. */
  variable(name: string): string;
  /** The op's parameter number `index`. */
  param(index: number, name: string): string;
  /** A named constant. */
  constant(name: string, value: number): string;
  /** A call of `fn` on printed arguments. */
  call(fn: Fn, args: string[]): string;
  /** `test ? then : else`, or undefined for the infix ternary. */
  select?(test: string, then: string, otherwise: string): string;
  /** A local value's declaration statement. */
  declare(name: string, value: string): string;
}

// Binding strength: a child binding less tightly than its parent's operand position is parenthesized.
const PRECEDENCE = { cond: 1, '||': 2, '&&': 3, cmp: 4, '+': 5, '-': 5, '*': 6, '/': 6, neg: 7, atom: 8 } as const;

function precedence(e: Expr, d: Dialect): number {
  switch (e.kind) {
    case 'cond':
      return d.select ? PRECEDENCE.atom : PRECEDENCE.cond;
    case 'logic':
      return PRECEDENCE[e.op];
    case 'cmp':
      return PRECEDENCE.cmp;
    case 'arith':
      return PRECEDENCE[e.op];
    case 'neg':
      return PRECEDENCE.neg;
    default:
      return PRECEDENCE.atom;
  }
}

/** Prints `e`; `min` is the binding strength its position needs. */
export function printExpr(e: Expr, d: Dialect, min = 0): string {
  const text = print(e, d);
  // Comparisons and logic nested in each other always get parentheses (WGSL requires it for && inside ||).
  const logical = (x: Expr) => x.kind === 'cmp' || x.kind === 'logic';
  const nestedLogic = logical(e) && min >= PRECEDENCE['||'] && min <= PRECEDENCE.cmp + 1;
  return precedence(e, d) < min || nestedLogic ? `(${text})` : text;
}

function print(e: Expr, d: Dialect): string {
  switch (e.kind) {
    case 'num':
      return d.num(e.value);
    case 'var':
      return d.variable(e.name);
    case 'param':
      return d.param(e.index, e.name);
    case 'const':
      return d.constant(e.name, e.value);
    case 'neg': {
      const arg = printExpr(e.arg, d, PRECEDENCE.neg);
      return arg.startsWith('-') ? `-(${arg})` : `-${arg}`; // never `--x`
    }
    case 'arith': {
      const p = PRECEDENCE[e.op];
      // A right operand of equal strength keeps its parentheses: a − (b − c) means something else than a − b − c, and
      // in floating point so does a + (b + c) (the order of the roundings changes).
      return `${printExpr(e.left, d, p)} ${e.op} ${printExpr(e.right, d, p + 1)}`;
    }
    case 'cmp':
      return `${printExpr(e.left, d, PRECEDENCE.cmp + 1)} ${e.op} ${printExpr(e.right, d, PRECEDENCE.cmp + 1)}`;
    case 'logic':
      return `${printExpr(e.left, d, PRECEDENCE[e.op])} ${e.op} ${printExpr(e.right, d, PRECEDENCE[e.op])}`;
    case 'cond': {
      if (d.select) return d.select(printExpr(e.test, d), printExpr(e.then, d), printExpr(e.else, d));
      return `${printExpr(e.test, d, PRECEDENCE.cond + 0.5)} ? ${printExpr(e.then, d, PRECEDENCE.cond)} : ${printExpr(e.else, d, PRECEDENCE.cond)}`;
    }
    case 'call':
      return d.call(e.fn, e.args.map((a) => printExpr(a, d)));
  }
}

/** A formula printed: its locals' declarations, then the value's expression. */
export interface Printed {
  lets: string[];
  value: string;
}

export function printFormula(f: Formula, d: Dialect): Printed {
  return { lets: f.lets.map((l) => d.declare(l.name, printExpr(l.value, d))), value: printExpr(f.value, d) };
}

/** A float literal with a decimal point or an exponent (GLSL and WGSL read `1` as an integer). */
export const floatLiteral = (v: number) => (/[.e]/.test(String(v)) ? String(v) : `${v}.0`);

/** JavaScript on float64 numbers: the CPU kernels. Parameter k is `p[k]` (a function's array) or `pk` (a loop's local). */
export const javascript = (param: 'array' | 'locals'): Dialect => ({
  num: String,
  variable: (name) => name,
  param: (index) => (param === 'array' ? `p[${index}]` : `p${index}`),
  constant: (name) => name,
  call: (fn, args) => {
    const own: Partial<Record<Fn, string>> = { logistic: 'logistic', normalCdf: 'normalCdf', normalPdf: 'normalPdf', isNaN: 'Number.isNaN' };
    return `${own[fn] ?? `Math.${fn}`}(${args.join(', ')})`;
  },
  declare: (name, value) => `const ${name} = ${value};`,
});

// The GPU languages spell eˣ − 1 and ln(1 + x) directly, and call helper functions (written in gpu/helpers.ts and
// webgpu/wgsl.ts) for what they lack or get wrong: a stable tanh, σ, Φ, φ, a pow defined for negative bases.
const GPU_FUNCTIONS: Record<Fn, (args: string[], math: string) => string> = {
  exp: ([x], m) => `${m}exp(${x})`,
  expm1: ([x], m) => `(${m}exp(${x}) - 1.0)`,
  log: ([x], m) => `${m}log(${x})`,
  log1p: ([x], m) => `${m}log(1.0 + ${x})`,
  sqrt: ([x], m) => `${m}sqrt(${x})`,
  abs: ([x], m) => `${m}abs(${x})`,
  sign: ([x], m) => `${m}sign(${x})`,
  sin: ([x], m) => `${m}sin(${x})`,
  cos: ([x], m) => `${m}cos(${x})`,
  tanh: ([x]) => `tanhStable(${x})`,
  logistic: ([x]) => `logistic(${x})`,
  normalCdf: ([x]) => `normalCdf(${x})`,
  normalPdf: ([x]) => `normalPdf(${x})`,
  max: ([u, v], m) => `${m}max(${u}, ${v})`,
  min: ([u, v], m) => `${m}min(${u}, ${v})`,
  pow: ([u, v]) => `powSafe(${u}, ${v})`,
  isNaN: ([x]) => `(${x} != ${x})`,
};

/** The shading languages: float literals and constants, inputs renamed by `names`, parameters p0, p1. */
const shading = (names: Record<string, string>, math: string, declare: string): Dialect => ({
  num: floatLiteral,
  variable: (name) => names[name] ?? name,
  param: (index) => `p${index}`,
  constant: (_name, value) => floatLiteral(value),
  call: (fn, args) => GPU_FUNCTIONS[fn](args, math),
  declare: (name, value) => `${declare} ${name} = ${value};`,
});

/** gpu.js kernel code: a JavaScript subset it translates to GLSL (Math.exp, const locals, the ?: ternary). */
export const gpuJs = (names: Record<string, string> = {}): Dialect => shading(names, 'Math.', 'const');

/** WGSL (WebGPU): `select(else, then, test)` for the ternary, `let` locals. */
export const wgsl = (names: Record<string, string> = {}): Dialect => ({
  ...shading(names, '', 'let'),
  select: (test, then, otherwise) => `select(${otherwise}, ${then}, ${test})`,
});
