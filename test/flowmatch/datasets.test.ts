// The 2D toy datasets: seeding, dtypes, errors, and each generator re-derived from its documented definition.
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import * as F from '@rill/flowmatch';
import { DATASET_NAMES, sampleDataset, sampleMixture, sampleMoonsSklearn, type DatasetName } from '@rill/flowmatch';

/** The points of a dataset as float64 [x, y] pairs. */
function pts(name: DatasetName, n: number, seed: number): [number, number][] {
  const d = sampleDataset(name, n, { generator: new T.Generator(seed), dtype: 'float64' }).data;
  return Array.from({ length: n }, (_, i) => [d[2 * i], d[2 * i + 1]]);
}

/** Asserts that the sample mean of `xs` is within `k` standard errors (sample SD / √n) of `expected`. */
function expectMean(xs: number[], expected: number, k = 5): void {
  const n = xs.length;
  const m = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
  expect(Math.abs(m - expected), `mean ${m}, expected ${expected}, SE ${sd / Math.sqrt(n)}`).toBeLessThan(k * (sd / Math.sqrt(n)) + 1e-12);
}

/** Asserts a proportion count/n is within k binomial standard errors of p. */
function expectProportion(count: number, n: number, p: number, k = 5): void {
  expect(Math.abs(count / n - p), `${count}/${n} vs ${p}`).toBeLessThan(k * Math.sqrt((p * (1 - p)) / n));
}

const rms = (xs: number[]) => Math.sqrt(xs.reduce((a, b) => a + b * b, 0) / xs.length);

/** Residuals of each point from its nearest centre, with the counts per centre. */
function nearestCentre(points: [number, number][], centres: [number, number][]) {
  const counts = centres.map(() => 0);
  const residuals: number[] = [];
  for (const [x, y] of points) {
    let best = 0;
    for (let k = 1; k < centres.length; k++) {
      if (Math.hypot(x - centres[k][0], y - centres[k][1]) < Math.hypot(x - centres[best][0], y - centres[best][1])) best = k;
    }
    counts[best]++;
    residuals.push(x - centres[best][0], y - centres[best][1]);
  }
  return { counts, residuals };
}

describe('every dataset', () => {
  it('lists the nine documented datasets', () => {
    expect([...DATASET_NAMES].sort()).toEqual(['8gaussians', 'checkerboard', 'circles', 'gmm', 'moons', 'moons-sklearn', 'overlap', 'spirals', 'swissroll']);
  });

  it.each(DATASET_NAMES)('%s is seeded: same seed → identical points, different seeds → different points', (name) => {
    const draw = (seed: number) => Array.from(sampleDataset(name, 64, { generator: new T.Generator(seed) }).data);
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    // Without a generator it draws from the global one, which T.seed resets.
    T.seed(11);
    const a = Array.from(sampleDataset(name, 16).data);
    T.seed(11);
    expect(Array.from(sampleDataset(name, 16).data)).toEqual(a);
  });

  it.each(DATASET_NAMES)('%s gives (n, 2) float32 by default, float64 on request (the same points, rounded)', (name) => {
    for (const n of [1, 2, 5, 100]) {
      const x32 = sampleDataset(name, n, { generator: new T.Generator(3) });
      const x64 = sampleDataset(name, n, { generator: new T.Generator(3), dtype: 'float64' });
      expect(x32.shape).toEqual([n, 2]);
      expect(x32.dtype).toBe('float32');
      expect(x32.data).toBeInstanceOf(Float32Array);
      expect(x64.shape).toEqual([n, 2]);
      expect(x64.dtype).toBe('float64');
      expect(x64.data).toBeInstanceOf(Float64Array);
      expect(Array.from(x32.data)).toEqual(Array.from(x64.data, Math.fround));
      expect(Array.from(x64.data).every(Number.isFinite)).toBe(true);
    }
  });

  it('an unknown name or a bad n is a ValueError naming `dataset`', () => {
    for (const bad of ['nope', 'toString', '__proto__', '']) {
      expect(() => sampleDataset(bad as DatasetName, 10)).toThrow(T.ValueError);
      expect(() => sampleDataset(bad as DatasetName, 10)).toThrow(/^dataset: unknown dataset/);
    }
    for (const n of [0, -1, 1.5, Number.NaN, Infinity]) {
      expect(() => sampleDataset('moons', n)).toThrow(T.ValueError);
      expect(() => sampleDataset('moons', n)).toThrow(/^dataset: n must be a positive integer/);
    }
  });
});

