/**
 * `lr-spike` (docs/science.md §5): a ReLU MLP 64→128→10 trained with Adam (batch 64, 200 steps) whose
 * learning rate is multiplied by 1000 from step 50 on and held there, for base rates 1e-4,
 * 1e-3 and 1e-2; plain Adam against Adam with the ρ-clip controller (r_max = 1). Every step
 * logs the mini-batch loss, the test accuracy, the applied step length τ and ρ_a over the
 * whole training split along the step actually taken.
 *
 * Also exports the small per-step helpers the other spike experiment (`arch-grid`) and the
 * demo share: {@link roundSig}, {@link quantilesPerStep}, {@link cachedModel}.
 *
 * @module
 */

import { disposeTree } from "softmax-ghosts/engine";
import type { Model } from "softmax-ghosts/models";
import { buildModel, type ModelName } from "softmax-ghosts/models";
import type { ControllerSpec } from "softmax-ghosts/optim";
import { train } from "softmax-ghosts/train";
import { z } from "zod";
import { median, quantile, summarise } from "../report/stats.js";
import { type ChartRow, lineWithBand } from "../report/vega.js";
import {
  anyNumber,
  count,
  fraction,
  magnitude,
  optionalFraction,
  radius,
  resultSchemaOf,
} from "./framework/schemas.js";
import {
  defineExperiment,
  ExperimentInputError,
  type FigureSpec,
  type JsonObject,
  type ReportTable,
  type Verdict,
} from "./framework/types.js";

/** The two arms of the comparison. */
export type LrSpikeMethod = "plain" | "rho-clip";

/** One run: a seed × base learning rate × method, with the whole protocol spelled out. */
export type LrSpikeRun = {
  seed: number;
  baseLr: number;
  method: LrSpikeMethod;
  arch: "mlp-relu";
  steps: number;
  batchSize: number;
  /** First step trained at `baseLr × multiplier` (held until the end). */
  spikeAt: number;
  multiplier: number;
  /** ρ-clip's bound on r = τ/ρ_a. */
  rMax: number;
  /** Test accuracy every this many steps (and after the last). */
  evalEvery: number;
  testFraction: number;
};

/** Per-step telemetry of one run, numbers rounded to 5 significant digits. */
export type LrSpikeResult = {
  /** Mini-batch loss before each step. */
  loss: number[];
  /** Test accuracy after each step; null where the step was not evaluated. */
  testAcc: (number | null)[];
  /** Length of the applied update. */
  tau: number[];
  /** ρ_a over the training split along the applied update (NaN where τ = 0). */
  rhoA: number[];
  finalTestAcc: number;
  finalTestLoss: number;
  /** Steps not applied because of a non-finite loss or update. */
  skipped: number;
  numClasses: number;
};

/** One row of the summary table. */
export type LrSpikeRow = {
  lr: number;
  method: LrSpikeMethod;
  medianFinalTestAcc: number;
  q25: number;
  q75: number;
  /** Median over seeds of the per-seed maximum over steps of r = τ/ρ_a. */
  maxR: number;
  /** Largest r of any step of any seed. */
  maxRWorst: number;
  /** Median over seeds of r at the first spiked step. */
  rAtSpike: number;
  /** Median over seeds of the lowest test accuracy after the spike. */
  minAccAfterSpike: number;
  seeds: number;
};

/** One point of the per-step median curves (medians over seeds). */
export type LrSpikeCurvePoint = {
  lr: number;
  method: LrSpikeMethod;
  step: number;
  acc: number | null;
  accQ25: number | null;
  accQ75: number | null;
  loss: number;
  tau: number;
  rhoA: number;
};

/** What `summary.json` holds besides the framework's metadata. */
export type LrSpikeSummary = {
  table: LrSpikeRow[];
  curves: LrSpikeCurvePoint[];
  spikeAt: number;
  steps: number;
  multiplier: number;
  /** 1 / number of classes. */
  chance: number;
};

/** The protocol of docs/science.md §5. */
export const LR_SPIKE_PROTOCOL = {
  lrs: [1e-4, 1e-3, 1e-2],
  methods: ["plain", "rho-clip"] as LrSpikeMethod[],
  seeds: [0, 1, 2, 3, 4],
  steps: 200,
  batchSize: 64,
  spikeAt: 50,
  multiplier: 1000,
  rMax: 1,
  evalEvery: 1,
  testFraction: 0.2,
};

