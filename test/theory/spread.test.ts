import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  aggregateSpreads,
  quantile,
  rhoA,
  rhoAFromSpread,
  rhoASet,
  rhoATemperature,
  spread,
  spreads,
} from "../../src/theory/index.js";
import { close, finite, RUNS, spreadTol } from "./arbitraries.js";

const row = (min = 1, max = 12) => fc.array(finite(-1e3, 1e3), { minLength: min, maxLength: max });
const rowSet = fc.array(row(1, 8), { minLength: 1, maxLength: 10 });

describe("spread and rhoA", () => {
  it("closed forms", () => {
    expect(spread([1, -2, 0.5])).toBe(3);
    expect(spread(new Float64Array([4]))).toBe(0);
    expect(rhoA([0, 2])).toBeCloseTo(Math.PI / 2, 15);
    expect(rhoA([3, 3, 3])).toBe(Number.POSITIVE_INFINITY);
    expect(rhoAFromSpread(0)).toBe(Number.POSITIVE_INFINITY);
    expect(() => spread([1, Number.NaN])).toThrow(RangeError);
    expect(() => spread([])).toThrow(RangeError);
  });

  it("is invariant under a sign flip of the slopes", () => {
    fc.assert(
      fc.property(row(), (a) => {
        const neg = a.map((x) => -x);
        return spread(neg) === spread(a) && rhoA(neg) === rhoA(a);
      }),
      { seed: 101, numRuns: RUNS },
    );
  });

  it("scales as 1/|c| when the slopes are scaled by c", () => {
    fc.assert(
      fc.property(row(2), finite(-100, 100), (a, c) => {
        fc.pre(Math.abs(c) > 1e-6 && spread(a) > 0);
        return close(rhoA(a.map((x) => c * x)), rhoA(a) / Math.abs(c), spreadTol(a, spread(a)));
      }),
      { seed: 102, numRuns: RUNS },
    );
  });

  it("temperature: rhoATemperature(a, T) = πT/Δ_a = rhoA(a/T)", () => {
    expect(rhoATemperature([0, 1], 4)).toBeCloseTo(4 * Math.PI, 13);
    expect(() => rhoATemperature([0, 1], 0)).toThrow(RangeError);
    fc.assert(
      fc.property(row(2), finite(1e-3, 1e3), (a, T) => {
        fc.pre(spread(a) > 0);
        return close(rhoATemperature(a, T), rhoA(a.map((x) => x / T)), spreadTol(a, spread(a)));
      }),
      { seed: 103, numRuns: RUNS },
    );
  });
});

describe("spreads (per row)", () => {
  it("number[][] and row-major {data, n, k} agree", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((k) =>
          fc.array(fc.array(finite(-1e3, 1e3), { minLength: k, maxLength: k }), {
            minLength: 0,
            maxLength: 8,
          }),
        ),
        (rows) => {
          const k = rows[0]?.length ?? 1;
          const data = Float64Array.from(rows.flat());
          const a = spreads(rows);
          const b = spreads({ data, n: rows.length, k });
          return a.length === rows.length && a.every((x, i) => x === b[i] && x === spread(rows[i]));
        },
      ),
      { seed: 104, numRuns: RUNS },
    );
  });

  it("rejects inconsistent matrices", () => {
    expect(() => spreads({ data: new Float64Array(5), n: 2, k: 3 })).toThrow(/n·k = 6/);
    expect(() => spreads({ data: [], n: 0, k: 0 })).toThrow(RangeError);
    expect(() => spreads([[1], []])).toThrow(RangeError);
  });
});

