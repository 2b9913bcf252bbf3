// A few tensor results, then the matmul GFLOP/s of the two JavaScript kernels (reference and blocked).
import * as T from '@rill/tensor';

/** Nested values with float32 noise trimmed to 6 significant digits for display. */
const round = (v) => (Array.isArray(v) ? v.map(round) : Number(v.toPrecision(6)));
const show = (label, t) => console.log(`${label.padEnd(34)} ${JSON.stringify(round(t.toArray()))}  shape=[${t.shape}]`);

console.log(`Rill @rill/tensor demo — backend: ${T.getBackend().name}\n`);
const a = T.tensor([[1, 2, 3], [4, 5, 6]]);
const b = T.tensor([10, 20, 30]);
show('a', a);
show('a + [10, 20, 30]  (broadcast)', T.add(a, b));
show('a @ aᵀ  (transB, read in place)', T.matmul(a, a, { transB: true }));
show('sum(a, axis 0)', T.sum(a, 0));
show('var(a, axis 1)', T.var(a, 1));
show('argmax(a, axis 1)', T.argmax(a, 1));
show('selu(a - 3)', T.selu(T.sub(a, 3)));
show('randn([4]) with seed 7', T.randn([4], { generator: new T.Generator(7) }));

/** Best-of-`reps` seconds for one call of fn, after a warm-up. */
function time(fn, reps) {
  for (let i = 0; i < 3; i++) fn();
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

const n = 256;
const g = new T.Generator(1);
const x = T.rand([n, n], { generator: g });
const y = T.rand([n, n], { generator: g });
const flops = 2 * n * n * n;
console.log(`\nfloat32 matmul ${n}×${n}×${n}, one thread (best of 10):`);
for (const backend of ['js-reference', 'js']) {
  T.setBackend(backend);
  const s = time(() => T.matmul(x, y), 10);
  const kernel = backend === 'js' ? 'matmulBlocked (4×8 register tile)' : 'matmulReference (triple loop)';
  console.log(`  ${kernel.padEnd(36)} ${(flops / s / 1e9).toFixed(2)} GFLOP/s  (${(s * 1000).toFixed(1)} ms)`);
}
console.log('\nFull benchmarks: pnpm bench (see README).');