/** `--quick`: one seed, half the steps, the spike a quarter in, sparser evaluation. */
export const LR_SPIKE_QUICK = {
  ...LR_SPIKE_PROTOCOL,
  seeds: [0],
  steps: 100,
  spikeAt: 25,
  evalEvery: 5,
};

/** Accuracy at or above which a run counts as "fine" (verdict). */
export const FINE_ACCURACY = 0.9;
/** Accuracy at or below which plain Adam counts as "dropped to ~50% or lower" (verdict). */
export const DROPPED_ACCURACY = 0.6;
/** Multiple of chance at or below which a run counts as "at chance" (verdict). */
export const CHANCE_FACTOR = 2;

/** `x` rounded to `digits` significant digits (non-finite values unchanged). */
export function roundSig(x: number, digits = 5): number {
  return Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(digits)) : x;
}

/**
 * Quantiles over runs at each step: `series[run][step]` → per step `{median, q25, q75}`,
 * skipping null/NaN entries (null where no run has a value at that step).
 */
export function quantilesPerStep(
  series: (number | null)[][],
): ({ median: number; q25: number; q75: number } | null)[] {
  const steps = Math.max(0, ...series.map((s) => s.length));
  const out: ({ median: number; q25: number; q75: number } | null)[] = [];
  for (let t = 0; t < steps; t++) {
    const xs = series
      .map((s) => s[t])
      .filter((v): v is number => typeof v === "number" && !Number.isNaN(v));
    out.push(
      xs.length === 0
        ? null
        : { median: median(xs), q25: quantile(xs, 0.25), q75: quantile(xs, 0.75) },
    );
  }
  return out;
}

const models = new Map<string, Model>();

/**
 * A model of this thread, built once per (architecture, input width, classes): reusing it
 * across runs keeps its compiled functions, so only the first run pays for compilation.
 * Models hold no parameters, so runs sharing one stay independent.
 */
export function cachedModel(name: ModelName, inputDim: number, numClasses: number): Model {
  const key = `${name}:${inputDim}:${numClasses}`;
  let model = models.get(key);
  if (model === undefined) {
    model = buildModel(name, { inputDim, numClasses });
    models.set(key, model);
  }
  return model;
}

/** A learning rate as a short label: `1e-3`. */
export function lrLabel(lr: number): string {
  const [m, e] = lr.toExponential().split("e");
  return `${m === "1" ? "1" : m}e${e.replace("+", "")}`;
}

const METHOD_LABEL: Record<LrSpikeMethod, string> = { plain: "plain Adam", "rho-clip": "ρ-clip" };

function controllerOf(run: LrSpikeRun): ControllerSpec {
  return run.method === "rho-clip" ? { name: "rho-clip", rMax: run.rMax } : { name: "none" };
}

function ratio(tau: number, rho: number): number {
  return tau > 0 && rho > 0 ? tau / rho : Number.NaN;
}

function maxFinite(xs: number[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const x of xs) if (!Number.isNaN(x) && x > m) m = x;
  return m;
}

/** Shape and ranges of {@link LrSpikeResult}, checked on every cached run file. */
export const lrSpikeResultSchema = resultSchemaOf<LrSpikeResult>()(
  z.object({
    loss: z.array(anyNumber),
    testAcc: z.array(optionalFraction),
    tau: z.array(magnitude),
    rhoA: z.array(radius),
    finalTestAcc: fraction,
    finalTestLoss: anyNumber,
    skipped: count,
    numClasses: count,
  }),
);

