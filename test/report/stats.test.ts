/** Order statistics over seeds and number formatting for report tables. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  formatMedianIqr,
  formatNumber,
  iqr,
  median,
  quantile,
  summarise,
} from "../../packages/cli/src/report/stats.js";

/** Quantile by the textbook definition (numpy "linear"): sort, interpolate at (n−1)q. */
function naiveQuantile(values: number[], q: number): number {
  const x = [...values].sort((a, b) => a - b);
  const h = (x.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return x[lo] + (x[hi] - x[lo]) * (h - lo);
}

describe("median, quantile, iqr", () => {
  it("match closed forms on small samples", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    // 1..5: q25 = 2, q75 = 4 (positions 1 and 3 of 0..4)
    expect(quantile([5, 4, 3, 2, 1], 0.25)).toBe(2);
    expect(iqr([1, 2, 3, 4, 5])).toBe(2);
    expect(iqr([7])).toBe(0);
  });

  it("agree with an independent sort-and-interpolate computation", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (xs, q) => {
          expect(quantile(xs, q)).toBeCloseTo(naiveQuantile(xs, q), 6);
          expect(median(xs)).toBeCloseTo(naiveQuantile(xs, 0.5), 6);
        },
      ),
      { seed: 11, numRuns: 200 },
    );
  });
});

describe("summarise", () => {
  it("gives the five numbers and the count", () => {
    expect(summarise([10, 0, 30, 20, 40])).toEqual({
      median: 20,
      q25: 10,
      q75: 30,
      min: 0,
      max: 40,
      n: 5,
    });
  });

  it("treats ±Infinity as values and NaN as an error unless dropped", () => {
    const s = summarise([1, Number.POSITIVE_INFINITY, 2]);
    expect(s.median).toBe(2);
    expect(s.max).toBe(Number.POSITIVE_INFINITY);
    expect(() => summarise([1, Number.NaN])).toThrow(RangeError);
    expect(summarise([1, Number.NaN, 3], { dropNaN: true })).toMatchObject({ median: 2, n: 2 });
    expect(() => summarise([])).toThrow(/no values/);
    expect(() => summarise([Number.NaN], { dropNaN: true })).toThrow(/no values/);
  });
});

describe("formatNumber", () => {
  it("formats integers, decimals, extremes and missing values", () => {
    expect(formatNumber(42)).toBe("42");
    expect(formatNumber(0.95312)).toBe("0.9531");
    expect(formatNumber(1.5)).toBe("1.5");
    expect(formatNumber(2.0000001)).toBe("2");
    expect(formatNumber(123456.7)).toBe("123457");
    expect(formatNumber(0.000123456)).toBe("1.235e-4");
    expect(formatNumber(-3.2e7 + 0.5)).toBe("-3.2e7");
    expect(formatNumber(Number.POSITIVE_INFINITY)).toBe("∞");
    expect(formatNumber(Number.NEGATIVE_INFINITY)).toBe("−∞");
    expect(formatNumber(Number.NaN)).toBe("NaN");
    expect(formatNumber(null)).toBe("—");
  });

  it("formats median [q25, q75], optionally scaled", () => {
    const s = summarise([0.9, 0.95, 0.97]);
    expect(formatMedianIqr(s, 3, 100)).toBe("95 [92.5, 96]");
  });
});
