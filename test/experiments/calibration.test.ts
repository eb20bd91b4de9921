/**
 * The `calibration` experiment: histogram quantiles, the per-checkpoint tracker on closed
 * forms, the radius estimator's `drive` option, and one quick run through the runner.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addToHistogram,
  type CalibrationSummary,
  CalibrationTracker,
  calibration,
  emptyHistogram,
  HIST_WIDTH,
  histogramQuantile,
} from "../../packages/cli/src/experiments/calibration.js";
import {
  type ExperimentOutcome,
  runExperiment,
} from "../../packages/cli/src/experiments/framework/index.js";
import { quantileInf } from "../../packages/cli/src/experiments/framework/stats.js";
import { getExperiment } from "../../packages/cli/src/experiments/registry.js";
import { type ProbeResult, RadiusEstimator, setRhoStar } from "../../src/probe/radius.js";
import { rhoTop2 } from "../../src/theory/binary.js";
import { Rng } from "../../src/util/random.js";

/** A random probe of n samples × k classes. */
function randomProbe(seed: number, n: number, k: number): ProbeResult {
  const rng = new Rng(seed);
  const logits = Float64Array.from({ length: n * k }, () => 3 * rng.normal());
  const a = Float64Array.from({ length: n * k }, () => rng.normal());
  return { a, logits, n, k };
}

describe("log histograms", () => {
  it("quantiles agree with exact quantiles to a bin width", () => {
    const rng = new Rng(1);
    const values = Array.from({ length: 5000 }, () => 10 ** (2 * rng.uniform() ** 2));
    const h = emptyHistogram(0, 5);
    for (const v of values) addToHistogram(h, v);
    for (const q of [0.05, 0.5, 0.95]) {
      const exact = quantileInf(values, q);
      const approx = histogramQuantile(h, q);
      expect(Math.abs(Math.log10(approx / exact))).toBeLessThanOrEqual(HIST_WIDTH);
    }
    expect(histogramQuantile(emptyHistogram(0, 1), 0.5)).toBeNaN();
  });
});

describe("CalibrationTracker", () => {
  it("gives the binary closed form ρ* / ρ_a = √(δ²+π²)/π", () => {
    // two classes: z = [δ_i, 0], a = [Δ_i, 0]
    const deltas = [0, 1, 3, 10];
    const logits = new Float64Array(deltas.flatMap((d) => [d, 0]));
    const a = new Float64Array(deltas.flatMap((_, i) => [0.5 + i, 0]));
    const t = new CalibrationTracker([0, 0, 0, 0], 0, 4);
    const s = t.add(7, { a, logits, n: 4, k: 2 }, null);
    expect(s.uncertified).toBe(0);
    expect(s.ratioMin).toBeCloseTo(1, 12); // δ = 0
    const ratios = t.scatter.map((p) => p.rhoStar / p.rhoA).sort((x, y) => x - y);
    const expected = deltas.map((d) => Math.hypot(d, Math.PI) / Math.PI);
    ratios.forEach((r, i) => {
      expect(r).toBeCloseTo(expected[i], 10);
    });
    // K = 2: the top-2 pair is the whole problem
    for (const p of t.scatter) expect(p.rhoTop2).toBeCloseTo(p.rhoStar, 10);
    expect(s.setRhoA).toBeCloseTo(Math.PI / 3.5, 12);
    expect(s.setRhoStar).toBeCloseTo(Math.min(...t.scatter.map((p) => p.rhoStar)), 12);
  });

  it("never finds ρ* below π/Δ_a on random 10-class samples", () => {
    const t = new CalibrationTracker(new Int32Array(200), 0);
    const s = t.add(0, randomProbe(2, 200, 10), null);
    expect(s.uncertified).toBe(0);
    expect(s.ratioMin).toBeGreaterThanOrEqual(1 - 1e-9);
    expect(s.setRhoStar).toBeGreaterThanOrEqual(s.setRhoA);
  });
});

