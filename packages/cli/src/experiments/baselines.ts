/**
 * Baselines: the ρ-controllers against what a user would pick instead — Armijo backtracking
 * line search, Polyak step sizes, gradient clipping, and a tuned fixed learning rate — in
 * two settings:
 *
 * - **spike**: MLP+LN on digits, Adam at base LR 0.015, full-batch steps on the training
 *   split, 200 steps, the learning rate multiplied by 10000 at step 50 only (the arch-grid
 *   protocol). ρ-clip (r_max = 1, ρ_a over the training split) is the controller.
 * - **natural**: the natural-instability setting — resnet-small on digits, SGD + momentum
 *   0.9, batch 128, 10 epochs, no spike — at its most aggressive learning rate (2).
 *   ρ-set (r = 1, ρ_a over the batch) is the controller.
 *
 * Armijo and Polyak are chain links placed after the learning-rate link (src/optim/armijo.ts,
 * src/optim/polyak.ts): the scheduled step — spike included — is Armijo's trial step and
 * Polyak's cap, so each guards the same proposal the ρ-controller guards. Gradient clipping
 * (‖g‖ ≤ 1) clips the gradient before the optimizer.
 *
 * Tuned fixed LR: a small grid of learning rates is run without the spike; the rate with
 * the best median final test accuracy is "what a user who tuned would use", and its row
 * reports the same rate under the setting (with the spike in the spike setting). In the
 * natural setting the selection is made on the same runs it reports (optimistic: picked on
 * the test accuracy it shows). "plain" is the grid run at the setting's own rate.
 *
 * A seed diverged when its final test loss is above 10 or not finite (arch-grid's rule,
 * on the test split). ms/step is the mean wall time of a training step (test evaluations
 * excluded; no radius telemetry is measured for methods that do not need it).
 *
 * @module
 */

import { batchesPerEpoch } from "softmax-ghosts/data";
import type { ControllerSpec, GradientTransformation, OptimizerSpec } from "softmax-ghosts/optim";
import { armijo, polyak } from "softmax-ghosts/optim";
import type { TrainOptions } from "softmax-ghosts/train";
import { z } from "zod";
import { summarise } from "../report/stats.js";
import { barGroups, lineWithBand } from "../report/vega.js";
import { anyNumber, count, fraction, nonNegative, resultSchemaOf } from "./framework/schemas.js";
import {
  defineExperiment,
  ExperimentInputError,
  type ExperimentReport,
  type JsonObject,
  type ReportTable,
} from "./framework/types.js";
import {
  DIGITS_SETTING,
  msPerStep,
  runData,
  sharedModel,
  trainAndRelease,
  withCalibratedBatchNorm,
} from "./natural-instability.js";

/** The methods compared (grid runs feed "plain" and "tuned-lr"). */
export type BaselineMethod = "grid" | "grad-clip" | "armijo" | "polyak" | "rho-clip" | "rho-set";

/** One run. */
export type BaselineRun = {
  setting: "spike" | "natural";
  method: BaselineMethod;
  /** Learning rate (Adam's base rate, momentum's rate, Armijo's trial and Polyak's cap); null for ρ-set. */
  lr: number | null;
  /** The one-step spike, or null. */
  spike: { multiplier: number; at: number } | null;
  model: string;
  optimizer: "adam" | "momentum";
  /** Number of steps (spike setting) or null to use `epochs`. */
  steps: number | null;
  epochs: number | null;
  batchSize: number | "full";
  /** Evaluate every this many steps; null = once per epoch. */
  evalEvery: number | null;
  seed: number;
  trainSubset: number | null;
  testSubset: number | null;
  /**
   * BatchNorm running statistics at initialisation: calibrated on a training batch (see
   * `withCalibratedBatchNorm` in natural-instability.ts; a no-op without BatchNorm).
   */
  bnInit: "batch";
};

/** What a run reports. */
export type BaselineResult = {
  finalTestAccuracy: number;
  finalTestLoss: number;
  diverged: boolean;
  msPerStep: number;
  /** Test accuracy at each evaluation. */
  curve: { step: number; testAccuracy: number }[];
  /** Effective learning rate per step (null where not finite). */
  effectiveLr: (number | null)[];
  skippedSteps: number;
};

/** Row of the summary table. */
export type BaselineRow = {
  setting: string;
  method: string;
  /** The rate the method ran with (tuned-lr: the chosen one); null for ρ-set. */
  lr: number | null;
  medianFinalTestAcc: number;
  q25: number;
  q75: number;
  /** Seeds whose final test loss exceeded 10 (or was not finite). */
  diverged: number;
  seeds: number;
  msPerStep: number;
};

