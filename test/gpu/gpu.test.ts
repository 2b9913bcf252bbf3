// The gpu.js backend on a real GL context (in CI: Xvfb + Mesa llvmpipe, which runs the GLSL on the CPU): parity with
// the float64 CPU reference, device residency, texture lifetimes, training, and the fallback without GL.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as A from '@rill/autograd';
import * as F from '@rill/flowmatch';
import * as I from '@rill/tensor/internals';
import * as T from '@rill/tensor';
import { gpuTextureCount, initGpu } from '@rill/tensor/gpu';
import { expectClose, matmulAtol } from '../helpers/close.js';
import { matmulRef, opMatrix, randomValues, testRandom, zipRef, BINARY_REF } from '../helpers/reference.js';

// With RILL_REQUIRE_GPU=1 (the README's test command) a missing GL context throws here and fails the file.
const info = await initGpu();
const available = info !== null;
if (info) console.log(`gpu backend: GL renderer '${info.renderer}', version '${info.version}', gpu.js mode '${info.mode}' (software rendering under Xvfb + Mesa llvmpipe)`);

/** Runs fn with the gpu backend active, then restores the CPU. */
function onGpu<R>(fn: () => R): R {
  T.setBackend('gpu');
  try {
    return fn();
  } finally {
    T.setBackend('cpu');
  }
}

const ODD = [1, 3, 17, 65, 257];

/** Trains the same config for `steps` on the CPU and on the GPU; the losses must agree to float32 tolerance. */
function expectSameTraining(config: Partial<F.TrainConfig>, steps: number): void {
  const cpu = new F.Trainer(config);
  for (let i = 0; i < steps; i++) cpu.trainStep();
  const gpu = new F.Trainer(config);
  onGpu(() => {
    for (let i = 0; i < steps; i++) gpu.trainStep();
  });
  expectClose(gpu.losses, cpu.losses, { rtol: 2e-3, atol: 1e-4 });
}

