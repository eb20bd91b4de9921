import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  aggregateSpreads,
  forwardKl,
  forwardKlRemainderLeading,
  klDivergence,
  klQuadratic,
  reverseKl,
  reverseKlRemainderBound,
  rhoASet,
  softmax,
  spread,
  variance,
} from "../../src/theory/index.js";
import { close, finite, propertyRuns, RUNS, sample } from "./arbitraries.js";

/** Naive KL = K(t) − K(0) − t·E_p[a] (fine away from tiny t). */
function klNaive(z: number[], a: number[], t: number): number {
  const lse = (v: number[]) => {
    const m = Math.max(...v);
    return m + Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0));
  };
  const k0 = lse(z);
  const p = z.map((x) => Math.exp(x - k0));
  const mean = p.reduce((s, pk, k) => s + pk * a[k], 0);
  return lse(z.map((x, k) => x + t * a[k])) - k0 - t * mean;
}

/** A sample plus a step t = ±r·π/Δ_a with r log-uniform in [1e-6, 1e2] (inside and outside). */
const caseArb = fc
  .tuple(sample(1, 16), finite(-6, 2), fc.boolean())
  .map(([{ logits, slopes }, log10r, neg]) => {
    const d = spread(slopes);
    const r = 10 ** log10r;
    const t = (neg ? -1 : 1) * (d > 0 ? (r * Math.PI) / d : r);
    return { logits, slopes, t, r, d };
  });

describe("KL cross-check", () => {
  it("reverseKl ≥ 0 and |reverseKl − klQuadratic| ≤ |t|³Δ³/(36√3), inside and outside the radius", () => {
    let worst = 0;
    let outside = 0;
    const runs = propertyRuns(20_000);
    fc.assert(
      fc.property(caseArb, ({ logits, slopes, t, r, d }) => {
        fc.pre(Number.isFinite(t));
        const exact = reverseKl(logits, slopes, t);
        const quad = klQuadratic(logits, slopes, t);
        const bound = reverseKlRemainderBound(t, d);
        if (r > 1) outside++;
        if (bound > 0) worst = Math.max(worst, Math.abs(exact - quad) / bound);
        return exact >= 0 && Number.isFinite(exact) && Math.abs(exact - quad) <= bound;
      }),
      { seed: 301, numRuns: runs },
    );
    expect(worst).toBeLessThanOrEqual(1);
    expect(outside).toBeGreaterThan(runs / 5);
  });

  it("is sharp: the two-point law at p = (3 ± √3)/6 nearly attains the bound for small t", () => {
    const p = (3 - Math.sqrt(3)) / 6;
    const logits = [Math.log(p), Math.log(1 - p)];
    const slopes = [1, 0];
    const t = 1e-3;
    const ratio =
      Math.abs(reverseKl(logits, slopes, t) - klQuadratic(logits, slopes, t)) /
      reverseKlRemainderBound(t, 1);
    expect(ratio).toBeGreaterThan(0.99);
    expect(ratio).toBeLessThanOrEqual(1);
  });

  it("matches 60-digit reference values (mpmath)", () => {
    const ref: [number[], number[], number, number][] = [
      [
        [4.508159583063838, -10],
        [-2.7414530388022094, -3.7542368793223244],
        7.270882708414689,
        3.18381706320508e-6,
      ],
      [[0.3, -1.2, 2.5], [1, -0.5, 0.25], 1e-9, 3.195136442220844e-20],
      [[0.3, -1.2, 2.5], [1, -0.5, 0.25], -3.5, 0.37149788225994074],
      [[1.5, 0.2, -0.7, 3.1, -2.2], [0.4, -1.3, 2.2, 0.05, -0.6], 0.01, 8.933039495235638e-6],
      [[1.5, 0.2, -0.7, 3.1, -2.2], [0.4, -1.3, 2.2, 0.05, -0.6], 250, 525.4229309468097],
      [[20, -20, 0, 5], [-3, 3, 1, 0.5], 1.25, 2.2949839415090717e-5],
    ];
    for (const [z, a, t, want] of ref) expect(close(reverseKl(z, a, t), want, 1e-13)).toBe(true);
  });

  it("agrees with the naive formula up to the naive formula's cancellation error", () => {
    fc.assert(
      fc.property(sample(1, 12, 10, 5), finite(-10, 10), ({ logits, slopes }, t) => {
        const naive = klNaive(logits, slopes, t);
        const scale = 1 + Math.max(...logits.map(Math.abs)) + Math.abs(t) * 5;
        return Math.abs(reverseKl(logits, slopes, t) - naive) <= 1e-14 * scale * 8;
      }),
      { seed: 302, numRuns: RUNS },
    );
  });

  it("keeps relative precision for tiny t and stays finite for huge t", () => {
    const z = [0.3, -1.2, 2.5];
    const a = [1, -0.5, 0.25];
    const t = 1e-9;
    expect(close(reverseKl(z, a, t), klQuadratic(z, a, t), 1e-8)).toBe(true);
    expect(reverseKl(z, a, 0)).toBe(0);
    expect(reverseKl([1, 2], [3, 3], 1e6)).toBe(0);
    const huge = reverseKl(z, a, 1e5);
    expect(Number.isFinite(huge)).toBe(true);
    expect(close(huge, klNaive(z, a, 1e5), 1e-12)).toBe(true);
    expect(klQuadratic([1, 2], [3, 3], 10)).toBe(0);
    expect(() => reverseKl([1], [1, 2], 1)).toThrow(RangeError);
    expect(reverseKlRemainderBound(-3, 2)).toBeCloseTo(216 / (36 * Math.sqrt(3)), 12);
  });
});

