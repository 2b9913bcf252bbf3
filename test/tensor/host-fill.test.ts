// Creation ops on CPU backends fill small tensors in the backend's own memory (Backend.host, fromHost in internal.ts):
// the same values as a typed array filled by the same generator, every element written (pooled storage starts with
// old contents), and nothing left allocated when the fill throws.
import { afterEach, describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';

afterEach(() => T.setBackend('cpu'));

const BACKENDS = ['js', 'wasm'] as const;
const heapOf = () => (T.getBackend() as unknown as { parts: { heap: { liveBytes: number } } }).parts.heap;

describe('creation ops filled in place', () => {
  it.each(BACKENDS)('%s: randn and rand draw what the generator draws into a typed array (float32 and float64)', (backend) => {
    T.setBackend(backend);
    for (const dtype of ['float32', 'float64'] as const) {
      const expectedNormal = dtype === 'float32' ? new Float32Array(37) : new Float64Array(37);
      new T.Generator(11).fillNormal(expectedNormal, 0.5, 2);
      expect(Array.from(T.randn([37], { mean: 0.5, std: 2, generator: new T.Generator(11), dtype }).data)).toEqual(Array.from(expectedNormal));
      const g = new T.Generator(12);
      const expectedUniform = Array.from({ length: 37 }, () => (dtype === 'float32' ? Math.fround(-1 + 3 * g.uniformFloat32()) : -1 + 3 * g.uniform()));
      expect(Array.from(T.rand([37], { low: -1, high: 2, generator: new T.Generator(12), dtype }).data)).toEqual(expectedUniform);
    }
  });

  it.each(BACKENDS)('%s: a tensor made where a freed one lay holds exactly the new values (every element written)', (backend) => {
    T.setBackend(backend);
    for (let round = 0; round < 3; round++) {
      T.full([64], 7).dispose(); // leaves 7s in the pooled array or the heap block the next tensor gets
      const values = Array.from({ length: 64 }, (_, i) => i * (round + 1) - 5);
      expect(Array.from(T.tensor(values).data)).toEqual(values);
      const g = new T.Generator(round);
      const drawn = Array.from({ length: 64 }, () => Math.fround(g.uniformFloat32()));
      T.full([64], 7).dispose();
      expect(Array.from(T.rand([64], { generator: new T.Generator(round) }).data)).toEqual(drawn);
    }
  });

  it('wasm: a tensor whose values are refused leaves no block behind (the error names the op)', () => {
    T.setBackend('wasm');
    T.tensor([1, 2, 3]).dispose(); // the heap's lists warmed
    const before = heapOf().liveBytes;
    expect(() => T.tensor([1, 2, 'x' as unknown as number])).toThrow(/tensor: element 2 is string/);
    expect(() => T.tensor([1, 2.5], { dtype: 'int32' })).toThrow(/tensor: int32 data must be integers/);
    expect(heapOf().liveBytes).toBe(before);
  });

  it.each(BACKENDS)('%s: large tensors (beyond the in-place size) come out the same', (backend) => {
    T.setBackend(backend);
    const n = (1 << 16) + 3;
    const expected = new Float32Array(n);
    new T.Generator(5).fillNormal(expected);
    const drawn = T.randn([n], { generator: new T.Generator(5) }).data;
    expect(drawn.length).toBe(n);
    expect(drawn.every((v, i) => Object.is(v, expected[i]))).toBe(true);
  });
});
