// Lifetimes (dispose, tidy, keep, memory) and the backend registry (setBackend, RILL_BACKEND, the `cpu` alias).
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as T from '@rill/tensor';

describe('dispose and tidy', () => {
  it('dispose frees once; a disposed tensor refuses every use with DisposedError', () => {
    const before = T.memory().numTensors;
    const x = T.ones([2, 2]);
    expect(T.memory().numTensors).toBe(before + 1);
    expect(T.memory().numBytes).toBeGreaterThanOrEqual(16);
    x.dispose();
    x.dispose();
    expect(T.memory().numTensors).toBe(before);
    expect(x.isDisposed).toBe(true);
    expect(() => x.data).toThrow(T.DisposedError);
    expect(() => T.add(x, 1)).toThrow('add: tensor [2,2] float32 was disposed');
  });

  it('tidy disposes what fn created except what it returns (also inside arrays and objects)', () => {
    const before = T.memory().numTensors;
    const outside = T.ones([3]);
    let inner: T.Tensor | undefined;
    const result = T.tidy(() => {
      inner = T.mul(outside, 2);
      const a = T.add(inner, 1);
      const b = T.sub(inner, 1);
      return { pair: [a, b], note: 'kept' };
    });
    expect(inner!.isDisposed).toBe(true);
    expect(outside.isDisposed).toBe(false);
    expect(Array.from(result.pair[0].data)).toEqual([3, 3, 3]);
    expect(Array.from(result.pair[1].data)).toEqual([1, 1, 1]);
    expect(T.memory().numTensors).toBe(before + 3);
    T.dispose([outside, result]);
    expect(T.memory().numTensors).toBe(before);
  });

  it('nested tidy hands returned tensors to the outer scope, which then owns them', () => {
    let middle: T.Tensor | undefined;
    const before = T.memory().numTensors;
    T.tidy(() => {
      middle = T.tidy(() => T.mul(T.ones([2]), 3));
      expect(middle.isDisposed).toBe(false);
      return undefined;
    });
    expect(middle!.isDisposed).toBe(true);
    expect(T.memory().numTensors).toBe(before);
  });

  it('keep lets a tensor survive its scope; ops do not leak intermediates (mean, var, stack)', () => {
    const before = T.memory().numTensors;
    let kept: T.Tensor | undefined;
    T.tidy(() => {
      kept = T.keep(T.zeros([1]));
      T.mean(T.ones([4, 4]), 0);
      T.var(T.ones([4, 4]));
      T.stack([T.ones([2]), T.ones([2])]);
      return undefined;
    });
    expect(kept!.isDisposed).toBe(false);
    expect(T.memory().numTensors).toBe(before + 1);
    kept!.dispose();
    // Outside any scope an op creates exactly its result.
    const x = T.ones([3, 3]);
    const n = T.memory().numTensors;
    const v = T.var(x, 0);
    expect(T.memory().numTensors).toBe(n + 1);
    T.dispose([x, v]);
  });

  it('a throwing fn still disposes its tensors; an async fn is refused', () => {
    const before = T.memory().numTensors;
    expect(() =>
      T.tidy(() => {
        T.ones([5]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(T.memory().numTensors).toBe(before);
    expect(() => T.tidy(async () => T.ones([1]))).toThrow(/tidy: fn returned a Promise/);
  });

  it('a 200-step loop under tidy keeps the live tensor count flat', () => {
    let w = T.keep(T.zeros([8, 8]));
    const before = T.memory().numTensors;
    for (let step = 0; step < 200; step++) {
      const next = T.tidy(() => T.add(w, T.matmul(T.ones([8, 8]), T.mul(w, 0.001))));
      w.dispose();
      w = T.keep(next);
    }
    expect(T.memory().numTensors).toBe(before);
  });
});

describe('backend registry', () => {
  afterEach(() => T.setBackend('cpu'));

  it('lists js, js-reference, wasm and the cpu alias; cpu resolves to the fastest CPU backend (wasm where SIMD runs)', () => {
    expect(T.listBackends()).toEqual(expect.arrayContaining(['js', 'js-reference', 'wasm', 'cpu']));
    expect(T.hasWasmSimd()).toBe(true); // Node 20 has baseline SIMD
    T.setBackend('cpu');
    expect(T.getBackend().name).toBe('wasm');
    expect(T.zeros([1]).backend).toBe('wasm');
    expect(T.zeros([1]).device).toBe('cpu');
  });

  it('a CPU backend that cannot start here gives way to the next one under the cpu alias', () => {
    T.registerBackend('broken-cpu', () => {
      throw new T.BackendError('broken-cpu', 'cannot start here');
    }, 99);
    try {
      T.setBackend('cpu');
      expect(T.getBackend().name).toBe('wasm');
      expect(() => T.setBackend('broken-cpu')).toThrow(/broken-cpu: cannot start here/);
    } finally {
      T.registerBackend('broken-cpu', () => T.createJsBackend(undefined, 'broken-cpu'), -1); // out of the cpu ranking
    }
  });

  it('an unknown name is a BackendError that lists the available ones', () => {
    expect(() => T.setBackend('tpu')).toThrow(/setBackend: unknown backend 'tpu' \(available: gpu, webgpu, js, js-reference, wasm, .*cpu\)/);
  });

  it('a tensor made on one backend moves to the active one when an op uses it', () => {
    T.setBackend('js-reference');
    const x = T.tensor([[1, 2], [3, 4]]);
    expect(x.backend).toBe('js-reference');
    T.setBackend('js');
    const y = T.matmul(x, x);
    expect(x.backend).toBe('js');
    expect(y.toArray()).toEqual([[7, 10], [15, 22]]);
  });

  it('ops dispatch to the backend by op name (a recording backend sees the names)', () => {
    const seen: string[] = [];
    const js = T.createJsBackend();
    const recording = new Proxy(js, {
      get(target, key) {
        const v = Reflect.get(target, key);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (key === 'unary' || key === 'binary' || key === 'reduce') seen.push(`${String(key)}:${String(args[0])}`);
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    T.registerBackend('recording', () => recording);
    T.setBackend('recording');
    T.sum(T.selu(T.add(T.ones([2]), 1)));
    expect(seen).toEqual(['binary:add', 'unary:selu', 'reduce:sum']);
  });
});

describe('RILL_BACKEND', () => {
  afterEach(() => {
    delete process.env.RILL_BACKEND;
    vi.resetModules();
  });

  it('picks the initial backend; a bad name is a BackendError naming the variable', async () => {
    process.env.RILL_BACKEND = 'js-reference';
    vi.resetModules();
    const fresh = await import('@rill/tensor');
    expect(fresh.getBackend().name).toBe('js-reference');
    process.env.RILL_BACKEND = 'quantum';
    vi.resetModules();
    const again = await import('@rill/tensor');
    expect(() => again.zeros([1])).toThrow(/RILL_BACKEND: unknown backend 'quantum'/);
  });
});