/** The summary. */
export type BaselineSummary = {
  table: BaselineRow[];
  /** No-spike grid used to tune the fixed LR. */
  tuning: { setting: string; lr: number; medianFinalTestAcc: number; q25: number; q75: number }[];
  /** The tuned rate per setting. */
  tunedLr: { [setting: string]: number };
  /** Median test accuracy per evaluation step, per setting × method (figures). */
  curves: {
    setting: string;
    method: string;
    step: number;
    median: number;
    q25: number;
    q75: number;
  }[];
  /** Median effective learning rate per step, per setting × method (figures). */
  lrCurves: { setting: string; method: string; step: number; median: number }[];
  notes: string[];
};

/** A setting's fixed protocol. */
type SettingSpec = {
  model: string;
  optimizer: "adam" | "momentum";
  /** The setting's own rate: plain, clipping, Armijo, Polyak and ρ-clip use it. */
  lr: number;
  grid: number[];
  spike: { multiplier: number; at: number } | null;
  steps: number | null;
  epochs: number | null;
  batchSize: number | "full";
  evalEvery: number | null;
  trainSubset: number | null;
  testSubset: number | null;
  controller: "rho-clip" | "rho-set";
};

const FULL: Record<"spike" | "natural", SettingSpec> = {
  spike: {
    model: "mlp-ln",
    optimizer: "adam",
    lr: 0.015,
    grid: [0.001, 0.003, 0.01, 0.015, 0.03],
    spike: { multiplier: 10_000, at: 50 },
    steps: 200,
    epochs: null,
    batchSize: "full",
    evalEvery: 10,
    trainSubset: null,
    testSubset: null,
    controller: "rho-clip",
  },
  natural: {
    model: DIGITS_SETTING.model,
    optimizer: "momentum",
    lr: Math.max(...DIGITS_SETTING.fixedLrs),
    grid: [0.005, 0.02, 0.05, 0.2, 0.5, 2],
    spike: null,
    steps: null,
    epochs: DIGITS_SETTING.epochs,
    batchSize: DIGITS_SETTING.batchSize,
    evalEvery: null,
    trainSubset: null,
    testSubset: null,
    controller: "rho-set",
  },
};

const QUICK: Record<"spike" | "natural", SettingSpec> = {
  spike: {
    ...FULL.spike,
    grid: [0.003, 0.015],
    spike: { multiplier: 10_000, at: 15 },
    steps: 30,
    evalEvery: 10,
  },
  natural: { ...FULL.natural, grid: [0.05, 2], epochs: 1, batchSize: 64, trainSubset: 128 },
};

const DIVERGED_LOSS = 10;

function labelOf(method: BaselineMethod | "plain" | "tuned-lr"): string {
  switch (method) {
    case "plain":
      return "plain";
    case "grid":
      return "fixed LR (grid)";
    case "grad-clip":
      return "grad-clip ‖g‖≤1";
    case "armijo":
      return "Armijo backtracking";
    case "polyak":
      return "Polyak (capped)";
    case "tuned-lr":
      return "tuned fixed LR";
    case "rho-clip":
      return "ρ-clip r≤1";
    case "rho-set":
      return "ρ-set r=1";
  }
}

function optimizerOf(run: BaselineRun): {
  optimizer: OptimizerSpec;
  controller?: ControllerSpec | GradientTransformation;
} {
  const lr = run.lr ?? 1; // ρ-set ignores the rate
  const optimizer: OptimizerSpec =
    run.optimizer === "adam"
      ? { name: "adam", learningRate: lr }
      : { name: "momentum", learningRate: lr, momentum: DIGITS_SETTING.momentum };
  if (run.spike) optimizer.spike = { ...run.spike, once: true };
  switch (run.method) {
    case "grid":
      return { optimizer };
    case "grad-clip":
      return { optimizer, controller: { name: "grad-clip", maxNorm: 1 } };
    case "rho-clip":
      return { optimizer, controller: { name: "rho-clip", rMax: 1 } };
    case "rho-set":
      return { optimizer, controller: { name: "rho-set", rTarget: 1 } };
    case "armijo":
      return { optimizer, controller: armijo() };
    case "polyak":
      return { optimizer, controller: polyak({ fStar: 0 }) };
  }
}

