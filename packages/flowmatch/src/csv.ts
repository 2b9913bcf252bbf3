// Reading and writing point sets as CSV: an optional header row, numeric columns, clear errors naming file and line.
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';

/** A CSV file parsed by {@link parseCsv}. */
export interface ParsedCsv {
  /** Column names from the header row, or x0, x1, … when the file has none. */
  columns: string[];
  /** (rows, columns) float32 tensor. */
  points: Tensor;
}

/** Options of {@link parseCsv}. */
export interface CsvOptions {
  /** Drop the first column, header and data: pandas' index column (what `to_csv` writes without `index=False`). */
  indexCol?: boolean;
}

/** A trimmed field without the quotes around it (`"1.5"` or `'1.5'` → `1.5`; `""` in "…" → `"`). */
function unquote(f: string): string {
  const m = /^(["'])(.*)\1$/s.exec(f);
  if (!m) return f;
  return (m[1] === '"' ? m[2].replace(/""/g, '"') : m[2]).trim();
}

/**
 * Parses CSV text of numbers. The first row is a header when any of its fields is not a number. Blank lines are
 * skipped; fields may be padded with spaces and quoted (`"1.5"`, `'x'`; a quoted field may not contain a comma).
 * `source` names the file in errors: `moons.csv: line 4 has 3 fields, expected 2`. A header whose first field is
 * empty (pandas' index column, `,x,y`) is an error unless `options.indexCol` drops that column; so is a file
 * separated by ';' or tabs.
 */
export function parseCsv(text: string, source = 'csv', options: CsvOptions = {}): ParsedCsv {
  const lines = text.split(/\r?\n/).map((l, i) => ({ line: i + 1, fields: l.split(',').map((f) => f.trim()) }));
  const rows = lines.filter((l) => !(l.fields.length === 1 && l.fields[0] === ''));
  if (rows.length === 0) throw new T.ValueError(source, 'the file is empty');
  for (const { line, fields } of rows) {
    // A field opening a quote it does not close: the quoted text held a comma, and the split cut it.
    const open = fields.find((f) => /^["']/.test(f) && (f.length < 2 || !f.endsWith(f[0])));
    if (open !== undefined) {
      throw new T.ValueError(source, `line ${line}: the field ${open} has an unmatched quote (a quoted field may not contain a comma: Rill splits at every comma)`);
    }
    fields.forEach((f, i) => (fields[i] = unquote(f)));
  }
  // A first row holding ';' or a tab: values separated by something other than commas (a European spreadsheet
  // writes `x;y` and `1,5;2`, its decimal commas splitting the fields anywhere).
  const separator = rows[0].fields.some((f) => f.includes(';')) ? "';'" : rows[0].fields.some((f) => f.includes('\t')) ? 'tabs' : null;
  if (separator) {
    throw new T.ValueError(source, `fields are separated by ${separator} — Rill reads comma-separated values: re-save with ',' between fields and '.' as the decimal point (pandas: sep=',', decimal='.')`);
  }
  // Plain decimal numbers only (JavaScript's Number() would also take hex, binary and Infinity).
  const isNumber = (f: string) => /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(f);
  const numeric = rows[0].fields.filter(isNumber).length;
  if (numeric > 0 && numeric < rows[0].fields.length) {
    const bad = rows[0].fields.find((f) => !isNumber(f));
    throw new T.ValueError(source, `line ${rows[0].line} mixes numbers and text ('${bad}'): a header row must be all names, a data row all numbers`);
  }
  const hasHeader = numeric === 0;
  if (hasHeader && rows[0].fields[0] === '' && !options.indexCol) {
    throw new T.ValueError(source, "the first column has no name — it looks like pandas' index column: pass --index-col to drop it, or save with index=False");
  }
  const width = rows[0].fields.length; // every row's field count, the index column included
  const first = options.indexCol ? 1 : 0; // the first column read
  if (first >= width) throw new T.ValueError(source, 'has only one column: dropping the index column leaves no data');
  const columns = hasHeader ? rows[0].fields.slice(first) : Array.from({ length: width - first }, (_, i) => `x${i}`);
  const body = hasHeader ? rows.slice(1) : rows;
  if (body.length === 0) throw new T.ValueError(source, 'has a header but no data rows');
  const data = new Float32Array(body.length * columns.length);
  body.forEach(({ line, fields }, r) => {
    if (fields.length !== width) throw new T.ValueError(source, `line ${line} has ${fields.length} fields, expected ${width}`);
    for (let c = first; c < width; c++) {
      const f = fields[c];
      if (!isNumber(f)) throw new T.ValueError(source, `line ${line}, column ${c + 1}: '${f}' is not a number`);
      const k = r * columns.length + c - first;
      data[k] = Number(f);
      if (!Number.isFinite(data[k])) throw new T.ValueError(source, `line ${line}, column ${c + 1}: ${f} overflows float32 (|x| > 3.4e38)`);
    }
  });
  return { columns, points: T.tensor(data, { shape: [body.length, columns.length] }) };
}

/** CSV text with a header row x0,x1,… and one row per point (values written exactly: shortest round-trip form). */
export function toCsv(points: Tensor): string {
  if (points.rank !== 2) throw new T.ShapeError('toCsv', `needs (rows, columns) points, got [${points.shape}]`);
  const [n, d] = points.shape;
  const data = points.data;
  const lines = [Array.from({ length: d }, (_, i) => `x${i}`).join(',')];
  const show = (v: number) => (Object.is(v, -0) ? '-0' : String(v)); // String(-0) would lose the sign
  for (let i = 0; i < n; i++) lines.push(Array.from(data.subarray(i * d, (i + 1) * d), show).join(','));
  return `${lines.join('\n')}\n`;
}
