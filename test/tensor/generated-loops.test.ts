// The generated elementwise loops (formulas inline, elementwise.generated.ts) against the table-driven loops that call
// the generated per-element functions, bit for bit: the loop printer and the function printer agree.
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import * as I from '@rill/tensor/internals';
import { testRandom } from '../helpers/reference.js';

// Values that exercise every branch: both signs, zeros of both signs, tiny and huge magnitudes, the infinities, NaN.
const SPECIAL = [0, -0, 1e-30, -1e-30, 1e-8, -1e-8, 0.5, -0.5, 3, -3, 30, -30, 700, -700, Infinity, -Infinity, NaN];

function inputs(Ctor: Float32ArrayConstructor | Float64ArrayConstructor, n: number, seed: number) {
  const r = testRandom(seed);
  const x = new Ctor(n);
  for (let i = 0; i < n; i++) x[i] = i < SPECIAL.length ? SPECIAL[i] : (r() - 0.5) * 12;
  return x;
}

const bits = (a: Float32Array | Float64Array) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

describe.each([
  ['float32', Float32Array],
  ['float64', Float64Array],
] as const)('inlined loops on %s equal the op-table loops bit for bit', (_name, Ctor) => {
  const n = 1000;
  // Parameters other than the defaults, so that a loop reading the wrong one fails.
  const params = (op: T.UnaryOp) => (T.UNARY[op].params ?? []).map(([, v], i) => (Number.isFinite(v) ? v + 0.25 : i ? 2.5 : -1.5));
  it('has a loop for every op', () => {
    expect(Object.keys(I.UNARY_LOOPS).sort()).toEqual([...T.UNARY_OPS].sort());
    expect(Object.keys(I.UNARY_GRAD_LOOPS).sort()).toEqual([...T.UNARY_OPS].sort());
    expect(Object.keys(I.BINARY_ROW_LOOPS).sort()).toEqual([...T.BINARY_OPS].sort());
  });
  for (const op of Object.keys(I.UNARY_LOOPS) as T.UnaryOp[]) {
    it(`${op} forward`, () => {
      const x = inputs(Ctor, n, 1);
      const fast = new Ctor(n);
      const ref = new Ctor(n);
      I.unaryKernel(op, x, fast, params(op));
      I.unaryKernel(op, x, ref, params(op), true);
      expect(bits(fast)).toEqual(bits(ref));
    });
  }
  for (const op of Object.keys(I.UNARY_GRAD_LOOPS) as T.UnaryOp[]) {
    it(`${op} derivative`, () => {
      const x = inputs(Ctor, n, 2);
      const y = new Ctor(n);
      I.unaryKernel(op, x, y, params(op), true);
      const dy = inputs(Ctor, n, 3).reverse();
      const fast = new Ctor(n);
      const ref = new Ctor(n);
      I.unaryGradKernel(op, x, y, dy, fast, params(op));
      I.unaryGradKernel(op, x, y, dy, ref, params(op), true);
      expect(bits(fast)).toEqual(bits(ref));
    });
  }
  // Same shape, a scalar b, a row (bias) broadcast, a column broadcast on either side, and a 3-D broadcast.
  const layouts: [number[], number[], number[]][] = [
    [[7, 5], [7, 5], [7, 5]],
    [[7, 5], [1], [7, 5]],
    [[7, 5], [5], [7, 5]],
    [[7, 1], [7, 5], [7, 5]],
    [[2, 1, 5], [3, 1], [2, 3, 5]],
  ];
  for (const op of Object.keys(I.BINARY_ROW_LOOPS) as T.BinaryOp[]) {
    it.each(layouts)(`${op} %j ∘ %j → %j`, (aShape, bShape, outShape) => {
      const a = inputs(Ctor, T.sizeOf(aShape), 4);
      const b = inputs(Ctor, T.sizeOf(bShape), 5).reverse();
      const fast = new Ctor(T.sizeOf(outShape));
      const ref = new Ctor(T.sizeOf(outShape));
      I.binaryKernel(op, a, aShape, b, bShape, fast, outShape);
      I.binaryKernel(op, a, aShape, b, bShape, ref, outShape, true);
      expect(bits(fast)).toEqual(bits(ref));
    });
  }
});