/** Picks the tuned rate: best median final accuracy over seeds, ties to the smaller rate. */
export function pickTunedLr(grid: { lr: number; accuracies: number[] }[]): number {
  let best: { lr: number; acc: number } | null = null;
  for (const { lr, accuracies } of [...grid].sort((a, b) => a.lr - b.lr)) {
    const acc = summarise(accuracies, { dropNaN: true }).median;
    if (best === null || acc > best.acc) best = { lr, acc };
  }
  if (best === null) throw new RangeError("pickTunedLr: empty grid");
  return best.lr;
}

function rowOf(
  setting: string,
  method: string,
  lr: number | null,
  rs: BaselineResult[],
): BaselineRow {
  const acc = summarise(
    rs.map((r) => r.finalTestAccuracy),
    { dropNaN: true },
  );
  return {
    setting,
    method,
    lr,
    medianFinalTestAcc: acc.median,
    q25: acc.q25,
    q75: acc.q75,
    diverged: rs.filter((r) => r.diverged).length,
    seeds: rs.length,
    msPerStep: summarise(rs.map((r) => r.msPerStep)).median,
  };
}

/** Aggregates the runs (pure; exported for tests). */
export function summarizeBaselines(
  config: JsonObject,
  results: { run: BaselineRun; result: BaselineResult }[],
): BaselineSummary {
  const settings = config.settings as Record<
    string,
    { lr: number; grid: number[]; spike: unknown }
  >;
  const table: BaselineRow[] = [];
  const tuning: BaselineSummary["tuning"] = [];
  const tunedLr: Record<string, number> = {};
  const groups: { setting: string; method: string; rs: BaselineResult[] }[] = [];
  for (const [setting, spec] of Object.entries(settings)) {
    const hasSpike = spec.spike !== null;
    const grid = (lr: number, spiked: boolean) =>
      results
        .filter(
          (x) =>
            x.run.setting === setting &&
            x.run.method === "grid" &&
            x.run.lr === lr &&
            (x.run.spike !== null) === spiked,
        )
        .map((x) => x.result);
    const gridStats = spec.grid.map((lr) => ({
      lr,
      accuracies: grid(lr, false).map((r) => r.finalTestAccuracy),
    }));
    for (const g of gridStats) {
      const s = summarise(g.accuracies, { dropNaN: true });
      tuning.push({ setting, lr: g.lr, medianFinalTestAcc: s.median, q25: s.q25, q75: s.q75 });
    }
    const tuned = pickTunedLr(gridStats);
    tunedLr[setting] = tuned;
    const add = (method: string, lr: number | null, rs: BaselineResult[]) => {
      if (rs.length === 0) return;
      table.push(rowOf(setting, method, lr, rs));
      groups.push({ setting, method, rs });
    };
    add(labelOf("plain"), spec.lr, grid(spec.lr, hasSpike));
    for (const m of ["grad-clip", "armijo", "polyak"] as const) {
      const rs = results.filter((x) => x.run.setting === setting && x.run.method === m);
      add(
        labelOf(m),
        spec.lr,
        rs.map((x) => x.result),
      );
    }
    add(labelOf("tuned-lr"), tuned, grid(tuned, hasSpike));
    for (const m of ["rho-clip", "rho-set"] as const) {
      const rs = results.filter((x) => x.run.setting === setting && x.run.method === m);
      add(
        labelOf(m),
        rs[0]?.run.lr ?? null,
        rs.map((x) => x.result),
      );
    }
  }

  const curves: BaselineSummary["curves"] = [];
  const lrCurves: BaselineSummary["lrCurves"] = [];
  for (const { setting, method, rs } of groups) {
    const steps = rs[0]!.curve.map((c) => c.step);
    steps.forEach((step, i) => {
      const s = summarise(
        rs.map((r) => r.curve[i]?.testAccuracy ?? Number.NaN),
        { dropNaN: true },
      );
      curves.push({ setting, method, step, median: s.median, q25: s.q25, q75: s.q75 });
    });
    const n = rs[0]!.effectiveLr.length;
    for (let i = 0; i < n; i++) {
      const vals = rs.map((r) => r.effectiveLr[i]).filter((v): v is number => v !== null && v > 0);
      if (vals.length > 0)
        lrCurves.push({ setting, method, step: i, median: summarise(vals).median });
    }
  }
  return {
    table,
    tuning,
    tunedLr,
    curves,
    lrCurves,
    notes: [
      "spike: mlp-ln, Adam base LR 0.015, full-batch steps, LR ×10000 at one step only; ρ-clip uses ρ_a over the training split.",
      "natural: resnet-small, SGD + momentum 0.9, batch 128, no spike, at the aggressive rate; ρ-set uses ρ_a over the batch; BatchNorm running statistics initialised from a training batch (see natural-instability).",
      "Armijo: trial step = the scheduled step, c = 0.1, β = 0.5, ≤ 20 backtracks; Polyak: η = min(lr, (f − 0)/‖∇f‖²) along the optimizer's direction.",
      "tuned fixed LR: best median final test accuracy of the no-spike grid (natural: selected on the runs it reports — optimistic).",
      "diverged: final test loss > 10 or not finite.",
    ],
  };
}

