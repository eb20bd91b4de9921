import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { klExact, klQuadratic, klRemainderBound, spread } from "../../src/theory/index.js";
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
  it("klExact ≥ 0 and |klExact − klQuadratic| ≤ |t|³Δ³/(36√3), inside and outside the radius", () => {
    let worst = 0;
    let outside = 0;
    const runs = propertyRuns(20_000);
    fc.assert(
      fc.property(caseArb, ({ logits, slopes, t, r, d }) => {
        fc.pre(Number.isFinite(t));
        const exact = klExact(logits, slopes, t);
        const quad = klQuadratic(logits, slopes, t);
        const bound = klRemainderBound(d, t);
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
      Math.abs(klExact(logits, slopes, t) - klQuadratic(logits, slopes, t)) /
      klRemainderBound(1, t);
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
    for (const [z, a, t, want] of ref) expect(close(klExact(z, a, t), want, 1e-13)).toBe(true);
  });

  it("agrees with the naive formula up to the naive formula's cancellation error", () => {
    fc.assert(
      fc.property(sample(1, 12, 10, 5), finite(-10, 10), ({ logits, slopes }, t) => {
        const naive = klNaive(logits, slopes, t);
        const scale = 1 + Math.max(...logits.map(Math.abs)) + Math.abs(t) * 5;
        return Math.abs(klExact(logits, slopes, t) - naive) <= 1e-14 * scale * 8;
      }),
      { seed: 302, numRuns: RUNS },
    );
  });

  it("keeps relative precision for tiny t and stays finite for huge t", () => {
    const z = [0.3, -1.2, 2.5];
    const a = [1, -0.5, 0.25];
    const t = 1e-9;
    expect(close(klExact(z, a, t), klQuadratic(z, a, t), 1e-8)).toBe(true);
    expect(klExact(z, a, 0)).toBe(0);
    expect(klExact([1, 2], [3, 3], 1e6)).toBe(0);
    const huge = klExact(z, a, 1e5);
    expect(Number.isFinite(huge)).toBe(true);
    expect(close(huge, klNaive(z, a, 1e5), 1e-12)).toBe(true);
    expect(klQuadratic([1, 2], [3, 3], 10)).toBe(0);
    expect(() => klExact([1], [1, 2], 1)).toThrow(RangeError);
    expect(klRemainderBound(2, -3)).toBeCloseTo(216 / (36 * Math.sqrt(3)), 12);
  });
});
