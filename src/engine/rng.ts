/**
 * Deterministic host-side random numbers for parameter initialisation.
 *
 * Parameters are drawn on the host (in float64) and then uploaded, so that
 * - a float32 and a float64 instance of the same model and seed start from the same values
 *   (rounded once to float32 for the former),
 * - every tensor has its own stream keyed by (seed, tensor name): adding a layer to a model
 *   does not shift the initial values of the others,
 * - results do not depend on jax-js's PRNG implementation details.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's small fast counter generator, 128-bit state),
 * seeded through a splitmix32-style avalanche of (seed, FNV-1a hash of the stream name).
 */

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A seeded stream of uniform and normal variates. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spareNormal: number | null = null;

  /** `seed`: any integer (taken modulo 2³²); `stream`: a name selecting an independent stream. */
  constructor(seed: number, stream = "") {
    if (!Number.isFinite(seed)) throw new Error(`Rng: seed must be a finite number, got ${seed}`);
    const s = Math.trunc(seed);
    const lo = s >>> 0;
    const hi = Math.floor(s / 2 ** 32) >>> 0;
    const h = fnv1a(stream);
    this.#a = mix32(lo ^ 0x243f6a88);
    this.#b = mix32(hi ^ 0x85a308d3 ^ this.#a);
    this.#c = mix32(h ^ 0x13198a2e ^ this.#b);
    this.#d = 1;
    for (let i = 0; i < 15; i++) this.nextUint32();
  }

  /** Next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal variate (Box–Muller, both values used). */
  normal(): number {
    if (this.#spareNormal !== null) {
      const v = this.#spareNormal;
      this.#spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** `n` draws from U(lo, hi). */
  uniformArray(n: number, lo: number, hi: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  /** `n` draws from N(mean, std²). */
  normalArray(n: number, mean = 0, std = 1): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }
}
