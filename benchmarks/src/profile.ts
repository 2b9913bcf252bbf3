// Where a training step's time goes, by category: each method of the active backend is wrapped in a timer for the
// profiled steps (the kernels and their dispatch below the op API), and what is left of the step's wall time is the
// JavaScript above them — the autograd graph, the ops' checks, allocation bookkeeping — less the host-side data draws,
// timed apart. On a multi-threaded backend a kernel's time includes waiting for its worker.
import * as T from '@rill/tensor';

/** The categories a step's time is split into, in the order they are printed. */
export const CATEGORIES = ['matmul', 'fused linear', 'elementwise', 'reductions', 'Adam', 'layout', 'uploads and reads', 'frees', 'host-side data', 'graph, checks and dispatch (JS)'] as const;
/** One of CATEGORIES. */
export type Category = (typeof CATEGORIES)[number];

/** The backend methods of each category (those a backend lacks are skipped). */
const METHODS: Partial<Record<Category, string[]>> = {
  matmul: ['matmul', 'linearBackwardProducts'], // a layer's backward products (dz·Wᵀ, xᵀ·dz) are matmuls
  'fused linear': ['linear', 'linearBackward'],
  elementwise: ['unary', 'unaryGrad', 'binary', 'where', 'cast', 'weightedSum'],
  reductions: ['reduce', 'argReduce'],
  Adam: ['fusedUpdate'],
  layout: ['transpose', 'broadcastTo', 'slice', 'concat', 'gather', 'scatterAdd'],
  'uploads and reads': ['fromArray', 'read'],
  frees: ['dispose'],
};

/**
 * Milliseconds per step in each category over `steps` calls of `step` on the active backend; `data` draws one step's
 * host-side data (timed as often, outside the step, and taken out of the JavaScript remainder).
 */
export function profileStep(step: () => void, data: () => void, steps: number): Record<Category, number> {
  const backend = T.getBackend() as unknown as Record<string, unknown>;
  const spent = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  const originals: [string, unknown][] = [];
  let depth = 0; // a kernel that calls another method of the backend is counted once, in the outer category
  for (const [category, names] of Object.entries(METHODS) as [Category, string[]][]) {
    for (const name of names) {
      const fn = backend[name];
      if (typeof fn !== 'function') continue;
      originals.push([name, fn]);
      backend[name] = (...args: unknown[]) => {
        if (depth > 0) return fn.apply(backend, args);
        depth++;
        const start = performance.now();
        try {
          return fn.apply(backend, args);
        } finally {
          spent[category] += performance.now() - start;
          depth--;
        }
      };
    }
  }
  let total = 0;
  try {
    step(); // once untimed: the first step compiles and allocates
    for (const c of CATEGORIES) spent[c] = 0;
    const start = performance.now();
    for (let i = 0; i < steps; i++) step();
    total = performance.now() - start;
  } finally {
    for (const [name, fn] of originals) backend[name] = fn;
  }
  const dataStart = performance.now();
  for (let i = 0; i < steps; i++) T.tidy(data);
  spent['host-side data'] = performance.now() - dataStart;
  const kernels = CATEGORIES.reduce((s, c) => s + spent[c], 0);
  spent['graph, checks and dispatch (JS)'] = Math.max(0, total - kernels);
  for (const c of CATEGORIES) spent[c] /= steps;
  return spent;
}
