// Exact linear assignment (min-cost perfect matching) by shortest augmenting paths, for OT couplings and W2.
import { ValueError } from '@rill/tensor';

/**
 * Solves min over permutations π of Σᵢ cost[i, π(i)] for an n×n cost matrix (row-major), returning π as
 * `colForRow` (row i is matched to column colForRow[i]).
 *
 * Shortest augmenting path with dual potentials u (rows), v (columns) — the Jonker–Volgenant family, in the form
 * SciPy's `linear_sum_assignment` uses. Reference: D. F. Crouse, "On implementing 2D rectangular assignment
 * algorithms", IEEE Trans. Aerospace and Electronic Systems 52(4), 2016, Algorithm 1.
 * Each of the n rows is added by a Dijkstra search over reduced costs c[i,j] − u[i] − v[j] ≥ 0 for the nearest free
 * column, then the matching is flipped along that path and the duals updated so reduced costs stay non-negative.
 * O(n³) in the worst case; on random point clouds much less (n = 2000 takes a few seconds in plain JavaScript).
 */
export function linearSumAssignment(cost: ArrayLike<number>, n: number): Int32Array {
  if (!Number.isInteger(n) || n < 0) throw new ValueError('linearSumAssignment', `n must be a non-negative integer, got ${n}`);
  if (cost.length !== n * n) throw new ValueError('linearSumAssignment', `cost has ${cost.length} entries, expected ${n}×${n}`);
  for (let k = 0; k < cost.length; k++) {
    // +∞ marks a forbidden pair (as in SciPy); NaN and −∞ have no meaning as costs.
    if (Number.isNaN(cost[k]) || cost[k] === -Infinity) throw new ValueError('linearSumAssignment', `cost[${Math.floor(k / n)}, ${k % n}] is ${cost[k]}`);
  }
  const u = new Float64Array(n);
  const v = new Float64Array(n);
  const colForRow = new Int32Array(n).fill(-1);
  const rowForCol = new Int32Array(n).fill(-1);
  const shortest = new Float64Array(n); // shortest[j]: length of the best path found so far to column j
  const path = new Int32Array(n); // path[j]: the row from which column j was reached
  const remaining = new Int32Array(n); // columns not yet scanned in this search
  const rowSeen = new Uint8Array(n);
  const colSeen = new Uint8Array(n);

  for (let start = 0; start < n; start++) {
    shortest.fill(Infinity);
    rowSeen.fill(0);
    colSeen.fill(0);
    for (let j = 0; j < n; j++) remaining[j] = n - 1 - j;
    let numRemaining = n;
    let minVal = 0;
    let i = start;
    let sink = -1;
    // Dijkstra from row `start` until a free column is reached.
    while (sink === -1) {
      rowSeen[i] = 1;
      let best = -1;
      let lowest = Infinity;
      const ui = u[i];
      const row = i * n;
      for (let it = 0; it < numRemaining; it++) {
        const j = remaining[it];
        const r = minVal + cost[row + j] - ui - v[j];
        if (r < shortest[j]) {
          path[j] = i;
          shortest[j] = r;
        }
        // Prefer a free column on ties: it ends the search sooner.
        if (shortest[j] < lowest || (shortest[j] === lowest && rowForCol[j] === -1)) {
          lowest = shortest[j];
          best = it;
        }
      }
      minVal = lowest;
      if (minVal === Infinity) throw new ValueError('linearSumAssignment', 'no assignment with a finite cost exists (too many +∞ entries)');
      const j = remaining[best];
      colSeen[j] = 1;
      remaining[best] = remaining[--numRemaining];
      if (rowForCol[j] === -1) sink = j;
      else i = rowForCol[j];
    }
    // Update the duals so that every reduced cost stays ≥ 0 and matched edges stay at 0.
    u[start] += minVal;
    for (let r = 0; r < n; r++) if (rowSeen[r] && r !== start) u[r] += minVal - shortest[colForRow[r]];
    for (let j = 0; j < n; j++) if (colSeen[j]) v[j] -= minVal - shortest[j];
    // Flip the matching along the augmenting path, from the free column back to `start`.
    for (let j = sink; ; ) {
      const r = path[j];
      rowForCol[j] = r;
      const next = colForRow[r];
      colForRow[r] = j;
      j = next;
      if (r === start) break;
    }
  }
  return colForRow;
}
