// Class labels of the built-in datasets: the same points as sampleDataset from the same seed, and labels that agree
// with the geometry written out here (nearest centre, which square, which ring, which moon).
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import * as F from '@rill/flowmatch';

const labeled = F.DATASET_NAMES.filter((d) => F.DATASET_CLASSES[d] > 0);

describe('sampleLabeled', () => {
  for (const name of labeled) {
    it(`${name}: the points of sampleDataset (same seed), labels in [0, ${F.DATASET_CLASSES[name]}), every class present`, () => {
      const { points, labels } = F.sampleLabeled(name, 2000, { generator: new T.Generator(4) });
      expect(Array.from(points.data)).toEqual(Array.from(F.sampleDataset(name, 2000, { generator: new T.Generator(4) }).data));
      expect(labels.dtype).toBe('int32');
      const counts = new Array(F.DATASET_CLASSES[name]).fill(0);
      for (const k of labels.data) counts[k]++;
      expect(counts.every((c) => c > 0)).toBe(true);
    });
  }

  const agree = (name: F.DatasetName, rule: (x: number, y: number) => number) => {
    const { points, labels } = F.sampleLabeled(name, 4000, { generator: new T.Generator(9) });
    let same = 0;
    for (let i = 0; i < 4000; i++) if (rule(points.data[2 * i], points.data[2 * i + 1]) === labels.data[i]) same++;
    return same / 4000;
  };
  const nearest = (centres: number[][]) => (x: number, y: number) => {
    const d = centres.map(([a, b]) => (x - a) ** 2 + (y - b) ** 2);
    return d.indexOf(Math.min(...d));
  };

  it('8gaussians and gmm: the label is the component (the nearest centre for ≥ 99.5 % of points)', () => {
    const eight = [[1, 0], [-1, 0], [0, 1], [0, -1], [Math.SQRT1_2, Math.SQRT1_2], [Math.SQRT1_2, -Math.SQRT1_2], [-Math.SQRT1_2, Math.SQRT1_2], [-Math.SQRT1_2, -Math.SQRT1_2]].map(([a, b]) => [5 * a, 5 * b]);
    expect(agree('8gaussians', nearest(eight))).toBeGreaterThan(0.995);
    expect(agree('gmm', nearest([[-2, 0], [2, 0], [0, 2 * Math.sqrt(3)]]))).toBeGreaterThan(0.995);
  });

  it('checkerboard: the label is the square, 2·column + row, recovered exactly from the point', () => {
    expect(agree('checkerboard', (x, y) => {
      const [x1, x2] = [x * 0.45, y * 0.45];
      const parity = ((Math.floor(x1) % 2) + 2) % 2;
      return 2 * (Math.floor(x1) + 2) + (parity - Math.floor(x2)) / 2;
    })).toBeGreaterThan(0.999); // (a point on a square's edge may round either way)
  });

  it('circles: the ring (outer 0 when |x| > 2.25); moons: the moon (the circle, of the two, the point lies on)', () => {
    expect(agree('circles', (x, y) => (Math.hypot(x, y) > 2.25 ? 0 : 1))).toBe(1);
    // Rill's moons, undone: (x + 1)/3 − u lies on the unit circle around (0, 0) (outer, 0) or (1, ½) (inner, 1) for
    // some u ∈ [0, 0.2); the label says which circle has such a u
    const onCircle = (x: number, y: number, cx: number, cy: number) => {
      const f = (u: number) => (x - u - cx) ** 2 + (y - u - cy) ** 2 - 1;
      let lo = Infinity;
      let hi = -Infinity;
      for (let k = 0; k <= 200; k++) (lo = Math.min(lo, f(k * 0.001))), (hi = Math.max(hi, f(k * 0.001)));
      return lo <= 1e-9 && hi >= -1e-9;
    };
    const { points, labels } = F.sampleLabeled('moons', 4000, { generator: new T.Generator(9) });
    let [clear, same] = [0, 0];
    for (let i = 0; i < 4000; i++) {
      const [a, b] = [(points.data[2 * i] + 1) / 3, (points.data[2 * i + 1] + 1) / 3];
      const [outer, inner] = [onCircle(a, b, 0, 0), onCircle(a, b, 1, 0.5)];
      if (outer === inner) continue; // near where the shifted arcs meet, both circles fit
      clear++;
      if ((outer ? 0 : 1) === labels.data[i]) same++;
    }
    expect(clear).toBeGreaterThan(3800);
    expect(same).toBe(clear);
  });

  it('refuses a dataset without classes, saying which have them', () => {
    expect(() => F.sampleLabeled('swissroll', 10)).toThrow(/'swissroll' has no classes to condition on \(datasets with classes: moons/);
  });
});
