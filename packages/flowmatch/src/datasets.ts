// Seeded 2D toy datasets, each defined exactly as in the reference projects (definitions next to the code).
import * as T from '@rill/tensor';
import type { Generator, Tensor } from '@rill/tensor';

/** Options of the dataset samplers. */
export interface DatasetOptions {
  /** Where the randomness comes from (default: the global generator). */
  generator?: Generator;
  /** dtype of the returned (n, 2) tensor (default float32; the points are computed in float64). */
  dtype?: T.DType;
}

// n points, row-major (n, 2); when `labels` is given, each point's class is written into it (without changing the draws).
type Sampler = (n: number, g: Generator, labels?: Int32Array) => Float64Array;

/** Evenly spaced values from a to b inclusive (NumPy's linspace), as the arcs of the moons use. */
const linspace = (a: number, b: number, n: number) => Array.from({ length: n }, (_, i) => (n === 1 ? a : a + ((b - a) * i) / (n - 1)));

/** The arcs of make_moons: the first ⌊n/2⌋ points on the outer arc (cos a, sin a), the rest on the inner arc (1 − cos a, 1 − sin a − ½), a evenly spaced in [0, π]. */
function moonArcs(n: number): Float64Array {
  // the arcs depend on n only: the last n's are kept (every training step asks for the same batch size), and copied
  if (lastArcs?.length !== 2 * n) lastArcs = computeArcs(n);
  return lastArcs.slice();
}
let lastArcs: Float64Array | null = null;

function computeArcs(n: number): Float64Array {
  const out = new Float64Array(2 * n);
  const nOut = Math.floor(n / 2);
  linspace(0, Math.PI, nOut).forEach((a, i) => out.set([Math.cos(a), Math.sin(a)], 2 * i));
  linspace(0, Math.PI, n - nOut).forEach((a, i) => out.set([1 - Math.cos(a), 1 - Math.sin(a) - 0.5], 2 * (nOut + i)));
  return out;
}

/**
 * moons (torchcfm's tutorial, `sample_moons`): the make_moons arcs, plus u ~ U[0, 0.2) added to BOTH coordinates of a
 * point (the same u: NumPy adds an (n, 1) column), then x ↦ 3x − 1. Points come in arc order (outer, then inner).
 */
const moons: Sampler = (n, g, labels) => {
  const x = moonArcs(n);
  labels?.forEach((_, i) => (labels[i] = i < Math.floor(n / 2) ? 0 : 1)); // class: the outer (0) or inner (1) moon
  for (let i = 0; i < n; i++) {
    const u = 0.2 * g.uniform();
    x[2 * i] = 3 * (x[2 * i] + u) - 1;
    x[2 * i + 1] = 3 * (x[2 * i + 1] + u) - 1;
  }
  return x;
};

/** moons-sklearn (scikit-learn's make_moons(n, noise=σ), unscaled): the arcs plus N(0, σ²) on each coordinate, shuffled. */
const moonsSklearn = (sigma: number): Sampler => (n, g, labels) => {
  const arcs = moonArcs(n);
  const noise = new Float64Array(2 * n);
  g.fillNormal(noise, 0, sigma);
  labels?.forEach((_, i) => (labels[i] = i < Math.floor(n / 2) ? 0 : 1));
  return shuffled(arcs.map((v, i) => v + noise[i]), n, g, labels);
};

/** Rows of an (n, 2) array in a random order (Fisher–Yates). */
function shuffled(x: Float64Array, n: number, g: Generator, labels?: Int32Array): Float64Array {
  for (let i = n - 1; i > 0; i--) {
    const j = g.int(0, i + 1);
    if (labels) [labels[i], labels[j]] = [labels[j], labels[i]];
    [x[2 * i], x[2 * j]] = [x[2 * j], x[2 * i]];
    [x[2 * i + 1], x[2 * j + 1]] = [x[2 * j + 1], x[2 * i + 1]];
  }
  return x;
}

