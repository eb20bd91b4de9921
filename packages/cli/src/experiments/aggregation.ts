/**
 * `aggregation` — the paper's open questions about *which samples* the radius is taken over
 * and *how* their spreads are reduced (docs/science.md §2 "set aggregation", §5 open questions): ρ_a from
 * the full training split, the mini-batch, a fresh random subset, the windowed minimum of
 * batch radii, a bottleneck buffer of the samples that bound recently, and the 0.99-quantile
 * of Δ_a over the training split.
 *
 * Setting (arch-grid-like, but with mini-batches so that the estimators differ): the GELU MLP
 * 64→128→128→10, Adam with base learning rate 0.015, batch 64, 200 steps, the learning rate
 * multiplied by 10000 for the single step 50, ρ-clip (r_max = 1) driven by each estimator,
 * plus plain Adam as the reference. Along every applied step the training loop also measures
 * the ground truth ρ_a(training split, max) (`probe.reference`), so each step has
 * `r_true = τ / ρ_a(train)`: an estimator "lets a step through" when r_true > 1.
 *
 * Cost: the whole step's wall time (`wallMs`, the reference measurement left out) and,
 * directly, the time spent inside the radius callback the controller calls (timed by a thin
 * wrapper around the ρ-clip link).
 *
 * @module
 */

import { disposeTree } from "softmax-ghosts/engine";
import type { GradientTransformation } from "softmax-ghosts/optim";
import { type ControlReport, type RadiusCallback, rhoClip } from "softmax-ghosts/optim";
import { type SampleSet, sampleSetName } from "softmax-ghosts/probe";
import type { Aggregate } from "softmax-ghosts/theory";
import { train } from "softmax-ghosts/train";
import { z } from "zod";
import { formatNumber, median, summarise } from "../report/stats.js";
import { barGroups, type ChartRow, lineWithBand } from "../report/vega.js";
import {
  anyNumber,
  count,
  fraction,
  nonNegative,
  radius,
  resultSchemaOf,
} from "./framework/schemas.js";
import { quantilesPerStep, roundSig } from "./framework/stats.js";
import { modelFor as cachedModel } from "./framework/training.js";
import {
  defineExperiment,
  ExperimentInputError,
  type FigureSpec,
  type JsonObject,
  type ReportTable,
  type Verdict,
} from "./framework/types.js";

/** One estimator arm: a sample set and an aggregation, or `null` for plain Adam (no clip). */
export type AggregationEstimator = {
  /** Short name used in tables, keys and figures. */
  name: string;
  /** Sample set of the controller's radius; null = no controller (plain Adam). */
  sampleSet: SampleSet | null;
  aggregate: Aggregate;
};

/** The estimators compared, in table order. */
export const AGGREGATION_ESTIMATORS: AggregationEstimator[] = [
  { name: "plain", sampleSet: null, aggregate: "max" },
  { name: "train", sampleSet: "train", aggregate: "max" },
  { name: "batch", sampleSet: "batch", aggregate: "max" },
  { name: "random-128", sampleSet: { random: 128 }, aggregate: "max" },
  { name: "window-10", sampleSet: { window: 10 }, aggregate: "max" },
  { name: "bottleneck-32", sampleSet: { bottleneck: 32 }, aggregate: "max" },
  { name: "quantile-0.99", sampleSet: "train", aggregate: { quantile: 0.99 } },
];

/** One run: an estimator × seed, with the whole protocol spelled out. */
export type AggregationRun = {
  estimator: string;
  /** Sample set as JSON (`"train"`, `"batch"`, `{random: 128}`, …); null = plain Adam. */
  sampleSet: SampleSet | null;
  aggregate: Aggregate;
  seed: number;
  arch: "mlp";
  steps: number;
  batchSize: number;
  baseLr: number;
  /** The single step trained at `baseLr × multiplier`. */
  spikeAt: number;
  multiplier: number;
  rMax: number;
  evalEvery: number;
  testFraction: number;
};

