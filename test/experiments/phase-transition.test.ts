import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runExperiment } from "../../packages/cli/src/experiments/framework/index.js";
import {
  CURVATURE_SEEDS,
  fails,
  LEARNING_RATES,
  type PhaseSummary,
  type PhaseTableRow,
  phaseTransition,
  QUICK_ARCHITECTURES,
} from "../../packages/cli/src/experiments/phase-transition.js";

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function row(arch: string, minFailR: number): PhaseTableRow {
  return {
    arch,
    preStepAcc: 0.95,
    preStepAccQ25: 0.95,
    preStepAccQ75: 0.95,
    minFailR,
    minFailRQ25: minFailR,
    minFailRQ75: minFailR,
    minAccFailR: minFailR,
    minLossFailR: minFailR,
    rhoA: 0.1,
    seedsFailingBelowR1: minFailR < 1 ? 1 : 0,
    seeds: 1,
  };
}

describe("phase-transition helpers", () => {
  it("fails on either criterion, and on unmeasurable (NaN) steps", () => {
    expect(fails(1, 1)).toBe(false);
    expect(fails(0.9, 2)).toBe(false);
    expect(fails(0.89, 1)).toBe(true);
    expect(fails(1, 2.01)).toBe(true);
    expect(fails(Number.NaN, 1)).toBe(true);
    expect(fails(1, Number.POSITIVE_INFINITY)).toBe(true);
  });

  it("grades the claim from the median failing r per architecture, by the claims' rule", () => {
    const verdict = (...rows: PhaseTableRow[]) => {
      const summary: PhaseSummary = {
        rGrid: { min: 0.01, max: 100, points: 41 },
        table: rows,
        curves: [],
        perSeed: [],
      };
      return phaseTransition.report(summary).verdict;
    };
    expect(verdict(row("a", 1.6), row("b", 10)).reproduced).toBe("yes");
    // one non-essential part fails: collapse beyond 10, or no collapse on the grid
    expect(verdict(row("a", 1.6), row("b", 25)).reproduced).toBe("partly");
    expect(verdict(row("a", 1.6), row("b", Number.POSITIVE_INFINITY)).reproduced).toBe("partly");
    // both fail, or the essential part (nothing lost for r < 1) fails
    expect(verdict(row("a", 25), row("b", Number.POSITIVE_INFINITY)).reproduced).toBe("no");
    expect(verdict(row("a", 0.5), row("b", 2)).reproduced).toBe("no");
    expect(verdict(row("a", 0.5), row("b", 0.2)).reproduced).toBe("no");
    expect(verdict().reproduced).toBe("n/a");
    const v = verdict(row("a", 0.5), row("b", 2));
    expect(v.sentence).toContain("1/2 architecture(s) fail already below r = 1: a (0.5)");
    expect(v.sentence).toContain("not as claimed: no architecture loses accuracy for r < 1");
  });

  it("plans the full protocol as the committed runs: each architecture at its own rate, seeds innermost", () => {
    const plan = phaseTransition.plan({ quick: false, data: { kind: "digits" } });
    // 30 sweeps, then the curvature analysis on the first three seeds of each architecture
    expect(plan.runs).toHaveLength(30 + 6 * CURVATURE_SEEDS.length);
    const curvature = plan.runs.slice(30);
    expect(curvature.map((r) => phaseTransition.runKey(r)).slice(0, 4)).toEqual([
      "curvature-linear-s0",
      "curvature-linear-s1",
      "curvature-linear-s2",
      "curvature-mlp-s0",
    ]);
    for (const r of curvature) {
      expect(r).toMatchObject({ analysis: "curvature", curvatureDirections: 10 });
    }
    for (const r of plan.runs.slice(0, 30)) {
      expect(r).not.toHaveProperty("analysis");
      expect(r).not.toHaveProperty("curvatureDirections");
    }
    expect(plan.runs.map((r) => phaseTransition.runKey(r)).slice(0, 6)).toEqual([
      "linear-s0",
      "linear-s1",
      "linear-s2",
      "linear-s3",
      "linear-s4",
      "mlp-s0",
    ]);
    for (const r of plan.runs) expect(r.learningRate).toBe(LEARNING_RATES[r.arch]);
    expect(plan.runs[0]!.rs).toHaveLength(41);
    expect(() =>
      phaseTransition.plan({ quick: true, data: { kind: "cifar10", dir: "x" } }),
    ).toThrow(/CIFAR-10 is not supported/);
  });
});

describe("phase-transition --quick", () => {
  it("runs end to end: no architecture fails at r = 0.1, most have failed by r = 100", async () => {
    const out = mkdtempSync(join(tmpdir(), "ghosts-phase-"));
    roots.push(out);
    const outcome = await runExperiment(phaseTransition, { out, quick: true });
    const file = outcome.file;
    expect(file.seeds).toEqual([0]);
    expect(file.durationSeconds).toBeGreaterThan(0);
    expect(file.config).toMatchObject({
      grid: { arch: [...QUICK_ARCHITECTURES] },
      protocol: { steps: 150 },
      seeds: [0],
    });
    const s = outcome.summary;
    expect(s.table.map((t) => t.arch)).toEqual([...QUICK_ARCHITECTURES]);
    expect(s.curves).toHaveLength(QUICK_ARCHITECTURES.length * s.rGrid.points);
    for (const t of s.table) {
      expect(t.preStepAcc).toBeGreaterThan(0.85); // trained, not at chance
      expect(t.rhoA).toBeGreaterThan(0);
      expect(t.minFailR).toBeGreaterThan(0.1);
    }
    const at = (r: number) => s.curves.filter((c) => Math.abs(c.r - r) < 1e-9);
    const small = at(0.1);
    expect(small).toHaveLength(QUICK_ARCHITECTURES.length);
    for (const c of small) expect(fails(c.retained, c.inflation)).toBe(false);
    const large = at(100);
    const failed = large.filter((c) => fails(c.retained, c.inflation));
    expect(failed.length).toBeGreaterThan(large.length / 2);
    expect(existsSync(join(outcome.dir, "retained-accuracy.svg"))).toBe(true);
    expect(existsSync(join(outcome.dir, "loss-inflation.svg"))).toBe(true);
    expect(outcome.report.tables[0]!.rows).toHaveLength(QUICK_ARCHITECTURES.length);
    // the curvature analysis: ρ_a equals the sweep's along the same (gradient) direction
    const c = s.curvature!;
    expect(c.rows.map((r) => `${r.group}/${r.kind}`)).toEqual(
      QUICK_ARCHITECTURES.flatMap((a) => [`${a}/gradient`, `${a}/random`]),
    );
    for (const t of s.table) {
      const g = c.points.find((p) => p.group === t.arch && p.kind === "gradient")!;
      expect(g.rhoA).toBe(t.rhoA);
      expect(g.kappa).toBeGreaterThan(0);
    }
    expect(c.points.every((p) => p.ratio > 0)).toBe(true);
    expect(existsSync(join(outcome.dir, "curvature-vs-radius.svg"))).toBe(true);
    expect(outcome.report.tables[1]!.title).toMatch(/Curvature step/);
    expect(["yes", "partly", "no"]).toContain(outcome.report.verdict.reproduced);
  });
});