/** Isotropic Gaussian mixture: each point picks a centre uniformly (or by `weights`) and adds N(0, std²) per coordinate. */
function mixture(centres: [number, number][], std: number, weights?: number[]): Sampler {
  const w = weights ?? centres.map(() => 1);
  const total = w.reduce((a, b) => a + b, 0);
  return (n, g, labels) => {
    const x = new Float64Array(2 * n);
    const z = new Float64Array(2 * n);
    g.fillNormal(z);
    for (let i = 0; i < n; i++) {
      let r = g.uniform() * total;
      let k = 0;
      while (k < w.length - 1 && r >= w[k]) r -= w[k++];
      if (labels) labels[i] = k; // class: the component
      x[2 * i] = centres[k][0] + std * z[2 * i];
      x[2 * i + 1] = centres[k][1] + std * z[2 * i + 1];
    }
    return x;
  };
}

/**
 * 8 Gaussians (torchcfm's tutorial): centres (±1, 0), (0, ±1), (±1/√2, ±1/√2), all × 5; each point picks one
 * uniformly; covariance √0.1 · I, i.e. standard deviation 0.1^¼ ≈ 0.562.
 */
const EIGHT = [
  [1, 0], [-1, 0], [0, 1], [0, -1], [Math.SQRT1_2, Math.SQRT1_2], [Math.SQRT1_2, -Math.SQRT1_2], [-Math.SQRT1_2, Math.SQRT1_2], [-Math.SQRT1_2, -Math.SQRT1_2],
].map(([a, b]) => [5 * a, 5 * b] as [number, number]);
const eightGaussians = mixture(EIGHT, Math.sqrt(Math.sqrt(0.1)));

/**
 * checkerboard (Meta's flow_matching 2D notebook): x₁ ~ U[−2, 2); x₂ = U[0, 1) − 2·randint{0, 1} + (⌊x₁⌋ mod 2);
 * then both / 0.45. Python's mod is non-negative; JavaScript's % keeps the sign, so mod is ((k % 2) + 2) % 2.
 * The result fills 8 of the 16 unit squares of [−2, 2)² (before the scaling) in a checkerboard pattern.
 */
const checkerboard: Sampler = (n, g, labels) => {
  const x = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const x1 = 4 * g.uniform() - 2;
    const u = g.uniform(); // (drawn before the row, as the expression in the reference does)
    const row = g.int(0, 2);
    const x2 = u - 2 * row + (((Math.floor(x1) % 2) + 2) % 2);
    if (labels) labels[i] = 2 * (Math.floor(x1) + 2) + row; // class: which of the 8 squares (column, upper or lower)
    x[2 * i] = x1 / 0.45;
    x[2 * i + 1] = x2 / 0.45;
  }
  return x;
};

/** circles (Rill's own): half the points on the circle of radius 3, half on radius 1.5, angle uniform, plus N(0, 0.1²) per coordinate. */
const circles: Sampler = (n, g, labels) => {
  const x = new Float64Array(2 * n);
  const z = new Float64Array(2 * n);
  g.fillNormal(z, 0, 0.1);
  for (let i = 0; i < n; i++) {
    const r = i < n / 2 ? 3 : 1.5;
    if (labels) labels[i] = i < n / 2 ? 0 : 1; // class: the outer (0) or inner (1) ring
    const a = 2 * Math.PI * g.uniform();
    x[2 * i] = r * Math.cos(a) + z[2 * i];
    x[2 * i + 1] = r * Math.sin(a) + z[2 * i + 1];
  }
  return x;
};

/**
 * spirals (Rill's own, after FFJORD's 2spirals): θ = 3π·√u with u ~ U[0, 1); arm one at (−θ cos θ, θ sin θ), arm two
 * its point reflection; each point picks an arm with probability ½; plus N(0, 0.1²); then all / 3 (so |x| ≲ 3.2).
 */
