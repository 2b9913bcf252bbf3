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