/** The experiment definition. */
export const lrSpike = defineExperiment<LrSpikeRun, LrSpikeResult, LrSpikeSummary>({
  id: "lr-spike",
  title: "Learning-rate spike: plain Adam vs ρ-clip",
  claim:
    "With the learning rate ×1000 from step 50 on: at base LR 1e-4 both plain Adam and ρ-clip stay fine; " +
    "at 1e-3 plain Adam drops to ~50% or lower and never recovers (τ ≈ 10 ρ_a); at 1e-2 it falls to " +
    "chance (τ ≈ 100 ρ_a); ρ-clip survives all three.",

  plan(opts) {
    const p = opts.quick ? LR_SPIKE_QUICK : LR_SPIKE_PROTOCOL;
    const seeds = opts.seeds ?? p.seeds;
    if (seeds.length === 0) throw new ExperimentInputError("lr-spike needs at least one seed");
    const runs: LrSpikeRun[] = [];
    for (const baseLr of p.lrs) {
      for (const method of p.methods) {
        for (const seed of seeds) {
          runs.push({
            seed,
            baseLr,
            method,
            arch: "mlp-relu",
            steps: p.steps,
            batchSize: p.batchSize,
            spikeAt: p.spikeAt,
            multiplier: p.multiplier,
            rMax: p.rMax,
            evalEvery: p.evalEvery,
            testFraction: p.testFraction,
          });
        }
      }
    }
    return {
      config: {
        seeds,
        lrs: p.lrs,
        methods: p.methods,
        arch: "mlp-relu",
        optimizer: "adam",
        steps: p.steps,
        batchSize: p.batchSize,
        spikeAt: p.spikeAt,
        multiplier: p.multiplier,
        spikeHeld: true,
        rMax: p.rMax,
        evalEvery: p.evalEvery,
        testFraction: p.testFraction,
        probe: { sampleSet: "train", aggregate: "max", method: "jvp", every: 1 },
      },
      runs,
    };
  },

  resultSchema: lrSpikeResultSchema,
  runKey: (run) => `lr${lrLabel(run.baseLr)}-${run.method}-s${run.seed}`,

  async execute(run, ctx) {
    const data = ctx.loadData(ctx.data, run.seed, run.testFraction);
    const numClasses = Math.max(data.train.numClasses, data.test.numClasses);
    const model = cachedModel(run.arch, data.train.d, numClasses);
    const result = await train({
      model,
      data,
      optimizer: {
        name: "adam",
        learningRate: run.baseLr,
        spike: { multiplier: run.multiplier, at: run.spikeAt },
      },
      controller: controllerOf(run),
      steps: run.steps,
      batchSize: run.batchSize,
      evalEvery: run.evalEvery,
      seed: run.seed,
      // ρ_a along the applied step over the whole training split, every step
      probe: { sampleSet: "train", aggregate: "max", method: "jvp", every: 1 },
      onStep: (rec) => ctx.onProgress((rec.step + 1) / run.steps),
    });
    await ctx.saveWeights?.(result);
    disposeTree(result.params);
    disposeTree(result.state);
    const h = result.history;
    return {
      loss: h.map((r) => roundSig(r.loss)),
      testAcc: h.map((r) => (r.testAccuracy === undefined ? null : roundSig(r.testAccuracy))),
      tau: h.map((r) => roundSig(r.tau)),
      rhoA: h.map((r) => roundSig(r.rhoA)),
      finalTestAcc: result.finalTestAccuracy,
      finalTestLoss: result.finalTestLoss,
      skipped: result.skippedSteps,
      numClasses,
    };
  },

  summarize(config: JsonObject, results) {
    const lrs = config.lrs as number[];
    const methods = config.methods as LrSpikeMethod[];
    const spikeAt = config.spikeAt as number;
    const table: LrSpikeRow[] = [];
    const curves: LrSpikeCurvePoint[] = [];
    for (const lr of lrs) {
      for (const method of methods) {
        const group = results
          .filter((r) => r.run.baseLr === lr && r.run.method === method)
          .map((r) => r.result);
        if (group.length === 0) continue;
        const finals = summarise(
          group.map((g) => g.finalTestAcc),
          { dropNaN: true },
        );
        const rs = group.map((g) => g.tau.map((t, i) => ratio(t, g.rhoA[i])));
        const perSeedMax = rs.map(maxFinite);
        const afterSpike = group.map((g) =>
          Math.min(
            ...g.testAcc.slice(spikeAt).filter((v): v is number => typeof v === "number"),
            g.finalTestAcc,
          ),
        );
        table.push({
          lr,
          method,
          medianFinalTestAcc: finals.median,
          q25: finals.q25,
          q75: finals.q75,
          maxR: roundSig(median(perSeedMax)),
          maxRWorst: roundSig(Math.max(...perSeedMax)),
          rAtSpike: roundSig(median(rs.map((r) => (spikeAt < r.length ? r[spikeAt] : Number.NaN)))),
          minAccAfterSpike: median(afterSpike),
          seeds: group.length,
        });
        const acc = quantilesPerStep(group.map((g) => g.testAcc));
        const loss = quantilesPerStep(group.map((g) => g.loss));
        const tau = quantilesPerStep(group.map((g) => g.tau));
        const rho = quantilesPerStep(group.map((g) => g.rhoA));
        for (let step = 0; step < loss.length; step++) {
          const a = acc[step];
          curves.push({
            lr,
            method,
            step,
            acc: a === null ? null : roundSig(a.median),
            accQ25: a === null ? null : roundSig(a.q25),
            accQ75: a === null ? null : roundSig(a.q75),
            loss: roundSig(loss[step]?.median ?? Number.NaN),
            tau: roundSig(tau[step]?.median ?? Number.NaN),
            rhoA: roundSig(rho[step]?.median ?? Number.NaN),
          });
        }
      }
    }
    const numClasses = Math.max(1, ...results.map((r) => r.result.numClasses));
    return {
      table,
      curves,
      spikeAt,
      steps: config.steps as number,
      multiplier: config.multiplier as number,
      chance: 1 / numClasses,
    };
  },

  figures(summary) {
    return lrSpikeFigures(summary);
  },

  report(summary) {
    return { tables: lrSpikeTables(summary), verdict: lrSpikeVerdict(summary) };
  },
});

