// Reading and writing point sets as CSV: headers, blank lines, padding, line endings, errors, exact round trips.
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { parseCsv, toCsv } from '@rill/flowmatch';
import { testRandom } from '../helpers/reference.js';
import { thrown } from '../helpers/errors.js';


describe('parseCsv', () => {
  it('reads a header row and numeric rows into a (rows, columns) float32 tensor', () => {
    const { columns, points } = parseCsv('x,y\n1,2\n3.5,-4\n1e-3,0\n');
    expect(columns).toEqual(['x', 'y']);
    expect(points.shape).toEqual([3, 2]);
    expect(points.dtype).toBe('float32');
    expect(Array.from(points.data)).toEqual([1, 2, 3.5, -4, Math.fround(1e-3), 0]);
  });

  it('without a header the columns are named x0, x1, …', () => {
    const { columns, points } = parseCsv('1,2,3\n4,5,6');
    expect(columns).toEqual(['x0', 'x1', 'x2']);
    expect(points.shape).toEqual([2, 3]);
    expect(Array.from(points.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a single column and a single row', () => {
    expect(parseCsv('v\n7\n').points.toArray()).toEqual([[7]]);
    expect(parseCsv('-2.5').points.toArray()).toEqual([[-2.5]]);
  });

  it('skips blank and whitespace-only lines, trims padded fields, accepts CRLF', () => {
    const text = '\r\n a , b \r\n\r\n 1 ,  2\r\n   \r\n\t3,4\t\r\n\r\n';
    const { columns, points } = parseCsv(text);
    expect(columns).toEqual(['a', 'b']);
    expect(points.toArray()).toEqual([[1, 2], [3, 4]]);
    // The same data with LF endings and no padding parses identically.
    expect(parseCsv('a,b\n1,2\n3,4').points.toArray()).toEqual([[1, 2], [3, 4]]);
  });

  it('a first row mixing names and numbers is an error, not a silent header (a typo must not eat a data row)', () => {
    expect(() => parseCsv('x,2\n1,2', 'a.csv')).toThrow("a.csv: line 1 mixes numbers and text ('x')");
    expect(() => parseCsv('1,2O\n3,4', 'b.csv')).toThrow("b.csv: line 1 mixes numbers and text ('2O')");
  });

  it('toCsv with labels adds a last column label, which parseCsv reads back beside the coordinates', () => {
    const text = toCsv(T.tensor([[1.5, -0], [2, 3]]), [4, 0]);
    expect(text).toBe('x0,x1,label\n1.5,-0,4\n2,3,0\n');
    const back = parseCsv(text);
    expect(back.columns).toEqual(['x0', 'x1', 'label']);
    expect(Array.from(back.points.data)).toEqual([1.5, -0, 4, 2, 3, 0]);
    expect(() => toCsv(T.tensor([[1, 2]]), [0, 1])).toThrow(/toCsv: needs one label per point: 1 points, 2 labels/);
  });

  it('only plain decimal numbers count (no hex, binary or Infinity); −0 keeps its sign through toCsv', () => {
    expect(() => parseCsv('1,2\n0x10,0b11\n', 'h.csv')).toThrow("h.csv: line 2, column 1: '0x10' is not a number");
    expect(parseCsv('a\n-1.5e-3\n+.5\n7.\n').points.toArray()).toEqual([[Math.fround(-1.5e-3)], [0.5], [7]]);
    expect(Object.is(parseCsv(toCsv(T.tensor([[-0]]))).points.item(), -0)).toBe(true);
  });

  it('ragged rows: a ValueError naming the source and the line (lines counted from 1, blank ones included)', () => {
    const e = thrown(() => parseCsv('x,y\n1,2\n\n3,4,5\n', 'moons.csv'));
    expect(e).toBeInstanceOf(T.ValueError);
    expect(e.message).toBe('moons.csv: line 4 has 3 fields, expected 2');
    const short = thrown(() => parseCsv('1,2\n3\n', 'pts.csv'));
    expect(short).toBeInstanceOf(T.ValueError);
    expect(short.message).toMatch(/^pts\.csv: line 2 /);
    expect(short.message).toContain('1 fields, expected 2');
  });

  it('non-numbers in data rows: a ValueError naming the source, the line and the field', () => {
    for (const [text, line, field] of [
      ['x,y\n1,2\n3,abc\n', 3, 'abc'],
      ['1,2\n3,\n', 2, ''],
      ['a,b\r\n1,2\r\nNaN,3\r\n', 3, 'NaN'],
      ['a,b\n1,Infinity\n', 2, 'Infinity'],
      ['1,2\n3,4\n5,1.2.3\n', 3, '1.2.3'],
    ] as const) {
      const e = thrown(() => parseCsv(text, 'data.csv'));
      expect(e).toBeInstanceOf(T.ValueError);
      expect(e.message).toMatch(new RegExp(`^data\\.csv: line ${line}\\b`));
      expect(e.message).toContain(`'${field}' is not a number`);
    }
  });

  it('an empty or blank file: a ValueError naming the source', () => {
    for (const text of ['', '\n', '\r\n\r\n', '   \n\t\n']) {
      const e = thrown(() => parseCsv(text, 'empty.csv'));
      expect(e).toBeInstanceOf(T.ValueError);
      expect(e.message).toMatch(/^empty\.csv: /);
      expect(e.message).toContain('empty');
    }
  });

  it('a header with no data rows: a ValueError naming the source', () => {
    for (const text of ['x,y', 'x,y\n', 'x,y\r\n\r\n']) {
      const e = thrown(() => parseCsv(text, 'head.csv'));
      expect(e).toBeInstanceOf(T.ValueError);
      expect(e.message).toMatch(/^head\.csv: .*no data rows/);
    }
  });

  it('the default source name is "csv"', () => {
    expect(thrown(() => parseCsv('')).message).toMatch(/^csv: /);
  });
});

describe('toCsv', () => {
  it('writes a header x0,x1,… and one line per row', () => {
    expect(toCsv(T.tensor([[1, 2.5], [-3, 0]]))).toBe('x0,x1\n1,2.5\n-3,0\n');
  });

  it('round trip toCsv → parseCsv is exact for float32 values, including tiny, huge and subnormal ones', () => {
    const rng = testRandom(12);
    const n = 500;
    const d = 3;
    const values = new Float32Array(n * d);
    for (let i = 0; i < values.length; i++) values[i] = (rng() - 0.5) * 10 ** Math.floor(rng() * 20 - 10);
    values.set([0.1, -0, 3.4028234663852886e38, 1.401298464324817e-45, -1.1754943508222875e-38, 1 / 3]);
    const { columns, points } = parseCsv(toCsv(T.tensor(values, { shape: [n, d] })));
    expect(columns).toEqual(['x0', 'x1', 'x2']);
    expect(points.shape).toEqual([n, d]);
    // Equal as numbers (=== : the sign of a zero is not kept, since String(-0) is '0').
    const got = points.data;
    const wrong = Array.from(values).flatMap((v, i) => (got[i] === v ? [] : [`${i}: ${v} → ${got[i]}`]));
    expect(wrong).toEqual([]);
  });

  it('refuses anything but (rows, columns)', () => {
    expect(() => toCsv(T.tensor([1, 2, 3]))).toThrow(T.ShapeError);
    expect(() => toCsv(T.zeros([2, 2, 2]))).toThrow(/^toCsv: /);
  });
});

describe('parseCsv: files from pandas and other tools', () => {
  it("a header whose first field is empty (pandas' index column) is an error that names both fixes", () => {
    const e = thrown(() => parseCsv(',x,y\n0,1.5,2\n1,3,4\n', 'df.csv'));
    expect(e).toBeInstanceOf(T.ValueError);
    expect(e.message).toBe("df.csv: the first column has no name — it looks like pandas' index column: pass --index-col to drop it, or save with index=False");
  });

  it('indexCol drops the first column, header and data', () => {
    const { columns, points } = parseCsv(',x,y\n0,1.5,2\n1,3,4\n', 'df.csv', { indexCol: true });
    expect(columns).toEqual(['x', 'y']);
    expect(points.toArray()).toEqual([[1.5, 2], [3, 4]]);
    // Without a header the remaining columns are named x0, x1, …
    const bare = parseCsv('7,1,2\n8,3,4\n', 'df.csv', { indexCol: true });
    expect(bare.columns).toEqual(['x0', 'x1']);
    expect(bare.points.toArray()).toEqual([[1, 2], [3, 4]]);
    // Field counts and column numbers in errors still count the index column, as the file shows them.
    expect(() => parseCsv(',x,y\n0,1,2\n1,3\n', 'df.csv', { indexCol: true })).toThrow('df.csv: line 3 has 2 fields, expected 3');
    expect(() => parseCsv(',x,y\n0,1,z\n', 'df.csv', { indexCol: true })).toThrow("df.csv: line 2, column 3: 'z' is not a number");
    expect(() => parseCsv('i\n0\n1\n', 'df.csv', { indexCol: true })).toThrow('df.csv: has only one column: dropping the index column leaves no data');
  });

  it('quoted fields and header names are unquoted: "1.5" and \'1.5\' are 1.5', () => {
    const { columns, points } = parseCsv('"x", \'y\' ,"say ""hi"""\n"1.5",\'-2\', 3\n " 4 " ,5,\'6e-1\'\n');
    expect(columns).toEqual(['x', 'y', 'say "hi"']);
    expect(points.toArray()).toEqual([[1.5, -2, 3], [4, 5, Math.fround(0.6)]]);
    expect(() => parseCsv('x\n"abc"\n', 'q.csv')).toThrow("q.csv: line 2, column 1: 'abc' is not a number");
    // A quote opened and not closed: a quoted comma, which this reader does not split around.
    expect(() => parseCsv('"a,b",c\n1,2\n', 'q.csv')).toThrow('q.csv: line 1: the field "a has an unmatched quote (a quoted field may not contain a comma: Rill splits at every comma)');
    // Quotes inside a name are kept: x' is a name, not a quote.
    expect(parseCsv("x,x'\n1,2\n").columns).toEqual(['x', "x'"]);
  });

  it("a file separated by ';' or tabs instead of commas is a clear error", () => {
    const cases = [['x;y\n1;2\n3;4\n', "';'"], ['1;2\n', "';'"], ['x\ty\n1\t2\n', 'tabs'], ['"x";"y"\n"1";"2"\n', "';'"], ['x;y\n1,5;2,25\n', "';'"], ['1,5;2,25\n3;4\n', "';'"]];
    for (const [text, by] of cases) {
      const e = thrown(() => parseCsv(text, 'eu.csv'));
      expect(e).toBeInstanceOf(T.ValueError);
      expect(e.message).toBe(`eu.csv: fields are separated by ${by} — Rill reads comma-separated values: re-save with ',' between fields and '.' as the decimal point (pandas: sep=',', decimal='.')`);
    }
    // A single comma-free column is still a single column.
    expect(parseCsv('v\n7\n\t8\t\n').points.toArray()).toEqual([[7], [8]]);
  });
});
