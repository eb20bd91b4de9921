/**
 * The `temperature` experiment: its small numeric helpers, and one quick run through the
 * runner (summary shape, the r_T convention, onsets tighter in r_T than in raw τ).
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
  interpLogLog,
  log10Std,
  QUICK_TEMPERATURES,
  type TemperatureSummary,
  temperature,
} from "../../packages/cli/src/experiments/temperature.js";

describe("temperature helpers", () => {
  it("log10Std is numpy's population std of log10, ignoring non-finite onsets", () => {
    // log10 values 0, 1, 2: mean 1, population variance 2/3
    expect(log10Std([1, 10, 100])).toBeCloseTo(Math.sqrt(2 / 3), 14);
    expect(log10Std([1, 10, 100, Number.POSITIVE_INFINITY])).toBeCloseTo(Math.sqrt(2 / 3), 14);
    expect(log10Std([5])).toBeNaN();
    expect(log10Std([3, 3, 3])).toBe(0);
  });

  it("interpLogLog is exact on power laws and NaN outside the curve", () => {
    const xs = [0.1, 1, 10, 100];
    const ys = xs.map((x) => 3 * x ** 2);
    expect(interpLogLog(xs, ys, 3)).toBeCloseTo(27, 10);
    expect(interpLogLog(xs, ys, 0.1)).toBeCloseTo(0.03, 14);
    expect(interpLogLog(xs, ys, 100)).toBeCloseTo(30000, 8);
    expect(interpLogLog(xs, ys, 0.05)).toBeNaN();
    expect(interpLogLog(xs, ys, 200)).toBeNaN();
  });
});

describe("temperature plan", () => {
  it("plans the full protocol as the committed runs: temperatures outermost, seeds innermost", () => {
    const plan = temperature.plan({ quick: false, data: { kind: "digits" } });
    expect(plan.runs).toHaveLength(40);
    expect(plan.runs.slice(0, 6).map((r) => temperature.runKey(r))).toEqual([
      "T0.25-s0",
      "T0.25-s1",
      "T0.25-s2",
      "T0.25-s3",
      "T0.25-s4",
      "T0.5-s0",
    ]);
    expect(plan.runs[0]).toEqual({
      temperature: 0.25,
      seed: 0,
      arch: "mlp",
      optimizer: { name: "adam", learningRate: 0.01 },
      batchSize: 256,
      steps: 120,
      tauMin: 1e-4,
      gridPoints: 71,
    });
  });
});

describe("temperature experiment (quick)", () => {
  let out: string;
  let outcome: ExperimentOutcome<TemperatureSummary>;
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), "ghosts-temperature-"));
    outcome = (await runExperiment(temperature, {
      out,
      quick: true,
    })) as ExperimentOutcome<TemperatureSummary>;
  }, 180_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("is registered and writes summary, config, seeds, duration and figures", () => {
    expect(getExperiment("temperature")).toBe(temperature);
    const f = outcome.file;
    expect(f.seeds).toEqual([0]);
    expect(f.config).toMatchObject({ grid: { temperature: QUICK_TEMPERATURES } });
    expect(f.durationSeconds).toBeGreaterThan(0);
    for (const name of ["loss-ratio-raw", "loss-ratio-scaled", "onsets"]) {
      expect(existsSync(join(out, "temperature", `${name}.svg`))).toBe(true);
    }
  });

  it("uses ρ_a(T) = πT / max Δ_a(z): the convention holds in every run", () => {
    const s = outcome.summary;
    expect(s.perTemperature.map((p) => p.temperature)).toEqual(QUICK_TEMPERATURES);
    for (const p of s.perTemperature) {
      expect(p.temperatureIdentityError).toBeLessThan(1e-5);
      expect(p.onsetR).toBeCloseTo(p.onsetTau / p.rhoA, 10);
    }
  });

  it("finds onsets tighter in r_T than in raw τ", () => {
    const s = outcome.summary;
    expect(s.neverFailed).toEqual([]);
    expect(Number.isFinite(s.onsetStdRaw)).toBe(true);
    expect(s.onsetStdScaled).toBeLessThan(s.onsetStdRaw);
    // no step inside the bound breaks the loss (r_T < 1 ⇒ ratio < 2)
    for (const p of s.perTemperature) expect(p.onsetR).toBeGreaterThanOrEqual(1);
  });
});
