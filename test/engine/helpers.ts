/** Plain-JS references shared by the engine, model and probe tests. */

/** erf by 64-point Gauss–Legendre on [0, |x|] split into `panels` pieces (independent of src). */
export function erfReference(x: number, panels = 8): number {
  const nodes = gaussLegendre(64);
  const ax = Math.abs(x);
  let s = 0;
  const h = ax / panels;
  for (let p = 0; p < panels; p++) {
    const a = p * h;
    for (const [t, w] of nodes) {
      const u = a + (h * (t + 1)) / 2;
      s += (w * h * Math.exp(-u * u)) / 2;
    }
  }
  return (Math.sign(x) * 2 * s) / Math.sqrt(Math.PI);
}

let cache: [number, number][] | null = null;
/** Gauss–Legendre nodes and weights on [−1, 1] by Newton on the Legendre recurrence. */
export function gaussLegendre(n: number): [number, number][] {
  if (cache && cache.length === n) return cache;
  const out: [number, number][] = [];
  for (let i = 1; i <= n; i++) {
    let x = Math.cos((Math.PI * (i - 0.25)) / (n + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = (n * (x * p1 - p0)) / (x * x - 1);
      const dx = p1 / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    out.push([x, 2 / ((1 - x * x) * dp * dp)]);
  }
  cache = out;
  return out;
}

/** Max |a − b| over two equal-length sequences. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** max|a − b| / max|b|. */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let mb = 0;
  for (let i = 0; i < b.length; i++) mb = Math.max(mb, Math.abs(b[i]!));
  return maxAbsDiff(a, b) / mb;
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), independent of src/engine/rng. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A digits-like batch: n rows of `d` features in {0, 1/16, …, 1}. */
export function digitsLike(n: number, d = 64, seed = 1): Float64Array {
  const r = lcg(seed);
  return Float64Array.from({ length: n * d }, () => Math.floor(r() * 17) / 16);
}
