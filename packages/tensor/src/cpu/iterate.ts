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
