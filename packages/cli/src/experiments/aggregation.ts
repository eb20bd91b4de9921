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

import {
  type ControlReport,
  type ExtraArg,
  type GradientTransformation,
  type RadiusCallback,
  type RadiusExtra,
  rhoClip,
  type UpdateExtra,
} from "softmax-ghosts/optim";
import { type SampleSet, sampleSetName } from "softmax-ghosts/probe";
import type { Aggregate } from "softmax-ghosts/theory";
import { z } from "zod";
import { formatNumber } from "../report/stats.js";
import { accuracyAxis, bandLines, bars } from "./framework/figures.js";
import { finalAccuracyCell, pct } from "./framework/format.js";
import {
  anyNumber,
  count,
  fraction,
  nonNegative,
  radius,
  resultSchemaOf,
} from "./framework/schemas.js";
import { type CellOf, experiment } from "./framework/spec.js";
import {
  DIVERGED_LOSS,
  diverged,
  type FinalAccuracy,
  finalAccuracy,
  groupRuns,
  maxFinite,
  medianOf,
  quantilesPerStep,
  ratio,
  roundSig,
} from "./framework/stats.js";
import { msPerStep, spikedAdam, steadyMedian, trainRun } from "./framework/training.js";
import type { FigureSpec, ReportTable, Verdict } from "./framework/types.js";

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

const PROTOCOL = {
  arch: "mlp",
  steps: 200,
  batchSize: 64,
  baseLr: 0.015,
  /** The single step trained at `baseLr × multiplier`. */
  spikeAt: 50,
  multiplier: 10000,
  rMax: 1,
  evalEvery: 50,
  testFraction: 0.2,
};

const GRID = { estimator: AGGREGATION_ESTIMATORS.map((e) => e.name) };

/** The estimator's sample set and reduction, as a run file stores them. */
type EstimatorSettings = Pick<AggregationEstimator, "sampleSet" | "aggregate">;

/**
 * One run: an estimator × seed with the protocol, and the estimator's sample set (JSON:
 * `"train"`, `"batch"`, `{random: 128}`, …; null = plain Adam) and aggregation.
 */
export type AggregationRun = CellOf<typeof PROTOCOL, typeof GRID> & EstimatorSettings;

