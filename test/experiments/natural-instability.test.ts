import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDataLoader } from "../../packages/cli/src/experiments/framework/data.js";
import { pct } from "../../packages/cli/src/experiments/framework/format.js";
import {
  type ExperimentOutcome,
  runExperiment,
} from "../../packages/cli/src/experiments/framework/runner.js";
import {
  CIFAR10_FIXED_LRS,
  DIGITS_FIXED_LRS,
  digestHistory,
  type NaturalSummary,
  naturalInstability,
} from "../../packages/cli/src/experiments/natural-instability.js";
import { getExperiment } from "../../packages/cli/src/experiments/registry.js";
import { CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES } from "../../src/data/cifar10.js";
import type { StepRecord } from "../../src/train/train.js";

const out = mkdtempSync(join(tmpdir(), "softmax-ghosts-ni-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("natural-instability --quick (through the runner)", () => {
  let outcome: ExperimentOutcome<NaturalSummary>;

  beforeAll(async () => {
    outcome = await runExperiment(naturalInstability, { out, quick: true });
  }, 240_000);

  it("is registered and writes a summary with config, seeds, timing and both figures", () => {
    expect(getExperiment("natural-instability")).toBe(naturalInstability);
    const { file, summary } = outcome;
    expect(file.seeds).toEqual([0]);
    expect(file.durationSeconds).toBeGreaterThan(0);
    expect(file.config).toMatchObject({
      protocol: { setting: "digits", model: "resnet-small", momentum: 0.9, batchSize: 64 },
      grid: { lr: [...DIGITS_FIXED_LRS, null], rTarget: [0.5, 1, 2, 4, null] },
      describe: { sampleSet: "batch" },
    });
    expect(summary.table.map((r) => r.method)).toEqual([
      "fixed η=0.005",
      "fixed η=0.005, published protocol",
      "fixed η=0.05",
      "fixed η=0.5",
      "fixed η=0.5, published protocol",
      "fixed η=2",
      "fixed η=2, published protocol",
      "ρ-set r=0.5",
      "ρ-set r=1",
      "ρ-set r=1, published protocol",
      "ρ-set r=2",
      "ρ-set r=4",
      "ρ-set r=1, BN (0,1) init",
    ]);
    expect(summary.table.filter((r) => r.variant === "published").map((r) => r.published)).toEqual([
      null,
      null,
      null,
      null,
    ]);
    for (const row of summary.table) {
      expect(row.medianFinalTestAcc).toBeGreaterThanOrEqual(0);
      expect(row.medianFinalTestAcc).toBeLessThanOrEqual(1);
      expect(row.q25).toBeLessThanOrEqual(row.q75);
    }
    // two epochs of 128/64 = 2 steps
    expect(summary.stepsPerEpoch).toBe(2);
    expect(summary.perEpoch.length).toBe(13 * 2);
    expect(summary.smallestFixedLr.lr).toBe(0.005);
    expect(summary.smallestFixedLr.stepsPerRun).toBe(4);
    expect(outcome.figures.map((f) => f.name)).toEqual(["accuracy-per-epoch", "max-r-per-epoch"]);
    expect(outcome.report.tables.length).toBe(3);
    expect(summary.publishedSmallestFixedLr!.lr).toBe(0.005);
    expect(summary.referenceCodeNote).toMatch(/--target-r/);
    // the published variant's fixed arms measure r every 50 steps: only step 0 of 4 here
    const pubFixed = outcome.summary.table.find(
      (r) => r.method === "fixed η=2, published protocol",
    );
    expect(pubFixed!.medianStepsOverR1).toBeLessThanOrEqual(1);
    // the verdict (its rule: test/experiments/verdicts.test.ts) quotes this run's numbers
    const fixed = summary.table.filter(
      (r) => r.kind === "fixed" && r.bnInit === "batch" && r.variant === undefined,
    );
    const bestFixed = Math.max(...fixed.map((r) => r.medianFinalTestAcc));
    expect(outcome.report.verdict.sentence).toContain(`vs best fixed ${pct(bestFixed)}`);
    // one seed: the accuracy cell is the median alone, no degenerate IQR
    expect(outcome.report.tables[0]!.rows[0]![1]).toBe(pct(summary.table[0]!.medianFinalTestAcc));
  });

  it("the most aggressive fixed η steps past r = 1; ρ-set's r equals its target", () => {
    const { table, rhoSetMaxRelDeviation } = outcome.summary;
    const aggressive = table.find((r) => r.lr === Math.max(...DIGITS_FIXED_LRS))!;
    expect(aggressive.medianMaxR!).toBeGreaterThan(1);
    const safe = table.find((r) => r.lr === Math.min(...DIGITS_FIXED_LRS))!;
    expect(safe.medianMaxR!).toBeLessThan(aggressive.medianMaxR!);
    for (const row of table.filter((r) => r.kind === "rho-set")) {
      expect(row.medianMaxR! / row.rTarget!).toBeCloseTo(1, 5);
    }
    // float32 step lengths: the measured r matches the target to rounding
    expect(rhoSetMaxRelDeviation!).toBeLessThan(1e-5);
  });
});

