// End to end: a 2-layer MLP's parameter gradients against hand-written backpropagation loops, and against gradcheck;
// and a 10 000-iteration training loop whose heap and live-tensor count stay flat.
import { describe, expect, it } from 'vitest';
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import { expectClose } from '../helpers/close.js';
import { randomValues, testRandom } from '../helpers/reference.js';

const [B, D, H, O] = [5, 3, 4, 2];
const rng = testRandom(21);
const data = {
  x: randomValues(rng, B * D),
  y: randomValues(rng, B * O),
  w1: randomValues(rng, D * H, -1, 1),
  b1: randomValues(rng, H, -0.5, 0.5),
  w2: randomValues(rng, H * O, -1, 1),
  b2: randomValues(rng, O, -0.5, 0.5),
};

/** loss = mean((tanh(x·W1 + b1)·W2 + b2 − y)²) through the engine. */
const loss = (w1: A.Var, b1: A.Var, w2: A.Var, b2: A.Var) => {
  const x = T.tensor(data.x, { shape: [B, D], dtype: w1.dtype });
  const y = T.tensor(data.y, { shape: [B, O], dtype: w1.dtype });
  return A.mse(A.linear(A.tanh(A.linear(x, w1, b1)), w2, b2), y);
};

/** The same network's gradients by hand: plain float64 loops, backpropagation written out (llm.c style). */
function manualGradients() {
  const { x, y, w1, b1, w2, b2 } = data;
  const h = new Float64Array(B * H); // h = tanh(x·W1 + b1): (B, H)
  for (let i = 0; i < B; i++)
    for (let j = 0; j < H; j++) {
      let s = b1[j];
      for (let k = 0; k < D; k++) s += x[i * D + k] * w1[k * H + j];
      h[i * H + j] = Math.tanh(s);
    }
  const dout = new Float64Array(B * O); // ∂L/∂out = 2(out − y)/(B·O): (B, O)
  for (let i = 0; i < B; i++)
    for (let j = 0; j < O; j++) {
      let s = b2[j];
      for (let k = 0; k < H; k++) s += h[i * H + k] * w2[k * O + j];
      dout[i * O + j] = (2 * (s - y[i * O + j])) / (B * O);
    }
  const gw2 = new Float64Array(H * O); // hᵀ·dout
  const gb2 = new Float64Array(O); // Σ_rows dout
  const dpre = new Float64Array(B * H); // (dout·W2ᵀ) ⊙ (1 − h²)
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < O; j++) {
      gb2[j] += dout[i * O + j];
      for (let k = 0; k < H; k++) gw2[k * O + j] += h[i * H + k] * dout[i * O + j];
    }
    for (let k = 0; k < H; k++) {
      let s = 0;
      for (let j = 0; j < O; j++) s += dout[i * O + j] * w2[k * O + j];
      dpre[i * H + k] = s * (1 - h[i * H + k] ** 2);
    }
  }
  const gw1 = new Float64Array(D * H); // xᵀ·dpre
  const gb1 = new Float64Array(H);
  for (let i = 0; i < B; i++)
    for (let k = 0; k < H; k++) {
      gb1[k] += dpre[i * H + k];
      for (let d = 0; d < D; d++) gw1[d * H + k] += x[i * D + d] * dpre[i * H + k];
    }
  return [gw1, gb1, gw2, gb2];
}

describe('a 2-layer MLP end to end', () => {
  const params = (dtype: T.DType) => [
    T.tensor(data.w1, { shape: [D, H], dtype }),
    T.tensor(data.b1, { shape: [H], dtype }),
    T.tensor(data.w2, { shape: [H, O], dtype }),
    T.tensor(data.b2, { shape: [O], dtype }),
  ];

  it('parameter gradients equal hand-written backpropagation (float64 to 1e-12, float32 to 1e-4)', () => {
    const ref = manualGradients();
    const g64 = A.grad(loss)(...params('float64'));
    g64.forEach((g, i) => expectClose(g.data, ref[i], { rtol: 1e-12, atol: 1e-14 }));
    const g32 = A.grad(loss)(...params('float32'));
    g32.forEach((g, i) => expectClose(g.data, ref[i], { rtol: 1e-4, atol: 1e-6 }));
  });

  it('passes gradcheck over all 4 parameter tensors at once', () => {
    expect(A.gradcheck(loss, params('float64'), { name: 'mlp' }).ok).toBe(true);
  });
});

describe('memory over a long training loop', () => {
  it('10 000 forward+backward+SGD iterations: live tensors constant, heap flat after GC', () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'vitest.config.ts passes --expose-gc').toBeTypeOf('function');
    const g = new T.Generator(4);
    const x = T.randn([16, 3], { generator: g });
    const y = T.randn([16, 2], { generator: g });
    let w1 = new A.Var(T.keep(T.mul(T.randn([3, 32], { generator: g }), 0.5)), { requiresGrad: true });
    let w2 = new A.Var(T.keep(T.mul(T.randn([32, 2], { generator: g }), 0.2)), { requiresGrad: true });
    const heap: number[] = [];
    const live: number[] = [];
    let first = 0;
    let last = 0;
    for (let step = 1; step <= 10_000; step++) {
      const next = T.tidy(() => {
        const l = A.mse(A.matmul(A.silu(A.matmul(x, w1)), w2), y);
        l.backward();
        if (step === 1) first = l.value.item();
        last = l.value.item();
        return [T.sub(w1.value, T.mul(w1.grad!, 0.05)), T.sub(w2.value, T.mul(w2.grad!, 0.05))];
      });
      w1.zeroGrad();
      w2.zeroGrad();
      w1.value.dispose();
      w2.value.dispose();
      w1 = new A.Var(next[0], { requiresGrad: true });
      w2 = new A.Var(next[1], { requiresGrad: true });
      if (step % 1000 === 0) {
        gc!();
        heap.push(process.memoryUsage().heapUsed);
        live.push(T.memory().numTensors);
      }
    }
    console.log(`heapUsed after GC every 1000 steps (MB): ${heap.map((h) => (h / 2 ** 20).toFixed(1)).join(" ")}`);
    expect(last).toBeLessThan(first); // it did train
    expect(new Set(live).size).toBe(1);
    // Generous bound: after warm-up, the heap may wobble by a few MB but must not grow with the step count.
    expect(Math.max(...heap.slice(1)) - heap[1]).toBeLessThan(8 * 1024 * 1024);
  });
});
