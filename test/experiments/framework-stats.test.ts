/** The shared statistics of `framework/stats.ts` that the experiments' own tests do not cover. */
import { describe, expect, it } from "vitest";
import {
  asFields,
  quantileInf,
  quartiles,
  quartilesInf,
} from "../../packages/cli/src/experiments/framework/stats.js";

describe("quantileInf", () => {
  it("interpolates like numpy and keeps infinities instead of NaN", () => {
    expect(quantileInf([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileInf([4, 1, 3, 2, 5], 0.25)).toBe(2);
    expect(quantileInf([1, 2, Infinity, Infinity], 0.5)).toBe(Infinity);
    expect(quantileInf([1, 2, 3, Infinity], 0.5)).toBe(2.5);
    expect(quantileInf([-Infinity, 1], 0.5)).toBe(-Infinity);
    expect(quantileInf([1, Number.NaN, 3], 0.5)).toBe(2);
    expect(quantileInf([Number.NaN], 0.5)).toBeNaN();
  });

  it("agrees with quartiles on finite samples to the last bit or two", () => {
    const xs = [0.3, 1.7, 2.9, 0.01, 5.5, 4.25];
    const a = quartilesInf(xs);
    const b = quartiles(xs);
    for (const k of ["median", "q25", "q75"] as const) expect(a[k]).toBeCloseTo(b[k], 14);
  });
});

describe("quartilesInf", () => {
  it("orders ±∞ as values, as quartiles does", () => {
    expect(quartilesInf([1, 2, 3, 4, Infinity])).toEqual({ median: 3, q25: 2, q75: 4 });
    // two seeds, one never failed: the median is the failure we have not seen, +∞
    expect(quartilesInf([2, Infinity]).median).toBe(Infinity);
    expect(quartiles([2, Infinity]).median).toBe(Infinity);
    expect(quartilesInf([Number.NaN, 1])).toEqual({ median: 1, q25: 1, q75: 1 });
  });
});

describe("asFields", () => {
  it("names a median and its quartiles after the field, in that order", () => {
    const row = { arch: "mlp", ...asFields("onset", quartilesInf([1, 2, 3, 4, 5])), n: 5 };
    expect(row).toEqual({ arch: "mlp", onset: 3, onsetQ25: 2, onsetQ75: 4, n: 5 });
    expect(Object.keys(row)).toEqual(["arch", "onset", "onsetQ25", "onsetQ75", "n"]);
  });
});