const spirals: Sampler = (n, g, labels) => {
  const x = new Float64Array(2 * n);
  const z = new Float64Array(2 * n);
  g.fillNormal(z, 0, 0.1);
  for (let i = 0; i < n; i++) {
    const theta = 3 * Math.PI * Math.sqrt(g.uniform());
    const arm = g.uniform() < 0.5 ? 1 : -1;
    if (labels) labels[i] = arm === 1 ? 0 : 1; // class: the arm
    x[2 * i] = (arm * -theta * Math.cos(theta) + z[2 * i]) / 3;
    x[2 * i + 1] = (arm * theta * Math.sin(theta) + z[2 * i + 1]) / 3;
  }
  return x;
};

/**
 * swiss roll 2D (scikit-learn's make_swiss_roll(n, noise=1.0) keeping coordinates x and z, then / 5, as FFJORD does):
 * t = 1.5π(1 + 2u), u ~ U[0, 1); (t cos t, t sin t) plus N(0, 1) per coordinate; / 5.
 */
const swissroll: Sampler = (n, g) => {
  const x = new Float64Array(2 * n);
  const z = new Float64Array(2 * n);
  g.fillNormal(z);
  for (let i = 0; i < n; i++) {
    const t = 1.5 * Math.PI * (1 + 2 * g.uniform());
    x[2 * i] = (t * Math.cos(t) + z[2 * i]) / 5;
    x[2 * i + 1] = (t * Math.sin(t) + z[2 * i + 1]) / 5;
  }
  return x;
};

/** Gaussian mixture (Rill's default): 3 components at (−2, 0), (2, 0), (0, 2√3) with std 0.5. */
const gmm = mixture([[-2, 0], [2, 0], [0, 2 * Math.sqrt(3)]], 0.5);

/**
 * overlap (Rill's own, for guidance): 3 components whose classes overlap, centres at radius 1.2 and angles 90°, 210°,
 * 330°, std 0.7 — the Bayes classifier (the nearest centre) labels 88.1 % of points right, so guidance has something to sharpen.
 */
export const OVERLAP_CENTRES: [number, number][] = [90, 210, 330].map((deg) => [1.2 * Math.cos((deg * Math.PI) / 180), 1.2 * Math.sin((deg * Math.PI) / 180)]);
/** The standard deviation of each overlap component. */
export const OVERLAP_STD = 0.7;
const overlap = mixture(OVERLAP_CENTRES, OVERLAP_STD);

/** The built-in 2D datasets by name: each a sampler (n, generator) → n points, row-major (n, 2), in float64. */
export const DATASETS = {
  moons,
  /** scikit-learn's make_moons(n, noise=0.05), unscaled and shuffled (see {@link sampleMoonsSklearn}). */
  'moons-sklearn': moonsSklearn(0.05),
  /** 8 Gaussians (torchcfm): centres on the radius-5 circle at multiples of 45°, standard deviation 0.1^¼ ≈ 0.562. */
  '8gaussians': eightGaussians,
  checkerboard,
  circles,
  spirals,
  swissroll,
  gmm,
  /** 3 overlapping Gaussians (radius 1.2, std 0.7): classes a classifier cannot fully separate. */
  overlap,
} satisfies Record<string, Sampler>;

/**
 * How many classes each built-in dataset's points carry (for conditioning): moons and moons-sklearn the moon, 8gaussians
 * and gmm the component, checkerboard the square, circles the ring, spirals the arm; swissroll none (0).
 */
export const DATASET_CLASSES: Readonly<Record<keyof typeof DATASETS, number>> = {
  moons: 2, 'moons-sklearn': 2, '8gaussians': 8, checkerboard: 8, circles: 2, spirals: 2, swissroll: 0, gmm: 3, overlap: 3,
};

/** The name of a built-in dataset: a key of {@link DATASETS}. */
export type DatasetName = keyof typeof DATASETS;
/** Every built-in dataset name, in the order of {@link DATASETS}. */
export const DATASET_NAMES = Object.keys(DATASETS) as DatasetName[];

