/**
 * Baselines: the ρ-controllers against what a user would pick instead — Armijo backtracking
 * line search, Polyak step sizes, gradient clipping, and a tuned fixed learning rate — in
 * two settings:
 *
 * - **spike**: MLP+LN on digits, Adam at base LR 0.015, full-batch steps on the training
 *   split, 200 steps, the learning rate multiplied by 10000 at step 50 only (the arch-grid
 *   protocol). ρ-clip (r_max = 1, ρ_a over the training split) is the controller.
 * - **natural**: natural-instability's digits protocol — resnet-small, SGD + momentum 0.9,
 *   batch 128, 10 epochs, no spike — at its most aggressive learning rate (2). ρ-set (r = 1,
 *   ρ_a over the batch) is the controller.
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
 * A seed diverged when its final test loss is above `DIVERGED_LOSS` or not finite (on the
 * test split). No radius telemetry is measured for methods that do not need it (it would
 * inflate ms/step).
 *
 * @module
 */

import type { ControllerSpec, GradientTransformation, OptimizerSpec } from "softmax-ghosts/optim";
import { armijo, polyak } from "softmax-ghosts/optim";
import { z } from "zod";
import { accuracyAxis, bandLines, bars } from "./framework/figures.js";
import { finalAccuracyCell, pct } from "./framework/format.js";
import { anyNumber, count, fraction, nonNegative, resultSchemaOf } from "./framework/schemas.js";
import { type CellOf, experiment } from "./framework/spec.js";
import {
  DIVERGED_LOSS,
  diverged,
  type FinalAccuracy,
  finalAccuracy,
  medianOf,
  quartiles,
} from "./framework/stats.js";
import { msPerStep, trainEpochs } from "./framework/training.js";
import { ExperimentInputError, type Verdict } from "./framework/types.js";

/** The methods compared (grid runs feed "plain" and "tuned-lr"). */
export type BaselineMethod = "grid" | "grad-clip" | "armijo" | "polyak" | "rho-clip" | "rho-set";

/** The two settings. */
export type BaselineSetting = "spike" | "natural";

/** A one-step learning-rate spike. */
type Spike = { multiplier: number; at: number };

/** What a setting fixes for its runs: part of every run spec of the setting. */
type SettingProtocol = {
  model: string;
  optimizer: "adam" | "momentum";
  /** Number of steps (spike setting) or null to use `epochs`. */
  steps: number | null;
  epochs: number | null;
  batchSize: number | "full";
  /** Evaluate every this many steps; null = once per epoch. */
  evalEvery: number | null;
  trainSubset: number | null;
  testSubset: number | null;
};

const SETTINGS: Record<BaselineSetting, SettingProtocol> = {
  spike: {
    model: "mlp-ln",
    optimizer: "adam",
    steps: 200,
    epochs: null,
    batchSize: "full",
    evalEvery: 10,
    trainSubset: null,
    testSubset: null,
  },
  natural: {
    model: "resnet-small",
    optimizer: "momentum",
    steps: null,
    epochs: 10,
    batchSize: 128,
    evalEvery: null,
    trainSubset: null,
    testSubset: null,
  },
};

/**
 * Which runs a setting has (not part of a run spec: `include` picks the runs with them):
 * the setting's own rate (plain, clipping, Armijo, Polyak and ρ-clip use it), the tuning
 * grid, whether its runs are spiked, and its controller.
 */
const ARMS: Record<
  BaselineSetting,
  { lr: number; tuning: number[]; spiked: boolean; controller: "rho-clip" | "rho-set" }
> = {
  spike: {
    lr: 0.015,
    tuning: [0.001, 0.003, 0.01, 0.015, 0.03],
    spiked: true,
    controller: "rho-clip",
  },
  natural: {
    lr: 2,
    tuning: [0.005, 0.02, 0.05, 0.2, 0.5, 2],
    spiked: false,
    controller: "rho-set",
  },
};

/** SGD's momentum in the natural setting. */
const MOMENTUM = 0.9;

const GRID = {
  setting: ["spike", "natural"] as BaselineSetting[],
  method: ["grid", "grad-clip", "armijo", "polyak", "rho-clip", "rho-set"] as BaselineMethod[],
  /** Every setting's rates (each setting keeps its own); null for ρ-set. */
  lr: [0.001, 0.003, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.2, 0.5, 2, null] as (number | null)[],
  /** The spike, or null (grid runs of the spike setting run with and without). */
  spike: [null, { multiplier: 10_000, at: 50 }] as (Spike | null)[],
};

/** One run: a setting's protocol, a method at a rate, with or without the spike, and a seed. */
export type BaselineRun = CellOf<typeof PROTOCOL, typeof GRID, SettingProtocol>;

const PROTOCOL = {
  /** BatchNorm running statistics calibrated on a training batch (a no-op without BatchNorm). */
  bnInit: "batch" as const,
};

