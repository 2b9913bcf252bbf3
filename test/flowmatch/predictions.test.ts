// Velocity, score, noise and data predictions on Gaussian paths: every conversion against the closed forms of Gaussian
// data (test/helpers/gaussian.ts, joint-Gaussian conditioning), the singular ends refused, and bad settings refused.
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import * as F from '@rill/flowmatch';
import { gaussianTruth, type M2 } from '../helpers/gaussian.js';
import { expectClose } from '../helpers/close.js';

const MU = [1.5, -0.5];
const SIGMA: M2 = [0.6, 0.25, 0.25, 0.4];
const PATHS: [string, F.GaussianPath][] = [
  ['linear', new F.GaussianPath(F.linear())],
  ['linear, σ = 0.3 (I-CFM)', new F.GaussianPath(F.linear(), 0.3)],
  ['linear(σ_min = 0.1)', new F.GaussianPath(F.linear(0.1))],
  ['cosine', new F.GaussianPath(F.cosine())],
  ['vp', new F.GaussianPath(F.vp())],
];
const POINTS = [[0, 0], [2, -1], [-1.5, 0.7], [0.3, 2.2]];
const KEY = { velocity: 'velocity', score: 'score', epsilon: 'epsilon', data: 'zhat' } as const;

describe('convertPrediction', () => {
  for (const [name, path] of PATHS) {
    for (const t of [0.05, 0.3, 0.7, 0.95]) {
      it(`${name}, t = ${t}: each of velocity, score, ε̂, ẑ converts into each other exactly (Gaussian data)`, () => {
        const sc = path.scheduler;
        const c = { a: sc.alpha(t), b: sc.beta(t), sigma: path.sigma, da: sc.dAlpha(t), db: sc.dBeta(t) };
        const truth = POINTS.map((x) => gaussianTruth(MU, SIGMA, c, x));
        const x = T.tensor(POINTS, { dtype: 'float64' });
        const of = (p: F.Prediction) => T.tensor(truth.map((q) => q[KEY[p]]), { dtype: 'float64' });
        for (const from of F.PREDICTIONS) {
          for (const to of F.PREDICTIONS) {
            const got = F.convertPrediction(path, from, to, x, of(from), t);
            expectClose(got.data, of(to).data, { rtol: 1e-9, atol: 1e-9 });
          }
        }
      });
    }
  }

  it('the velocity → score conversion is singular at t = 1 (s = 0), and score → velocity at t = 0 (α = 0): both refused', () => {
    const path = new F.GaussianPath(F.linear());
    const x = T.zeros([1, 2], { dtype: 'float64' });
    expect(() => F.convertPrediction(path, 'velocity', 'score', x, x, 1)).toThrow(/velocity → score is singular at t = 1 .*use t ∈ \[ε, 1 − ε\]/);
    expect(() => F.convertPrediction(path, 'score', 'velocity', x, x, 0)).toThrow(/score → velocity is singular at t = 0/);
    expect(() => F.convertPrediction(path, 'velocity', 'epsilon', x, x, 1)).not.toThrow(); // ε̂ = x − t·u stays defined
  });

  it('refuses a non-normal source and a coupling other than independent, saying why', () => {
    expect(() => F.checkPredictionSetting('sde', { source: 'uniform' })).toThrow(/N\(0, I\) source/);
    expect(() => F.checkPredictionSetting('sde', { coupling: 'ot' })).toThrow(/independent coupling; with 'ot'/);
    expect(() => F.checkPredictionSetting('sde', {})).not.toThrow();
    const path = new F.GaussianPath(F.linear());
    expect(() => F.convertPrediction(path, 'velocity', 'noise' as F.Prediction, T.zeros([1, 2]), T.zeros([1, 2]), 0.5)).toThrow(/unknown prediction 'noise'/);
  });
});

describe('the score objective (noise prediction)', () => {
  it('epsilonTarget is (x_t − α_t z)/s_t, the scaled total noise: for σ = 0.2, (β x0 + σ ε)/√(β² + σ²) with the path’s own ε', () => {
    const path = new F.GaussianPath(F.linear(), 0.2);
    const g = new T.Generator(3);
    const z = T.randn([6, 2], { generator: g, dtype: 'float64' });
    const x0 = T.randn([6, 2], { generator: g, dtype: 'float64' });
    const tv = [0.1, 0.3, 0.5, 0.7, 0.9, 0.95];
    const t = T.tensor(tv, { shape: [6, 1], dtype: 'float64' });
    const noiseGen = new T.Generator(4);
    const { xt } = path.sample({ z, x0, t }, { generator: noiseGen, tValues: tv });
    const eps = T.randn([6, 2], { generator: new T.Generator(4), std: 0.2, dtype: 'float64' }); // the σε the path drew
    const got = F.epsilonTarget(path, xt, z, tv).data;
    const want = Array.from({ length: 12 }, (_, i) => {
      const b = 1 - tv[Math.floor(i / 2)];
      return (b * x0.data[i] + eps.data[i]) / Math.sqrt(b * b + 0.04);
    });
    expectClose(got, want, { rtol: 1e-12, atol: 1e-12 });
  });

  it('a model trained on it learns: the loss falls, and its samples (ε̂ → velocity, SDE on [SCORE_T0, tMax]) move noise most of the way to the data', () => {
    const trainer = new F.Trainer({ data: 'gmm', objective: 'score', path: 'vp', sigma: 0, steps: 1500, batch: 256, seed: 2 });
    while (trainer.step < 1500) trainer.trainStep();
    const early = trainer.losses.slice(0, 50).reduce((a, b) => a + b, 0) / 50;
    const late = trainer.losses.slice(-50).reduce((a, b) => a + b, 0) / 50;
    expect(late).toBeLessThan(0.7 * early);
    const field = F.asVelocity(F.fieldOf(trainer.model), trainer.path, 'epsilon');
    const noise = T.randn([500, 2], { generator: new T.Generator(5) });
    const { x } = F.sdeSolve(field, noise, { path: trainer.path, diffusion: 1, schedule: 'vanishing', steps: 200, generator: new T.Generator(7), t0: F.SCORE_T0, t1: trainer.path.scheduler.tMax });
    const data = F.sampleDataset('gmm', 500, { generator: new T.Generator(6) });
    expect(F.wasserstein2(x, data)).toBeLessThan(0.4 * F.wasserstein2(noise, data));
  }, 60_000);

  it('refuses a source other than N(0, I) and an OT coupling, naming the field', () => {
    expect(() => new F.Trainer({ objective: 'score', source: 'gmm' })).toThrow(/source must be normal for the score objective/);
    expect(() => new F.Trainer({ objective: 'score', coupling: 'ot' })).toThrow(/coupling must be independent for the score objective/);
  });
});