/** What one run measured (numbers rounded to 5 significant digits). */
export type AggregationResult = {
  /** r_true = τ/ρ_a(train, max) along each applied step; NaN where τ = 0 or skipped. */
  rTrue: number[];
  /** `msPerStep` of the run (`framework/training.ts`: the first five steps, which compile, left out). */
  msPerStep: number;
  /** The same median of the time spent measuring the controller's radius, ms (0 for plain). */
  radiusMsPerStep: number;
  /** The same median of the step's time outside the radius measurement, ms. */
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
export type AggregationRow = FinalAccuracy & {
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
  /** Seeds whose final test loss is past `DIVERGED_LOSS` or not finite. */
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

/**
 * r_true counts as above 1 only beyond this relative tolerance: the reference radius is
 * measured again (in float32) along the clipped step, so a step clipped to exactly r = 1 by
 * the full-split estimator reads back as 1 ± ~1e-6.
 */
export const VIOLATION_TOLERANCE = 1e-3;

/** "train, max", "batch, max", "train, q0.99", "no radius (plain Adam)". */
export function describeEstimator(e: EstimatorSettings): string {
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
export function instrumentController<E extends UpdateExtra & Partial<RadiusExtra>>(
  link: GradientTransformation<E>,
  hooks: ControllerHooks,
): GradientTransformation<E> {
  return {
    init: (params) => link.init(params),
    update(updates, state, params, ...rest) {
      const extra = rest[0];
      const radius = extra?.radius;
      const control = extra?.onControl;
      const timed: RadiusCallback | undefined =
        radius === undefined
          ? undefined
          : (p, norm, kind) => {
              const t0 = performance.now();
              try {
                return radius(p, norm, kind);
              } finally {
                hooks.onRadiusMs?.(performance.now() - t0);
              }
            };
      const wrapped = {
        ...extra,
        ...(timed === undefined ? {} : { radius: timed }),
        onControl: (r: ControlReport) => {
          hooks.onControl?.(r);
          control?.(r);
        },
      } as E;
      return link.update(updates, state, params, ...([wrapped] as ExtraArg<E>));
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

const ESTIMATOR = new Map(AGGREGATION_ESTIMATORS.map((e) => [e.name, e]));

/** The experiment. */
export const aggregation = experiment({
  id: "aggregation",
  title: "Which samples, which reduction: radius estimators under a ×10000 spike",
  claim:
    "Open question (no published numbers): the paper takes ρ_a over the full training split; " +
    "cheaper estimators (batch, random subset, windowed minimum, bottleneck buffer) and a 0.99-quantile " +
    "may let steps with r_true > 1 through.",
  protocol: PROTOCOL,
  grid: GRID,
  seeds: [0, 1, 2, 3, 4],
  quick: { seeds: [0], steps: 40, spikeAt: 20 },
  describe: {
    optimizer: "adam",
    spikeOnce: true,
    controller: "rho-clip",
    estimators: AGGREGATION_ESTIMATORS.map((e) => ({
      name: e.name,
      sampleSet: e.sampleSet,
      aggregate: e.aggregate,
    })),
    reference: { sampleSet: "train", aggregate: "max", method: "jvp", every: 1 },
    violationTolerance: VIOLATION_TOLERANCE,
    divergedLoss: DIVERGED_LOSS,
    timing:
      "msPerStep: msPerStep of framework/training.ts (median wallMs after 5 warm-up steps, " +
      "without the reference probe); radiusMsPerStep: the same median of the time inside the " +
      "controller's radius callback",
  },
  derive: (c): EstimatorSettings => {
    const e = ESTIMATOR.get(c.estimator);
    if (e === undefined) throw new Error(`aggregation: no estimator ${c.estimator}`);
    return { sampleSet: e.sampleSet, aggregate: e.aggregate };
  },
  runKey: (c) => `${c.estimator}-s${c.seed}`,
  resultSchema: aggregationResultSchema,

  async run(c, ctx) {
    let radiusMs = 0;
    const radiusMsPerStep: number[] = [];
    let clipped = 0;
    const controller =
      c.sampleSet === null
        ? undefined
        : instrumentController(rhoClip({ rMax: c.rMax }), {
            onRadiusMs: (ms) => {
              radiusMs += ms;
            },
            onControl: (r) => {
              if (r.scale < 1) clipped++;
            },
          });
    const out = await trainRun(
      {
        arch: c.arch,
        seed: c.seed,
        testFraction: c.testFraction,
        optimizer: spikedAdam(c, { once: true }),
        controller,
        steps: c.steps,
        batchSize: c.batchSize,
        evalEvery: c.evalEvery,
        probe: {
          sampleSet: c.sampleSet ?? "train",
          aggregate: c.aggregate,
          method: "jvp",
          // plain Adam: no radius in the step at all, so its wallMs is the cost baseline
          every: c.sampleSet === null ? 0 : 1,
          reference: { sampleSet: "train", aggregate: "max" },
        },
        onStep: () => {
          radiusMsPerStep.push(radiusMs);
          radiusMs = 0;
        },
      },
      ctx,
    );
    const h = out.history;
    const rTrue = h.map((r) => ratio(r.tau, r.rhoReference ?? Number.NaN));
    const { violations, applied } = countViolations(rTrue);
    return {
      rTrue: rTrue.map((r) => roundSig(r)),
      msPerStep: roundSig(msPerStep(h)),
      radiusMsPerStep: roundSig(steadyMedian(radiusMsPerStep)),
      baseMsPerStep: roundSig(steadyMedian(h.map((r, i) => r.wallMs - radiusMsPerStep[i]))),
      appliedSteps: applied,
      violations,
      clippedSteps: clipped,
      finalTestAcc: out.finalTestAccuracy,
      finalTestLoss: out.finalTestLoss,
      skipped: out.skippedSteps,
      numClasses: out.numClasses,
    };
  },

  summarize(outcomes, { protocol: p }) {
    const groups = groupRuns(outcomes, ["estimator"]);
    const plainRuns = groups.find((g) => g.key.estimator === "plain")?.results ?? [];
    const plainMs = medianOf(plainRuns.map((g) => g.msPerStep));
    const table: AggregationRow[] = [];
    const rTrueCurves: AggregationCurvePoint[] = [];
    for (const { key, runs, results: rs } of groups) {
      const name = key.estimator ?? "";
      const msPerStep = medianOf(rs.map((g) => g.msPerStep));
      const radiusMsPerStep = medianOf(rs.map((g) => g.radiusMsPerStep));
      const baseMsPerStep = medianOf(rs.map((g) => g.baseMsPerStep));
      const violations = rs.reduce((s, g) => s + g.violations, 0);
      const appliedSteps = rs.reduce((s, g) => s + g.appliedSteps, 0);
      const clippedSteps = rs.reduce((s, g) => s + g.clippedSteps, 0);
      table.push({
        estimator: name,
        description: describeEstimator(runs[0].cell),
        msPerStep: roundSig(msPerStep),
        radiusMsPerStep: roundSig(radiusMsPerStep),
        baseMsPerStep: roundSig(baseMsPerStep),
        overheadPct: roundSig((100 * radiusMsPerStep) / baseMsPerStep),
        overheadPctWall: roundSig((100 * (msPerStep - plainMs)) / plainMs),
        fractionRTrueAbove1: appliedSteps > 0 ? violations / appliedSteps : Number.NaN,
        violations,
        appliedSteps,
        rTrueAtSpike: roundSig(medianOf(rs.map((g) => g.rTrue[p.spikeAt] ?? Number.NaN))),
        // a run without any applied step has no largest r_true (NaN, not −∞)
        maxRTrue: roundSig(medianOf(rs.map((g) => maxFinite(g.rTrue)).map(finiteOrNaN))),
        fractionClipped: appliedSteps > 0 ? clippedSteps / appliedSteps : Number.NaN,
        ...finalAccuracy(rs.map((g) => g.finalTestAcc)),
        diverged: rs.filter((g) => diverged(g.finalTestLoss)).length,
        seeds: rs.length,
      });
      quantilesPerStep(rs.map((g) => g.rTrue)).forEach((v, step) => {
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
    const numClasses = Math.max(1, ...outcomes.map((o) => o.result.numClasses));
    return {
      table,
      rTrueCurves,
      plainMsPerStep: roundSig(plainMs),
      spikeAt: p.spikeAt,
      multiplier: p.multiplier,
      steps: p.steps,
      violationTolerance: VIOLATION_TOLERANCE,
      chance: 1 / numClasses,
    };
  },

  tables: (s) => aggregationTables(s),
  figures: (s) => aggregationFigures(s),
  // an open question: no published claim to check, the verdict states what was measured
  claims: [],
  verdict: (s) => aggregationVerdict(s),
});

function finiteOrNaN(x: number): number {
  return x === Number.NEGATIVE_INFINITY ? Number.NaN : x;
}

/** Cost, violation rate and accuracy bars per estimator, and r_true per step. */
export function aggregationFigures(summary: AggregationSummary): FigureSpec[] {
  const withRadius = summary.table.filter((r) => r.estimator !== "plain");
  const costRows = summary.table.flatMap((r) => [
    { estimator: r.estimator, what: "whole step", ms: r.msPerStep },
    { estimator: r.estimator, what: "radius measurement", ms: r.radiusMsPerStep },
  ]);
  const violationRows = summary.table.map((r) => ({
    estimator: r.estimator,
    fraction: r.fractionRTrueAbove1,
  }));
  const accRows = summary.table.map((r) => ({
    estimator: r.estimator,
    acc: r.medianFinalTestAcc,
    q25: r.q25,
    q75: r.q75,
  }));
  const perEstimator = { x: "estimator", xTitle: "estimator", width: 520 } as const;
  return [
    bars(
      "cost",
      "Time per training step and inside the radius measurement (median over steps and seeds, ms); " +
        `plain Adam's step: ${summary.plainMsPerStep} ms`,
      costRows,
      { ...perEstimator, y: "ms", group: "what", yTitle: "ms per step", groupTitle: "" },
    ),
    bars(
      "violations",
      `Fraction of applied steps with r_true = τ/ρ_a(train, max) > 1 (all seeds pooled)`,
      violationRows,
      { ...perEstimator, ...accuracyAxis("fraction of steps with r_true > 1"), y: "fraction" },
    ),
    bars(
      "accuracy",
      `Final test accuracy after a ×${summary.multiplier} spike at step ${summary.spikeAt} (median over seeds, IQR bars)`,
      accRows,
      {
        ...perEstimator,
        ...accuracyAxis("final test accuracy"),
        y: "acc",
        band: ["q25", "q75"],
        rule: { y: summary.chance, label: "chance" },
      },
    ),
    bandLines(
      "r-true",
      "r_true = τ/ρ_a(train, max) per step under each ρ-clip estimator (median over seeds, IQR " +
        "band; plain Adam, orders of magnitude higher after the spike, left out); above the dashed " +
        "line the step leaves the guaranteed disk",
      summary.rTrueCurves.filter((r) => withRadius.some((w) => w.estimator === r.estimator)),
      {
        x: "step",
        y: "median",
        band: ["q25", "q75"],
        color: "estimator",
        xTitle: "step",
        yTitle: "r_true",
        logY: true,
        points: false,
        rule: [{ y: 1, label: "r = 1" }, { x: summary.spikeAt }],
        width: 560,
      },
    ),
  ];
}

function ms(x: number): string {
  return `${formatNumber(x, 3)} ms`;
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
        finalAccuracyCell(r),
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