/** What one run measured (numbers rounded to 5 significant digits). */
export type AggregationResult = {
  /** r_true = τ/ρ_a(train, max) along each applied step; NaN where τ = 0 or skipped. */
  rTrue: number[];
  /** Median over steps (the first five, which compile and warm up, left out) of the step's wall time, ms. */
  msPerStep: number;
  /** Median over steps of the time spent measuring the controller's radius, ms (0 for plain). */
  radiusMsPerStep: number;
  /** Median over steps of the step's time outside the radius measurement, ms. */
  baseMsPerStep: number;
  /** Applied steps with τ > 0 (those that have an r_true). */
  appliedSteps: number;
  /** Applied steps with r_true > 1 + tolerance. */
  violations: number;
  /** Steps the controller shortened (scale < 1). */
  clippedSteps: number;
  finalTestAcc: number;
  finalTestLoss: number;
  skipped: number;
  numClasses: number;
};

/** One row of the summary table. */
export type AggregationRow = {
  estimator: string;
  /** Sample set / aggregation in words ("train, max", "random:128, max", …). */
  description: string;
  /** Median over seeds of each run's median step time (reference measurement excluded), ms. */
  msPerStep: number;
  /** Median over seeds of each run's median radius-measurement time, ms. */
  radiusMsPerStep: number;
  /** Median over seeds of each run's median time outside the radius measurement, ms. */
  baseMsPerStep: number;
  /**
   * 100 × radiusMsPerStep / baseMsPerStep: the radius's cost relative to the rest of the same
   * run's steps (both timed in the same run, so insensitive to load that varies between runs).
   */
  overheadPct: number;
  /** 100 × (msPerStep − plain msPerStep) / plain msPerStep: the same from whole-step times. */
  overheadPctWall: number;
  /** Violations / applied steps, pooled over seeds. */
  fractionRTrueAbove1: number;
  violations: number;
  appliedSteps: number;
  /** Median over seeds of r_true at the spike step. */
  rTrueAtSpike: number;
  /** Median over seeds of each run's largest r_true. */
  maxRTrue: number;
  /** Clipped steps / applied steps, pooled over seeds. */
  fractionClipped: number;
  medianFinalTestAcc: number;
  q25: number;
  q75: number;
  /** Seeds whose final test loss exceeds 10 or is not finite. */
  diverged: number;
  seeds: number;
};

/** A point of the r_true-per-step curves (quantiles over seeds). */
export type AggregationCurvePoint = {
  estimator: string;
  step: number;
  median: number;
  q25: number;
  q75: number;
};

/** What `summary.json` holds besides the framework's metadata. */
export type AggregationSummary = {
  table: AggregationRow[];
  rTrueCurves: AggregationCurvePoint[];
  plainMsPerStep: number;
  spikeAt: number;
  multiplier: number;
  steps: number;
  violationTolerance: number;
  chance: number;
};

/** The full protocol. */
export const AGGREGATION_PROTOCOL = {
  seeds: [0, 1, 2, 3, 4],
  arch: "mlp" as const,
  steps: 200,
  batchSize: 64,
  baseLr: 0.015,
  spikeAt: 50,
  multiplier: 10000,
  rMax: 1,
  evalEvery: 50,
  testFraction: 0.2,
};

/** `--quick`: one seed, 40 steps, the spike at step 20. */
export const AGGREGATION_QUICK = { ...AGGREGATION_PROTOCOL, seeds: [0], steps: 40, spikeAt: 20 };

/**
 * r_true counts as above 1 only beyond this relative tolerance: the reference radius is
 * measured again (in float32) along the clipped step, so a step clipped to exactly r = 1 by
 * the full-split estimator reads back as 1 ± ~1e-6.
 */
export const VIOLATION_TOLERANCE = 1e-3;

/** Final test loss above which a run counts as diverged (as in arch-grid). */
export const DIVERGED_LOSS = 10;

/** Warm-up steps (jit compilation) left out of the timing medians. */
const TIMING_WARMUP = 5;

/** "train, max", "batch, max", "train, q0.99", "none (plain Adam)". */
export function describeEstimator(e: {
  sampleSet: SampleSet | null;
  aggregate: Aggregate;
}): string {
  if (e.sampleSet === null) return "no radius (plain Adam)";
  const agg = typeof e.aggregate === "string" ? e.aggregate : `q${e.aggregate.quantile}`;
  return `${sampleSetName(e.sampleSet)}, ${agg}`;
}

/** What {@link instrumentController} reports. */
export type ControllerHooks = {
  /** Duration of each call of the loop's radius callback, ms. */
  onRadiusMs?: (ms: number) => void;
  /** Each control report of the link (before the loop sees it). */
  onControl?: (report: ControlReport) => void;
};

