// Prints a parsed formula as WebAssembly SIMD text: every value is an f32x4 vector (4 lanes at once), a comparison
// is a lane mask, `c ? u : v` is v128.bitselect (both sides computed, no branch). exp, expm1, tanh and σ are the
// helper functions of src/wasm/activations.wat (baseline SIMD has none of them); what SIMD cannot do (log, sin, …)
// is an error, so only ops whose formulas avoid it can be marked `simd`.
import type { Expr, Fn, Formula } from './parse.js';

const splat = (v: number) => `(v128.const f32x4 ${v} ${v} ${v} ${v})`;

const ARITH = { '+': 'f32x4.add', '-': 'f32x4.sub', '*': 'f32x4.mul', '/': 'f32x4.div' } as const;
const CMP = { '>': 'f32x4.gt', '<': 'f32x4.lt', '>=': 'f32x4.ge', '<=': 'f32x4.le', '==': 'f32x4.eq' } as const;
const CALLS: Partial<Record<Fn, (args: string[]) => string>> = {
  exp: ([x]) => `(call $exp ${x})`,
  expm1: ([x]) => `(call $expm1 ${x})`,
  tanh: ([x]) => `(call $tanh ${x})`,
  logistic: ([x]) => `(call $logistic ${x})`,
  sqrt: ([x]) => `(f32x4.sqrt ${x})`,
  abs: ([x]) => `(f32x4.abs ${x})`,
  max: ([u, v]) => `(f32x4.max ${u} ${v})`,
  min: ([u, v]) => `(f32x4.min ${u} ${v})`,
  isNaN: ([x]) => `(f32x4.ne ${x} ${x})`,
};

/** `e` as one WebAssembly expression; an input or local `name` is read as `vars[name]` (default `(local.get $name)`). */
export function watExpr(e: Expr, where: string, vars: Record<string, string> = {}): string {
  const go = (x: Expr) => watExpr(x, where, vars);
  switch (e.kind) {
    case 'num':
    case 'const':
      return splat(e.value);
    case 'var':
      return vars[e.name] ?? `(local.get $${e.name})`;
    case 'param':
      throw new Error(`${where}: the SIMD kernels take no parameters (${e.name}); drop \`simd\` from this op`);
    case 'neg':
      return `(f32x4.neg ${go(e.arg)})`;
    case 'arith':
      return `(${ARITH[e.op]} ${go(e.left)} ${go(e.right)})`;
    case 'cmp':
      return `(${CMP[e.op]} ${go(e.left)} ${go(e.right)})`;
    case 'logic':
      return `(${e.op === '&&' ? 'v128.and' : 'v128.or'} ${go(e.left)} ${go(e.right)})`;
    case 'cond':
      return `(v128.bitselect ${go(e.then)} ${go(e.else)} ${go(e.test)})`;
    case 'call': {
      const print = CALLS[e.fn];
      if (!print) throw new Error(`${where}: WebAssembly SIMD has no ${e.fn}; drop \`simd\` from this op`);
      return print(e.args.map(go));
    }
  }
}

/**
 * A function `$name` of vector params computing the formula: `(func $name (param $x v128) … (result v128) …)`,
 * its locals set in order, `comment` above it.
 */
export function watFunction(name: string, params: string[], f: Formula, where: string, comment: string): string {
  const locals = f.lets.map((l) => ` (local $${l.name} v128)`).join('');
  const sets = f.lets.map((l) => `\n  (local.set $${l.name} ${watExpr(l.value, where)})`).join('');
  const signature = params.map((p) => `(param $${p} v128)`).join(' ');
  return `;; ${comment}\n(func $${name} ${signature} (result v128)${locals}${sets}\n  ${watExpr(f.value, where)})`;
}