describe("quantile (linear interpolation, numpy default)", () => {
  it("treats ±∞ as ordinary values at the ends, never returning ∞ − ∞ = NaN", () => {
    const inf = Number.POSITIVE_INFINITY;
    expect(quantile([2, inf], 0.5)).toBe(inf);
    expect(quantile([-inf, 1], 0.5)).toBe(-inf);
    expect(quantile([1, 2, 3, inf], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, inf], 0.9)).toBe(inf);
  });

  it("matches numpy.quantile on fixed cases", () => {
    expect(quantile([7, 15, 36, 39, 40, 41], 0.25)).toBeCloseTo(20.25, 12);
    expect(quantile([1, 2, 3, 4, 5], 0.3)).toBeCloseTo(2.2, 12);
    expect(quantile([3, 1, 2], 0.25)).toBe(1.5);
    expect(quantile([0.1, 5, 2.5, 9, 8, 1], 0.9)).toBeCloseTo(8.5, 12);
    expect(quantile([0.1, 5, 2.5, 9, 8, 1], 0.55)).toBeCloseTo(4.375, 12);
    expect(quantile([0.3, 0.1, 0.2], 0.7)).toBeCloseTo(0.24, 12);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([5], 0.37)).toBe(5);
  });

  it("q = 0 is the min, q = 1 the max; rejects bad input", () => {
    expect(quantile([4, -1, 9], 0)).toBe(-1);
    expect(quantile([4, -1, 9], 1)).toBe(9);
    expect(() => quantile([], 0.5)).toThrow(RangeError);
    expect(() => quantile([1], 1.5)).toThrow(RangeError);
    expect(() => quantile([1], Number.NaN)).toThrow(RangeError);
    expect(() => quantile([1, Number.NaN], 0.5)).toThrow(RangeError);
  });

  it("is monotone in q and lies between min and max", () => {
    fc.assert(
      fc.property(row(1, 20), finite(0, 1), finite(0, 1), (x, q1, q2) => {
        const [lo, hi] = q1 <= q2 ? [q1, q2] : [q2, q1];
        const a = quantile(x, lo);
        const b = quantile(x, hi);
        return a <= b && a >= Math.min(...x) && b <= Math.max(...x);
      }),
      { seed: 105, numRuns: RUNS },
    );
  });

  it("does not depend on input order", () => {
    fc.assert(
      fc.property(row(1, 20), finite(0, 1), (x, q) => {
        const rev = [...x].reverse();
        return quantile(x, q) === quantile(rev, q);
      }),
      { seed: 106, numRuns: RUNS },
    );
  });
});

describe("rhoASet (set aggregation)", () => {
  it("ρ_a(set) ≤ ρ_a(subset) ≤ ρ_a(row) with the max aggregation", () => {
    fc.assert(
      fc.property(rowSet, fc.nat(), fc.nat(), (rows, cut, pick) => {
        const size = 1 + (cut % rows.length);
        const subset = rows.slice(0, size);
        const one = subset[pick % size];
        const set = rhoASet(rows);
        const sub = rhoASet(subset);
        return set <= sub && sub <= rhoA(one) && rhoASet([one]) === rhoA(one);
      }),
      { seed: 107, numRuns: RUNS },
    );
  });

  it("the quantile aggregation is ≥ the max aggregation (and equal at q = 1)", () => {
    fc.assert(
      fc.property(rowSet, finite(0, 1), (rows, q) => {
        const max = rhoASet(rows, { aggregate: "max" });
        return (
          rhoASet(rows, { aggregate: { quantile: q } }) >= max &&
          rhoASet(rows, { aggregate: { quantile: 1 } }) === max
        );
      }),
      { seed: 108, numRuns: RUNS },
    );
  });

  it("accepts the row-major matrix form and gives π / max spread", () => {
    const data = new Float64Array([0, 1, 2, 0, 0, 4, 1, 1, 1]);
    expect(rhoASet({ data, n: 3, k: 3 })).toBeCloseTo(Math.PI / 4, 15);
    expect(rhoASet({ data, n: 3, k: 3 }, { aggregate: { quantile: 0.5 } })).toBeCloseTo(
      Math.PI / 2,
      15,
    );
    expect(aggregateSpreads([0, 0])).toBe(0);
    expect(rhoASet([[1, 1]])).toBe(Number.POSITIVE_INFINITY);
    expect(() => rhoASet([])).toThrow(RangeError);
  });
});