function verdictOf(s: BaselineSummary): ExperimentReport["verdict"] {
  const parts: string[] = [];
  let wins = 0;
  let settings = 0;
  for (const setting of [...new Set(s.table.map((r) => r.setting))]) {
    const rows = s.table.filter((r) => r.setting === setting);
    const ctrl = rows.find((r) => r.method.startsWith("ρ"));
    if (!ctrl) continue;
    settings++;
    const others = rows.filter((r) => r !== ctrl);
    const best = others.reduce((a, b) => (b.medianFinalTestAcc > a.medianFinalTestAcc ? b : a));
    const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
    const ok = ctrl.medianFinalTestAcc >= best.medianFinalTestAcc - 0.01;
    if (ok) wins++;
    parts.push(
      `${setting}: ${ctrl.method} ${pct(ctrl.medianFinalTestAcc)} vs best alternative ${best.method} ${pct(best.medianFinalTestAcc)}`,
    );
  }
  return {
    reproduced: "n/a",
    sentence: `Open question of the paper (no published numbers). ${parts.join("; ")}; the controller matches or beats the best alternative in ${wins} of ${settings} settings.`,
  };
}

/** Shape and ranges of {@link BaselineResult}, checked on every cached run file. */
export const baselineResultSchema = resultSchemaOf<BaselineResult>()(
  z.object({
    finalTestAccuracy: fraction,
    finalTestLoss: anyNumber,
    diverged: z.boolean(),
    msPerStep: nonNegative,
    curve: z.array(z.object({ step: count, testAccuracy: fraction })),
    effectiveLr: z.array(nonNegative.nullable()),
    skippedSteps: count,
  }),
);