/**
 * Wraps a controller link so that every call of the loop's radius callback is timed and every
 * control report is seen; the link's behaviour and what the loop receives are unchanged.
 */
export function instrumentController(
  link: GradientTransformation,
  hooks: ControllerHooks,
): GradientTransformation {
  return {
    init: (params) => link.init(params),
    update(updates, state, params, extra) {
      const radius = extra?.radius as RadiusCallback | undefined;
      const control = extra?.onControl as ((r: ControlReport) => void) | undefined;
      const wrapped: Record<string, unknown> = { ...extra };
      if (typeof radius === "function") {
        wrapped.radius = ((p, norm, kind) => {
          const t0 = performance.now();
          try {
            return radius(p, norm, kind);
          } finally {
            hooks.onRadiusMs?.(performance.now() - t0);
          }
        }) satisfies RadiusCallback;
      }
      wrapped.onControl = (r: ControlReport) => {
        hooks.onControl?.(r);
        if (typeof control === "function") control(r);
      };
      return link.update(updates, state, params, wrapped);
    },
  };
}

/** Counts of r_true above `1 + tolerance` among the non-NaN values (NaN = no applied step). */
export function countViolations(
  rTrue: readonly number[],
  tolerance = VIOLATION_TOLERANCE,
): { violations: number; applied: number } {
  let violations = 0;
  let applied = 0;
  for (const r of rTrue) {
    if (Number.isNaN(r)) continue;
    applied++;
    if (r > 1 + tolerance) violations++;
  }
  return { violations, applied };
}

function medianOrNaN(xs: number[]): number {
  const finite = xs.filter((x) => !Number.isNaN(x));
  return finite.length === 0 ? Number.NaN : median(finite);
}

function maxOrNaN(xs: readonly number[]): number {
  let m = Number.NaN;
  for (const x of xs) if (!Number.isNaN(x) && !(x <= m)) m = x;
  return m;
}

/** Shape and ranges of {@link AggregationResult}, checked on every cached run file. */
export const aggregationResultSchema = resultSchemaOf<AggregationResult>()(
  z.object({
    rTrue: z.array(radius),
    msPerStep: nonNegative,
    radiusMsPerStep: nonNegative,
    baseMsPerStep: z.number(),
    appliedSteps: count,
    violations: count,
    clippedSteps: count,
    finalTestAcc: fraction,
    finalTestLoss: anyNumber,
    skipped: count,
    numClasses: count,
  }),
);

