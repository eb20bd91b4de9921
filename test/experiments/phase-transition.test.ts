import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runExperiment } from "../../packages/cli/src/experiments/framework/index.js";
import {
  fails,
  type PhaseTableRow,
  phaseTransition,
  phaseVerdict,
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

  it("grades the claim from the median failing r per architecture", () => {
    expect(phaseVerdict([row("a", 1.6), row("b", 10)]).reproduced).toBe("yes");
    expect(phaseVerdict([row("a", 1.6), row("b", 25)]).reproduced).toBe("partly");
    expect(phaseVerdict([row("a", 1.6), row("b", Number.POSITIVE_INFINITY)]).reproduced).toBe(
      "partly",
    );
    expect(phaseVerdict([row("a", 0.5), row("b", 2)]).reproduced).toBe("partly");
    expect(phaseVerdict([row("a", 0.5), row("b", 0.2)]).reproduced).toBe("no");
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
    expect(file.config).toMatchObject({ archs: [...QUICK_ARCHITECTURES], steps: 150, seeds: [0] });
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
    expect(["yes", "partly", "no"]).toContain(outcome.report.verdict.reproduced);
  });
});