/** Test accuracy vs step per base LR, and τ against ρ_a per step. */
export function lrSpikeFigures(summary: LrSpikeSummary): FigureSpec[] {
  const spikeRule = { x: summary.spikeAt, label: `×${summary.multiplier} from here` };
  const accRows: ChartRow[] = summary.curves
    .filter((c) => c.acc !== null)
    .map((c) => ({
      lr: `base LR ${lrLabel(c.lr)}`,
      method: METHOD_LABEL[c.method],
      step: c.step,
      acc: c.acc,
      q25: c.accQ25,
      q75: c.accQ75,
    }));
  const tauRows: ChartRow[] = summary.curves.flatMap((c) => [
    {
      lr: `base LR ${lrLabel(c.lr)}`,
      series: `τ, ${METHOD_LABEL[c.method]}`,
      step: c.step,
      value: c.tau,
    },
    {
      lr: `base LR ${lrLabel(c.lr)}`,
      series: `ρ_a, ${METHOD_LABEL[c.method]}`,
      step: c.step,
      value: c.rhoA,
    },
  ]);
  return [
    {
      name: "accuracy",
      title:
        "Test accuracy per step (median over seeds, IQR band); the learning rate is multiplied " +
        `by ${summary.multiplier} from the dashed line on`,
      spec: lineWithBand({
        data: accRows,
        x: "step",
        y: "acc",
        lo: "q25",
        hi: "q75",
        color: "method",
        facet: { field: "lr", columns: 3 },
        xTitle: "step",
        yTitle: "test accuracy",
        colorTitle: "method",
        yDomain: [0, 1],
        rule: [spikeRule, { y: summary.chance, label: "chance" }],
        points: false,
        width: 300,
        height: 220,
      }),
    },
    {
      name: "tau-vs-rho",
      title:
        "Applied step length τ and radius ρ_a (training split, along the step) per step, " +
        "medians over seeds; plain Adam's τ crossing above its ρ_a is a step past the nearest ghost",
      spec: lineWithBand({
        data: tauRows,
        x: "step",
        y: "value",
        color: "series",
        facet: { field: "lr", columns: 3 },
        xTitle: "step",
        yTitle: "length (parameter space)",
        colorTitle: "",
        logY: true,
        rule: spikeRule,
        points: false,
        width: 300,
        height: 220,
      }),
    },
  ];
}

/** The published outcome per base LR, in words, for the table. */
const PUBLISHED: Record<string, { plain: string; rho: string }> = {
  "1e-4": { plain: "fine", rho: "fine" },
  "1e-3": { plain: "≤ ~50%, never recovers (τ ≈ 10 ρ_a)", rho: "survives" },
  "1e-2": { plain: "chance (τ ≈ 100 ρ_a)", rho: "survives" },
};

function rowOf(summary: LrSpikeSummary, lr: number, method: LrSpikeMethod): LrSpikeRow | undefined {
  return summary.table.find((r) => r.lr === lr && r.method === method);
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : "—";
}

