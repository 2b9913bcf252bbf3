// Seeded randomness: the xoshiro128** generator, seeded by SplitMix64, with uniforms, normals and integers.
import { ValueError } from './errors.js';

/** A generator's full state: restore it with setState to continue the exact same stream (e.g. when resuming training). */
export interface GeneratorState {
  /** The algorithm the state belongs to; setState accepts only `xoshiro128**`. */
  algorithm: 'xoshiro128**';
  /** The four 32-bit state words, as unsigned integers. */
  state: [number, number, number, number];
}

const MASK64 = (1n << 64n) - 1n;

/**
 * SplitMix64, used only to spread a seed over the 128-bit state (the seeding its authors recommend).
 * Reference: Steele, Lea & Flood, "Fast splittable pseudorandom number generators" (OOPSLA 2014);
 * constants from Vigna's splitmix64.c.
 */
function splitmix64(seed: bigint): () => bigint {
  let s = seed & MASK64;
  return () => {
    s = (s + 0x9e3779b97f4a7c15n) & MASK64;
    let z = s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    return z ^ (z >> 31n);
  };
}

/** Throws ValueError unless `seed` is a non-negative safe integer (NaN, 1.5, -1 and '7' are refused). */
export function checkSeed(op: string, seed: unknown): asserts seed is number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new ValueError(op, `seed must be a non-negative safe integer, got ${String(seed)}`);
  }
}

const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));

/**
 * xoshiro128**: 128 bits of state, period 2¹²⁸ − 1, 32-bit outputs, only 32-bit integer operations
 * (so it is exact and identical in every JavaScript engine).
 * Reference: Blackman & Vigna, "Scrambled linear pseudorandom number generators" (2018), xoshiro128starstar.c.
 */
export class Generator {
  // the four state words as int32 (the same bits as unsigned): in Node, where small integers have 32 bits, loads and
  // results need no heap numbers (an unsigned word above 2³¹ − 1 would)
  #s = new Int32Array(4);

  /** `seed`: a non-negative safe integer. The same seed gives the same numbers on every run and platform. */
  constructor(seed: number) {
    this.reseed(seed);
  }

  /** Restarts the stream as `new Generator(seed)` would. */
  reseed(seed: number): void {
    checkSeed('Generator', seed);
    const next = splitmix64(BigInt(seed));
    const z0 = next();
    const z1 = next();
    this.#s[0] = Number(z0 & 0xffffffffn);
    this.#s[1] = Number(z0 >> 32n);
    this.#s[2] = Number(z1 & 0xffffffffn);
    this.#s[3] = Number(z1 >> 32n);
  }

  /** The next 32-bit output, as an unsigned integer in [0, 2³²). */
  nextUint32(): number {
    return this.#next() >>> 0;
  }

  /**
   * The next output as a signed int32 (the same 32 bits): what uniform() and uniformFloat32() shift, kept signed so that
   * V8 need not box an unsigned value above 2³¹ − 1 as a heap number when the call is not inlined.
   */
  #next(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9);
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits (two outputs: 27 + 26 bits, as NumPy's random_double). */
  uniform(): number {
    const hi = this.#next() >>> 5;
    const lo = this.#next() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992; // (hi·2²⁶ + lo) / 2⁵³
  }

  /** Uniform in [0, 1) with 24 random bits: every value is exactly a float32, so it can never round up to 1. */
  uniformFloat32(): number {
    return (this.#next() >>> 8) / 16777216; // / 2²⁴
  }

  /**
   * NB: integers and uniforms are bit-identical on every JavaScript engine (32-bit integer arithmetic only). Normals go
   * through Math.log, Math.cos and Math.sin, which engines may round differently in the last bit: the same seed gives
   * the same normals on every run of one engine (Node, Chrome…), and agreement to about 1e-15 across engines.
   *
   * Fills `out` with independent standard normals scaled as mean + std·z, by the Box–Muller transform:
   * with u₁ ∈ (0, 1], u₂ ∈ [0, 1): r = √(−2 ln u₁), z₀ = r cos 2πu₂, z₁ = r sin 2πu₂ (both used).
   * Reference: Box & Muller, "A note on the generation of random normal deviates" (1958).
   */
  fillNormal(out: { [i: number]: number; length: number }, mean = 0, std = 1): void {
    for (let i = 0; i < out.length; i += 2) {
      const u1 = 1 - this.uniform();
      const u2 = this.uniform();
      const r = Math.sqrt(-2 * Math.log(u1));
      out[i] = mean + std * r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < out.length) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2);
    }
  }

  /** One standard normal (a Box–Muller pair whose second half is dropped). */
  normal(): number {
    const z = [0];
    this.fillNormal(z);
    return z[0];
  }

  /**
   * Uniform integer in [low, high) without modulo bias: draws below the largest multiple of the range are kept.
   * Reference: Lemire, "Fast random integer generation in an interval" (2019), §2 (the rejection method).
   */
  int(low: number, high: number): number {
    const range = high - low;
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || range < 1 || range > 4294967296) {
      throw new ValueError('Generator.int', `needs integers low < high with high − low ≤ 2³², got ${low}, ${high}`);
    }
    const limit = 4294967296 - (4294967296 % range); // largest multiple of range ≤ 2³²
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return low + (x % range);
  }

  /** A copy of the current state: setState(getState()) later continues the stream from this point. */
  getState(): GeneratorState {
    const [a, b, c, d] = Array.from(this.#s, (w) => w >>> 0);
    return { algorithm: 'xoshiro128**', state: [a, b, c, d] };
  }

  /**
   * Restores a state from getState, so the next draws continue that stream. Throws ValueError unless it is an
   * `xoshiro128**` state of four integers in [0, 2³²), not all 0.
   */
  setState(state: GeneratorState): void {
    const words = state?.state;
    const ok =
      state?.algorithm === 'xoshiro128**' &&
      Array.isArray(words) &&
      words.length === 4 &&
      words.every((w) => Number.isInteger(w) && w >= 0 && w < 4294967296) &&
      words.some((w) => w !== 0);
    if (!ok) {
      throw new ValueError('setState', `expected { algorithm: 'xoshiro128**', state: four uint32 words, not all 0 }, got ${show(state)}`);
    }
    this.#s.set(words);
  }
}

/** A value as JSON where possible (BigInts and cycles cannot be), for error messages. */
function show(x: unknown): string {
  try {
    return JSON.stringify(x) ?? String(x);
  } catch {
    return String(x);
  }
}

/** The seed the global generator starts from, so that a script that never calls seed() is still reproducible. */
export const DEFAULT_SEED = 0;
const globalGenerator = new Generator(DEFAULT_SEED);

/** Reseeds (in place) the global generator used by rand / randn / randint when no generator is passed. */
export function seed(value: number): void {
  checkSeed('seed', value);
  globalGenerator.reseed(value);
}

/** The global generator (its getState / setState capture and restore the default stream). */
export function getGenerator(): Generator {
  return globalGenerator;
}
