// Parses the formula strings of src/formulas.ts into expression trees, checking every name and type on the way.
// Grammar (lowest precedence first):
//   formula := (name '=' expr ';')* expr          expr := or ('?' expr ':' expr)?
//   or := and ('||' and)*    and := cmp ('&&' cmp)*    cmp := sum (('>' | '<' | '>=' | '<=' | '==') sum)?
//   sum := product (('+' | '-') product)*    product := unary (('*' | '/') unary)*
//   unary := '-' unary | number | name | name '(' expr (',' expr)* ')' | '(' expr ')'

/** A node of a formula. `num`, `var`, … are float-valued; comparisons, `and`, `or` are boolean. */
export type Expr =
  | { kind: 'num'; value: number }
  | { kind: 'var'; name: string } // the input (x, y, a, b) or a local
  | { kind: 'param'; index: number; name: string }
  | { kind: 'const'; name: string; value: number }
  | { kind: 'neg'; arg: Expr }
  | { kind: 'arith'; op: '+' | '-' | '*' | '/'; left: Expr; right: Expr }
  | { kind: 'cmp'; op: '>' | '<' | '>=' | '<=' | '=='; left: Expr; right: Expr }
  | { kind: 'logic'; op: '&&' | '||'; left: Expr; right: Expr }
  | { kind: 'cond'; test: Expr; then: Expr; else: Expr }
  | { kind: 'call'; fn: Fn; args: Expr[] };

/** The functions a formula may call, with their arities; isNaN gives a boolean, the rest numbers. */
export const FUNCTIONS = {
  exp: 1, expm1: 1, log: 1, log1p: 1, sqrt: 1, abs: 1, sign: 1, sin: 1, cos: 1, tanh: 1,
  logistic: 1, normalCdf: 1, normalPdf: 1, max: 2, min: 2, pow: 2, isNaN: 1,
} as const;
export type Fn = keyof typeof FUNCTIONS;

/** A parsed formula: local values in order (each may use the ones before it), then the value. */
export interface Formula {
  lets: { name: string; value: Expr }[];
  value: Expr;
}

/** What a formula may name: its inputs, its parameters (by position), and constants. */
export interface Scope {
  inputs: readonly string[];
  params: readonly string[];
  constants: Readonly<Record<string, number>>;
}

const TOKEN = /\s*(?:(\d+(?:\.\d*)?(?:e[+-]?\d+)?)|([A-Za-z_]\w*)|(>=|<=|==|&&|\|\||[-+*/()?:,;=<>]))/y;

function tokenize(text: string, where: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) {
      if (/^\s*$/.test(text.slice(at))) break;
      throw new Error(`${where}: cannot read "${text.slice(at).trim()}" (at character ${at})`);
    }
    tokens.push(m[1] ?? m[2] ?? m[3]);
  }
  return tokens;
}

const isBool = (e: Expr) => e.kind === 'cmp' || e.kind === 'logic' || (e.kind === 'call' && e.fn === 'isNaN');

/** Parses `text` (named `where` in errors, e.g. "selu.df") with the names `scope` allows. */
export function parseFormula(text: string, scope: Scope, where: string): Formula {
  const tokens = tokenize(text, where);
  let pos = 0;
  const locals = new Set<string>();
  const fail = (message: string): never => {
    throw new Error(`${where}: ${message} in "${text}"`);
  };
  const peek = () => tokens[pos];
  const take = (expected?: string) => {
    const t = tokens[pos++];
    if (t === undefined) fail(expected ? `expected "${expected}" at the end` : 'unexpected end');
    if (expected !== undefined && t !== expected) fail(`expected "${expected}", found "${t}"`);
    return t;
  };
  const number = (e: Expr, role: string) => (isBool(e) ? fail(`${role} is a comparison, not a number`) : e);

  function expr(): Expr {
    const test = or();
    if (peek() !== '?') return test;
    take('?');
    if (!isBool(test)) fail('the condition before "?" must be a comparison');
    const then = number(expr(), 'a branch');
    take(':');
    return { kind: 'cond', test, then, else: number(expr(), 'a branch') };
  }
  /** A left-associative chain `next (op next)*` of the operators `ops`: logic (&&, ||) or arithmetic. */
  function chain(ops: readonly string[], next: () => Expr): Expr {
    let left = next();
    for (let op = peek(); ops.includes(op); op = peek()) {
      take();
      const right = next();
      left = op === '&&' || op === '||'
        ? { kind: 'logic', op, left: bool(left), right: bool(right) }
        : { kind: 'arith', op: op as '+' | '-' | '*' | '/', left: number(left, 'an operand'), right: number(right, 'an operand') };
    }
    return left;
  }
  const or = (): Expr => chain(['||'], and);
  const and = (): Expr => chain(['&&'], cmp);
  const sum = (): Expr => chain(['+', '-'], product);
  const product = (): Expr => chain(['*', '/'], unary);
  function bool(e: Expr): Expr {
    return isBool(e) ? e : fail('&& and || join comparisons');
  }
  function cmp(): Expr {
    const left = sum();
    const op = peek();
    if (op !== '>' && op !== '<' && op !== '>=' && op !== '<=' && op !== '==') return left;
    take();
    return { kind: 'cmp', op, left: number(left, 'a comparison operand'), right: number(sum(), 'a comparison operand') };
  }
  function unary(): Expr {
    const t = take();
    if (t === '-') return { kind: 'neg', arg: number(unary(), 'the operand of −') };
    if (t === '(') {
      const inner = expr();
      take(')');
      return inner;
    }
    if (/^\d/.test(t)) return { kind: 'num', value: Number(t) };
    if (!/^[A-Za-z_]/.test(t)) return fail(`unexpected "${t}"`);
    if (peek() === '(') return call(t);
    if (locals.has(t) || scope.inputs.includes(t)) return { kind: 'var', name: t };
    const index = scope.params.indexOf(t);
    if (index >= 0) return { kind: 'param', index, name: t };
    if (t in scope.constants) return { kind: 'const', name: t, value: scope.constants[t] };
    return fail(`unknown name "${t}" (inputs: ${scope.inputs.join(', ')}; parameters: ${scope.params.join(', ') || 'none'}; or a constant of CONSTANTS)`);
  }
  function call(name: string): Expr {
    if (!(name in FUNCTIONS)) fail(`unknown function "${name}" (known: ${Object.keys(FUNCTIONS).join(', ')})`);
    const fn = name as Fn;
    take('(');
    const args = [number(expr(), 'an argument')];
    while (peek() === ',') {
      take();
      args.push(number(expr(), 'an argument'));
    }
    take(')');
    if (args.length !== FUNCTIONS[fn]) fail(`${fn} takes ${FUNCTIONS[fn]} argument(s), got ${args.length}`);
    return { kind: 'call', fn, args };
  }

  const lets: Formula['lets'] = [];
  while (/^[A-Za-z_]/.test(peek() ?? '') && tokens[pos + 1] === '=') {
    const name = take();
    if (locals.has(name) || scope.inputs.includes(name) || scope.params.includes(name) || name in scope.constants) {
      fail(`"${name}" is already a name`);
    }
    take('=');
    const value = number(expr(), `the value of ${name}`);
    take(';');
    lets.push({ name, value });
    locals.add(name);
  }
  const value = number(expr(), 'the formula');
  if (pos !== tokens.length) fail(`unexpected "${tokens[pos]}" after the formula`);
  return { lets, value };
}
