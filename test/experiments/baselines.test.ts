import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BaselineSummary,
  baselines,
  pickTunedLr,
} from "../../packages/cli/src/experiments/baselines.js";
import {
  type ExperimentOutcome,
  runExperiment,
} from "../../packages/cli/src/experiments/framework/runner.js";
import { ExperimentInputError } from "../../packages/cli/src/experiments/framework/types.js";
import { getExperiment } from "../../packages/cli/src/experiments/registry.js";

const out = mkdtempSync(join(tmpdir(), "softmax-ghosts-bl-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("baselines --quick (through the runner)", () => {
  let outcome: ExperimentOutcome<BaselineSummary>;

  beforeAll(async () => {
    outcome = await runExperiment(baselines, { out, quick: true });
  }, 120_000);

  it("is registered and writes the summary table for both settings with config, seeds and timing", () => {
    expect(getExperiment("baselines")).toBe(baselines);
    const { file, summary } = outcome;
    expect(file.seeds).toEqual([0]);
    expect(file.durationSeconds).toBeGreaterThan(0);
    expect(file.config).toMatchObject({
      linked: {
        axis: "setting",
        values: { spike: { model: "mlp-ln", steps: 30 }, natural: { epochs: 1, batchSize: 64 } },
      },
    });
    const methods = (setting: string) =>
      summary.table.filter((r) => r.setting === setting).map((r) => r.method);
    const common = [
      "plain",
      "grad-clip ‖g‖≤1",
      "Armijo backtracking",
      "Polyak (capped)",
      "tuned fixed LR",
    ];
    expect(methods("spike")).toEqual([...common, "ρ-clip r≤1"]);
    expect(methods("natural")).toEqual([...common, "ρ-set r=1"]);
    for (const row of summary.table) {
      expect(Object.keys(row).sort()).toEqual(
        [
          "setting",
          "method",
          "lr",
          "medianFinalTestAcc",
          "q25",
          "q75",
          "diverged",
          "seeds",
          "msPerStep",
        ].sort(),
      );
      expect(row.seeds).toBe(1);
      expect(row.msPerStep).toBeGreaterThan(0);
    }
    // the tuned rate is one of the grid's, and its row reports that rate
    for (const setting of ["spike", "natural"]) {
      const grid = summary.tuning.filter((t) => t.setting === setting).map((t) => t.lr);
      expect(grid).toContain(summary.tunedLr[setting]);
      const tunedRow = summary.table.find(
        (r) => r.setting === setting && r.method === "tuned fixed LR",
      )!;
      expect(tunedRow.lr).toBe(summary.tunedLr[setting]);
    }
    expect(outcome.figures.map((f) => f.name)).toEqual([
      "final-accuracy",
      "accuracy-curves",
      "effective-lr",
    ]);
  });

  it("at the 10000× spike plain Adam and gradient clipping collapse while ρ-clip keeps its accuracy", () => {
    const row = (m: string) =>
      outcome.summary.table.find((r) => r.setting === "spike" && r.method === m)!;
    const rho = row("ρ-clip r≤1");
    expect(rho.medianFinalTestAcc).toBeGreaterThan(0.8);
    expect(rho.diverged).toBe(0);
    expect(row("plain").medianFinalTestAcc).toBeLessThan(rho.medianFinalTestAcc - 0.3);
    expect(row("grad-clip ‖g‖≤1").medianFinalTestAcc).toBeLessThan(rho.medianFinalTestAcc - 0.3);
  });

  it("Armijo's effective rate is the scheduled rate times a power of 1/2", () => {
    const lrs = outcome.summary.lrCurves.filter(
      (c) => c.setting === "spike" && c.method === "Armijo backtracking",
    );
    expect(lrs.length).toBeGreaterThan(0);
    for (const c of lrs) {
      const base = c.step === 15 ? 0.015 * 10_000 : 0.015;
      const k = Math.log2(base / c.median);
      expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-9);
      expect(k).toBeGreaterThanOrEqual(-1e-9);
    }
  });
});

describe("baselines: plan and tuning", () => {
  it("plans the committed full-scale runs: 24 per seed, the spike setting's grid twice", () => {
    const { runs } = baselines.plan({ quick: false, data: { kind: "digits" } });
    expect(runs.length).toBe(5 * 24);
    const keys = runs.filter((r) => r.seed === 0).map((r) => baselines.runKey(r));
    expect(keys.filter((k) => k.startsWith("spike-grid"))).toHaveLength(10);
    expect(keys.filter((k) => k.startsWith("spike-") && !k.startsWith("spike-grid"))).toEqual([
      "spike-grad-clip-lr0.015-spike-s0",
      "spike-armijo-lr0.015-spike-s0",
      "spike-polyak-lr0.015-spike-s0",
      "spike-rho-clip-lr0.015-spike-s0",
    ]);
    expect(keys.filter((k) => k.startsWith("natural-"))).toEqual([
      ...[0.005, 0.02, 0.05, 0.2, 0.5, 2].map((lr) => `natural-grid-lr${lr}-s0`),
      "natural-grad-clip-lr2-s0",
      "natural-armijo-lr2-s0",
      "natural-polyak-lr2-s0",
      "natural-rho-set-auto-s0",
    ]);
    const natural = runs.find((r) => r.setting === "natural")!;
    expect(natural).toMatchObject({ model: "resnet-small", optimizer: "momentum", epochs: 10 });
  });

  it("runs on the embedded digits only", () => {
    expect(() =>
      baselines.plan({ quick: true, data: { kind: "csv", path: "x.csv", standardize: false } }),
    ).toThrow(ExperimentInputError);
  });

  it("picks the rate with the best median accuracy, ties to the smaller rate", () => {
    expect(
      pickTunedLr([
        { lr: 0.1, accuracies: [0.5, 0.9, 0.9] },
        { lr: 0.01, accuracies: [0.9, 0.8, 0.9] },
        { lr: 1, accuracies: [0.2, 0.1, 0.95] },
      ]),
    ).toBe(0.01);
    expect(
      pickTunedLr([
        { lr: 3, accuracies: [0.1] },
        { lr: 2, accuracies: [0.4] },
      ]),
    ).toBe(2);
  });
});
