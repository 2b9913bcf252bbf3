// The one loop every strided CPU kernel shares: walk a shape row by row, tracking an offset into each operand.

/**
 * Visits `shape` one innermost row at a time. For each row it calls `row(outOffset, offsets)`, where
 * `outOffset` is the row's start in a contiguous array of `shape` and `offsets[k]` its start in operand k,
 * whose strides (one per axis of `shape`, 0 along broadcast axes) are `strides[k]`.
 * The caller loops over the row itself (length shape[rank-1], operand k stepping by strides[k][rank-1]),
 * so the per-element work stays in a tight loop with no calls.
 *
 * An "odometer" over the outer axes: increment the last outer index; when it reaches its size, reset it and carry.
 */
export function forEachRow(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  row: (outOffset: number, offsets: Float64Array) => void,
): void {
  const rank = shape.length;
  const total = shape.reduce((p, d) => p * d, 1);
  if (total === 0) return;
  const offsets = new Float64Array(strides.length); // integer offsets; float64 holds them exactly beyond 2³¹
  if (rank === 0) {
    row(0, offsets);
    return;
  }
  const rowLength = shape[rank - 1];
  const index = new Array<number>(rank - 1).fill(0);
  for (let out = 0; out < total; out += rowLength) {
    row(out, offsets);
    for (let d = rank - 2; d >= 0; d--) {
      index[d]++;
      for (let k = 0; k < strides.length; k++) offsets[k] += strides[k][d];
      if (index[d] < shape[d]) break;
      index[d] = 0;
      for (let k = 0; k < strides.length; k++) offsets[k] -= strides[k][d] * shape[d];
    }
  }
}

/**
 * The same walk over fewer, longer axes: axis d joins d + 1 when, for every operand, stepping d is the same as running
 * through all of d + 1 (strides[d] = strides[d + 1]·shape[d + 1]); a contiguous output always joins. E.g. a channel
 * slice of (N, C, H, W) is N runs of c·H·W floats, and a bias (N, C, 1, 1) added to (N, C, H, W) rows of H·W.
 */
export function mergeAxes(shape: readonly number[], strides: readonly (readonly number[])[]): [number[], number[][]] {
  const last = shape.length - 1;
  if (last < 0) return [[], strides.map(() => [])];
  const dims = [shape[last]];
  const steps = strides.map((s) => [s[last]]);
  for (let d = last - 1; d >= 0; d--) {
    if (strides.every((s, k) => s[d] === steps[k][0] * dims[0])) dims[0] *= shape[d];
    else {
      dims.unshift(shape[d]);
      steps.forEach((s, k) => s.unshift(strides[k][d]));
    }
  }
  return [dims, steps];
}
