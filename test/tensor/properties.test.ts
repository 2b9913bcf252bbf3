// Property-based tests (fast-check): broadcasting rules, and reshape / transpose round trips on random shapes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { broadcastShapeRef, readBroadcast, size, unravel } from '../helpers/reference.js';

const dims = (maxRank: number) => fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: maxRank });

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
  it('reshape to any shape of the same size and back is the identity', () => {
    fc.assert(
      fc.property(dims(4), fc.nat(), (shape, seed) => {
        const n = size(shape);
        const x = T.tensor(Array.from({ length: n }, (_, i) => i * 7 + (seed % 5)), { shape, dtype: 'float64' });
        const flat = T.reshape(x, [n]);
        const back = T.reshape(flat, shape);
        expect(back.shape).toEqual(shape);
        expect(Array.from(back.data)).toEqual(Array.from(x.data));
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