/** Whether a grid point is one of the runs of its setting. */
function isArm(c: BaselineRun): boolean {
  const arms = ARMS[c.setting];
  if (c.spike !== null && !arms.spiked) return false;
  switch (c.method) {
    case "grid":
      return c.lr !== null && arms.tuning.includes(c.lr);
    case "rho-set":
      return arms.controller === "rho-set" && c.lr === null;
    case "rho-clip":
    case "grad-clip":
    case "armijo":
    case "polyak":
      return (
        (c.method !== "rho-clip" || arms.controller === "rho-clip") &&
        c.lr === arms.lr &&
        (c.spike !== null) === arms.spiked
      );
  }
}

/** What a run reports. */
export type BaselineResult = {
  finalTestAccuracy: number;
  finalTestLoss: number;
  diverged: boolean;
  /**
   * `msPerStep` of framework/training.ts; the committed full-scale runs hold the mean wall
   * time over all steps (the definition before there was one).
   */
  msPerStep: number;
  /** Test accuracy at each evaluation. */
  curve: { step: number; testAccuracy: number }[];
  /** Effective learning rate per step (null where not finite). */
  effectiveLr: (number | null)[];
  skippedSteps: number;
};

/** Row of the summary table. */
export type BaselineRow = FinalAccuracy & {
  setting: string;
  method: string;
  /** The rate the method ran with (tuned-lr: the chosen one); null for ρ-set. */
  lr: number | null;
  /** Seeds whose final test loss exceeded `DIVERGED_LOSS` (or was not finite). */
  diverged: number;
  seeds: number;
  msPerStep: number;
};

