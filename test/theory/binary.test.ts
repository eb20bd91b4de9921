import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  binaryGhost,
  nearestGhost,
  rhoA,
  rhoStarBinary,
  rhoTop2,
  top2,
  top2Ghost,
} from "../../src/theory/index.js";
import { close, finite, RUNS, sample, spreadTol } from "./arbitraries.js";

/** |1 + e^{w}| for complex w = x + iy — zero exactly at the binary ghosts. */
function residual(x: number, y: number): number {
  const m = Math.exp(x);
  return Math.hypot(1 + m * Math.cos(y), m * Math.sin(y));
}

describe("binary closed form", () => {
  it("fixed values", () => {
    expect(rhoStarBinary(0, 1)).toBeCloseTo(Math.PI, 15);
    expect(rhoStarBinary(10, 1)).toBeCloseTo(10.481870272097883, 13);
    expect(rhoStarBinary(3, -2)).toBeCloseTo(Math.hypot(3, Math.PI) / 2, 15);
    expect(rhoStarBinary(1, 0)).toBe(Number.POSITIVE_INFINITY);
    expect(binaryGhost(2, 0)).toBeNull();
    expect(binaryGhost(2, -4)).toEqual({ re: 0.5, im: Math.PI / 4 });
  });

  it("the ghost is a zero of F, has im ≥ 0 and modulus ρ*", () => {
    fc.assert(
      fc.property(finite(-30, 30), finite(-10, 10), (delta, gap) => {
        fc.pre(Math.abs(gap) > 1e-3);
        const g = binaryGhost(delta, gap)!;
        // F(t) ∝ 1 + e^{δ + Δt}; with t = re + i·im: δ + Δ·re ≈ 0, Δ·im = ±π.
        const x = delta + gap * g.re;
        const y = gap * g.im;
        return (
          g.im > 0 &&
          residual(x, y) < 1e-12 * (1 + Math.abs(delta)) &&
          close(Math.hypot(g.re, g.im), rhoStarBinary(delta, gap), 1e-13)
        );
      }),
      { seed: 201, numRuns: RUNS },
    );
  });

  it("agrees with the numerical solver nearestGhost for K = 2", () => {
    fc.assert(
      fc.property(
        finite(-30, 30),
        finite(-30, 30),
        finite(-10, 10),
        finite(-10, 10),
        (z1, z2, a1, a2) => {
          fc.pre(Math.abs(a1 - a2) > 1e-6);
          const g = nearestGhost([z1, z2], [a1, a2]);
          const b = binaryGhost(z1 - z2, a1 - a2)!;
          const rho = rhoStarBinary(z1 - z2, a1 - a2);
          const tol = 1e-9 * rho;
          return (
            Math.abs(g.modulus - rho) <= tol &&
            Math.abs(g.re - b.re) <= tol &&
            Math.abs(g.im - b.im) <= tol
          );
        },
      ),
      { seed: 206, numRuns: RUNS },
    );
  });

  it("ρ* ≥ π/Δ (the general lower bound), equality at δ = 0", () => {
    fc.assert(
      fc.property(finite(-30, 30), finite(-10, 10), finite(-10, 10), (z1, a1, a2) => {
        const star = rhoStarBinary(z1 - 0.25, a1 - a2);
        return star >= rhoA([a1, a2]) * (1 - 1e-15);
      }),
      { seed: 202, numRuns: RUNS },
    );
    expect(rhoStarBinary(0, 2)).toBe(rhoA([2, 0]));
  });

  it("scaling the slope gap by c scales ρ* by 1/|c|", () => {
    fc.assert(
      fc.property(finite(-30, 30), finite(-10, 10), finite(-100, 100), (d, gap, c) => {
        fc.pre(Math.abs(gap) > 1e-6 && Math.abs(c) > 1e-6);
        return close(rhoStarBinary(d, c * gap), rhoStarBinary(d, gap) / Math.abs(c), 1e-14);
      }),
      { seed: 203, numRuns: RUNS },
    );
  });
});

describe("top-2 estimate", () => {
  it("equals the binary closed form for K = 2 (with and without a label)", () => {
    fc.assert(
      fc.property(sample(2, 2), fc.constantFrom(undefined, 0, 1), ({ logits, slopes }, y) => {
        const exact = rhoStarBinary(logits[0] - logits[1], slopes[0] - slopes[1]);
        return rhoTop2(logits, slopes, y) === exact;
      }),
      { seed: 204, numRuns: RUNS },
    );
  });

  it("picks the label and its strongest rival", () => {
    const z = [1, 5, 3, 4];
    const a = [0, 2, -1, 1];
    expect(top2(z, a)).toMatchObject({ label: 1, rival: 3, delta: 1, slopeGap: 1 });
    const withLabel = top2(z, a, 2);
    expect(withLabel).toMatchObject({ label: 2, rival: 1, delta: -2, slopeGap: -3 });
    expect(withLabel.rho).toBeCloseTo(Math.hypot(2, Math.PI) / 3, 15);
    expect(top2Ghost(z, a, 2)).toEqual({ re: -2 / 3, im: Math.PI / 3 });
    // ties: lowest index wins both roles
    expect(top2([2, 2, 2], [0, 1, 2])).toMatchObject({ label: 0, rival: 1 });
    expect(rhoTop2([0, 1], [3, 3])).toBe(Number.POSITIVE_INFINITY);
    expect(top2Ghost([0, 1], [3, 3])).toBeNull();
  });

  it("rejects bad input", () => {
    expect(() => top2([1], [1])).toThrow(/at least 2/);
    expect(() => top2([1, 2], [1])).toThrow(RangeError);
    expect(() => top2([1, 2], [1, 2], 2)).toThrow(/label 2/);
    expect(() => top2([1, 2], [1, 2], 0.5)).toThrow(/label 0.5/);
  });

  it("scales as 1/|c| with the slopes and ignores a sign flip", () => {
    fc.assert(
      fc.property(sample(2, 10), finite(-100, 100), ({ logits, slopes }, c) => {
        fc.pre(Math.abs(c) > 1e-6);
        const t = top2(logits, slopes);
        fc.pre(t.slopeGap !== 0);
        const scaled = rhoTop2(
          logits,
          slopes.map((x) => c * x),
        );
        const flipped = rhoTop2(
          logits,
          slopes.map((x) => -x),
        );
        return (
          flipped === t.rho &&
          close(scaled, t.rho / Math.abs(c), spreadTol(slopes, Math.abs(t.slopeGap)))
        );
      }),
      { seed: 205, numRuns: RUNS },
    );
  });
});
