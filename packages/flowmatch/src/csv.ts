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

/** Plain decimal numbers only (JavaScript's Number() would also take hex, binary and Infinity). */
const isNumber = (f: string) => /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(f);

/**
 * Parses CSV text of numbers. The first row is a header when any of its fields is not a number. Blank lines are
 * skipped; fields may be padded with spaces and quoted (`"1.5"`, `'x'`; a quoted field may not contain a comma).
 * `source` names the file in errors: `moons.csv: line 4 has 3 fields, expected 2`. A header whose first field is
 * empty (pandas' index column, `,x,y`) is an error unless `options.indexCol` drops that column; so is a file
 * separated by ';' or tabs, and a value that overflows float32. One pass, line by line, straight into a Float32Array:
 * memory stays near the size of the text.
 */
export function parseCsv(text: string, source = 'csv', options: CsvOptions = {}): ParsedCsv {
  const fail = (why: string): never => {
    throw new T.ValueError(source, why);
  };
  let columns: string[] | null = null; // known once the first non-blank row is read
  let width = 0; // fields per row, the index column included
  const first = options.indexCol ? 1 : 0; // the first column read
  let data = new Float32Array(4096);
  let count = 0;
  let line = 0;
  for (let at = 0; at <= text.length; ) {
    const newline = text.indexOf('\n', at);
    const end = newline < 0 ? text.length : newline;
    const fields = text.slice(at, end).replace(/\r$/, '').split(',').map((f) => f.trim());
    at = end + 1;
    line++;
    if (fields.length === 1 && fields[0] === '') continue; // a blank line
    // A field opening a quote it does not close: the quoted text held a comma, and the split cut it.
    const open = fields.find((f) => /^["']/.test(f) && (f.length < 2 || !f.endsWith(f[0])));
    if (open !== undefined) fail(`line ${line}: the field ${open} has an unmatched quote (a quoted field may not contain a comma: Rill splits at every comma)`);
    fields.forEach((f, i) => (fields[i] = unquote(f)));
    if (columns === null) {
      // A first row holding ';' or a tab: values separated by something other than commas (a European spreadsheet
      // writes `x;y` and `1,5;2`, its decimal commas splitting the fields anywhere).
      const separator = fields.some((f) => f.includes(';')) ? "';'" : fields.some((f) => f.includes('\t')) ? 'tabs' : null;
      if (separator) fail(`fields are separated by ${separator} — Rill reads comma-separated values: re-save with ',' between fields and '.' as the decimal point (pandas: sep=',', decimal='.')`);
      const numeric = fields.filter(isNumber).length;
      if (numeric > 0 && numeric < fields.length) fail(`line ${line} mixes numbers and text ('${fields.find((f) => !isNumber(f))}'): a header row must be all names, a data row all numbers`);
      width = fields.length;
      if (first >= width) fail('has only one column: dropping the index column leaves no data');
      if (numeric === 0) {
        if (fields[0] === '' && !options.indexCol) fail("the first column has no name — it looks like pandas' index column: pass --index-col to drop it, or save with index=False");
        columns = fields.slice(first);
        continue;
      }
      columns = Array.from({ length: width - first }, (_, i) => `x${i}`);
    }
    if (fields.length !== width) fail(`line ${line} has ${fields.length} fields, expected ${width}`);
    if (count + width > data.length) {
      const grown = new Float32Array(Math.max(2 * data.length, count + width));
      grown.set(data);
      data = grown;
    }
    for (let c = first; c < width; c++) {
      const f = fields[c];
      if (!isNumber(f)) fail(`line ${line}, column ${c + 1}: '${f}' is not a number`);
      data[count] = Number(f);
      if (!Number.isFinite(data[count++])) fail(`line ${line}, column ${c + 1}: ${f} overflows float32 (|x| > 3.4e38)`);
    }
  }
  if (columns === null) fail('the file is empty');
  if (count === 0) fail('has a header but no data rows');
  const d = columns!.length;
  return { columns: columns!, points: T.tensor(count === data.length ? data : data.slice(0, count), { shape: [count / d, d] }) };
}

/**
 * CSV text with a header row x0,x1,… and one row per point (values written exactly: shortest round-trip form); with
 * `labels` (one per point), a last column `label`, the form `rill train --cond class` reads back.
 */
export function toCsv(points: Tensor, labels?: ArrayLike<number>): string {
  if (points.rank !== 2) throw new T.ShapeError('toCsv', `needs (rows, columns) points, got [${points.shape}]`);
  const [n, d] = points.shape;
  if (labels && labels.length !== n) throw new T.ShapeError('toCsv', `needs one label per point: ${n} points, ${labels.length} labels`);
  const data = points.data;
  const lines = [[...Array.from({ length: d }, (_, i) => `x${i}`), ...(labels ? ['label'] : [])].join(',')];
  const show = (v: number) => (Object.is(v, -0) ? '-0' : String(v)); // String(-0) would lose the sign
  for (let i = 0; i < n; i++) lines.push([...Array.from(data.subarray(i * d, (i + 1) * d), show), ...(labels ? [labels[i]] : [])].join(','));
  return `${lines.join('\n')}\n`;
}
