/** The shared figure helpers of `framework/figures.ts` and the final-accuracy columns and cell. */
import { describe, expect, it } from "vitest";
import {
  accuracyAxis,
  bandLines,
  bars,
} from "../../packages/cli/src/experiments/framework/figures.js";
import { finalAccuracyCell } from "../../packages/cli/src/experiments/framework/format.js";
import { finalAccuracy, quartiles } from "../../packages/cli/src/experiments/framework/stats.js";
import { barGroups, lineWithBand } from "../../packages/cli/src/report/vega.js";

const rows = [
  { method: "a", step: 0, median: 0.5, q25: 0.4, q75: 0.6 },
  { method: "a", step: 1, median: 0.7, q25: 0.6, q75: 0.8 },
];

describe("bandLines / bars", () => {
  it("draw the same chart as lineWithBand / barGroups on the rows, the band as lo/hi", () => {
    const fig = bandLines("acc", "Accuracy", rows, {
      ...accuracyAxis(),
      x: "step",
      y: "median",
      band: ["q25", "q75"],
      color: "method",
    });
    expect(fig.name).toBe("acc");
    expect(fig.title).toBe("Accuracy");
    expect(fig.spec).toEqual(
      lineWithBand({
        data: rows,
        x: "step",
        y: "median",
        lo: "q25",
        hi: "q75",
        color: "method",
        yTitle: "test accuracy",
        yDomain: [0, 1],
      }),
    );
    const bar = bars("b", "Bars", rows, { x: "method", y: "median", group: "step" });
    expect(bar.spec).toEqual(barGroups({ data: rows, x: "method", y: "median", group: "step" }));
  });

  it("draw no band without one", () => {
    const fig = bandLines("acc", "Accuracy", rows, { x: "step", y: "median" });
    expect(fig.spec).toEqual(lineWithBand({ data: rows, x: "step", y: "median" }));
    expect(fig.spec).not.toEqual(
      lineWithBand({ data: rows, x: "step", y: "median", lo: "q25", hi: "q75" }),
    );
  });
});

describe("finalAccuracy / finalAccuracyCell", () => {
  it("are the quartiles of the final accuracies, and their median [IQR] cell", () => {
    const accs = [0.9, 0.8, 0.95, Number.NaN, 0.85];
    const q = quartiles(accs);
    expect(finalAccuracy(accs)).toEqual({ medianFinalTestAcc: q.median, q25: q.q25, q75: q.q75 });
    expect(finalAccuracyCell({ medianFinalTestAcc: 0.9, q25: 0.85, q75: 0.95, seeds: 5 })).toBe(
      "90.0% [85.0%, 95.0%]",
    );
    // one seed: no degenerate interval
    expect(finalAccuracyCell({ medianFinalTestAcc: 0.9, q25: 0.9, q75: 0.9, seeds: 1 })).toBe(
      "90.0%",
    );
  });
});
