// The formula compiler behind the generated kernels (packages/tensor/codegen): its errors, its parentheses (random
// trees printed and evaluated against a float64 interpreter written here), and hand-written outputs per target.
import { describe, expect, it } from 'vitest';
import { parseFormula, type Expr, type Scope } from '../../packages/tensor/codegen/parse.js';
import { gpuJs, javascript, printExpr, printFormula, wgsl } from '../../packages/tensor/codegen/infix.js';
import { watExpr } from '../../packages/tensor/codegen/wat.js';
import { generate, parseAll } from '../../packages/tensor/codegen/generate.js';
import { testRandom } from '../helpers/reference.js';

const SCOPE: Scope = { inputs: ['x', 'y'], params: ['alpha'], constants: { K: 2.5 } };
const parse = (text: string) => parseFormula(text, SCOPE, 'op.f');

describe('parseFormula', () => {
  it.each([
    ['x + z', /op\.f: unknown name "z"/],
    ['foo(x)', /unknown function "foo"/],
    ['max(x)', /max takes 2 argument\(s\), got 1/],
    ['x > 0', /the formula is a comparison, not a number/],
    ['x ? 1 : 0', /the condition before "\?" must be a comparison/],
    ['(x > 0) + 1', /an operand is a comparison/],
    ['x + 1)', /unexpected "\)" after the formula/],
    ['x +', /unexpected end/],
    ['x # 2', /cannot read "# 2"/],
    ['x = 1; x', /"x" is already a name/],
    ['x && y ? 1 : 0', /&& and \|\| join comparisons/],
  ])('refuses %j with a message naming the op', (text, message) => {
    expect(() => parse(text)).toThrow(message);
  });

  it('reads locals, parameters, constants and precedence', () => {
    const f = parse('t = x * K; alpha + t / -y');
    expect(f.lets.map((l) => l.name)).toEqual(['t']);
    expect(printExpr(f.value, javascript('array'))).toBe('p[0] + t / -y');
    expect(printFormula(f, javascript('locals')).lets).toEqual(['const t = x * K;']);
  });

  it('parses every formula of the library (the build would stop on the first mistake)', () => {
    const { unary, binary } = parseAll();
    expect(unary.length).toBeGreaterThan(15);
    expect(binary.length).toBeGreaterThan(10);
  });
});

/** A float64 interpreter of the trees: independent of the printers. */
function evaluate(e: Expr, env: Record<string, number>): number {
  const v = (x: Expr) => evaluate(x, env);
  switch (e.kind) {
    case 'num':
    case 'const':
      return e.value;
    case 'var':
      return env[e.name];
    case 'param':
      return env[`p${e.index}`];
    case 'neg':
      return -v(e.arg);
    case 'arith':
      return e.op === '+' ? v(e.left) + v(e.right) : e.op === '-' ? v(e.left) - v(e.right) : e.op === '*' ? v(e.left) * v(e.right) : v(e.left) / v(e.right);
    case 'cmp': {
      const [a, b] = [v(e.left), v(e.right)];
      return Number(e.op === '>' ? a > b : e.op === '<' ? a < b : e.op === '>=' ? a >= b : e.op === '<=' ? a <= b : a === b);
    }
    case 'logic':
      return Number(e.op === '&&' ? v(e.left) && v(e.right) : v(e.left) || v(e.right));
    case 'cond':
      return v(e.test) ? v(e.then) : v(e.else);
    case 'call':
      throw new Error('no calls in the random trees');
  }
}

/** A random tree of depth ≤ `depth` over x, y, the parameter and small numbers; `bool` asks for a comparison/logic. */
function randomTree(r: () => number, depth: number, bool = false): Expr {
  if (bool) {
    if (depth > 0 && r() < 0.3) return { kind: 'logic', op: r() < 0.5 ? '&&' : '||', left: randomTree(r, depth - 1, true), right: randomTree(r, depth - 1, true) };
    const ops = ['>', '<', '>=', '<=', '=='] as const;
    return { kind: 'cmp', op: ops[Math.floor(r() * 5)], left: randomTree(r, depth - 1), right: randomTree(r, depth - 1) };
  }
  const pick = r();
  if (depth <= 0 || pick < 0.2) {
    const leaves: Expr[] = [{ kind: 'var', name: 'x' }, { kind: 'var', name: 'y' }, { kind: 'param', index: 0, name: 'alpha' }, { kind: 'num', value: Math.floor(r() * 4) + 0.5 }];
    return leaves[Math.floor(r() * leaves.length)];
  }
  if (pick < 0.3) return { kind: 'neg', arg: randomTree(r, depth - 1) };
  if (pick < 0.45) return { kind: 'cond', test: randomTree(r, depth - 1, true), then: randomTree(r, depth - 1), else: randomTree(r, depth - 1) };
  const ops = ['+', '-', '*', '/'] as const;
  return { kind: 'arith', op: ops[Math.floor(r() * 4)], left: randomTree(r, depth - 1), right: randomTree(r, depth - 1) };
}