describe.runIf(available)('parity with the CPU float64 reference (rtol 1e-4)', () => {
  const domain: Partial<Record<T.UnaryOp, [number, number]>> = { log: [0.1, 4], sqrt: [0.1, 4] };
  const params: Partial<Record<T.UnaryOp, number[]>> = { leakyRelu: [0.2], elu: [0.7], clip: [-0.5, 0.7] };
  it('every activation and its derivative, on odd sizes', () => {
    for (const op of T.UNARY_OPS) {
      for (const n of ODD) {
        const [lo, hi] = domain[op] ?? [-4, 4];
        const xs = Float32Array.from(randomValues(testRandom(n), n, lo, hi));
        const dys = Float32Array.from(randomValues(testRandom(n + 1), n));
        const p = params[op] ?? [];
        const x64 = T.tensor(Float64Array.from(xs));
        const ref = T.unary(op, x64, ...p).data;
        const refGrad = T.unaryGrad(op, x64, T.unary(op, x64, ...p), T.tensor(Float64Array.from(dys)), ...p).data;
        const [y, g] = onGpu(() => {
          const x = T.tensor(xs);
          const yy = T.unary(op, x, ...p);
          return [yy.data, T.unaryGrad(op, x, yy, T.tensor(dys), ...p).data];
        });
        expectClose(y, ref, { rtol: 1e-4, atol: 2e-6 });
        expectClose(g, refGrad, { rtol: 1e-4, atol: 2e-5 });
      }
    }
  });

  it('every binary op with broadcasting, and where', () => {
    for (const op of T.BINARY_OPS) {
      for (const [sa, sb] of [[[17, 3], [17, 3]], [[3, 1], [1, 65]], [[2, 3, 4], [4]], [[], [5, 3]]] as number[][][]) {
        const rng = testRandom(sa.length * 7 + sb.length);
        const draw = (n: number) => randomValues(rng, n, op === 'pow' ? 0.5 : -3, 3).map((v) => (op === 'div' && Math.abs(v) < 0.2 ? 1 : Math.fround(Math.round(v * 4) / 4)));
        const av = draw(sa.reduce((p, d) => p * d, 1));
        const bv = draw(sb.reduce((p, d) => p * d, 1));
        const ref = zipRef(BINARY_REF[op], av, sa, bv, sb);
        const got = onGpu(() => T.binary(op, T.tensor(av, { shape: sa }), T.tensor(bv, { shape: sb })));
        expect(got.shape).toEqual(ref.shape);
        expectClose(onGpu(() => got.data), ref.data, { rtol: 1e-4, atol: 1e-6 });
      }
    }
    const w = onGpu(() => T.where(T.tensor([[1], [0], [1]]), T.tensor([[1, 2, 3, 4]]), -1).toArray());
    expect(w).toEqual([[1, 2, 3, 4], [-1, -1, -1, -1], [1, 2, 3, 4]]);
  });

  it('matmul with every transpose flag on odd sizes, batched, and K beyond gpu.js’s default loop limit', () => {
    const rng = testRandom(9);
    const cases: [number, number, number][] = [...ODD.map((m, i) => [m, ODD[(i + 1) % 5], ODD[(i + 2) % 5]] as [number, number, number]), [3, 5, 1100]];
    for (const [m, n, k] of cases) {
      for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
        const a = Float32Array.from(randomValues(rng, m * k));
        const b = Float32Array.from(randomValues(rng, k * n));
        const got = onGpu(() => T.matmul(T.tensor(a, { shape: tA ? [k, m] : [m, k] }), T.tensor(b, { shape: tB ? [n, k] : [k, n] }), { transA: tA, transB: tB }).data);
        const atol = matmulAtol(opMatrix(a, m, k, tA), opMatrix(b, k, n, tB), m, n, k);
        expectClose(got, matmulRef(a, b, m, n, k, tA, tB), { rtol: 1e-4, atol });
      }
    }
    const batched = onGpu(() => T.matmul(T.ones([1, 2, 3]), T.reshape(T.arange(24), [4, 3, 2])).shape);
    expect(batched).toEqual([4, 2, 2]);
  });

  it('reductions, arg-reductions and the shape ops agree with the CPU', () => {
    const values = randomValues(testRandom(4), 3 * 17 * 5, -2, 2).map(Math.fround);
    const check = (f: (x: T.Tensor) => T.Tensor) => {
      const cpu = f(T.tensor(values, { shape: [3, 17, 5] }));
      const gpu = onGpu(() => {
        const r = f(T.tensor(values, { shape: [3, 17, 5] }));
        return { shape: r.shape, data: r.data };
      });
      expect(gpu.shape).toEqual(cpu.shape);
      expectClose(gpu.data, cpu.data, { rtol: 1e-4, atol: 1e-5 });
    };
    for (const axis of [undefined, 0, 1, 2, [0, 2]]) {
      check((x) => T.sum(x, axis, true));
      check((x) => T.max(x, axis));
      check((x) => T.min(x, axis));
      check((x) => T.mean(x, axis));
    }
    check((x) => T.argmax(x, 1));
    check((x) => T.argmin(x, 2));
    check((x) => T.transpose(x, [2, 0, 1]));
    check((x) => T.broadcastTo(T.slice(x, [0, 0, 0], [1, 17, 5]), [4, 17, 5]));
    check((x) => T.slice(x, [1, 2, 1], [3, 9, 4]));
    check((x) => T.concat([x, T.mul(x, 2), x], 1));
    check((x) => T.stack([x, x], 0));
    check((x) => T.gather(x, [2, 0, 2]));
    check((x) => T.scatterAdd(x, [1, 1, 0], 4));
    check((x) => T.cast(T.mul(x, 3), 'int32'));
    check((x) => T.reshape(x, [51, 5]));
  });
});

describe.runIf(available)('device residency and lifetimes', () => {
  afterAll(() => T.setBackend('cpu'));

  it('tensors show their device; a training step reads nothing back but its loss', () => {
    const trainer = new F.Trainer({ hidden: [16, 16], batch: 32, seed: 1 });
    T.setBackend('gpu');
    const t = T.zeros([2]);
    expect(t.device).toBe('gpu');
    trainer.trainStep(); // moves the parameters to the GPU on first use
    const backend = T.getBackend();
    const read = backend.read;
    let reads = 0;
    backend.read = (...args) => {
      reads++;
      return read.apply(backend, args);
    };
    try {
      trainer.trainStep();
    } finally {
      backend.read = read;
    }
    expect(reads).toBe(1); // loss.item()
    T.setBackend('cpu');
  });

  it('a 200-step training loop does not grow the number of live textures', () => {
    const trainer = new F.Trainer({ hidden: [16, 16], batch: 32, seed: 2, ema: 0.9 });
    T.setBackend('gpu');
    const counts: number[] = [];
    for (let step = 0; step < 200; step++) {
      trainer.trainStep();
      if (step >= 5) counts.push(gpuTextureCount());
    }
    T.setBackend('cpu');
    expect(Math.max(...counts)).toBe(Math.min(...counts));
  });

  it('.to() copies between devices: to("gpu") uploads, to("cpu") reads back', () => {
    const host = T.tensor([[1, 2], [3, 4]]);
    const dev = host.to('gpu');
    expect([host.device, dev.device]).toEqual(['cpu', 'gpu']);
    const back = T.tidy(() => {
      T.setBackend('gpu');
      const r = T.mul(dev, 2);
      T.setBackend('cpu');
      return r.to('cpu');
    });
    expect(back.device).toBe('cpu');
    expect(back.toArray()).toEqual([[2, 4], [6, 8]]);
    expect(T.tensor([1]).to('js').backend).toBe('js');
  });

  it('dispose and tidy release textures', () => {
    T.setBackend('gpu');
    const before = gpuTextureCount();
    const kept = T.tidy(() => T.add(T.ones([10]), T.ones([10])));
    expect(gpuTextureCount()).toBe(before + 1);
    kept.dispose();
    expect(gpuTextureCount()).toBe(before);
    T.setBackend('cpu');
  });
});

