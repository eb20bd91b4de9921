/**
 * The theory API's rule for bad numbers (non-finite input throws a RangeError) and its
 * behaviour at the ends of the float64 range: overflowing spreads are rescaled, a subnormal
 * spread is told apart from "no zero".
 */
import { describe, expect, it } from "vitest";
import {
  aggregateSpreads,
  binaryGhost,
  binaryRadiusScale,
  curvatureRadiusRatio,
  hessianStepScale,
  klQuadratic,
  nearestGhost,
  reverseKl,
  reverseKlRemainderBound,
  rhoA,
  rhoAFromSpread,
  rhoASet,
  rhoATemperature,
  rhoStarBinary,
  rhoTop2,
  spread,
  spreads,
  top2,
} from "../../src/theory/index.js";

const BAD = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];

describe("non-finite input throws a RangeError across the theory API", () => {
  it.each(BAD)("%s", (x) => {
    const calls: (() => unknown)[] = [
      () => rhoA([x, 1]),
      () => spread([1, x]),
      () =>
        spreads([
          [0, 1],
          [x, 1],
        ]),
      () => spreads({ data: [0, 1, x, 1], n: 2, k: 2 }),
      () =>
        rhoASet([
          [0, 1],
          [1, x],
        ]),
      () => rhoATemperature([0, x], 1),
      () => rhoATemperature([0, 1], x),
      () => aggregateSpreads([1, Number.isNaN(x) ? x : -1]),
      () => rhoStarBinary(x, 1),
      () => rhoStarBinary(1, x),
      () => binaryGhost(x, 1),
      () => binaryGhost(1, x),
      () => top2([x, 0], [0, 1]),
      () => top2([1, 0], [0, x]),
      () => rhoTop2([1, 0, 2], [0, x, 1]),
      () => reverseKl([x, 0], [0, 1], 1),
      () => reverseKl([1, 0], [0, 1], x),
      () => klQuadratic([1, 0], [x, 1], 1),
      () => reverseKlRemainderBound(1, x),
      () => reverseKlRemainderBound(x, 1),
      () => hessianStepScale(x),
      () => binaryRadiusScale(x),
      () => curvatureRadiusRatio(x),
      () => nearestGhost([0, 1], [x, 1]),
    ];
    for (const call of calls) expect(call).toThrow(RangeError);
  });

  it("names the function and the argument", () => {
    expect(() => rhoA([Number.NaN, 1])).toThrow(/^rhoA: slope 0 .* NaN/);
    expect(() => rhoStarBinary(1, Number.POSITIVE_INFINITY)).toThrow(/rhoStarBinary: slopeGap/);
  });

  it("rhoAFromSpread rejects NaN, negative and overflowed spreads", () => {
    expect(() => rhoAFromSpread(Number.NaN)).toThrow(RangeError);
    expect(() => rhoAFromSpread(-1)).toThrow(RangeError);
    expect(() => rhoAFromSpread(Number.POSITIVE_INFINITY)).toThrow(/overflow/);
    expect(rhoAFromSpread(0)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("spreads that overflow float64 are rescaled, not reported as 0", () => {
  const big = 1.5e308;
  it("rhoA, rhoASet and rhoATemperature of ±1.5e308", () => {
    expect(spread([-big, big])).toBe(Number.POSITIVE_INFINITY);
    // the spread 3e308 exceeds Number.MAX_VALUE; the radius π / 3e308 = (π/2) / 1.5e308 does not
    const expected = Math.PI / 2 / big;
    const rel = (x: number) => x / expected;
    expect(rel(rhoA([-big, big]))).toBeCloseTo(1, 14);
    expect(
      rel(
        rhoASet([
          [-big, big],
          [0, 1],
        ]),
      ),
    ).toBeCloseTo(1, 14);
    expect(rel(rhoASet([[-big, big]], { aggregate: { quantile: 0.5 } }))).toBeCloseTo(1, 14);
    // found by the fuzzer: a quantile between an overflowed and a finite spread was NaN
    const mixed = rhoASet(
      [
        [-big, big],
        [0, 0],
      ],
      { aggregate: { quantile: 0.5 } },
    );
    expect(mixed * big).toBeCloseTo(Math.PI, 12); // π / (½·3e308) = (π/2) / (½·1.5e308)
    expect(rel(rhoATemperature([-big, big], 2))).toBeCloseTo(2, 14);
    // scale covariance: ρ(c·a) = ρ(a)/c
    expect(rhoA([-big, big]) * big).toBeCloseTo(rhoA([-1, 1]), 12);
  });

  it("top2 of ±1.5e308 slopes", () => {
    const t = top2([1, 0], [big, -big]);
    expect(t.slopeGap).toBe(Number.POSITIVE_INFINITY);
    expect(t.rho).toBeCloseTo(Math.hypot(1, Math.PI) / 2 / big, 320);
    expect((t.rho * big) / (Math.hypot(1, Math.PI) / 2)).toBeCloseTo(1, 12);
    expect(t.ghost).not.toBeNull();
    expect((t.ghost!.im * big) / (Math.PI / 2)).toBeCloseTo(1, 12);
    expect(rhoTop2([1, 0], [big, -big])).toBeGreaterThan(0);
    // found by the fuzzer: logits of ±1e308 made the margin δ overflow (a RangeError)
    const wide = top2([-1e308, 1e308], [-1e308, 1e308], 0);
    expect(wide.delta).toBe(Number.NEGATIVE_INFINITY);
    expect(wide.rho).toBeCloseTo(1, 12); // √(δ² + π²)/|Δ| with δ = Δ = −2e308
    expect(wide.ghost?.re).toBeCloseTo(-1, 12);
    expect(top2([-1e308, 1e308], [0, 1], 0).rho).toBe(Number.POSITIVE_INFINITY); // 2e308: beyond float64
  });

  it("the exact ghost of ±1.5e308 slopes is finite, positive and ≥ ρ_a", () => {
    const g = nearestGhost([0.3, 0], [big, -big]);
    expect(g.modulus).toBeGreaterThan(0);
    expect(g.modulus).toBeLessThan(Number.POSITIVE_INFINITY);
    expect(g.modulus).toBeGreaterThanOrEqual(rhoA([big, -big]) * (1 - 1e-12));
  });
});

describe("a subnormal spread", () => {
  it("gives an infinite bound with a positive spread (a zero exists beyond float64)", () => {
    const a = [0, 5e-324];
    expect(spread(a)).toBe(5e-324);
    expect(rhoA(a)).toBe(Number.POSITIVE_INFINITY);
    expect(spread([1, 1])).toBe(0); // "no zero" has spread 0
  });
});