/** Naive forward KL(p(t)‖p(0)) straight from the definition (fine for moderate t). */
function forwardNaive(z: number[], a: number[], t: number): number {
  const soft = (v: number[]) => {
    const m = Math.max(...v);
    const e = v.map((x) => Math.exp(x - m));
    const s = e.reduce((x, y) => x + y, 0);
    return e.map((x) => x / s);
  };
  const p = soft(z);
  const q = soft(z.map((x, k) => x + t * a[k]));
  return q.reduce((s, qk, k) => s + qk * Math.log(qk / p[k]), 0);
}

describe("the reference implementation's theory API, with the direction in every name", () => {
  it("forwardKl equals the definition and is ≥ 0, 0 at t = 0 and for equal slopes", () => {
    fc.assert(
      fc.property(sample(2, 12), finite(-2, 2), ({ logits, slopes }, t) => {
        const f = forwardKl(logits, slopes, t);
        const naive = forwardNaive(logits, slopes, t);
        return f >= 0 && Math.abs(f - naive) <= 1e-9 * Math.max(naive, 1e-6);
      }),
      { numRuns: propertyRuns(RUNS) },
    );
    expect(forwardKl([1, 2, 3], [0.5, -1, 2], 0)).toBe(0);
    expect(forwardKl([1, 2], [3, 3], 1e6)).toBe(0);
    // tiny t: full relative precision where the naive sum cancels (≈ t²Var/2)
    const z = [0.3, -1, 2];
    const a = [1, -0.5, 0.25];
    expect(close(forwardKl(z, a, 1e-7), klQuadratic(z, a, 1e-7), 1e-6)).toBe(true);
    expect(Number.isFinite(forwardKl(z, a, 1e5))).toBe(true);
  });

  it("the cubic remainders: reverse (t³/6)κ₃, forward (t³/3)κ₃, sharp at the two-point law", () => {
    // p = ((3 − √3)/6, (3 + √3)/6) with slopes (Δ, 0) maximises |κ₃| = Δ³/(6√3)
    const p0 = (3 - Math.sqrt(3)) / 6;
    const z = [Math.log(p0), Math.log(1 - p0)];
    const d = 1.3;
    const a = [d, 0];
    for (const t of [1e-2, 3e-3]) {
      const quad = klQuadratic(z, a, t);
      const rev = Math.abs(reverseKl(z, a, t) - quad) / reverseKlRemainderBound(t, d);
      const fwd = Math.abs(forwardKl(z, a, t) - quad) / forwardKlRemainderLeading(t, d);
      expect(rev).toBeGreaterThan(0.97);
      expect(rev).toBeLessThanOrEqual(1);
      expect(Math.abs(fwd - 1)).toBeLessThan(0.03);
    }
    expect(forwardKlRemainderLeading(-2, 3)).toBeCloseTo(216 / (18 * Math.sqrt(3)), 12);
    expect(forwardKlRemainderLeading(2, 3)).toBeCloseTo(2 * reverseKlRemainderBound(2, 3), 12);
    expect(() => reverseKlRemainderBound(1, -1)).toThrow(RangeError);
  });

  it("softmax, klDivergence and variance agree with the KL functions", () => {
    const z = [0.5, -1.5, 2, 0];
    const a = [1, 0.2, -0.7, 0.4];
    const t = 0.8;
    const p = softmax(z);
    const q = softmax(z.map((x, k) => x + t * a[k]));
    expect(p.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 15);
    expect(Array.from(softmax([1000, 1000]))).toEqual([0.5, 0.5]);
    expect(close(klDivergence(p, q), reverseKl(z, a, t), 1e-12)).toBe(true);
    expect(close(klDivergence(q, p), forwardKl(z, a, t), 1e-12)).toBe(true);
    expect(close(variance(p, a), 2 * klQuadratic(z, a, 1), 1e-13)).toBe(true);
    // unnormalised weights are normalised; zeros count exactly
    expect(klDivergence([2, 2], [1, 1])).toBe(0);
    expect(klDivergence([1, 0], [0.5, 0.5])).toBeCloseTo(Math.log(2), 15);
    expect(klDivergence([0.5, 0.5], [1, 0])).toBe(Number.POSITIVE_INFINITY);
    expect(variance([1, 1], [0, 2])).toBe(1);
    expect(() => klDivergence([1, 2], [1])).toThrow(RangeError);
    expect(() => klDivergence([-1, 2], [1, 1])).toThrow(RangeError);
    expect(() => variance([0, 0], [1, 2])).toThrow(RangeError);
  });

  it('aggregate "mean" reduces spreads to their mean (no guarantee: it exceeds the max radius)', () => {
    const rows = [
      [0, 1],
      [0, 3],
    ];
    expect(aggregateSpreads([1, 3], "mean")).toBe(2);
    expect(rhoASet(rows, { aggregate: "mean" })).toBeCloseTo(Math.PI / 2, 15);
    expect(rhoASet(rows, { aggregate: "mean" })).toBeGreaterThan(rhoASet(rows));
    expect(aggregateSpreads([1.5e308, 1.5e308], "mean")).toBe(1.5e308);
  });
});
