/**
 * The calibration scatter is drawn binned: every (ρ*, ρ_top2) pair lands in one cell, and
 * the pairs with the lowest and highest ρ_top2/ρ* stay visible as points.
 */

import { Rng } from "softmax-ghosts/util";
import { describe, expect, it } from "vitest";
import {
  type CalibrationSummary,
  calibration,
} from "../../packages/cli/src/experiments/calibration.js";

function summaryWith(scatter: CalibrationSummary["scatter"]): CalibrationSummary {
  return {
    histogram: [],
    overTraining: [],
    controllerCurves: [],
    scatter,
  } as unknown as CalibrationSummary;
}

type Row = { [k: string]: string | number };

describe("calibration's top2-vs-rhostar figure", () => {
  const rng = new Rng(11);
  const scatter = ["mlp", "cnn"].flatMap((arch) =>
    Array.from({ length: 3000 }, () => {
      const rhoStar = 10 ** (2 * rng.uniform() - 1);
      return { arch, rhoStar, rhoTop2: rhoStar * 10 ** (3 * rng.uniform() - 0.3) };
    }),
  );
  // the tails: one pair far below the diagonal, one far above, per arch
  scatter.push(
    { arch: "mlp", rhoStar: 2, rhoTop2: 0.02 },
    { arch: "cnn", rhoStar: 0.5, rhoTop2: 5e6 },
  );
  scatter.push(
    { arch: "cnn", rhoStar: 0, rhoTop2: 1 },
    { arch: "mlp", rhoStar: 1, rhoTop2: Infinity },
  );
  const fig = calibration.figures(summaryWith(scatter)).find((f) => f.name === "top2-vs-rhostar");
  if (fig === undefined) throw new Error("calibration has no top2-vs-rhostar figure");
  const rows = (fig.spec as unknown as { data: { values: Row[] } }).data.values;

  it("puts every drawable pair in exactly one cell, per architecture", () => {
    for (const arch of ["mlp", "cnn"]) {
      const mine = scatter.filter(
        (p) => p.arch === arch && p.rhoStar > 0 && Number.isFinite(p.rhoTop2),
      );
      const cells = rows.filter((r) => r.arch === arch && r.kind === "cell");
      expect(cells.reduce((a, c) => a + Number(c.count), 0)).toBe(mine.length);
      for (const p of mine) {
        const holding = cells.filter(
          (c) =>
            p.rhoStar >= Number(c.rhoStarLo) * (1 - 1e-12) &&
            p.rhoStar < Number(c.rhoStarHi) * (1 + 1e-12) &&
            p.rhoTop2 >= Number(c.rhoTop2Lo) * (1 - 1e-12) &&
            p.rhoTop2 < Number(c.rhoTop2Hi) * (1 + 1e-12),
        );
        expect(holding.length).toBeGreaterThanOrEqual(1);
      }
    }
    // a few hundred rows, not one per pair
    expect(rows.length).toBeLessThan(scatter.length / 5);
  });

  it("keeps the pairs with the lowest and highest ρ_top2/ρ* as points", () => {
    const low = rows.filter((r) => String(r.kind).startsWith("lowest"));
    const high = rows.filter((r) => String(r.kind).startsWith("highest"));
    expect(low).toHaveLength(10);
    expect(high).toHaveLength(10);
    expect(low).toContainEqual(expect.objectContaining({ arch: "mlp", rhoStar: 2, rhoTop2: 0.02 }));
    expect(high).toContainEqual(
      expect.objectContaining({ arch: "cnn", rhoStar: 0.5, rhoTop2: 5e6 }),
    );
    for (const arch of ["mlp", "cnn"]) {
      const ratios = scatter
        .filter((p) => p.arch === arch && p.rhoStar > 0 && Number.isFinite(p.rhoTop2))
        .map((p) => p.rhoTop2 / p.rhoStar)
        .sort((a, b) => a - b);
      const lows = low
        .filter((r) => r.arch === arch)
        .map((r) => Number(r.rhoTop2) / Number(r.rhoStar));
      expect(Math.min(...lows)).toBe(ratios[0]);
      expect(Math.max(...lows)).toBe(ratios[4]);
    }
  });
});
