/**
 * A small, fast, seeded pseudo-random number generator for host-side code (data splits,
 * shuffling, subsets). Deterministic: the same seed always gives the same sequence, on
 * every platform, because everything is computed with 32-bit integer arithmetic.
 *
 * Generator: xoshiro128** (Blackman & Vigna), 128 bits of state, period 2^128 − 1. The
 * state is filled from the seed with the splitmix32 finaliser, so neighbouring seeds
 * (0, 1, 2, …) give unrelated streams.
 *
 * Streams: every generator carries a 64-bit *key* fixed at construction. {@link Rng.fork}
 * derives a child from the key and a label only — the child does not depend on how many
 * numbers the parent has drawn, so `rng.fork("split")` is the same stream wherever it is
 * called. {@link Rng.split} instead draws a fresh key from the parent's stream (and so
 * advances it), like `jax.random.split`.
 *
 * @module
 */

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/** splitmix32 finaliser: a bijective 32-bit mix with good avalanche. */
function mix32(x: number): number {
  let t = x | 0;
  t ^= t >>> 16;
  t = Math.imul(t, 0x21f0aaad);
  t ^= t >>> 15;
  t = Math.imul(t, 0x735a2d97);
  t ^= t >>> 15;
  return t >>> 0;
}

/** FNV-1a over the UTF-16 code units of a string, then mixed. */
function hashString(s: string, basis: number): number {
  let h = (0x811c9dc5 ^ basis) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h ^ s.length);
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Splits a seed (any safe integer, negative allowed) into two 32-bit words. */
function seedWords(seed: number): [number, number] {
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`Rng: seed must be a safe integer, got ${seed}`);
  }
  const lo = seed >>> 0;
  const hi = Math.floor(seed / TWO_POW_32) >>> 0;
  return [lo, hi];
}

/** A snapshot of a generator, enough to resume it exactly (plain numbers; JSON-safe). */
export interface RngState {
  /** Stream key (two unsigned 32-bit words), used by {@link Rng.fork}. */
  key: [number, number];
  /** xoshiro128** state (four unsigned 32-bit words, not all zero). */
  s: [number, number, number, number];
  /** Pending second Box–Muller variate, or null. */
  spare: number | null;
}

/** A seeded xoshiro128** generator with forkable, reproducible streams. */
export class Rng {
  /** The 64-bit stream key as two 32-bit words; never changes after construction. */
  private k0: number;
  private k1: number;
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  /** Second Box–Muller variate, kept for the next {@link Rng.normal} call. */
  private spare: number | null = null;

  /**
   * @param seed any safe integer (negative allowed). Equal seeds give equal sequences.
   */
  constructor(seed: number) {
    const [lo, hi] = seedWords(seed);
    this.k0 = lo;
    this.k1 = hi;
    this.initState();
  }

  /** Builds a generator straight from a 64-bit key (used by fork/split). */
  private static fromKey(k0: number, k1: number): Rng {
    const r = new Rng(0);
    r.k0 = k0 >>> 0;
    r.k1 = k1 >>> 0;
    r.initState();
    return r;
  }

  private initState(): void {
    // splitmix32-style sequence seeded by both key words.
    let x = mix32(this.k0 ^ mix32(this.k1 ^ 0x5bd1e995));
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      return mix32(x);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // all-zero state is a fixed point
    this.spare = null;
  }

  /** Next raw 32-bit output as an unsigned integer in [0, 2^32). */
  nextUint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / TWO_POW_53;
  }

  /** Standard normal variate (mean 0, variance 1), by the Box–Muller transform. */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    // 1 − uniform() lies in (0, 1], so the log is finite.
    const u1 = 1 - this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** `n` uniform draws in [lo, hi) as a Float64Array (parameter initialisation). */
  uniformArray(n: number, lo: number, hi: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  /** `n` normal draws with the given mean and standard deviation as a Float64Array. */
  normalArray(n: number, mean = 0, std = 1): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /**
   * Uniform integer in [0, n), exactly unbiased (rejection sampling).
   * @param n a positive integer ≤ 2^32.
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    // Largest multiple of n not above 2^32; values at or past it are rejected.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Shuffles `arr` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }

  /** A uniformly random permutation of 0..n−1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /**
   * An independent child stream named by `label`. It depends only on this generator's key
   * and the label — not on how many numbers have been drawn — and does not advance this
   * generator. Equal labels give equal streams; a number label is used via `String(label)`.
   */
  fork(label: string | number): Rng {
    const s = String(label);
    const h0 = hashString(s, this.k0);
    const h1 = hashString(s, this.k1 ^ 0x9e3779b9);
    return Rng.fromKey(mix32(this.k0 ^ h0) ^ h1, mix32(this.k1 ^ h1 ^ 0x85ebca6b) ^ h0);
  }

  /** A child stream keyed by two draws from this one (advances this generator). */
  split(): Rng {
    const a = this.nextUint32();
    const b = this.nextUint32();
    return Rng.fromKey(a ^ mix32(this.k0), b ^ mix32(this.k1 ^ 0xc2b2ae35));
  }

  /** An exact copy of this generator, state included; the two then evolve independently. */
  clone(): Rng {
    return Rng.fromState(this.getState());
  }

  /** A snapshot of the full state, for checkpoints; see {@link Rng.fromState}. */
  getState(): RngState {
    return {
      key: [this.k0, this.k1],
      s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0],
      spare: this.spare,
    };
  }

  /** Rebuilds a generator from {@link Rng.getState}'s snapshot; it continues identically. */
  static fromState(state: RngState): Rng {
    const words = [...state.key, ...state.s];
    if (
      state.key.length !== 2 ||
      state.s.length !== 4 ||
      !words.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32)
    ) {
      throw new RangeError("Rng.fromState: key and s must be unsigned 32-bit integers");
    }
    if (state.s.every((w) => w === 0)) {
      throw new RangeError("Rng.fromState: the all-zero state is not allowed");
    }
    const r = Rng.fromKey(state.key[0], state.key[1]);
    [r.s0, r.s1, r.s2, r.s3] = state.s;
    r.spare = state.spare;
    return r;
  }
}

/** Shorthand for `new Rng(seed)`. */
export function createRng(seed: number): Rng {
  return new Rng(seed);
}