describe("RadiusEstimator drive", () => {
  const probe = randomProbe(5, 64, 10);
  const labels = Int32Array.from({ length: 64 }, (_, i) => i % 10);
  const all = () => probe;
  const batch = new Int32Array([0, 1, 2]);

  it("hands the controller ρ_a by default", () => {
    const r = new RadiusEstimator(64).estimate(all, batch);
    expect(r.driven).toBe(r.rhoA);
    expect(r.rhoStar).toBeUndefined();
  });

  it("drive rhoStar hands it the exact set-level ρ*", () => {
    const r = new RadiusEstimator(64, { drive: "rhoStar" }).estimate(all, batch);
    expect(r.driven).toBe(setRhoStar(probe).rhoStar);
    expect(r.rhoStar).toBe(r.driven);
    expect(r.driven).toBeGreaterThan(r.rhoA);
  });

  it("drive top2 hands it min over samples of the label/rival estimate", () => {
    const r = new RadiusEstimator(64, { drive: "top2", labels }).estimate(all, batch);
    let expected = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 64; i++) {
      const z = probe.logits.subarray(i * 10, i * 10 + 10);
      const a = probe.a.subarray(i * 10, i * 10 + 10);
      expected = Math.min(expected, rhoTop2(z, a, labels[i]));
    }
    expect(r.driven).toBe(expected);
    expect(r.rhoTop2).toBe(expected);
  });

  it("rejects top2 without labels and unknown drives", () => {
    expect(() => new RadiusEstimator(64, { drive: "top2" })).toThrow(
      'drive "top2" needs the labels of all 64 training samples',
    );
    expect(() => new RadiusEstimator(64, { drive: "nope" as unknown as "rhoA" })).toThrow(
      "unknown radius drive",
    );
  });
});

describe("calibration experiment (quick)", () => {
  let out: string;
  let outcome: ExperimentOutcome<CalibrationSummary>;
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), "ghosts-calibration-"));
    outcome = (await runExperiment(calibration, {
      out,
      quick: true,
    })) as ExperimentOutcome<CalibrationSummary>;
  }, 180_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("is registered and writes summary, config, seeds, duration and figures", () => {
    expect(getExperiment("calibration")).toBe(calibration);
    const f = outcome.file;
    expect(f.seeds).toEqual([0]);
    expect(f.config).toHaveProperty("archs", ["linear", "mlp"]);
    expect(f.durationSeconds).toBeGreaterThan(0);
    for (const name of ["ratio-histogram", "top2-vs-rhostar", "controllers"]) {
      expect(existsSync(join(out, "calibration", `${name}.svg`))).toBe(true);
    }
  });

  it("reports ρ* / ρ_a with min ≥ 1 (the theorem) and ordered quantiles", () => {
    const { ratio, uncertified, samples, perArch } = outcome.summary;
    // the totals are the per-architecture counts added up
    expect(uncertified).toBe(perArch.reduce((s, p) => s + p.uncertified, 0));
    expect(samples).toBe(perArch.reduce((s, p) => s + p.samples, 0));
    expect(samples).toBeGreaterThan(1000);
    expect(ratio.min).toBeGreaterThanOrEqual(1 - 1e-9);
    expect(ratio.q05).toBeGreaterThanOrEqual(ratio.min * (1 - 0.02));
    expect(ratio.median).toBeGreaterThanOrEqual(ratio.q05);
    expect(ratio.q95).toBeGreaterThanOrEqual(ratio.median);
    expect(outcome.summary.perArch.map((p) => p.arch)).toEqual(["linear", "mlp"]);
    expect(outcome.summary.setRatio.min).toBeGreaterThanOrEqual(1 - 1e-9);
    // the overall top-2 over-statement rate is the sample-weighted mean of the per-arch rates
    const weighted = perArch.reduce((s, p) => s + p.top2OverFraction * p.samples, 0) / samples;
    expect(outcome.summary.top2OverFraction).toBeCloseTo(weighted, 9);
    // the quick run's theorem check is what the verdict reads (its rule: verdicts.test.ts)
    expect(outcome.summary.theoremHolds).toBe(true);
    expect(outcome.report.verdict.reproduced).toBe(uncertified === 0 ? "yes" : "partly");
  });

  it("drives ρ-set by ρ_a, ρ* and top-2: ρ_a and ρ* never step past ρ*", () => {
    const c = outcome.summary.controllers;
    expect(c.map((x) => x.drive)).toEqual(["rhoA", "rhoStar", "top2"]);
    const [a, star] = c;
    expect(a.violations).toBe(0);
    expect(a.maxRTrue).toBeLessThanOrEqual(1);
    expect(star.violations).toBe(0);
    // τ = ρ* by construction (float32 rounding of the step length aside)
    expect(Math.abs(star.medianRTrue - 1)).toBeLessThan(1e-3);
    for (const x of c) {
      expect(x.measuredSteps).toBe(30);
      expect(Number.isFinite(x.finalTestLoss.median)).toBe(true);
    }
  });
});
