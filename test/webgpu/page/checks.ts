// Runs in chromium: each check computes ops on the webgpu backend and the same ops in float64 on the js backend (the
// independent reference), and returns both; test/webgpu/webgpu.test.ts compares them. Inputs come from the tests'
// own seeded PRNG (test/helpers/reference.ts), never from the library's generator.
import * as A from '@rill/autograd';
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';
import { initWebGpu, webgpuBufferCount } from '@rill/tensor/webgpu';
import { randomValues, testRandom } from '../../helpers/reference.js';

/** A result and its reference, with the tolerance it is held to. */
export interface Pair {
  label: string;
  got: number[];
  want: number[];
  rtol: number;
  atol: number;
}

const f32 = (values: number[]) => Float32Array.from(values);
const f64 = (values: number[]) => Float64Array.from(values);

/** Runs fn on webgpu, reads every returned tensor back asynchronously, and restores the js backend. */
async function onWebGpu(fn: () => T.Tensor[]): Promise<number[][]> {
  T.setBackend('webgpu');
  try {
    const outs = fn();
    const values = await Promise.all(outs.map((t) => t.dataAsync()));
    T.dispose(outs);
    return values.map((v) => Array.from(v));
  } finally {
    T.setBackend('js');
  }
}

/** fn on float64 inputs on the js backend: the reference. */
function reference(fn: () => T.Tensor[]): number[][] {
  T.setBackend('js');
  return T.tidy(() => fn().map((t) => Array.from(t.data)));
}

// sin and cos inside [−π, π], where WGSL bounds their error (absolute, 2⁻¹¹: the spec's floating-point accuracy table)
const DOMAIN: Partial<Record<T.UnaryOp, [number, number]>> = { log: [0.1, 4], sqrt: [0.1, 4], sin: [-3, 3], cos: [-3, 3] };
const PARAMS: Partial<Record<T.UnaryOp, number[]>> = { leakyRelu: [0.2], elu: [0.7], clip: [-0.5, 0.7] };

