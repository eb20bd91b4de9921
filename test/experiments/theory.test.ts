/**
 * The `theory` experiment: its pure parts against closed forms, and one quick run through
 * the runner (summary shape, the δ = 10 mismatch, the KL bound, the ghost-map theorem).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ExperimentOutcome,
  runExperiment,
} from "../../packages/cli/src/experiments/framework/index.js";
import { getExperiment } from "../../packages/cli/src/experiments/registry.js";
import {
  ghostsOf,
  hessianCrossChecks,
  hessianPoint,
  klCases,
  type TheorySummary,
  theory,
} from "../../packages/cli/src/experiments/theory.js";

describe("theory helpers", () => {
  it("hessianPoint matches the logistic closed forms at δ = 10", () => {
    const sigma = 1 / (1 + Math.exp(-10));
    const p = hessianPoint(10);
    expect(p.curvature).toBeCloseTo(1 / (sigma * (1 - sigma)), 6);
    expect(p.curvature2).toBeCloseTo(2 * p.curvature, 6);
    expect(p.radius).toBeCloseTo(Math.sqrt(100 + Math.PI ** 2), 12);
    expect(p.ratio2).toBeGreaterThan(4000);
    expect(p.ratio).toBeLessThan(4000);
  });

  it("cross-checks the radius column with the certified ghost solver", () => {
    const c = hessianCrossChecks([0.1, 1, 5, 20].map(hessianPoint));
    expect(c.allCertified).toBe(true);
    expect(c.radiusRelErr).toBeLessThan(1e-12);
    expect(c.curvatureRelErr).toBeLessThan(1e-12);
  });

  it("klCases is seeded, stays under the bound and gets close to it on two-point laws", () => {
    const opts = { kMax: 12, rMin: 1e-3, rMax: 1e3 };
    const a = klCases(3, 300, opts);
    expect(klCases(3, 300, opts)).toEqual(a);
    expect(klCases(4, 300, opts)).not.toEqual(a);
    for (const c of a) expect(c.ratio).toBeLessThanOrEqual(1 + 1e-9);
    const extremal = a.filter((c) => c.extremal && c.r < 0.01);
    expect(extremal.length).toBeGreaterThan(0);
    // the bound is sharp for the two-point law p = (3 − √3)/6 as t → 0
    expect(Math.max(...extremal.map((c) => c.ratio))).toBeGreaterThan(0.95);
  });

  it("ghostsOf gives the binary closed form ghost", () => {
    // z = [δ, 0], a = [Δ, 0]: ghost at −δ/Δ + iπ/|Δ|
    const g = ghostsOf(new Float64Array([2, 0]), new Float64Array([4, 0]), 1, 2)[0];
    expect(g.re).toBeCloseTo(-0.5, 12);
    expect(g.im).toBeCloseTo(Math.PI / 4, 12);
    expect(g.rhoA).toBeCloseTo(Math.PI / 4, 12);
    expect(g.modulus).toBeCloseTo(Math.hypot(2, Math.PI) / 4, 12);
  });
});

describe("theory plan", () => {
  it("runs the Hessian curve once and the KL and ghost-map parts once per seed", () => {
    const plan = theory.plan({ quick: false, seeds: [4, 7], data: { kind: "digits" } });
    expect(plan.runs.map((r) => theory.runKey(r))).toEqual([
      "hessian",
      "kl-s4",
      "kl-s7",
      "ghost-map-s4",
      "ghost-map-s7",
    ]);
    expect(plan.runs[0]).toEqual({ part: "hessian", deltaMin: 0.1, deltaMax: 20, points: 60 });
    expect(plan.runs[2]).toEqual({
      part: "kl",
      seed: 7,
      cases: 20000,
      kMax: 20,
      rMin: 1e-3,
      rMax: 1e3,
    });
  });
});

describe("theory experiment (quick)", () => {
  let out: string;
  let outcome: ExperimentOutcome<TheorySummary>;
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), "ghosts-theory-"));
    outcome = (await runExperiment(theory, {
      out,
      quick: true,
    })) as ExperimentOutcome<TheorySummary>;
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("is registered", () => {
    expect(getExperiment("theory")).toBe(theory);
  });

  it("writes a summary with config, seeds and duration", () => {
    const f = outcome.file;
    expect(f.seeds).toEqual([0]);
    expect(f.config).toMatchObject({
      parts: {
        hessian: { protocol: { points: 60 } },
        kl: { protocol: { cases: 2000 } },
        "ghost-map": { protocol: { lateStep: 40 } },
      },
    });
    expect(f.durationSeconds).toBeGreaterThan(0);
    for (const name of ["hessian-vs-radius", "kl-remainder", "ghost-map"]) {
      expect(existsSync(join(out, "theory", `${name}.svg`))).toBe(true);
    }
  });

  it("computes the δ = 10 mismatch above 4000× with the 2/L rule", () => {
    const s = outcome.summary;
    expect(s.hessian.curve.length).toBeGreaterThanOrEqual(50);
    expect(s.hessian.curve[0].delta).toBeCloseTo(0.1, 12);
    expect(s.hessian.curve.at(-1)!.delta).toBeCloseTo(20, 12);
    expect(s.hessian.atTen.curvature).toBeCloseTo(2 + 2 * Math.cosh(10), 6);
    expect(s.mismatchAtTen2L).toBeGreaterThan(4000);
    expect(s.mismatchAtTen2L).toBeLessThan(4500);
  });

  it("finds no KL bound violation", () => {
    const s = outcome.summary;
    expect(s.kl.cases).toBe(2000);
    expect(s.kl.violations).toBe(0);
    expect(s.kl.maxRatio).toBeLessThanOrEqual(1);
    expect(s.klHolds).toBe(true);
  });

  it("maps ghosts early and late, none below the set bound π/max Δ_a", () => {
    const s = outcome.summary;
    expect(s.ghostMap.phases.map((p) => p.phase)).toEqual(["early", "late"]);
    for (const p of s.ghostMap.phases) {
      expect(p.minImOverBound).toBeGreaterThanOrEqual(1 - 1e-9);
      expect(p.setRhoStar).toBeGreaterThanOrEqual(p.setRhoA * (1 - 1e-9));
    }
    // later in training the model is sharper along its gradient: ghosts come closer
    const [early, late] = s.ghostMap.phases;
    expect(late.testAccuracy).toBeGreaterThan(early.testAccuracy);
    expect(late.setRhoA).toBeLessThan(early.setRhoA);
    expect(s.ghostMap.points.length).toBeGreaterThan(300);
    expect(s.ghostBoundRatio).toBeGreaterThanOrEqual(1 - 1e-9);
    expect(outcome.report.verdict.reproduced).toBe("yes");
  });
});
