// Property-based tests (fast-check): broadcasting rules, and reshape / transpose round trips on random shapes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { BINARY_REF, broadcastShapeRef, readBroadcast, reduceRef, size, unravel } from '../helpers/reference.js';

/** Shapes of rank ≤ maxRank with dimensions 1–4, and sometimes 0 (empty tensors). */
const dims = (maxRank: number, minDim = 0) =>
  fc.array(fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: minDim === 0 ? 1 : 0, arbitrary: fc.constant(0) }), {
    minLength: 0,
    maxLength: maxRank,
  });

/** Two shapes that broadcast: start from one shape and set random dimensions of a suffix of it to 1. */
const compatiblePair = dims(4).chain((s) =>
  fc.tuple(
    fc.constant(s),
    fc.integer({ min: 0, max: s.length }),
    fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }),
  ).map(([shape, drop, ones]) => [shape, shape.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d))] as const),
);

describe('broadcasting (properties)', () => {
  it('broadcastShapes agrees with the longhand rule, and throws exactly when the rule says incompatible', () => {
    fc.assert(
      fc.property(dims(4), dims(4), (a, b) => {
        const ref = broadcastShapeRef(a, b);
        if (ref === undefined) expect(() => T.broadcastShapes('add', a, b)).toThrow(T.ShapeError);
        else expect(T.broadcastShapes('add', a, b)).toEqual(ref);
      }),
    );
  });

  it('add of compatible shapes equals the elementwise sum read through broadcasting, and commutes', () => {
    fc.assert(
      fc.property(compatiblePair, fc.boolean(), ([sa, sb], swap) => {
        const [s1, s2] = swap ? [sb, sa] : [sa, sb];
        const a = T.tensor(Array.from({ length: size(s1) }, (_, i) => i), { shape: [...s1], dtype: 'float64' });
        const b = T.tensor(Array.from({ length: size(s2) }, (_, i) => 1000 * i), { shape: [...s2], dtype: 'float64' });
        const out = T.add(a, b);
        const shape = broadcastShapeRef(s1, s2)!;
        expect(out.shape).toEqual(shape);
        const d = out.data;
        for (let i = 0; i < d.length; i++) {
          const idx = unravel(i, shape);
          expect(d[i]).toBe(readBroadcast(a.data, s1, idx) + readBroadcast(b.data, s2, idx));
        }
        expect(Array.from(T.add(b, a).data)).toEqual(Array.from(d));
      }),
      { numRuns: 200 },
    );
  });

  it('broadcastTo then sum over the broadcast axes multiplies by the repeat count', () => {
    fc.assert(
      fc.property(compatiblePair, ([big, small]) => {
        const x = T.tensor(Array.from({ length: size(small) }, (_, i) => i + 1), { shape: [...small], dtype: 'float64' });
        const y = T.broadcastTo(x, [...big]);
        expect(T.sum(y).item()).toBeCloseTo(T.sum(x).item() * (size(big) / Math.max(size(small), 1)), 9);
      }),
    );
  });
});

describe('reshape and transpose (properties)', () => {
  it('reshape to any shape of the same size keeps the row-major order (checked against nested arrays)', () => {
    // Two factorisations of the same size: the target shape is a random split of the source's element count.
    const pair = dims(4, 1).chain((shape) =>
      fc.shuffledSubarray(shape, { minLength: shape.length, maxLength: shape.length }).map((target) => [shape, target] as const),
    );
    fc.assert(
      fc.property(pair, ([shape, target]) => {
        const n = size(shape);
        const values = Array.from({ length: n }, (_, i) => i * 7 - 3);
        const y = T.reshape(T.tensor(values, { shape, dtype: 'float64' }), target);
        expect(y.shape).toEqual(target);
        // Build the expected nested array from the flat values independently of the library.
        const nest = (dim: number, offset: number): unknown =>
          dim === target.length ? values[offset] : Array.from({ length: target[dim] }, (_, i) => nest(dim + 1, offset + i * size(target.slice(dim + 1))));
        expect(y.toArray()).toEqual(nest(0, 0));
      }),
    );
  });

  it('transposing by a permutation and then by its inverse is the identity', () => {
    const permOf = dims(4).chain((shape) =>
      fc.tuple(fc.constant(shape), fc.shuffledSubarray(shape.map((_, i) => i), { minLength: shape.length, maxLength: shape.length })),
    );
    fc.assert(
      fc.property(permOf, ([shape, perm]) => {
        const x = T.tensor(Array.from({ length: size(shape) }, (_, i) => i), { shape, dtype: 'float64' });
        const inverse: number[] = [];
        perm.forEach((p, k) => (inverse[p] = k));
        const y = T.transpose(T.transpose(x, perm), inverse);
        expect(y.shape).toEqual(shape);
        expect(Array.from(y.data)).toEqual(Array.from(x.data));
      }),
    );
  });
});


