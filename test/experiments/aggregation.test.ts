/**
 * The `aggregation` experiment: the violation counter, the controller instrumentation, the
 * training loop's reference radius, and one quick run through the runner.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AGGREGATION_ESTIMATORS,
  type AggregationSummary,
  aggregation,
  countViolations,
  instrumentController,
} from "../../packages/cli/src/experiments/aggregation.js";
import {
  type ExperimentOutcome,
  runExperiment,
} from "../../packages/cli/src/experiments/framework/index.js";
import { getExperiment } from "../../packages/cli/src/experiments/registry.js";
import { loadDigits, stratifiedSplit } from "../../src/data/index.js";
import { buildModel } from "../../src/models/index.js";
import { type ControlReport, rhoClip } from "../../src/optim/controllers.js";
import { train } from "../../src/train/train.js";

describe("countViolations", () => {
  it("counts finite r_true above 1 + tolerance and ignores NaN (no applied step)", () => {
    const r = [0.5, 1, 1 + 1e-4, 1.01, Number.NaN, 3, Number.POSITIVE_INFINITY];
    expect(countViolations(r, 1e-3)).toEqual({ violations: 3, applied: 6 });
    expect(countViolations(r, 0)).toEqual({ violations: 4, applied: 6 });
    expect(countViolations([])).toEqual({ violations: 0, applied: 0 });
  });
});

describe("training-loop hooks the experiment relies on", () => {
  const { train: tr, test: te } = stratifiedSplit(loadDigits(), { testFraction: 0.2, seed: 0 });
  const model = buildModel("mlp", { inputDim: 64, numClasses: 10 });

  it("the reference radius equals the telemetry radius when both are over the training split", async () => {
    const res = await train({
      model,
      data: { train: tr, test: te },
      optimizer: { name: "adam", learningRate: 1e-3 },
      steps: 4,
      batchSize: 64,
      evalEvery: 0,
      probe: { sampleSet: "train", reference: { sampleSet: "train" } },
    });
    for (const h of res.history) {
      expect(h.rhoReference).toBeDefined();
      // same direction, same samples, same code: the same number
      expect(h.rhoReference).toBe(h.rhoA);
    }
  });

  it("instrumentController sees every radius call and control report and changes nothing", async () => {
    const reports: ControlReport[] = [];
    let calls = 0;
    const run = (controller: Parameters<typeof train>[0]["controller"]) =>
      train({
        model,
        data: { train: tr, test: te },
        optimizer: { name: "adam", learningRate: 0.05 },
        controller,
        steps: 5,
        batchSize: 32,
        evalEvery: 0,
        probe: { sampleSet: "batch", reference: { sampleSet: "train" } },
      });
    const wrapped = await run(
      instrumentController(rhoClip({ rMax: 1 }), {
        onRadiusMs: (ms) => {
          expect(ms).toBeGreaterThanOrEqual(0);
          calls++;
        },
        onControl: (r) => reports.push(r),
      }),
    );
    const plain = await run(rhoClip({ rMax: 1 }));
    expect(calls).toBe(5);
    expect(reports).toHaveLength(5);
    // the report's τ is computed in float64, the loop's from the float32 update
    reports.forEach((r, i) => {
      expect(r.tau).toBeCloseTo(wrapped.history[i].tau, 5);
    });
    const strip = (h: typeof plain.history) => h.map(({ wallMs: _w, ...rest }) => rest);
    expect(strip(wrapped.history)).toEqual(strip(plain.history));
    // the batch radius is at least the training-split radius (fewer samples, smaller max)
    // (float32 rounding differs between a batch and the whole split: a relative slack)
    for (const h of wrapped.history) {
      expect(h.rhoA).toBeGreaterThanOrEqual(h.rhoReference! * (1 - 1e-5));
    }
  });
});

describe("aggregation, quick, through the runner", () => {
  let out: string;
  let outcome: ExperimentOutcome<AggregationSummary>;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), "ghosts-aggregation-"));
    outcome = (await runExperiment(aggregation, {
      out,
      quick: true,
    })) as ExperimentOutcome<AggregationSummary>;
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("is registered", () => {
    expect(getExperiment("aggregation")).toBe(aggregation);
  });

  it("stores each estimator's sample set and reduction in its run spec", () => {
    const runs = aggregation.plan({ quick: false, data: { kind: "digits" } }).runs;
    expect(runs).toHaveLength(AGGREGATION_ESTIMATORS.length * 5);
    for (const e of AGGREGATION_ESTIMATORS) {
      const own = runs.filter((r) => r.estimator === e.name);
      expect(own.map((r) => r.seed)).toEqual([0, 1, 2, 3, 4]);
      for (const r of own) expect([r.sampleSet, r.aggregate]).toEqual([e.sampleSet, e.aggregate]);
    }
  });

  it("writes a summary with config, seeds, timing and one row per estimator", () => {
    const { file, summary } = outcome;
    expect(file.seeds).toEqual([0]);
    expect(file.quick).toBe(true);
    expect(typeof file.durationSeconds).toBe("number");
    expect(file.config).toMatchObject({
      protocol: { baseLr: 0.015, multiplier: 10000, steps: 40, spikeAt: 20 },
      describe: { spikeOnce: true, controller: "rho-clip" },
    });
    expect(summary.table.map((r) => r.estimator)).toEqual(
      AGGREGATION_ESTIMATORS.map((e) => e.name),
    );
    const { steps } = outcome.summary;
    for (const row of summary.table) {
      for (const key of [
        "msPerStep",
        "overheadPct",
        "fractionRTrueAbove1",
        "medianFinalTestAcc",
        "q25",
        "q75",
      ] as const) {
        expect(typeof row[key]).toBe("number");
      }
      expect(row.appliedSteps).toBeGreaterThan(0);
      expect(row.appliedSteps).toBeLessThanOrEqual(steps);
      expect(row.fractionRTrueAbove1).toBe(row.violations / row.appliedSteps);
      expect(row.q25).toBeLessThanOrEqual(row.medianFinalTestAcc);
      expect(row.medianFinalTestAcc).toBeLessThanOrEqual(row.q75);
    }
    expect(summary.rTrueCurves.length).toBeGreaterThan(0);
    for (const f of outcome.figures) expect(existsSync(f.path)).toBe(true);
    expect(outcome.figures.map((f) => f.name)).toEqual([
      "cost",
      "violations",
      "accuracy",
      "r-true",
    ]);
  });

  it("the training-split estimator never lets r_true > 1 through; the batch one at least as often", () => {
    const row = (name: string) => outcome.summary.table.find((r) => r.estimator === name)!;
    expect(row("train").fractionRTrueAbove1).toBe(0);
    expect(row("train").maxRTrue).toBeLessThanOrEqual(1 + outcome.summary.violationTolerance);
    expect(row("batch").fractionRTrueAbove1).toBeGreaterThanOrEqual(
      row("train").fractionRTrueAbove1,
    );
    // the ×10000 spike is far outside the disk without a controller
    expect(row("plain").rTrueAtSpike).toBeGreaterThan(10);
    expect(row("train").medianFinalTestAcc).toBeGreaterThan(row("plain").medianFinalTestAcc);
    expect(row("plain").radiusMsPerStep).toBe(0);
    expect(row("train").radiusMsPerStep).toBeGreaterThan(0);
  });

  it("has a report table and a verdict", () => {
    expect(outcome.report.tables[0].rows.length).toBe(AGGREGATION_ESTIMATORS.length);
    expect(outcome.report.verdict.reproduced).toBe("n/a");
    expect(outcome.report.verdict.sentence.length).toBeGreaterThan(20);
  });
});
