// Declarative flags for every `rill` command: one table gives parsing, validation, defaults and the --help text.
import { parseArgs } from 'node:util';

/** A mistake in how rill was called or what it was given: printed as one line on stderr, exit code 2. */
export class UsageError extends Error {}

type Kind = 'string' | 'int' | 'number' | 'ints' | 'bool' | 'choice';

export interface Flag {
  name: string;
  kind: Kind;
  help: string;
  default?: string | number | boolean | number[];
  choices?: readonly string[];
  /** Inclusive lower bound for numbers (exclusive with `above`). */
  min?: number;
  above?: number;
  max?: number;
  required?: boolean;
  /** A file the command reads (`in`) or writes (`out`): checked before it runs (see outputs.ts). */
  io?: 'in' | 'out';
}

/** CSV input read from a pandas DataFrame saved with its index: drop that first column. */
export const INDEX_COL_FLAG: Flag = { name: 'index-col', kind: 'bool', default: false, help: "CSV input: drop the first column (pandas' index column, whose header field is empty)" };

/** The flags of the commands that compare a model with data (eval, solvers): the model, the data, the index column. */
export const COMPARE_FLAGS: Flag[] = [
  { name: 'model', kind: 'string', io: 'in', required: true, help: 'a .rill model file' },
  { name: 'data', kind: 'string', io: 'in', help: "a dataset, a CSV file or a .npy array to compare with (default: the model's training data)" },
  INDEX_COL_FLAG,
];

export type Values = Record<string, string | number | boolean | number[] | undefined>;

/** The largest integer a flag may ever take (JavaScript's exact integers); each int flag documents a smaller maximum. */
export const MAX_INT = Number.MAX_SAFE_INTEGER;
/** Seeds are 32-bit (the generator's state is seeded from a u32). */
export const MAX_SEED = 2 ** 32 - 1;

const givenFlags = new WeakMap<Values, Set<string>>();

/** Whether `name` was on the command line (not its default): how `--resume` tells a change from a default. */
export function given(values: Values, name: string): boolean {
  return givenFlags.get(values)?.has(name) ?? false;
}

/** Parses argv against the flags: unknown flags, missing values, bad numbers and choices become UsageErrors. */
export function parseFlags(command: string, flags: Flag[], argv: string[]): Values {
  // A value that starts with '-' (a negative number) would read as a flag: attach it as --name=value.
  const valued = new Set(flags.filter((f) => f.kind !== 'bool').map((f) => `--${f.name}`));
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (valued.has(argv[i]) && /^-[\d.]/.test(argv[i + 1] ?? '')) args.push(`${argv[i]}=${argv[++i]}`);
    else args.push(argv[i]);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: Object.fromEntries(flags.map((f) => [f.name, { type: f.kind === 'bool' ? 'boolean' : 'string' }])),
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '').replace(/^Unknown option '(.*)'.*/s, "unknown flag '$1'");
    throw new UsageError(`rill ${command}: ${msg} (see rill ${command} --help)`);
  }
  const out: Values = {};
  givenFlags.set(out, new Set(Object.keys(parsed.values)));
  for (const f of flags) {
    const raw = (parsed.values as Record<string, string | boolean | undefined>)[f.name];
    if (raw === undefined) {
      if (f.required) throw new UsageError(`rill ${command}: --${f.name} is required (${f.help})`);
      out[f.name] = f.default;
      continue;
    }
    out[f.name] = convert(command, f, raw);
  }
  return out;
}

function convert(command: string, f: Flag, raw: string | boolean): Values[string] {
  const bad = (why: string) => new UsageError(`rill ${command}: --${f.name} ${why}, got '${raw}'`);
  if (f.kind === 'bool') return raw;
  const text = String(raw);
  if (f.kind === 'string') {
    if (text === '') throw bad('needs a value');
    return text;
  }
  if (f.kind === 'choice') {
    if (!f.choices!.includes(text)) throw bad(`must be one of ${f.choices!.join(', ')}`);
    return text;
  }
  const number = (s: string) => {
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s.trim())) throw bad('must be a number');
    const v = Number(s);
    if (f.kind !== 'number' && !Number.isInteger(v)) throw bad('must be an integer');
    if (f.min !== undefined && v < f.min) throw bad(`must be ≥ ${f.min}`);
    if (f.above !== undefined && !(v > f.above)) throw bad(`must be > ${f.above}`);
    if (!Number.isFinite(v)) throw bad('must be a finite number');
    const max = f.max ?? (f.kind === 'number' ? Infinity : MAX_INT);
    if (v > max) throw bad(`must be ≤ ${max}`);
    return v;
  };
  if (f.kind === 'ints') return text.split(',').map(number);
  return number(text);
}

/** The help text of a command: usage line, then every flag with its default. */
export function helpText(command: string, summary: string, flags: Flag[]): string {
  const rows = flags.map((f) => {
    const value = f.kind === 'bool' ? '' : f.kind === 'choice' ? ` <${f.choices!.join('|')}>` : ` <${f.kind === 'ints' ? 'n,n,…' : f.kind === 'string' ? 'value' : f.kind}>`;
    const range = f.max !== undefined && f.kind !== 'number' ? `${f.min ?? 0}…${f.max}` : '';
    const def = f.required ? '(required)' : f.default === undefined ? (range ? `(${range})` : '') : `(${range ? `${range}, ` : ''}default: ${Array.isArray(f.default) ? f.default.join(',') : String(f.default)})`;
    return [`  --${f.name}${value}`, `${f.help} ${def}`.trim()];
  });
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  return [`rill ${command} — ${summary}`, '', `Usage: rill ${command} [flags]`, '', ...rows.map(([a, b]) => a.padEnd(width) + b), '  --help'.padEnd(width) + 'show this help'].join('\n');
}