/** The summary. */
export type BaselineSummary = {
  table: BaselineRow[];
  /** No-spike grid used to tune the fixed LR. */
  tuning: (FinalAccuracy & { setting: string; lr: number })[];
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

const LABEL: Record<BaselineMethod | "plain" | "tuned-lr", string> = {
  plain: "plain",
  grid: "fixed LR (grid)",
  "grad-clip": "grad-clip ‖g‖≤1",
  armijo: "Armijo backtracking",
  polyak: "Polyak (capped)",
  "tuned-lr": "tuned fixed LR",
  "rho-clip": "ρ-clip r≤1",
  "rho-set": "ρ-set r=1",
};

function optimizerOf(run: BaselineRun): {
  optimizer: OptimizerSpec;
  controller?: ControllerSpec | GradientTransformation;
} {
  const lr = run.lr ?? 1; // ρ-set ignores the rate
  const optimizer: OptimizerSpec =
    run.optimizer === "adam"
      ? { name: "adam", learningRate: lr }
      : { name: "momentum", learningRate: lr, momentum: MOMENTUM };
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
    const acc = medianOf(accuracies);
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
  return {
    setting,
    method,
    lr,
    ...finalAccuracy(rs.map((r) => r.finalTestAccuracy)),
    diverged: rs.filter((r) => r.diverged).length,
    seeds: rs.length,
    msPerStep: medianOf(rs.map((r) => r.msPerStep)),
  };
}

/** The verdict: an open question of the paper, so a comparison, not a reproduction. */
function baselinesVerdict(s: BaselineSummary): Verdict {
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
    if (ctrl.medianFinalTestAcc >= best.medianFinalTestAcc - 0.01) wins++;
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

/** The curve figures: one panel per setting, a line per method over the steps. */
const perSetting = { x: "step", color: "method", facet: { field: "setting", columns: 2 } } as const;

/** The experiment. */
export const baselines = experiment({
  id: "baselines",
  title: "Baselines: ρ-controllers vs Armijo, Polyak, gradient clipping and a tuned fixed LR",
  claim:
    "Open question (docs/science.md §5): how do backtracking line search and Polyak step sizes compare with the radius controller?",
  protocol: PROTOCOL,
  grid: GRID,
  linked: { axis: "setting", values: SETTINGS },
  seeds: [0, 1, 2, 3, 4],
  quick: {
    seeds: [0],
    lr: [0.003, 0.015, 0.05, 2, null],
    spike: [null, { multiplier: 10_000, at: 15 }],
    linked: { spike: { steps: 30 }, natural: { epochs: 1, batchSize: 64, trainSubset: 128 } },
  },
  describe: { arms: ARMS, divergedLoss: DIVERGED_LOSS },
  validate({ data }) {
    if (data.kind !== "digits") {
      throw new ExperimentInputError(
        "baselines runs on the embedded digits only (its two settings are digits protocols)",
      );
    }
  },
  include: isArm,
  runKey: (c) =>
    `${c.setting}-${c.method}-${c.lr === null ? "auto" : `lr${c.lr}`}${c.spike ? "-spike" : ""}-s${c.seed}`,
  resultSchema: baselineResultSchema,

  async run(c, ctx) {
    const out = await trainEpochs(c, ctx, {
      ...optimizerOf(c),
      epochs: c.epochs ?? 1,
      ...(c.steps === null ? {} : { steps: c.steps }),
      ...(c.evalEvery === null ? {} : { evalEvery: c.evalEvery }),
      // Radius only where a controller needs it (telemetry would inflate ms/step).
      probe: { sampleSet: c.batchSize === "full" ? "train" : "batch", every: 0 },
    });
    return {
      finalTestAccuracy: out.finalTestAccuracy,
      finalTestLoss: out.finalTestLoss,
      diverged: diverged(out.finalTestLoss),
      msPerStep: msPerStep(out.history),
      curve: out.history.flatMap((h) =>
        h.testAccuracy === undefined ? [] : [{ step: h.step + 1, testAccuracy: h.testAccuracy }],
      ),
      effectiveLr: out.history.map((h) =>
        Number.isFinite(h.effectiveLearningRate) ? h.effectiveLearningRate : null,
      ),
      skippedSteps: out.history.filter((h) => h.skipped).length,
    };
  },

  summarize(outcomes, setup): BaselineSummary {
    const table: BaselineRow[] = [];
    const tuning: BaselineSummary["tuning"] = [];
    const tunedLr: Record<string, number> = {};
    const groups: { setting: string; method: string; rs: BaselineResult[] }[] = [];
    for (const setting of setup.grid.setting) {
      const arms = ARMS[setting];
      const of = (method: BaselineMethod, keep: (c: BaselineRun) => boolean = () => true) =>
        outcomes
          .filter((o) => o.cell.setting === setting && o.cell.method === method && keep(o.cell))
          .map((o) => o.result);
      const grid = (lr: number, spiked: boolean) =>
        of("grid", (c) => c.lr === lr && (c.spike !== null) === spiked);
      const gridStats = setup.grid.lr
        .filter((lr): lr is number => lr !== null && arms.tuning.includes(lr))
        .map((lr) => ({ lr, accuracies: grid(lr, false).map((r) => r.finalTestAccuracy) }));
      for (const g of gridStats) tuning.push({ setting, lr: g.lr, ...finalAccuracy(g.accuracies) });
      const tuned = pickTunedLr(gridStats);
      tunedLr[setting] = tuned;
      const add = (method: string, lr: number | null, rs: BaselineResult[]) => {
        if (rs.length === 0) return;
        table.push(rowOf(setting, method, lr, rs));
        groups.push({ setting, method, rs });
      };
      add(LABEL.plain, arms.lr, grid(arms.lr, arms.spiked));
      for (const m of ["grad-clip", "armijo", "polyak"] as const) add(LABEL[m], arms.lr, of(m));
      add(LABEL["tuned-lr"], tuned, grid(tuned, arms.spiked));
      const ctrl = arms.controller;
      add(LABEL[ctrl], ctrl === "rho-set" ? null : arms.lr, of(ctrl));
    }

    const curves: BaselineSummary["curves"] = [];
    const lrCurves: BaselineSummary["lrCurves"] = [];
    for (const { setting, method, rs } of groups) {
      rs[0]!.curve.forEach(({ step }, i) => {
        const q = quartiles(rs.map((r) => r.curve[i]?.testAccuracy ?? Number.NaN));
        curves.push({ setting, method, step, median: q.median, q25: q.q25, q75: q.q75 });
      });
      for (let i = 0; i < rs[0]!.effectiveLr.length; i++) {
        const vals = rs
          .map((r) => r.effectiveLr[i])
          .filter((v): v is number => typeof v === "number" && v > 0);
        if (vals.length > 0) lrCurves.push({ setting, method, step: i, median: medianOf(vals) });
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
        `diverged: final test loss > ${DIVERGED_LOSS} or not finite.`,
      ],
    };
  },

  tables: (s) => [
    {
      title: "Final test accuracy per setting and method",
      columns: ["setting", "method", "lr", "final test acc, median [IQR]", "diverged", "ms/step"],
      rows: s.table.map((r) => [
        r.setting,
        r.method,
        r.lr,
        finalAccuracyCell(r),
        `${r.diverged}/${r.seeds}`,
        r.msPerStep,
      ]),
      note: s.notes.join(" "),
    },
    {
      title: "Tuning grid without the spike (final test accuracy)",
      columns: ["setting", "lr", "final test acc, median [IQR]", "chosen"],
      rows: s.tuning.map((t) => [
        t.setting,
        t.lr,
        finalAccuracyCell(t),
        s.tunedLr[t.setting] === t.lr ? "✓" : "",
      ]),
    },
  ],

  figures: (s) => [
    bars("final-accuracy", "Final test accuracy per method (median, IQR)", s.table, {
      ...accuracyAxis("final test accuracy"),
      x: "setting",
      y: "medianFinalTestAcc",
      group: "method",
      band: ["q25", "q75"],
    }),
    bandLines(
      "accuracy-curves",
      "Test accuracy during training (median, IQR band over seeds)",
      s.curves,
      { ...perSetting, ...accuracyAxis(), y: "median", band: ["q25", "q75"] },
    ),
    bandLines("effective-lr", "Effective learning rate per step (median over seeds)", s.lrCurves, {
      ...perSetting,
      y: "median",
      logY: true,
      points: false,
      yTitle: "effective learning rate",
    }),
  ],

  // An open question has no published claim to check: the summary compares, the verdict says so.
  claims: [],
  verdict: baselinesVerdict,
});