const checks = {
  info: () => initWebGpu({ require: true }),

  /** Every activation and its derivative on odd sizes. */
  async unary(): Promise<Pair[]> {
    const pairs: Pair[] = [];
    for (const op of T.UNARY_OPS) {
      for (const n of [1, 3, 17, 65, 257]) {
        const [lo, hi] = DOMAIN[op] ?? [-4, 4];
        const xs = randomValues(testRandom(n), n, lo, hi);
        const dys = randomValues(testRandom(n + 1), n);
        const p = PARAMS[op] ?? [];
        const [y, g] = await onWebGpu(() => {
          const x = T.tensor(f32(xs));
          const yy = T.unary(op, x, ...p);
          return [yy, T.unaryGrad(op, x, yy, T.tensor(f32(dys)), ...p)];
        });
        const [ry, rg] = reference(() => {
          const x = T.tensor(f64(xs));
          const yy = T.unary(op, x, ...p);
          return [yy, T.unaryGrad(op, x, yy, T.tensor(f64(dys)), ...p)];
        });
        const trig = op === 'sin' || op === 'cos';
        pairs.push({ label: `${op} (n = ${n})`, got: y, want: ry, rtol: 1e-4, atol: trig ? 2 ** -11 : 2e-6 });
        pairs.push({ label: `${op} gradient (n = ${n})`, got: g, want: rg, rtol: 1e-4, atol: trig ? 2 ** -10 : 2e-5 });
      }
    }
    return pairs;
  },

  /** Every binary op with broadcasting both ways, int32 division, and where. */
  async binary(): Promise<Pair[]> {
    const pairs: Pair[] = [];
    const shapes: [number[], number[]][] = [[[3, 1, 5], [4, 1]], [[7], []], [[2, 3], [2, 3]]];
    for (const op of T.BINARY_OPS) {
      for (const [sa, sb] of shapes) {
        const na = sa.reduce((a, b) => a * b, 1);
        const nb = sb.reduce((a, b) => a * b, 1);
        // pow: positive bases (negative ones are checked below); comparisons: values on a coarse grid, so ties occur
        const grid = ['gt', 'lt', 'ge', 'le', 'eq'].includes(op);
        const a = randomValues(testRandom(na + 5), na, op === 'pow' ? 0.1 : -2, 2).map((v) => (grid ? Math.round(v) : v));
        const b = randomValues(testRandom(nb + 9), nb, op === 'pow' ? -2 : op === 'div' ? 0.5 : -2, 2).map((v) => (grid ? Math.round(v) : v));
        const [got] = await onWebGpu(() => [T.binary(op, T.tensor(f32(a), { shape: sa }), T.tensor(f32(b), { shape: sb }))]);
        const [want] = reference(() => [T.binary(op, T.tensor(f64(a), { shape: sa }), T.tensor(f64(b), { shape: sb }))]);
        pairs.push({ label: `${op} [${sa}] with [${sb}]`, got, want, rtol: 1e-5, atol: 1e-6 });
      }
    }
    const [negPow, intAdd, where] = await onWebGpu(() => [
      T.pow(T.tensor(f32([-2, -2, -3, 0, 0, 0])), T.tensor(f32([2, 3, -1, 0, 2, -1]))),
      T.add(T.tensor([7, -7, 16_000_000, 1], { dtype: 'int32' }), T.tensor([2, 2, 777_215, -3], { dtype: 'int32' })),
      T.where(T.tensor(f32([1, 0, 1, 0]), { shape: [4, 1] }), T.tensor(f32([1, 2, 3]), { shape: [1, 3] }), T.tensor(f32([-1]))),
    ]);
    pairs.push({ label: 'pow with negative bases and zeros', got: negPow, want: [4, -8, -1 / 3, 1, 0, Infinity], rtol: 1e-6, atol: 0 });
    pairs.push({ label: 'int32 addition (exact below 2²⁴)', got: intAdd, want: [9, -5, 16_777_215, -2], rtol: 0, atol: 0 });
    pairs.push({ label: 'where, broadcast', got: where, want: [1, 2, 3, -1, -1, -1, 1, 2, 3, -1, -1, -1], rtol: 0, atol: 0 });
    return pairs;
  },

  /** matmul for every transpose flag on odd sizes, batched and broadcast, and K = 300 (many tiles of K). */
  async matmul(): Promise<Pair[]> {
    const pairs: Pair[] = [];
    const sizes = [[1, 1, 1], [3, 17, 5], [65, 33, 17], [40, 300, 70]];
    for (const [m, k, n] of sizes) {
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
        const a = randomValues(testRandom(m * k), m * k);
        const b = randomValues(testRandom(k * n + 1), k * n);
        const [sa, sb] = [ta ? [k, m] : [m, k], tb ? [n, k] : [k, n]];
        const opts = { transA: ta, transB: tb };
        const [got] = await onWebGpu(() => [T.matmul(T.tensor(f32(a), { shape: sa }), T.tensor(f32(b), { shape: sb }), opts)]);
        const [want] = reference(() => [T.matmul(T.tensor(f64(a), { shape: sa }), T.tensor(f64(b), { shape: sb }), opts)]);
        pairs.push({ label: `matmul ${m}×${k}×${n} transA ${ta} transB ${tb}`, got, want, rtol: 1e-4, atol: 1e-5 * Math.sqrt(k) * 4 });
      }
    }
    const a = randomValues(testRandom(3), 2 * 5 * 6);
    const b = randomValues(testRandom(4), 6 * 7);
    const b2 = randomValues(testRandom(5), 2 * 6 * 7);
    const [broadcast, batched] = await onWebGpu(() => [
      T.matmul(T.tensor(f32(a), { shape: [2, 5, 6] }), T.tensor(f32(b), { shape: [6, 7] })),
      T.matmul(T.tensor(f32(a), { shape: [2, 5, 6] }), T.tensor(f32(b2), { shape: [2, 6, 7] })),
    ]);
    const [rb, rbb] = reference(() => [
      T.matmul(T.tensor(f64(a), { shape: [2, 5, 6] }), T.tensor(f64(b), { shape: [6, 7] })),
      T.matmul(T.tensor(f64(a), { shape: [2, 5, 6] }), T.tensor(f64(b2), { shape: [2, 6, 7] })),
    ]);
    pairs.push({ label: 'batched matmul, B broadcast', got: broadcast, want: rb, rtol: 1e-5, atol: 1e-5 });
    pairs.push({ label: 'batched matmul', got: batched, want: rbb, rtol: 1e-5, atol: 1e-5 });
    return pairs;
  },

  /** Reductions, arg-reductions and every shape op. */
  async shapes(): Promise<Pair[]> {
    const xs = randomValues(testRandom(11), 5 * 6 * 7);
    const idxValues = Array.from({ length: 30 }, (_, i) => (i * 7) % 5);
    const ops = (x: T.Tensor): T.Tensor[] => [
      T.sum(x, 0), T.sum(x, [0, 2]), T.sum(x), T.max(x, 1), T.min(x, [1, 2]), T.mean(x, -1),
      T.cast(T.argmax(x, 0), x.dtype), T.cast(T.argmin(x, 2), x.dtype),
      T.transpose(x, [2, 0, 1]), T.slice(x, [1, 2, 3], [4, 4, 7]), T.broadcastTo(T.slice(x, [0, 0, 0], [1, 6, 1]), [4, 6, 3]),
      T.concat([T.slice(x, [0, 0, 0], [5, 2, 7]), T.slice(x, [0, 3, 0], [5, 4, 7]), T.slice(x, [0, 0, 0], [5, 3, 7])], 1),
      T.gather(x, T.tensor(idxValues.slice(0, 5), { dtype: 'int32' })),
      T.scatterAdd(T.reshape(x, [30, 7]), T.tensor(idxValues, { dtype: 'int32' }), 9),
      T.cast(T.mul(x, 10), 'int32'),
    ];
    const got = await onWebGpu(() => ops(T.tensor(f32(xs), { shape: [5, 6, 7] })));
    const want = reference(() => ops(T.tensor(f64(xs), { shape: [5, 6, 7] })));
    const labels = ['sum axis 0', 'sum axes 0, 2', 'sum all', 'max axis 1', 'min axes 1, 2', 'mean axis -1', 'argmax axis 0', 'argmin axis 2', 'transpose', 'slice', 'broadcastTo', 'concat of three', 'gather', 'scatterAdd', 'cast to int32'];
    return got.map((g, i) => ({ label: labels[i], got: g, want: want[i], rtol: 1e-5, atol: 1e-5 }));
  },

  /** The fused linear layer (tiled matmul with a bias-and-activation epilogue) against float64, with and without bias. */
  async linear(): Promise<Pair[]> {
    const [x, w, b] = [randomValues(testRandom(50), 37 * 19), randomValues(testRandom(51), 19 * 23), randomValues(testRandom(52), 23)];
    const pairs: Pair[] = [];
    for (const activation of [null, 'selu', 'relu', 'tanh', 'sigmoid', 'silu', 'gelu'] as const) {
      for (const bias of [true, false]) {
        const run = (c: (v: number[]) => Float32Array | Float64Array) => () => {
          const out = T.linearForward(T.tensor(c(x), { shape: [37, 19] }), T.tensor(c(w), { shape: [19, 23] }), bias ? T.tensor(c(b)) : null, activation);
          return [out.z, out.y];
        };
        const [z, y] = await onWebGpu(run(f32));
        const [rz, ry] = reference(run(f64));
        const label = `linear ${activation ?? 'none'}${bias ? ' + bias' : ''}`;
        pairs.push({ label: `${label}: z`, got: z, want: rz, rtol: 1e-4, atol: 1e-5 }, { label: `${label}: y`, got: y, want: ry, rtol: 1e-4, atol: 1e-5 });
      }
    }
    return pairs;
  },

  /** conv2d (with bias) and both gradients, direct WGSL kernels, against float64 (im2col + matmul on js): strides, padding, 1×1. */
  async conv(): Promise<Pair[]> {
    const pairs: Pair[] = [];
    for (const [xs, ws, stride, padding] of [[[2, 3, 9, 7], [8, 3, 3, 3], 1, 1], [[3, 4, 8, 8], [5, 4, 3, 3], 2, 1], [[2, 8, 5, 6], [4, 8, 1, 1], 1, 0], [[1, 2, 7, 7], [3, 2, 3, 3], 2, 0]] as [number[], number[], number, number][]) {
      const r = testRandom(xs[2] * 13 + ws[0]);
      const [x, w, b] = [randomValues(r, xs.reduce((p, q) => p * q)), randomValues(r, ws.reduce((p, q) => p * q)), randomValues(r, ws[0])];
      const d = T.convDims('check', xs, ws, { stride, padding });
      const dy = randomValues(r, d.n * d.co * d.ho * d.wo);
      const run = (c: (v: number[]) => Float32Array | Float64Array) => () => {
        const [tx, tw, tg] = [T.tensor(c(x), { shape: xs }), T.tensor(c(w), { shape: ws }), T.tensor(c(dy), { shape: [d.n, d.co, d.ho, d.wo] })];
        const o = { stride, padding };
        return [T.conv2d(tx, tw, T.tensor(c(b)), o), T.conv2dInputGrad(tg, tw, xs, o), T.conv2dWeightGrad(tx, tg, ws, o)];
      };
      const got = await onWebGpu(run(f32));
      const want = reference(run(f64));
      ['y', 'dx', 'dw'].forEach((name, k) => pairs.push({ label: `conv2d x [${xs}] w [${ws}] stride ${stride} padding ${padding}: ${name}`, got: got[k], want: want[k], rtol: 1e-4, atol: 1e-4 }));
    }
    return pairs;
  },

  /** A small conditional U-Net on webgpu (convolutions, group norm, upsampling, the class embedding): velocity and gradients. */
  async unet(): Promise<Pair[]> {
    // one set of weights: drawn in float64, rounded to float32 for the webgpu run
    T.setBackend('js');
    const weights = F.stateDict(new F.UNet({ channels: 4, classes: 3, size: 8 }, { generator: new T.Generator(9), dtype: 'float64' }));
    const values = Object.fromEntries(Object.entries(weights).map(([name, t]) => [name, { data: Array.from(t.data), shape: t.shape as number[] }]));
    const run = (dtype: 'float32' | 'float64') => () => {
      const net = new F.UNet({ channels: 4, classes: 3, size: 8 }, { generator: new T.Generator(0), dtype });
      F.loadStateDict(net, Object.fromEntries(Object.entries(values).map(([name, v]) => [name, T.tensor(v.data, { shape: v.shape, dtype })])));
      const x = T.cast(T.tensor(randomValues(testRandom(61), 3 * 64), { shape: [3, 64] }), dtype);
      const v = net.forward(x, T.cast(T.tensor([[0.2], [0.5], [0.9]]), dtype), [0, 1, 3]);
      A.mse(v, x).backward();
      return [v.value, ...net.parameters().map((p) => p.grad!)];
    };
    const got = await onWebGpu(run('float32'));
    const want = reference(run('float64'));
    return [{ label: 'U-Net velocity', got: got[0], want: want[0], rtol: 1e-3, atol: 1e-4 }, { label: 'U-Net gradients', got: got.slice(1).flat(), want: want.slice(1).flat(), rtol: 2e-3, atol: 2e-4 }];
  },

  /** The fused Adam kernel (one pass writing θ, m, v) against the composite in float64, with L2 and decoupled decay. */
  async adam(): Promise<Pair[]> {
    const n = 1000;
    const [theta, grad, m] = [1, 2, 3].map((seed) => randomValues(testRandom(seed + 40), n));
    const v = randomValues(testRandom(44), n, 0, 0.5);
    const pairs: Pair[] = [];
    for (const decoupled of [false, true]) {
      const hyper = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 3, weightDecay: 0.05, decoupled };
      const run = (x: (v: number[]) => Float32Array | Float64Array) => () => {
        const r = T.adamUpdate(T.tensor(x(theta)), T.tensor(x(grad)), T.tensor(x(m)), T.tensor(x(v)), hyper);
        return [r.param, r.m, r.v];
      };
      const got = await onWebGpu(run(f32));
      const want = reference(run(f64));
      ['θ', 'm', 'v'].forEach((name, k) => pairs.push({ label: `adam ${name} (${decoupled ? 'AdamW' : 'L2'})`, got: got[k], want: want[k], rtol: 1e-5, atol: 1e-7 }));
    }
    return pairs;
  },

  /** Larger than one workgroup row and one tile: a 300×300 add, a 256³ matmul, a sum of 40 000 elements. */
  async large(): Promise<Pair[]> {
    const a = randomValues(testRandom(21), 300 * 300);
    const b = randomValues(testRandom(22), 256 * 256);
    const c = randomValues(testRandom(23), 256 * 256);
    const d = randomValues(testRandom(24), 40_000);
    const run = (x: (v: number[]) => Float32Array | Float64Array) => (): T.Tensor[] => [
      T.add(T.tensor(x(a), { shape: [300, 300] }), T.tensor(x(a.slice(0, 300)))),
      T.matmul(T.tensor(x(b), { shape: [256, 256] }), T.tensor(x(c), { shape: [256, 256] })),
      T.sum(T.tensor(x(d))),
    ];
    const got = await onWebGpu(run(f32));
    const want = reference(run(f64));
    return [
      { label: '300×300 add with a broadcast row', got: got[0], want: want[0], rtol: 1e-6, atol: 1e-6 },
      { label: '256³ matmul', got: got[1], want: want[1], rtol: 1e-4, atol: 2e-4 },
      { label: 'sum of 40 000', got: got[2], want: want[2], rtol: 1e-4, atol: 1e-3 },
    ];
  },

  /** Device residency, the asynchronous read rule, prefetch, and buffers freed by dispose and tidy. */
  async residency() {
    T.setBackend('webgpu');
    try {
      const before = webgpuBufferCount();
      const x = T.tensor([1, 2, 3]);
      const y = T.mul(x, 2);
      const device = y.device;
      const uploadRead = Array.from(x.data); // an upload keeps its host copy
      let syncError = '';
      try {
        void y.data;
      } catch (e) {
        syncError = (e as Error).message;
      }
      await T.prefetch([y]);
      const afterPrefetch = Array.from(y.data);
      const moved = T.add(y, 1); // made on webgpu
      await T.prefetch([moved]);
      T.setBackend('js');
      const onCpu = Array.from(T.mul(moved, 1).data); // moved to the CPU synchronously after the prefetch
      T.setBackend('webgpu');
      T.tidy(() => {
        T.sum(T.exp(T.tensor([1, 2]))); // intermediates and result freed by tidy
      });
      T.dispose([x, y, moved]);
      return { device, uploadRead, syncError, afterPrefetch, onCpu, leaked: webgpuBufferCount() - before };
    } finally {
      T.setBackend('js');
    }
  },

  /** 30 training steps on webgpu (trainStepAsync) and on the CPU (trainStep): the losses; buffers across 100 more steps. */
  async training(config: Partial<F.TrainConfig>) {
    T.setBackend('js');
    const cpu = new F.Trainer(config);
    for (let i = 0; i < 30; i++) cpu.trainStep();
    T.setBackend('webgpu');
    try {
      const gpu = new F.Trainer(config);
      for (let i = 0; i < 30; i++) await gpu.trainStepAsync();
      const buffersAt30 = webgpuBufferCount();
      await gpu.trainForAsync(0);
      for (let i = 0; i < 99; i++) await gpu.trainStepAsync();
      const buffersAt130 = webgpuBufferCount();
      const saved = F.encodeCheckpoint(await gpu.checkpointAsync());
      return { cpu: cpu.losses, gpu: gpu.losses.slice(0, 30), last: gpu.losses.slice(-20), buffersAt30, buffersAt130, savedBytes: saved.length };
    } finally {
      T.setBackend('js');
    }
  },
};

export type Checks = typeof checks;
(globalThis as unknown as { checks: Checks }).checks = checks;