describe('moons (torchcfm)', () => {
  /** The make_moons arc point of index i out of n, from the definition: ⌊n/2⌋ outer, then the inner arc. */
  function arc(i: number, n: number): [number, number] {
    const nOut = Math.floor(n / 2);
    const nIn = n - nOut;
    if (i < nOut) {
      const a = nOut === 1 ? 0 : (Math.PI * i) / (nOut - 1);
      return [Math.cos(a), Math.sin(a)];
    }
    const a = nIn === 1 ? 0 : (Math.PI * (i - nOut)) / (nIn - 1);
    return [1 - Math.cos(a), 1 - Math.sin(a) - 0.5];
  }

  it.each([1, 2, 7, 1000])('n = %i: (x + 1)/3 − arc(i) = (u, u) with one u ∈ [0, 0.2) per point', (n) => {
    const p = pts('moons', n, 42);
    const us: number[] = [];
    p.forEach(([x, y], i) => {
      const [ax, ay] = arc(i, n);
      const ux = (x + 1) / 3 - ax;
      const uy = (y + 1) / 3 - ay;
      expect(Math.abs(ux - uy), `point ${i}`).toBeLessThan(1e-12);
      expect(ux).toBeGreaterThan(-1e-12);
      expect(ux).toBeLessThan(0.2);
      us.push(ux);
    });
    if (n === 1000) {
      // u ~ U[0, 0.2): mean 0.1, spread over the whole interval.
      expectMean(us, 0.1);
      expect(Math.min(...us)).toBeLessThan(0.01);
      expect(Math.max(...us)).toBeGreaterThan(0.19);
    }
  });
});

describe('moons-sklearn', () => {
  const N = 2000;
  /** Distance to a half circle of radius 1 around (cx, cy) (upper half if up, else lower), and the signed r − 1. */
  function toArc([x, y]: [number, number], cx: number, cy: number, up: boolean): { dist: number; signed: number } {
    const signed = Math.hypot(x - cx, y - cy) - 1;
    if (up ? y >= cy : y <= cy) return { dist: Math.abs(signed), signed };
    return { dist: Math.min(Math.hypot(x - cx - 1, y - cy), Math.hypot(x - cx + 1, y - cy)), signed };
  }
  /** Signed radial offset of a point from the nearer arc (outer: upper unit half circle at 0; inner: lower at (1, ½)). */
  function radial(p: [number, number]): number {
    const outer = toArc(p, 0, 0, true);
    const inner = toArc(p, 1, 0.5, false);
    return outer.dist <= inner.dist ? outer.signed : inner.signed;
  }

  it('with σ = 0 the points are exactly the make_moons arc points, shuffled', () => {
    const x = sampleMoonsSklearn(N + 1, 0, { generator: new T.Generator(5), dtype: 'float64' }).data;
    const nOut = Math.floor((N + 1) / 2);
    const expected: [number, number][] = [];
    for (let i = 0; i < nOut; i++) expected.push([Math.cos((Math.PI * i) / (nOut - 1)), Math.sin((Math.PI * i) / (nOut - 1))]);
    const nIn = N + 1 - nOut;
    for (let i = 0; i < nIn; i++) expected.push([1 - Math.cos((Math.PI * i) / (nIn - 1)), 1 - Math.sin((Math.PI * i) / (nIn - 1)) - 0.5]);
    const got = Array.from({ length: N + 1 }, (_, i): [number, number] => [x[2 * i], x[2 * i + 1]]);
    const key = (p: [number, number]) => `${p[0]},${p[1]}`;
    expect(got.map(key).sort()).toEqual(expected.map(key).sort());
    // Shuffled: not in arc order (the first half is not all on the outer arc).
    expect(got.slice(0, nOut).filter((p) => p[1] < -1e-9).length).toBeGreaterThan(nOut / 4);
  });

  it.each([0.05, 0.1])('σ = %f: the offsets from the arcs have standard deviation σ', (sigma) => {
    const x = sampleMoonsSklearn(N, sigma, { generator: new T.Generator(9), dtype: 'float64' }).data;
    const r = Array.from({ length: N }, (_, i) => radial([x[2 * i], x[2 * i + 1]]));
    expectMean(r, 0, 6);
    // RMS of N(0, σ²) samples has relative standard error 1/√(2N) ≈ 1.6%.
    expect(Math.abs(rms(r) / sigma - 1)).toBeLessThan(0.08);
  });

  it('the registered moons-sklearn uses σ = 0.05', () => {
    const p = pts('moons-sklearn', N, 13);
    expect(Math.abs(rms(p.map(radial)) / 0.05 - 1)).toBeLessThan(0.08);
  });
});

