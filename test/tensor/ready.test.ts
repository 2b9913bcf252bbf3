// T.ready: one call starts a backend (the WebAssembly kernels, the threads, a GPU) and says what it found; `cpu` is
// the fastest CPU backend on all cores, the same thing the CLI's --backend cpu starts. And `using` frees tensors.
import { availableParallelism } from 'node:os';
import * as T from '@rill/tensor';
import { afterAll, describe, expect, it, vi } from 'vitest';

afterAll(async () => {
  await T.ready({ backend: 'cpu' });
});

describe('T.ready', () => {
  it("cpu: the wasm backend (WebAssembly SIMD runs here) on every core, and it is what new tensors use", async () => {
    const info = await T.ready();
    expect(info).toEqual({ requested: 'cpu', backend: 'wasm', device: 'cpu', threads: availableParallelism(), simd: true, relaxedSimd: false, gpu: null, fallback: null });
    expect(T.getBackend().name).toBe('wasm');
    expect(T.tensor([1, 2]).backend).toBe('wasm');
  });

  it('js: the plain kernels on one thread; with threads > 1 the same kernels split by rows (js-threads)', async () => {
    expect(await T.ready({ backend: 'js' })).toMatchObject({ backend: 'js', threads: 1 });
    expect(T.getBackend().name).toBe('js');
    expect(await T.ready({ backend: 'js', threads: 2 })).toMatchObject({ backend: 'js-threads', threads: 2 });
    expect(await T.ready({ backend: 'wasm', threads: 3 })).toMatchObject({ backend: 'wasm', threads: 3 }); // the pool resized
    expect(await T.ready({ backend: 'wasm', threads: 1 })).toMatchObject({ backend: 'wasm', threads: 1 }); // and stopped
  });

  it('the backends compute the same product: a 70×90·90×50 matmul on wasm (threads) and js vs float64 loops', async () => {
    const g = new T.Generator(4);
    const a = Array.from({ length: 70 * 90 }, () => g.uniform() - 0.5);
    const b = Array.from({ length: 90 * 50 }, () => g.uniform() - 0.5);
    const want = new Float64Array(70 * 50);
    for (let i = 0; i < 70; i++) for (let j = 0; j < 50; j++) for (let k = 0; k < 90; k++) want[i * 50 + j] += a[i * 90 + k] * b[k * 50 + j];
    for (const backend of ['wasm', 'js'] as const) {
      await T.ready({ backend });
      const c = T.matmul(T.tensor(a, { shape: [70, 90] }), T.tensor(b, { shape: [90, 50] }));
      expect(c.backend).toBe(backend);
      c.data.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(1e-5));
    }
  });

  it("webgpu where there is none (Node): one warning, the CPU runs, and the info says why; require: true throws", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    // in Node, initWebGpu tries Dawn (the optional peer `webgpu`): absent, or its native module needs GLIBCXX 3.4.32
    await expect(T.ready({ backend: 'webgpu', require: true })).rejects.toThrow(/^webgpu: Dawn (is not installed: `npm install webgpu`|\(the webgpu package\) does not load here: )/);
    const info = await T.ready({ backend: 'webgpu', require: false }); // (RILL_REQUIRE_GPU=1 in the test command would require it)
    expect(info).toMatchObject({ requested: 'webgpu', device: 'cpu', gpu: null, fallback: 'the webgpu backend is unavailable here; the CPU runs instead' });
    expect(T.tensor([1]).device).toBe('cpu');
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });

  it('bad options are BackendErrors naming ready and the value', async () => {
    await expect(T.ready({ backend: 'tpu' as 'cpu' })).rejects.toThrow("ready: unknown backend 'tpu' (cpu, wasm, js, gpu or webgpu)");
    await expect(T.ready({ threads: 0 })).rejects.toThrow("ready: threads must be a positive integer or 'all', got 0");
    await expect(T.ready({ threads: 1.5 })).rejects.toThrow(T.BackendError);
  });
});

describe('Symbol.dispose', () => {
  it('a tensor left by a `using` block is disposed (and its bytes freed) at the end of the block', () => {
    const before = T.memory();
    let seen: T.Tensor | undefined;
    {
      using t = T.zeros([1000]);
      seen = t;
      expect(T.memory().numTensors).toBe(before.numTensors + 1);
    }
    expect(seen.isDisposed).toBe(true);
    expect(T.memory()).toEqual(before);
  });
});