describe.runIf(available)('training on the GPU', () => {
  it('30 steps track the CPU run’s losses within float32 tolerance', () => {
    expectSameTraining({ hidden: [16, 16], batch: 64, seed: 5 }, 30);
  });
});

describe.runIf(available)('image ops on the GPU (im2col on the host + the GPU matmul; group norm as its composite)', () => {
  it('conv2d forward and both gradients, stride 1 and 2, against the float64 direct loops', () => {
    for (const [xs, ws, stride, padding] of [[[2, 3, 9, 7], [8, 3, 3, 3], 1, 1], [[3, 4, 8, 8], [5, 4, 3, 3], 2, 1], [[2, 8, 5, 5], [4, 8, 1, 1], 1, 0]] as [number[], number[], number, number][]) {
      const r = testRandom(xs[3] * 31 + ws[0]);
      const [x, w] = [randomValues(r, xs.reduce((a, b) => a * b)), randomValues(r, ws.reduce((a, b) => a * b))];
      const d = T.convDims('test', xs, ws, { stride, padding });
      const dy = randomValues(r, d.n * d.co * d.ho * d.wo);
      const [y64, dx64, dw64] = [new Float64Array(dy.length), new Float64Array(x.length), new Float64Array(w.length)];
      I.conv2dReference(x, w, null, d, y64);
      I.conv2dInputGradReference(dy, w, d, dx64);
      I.conv2dWeightGradReference(x, dy, d, dw64);
      const got = onGpu(() => {
        const [tx, tw, tg] = [T.tensor(Float32Array.from(x), { shape: xs }), T.tensor(Float32Array.from(w), { shape: ws }), T.tensor(Float32Array.from(dy), { shape: [d.n, d.co, d.ho, d.wo] })];
        const out = [T.conv2d(tx, tw, null, { stride, padding }), T.conv2dInputGrad(tg, tw, xs, { stride, padding }), T.conv2dWeightGrad(tx, tg, ws, { stride, padding })];
        expect(out.every((t) => t.backend === 'gpu')).toBe(true);
        return out.map((t) => Array.from(t.data));
      });
      expectClose(got[0], y64, { rtol: 1e-4, atol: 1e-4 });
      expectClose(got[1], dx64, { rtol: 1e-4, atol: 1e-4 });
      expectClose(got[2], dw64, { rtol: 1e-4, atol: 1e-3 });
    }
  });

  it('a small U-Net: the velocity and the gradients of a CFM loss on the GPU equal the CPU’s to float32 tolerance', () => {
    const run = (backend: string) => {
      T.setBackend(backend);
      try {
        const g = new T.Generator(9);
        const net = new F.UNet({ channels: 4, classes: 3, size: 8 }, { generator: g });
        const x = T.randn([3, 64], { generator: g });
        const v = net.forward(x, T.tensor([[0.2], [0.5], [0.9]]), [0, 1, 3]);
        A.mse(v, x).backward();
        return { v: Array.from(v.value.data), grads: net.parameters().flatMap((p) => Array.from(p.grad!.data)) };
      } finally {
        T.setBackend('cpu');
      }
    };
    const [cpu, gpu] = [run('cpu'), run('gpu')];
    expectClose(gpu.v, cpu.v, { rtol: 1e-3, atol: 1e-4 });
    expectClose(gpu.grads, cpu.grads, { rtol: 2e-3, atol: 1e-4 });
  });
});

describe('without a GL context', () => {
  const script = fileURLToPath(new URL('./no-gl.mjs', import.meta.url));
  const env = { ...process.env, DISPLAY: '' };
  it('initGpu warns once and returns null, and `gpu` then names the CPU; with RILL_REQUIRE_GPU=1 it throws', () => {
    const soft = spawnSync(process.execPath, [script], { encoding: 'utf8', env: { ...env, RILL_REQUIRE_GPU: '' } });
    expect(soft.status, soft.stderr).toBe(0);
    expect(soft.stdout.trim()).toBe('null wasm cpu'); // the fastest CPU backend
    expect(soft.stderr).toMatch(/^rill: the gpu backend is unavailable: .*Using the CPU\.\n$/);
    const hard = spawnSync(process.execPath, [script], { encoding: 'utf8', env: { ...env, RILL_REQUIRE_GPU: '1' } });
    expect(hard.status).toBe(3);
    expect(hard.stdout).toMatch(/^BackendError gpu: no GL context/);
  });
});