describe('8 Gaussians', () => {
  const S = Math.SQRT1_2;
  const centres = [[1, 0], [-1, 0], [0, 1], [0, -1], [S, S], [S, -S], [-S, S], [-S, -S]].map(([a, b]) => [5 * a, 5 * b] as [number, number]);

  it('centres 5·(unit directions), each picked with probability 1/8, noise std 0.1^¼ ≈ 0.562', () => {
    const n = 8000;
    const { counts, residuals } = nearestCentre(pts('8gaussians', n, 21), centres);
    for (const c of counts) expectProportion(c, n, 1 / 8);
    expectMean(residuals, 0);
    const sd = Math.sqrt(Math.sqrt(0.1));
    expect(sd).toBeCloseTo(0.5623, 4);
    // SE of an RMS estimate from 2n normal values: sd / √(4n) ≈ 0.003.
    expect(Math.abs(rms(residuals) - sd)).toBeLessThan(5 * (sd / Math.sqrt(4 * n)));
  });
});

describe('checkerboard (Meta)', () => {
  it('after × 0.45 every point lies in a black square of [−2, 2)²; all 8 black squares are hit about equally', () => {
    const n = 8000;
    const counts = new Map<string, number>();
    const bad: string[] = [];
    for (const [x, y] of pts('checkerboard', n, 31)) {
      const [x1, x2] = [x * 0.45, y * 0.45];
      const inRange = x1 >= -2 && x1 < 2 && x2 >= -2 && x2 < 2;
      // Black squares: ⌊x1⌋ + ⌊x2⌋ even (a sign bug in `mod` puts points at x2 < −2 or in white squares).
      if (!inRange || (Math.floor(x1) + Math.floor(x2)) % 2 !== 0) bad.push(`(${x1}, ${x2})`);
      const sq = `${Math.floor(x1)},${Math.floor(x2)}`;
      counts.set(sq, (counts.get(sq) ?? 0) + 1);
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect([...counts.keys()].sort()).toEqual(['-1,-1', '-1,1', '-2,-2', '-2,0', '0,-2', '0,0', '1,-1', '1,1']);
    for (const c of counts.values()) expectProportion(c, n, 1 / 8);
  });
});

describe('circles', () => {
  it('the first half on radius 3, the second on radius 1.5, uniform angles, N(0, 0.1²) noise', () => {
    const n = 4000;
    const p = pts('circles', n, 17);
    const radial = p.map(([x, y], i) => Math.hypot(x, y) - (i < n / 2 ? 3 : 1.5));
    expect(Math.max(...radial.map(Math.abs))).toBeLessThan(0.6);
    expectMean(radial, 0);
    expect(Math.abs(rms(radial) / 0.1 - 1)).toBeLessThan(0.06);
    // Uniform angle: E[cos] = E[sin] = 0 and each quadrant holds a quarter of each circle.
    for (const half of [p.slice(0, n / 2), p.slice(n / 2)]) {
      expectMean(half.map(([x, y]) => x / Math.hypot(x, y)), 0);
      expectMean(half.map(([x, y]) => y / Math.hypot(x, y)), 0);
      expectProportion(half.filter(([x, y]) => x > 0 && y > 0).length, half.length, 0.25);
    }
  });
});

describe('spirals', () => {
  it('3x lies within noise of an arm ±(−θ cos θ, θ sin θ), θ = 3π√u; arms equally likely', () => {
    const n = 2000;
    const p = pts('spirals', n, 23);
    const dists: number[] = [];
    let armOne = 0;
    let inner = 0;
    for (const [x, y] of p) {
      const [X, Y] = [3 * x, 3 * y];
      const r = Math.hypot(X, Y);
      // A curve point at parameter θ has norm θ, so the nearest one within 0.7 has |θ − r| ≤ 0.7.
      let best = [Infinity, Infinity];
      for (let t = Math.max(0, r - 0.7); t <= Math.min(3 * Math.PI, r + 0.7); t += 5e-4) {
        const cx = -t * Math.cos(t);
        const cy = t * Math.sin(t);
        best = [Math.min(best[0], Math.hypot(X - cx, Y - cy)), Math.min(best[1], Math.hypot(X + cx, Y + cy))];
      }
      dists.push(Math.min(best[0], best[1]));
      if (best[0] < best[1]) armOne++;
      if (r < (3 * Math.PI) / Math.SQRT2) inner++;
    }
    // Turns of the two arms are π apart, so uniform points would typically be far from both; noise has std 0.1.
    expect(Math.max(...dists)).toBeLessThan(0.6);
    expect(rms(dists)).toBeGreaterThan(0.08);
    expect(rms(dists)).toBeLessThan(0.11);
    expectProportion(armOne, n, 0.5);
    // P(θ ≤ 3π/√2) = ½ since θ = 3π√u.
    expectProportion(inner, n, 0.5);
    const maxNorm = Math.max(...p.map(([x, y]) => Math.hypot(x, y)));
    expect(maxNorm).toBeGreaterThan(3);
    expect(maxNorm).toBeLessThan(Math.PI + 0.2);
  });
});

describe('swiss roll', () => {
  it('moments of ((t cos t, t sin t) + N(0, I)) / 5 with t uniform on [1.5π, 4.5π)', () => {
    const n = 20000;
    const p = pts('swissroll', n, 29);
    // ∫ t cos t = t sin t + cos t and ∫ t sin t = sin t − t cos t over [1.5π, 4.5π], divided by the length 3π.
    const L = 1.5 * Math.PI;
    const H = 4.5 * Math.PI;
    const meanX = (H * Math.sin(H) + Math.cos(H) - L * Math.sin(L) - Math.cos(L)) / (3 * Math.PI);
    const meanY = (Math.sin(H) - H * Math.cos(H) - Math.sin(L) + L * Math.cos(L)) / (3 * Math.PI);
    expect(meanX).toBeCloseTo(2, 12);
    expect(meanY).toBeCloseTo(2 / (3 * Math.PI), 12);
    expectMean(p.map(([x]) => x), meanX / 5);
    expectMean(p.map(([, y]) => y), meanY / 5);
    // E‖5x‖² = E[t²] + 2 with E[t²] = (H³ − L³) / (3·3π).
    const meanSq = (H ** 3 - L ** 3) / (9 * Math.PI) + 2;
    expectMean(p.map(([x, y]) => 25 * (x * x + y * y)), meanSq);
    expect(Math.max(...p.map(([x, y]) => Math.hypot(x, y)))).toBeLessThan((H + 6) / 5);
  });
});

describe('gmm', () => {
  it('three components at (−2, 0), (2, 0), (0, 2√3), equally likely, std 0.5', () => {
    const n = 6000;
    const centres: [number, number][] = [[-2, 0], [2, 0], [0, 2 * Math.sqrt(3)]];
    const { counts, residuals } = nearestCentre(pts('gmm', n, 37), centres);
    for (const c of counts) expectProportion(c, n, 1 / 3);
    expectMean(residuals, 0);
    expect(Math.abs(rms(residuals) - 0.5)).toBeLessThan(5 * (0.5 / Math.sqrt(4 * n)));
  });
});

describe('overlap', () => {
  it('three components at radius 1.2 and 90°, 210°, 330°, equally likely, std 0.7 (label = component, so the moments are exact)', () => {
    const n = 6000;
    const { points, labels } = F.sampleLabeled('overlap', n, { generator: new T.Generator(38) });
    const centres = [90, 210, 330].map((d) => [1.2 * Math.cos((d * Math.PI) / 180), 1.2 * Math.sin((d * Math.PI) / 180)]);
    const counts = [0, 0, 0];
    const residuals: number[] = [];
    for (let i = 0; i < n; i++) {
      const k = labels.data[i];
      counts[k]++;
      residuals.push(points.data[2 * i] - centres[k][0], points.data[2 * i + 1] - centres[k][1]);
    }
    for (const c of counts) expectProportion(c, n, 1 / 3);
    expectMean(residuals, 0);
    expect(Math.abs(rms(residuals) - 0.7)).toBeLessThan(5 * (0.7 / Math.sqrt(4 * n)));
  });
});

describe('argument checks of the parameterised samplers', () => {
  it('sampleMoonsSklearn and sampleMixture refuse bad counts, noise levels, centres and weights with ValueErrors', () => {
    for (const n of [-1, 0, 1.5, NaN]) {
      expect(() => sampleMoonsSklearn(n, 0.1)).toThrow(`sampleMoonsSklearn: n must be a positive integer, got ${n}`);
      expect(() => sampleMixture(n, [[0, 0]], 1)).toThrow(`sampleMixture: n must be a positive integer, got ${n}`);
    }
    expect(() => sampleMoonsSklearn(5, NaN)).toThrow('sampleMoonsSklearn: sigma must be finite and ≥ 0, got NaN');
    expect(() => sampleMixture(3, [], 1)).toThrow('sampleMixture: centres must be a non-empty list of finite [x, y] pairs');
    expect(() => sampleMixture(3, [[0, 0], [1, 1]], 1, { weights: [0, 0] })).toThrow(/sampleMixture: weights must be 2 finite non-negative numbers with a positive sum/);
    expect(() => sampleMixture(3, [[0, 0], [1, 1]], 1, { weights: [-1, 2] })).toThrow(T.ValueError);
    // Weight 0 for a centre means it is never drawn.
    const pts = sampleMixture(200, [[-10, 0], [10, 0]], 0.1, { weights: [0, 1], generator: new T.Generator(1) }).data;
    for (let i = 0; i < 200; i++) expect(pts[2 * i]).toBeGreaterThan(5);
  });
});
