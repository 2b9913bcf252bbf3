// Image samples on disk: CSV rows `label,p0,…,p783` (or `p0,…` without classes) and .npy arrays of pixel intensities in
// [0, 1] — p for pixel, since x0 names the noise in flow matching — and PNG grids (rows = classes) and denoising strips.
import * as T from '@rill/tensor';
import { solve, type Field } from '@rill/flowmatch';
import { writeFileAtomic, writeNpy } from '@rill/flowmatch/node';
import { imageGrid } from './plot/raster.js';

/** The side of a model's square images (D = side²). */
export const sideOf = (dim: number) => Math.round(Math.sqrt(dim));

/** A model's pixels (in [−1, 1]) as intensities in [0, 1], clipped. */
export function intensities(x: T.Tensor): Float32Array {
  return Float32Array.from(x.data, (v) => Math.min(1, Math.max(0, (v + 1) / 2)));
}

/** Writes image samples: .npy (n, D) float32 intensities, else CSV with a label column first when there are labels. */
export function writeImages(path: string, x: T.Tensor, labels?: ArrayLike<number>): void {
  const [n, d] = x.shape;
  const values = intensities(x);
  if (/\.npy$/i.test(path)) return writeNpy(path, T.tensor(values, { shape: [n, d] }));
  const lines = [[...(labels ? ['label'] : []), ...Array.from({ length: d }, (_, j) => `p${j}`)].join(',')];
  for (let i = 0; i < n; i++) {
    const row = Array.from(values.subarray(i * d, (i + 1) * d), (v) => String(Math.round(v * 10_000) / 10_000));
    lines.push((labels ? `${labels[i]},` : '') + row.join(','));
  }
  writeFileAtomic(path, `${lines.join('\n')}\n`);
}

/**
 * A PNG grid of samples: one row per class (the first `perRow` samples of each, in the blocks sample writes), or for
 * unconditional samples rows of ten.
 */
export function sampleGrid(path: string, x: T.Tensor, labels: number[] | null, title: string, perRow = 12): void {
  const [n, d] = x.shape;
  const side = sideOf(d);
  const image = (i: number) => x.data.subarray(i * d, (i + 1) * d);
  let cells: ArrayLike<number>[][];
  let rowLabels: string[] = [];
  if (labels) {
    const classes = [...new Set(labels)];
    cells = classes.map((k) => labels.flatMap((l, i) => (l === k ? [i] : [])).slice(0, perRow).map(image));
    rowLabels = classes.map((k) => `class ${k}`);
  } else {
    const shown = Math.min(n, 100);
    cells = Array.from({ length: Math.ceil(shown / 10) }, (_, r) => Array.from({ length: Math.min(10, shown - 10 * r) }, (_, c) => image(10 * r + c)));
  }
  writeFileAtomic(path, imageGrid(cells, side, { rowLabels, title }));
}

/** The times a denoising strip shows: x_t from noise (t = 0) to the sample (t = 1) in quarters. */
export const STRIP_TIMES = [0, 0.25, 0.5, 0.75, 1];

/**
 * A denoising strip: for each row's field and noise, x_t at STRIP_TIMES (clamped into [t0, t1]) — the ODE's state as
 * noise turns into a digit. rows: a label and the field that samples it.
 */
export function denoisingStrip(path: string, rows: { label: string; field: Field; noise: T.Tensor }[], t0: number, t1: number, solver: { method: 'euler' | 'midpoint' | 'rk4' | 'dopri5'; steps: number; rtol: number; atol: number }): void {
  const cells = rows.map(({ field, noise }) => {
    const times = STRIP_TIMES.map((t) => Math.min(Math.max(t, t0), t1));
    const { trajectory } = solve(field, noise, { ...solver, times, t0, t1 });
    return trajectory.map((x) => Float32Array.from(x.data));
  });
  const side = sideOf(rows[0].noise.shape[1]);
  writeFileAtomic(path, imageGrid(cells, side, { rowLabels: rows.map((r) => r.label), colLabels: STRIP_TIMES.map((t) => `t = ${t}`), title: 'From noise (t = 0) to digit (t = 1)' }));
}