describe.runIf(available)('edge cases found in review', () => {
  afterAll(() => T.setBackend('cpu'));
  const cpuAndGpu = (f: () => T.Tensor) => {
    const cpu = f();
    const gpu = onGpu(() => {
      const r = f();
      return { shape: r.shape, data: r.data };
    });
    return { cpu, gpu };
  };

  it('large tensors are right (precision tactic): 40 000 draws, a 300×300 add, a 256³ matmul', () => {
    for (const f of [
      () => T.randn([40000], { generator: new T.Generator(1) }),
      () => T.add(T.randn([300, 300], { generator: new T.Generator(2) }), 1),
      () => T.relu(T.matmul(T.randn([256, 256], { generator: new T.Generator(3) }), T.randn([256, 256], { generator: new T.Generator(4) }))),
    ]) {
      const { cpu, gpu } = cpuAndGpu(f);
      expectClose(gpu.data, cpu.data, { rtol: 1e-4, atol: 1e-3 });
    }
  });

  it('clone (a texture copy) and uploads do not share a kernel: values stay right in any order', () => {
    const out = onGpu(() => {
      const a = T.clone(T.tensor([1, 2, 3]));
      const b = T.tensor([7, 8, 9, 10]);
      const c = T.clone(b);
      return [a.toArray(), c.toArray(), T.tensor([11, 12, 13]).toArray()];
    });
    expect(out).toEqual([[1, 2, 3], [7, 8, 9, 10], [11, 12, 13]]);
  });

  it('empty inputs: sums, K = 0 products, scatterAdd without indices, concat with an empty part — and kernels keep working', () => {
    const got = onGpu(() => [
      T.sum(T.zeros([0, 3])).item(),
      T.sum(T.zeros([0, 3]), 0).toArray(),
      T.matmul(T.zeros([2, 0]), T.zeros([0, 3])).toArray(),
      T.scatterAdd(T.zeros([0, 3]), [], 2).toArray(),
      T.concat([T.ones([1, 2]), T.zeros([0, 2]), T.ones([1, 2])], 0).toArray(),
      T.sum(T.ones([2, 3])).item(),
    ]);
    expect(got).toEqual([0, [0, 0, 0], [[0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0]], [[1, 1], [1, 1]], 6]);
  });

  it('tanh and geluTanh stay finite for large inputs; pow takes negative bases with integer exponents', () => {
    const x = T.tensor([100, -100, 30]);
    const [tanh, gelu, grad] = onGpu(() => [T.tanh(x).toArray(), T.geluTanh(x).toArray(), T.unaryGrad('tanh', x, T.tanh(x), T.ones([3])).toArray()]);
    expect(tanh).toEqual([1, -1, 1]);
    expectClose(gelu as number[], [100, -0, 30], { rtol: 1e-6, atol: 1e-6 });
    expect(grad).toEqual([0, 0, 0]);
    const p = onGpu(() => T.pow(T.tensor([-2, -3, 0, 4]), T.tensor([2, 3, 0, 0.5])).toArray()) as number[];
    expectClose(p, [4, -27, 1, 2], { rtol: 1e-6 });
  });

  it('what the GPU cannot do exactly is refused clearly: int32 cast of NaN, ≥ 2²⁴ elements, loops past 65 535, big int32s', () => {
    onGpu(() => {
      expect(() => T.cast(T.tensor([1, NaN]), 'int32')).toThrow('cast: element 1 of [2] is NaN, which has no int32 value');
      expect(() => T.sum(T.ones([70000]))).toThrow(/sum: the gpu backend handles at most 65535 reduced elements per output element, got 70000/);
      expect(() => T.matmul(T.ones([1, 70000]), T.ones([70000, 1]))).toThrow(/matmul: the gpu backend handles at most 65535 terms/);
      expect(() => T.tensor([2 ** 30], { dtype: 'int32' })).toThrow(/gpu: int32 values beyond ±2²⁴ are not exact/);
      expect(() => T.zeros([2 ** 24 + 8])).toThrow(/gpu: tensors of 2²⁴ = 16777216 elements or more are not supported/);
    });
  });

  it('EMA (which clones weights) trains on the GPU as on the CPU', () => {
    expectSameTraining({ hidden: [16, 16], batch: 64, seed: 6, ema: 0.9 }, 10);
  });
});