/** The experiment definition. */
export const aggregation = defineExperiment<AggregationRun, AggregationResult, AggregationSummary>({
  id: "aggregation",
  title: "Which samples, which reduction: radius estimators under a ×10000 spike",
  claim:
    "Open question (no published numbers): the paper takes ρ_a over the full training split; " +
    "cheaper estimators (batch, random subset, windowed minimum, bottleneck buffer) and a 0.99-quantile " +
    "may let steps with r_true > 1 through.",

  plan(opts) {
    const p = opts.quick ? AGGREGATION_QUICK : AGGREGATION_PROTOCOL;
    const seeds = opts.seeds ?? p.seeds;
    if (seeds.length === 0) throw new ExperimentInputError("aggregation needs at least one seed");
    const runs: AggregationRun[] = [];
    for (const e of AGGREGATION_ESTIMATORS) {
      for (const seed of seeds) {
        runs.push({
          estimator: e.name,
          sampleSet: e.sampleSet,
          aggregate: e.aggregate,
          seed,
          arch: p.arch,
          steps: p.steps,
          batchSize: p.batchSize,
          baseLr: p.baseLr,
          spikeAt: p.spikeAt,
          multiplier: p.multiplier,
          rMax: p.rMax,
          evalEvery: p.evalEvery,
          testFraction: p.testFraction,
        });
      }
    }
    return {
      config: {
        seeds,
        estimators: AGGREGATION_ESTIMATORS.map((e) => ({
          name: e.name,
          sampleSet: e.sampleSet,
          aggregate: e.aggregate,
        })),
        arch: p.arch,
        optimizer: "adam",
        baseLr: p.baseLr,
        steps: p.steps,
        batchSize: p.batchSize,
        spikeAt: p.spikeAt,
        multiplier: p.multiplier,
        spikeOnce: true,
        controller: "rho-clip",
        rMax: p.rMax,
        evalEvery: p.evalEvery,
        testFraction: p.testFraction,
        reference: { sampleSet: "train", aggregate: "max", method: "jvp", every: 1 },
        violationTolerance: VIOLATION_TOLERANCE,
        divergedLoss: DIVERGED_LOSS,
        timing:
          "msPerStep: median wallMs per step without the reference probe; radiusMsPerStep: " +
          "median time inside the controller's radius callback",
      },
      runs,
    };
  },

  resultSchema: aggregationResultSchema,
  runKey: (run) => `${run.estimator}-s${run.seed}`,

  async execute(run, ctx) {
    const data = ctx.loadData(ctx.data, run.seed, run.testFraction);
    const numClasses = Math.max(data.train.numClasses, data.test.numClasses);
    const model = cachedModel(run.arch, data.train.d, numClasses);
    let radiusMs = 0;
    const radiusMsPerStep: number[] = [];
    let clipped = 0;
    const controller =
      run.sampleSet === null
        ? undefined
        : instrumentController(rhoClip({ rMax: run.rMax }), {
            onRadiusMs: (ms) => {
              radiusMs += ms;
            },
            onControl: (r) => {
              if (r.scale < 1) clipped++;
            },
          });
    const result = await train({
      model,
      data,
      optimizer: {
        name: "adam",
        learningRate: run.baseLr,
        spike: { multiplier: run.multiplier, at: run.spikeAt, once: true },
      },
      controller,
      steps: run.steps,
      batchSize: run.batchSize,
      evalEvery: run.evalEvery,
      seed: run.seed,
      probe: {
        sampleSet: run.sampleSet ?? "train",
        aggregate: run.aggregate,
        method: "jvp",
        // plain Adam: no radius in the step at all, so its wallMs is the cost baseline
        every: run.sampleSet === null ? 0 : 1,
        reference: { sampleSet: "train", aggregate: "max" },
      },
      onStep: (rec) => {
        radiusMsPerStep.push(radiusMs);
        radiusMs = 0;
        ctx.onProgress((rec.step + 1) / run.steps);
      },
    });
    await ctx.saveWeights?.(result);
    disposeTree(result.params);
    disposeTree(result.state);
    const h = result.history;
    const steady = h.slice(TIMING_WARMUP);
    const rTrue = h.map((r) =>
      r.rhoReference !== undefined && r.tau > 0 ? r.tau / r.rhoReference : Number.NaN,
    );
    const { violations, applied } = countViolations(rTrue);
    return {
      rTrue: rTrue.map((r) => roundSig(r)),
      msPerStep: roundSig(median(steady.map((r) => r.wallMs))),
      radiusMsPerStep: roundSig(median(radiusMsPerStep.slice(TIMING_WARMUP))),
      baseMsPerStep: roundSig(
        median(steady.map((r, i) => r.wallMs - radiusMsPerStep[i + TIMING_WARMUP])),
      ),
      appliedSteps: applied,
      violations,
      clippedSteps: clipped,
      finalTestAcc: result.finalTestAccuracy,
      finalTestLoss: result.finalTestLoss,
      skipped: result.skippedSteps,
      numClasses,
    };
  },

  summarize(config: JsonObject, results) {
    const names = (config.estimators as { name: string }[]).map((e) => e.name);
    const spikeAt = config.spikeAt as number;
    const divergedLoss = (config.divergedLoss as number | undefined) ?? DIVERGED_LOSS;
    const byName = (name: string) => results.filter((r) => r.run.estimator === name);
    const plainRuns = byName("plain").map((r) => r.result);
    const plainMs = plainRuns.length > 0 ? median(plainRuns.map((g) => g.msPerStep)) : Number.NaN;
    const table: AggregationRow[] = [];
    const rTrueCurves: AggregationCurvePoint[] = [];
    for (const name of names) {
      const group = byName(name);
      if (group.length === 0) continue;
      const rs = group.map((g) => g.result);
      const acc = summarise(
        rs.map((g) => g.finalTestAcc),
        { dropNaN: true },
      );
      const msPerStep = median(rs.map((g) => g.msPerStep));
      const radiusMsPerStep = median(rs.map((g) => g.radiusMsPerStep));
      const baseMsPerStep = median(rs.map((g) => g.baseMsPerStep));
      const violations = rs.reduce((s, g) => s + g.violations, 0);
      const appliedSteps = rs.reduce((s, g) => s + g.appliedSteps, 0);
      const clippedSteps = rs.reduce((s, g) => s + g.clippedSteps, 0);
      table.push({
        estimator: name,
        description: describeEstimator(group[0].run),
        msPerStep: roundSig(msPerStep),
        radiusMsPerStep: roundSig(radiusMsPerStep),
        baseMsPerStep: roundSig(baseMsPerStep),
        overheadPct: roundSig((100 * radiusMsPerStep) / baseMsPerStep),
        overheadPctWall: roundSig((100 * (msPerStep - plainMs)) / plainMs),
        fractionRTrueAbove1: appliedSteps > 0 ? violations / appliedSteps : Number.NaN,
        violations,
        appliedSteps,
        rTrueAtSpike: roundSig(medianOrNaN(rs.map((g) => g.rTrue[spikeAt] ?? Number.NaN))),
        maxRTrue: roundSig(medianOrNaN(rs.map((g) => maxOrNaN(g.rTrue)))),
        fractionClipped: appliedSteps > 0 ? clippedSteps / appliedSteps : Number.NaN,
        medianFinalTestAcc: acc.median,
        q25: acc.q25,
        q75: acc.q75,
        diverged: rs.filter((g) => !(g.finalTestLoss <= divergedLoss)).length,
        seeds: rs.length,
      });
      const q = quantilesPerStep(rs.map((g) => g.rTrue));
      q.forEach((v, step) => {
        if (v !== null) {
          rTrueCurves.push({
            estimator: name,
            step,
            median: roundSig(v.median),
            q25: roundSig(v.q25),
            q75: roundSig(v.q75),
          });
        }
      });
    }
    const numClasses = Math.max(1, ...results.map((r) => r.result.numClasses));
    return {
      table,
      rTrueCurves,
      plainMsPerStep: roundSig(plainMs),
      spikeAt,
      multiplier: config.multiplier as number,
      steps: config.steps as number,
      violationTolerance: (config.violationTolerance as number | undefined) ?? VIOLATION_TOLERANCE,
      chance: 1 / numClasses,
    };
  },

  figures(summary) {
    return aggregationFigures(summary);
  },

  report(summary) {
    return { tables: aggregationTables(summary), verdict: aggregationVerdict(summary) };
  },
});