/** `n` points of a named 2D dataset as an (n, 2) tensor (float32 by default), drawn from the generator. */
export function sampleDataset(name: DatasetName, n: number, options: DatasetOptions = {}): Tensor {
  if (!Object.hasOwn(DATASETS, name)) {
    throw new T.ValueError('dataset', `unknown dataset '${String(name)}' (known: ${DATASET_NAMES.join(', ')})`);
  }
  checkCount('dataset', n);
  const g = options.generator ?? T.getGenerator();
  return T.tensor(DATASETS[name](n, g), { shape: [n, 2], dtype: options.dtype ?? 'float32' });
}

/**
 * `n` points of a named dataset with their classes (see {@link DATASET_CLASSES}): the same points as sampleDataset
 * from the same generator state, and an int32 (n) tensor of labels in [0, classes). Throws for a dataset without classes.
 */
export function sampleLabeled(name: DatasetName, n: number, options: DatasetOptions = {}): {
  /** The points, (n, 2). */
  points: Tensor;
  /** Each point's class, int32 (n). */
  labels: Tensor;
} {
  if (!Object.hasOwn(DATASETS, name)) throw new T.ValueError('dataset', `unknown dataset '${String(name)}' (known: ${DATASET_NAMES.join(', ')})`);
  if (DATASET_CLASSES[name] === 0) throw new T.ValueError('dataset', `'${name}' has no classes to condition on (datasets with classes: ${DATASET_NAMES.filter((d) => DATASET_CLASSES[d] > 0).join(', ')})`);
  checkCount('dataset', n);
  const g = options.generator ?? T.getGenerator();
  const labels = new Int32Array(n);
  const points = T.tensor(DATASETS[name](n, g, labels), { shape: [n, 2], dtype: options.dtype ?? 'float32' });
  return { points, labels: T.tensor(labels, { shape: [n], dtype: 'int32' }) };
}

/** Throws ValueError naming `op` unless n is a positive integer. */
function checkCount(op: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new T.ValueError(op, `n must be a positive integer, got ${n}`);
}

/** make_moons with a chosen noise level σ (scikit-learn's definition; see moons-sklearn). */
export function sampleMoonsSklearn(n: number, sigma: number, options: DatasetOptions = {}): Tensor {
  checkCount('sampleMoonsSklearn', n);
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new T.ValueError('sampleMoonsSklearn', `sigma must be finite and ≥ 0, got ${sigma}`);
  const g = options.generator ?? T.getGenerator();
  return T.tensor(moonsSklearn(sigma)(n, g), { shape: [n, 2], dtype: options.dtype ?? 'float32' });
}

/** A mixture of isotropic Gaussians with your own centres, standard deviation and weights. */
export function sampleMixture(n: number, centres: [number, number][], std: number, options: DatasetOptions & { weights?: number[] } = {}): Tensor {
  checkCount('sampleMixture', n);
  if (!Array.isArray(centres) || centres.length === 0 || centres.some((c) => c.length !== 2 || !c.every(Number.isFinite))) {
    throw new T.ValueError('sampleMixture', 'centres must be a non-empty list of finite [x, y] pairs');
  }
  if (!(std >= 0) || !Number.isFinite(std)) throw new T.ValueError('sampleMixture', `std must be finite and ≥ 0, got ${std}`);
  const w = options.weights;
  if (w && (w.length !== centres.length || w.some((v) => !(v >= 0) || !Number.isFinite(v)) || !(w.reduce((a, b) => a + b, 0) > 0))) {
    throw new T.ValueError('sampleMixture', `weights must be ${centres.length} finite non-negative numbers with a positive sum, got [${w}]`);
  }
  const g = options.generator ?? T.getGenerator();
  return T.tensor(mixture(centres, std, options.weights)(n, g), { shape: [n, 2], dtype: options.dtype ?? 'float32' });
}
