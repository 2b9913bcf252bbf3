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

/**
 * Parses CSV text of numbers. The first row is a header when any of its fields is not a number. Blank lines are
 * skipped; fields may be padded with spaces. `source` names the file in errors:
 * `moons.csv: line 4 has 3 fields, expected 2`.
 */
export function parseCsv(text: string, source = 'csv'): ParsedCsv {
  const lines = text.split(/\r?\n/).map((l, i) => ({ line: i + 1, fields: l.split(',').map((f) => f.trim()) }));
  const rows = lines.filter((l) => !(l.fields.length === 1 && l.fields[0] === ''));
  if (rows.length === 0) throw new T.ValueError(source, 'the file is empty');
  // Plain decimal numbers only (JavaScript's Number() would also take hex, binary and Infinity).
  const isNumber = (f: string) => /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(f);
  const numeric = rows[0].fields.filter(isNumber).length;
  if (numeric > 0 && numeric < rows[0].fields.length) {
    const bad = rows[0].fields.find((f) => !isNumber(f));
    throw new T.ValueError(source, `line ${rows[0].line} mixes numbers and text ('${bad}'): a header row must be all names, a data row all numbers`);
  }
  const hasHeader = numeric === 0;
  const columns = hasHeader ? rows[0].fields : rows[0].fields.map((_, i) => `x${i}`);
  const body = hasHeader ? rows.slice(1) : rows;
  if (body.length === 0) throw new T.ValueError(source, 'has a header but no data rows');
  const width = columns.length;
  const data = new Float32Array(body.length * width);
  body.forEach(({ line, fields }, r) => {
    if (fields.length !== width) throw new T.ValueError(source, `line ${line} has ${fields.length} fields, expected ${width}`);
    fields.forEach((f, c) => {
      if (!isNumber(f)) throw new T.ValueError(source, `line ${line}, column ${c + 1}: '${f}' is not a number`);
      data[r * width + c] = Number(f);
    });
  });
  return { columns, points: T.tensor(data, { shape: [body.length, width] }) };
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