/** Cost, violation rate and accuracy bars per estimator, and r_true per step. */
export function aggregationFigures(summary: AggregationSummary): FigureSpec[] {
  const withRadius = summary.table.filter((r) => r.estimator !== "plain");
  const costRows: ChartRow[] = summary.table.flatMap((r) => [
    { estimator: r.estimator, what: "whole step", ms: r.msPerStep },
    { estimator: r.estimator, what: "radius measurement", ms: r.radiusMsPerStep },
  ]);
  const violationRows: ChartRow[] = summary.table.map((r) => ({
    estimator: r.estimator,
    fraction: r.fractionRTrueAbove1,
  }));
  const accRows: ChartRow[] = summary.table.map((r) => ({
    estimator: r.estimator,
    acc: r.medianFinalTestAcc,
    q25: r.q25,
    q75: r.q75,
  }));
  const curveRows: ChartRow[] = summary.rTrueCurves.map((c) => ({ ...c }));
  return [
    {
      name: "cost",
      title:
        "Time per training step and inside the radius measurement (median over steps and seeds, ms); " +
        `plain Adam's step: ${summary.plainMsPerStep} ms`,
      spec: barGroups({
        data: costRows,
        x: "estimator",
        y: "ms",
        group: "what",
        xTitle: "estimator",
        yTitle: "ms per step",
        groupTitle: "",
        width: 520,
      }),
    },
    {
      name: "violations",
      title: `Fraction of applied steps with r_true = τ/ρ_a(train, max) > 1 (all seeds pooled)`,
      spec: barGroups({
        data: violationRows,
        x: "estimator",
        y: "fraction",
        xTitle: "estimator",
        yTitle: "fraction of steps with r_true > 1",
        yDomain: [0, 1],
        width: 520,
      }),
    },
    {
      name: "accuracy",
      title: `Final test accuracy after a ×${summary.multiplier} spike at step ${summary.spikeAt} (median over seeds, IQR bars)`,
      spec: barGroups({
        data: accRows,
        x: "estimator",
        y: "acc",
        lo: "q25",
        hi: "q75",
        xTitle: "estimator",
        yTitle: "final test accuracy",
        yDomain: [0, 1],
        rule: { y: summary.chance, label: "chance" },
        width: 520,
      }),
    },
    {
      name: "r-true",
      title:
        "r_true = τ/ρ_a(train, max) per step under each ρ-clip estimator (median over seeds, IQR " +
        "band; plain Adam, orders of magnitude higher after the spike, left out); above the dashed " +
        "line the step leaves the guaranteed disk",
      spec: lineWithBand({
        data: curveRows.filter((r) => withRadius.some((w) => w.estimator === r.estimator)),
        x: "step",
        y: "median",
        lo: "q25",
        hi: "q75",
        color: "estimator",
        xTitle: "step",
        yTitle: "r_true",
        logY: true,
        points: false,
        rule: [{ y: 1, label: "r = 1" }, { x: summary.spikeAt }],
        width: 560,
      }),
    },
  ];
}

