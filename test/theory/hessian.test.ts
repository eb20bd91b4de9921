import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  binaryRadiusScale,
  curvatureRadiusRatio,
  hessianStepScale,
} from "../../src/theory/index.js";
import { close, finite, RUNS } from "./arbitraries.js";

describe("curvature step scale vs radius (binary logistic)", () => {
  it("closed forms at δ = 10", () => {
    expect(hessianStepScale(10)).toBeCloseTo(22028.46584020665, 8);
    expect(hessianStepScale(10, { rule: "2/L" })).toBeCloseTo(44056.9316804133, 7);
    expect(binaryRadiusScale(10)).toBeCloseTo(10.481870272097883, 12);
    expect(curvatureRadiusRatio(10, { rule: "2/L" })).toBeGreaterThan(4000);
    expect(curvatureRadiusRatio(10, { rule: "2/L" })).toBeCloseTo(4203.15559501726, 6);
    expect(hessianStepScale(0)).toBe(4);
    expect(binaryRadiusScale(0)).toBe(Math.PI);
  });

  it("equals 1/(σ(1−σ)) = 2 + 2cosh δ, is even, and ≈ e^{|δ|} for large δ", () => {
    fc.assert(
      fc.property(finite(-700, 700), (d) => {
        const h = hessianStepScale(d);
        const sigma = 1 / (1 + Math.exp(-d));
        const naiveOk = Math.abs(d) > 8 || close(h, 1 / (sigma * (1 - sigma)), 1e-9);
        return (
          naiveOk &&
          h === hessianStepScale(-d) &&
          close(h, 2 + 2 * Math.cosh(d), 1e-12) &&
          (Math.abs(d) < 40 || close(h, Math.exp(Math.abs(d)), 1e-12))
        );
      }),
      { seed: 401, numRuns: RUNS },
    );
    expect(hessianStepScale(800)).toBe(Number.POSITIVE_INFINITY);
  });
});