describe('every binary op, where and the reductions on random shapes (properties)', () => {
  it('binary ops match the float64 reference on random broadcast pairs (float32 within rtol 1e-6)', () => {
    fc.assert(
      fc.property(compatiblePair, fc.constantFrom(...T.BINARY_OPS), fc.constantFrom('float32', 'float64'), fc.nat(), ([sa, sb], op, dtype, seed) => {
        const value = (i: number) => (op === 'pow' ? 0.5 + ((i * 37 + seed) % 7) / 3 : (((i * 37 + seed) % 9) - 4) / 2 + (op === 'div' ? 0.25 : 0));
        const a = T.tensor(Array.from({ length: size(sa) }, (_, i) => value(i)), { shape: [...sa], dtype });
        const b = T.tensor(Array.from({ length: size(sb) }, (_, i) => value(i + 5)), { shape: [...sb], dtype });
        const out = T.binary(op, a, b);
        const shape = broadcastShapeRef(sa, sb)!;
        expect(out.shape).toEqual(shape);
        const got = out.data;
        for (let i = 0; i < got.length; i++) {
          const idx = unravel(i, shape);
          const ref = BINARY_REF[op](readBroadcast(a.data, sa, idx), readBroadcast(b.data, sb, idx));
          expect(Math.abs(got[i] - ref)).toBeLessThanOrEqual((dtype === 'float32' ? 1e-6 : 1e-14) * Math.abs(ref) + 1e-30);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('where broadcasts condition and branches together, against the longhand rule', () => {
    fc.assert(
      fc.property(compatiblePair, compatiblePair, ([sc, sa], [, sb]) => {
        if (!broadcastShapeRef(sc, sa, sb)) return;
        const cond = T.tensor(Array.from({ length: size(sc) }, (_, i) => i % 3 === 0 ? 1 : 0), { shape: [...sc], dtype: 'float64' });
        const a = T.tensor(Array.from({ length: size(sa) }, (_, i) => i + 1), { shape: [...sa], dtype: 'float64' });
        const b = T.tensor(Array.from({ length: size(sb) }, (_, i) => -i - 1), { shape: [...sb], dtype: 'float64' });
        const out = T.where(cond, a, b);
        const shape = broadcastShapeRef(sc, sa, sb)!;
        expect(out.shape).toEqual(shape);
        out.data.forEach((v, i) => {
          const idx = unravel(i, shape);
          expect(v).toBe(readBroadcast(cond.data, sc, idx) !== 0 ? readBroadcast(a.data, sa, idx) : readBroadcast(b.data, sb, idx));
        });
      }),
    );
  });

  it('sum / max / min over random axis sets of random shapes match a float64 loop', () => {
    const shapeAndAxes = dims(4, 1).chain((shape) =>
      fc.tuple(fc.constant(shape), fc.subarray(shape.map((_, i) => i)), fc.boolean()),
    );
    fc.assert(
      fc.property(shapeAndAxes, ([shape, axes, keepdims]) => {
        const values = Array.from({ length: size(shape) }, (_, i) => Math.sin(i * 1.7) * 3);
        const x = T.tensor(values, { shape, dtype: 'float64' });
        for (const [op, combine, init] of [
          ['sum', (p: number, v: number) => p + v, 0],
          ['max', (p: number, v: number) => Math.max(p, v), -Infinity],
          ['min', (p: number, v: number) => Math.min(p, v), Infinity],
        ] as const) {
          const ref = reduceRef(values, shape, axes, combine, init);
          const out = T[op](x, axes, keepdims);
          expect(out.shape).toEqual(keepdims ? ref.keptShape : ref.keptShape.filter((_, i) => !axes.includes(i)));
          Array.from(out.data).forEach((v, i) => expect(Math.abs(v - ref.data[i])).toBeLessThan(1e-12));
        }
      }),
    );
  });
});
