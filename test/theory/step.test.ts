import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BOUNDARY_BAND, normalisedStep, regime } from "../../src/theory/index.js";
import { finite, RUNS } from "./arbitraries.js";

describe("normalised step and regimes", () => {
  it("r = τ/ρ", () => {
    expect(normalisedStep(2, 4)).toBe(0.5);
    expect(normalisedStep(3, Number.POSITIVE_INFINITY)).toBe(0);
    expect(() => normalisedStep(-1, 1)).toThrow(RangeError);
    expect(() => normalisedStep(1, 0)).toThrow(RangeError);
    expect(() => normalisedStep(Number.NaN, 1)).toThrow(RangeError);
  });

  it("band [0.9, 1.1] is the boundary, inclusive", () => {
    expect(BOUNDARY_BAND).toEqual({ lower: 0.9, upper: 1.1 });
    expect(regime(0)).toBe("inside");
    expect(regime(0.8999)).toBe("inside");
    expect(regime(0.9)).toBe("boundary");
    expect(regime(1)).toBe("boundary");
    expect(regime(1.1)).toBe("boundary");
    expect(regime(1.1001)).toBe("outside");
    expect(regime(Number.POSITIVE_INFINITY)).toBe("outside");
    expect(regime(1.5, { lower: 0.5, upper: 2 })).toBe("boundary");
    expect(() => regime(Number.NaN)).toThrow(RangeError);
    expect(() => regime(-0.1)).toThrow(RangeError);
  });

  it("regime is monotone in r", () => {
    const order = { inside: 0, boundary: 1, outside: 2 } as const;
    fc.assert(
      fc.property(finite(0, 100), finite(0, 100), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        return order[regime(lo)] <= order[regime(hi)];
      }),
      { seed: 501, numRuns: RUNS },
    );
  });
});