describe('printing keeps the meaning (random trees, float64)', () => {
  it('JavaScript: 2000 trees printed, run, and equal to the interpreter; printing what was parsed back gives the same text', () => {
    const r = testRandom(5);
    const js = javascript('locals');
    for (let i = 0; i < 2000; i++) {
      const tree = randomTree(r, 5);
      const text = printExpr(tree, js);
      const run = new Function('x', 'y', 'p0', `return ${text};`) as (x: number, y: number, p0: number) => number;
      for (const [x, y, p0] of [[0.75, -1.25, 2], [-3, 0.5, -0.25], [2, 2, 0]]) {
        const want = evaluate(tree, { x, y, p0 });
        expect(Object.is(run(x, y, p0), want) || (Number.isNaN(want) && Number.isNaN(run(x, y, p0))), text).toBe(true);
      }
      const reparsed = parseFormula(text.replaceAll('p0', 'alpha'), SCOPE, 'random');
      expect(printExpr(reparsed.value, js)).toBe(text);
    }
  });
});

describe('each target, by hand', () => {
  const relu = parse('x > 0 ? x : alpha * x').value;
  it('JavaScript: the ternary and Math', () => {
    expect(printExpr(relu, javascript('array'))).toBe('x > 0 ? x : p[0] * x');
    expect(printExpr(parse('log1p(exp(-abs(x)))').value, javascript('locals'))).toBe('Math.log1p(Math.exp(-Math.abs(x)))');
    expect(printExpr(parse('- -x').value, javascript('locals'))).toBe('-(-x)');
    expect(printExpr(parse('x - (y - 1)').value, javascript('locals'))).toBe('x - (y - 1)');
  });
  it('gpu.js: float literals, expm1 and log1p spelled out, tanh through the stable helper', () => {
    expect(printExpr(parse('K * expm1(x) + log1p(y) + tanh(x) + 1').value, gpuJs())).toBe('2.5 * (Math.exp(x) - 1.0) + Math.log(1.0 + y) + tanhStable(x) + 1.0');
  });
  it('WGSL: select(else, then, test), comparisons parenthesized inside && and ||', () => {
    expect(printExpr(relu, wgsl())).toBe('select(p0 * x, x, x > 0.0)');
    expect(printExpr(parse('x >= 0 && x <= alpha ? 1 : 0').value, wgsl())).toBe('select(0.0, 1.0, (x >= 0.0) && (x <= p0))');
    expect(printFormula(parse('s = x * x; s + y'), wgsl()).lets).toEqual(['let s = x * x;']);
  });
  it('WebAssembly SIMD: lanes, masks and bitselect; no parameters and no log', () => {
    expect(watExpr(parse('x > 0 ? x : 0').value, 'relu.f')).toBe(
      '(v128.bitselect (local.get $x) (v128.const f32x4 0 0 0 0) (f32x4.gt (local.get $x) (v128.const f32x4 0 0 0 0)))',
    );
    expect(() => watExpr(relu, 'leakyRelu.f')).toThrow(/leakyRelu\.f: the SIMD kernels take no parameters \(alpha\)/);
    expect(() => watExpr(parse('log(x)').value, 'log.f')).toThrow(/log\.f: WebAssembly SIMD has no log/);
  });
  it('generates every file, each marked as generated', () => {
    const { files, simdUnary, simdBinary } = generate();
    expect(Object.keys(files).sort()).toEqual(['src/elementwise.generated.ts', 'src/gpu/elementwise.generated.ts', 'src/wasm/formulas.generated.wat', 'src/webgpu/elementwise.generated.ts']);
    for (const text of Object.values(files)) expect(text).toMatch(/^(\/\/|;;) Generated by scripts\/build-kernels\.mjs from src\/formulas\.ts: do not edit\./);
    expect(simdUnary).toContain('selu');
    expect(simdBinary.add).toBe('(f32x4.add (local.get $va) (local.get $vb))');
  });
});