describe("digestHistory", () => {
  const rec = (step: number, r: number, acc?: number): StepRecord => ({
    step,
    loss: 1,
    batchAccuracy: 0.5,
    tau: 1,
    rhoA: 1 / r,
    r,
    effectiveLearningRate: 0.1 * (step + 1),
    skipped: false,
    wallMs: 1,
    ...(acc === undefined ? {} : { testAccuracy: acc, testLoss: 1 - acc }),
  });

  it("splits into epochs with the epoch's max r and the last evaluation, and counts r > 1", () => {
    const d = digestHistory(
      [rec(0, 0.5), rec(1, 1.5, 0.3), rec(2, Number.NaN), rec(3, 0.9, 0.6), rec(4, 3, 0.7)],
      2,
    );
    expect(d.epochs.map((e) => [e.epoch, e.maxR, e.testAccuracy])).toEqual([
      [1, 1.5, 0.3],
      [2, 0.9, 0.6],
      [3, 3, 0.7],
    ]);
    expect(d.r).toEqual([0.5, 1.5, null, 0.9, 3]);
    expect([d.stepsOverR1, d.firstStepOverR1, d.maxR, d.steps]).toEqual([2, 1, 3, 5]);
  });
});

describe("plans per data kind", () => {
  const plan = (data: Parameters<typeof naturalInstability.plan>[0]["data"], quick = false) =>
    naturalInstability.plan({ quick, data });

  it("digits: five seeds of our nine arms, three of the published variant's four", () => {
    const { runs } = plan({ kind: "digits" });
    expect(runs.length).toBe(5 * 9 + 3 * 4);
    const keys = runs.filter((r) => r.seed === 0).map((r) => naturalInstability.runKey(r));
    expect(keys).toEqual([
      "digits-lr0.005-s0",
      "digits-lr0.005-pub-s0",
      "digits-lr0.05-s0",
      "digits-lr0.5-s0",
      "digits-lr0.5-pub-s0",
      "digits-lr2-s0",
      "digits-lr2-pub-s0",
      "digits-rho0.5-s0",
      "digits-rho1-s0",
      "digits-rho1-pub-s0",
      "digits-rho2-s0",
      "digits-rho4-s0",
      "digits-rho1-bn01-s0",
    ]);
    expect(runs.every((r) => r.model === "resnet-small" && r.trainSubset === null)).toBe(true);
    // ours: the committed run specs, no variant settings; the published variant's
    const ours = runs.filter((r) => !("variant" in r));
    expect(ours.length).toBe(45);
    expect(ours.every((r) => !("weightDecay" in r) && !("probeMode" in r))).toBe(true);
    const pub = runs.filter((r) => r.variant === "published");
    expect(pub.map((r) => r.seed)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
    expect(pub[0]).toMatchObject({
      weightDecay: 5e-4,
      probeMethod: "fd",
      fdStep: 1e-4,
      probeMode: "train",
      logEvery: 50,
      bnInit: "batch",
    });
  });

  it("a CSV of images runs the digits protocol under its own name", () => {
    const { runs } = plan({ kind: "csv", path: "x.csv", standardize: false });
    expect(runs.length).toBe(5 * 9 + 3 * 4);
    expect(runs.every((r) => r.setting === "csv" && r.model === "resnet-small")).toBe(true);
    expect(naturalInstability.runKey(runs[0]!)).toBe("csv-lr0.005-s0");
  });

  it("--quick: one seed, a 128-image subset, batch 64, two epochs", () => {
    const { runs } = plan({ kind: "digits" }, true);
    expect(runs.length).toBe(9 + 4);
    expect(runs[0]).toMatchObject({ trainSubset: 128, testSubset: null, batchSize: 64, epochs: 2 });
  });
});

describe("CIFAR-10 through the framework's data hook", () => {
  it("is read by default (worker threads too): a generated folder loads, channel-normalised", () => {
    const dir = join(out, "cifar");
    mkdirSync(dir);
    [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].forEach((name, f) => {
      const bytes = new Uint8Array(3 * 3073);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + f * 13) % 251;
      for (let r = 0; r < 3; r++) bytes[r * 3073] = (r + f) % 10;
      writeFileSync(join(dir, name), bytes);
    });
    const split = createDataLoader()({ kind: "cifar10", dir }, 0);
    expect([split.train.n, split.train.d, split.test.n]).toEqual([15, 3072, 3]);
    let s = 0;
    for (let i = 0; i < split.train.n; i++) s += split.train.x[i * 3072 + 5]!;
    // per-channel normalisation: the red channel's values are centred over all pixels
    let red = 0;
    for (let i = 0; i < split.train.n; i++)
      for (let p = 0; p < 1024; p++) red += split.train.x[i * 3072 + p]!;
    expect(Math.abs(red / (15 * 1024))).toBeLessThan(1e-12);
    expect(Number.isFinite(s)).toBe(true);
  });

  it("plans ResNet-18 with the paper's learning rates for --data cifar10:DIR", () => {
    const plan = naturalInstability.plan({ quick: false, data: { kind: "cifar10", dir: "/x" } });
    expect(plan.config).toMatchObject({
      protocol: { setting: "cifar10", model: "resnet18" },
      grid: { lr: [...CIFAR10_FIXED_LRS, null] },
    });
    expect(plan.runs.length).toBe(5 * 9);
    expect(plan.runs.every((r) => r.model === "resnet18" && r.epochs === 10)).toBe(true);
    expect(plan.runs.filter((r) => r.method === "fixed").map((r) => r.lr)).toEqual(
      CIFAR10_FIXED_LRS.flatMap((lr) => [lr, lr, lr, lr, lr]),
    );
    // --quick on CIFAR-10: what fits jax-js's 4 GiB wasm memory
    const quick = naturalInstability.plan({ quick: true, data: { kind: "cifar10", dir: "/x" } });
    expect(quick.runs[0]).toMatchObject({
      model: "resnet18",
      trainSubset: 64,
      testSubset: 64,
      batchSize: 16,
      epochs: 1,
    });
  });
});