/** The report's table: ours beside the paper's words. */
export function lrSpikeTables(summary: LrSpikeSummary): ReportTable[] {
  const rows: (string | number | null)[][] = summary.table.map((r) => {
    const pub = PUBLISHED[lrLabel(r.lr)];
    return [
      lrLabel(r.lr),
      METHOD_LABEL[r.method],
      `${pct(r.medianFinalTestAcc)} [${pct(r.q25)}, ${pct(r.q75)}]`,
      pct(r.minAccAfterSpike),
      r.rAtSpike,
      r.maxR,
      pub === undefined ? null : r.method === "plain" ? pub.plain : pub.rho,
    ];
  });
  return [
    {
      title: `Final test accuracy after a ×${summary.multiplier} learning-rate spike held from step ${summary.spikeAt}`,
      columns: [
        "base LR",
        "method",
        "final test acc, median [IQR]",
        "lowest acc after spike",
        "r at spike",
        "max r",
        "paper",
      ],
      rows,
      note:
        "r = τ/ρ_a with ρ_a = π/max Δ_a over the training split along the applied step. " +
        "'r at spike': median over seeds at the first spiked step; 'max r': median over seeds of " +
        "each seed's largest r (ρ-clip's r is capped at r_max = 1); 'lowest acc after spike': median " +
        "over seeds of the lowest evaluated test accuracy from the spike on.",
    },
  ];
}

/**
 * The verdict, from the numbers: "fine"/"survives" = median final test accuracy ≥
 * {@link FINE_ACCURACY}; "drops to ~50% or lower" = ≤ {@link DROPPED_ACCURACY}; "chance" = ≤
 * {@link CHANCE_FACTOR} × chance.
 */
export function lrSpikeVerdict(summary: LrSpikeSummary): Verdict {
  const acc = (lr: number, m: LrSpikeMethod) => rowOf(summary, lr, m)?.medianFinalTestAcc;
  const checks: { ok: boolean; text: string }[] = [];
  const plainLow = acc(1e-4, "plain");
  const plainMid = acc(1e-3, "plain");
  const plainHigh = acc(1e-2, "plain");
  if (plainLow !== undefined) {
    checks.push({
      ok: plainLow >= FINE_ACCURACY,
      text: `plain Adam at 1e-4 ends at ${pct(plainLow)}`,
    });
  }
  if (plainMid !== undefined) {
    checks.push({
      ok: plainMid <= DROPPED_ACCURACY,
      text: `at 1e-3 at ${pct(plainMid)} (r ${fmtR(rowOf(summary, 1e-3, "plain")?.rAtSpike)} at the spike)`,
    });
  }
  if (plainHigh !== undefined) {
    checks.push({
      ok: plainHigh <= CHANCE_FACTOR * summary.chance,
      text: `at 1e-2 at ${pct(plainHigh)} (r ${fmtR(rowOf(summary, 1e-2, "plain")?.rAtSpike)})`,
    });
  }
  const rhoRows = summary.table.filter((r) => r.method === "rho-clip");
  const rhoOk = rhoRows.length > 0 && rhoRows.every((r) => r.medianFinalTestAcc >= FINE_ACCURACY);
  const rhoText =
    rhoRows.length === 0
      ? "ρ-clip was not run"
      : `ρ-clip ends at ${rhoRows.map((r) => `${pct(r.medianFinalTestAcc)} (${lrLabel(r.lr)})`).join(", ")}`;
  checks.push({ ok: rhoOk, text: rhoText });
  const passed = checks.filter((c) => c.ok).length;
  const reproduced: Verdict["reproduced"] =
    passed === checks.length ? "yes" : rhoOk && passed >= checks.length - 1 ? "partly" : "no";
  const failed = checks.filter((c) => !c.ok).map((c) => c.text);
  const sentence =
    `${checks.map((c) => c.text).join("; ")}` +
    (failed.length === 0
      ? " — every part of the claim holds."
      : ` — not as claimed: ${failed.join("; ")}.`);
  return { reproduced, sentence: sentence.charAt(0).toUpperCase() + sentence.slice(1) };
}

function fmtR(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return "—";
  return `≈ ${r >= 10 ? Math.round(r) : r.toPrecision(2)}`;
}