function ms(x: number): string {
  return `${formatNumber(x, 3)} ms`;
}

function pct(x: number, digits = 1): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(digits)}%` : "—";
}

/** The report's table: one row per estimator (no published numbers: an open question). */
export function aggregationTables(summary: AggregationSummary): ReportTable[] {
  return [
    {
      title: `Radius estimators driving ρ-clip (r_max = 1) under a ×${summary.multiplier} spike at step ${summary.spikeAt}`,
      columns: [
        "estimator",
        "samples, reduction",
        "ms / step",
        "radius ms / step",
        "overhead",
        "r_true > 1",
        "r_true at spike",
        "max r_true",
        "final test acc, median [IQR]",
        "diverged",
      ],
      rows: summary.table.map((r) => [
        r.estimator,
        r.description,
        r.msPerStep,
        r.radiusMsPerStep,
        r.estimator === "plain" ? "—" : `${r.overheadPct.toFixed(0)}%`,
        `${pct(r.fractionRTrueAbove1)} (${r.violations}/${r.appliedSteps})`,
        r.rTrueAtSpike,
        r.maxRTrue,
        `${pct(r.medianFinalTestAcc)} [${pct(r.q25)}, ${pct(r.q75)}]`,
        `${r.diverged}/${r.seeds}`,
      ]),
      note:
        "r_true = τ/ρ_a with ρ_a = π/max Δ_a over the whole training split along the applied step " +
        `(counted above 1 beyond a relative tolerance of ${summary.violationTolerance}). Overhead = ` +
        "time inside the radius measurement / the rest of the same run's step (medians over steps and " +
        "seeds; the reference radius is not timed). The paper publishes no numbers " +
        "for this comparison (an open question).",
    },
  ];
}

/** One sentence answering the open question from the numbers. */
export function aggregationVerdict(summary: AggregationSummary): Verdict {
  const row = (name: string) => summary.table.find((r) => r.estimator === name);
  const train = row("train");
  const batch = row("batch");
  const plain = row("plain");
  if (train === undefined || batch === undefined) {
    return { reproduced: "n/a", sentence: "The training-split and batch estimators were not run." };
  }
  const safest = summary.table
    .filter((r) => r.estimator !== "plain" && r.estimator !== "train")
    .sort((a, b) => a.fractionRTrueAbove1 - b.fractionRTrueAbove1)[0];
  const parts = [
    `ρ_a over the training split lets ${pct(train.fractionRTrueAbove1)} of steps through with r_true > 1 at ` +
      `${ms(train.radiusMsPerStep)} per step for the radius (+${train.overheadPct.toFixed(0)}% on the rest of the step)`,
    `the batch estimator costs ${ms(batch.radiusMsPerStep)} but lets ${pct(batch.fractionRTrueAbove1)} through`,
  ];
  if (safest !== undefined && safest.estimator !== "batch") {
    parts.push(
      `the safest cheaper one is ${safest.estimator} (${pct(safest.fractionRTrueAbove1)}, ${ms(safest.radiusMsPerStep)})`,
    );
  }
  const accs = summary.table
    .filter((r) => r.estimator !== "plain")
    .map((r) => `${r.estimator} ${pct(r.medianFinalTestAcc)}`);
  parts.push(
    `final accuracy after the spike: ${accs.join(", ")}` +
      (plain ? ` vs plain Adam ${pct(plain.medianFinalTestAcc)}` : ""),
  );
  return { reproduced: "n/a", sentence: `${parts.join("; ")}.` };
}
