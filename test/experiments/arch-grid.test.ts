/**
 * `arch-grid`: the plans (full, quick, a variant), a small grid through the runner (MLP+LN
 * only: the transformer and CNN+BN full-batch runs do not fit the test budget; same code
 * path), and the verdict on hand-made summaries.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ArchGridMethod,
  type ArchGridRow,
  type ArchGridSummary,
  archGrid,
} from "../../packages/cli/src/experiments/arch-grid.js";
import {
  decodeJson,
  ExperimentInputError,
  type ExperimentOutcome,
  type JsonObject,
  runExperiment,
} from "../../packages/cli/src/experiments/framework/index.js";
import { DIVERGED_LOSS } from "../../packages/cli/src/experiments/framework/stats.js";
import { getExperiment } from "../../packages/cli/src/experiments/registry.js";

const VERSION = (createRequire(import.meta.url)("../../package.json") as { version: string })
  .version;
const DIGITS = { kind: "digits" } as const;

describe("arch-grid plans", () => {
  it("the full plan is the paper's grid (3 archs × 4 spikes × 3 methods × 5 seeds), then the arms", () => {
    const all = archGrid.plan({ quick: false, data: DIGITS });
    const plan = { ...all, runs: all.runs.slice(0, 3 * 4 * 3 * 5) };
    // the grid's cells carry no split or evaluation: the committed run specs stay as they were
    expect(plan.runs.every((r) => !("split" in r) && !("evaluation" in r))).toBe(true);
    expect(plan.config.seeds).toEqual([0, 1, 2, 3, 4]);
    expect(plan.config.protocol).toMatchObject({ steps: 200, spikeAt: 50, learningRate: 0.015 });
    expect(plan.config.describe).toMatchObject({ batchSize: "full", spikeOnce: true });
    const keys = new Set(plan.runs.map((r) => archGrid.runKey(r)));
    expect(keys.size).toBe(plan.runs.length);
    // ρ-clip probes every step; every baseline run measures the radius at the spike step only
    for (const r of all.runs) expect(r.probeEvery).toBe(r.method.startsWith("rho-clip") ? 1 : 50);
    // the full protocol trains and tests on the whole split (no subset in its run specs)
    expect(plan.runs.every((r) => r.trainSubset === undefined && r.testSubset === undefined)).toBe(
      true,
    );
    // the arms: at 10000× only, 5 seeds, the published protocol on every architecture with
    // the published controller and the baselines (and our ρ-clip on MLP+LN)
    const arms = all.runs.slice(plan.runs.length);
    expect(arms).toHaveLength((3 * 3 + 1) * 5);
    expect(arms.every((r) => r.spike === 10000 && r.evaluation === "batch-stats")).toBe(true);
    expect(arms.every((r) => r.split === "head")).toBe(true);
    expect(new Set(arms.map((r) => `${r.arch}/${r.method}`))).toEqual(
      new Set([
        ...["cnn-bn", "mlp-ln", "transformer"].flatMap((a) =>
          ["rho-clip-grad", "plain", "grad-clip"].map((m) => `${a}/${m}`),
        ),
        "mlp-ln/rho-clip",
      ]),
    );
    expect(archGrid.runKey(arms[0])).toBe("mlp-ln-x10000-rho-clip-grad-published-s0-n200");
    expect(new Set(all.runs.map((r) => archGrid.runKey(r))).size).toBe(all.runs.length);
  });

  it("the quick plan is small: one seed, spikes 10 and 10000, 30 steps on a data subset", () => {
    const plan = archGrid.plan({ quick: true, data: DIGITS });
    expect(plan.runs).toHaveLength(3 * 2 * 3 + 3 * 3 + 1);
    expect(new Set(plan.runs.map((r) => r.spike))).toEqual(new Set([10, 10000]));
    expect(plan.runs.every((r) => r.steps === 30 && r.spikeAt === 10 && r.seed === 0)).toBe(true);
    expect(plan.runs.every((r) => r.trainSubset === 256 && r.testSubset === 180)).toBe(true);
    // the probe interval follows the quick spike step
    for (const r of plan.runs) expect(r.probeEvery).toBe(r.method.startsWith("rho-clip") ? 1 : 10);
    expect(archGrid.plan({ quick: true, seeds: [3, 4], data: DIGITS }).config.seeds).toEqual([
      3, 4,
    ]);
  });

  it("rejects grids it cannot run", () => {
    const plan = (settings: Parameters<typeof archGrid.withSettings>[0]) => () =>
      archGrid.withSettings(settings).plan({ quick: false, data: DIGITS });
    expect(() => archGrid.plan({ quick: true, seeds: [], data: DIGITS })).toThrow(
      ExperimentInputError,
    );
    expect(plan({ steps: 80, spikeAt: 80 })).toThrow(/spike step/);
    expect(plan({ spike: [0] })).toThrow(/spikes must be positive/);
    expect(() =>
      archGrid.plan({ quick: false, data: { kind: "cifar10", dir: "/nowhere" } }),
    ).toThrow(ExperimentInputError);
  });
});

describe("arch-grid through the runner (MLP+LN, spikes 10 and 10000, 30 steps, the published arm)", () => {
  const variant = archGrid.withSettings({ arch: ["mlp-ln"] }, undefined, {
    arms: [
      {
        settings: {
          arch: ["mlp-ln"],
          spike: [10000],
          method: ["rho-clip-grad", "plain", "grad-clip"],
        },
        add: { split: "head", evaluation: "batch-stats" },
      },
    ],
  });
  const steps = 30;
  let out: string;
  let outcome: ExperimentOutcome<ArchGridSummary>;
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), "ghosts-arch-grid-"));
    outcome = await runExperiment(variant, { out, quick: true });
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  const row = (spike: number, method: ArchGridMethod): ArchGridRow => {
    const r = outcome.summary.table.find(
      (t) => t.spike === spike && t.method === method && t.split === "stratified",
    );
    if (r === undefined) throw new Error(`no row ${spike} ${method}`);
    return r;
  };

  it("is registered under its id", () => {
    expect(getExperiment("arch-grid")).toBe(archGrid);
  });

  it("writes summary.json with the framework's fields and the table of the issue", () => {
    const file = decodeJson(readFileSync(outcome.summaryPath, "utf8")) as JsonObject;
    expect(file.experiment).toBe("arch-grid");
    expect(file.version).toBe(VERSION);
    expect(file.seeds).toEqual([0]);
    expect(typeof file.durationSeconds).toBe("number");
    expect(((file.config as JsonObject).grid as JsonObject).arch).toEqual(["mlp-ln"]);
    const table = file.table as JsonObject[];
    expect(table.map((r) => `${r.arch}/${r.spike}/${r.method}/${r.split}/${r.evaluation}`)).toEqual(
      [
        "mlp-ln/10/plain/stratified/running-stats",
        "mlp-ln/10/grad-clip/stratified/running-stats",
        "mlp-ln/10/rho-clip/stratified/running-stats",
        "mlp-ln/10000/plain/stratified/running-stats",
        "mlp-ln/10000/grad-clip/stratified/running-stats",
        "mlp-ln/10000/rho-clip/stratified/running-stats",
        "mlp-ln/10000/rho-clip-grad/head/batch-stats",
        "mlp-ln/10000/plain/head/batch-stats",
        "mlp-ln/10000/grad-clip/head/batch-stats",
      ],
    );
    for (const r of table) {
      for (const k of ["medianFinalTestAcc", "q25", "q75", "diverged"]) {
        expect(typeof r[k], k).toBe("number");
      }
    }
    expect(outcome.summary.headlineSpike).toBe(10000);
    expect(outcome.summary.steps).toBe(steps);
    expect(outcome.summary.lossCurves).toHaveLength(3 * steps);
    for (const f of ["accuracy-vs-spike.svg", "loss-curves.svg", "protocols.svg"]) {
      expect(existsSync(join(outcome.dir, f)), f).toBe(true);
    }
  });

  it("counts a seed as diverged exactly when its final training loss exceeds 10", () => {
    for (const r of outcome.summary.table) {
      const diverged = r.medianFinalTrainLoss > DIVERGED_LOSS;
      expect(r.diverged).toBe(diverged ? r.seeds : 0);
    }
  });

  it("ρ-clip caps r at 1 on the spike step; plain Adam's 10000× spike overshoots", () => {
    expect(row(10000, "rho-clip").rAtSpike).toBeLessThanOrEqual(1 + 1e-4);
    expect(row(10000, "plain").rAtSpike).toBeGreaterThan(100);
    // the spike multiplies Adam's step, so r at the spike scales with it
    expect(row(10000, "plain").rAtSpike / row(10, "plain").rAtSpike).toBeCloseTo(1000, -1);
  });

  it("the published arm: the head split's 359 test rows, its own rows and verdict in the report", () => {
    const published = outcome.summary.table.filter((r) => r.split === "head");
    expect(published).toHaveLength(3);
    // the published controller rescales Adam's learning rate, so the applied step may pass ρ
    // along itself; it still saves the run from the spike on MLP+LN
    const pubRho = published.find((r) => r.method === "rho-clip-grad");
    const pubPlain = published.find((r) => r.method === "plain");
    expect(pubRho?.diverged).toBe(0);
    expect(pubRho?.medianFinalTestAcc).toBeGreaterThan((pubPlain?.medianFinalTestAcc ?? 1) + 0.2);
    const titles = outcome.report.tables.map((t) => t.title);
    expect(titles.some((t) => t.startsWith("Published protocol beside ours"))).toBe(true);
    const verdicts = outcome.report.tables.find((t) => t.title.startsWith("Verdict under each"));
    expect(verdicts?.rows.map((r) => r[0])).toEqual(["our protocol", "the published protocol"]);
    expect(outcome.report.verdict.sentence).toContain("Published protocol (");
    // the headline table and the loss curves stay ours
    expect(outcome.report.tables[0].rows).toHaveLength(1);
    expect(new Set(outcome.summary.lossCurves.map((p) => p.method))).toEqual(
      new Set(["plain", "grad-clip", "rho-clip"]),
    );
  });

  it("headline: ρ-clip beats plain Adam and gradient clipping at 10000×", () => {
    const rho = row(10000, "rho-clip").medianFinalTestAcc;
    expect(rho).toBeGreaterThan(row(10000, "plain").medianFinalTestAcc + 0.3);
    expect(rho).toBeGreaterThan(row(10000, "grad-clip").medianFinalTestAcc + 0.3);
    expect(row(10000, "rho-clip").diverged).toBe(0);
    expect(outcome.report.verdict.reproduced).toBe("yes");
  });
});

describe("arch-grid verdict", () => {
  const summary = (
    acc: Record<"plain" | "grad-clip" | "rho-clip", number>,
    spike = 10000,
  ): ArchGridSummary => ({
    table: (["plain", "grad-clip", "rho-clip"] as const).map((method) => ({
      arch: "mlp-ln",
      spike,
      method,
      split: "stratified",
      evaluation: "running-stats",
      medianFinalTestAcc: acc[method],
      q25: acc[method],
      q75: acc[method],
      diverged: 0,
      seeds: 5,
      medianFinalTestLoss: 1,
      medianFinalTrainLoss: 1,
      rAtSpike: 1,
    })),
    lossCurves: [],
    timing: [],
    headlineSpike: spike,
    spikeAt: 50,
    steps: 200,
    divergenceLoss: 10,
  });

  const verdict = (s: ArchGridSummary) => archGrid.report(s).verdict;

  it("is yes when ρ-clip wins clearly at 10000×, no when it does not", () => {
    expect(verdict(summary({ plain: 0.4, "grad-clip": 0.5, "rho-clip": 0.9 })).reproduced).toBe(
      "yes",
    );
    expect(verdict(summary({ plain: 0.4, "grad-clip": 0.85, "rho-clip": 0.9 })).reproduced).toBe(
      "no",
    );
  });

  it("is only partly when ρ-clip wins but stays far below the published accuracy", () => {
    const v = verdict(summary({ plain: 0.1, "grad-clip": 0.1, "rho-clip": 0.6 }));
    expect(v.reproduced).toBe("partly");
    expect(v.sentence).toContain("not as claimed: ρ-clip reaches the paper's 93.9% on MLP+LN");
  });

  it("is no when ρ-clip loses on one architecture of several (the heart of the claim)", () => {
    const one = summary({ plain: 0.4, "grad-clip": 0.5, "rho-clip": 0.9 });
    const table = (["transformer", "mlp-ln", "cnn-bn"] as const).flatMap((arch) =>
      one.table.map((r) => ({
        ...r,
        arch,
        medianFinalTestAcc:
          arch === "cnn-bn" && r.method === "rho-clip" ? 0.55 : r.medianFinalTestAcc,
      })),
    );
    const v = verdict({ ...one, table });
    expect(v.reproduced).toBe("no");
    expect(v.sentence).toContain("ρ-clip beats plain Adam and gradient clipping on CNN+BN");
    expect(verdict({ ...one, table: [] }).reproduced).toBe("n/a");
  });

  it("is only partly at a smaller largest spike, and names the numbers", () => {
    const v = verdict(summary({ plain: 0.4, "grad-clip": 0.5, "rho-clip": 0.9 }, 1000));
    expect(v.reproduced).toBe("partly");
    expect(v.sentence).toContain("90.0%");
    expect(v.sentence).toContain("44.6%");
  });
});