/** The experiment definition. */
export const baselines = defineExperiment<BaselineRun, BaselineResult, BaselineSummary>({
  id: "baselines",
  title: "Baselines: ρ-controllers vs Armijo, Polyak, gradient clipping and a tuned fixed LR",
  claim:
    "Open question (docs/science.md §5): how do backtracking line search and Polyak step sizes compare with the radius controller?",
  plan(opts) {
    if (opts.data.kind !== "digits") {
      throw new ExperimentInputError(
        "baselines runs on the embedded digits only (its two settings are digits protocols)",
      );
    }
    const specs = opts.quick ? QUICK : FULL;
    const seeds = opts.seeds ?? (opts.quick ? [0] : [0, 1, 2, 3, 4]);
    const runs: BaselineRun[] = [];
    for (const setting of ["spike", "natural"] as const) {
      const sp = specs[setting];
      const base = {
        setting,
        model: sp.model,
        optimizer: sp.optimizer,
        steps: sp.steps,
        epochs: sp.epochs,
        batchSize: sp.batchSize,
        evalEvery: sp.evalEvery,
        trainSubset: sp.trainSubset,
        testSubset: sp.testSubset,
        bnInit: "batch" as const,
      };
      for (const seed of seeds) {
        for (const lr of sp.grid) {
          runs.push({ ...base, method: "grid", lr, spike: null, seed });
          if (sp.spike) runs.push({ ...base, method: "grid", lr, spike: sp.spike, seed });
        }
        for (const method of ["grad-clip", "armijo", "polyak"] as const) {
          runs.push({ ...base, method, lr: sp.lr, spike: sp.spike, seed });
        }
        if (sp.controller === "rho-clip") {
          runs.push({ ...base, method: "rho-clip", lr: sp.lr, spike: sp.spike, seed });
        } else {
          runs.push({ ...base, method: "rho-set", lr: null, spike: null, seed });
        }
      }
    }
    const settings: JsonObject = {};
    for (const [name, sp] of Object.entries(specs)) settings[name] = { ...sp, spike: sp.spike };
    return { config: { seeds, settings, divergedLoss: DIVERGED_LOSS }, runs };
  },
  resultSchema: baselineResultSchema,
  runKey: (run) =>
    `${run.setting}-${run.method}-${run.lr === null ? "auto" : `lr${run.lr}`}${run.spike ? "-spike" : ""}-s${run.seed}`,
  async execute(run, ctx) {
    const data = runData(ctx, ctx.data, run.seed, run.trainSubset, run.testSubset);
    const shared = sharedModel(run.model, data.train.d, Math.max(data.train.numClasses, 2));
    const model = withCalibratedBatchNorm(shared, data.train);
    const bs = run.batchSize === "full" ? data.train.n : run.batchSize;
    const stepsPerEpoch = batchesPerEpoch(data.train.n, bs);
    const steps = run.steps ?? (run.epochs ?? 1) * stepsPerEpoch;
    const { optimizer, controller } = optimizerOf(run);
    const options: TrainOptions = {
      model,
      data,
      optimizer,
      steps,
      batchSize: run.batchSize,
      evalEvery: run.evalEvery ?? stepsPerEpoch,
      seed: run.seed,
      // Radius only where a controller needs it (telemetry would inflate ms/step).
      probe: { sampleSet: run.batchSize === "full" ? "train" : "batch", every: 0 },
    };
    if (controller !== undefined) options.controller = controller;
    const out = await trainAndRelease(options, ctx);
    const loss = out.finalTestLoss;
    return {
      finalTestAccuracy: out.finalTestAccuracy,
      finalTestLoss: loss,
      diverged: !(loss <= DIVERGED_LOSS),
      msPerStep: msPerStep(out.history),
      curve: out.history
        .filter((h) => h.testAccuracy !== undefined)
        .map((h) => ({ step: h.step + 1, testAccuracy: h.testAccuracy! })),
      effectiveLr: out.history.map((h) =>
        Number.isFinite(h.effectiveLearningRate) ? h.effectiveLearningRate : null,
      ),
      skippedSteps: out.history.filter((h) => h.skipped).length,
    };
  },
  summarize: summarizeBaselines,
  figures(s) {
    return [
      {
        name: "final-accuracy",
        title: "Final test accuracy per method (median, IQR)",
        spec: barGroups({
          data: s.table.map((r) => ({ ...r })),
          x: "setting",
          y: "medianFinalTestAcc",
          group: "method",
          lo: "q25",
          hi: "q75",
          yTitle: "final test accuracy",
          yDomain: [0, 1],
        }),
      },
      {
        name: "accuracy-curves",
        title: "Test accuracy during training (median, IQR band over seeds)",
        spec: lineWithBand({
          data: s.curves.map((c) => ({ ...c })),
          x: "step",
          y: "median",
          lo: "q25",
          hi: "q75",
          color: "method",
          facet: { field: "setting", columns: 2 },
          yTitle: "test accuracy",
          yDomain: [0, 1],
        }),
      },
      {
        name: "effective-lr",
        title: "Effective learning rate per step (median over seeds)",
        spec: lineWithBand({
          data: s.lrCurves.map((c) => ({ ...c })),
          x: "step",
          y: "median",
          color: "method",
          facet: { field: "setting", columns: 2 },
          logY: true,
          points: false,
          yTitle: "effective learning rate",
        }),
      },
    ];
  },
  report(s) {
    const pct = (v: number) => 100 * v;
    const tables: ReportTable[] = [
      {
        title: "Final test accuracy (%) per setting and method",
        columns: ["setting", "method", "lr", "median", "q25", "q75", "diverged", "ms/step"],
        rows: s.table.map((r) => [
          r.setting,
          r.method,
          r.lr,
          pct(r.medianFinalTestAcc),
          pct(r.q25),
          pct(r.q75),
          `${r.diverged}/${r.seeds}`,
          r.msPerStep,
        ]),
        note: s.notes.join(" "),
      },
      {
        title: "Tuning grid without the spike (final test accuracy, %)",
        columns: ["setting", "lr", "median", "q25", "q75", "chosen"],
        rows: s.tuning.map((t) => [
          t.setting,
          t.lr,
          pct(t.medianFinalTestAcc),
          pct(t.q25),
          pct(t.q75),
          s.tunedLr[t.setting] === t.lr ? "✓" : "",
        ]),
      },
    ];
    return { tables, verdict: verdictOf(s) };
  },
});
