// The relaxed-SIMD variant of the wasm kernels (the matmul tile on f32x4.relaxed_madd): detected, never required, and
// as accurate as the baseline — checked in a child Node started with --experimental-wasm-relaxed-simd.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as T from '@rill/tensor';
import { kernelBytes } from '@rill/tensor/internals';

/** In a child process (relaxed-child.mjs): what ready() reports, and a fused linear against float64 loops. */
const CHILD = fileURLToPath(new URL('../fixtures/relaxed-child.mjs', import.meta.url));

function child(flags: string[], threads: number) {
  const out = execFileSync(process.execPath, [...flags, CHILD, String(threads)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as { relaxed: boolean; variant: string; worst: number; first: number[] };
}

describe('relaxed SIMD variant', () => {
  it('is what a default Node 20 does not run: the variant does not validate there, ready() says simd128', () => {
    const wasm = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
    expect(wasm.validate(kernelBytes(false, true))).toBe(T.hasRelaxedSimd());
    expect(wasm.validate(kernelBytes(false, false))).toBe(true);
    const plain = child([], 1);
    expect(plain.relaxed).toBe(false);
    expect(plain.variant).toBe('simd128');
  });

  it('with --experimental-wasm-relaxed-simd: chosen at run time, within float32 rounding of float64 loops, same bits on 1 and 2 threads', () => {
    const one = child(['--experimental-wasm-relaxed-simd'], 1);
    const two = child(['--experimental-wasm-relaxed-simd'], 2);
    expect(one.relaxed).toBe(true);
    expect(one.variant).toBe('relaxed-simd');
    expect(one.worst).toBeLessThan(1); // error ≤ K·2⁻²⁴·Σ|terms|: the bound for any order of float32 sums
    expect(two.first).toEqual(one.first);
  });
});
