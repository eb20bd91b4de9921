/**
 * `transformer-radii` (docs/science.md §3 "all-radii", §5): the TinyTransformer on digits trained by
 *
 * - the all-radii controller: ρ-set driven by ρ_net = min(ρ_out, ρ_attn, ρ_ffn),
 * - the output-only controller: ρ-set driven by ρ_out = π/Δ_out alone,
 * - Adam at a fixed learning rate (1× = 1e-3) and at 16× that (1.6e-2).
 *
 * Both controllers use Adam's direction `m̂/(√v̂+ε)` with the same target r, so their
 * effective learning rate (the η ρ-set chooses) is directly comparable with Adam's fixed
 * rate. Per step the run keeps the mini-batch loss, the effective learning rate and which
 * radius bound; the summary counts the binding radius in the early/middle/late thirds of
 * training, as the paper does.
 *
 * Sample set and cadence: the controllers need a radius every step (ρ-set has no learning rate
 * without one), and the all-radii probe of the whole training split costs ~10× a training
 * step on the transformer, so both controllers take their radius over the step's mini-batch
 * (batch 128) every step. A maximum over 128 samples gives a larger ρ_out than one over the
 * training split (ρ_ffn, a 1% quantile, hardly depends on the sample size), which favours the
 * FFN radius binding; so every 3rd step (~111 evaluations per third at 1000 steps, close to
 * the paper's ~100) every arm also measures ρ_out over the whole training split along the
 * applied step (`probe.reference`, telemetry only). The binding is counted both ways: as the
 * controller saw it (every step, batch) and with ρ_out over the training split (every 3rd step;
 * it binds there when it is below the controller's min(ρ_out,batch, ρ_attn, ρ_ffn)).
 *
 * Beside these arms, the published protocol as its own arm (methods `published-…`, same
 * controllers plus attn-out = min(ρ_out, ρ_attn)): a plain random 70/30 split with seed 42 for
 * every seed, full-batch steps on the training split, AdamW (weight decay 1e-4, applied with
 * the controller's rate), base rate 2e-3 (16× = 3.2e-2), 1,201 steps, every radius over the
 * whole training split every step, ρ_ffn the 1% quantile by linear interpolation, q/k/v/o
 * projections without bias, and the binding counted at the evaluation points (every 20th
 * step, thirds of 20/20/21 points). Each arm's settings are linked to its method, so our
 * arm's run specs are exactly those of the runs committed before the published arm existed.
 *
 * @module
 */

import { evaluate, scoped, toDevice } from "softmax-ghosts/engine";
import type { ControllerSpec } from "softmax-ghosts/optim";
import { maxOf, minOf } from "softmax-ghosts/util";
import { z } from "zod";
import { type Claim, claim } from "./framework/claims.js";
import { accuracyAxis, bandLines } from "./framework/figures.js";
import { finalAccuracyCell, lrLabel, medianIqr } from "./framework/format.js";
import {
  anyNumber,
  count,
  fraction,
  magnitude,
  optionalFraction,
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
  medianOf,
  quantilesPerStep,
  quartiles,
  roundSig,
} from "./framework/stats.js";
import { type TrainedNetwork, trainRun } from "./framework/training.js";
import type { FigureSpec, ReportTable, RunContext } from "./framework/types.js";

/** Our four arms. */
export const OUR_METHODS = ["all-radii", "output", "fixed-1x", "fixed-16x"] as const;
/** The published protocol's five arms (fixed ones first: the cheapest runs, planned first). */
export const PUBLISHED_METHODS = [
  "published-fixed-16x",
  "published-fixed-1x",
  "published-all-radii",
  "published-attn-out",
  "published-output",
] as const;
/** A method of our protocol. */
export type OurMethod = (typeof OUR_METHODS)[number];
/** A method of the published protocol. */
export type PublishedMethod = (typeof PUBLISHED_METHODS)[number];
/** Every arm. */
export type TransformerRadiiMethod = OurMethod | PublishedMethod;

/** Whether a method is an arm of the published protocol. */
export function isPublishedMethod(m: TransformerRadiiMethod): m is PublishedMethod {
  return (PUBLISHED_METHODS as readonly string[]).includes(m);
}

/** The radii that can bind. */
export const RADII = ["output", "attention", "ffn"] as const;
/** A radius that can bind. */
export type RadiusName = (typeof RADII)[number];

/** The thirds of training the binding radius is counted in. */
export const THIRDS = ["early", "middle", "late"] as const;
/** One third of training. */
export type Third = (typeof THIRDS)[number];

/** Adam's fixed learning rate of our 1× arm. */
const BASE_LR = 1e-3;
/** The published protocol's base rate (AdamW). */
const PUBLISHED_BASE_LR = 2e-3;
/** The "16×" of the high fixed arm. */
const HIGH_MULTIPLIER = 16;

/** Each arm's setting: the fixed rate, or the controllers' target r = τ/ρ (they set their own rate). */
const ARMS: Record<
  TransformerRadiiMethod,
  { learningRate: number | null; rTarget: number | null }
> = {
  "all-radii": { learningRate: null, rTarget: 1 },
  output: { learningRate: null, rTarget: 1 },
  "fixed-1x": { learningRate: BASE_LR, rTarget: null },
  "fixed-16x": { learningRate: BASE_LR * HIGH_MULTIPLIER, rTarget: null },
  "published-fixed-16x": { learningRate: PUBLISHED_BASE_LR * HIGH_MULTIPLIER, rTarget: null },
  "published-fixed-1x": { learningRate: PUBLISHED_BASE_LR, rTarget: null },
  "published-all-radii": { learningRate: null, rTarget: 1 },
  "published-attn-out": { learningRate: null, rTarget: 1 },
  "published-output": { learningRate: null, rTarget: 1 },
};

/** Our protocol (the settings of every run of our arms). */
const OUR_PROTOCOL: OurSettings = {
  arch: "transformer",
  steps: 1000,
  batchSize: 128,
  /** The controllers' radius is over the step's mini-batch — see the module comment. */
  sampleSet: "batch",
  /** Measure ρ_out over the whole training split along the applied step every this many steps. */
  referenceEvery: 3,
  evalEvery: 50,
  testFraction: 0.2,
};

/** The published protocol (piyush314/ghosts-of-softmax, its transformer experiment's canonical command). */
const PUBLISHED_PROTOCOL: PublishedSettings = {
  arch: "transformer",
  /** q/k/v/o projections without bias. */
  attentionBias: false,
  /** Steps 0 … 1200. */
  steps: 1201,
  batchSize: "full",
  optimizer: "adamw",
  weightDecay: 1e-4,
  /** Every radius over the whole training split, every step. */
  sampleSet: "train",
  ffnQuantile: 0.01,
  ffnQuantileMethod: "linear",
  /** Test accuracy and the binding count every this many steps. */
  evalEvery: 20,
  /** A plain random split (one permutation), the same for every seed. */
  split: "random",
  splitSeed: 42,
  testFraction: 0.3,
};

/** Our protocol's settings, one run's worth. */
export type OurSettings = {
  arch: string;
  steps: number;
  batchSize: number;
  sampleSet: "batch";
  referenceEvery: number;
  evalEvery: number;
  testFraction: number;
};
/** The published protocol's settings, one run's worth. */
export type PublishedSettings = {
  arch: string;
  attentionBias: boolean;
  steps: number;
  batchSize: "full";
  optimizer: "adamw";
  weightDecay: number;
  sampleSet: "train";
  ffnQuantile: number;
  ffnQuantileMethod: "linear";
  evalEvery: number;
  split: "random";
  splitSeed: number;
  testFraction: number;
};
type ArmSettings = OurSettings | PublishedSettings;

/**
 * The arms as a grid: every (method, learning rate, r target) is planned and `include` keeps
 * each method's own setting from {@link ARMS}, so a run spells out the rate it trained with.
 * Ours first, then the published arm.
 */
const GRID = {
  method: [...OUR_METHODS, ...PUBLISHED_METHODS] as TransformerRadiiMethod[],
  learningRate: [
    null,
    BASE_LR,
    BASE_LR * HIGH_MULTIPLIER,
    PUBLISHED_BASE_LR,
    PUBLISHED_BASE_LR * HIGH_MULTIPLIER,
  ] as (number | null)[],
  rTarget: [null, 1] as (number | null)[],
};

/** Each method's protocol: linked to the method, so our runs' specs stay as they were. */
const LINKED = {
  axis: "method" as const,
  values: Object.fromEntries(
    GRID.method.map((m) => [
      m,
      (isPublishedMethod(m) ? { ...PUBLISHED_PROTOCOL } : { ...OUR_PROTOCOL }) as ArmSettings,
    ]),
  ),
};

/** Quick: one seed; ours 24 mini-batch steps, the published arm 4 full-batch steps. */
const QUICK_LINKED = Object.fromEntries(
  GRID.method.map((m) => [
    m,
    isPublishedMethod(m)
      ? { steps: 4, evalEvery: 2 }
      : { steps: 24, batchSize: 64, referenceEvery: 4, evalEvery: 8 },
  ]),
) as { [value: string]: Partial<ArmSettings> };

/** One run: a method with its setting, a seed, and its arm's protocol. */
export type TransformerRadiiRun = CellOf<Record<never, never>, typeof GRID, ArmSettings>;
/** A run of our arm. */
export type OurRun = TransformerRadiiRun & OurSettings;
/** A run of the published arm. */
export type PublishedRun = TransformerRadiiRun & PublishedSettings;

/** Whether a run is of the published arm. */
export function isPublishedRun(c: TransformerRadiiRun): c is PublishedRun {
  return isPublishedMethod(c.method);
}

/** What one run measured, per step and at the end (numbers to 5 significant digits). */
export type TransformerRadiiResult = {
  /** Mini-batch loss before each step (NaN/Infinity kept for non-finite losses). */
  loss: number[];
  /** Effective learning rate per step: Adam's fixed rate or the η ρ-set chose (0 = skipped). */
  lr: number[];
  /** r = τ/ρ per step with the controller's radius (controllers), else NaN. */
  r: number[];
  /** r = τ/ρ_out(training split) on reference steps, else NaN. */
  rTrain: number[];
  /** Which radius bound per step (controllers), null where none was measured. */
  binding: (RadiusName | null)[];
  /**
   * Controllers, on reference steps: which radius binds when ρ_out is taken over the training
   * split instead of the batch; null elsewhere.
   */
  bindingTrain: (RadiusName | null)[];
  /** Test accuracy after each evaluated step, null elsewhere. */
  testAcc: (number | null)[];
  /** Loss and accuracy on the whole training split after the last step. */
  finalTrainLoss: number;
  finalTrainAcc: number;
  finalTestLoss: number;
  finalTestAcc: number;
  skipped: number;
};

/** One row of the summary table. */
export type TransformerRadiiRow = FinalAccuracy & {
  method: TransformerRadiiMethod;
  label: string;
  learningRate: number | null;
  rTarget: number | null;
  /** Loss over the whole training split after the last step: median and quartiles over seeds. */
  medianFinalTrainLoss: number;
  trainLossQ25: number;
  trainLossQ75: number;
  medianFinalTestLoss: number;
  /** Seeds whose final training loss is past `DIVERGED_LOSS` (or not finite). */
  diverged: number;
  skippedSteps: number;
  /** Median over seeds of each run's smallest / largest positive effective learning rate. */
  lrMin: number;
  lrMax: number;
  /** log10(lrMax / lrMin): how many orders of magnitude the effective rate spans. */
  lrDecades: number;
  /** Median over seeds of each run's median r with the controller's own radius (NaN for fixed arms). */
  medianR: number;
  /** Median over seeds of each run's median τ/ρ_out(training split). */
  medianRTrain: number;
  /** Median over seeds of each run's largest τ/ρ_out(training split). */
  maxRTrain: number;
  seeds: number;
};

/** Binding counts of one method in one third, summed over seeds. */
export type BindingRow = {
  method: TransformerRadiiMethod;
  /**
   * `"batch"`: as the controller saw it, every step; `"train"`: with ρ_out over the training
   * split, on the reference steps (published arm: the controller's own radii, all over the
   * training split, at the evaluation points).
   */
  outputOver: "batch" | "train";
  third: Third;
  /** Radius evaluations in this third (= steps with a binding). */
  evaluations: number;
  output: number;
  attention: number;
  ffn: number;
};

/** A point of the binned per-step curves (quantiles over seeds). */
export type TransformerRadiiCurvePoint = {
  method: TransformerRadiiMethod;
  /** First step of the bin. */
  step: number;
  loss: number;
  lossQ25: number;
  lossQ75: number;
  lr: number;
  lrQ25: number;
  lrQ75: number;
};

/** A point of the test-accuracy curves. */
export type TransformerRadiiAccPoint = {
  method: TransformerRadiiMethod;
  step: number;
  acc: number;
  q25: number;
  q75: number;
};

/** What `summary.json` holds besides the framework's metadata. */
export type TransformerRadiiSummary = {
  table: TransformerRadiiRow[];
  binding: BindingRow[];
  curves: TransformerRadiiCurvePoint[];
  accuracy: TransformerRadiiAccPoint[];
  /** Steps per curve bin (loss: mean, learning rate: geometric mean within a bin), our arm. */
  bin: number;
  /** Steps of our arm. */
  steps: number;
  /** Our method with the lowest median final training loss. */
  lowestLoss: TransformerRadiiMethod | null;
  /** The published protocol's arm, when any of its runs is in the summary. */
  published?: {
    bin: number;
    steps: number;
    /** Evaluation points per run (the binding is counted there). */
    evaluations: number;
    /** The published method with the lowest median final training loss. */
    lowestLoss: PublishedMethod | null;
  };
};

/** The paper's binding counts (evaluations per third). */
export const PUBLISHED_BINDING: Record<
  Third,
  { evaluations: number } & Partial<Record<RadiusName, number>>
> = {
  early: { evaluations: 100, ffn: 94 },
  middle: { evaluations: 100, ffn: 48, output: 52 },
  late: { evaluations: 105, output: 97 },
};

/** Target number of points per curve. */
const CURVE_POINTS = 200;

const LABEL: Record<TransformerRadiiMethod, string> = {
  "all-radii": "all-radii",
  output: "output-only",
  "fixed-1x": "Adam 1×",
  "fixed-16x": "Adam 16×",
  "published-fixed-16x": "published: AdamW 16×",
  "published-fixed-1x": "published: AdamW 1×",
  "published-all-radii": "published: all-radii",
  "published-attn-out": "published: attn-out",
  "published-output": "published: output-only",
};

/** What a published method is, whichever protocol runs it. */
const ROLE: Record<PublishedMethod, string> = {
  "published-fixed-16x": "fixed 16×",
  "published-fixed-1x": "fixed 1×",
  "published-all-radii": "all-radii",
  "published-attn-out": "attn-out (min of ρ_out, ρ_attn)",
  "published-output": "output-only",
};

/** Our method that a published one corresponds to (attn-out has none). */
const OURS_OF: Record<PublishedMethod, OurMethod | null> = {
  "published-fixed-16x": "fixed-16x",
  "published-fixed-1x": "fixed-1x",
  "published-all-radii": "all-radii",
  "published-attn-out": null,
  "published-output": "output",
};

/**
 * A method's short label with its setting ("all-radii r=1", "Adam 16× 1.6e-2"): short
 * enough for a figure legend.
 */
export function transformerMethodLabel(row: {
  method: TransformerRadiiMethod;
  learningRate: number | null;
  rTarget: number | null;
}): string {
  const setting = row.learningRate !== null ? lrLabel(row.learningRate) : `r=${row.rTarget}`;
  return `${LABEL[row.method]} ${setting}`;
}

/** Which third of `steps` a step falls in. */
export function thirdOf(step: number, steps: number): Third {
  return THIRDS[Math.min(2, Math.floor((3 * step) / steps))];
}

/**
 * The published count: which radius bound at the evaluation points (steps 0, `every`,
 * 2·`every`, …), the i-th of m points in third min(2, ⌊i / ⌊m/3⌋⌋) — 61 points per run give
 * 20/20/21, the paper's 100/100/105 over five seeds. Null entries are not evaluations.
 */
export function countBindingsAtEvaluations(
  series: readonly (readonly (RadiusName | null)[])[],
  every: number,
): Record<Third, { evaluations: number } & Record<RadiusName, number>> {
  const out = Object.fromEntries(
    THIRDS.map((t) => [t, { evaluations: 0, output: 0, attention: 0, ffn: 0 }]),
  ) as Record<Third, { evaluations: number } & Record<RadiusName, number>>;
  for (const s of series) {
    const points = s.filter((_, step) => step % every === 0);
    const per = Math.max(1, Math.floor(points.length / 3));
    points.forEach((b, i) => {
      if (b === null) return;
      const cell = out[THIRDS[Math.min(2, Math.floor(i / per))]];
      cell.evaluations++;
      cell[b]++;
    });
  }
  return out;
}

/** Evaluation points of a run of `steps` steps counted every `every` steps (0, every, …). */
export function evaluationPoints(steps: number, every: number): number {
  return Math.floor((steps - 1) / every) + 1;
}

/**
 * Counts per third of which radius bound, over any number of runs' binding series of `steps`
 * steps; null entries (no radius measured) are not evaluations.
 */
export function countBindings(
  series: readonly (readonly (RadiusName | null)[])[],
  steps: number,
): Record<Third, { evaluations: number } & Record<RadiusName, number>> {
  const out = Object.fromEntries(
    THIRDS.map((t) => [t, { evaluations: 0, output: 0, attention: 0, ffn: 0 }]),
  ) as Record<Third, { evaluations: number } & Record<RadiusName, number>>;
  for (const s of series) {
    s.forEach((b, step) => {
      if (b === null) return;
      const cell = out[thirdOf(step, steps)];
      cell.evaluations++;
      cell[b]++;
    });
  }
  return out;
}

/**
 * Bins a per-step series: `reduce` over the values of each bin of `bin` consecutive steps
 * that pass `keep`; NaN where none does.
 */
export function binSeries(
  values: readonly number[],
  bin: number,
  keep: (v: number) => boolean,
  reduce: (vs: number[]) => number,
): number[] {
  const out: number[] = [];
  for (let start = 0; start < values.length; start += bin) {
    const vs = values.slice(start, start + bin).filter(keep);
    out.push(vs.length === 0 ? Number.NaN : reduce(vs));
  }
  return out;
}

const mean = (vs: number[]) => vs.reduce((s, v) => s + v, 0) / vs.length;
const geomean = (vs: number[]) => Math.exp(mean(vs.map(Math.log)));

function controllerOf(run: TransformerRadiiRun): ControllerSpec {
  const rTarget = run.rTarget ?? 1;
  switch (run.method) {
    case "all-radii":
    case "published-all-radii":
      return { name: "all-radii", mode: "set", rTarget };
    case "published-attn-out":
      return { name: "all-radii", mode: "set", rTarget, radii: "output-attention" };
    case "output":
    case "published-output":
      return { name: "rho-set", rTarget };
    default:
      return { name: "none" };
  }
}

/**
 * Which radius binds when ρ_out is replaced by `rhoOut` (another sample set's): the
 * controller's radius `rho` = min(ρ_out, ρ_attn, ρ_ffn) bound by `binding`. Output binds when
 * `rhoOut` is below `rho` or already bound; otherwise the internal radius that bound still does.
 * Null when the controller measured nothing.
 */
export function bindingWithOutput(
  binding: RadiusName | null,
  rho: number,
  rhoOut: number,
): RadiusName | null {
  if (binding === null) return null;
  return binding === "output" || rhoOut < rho ? "output" : binding;
}

function isRadiusName(b: string | undefined): b is RadiusName {
  return b === "output" || b === "attention" || b === "ffn";
}

/** Numbers of a run's series that are finite (diverged and unmeasured steps left out). */
const finite = (xs: readonly number[]) => xs.filter(Number.isFinite);

/** Largest finite value of a series; NaN when it has none. */
function largestFinite(xs: readonly number[]): number {
  const f = finite(xs);
  return f.length === 0 ? Number.NaN : maxOf(f);
}

/** A part of the claim on the table rows of some methods (not measured without them). */
function onRows(
  methods: TransformerRadiiMethod[],
  says: string,
  check: (rows: TransformerRadiiRow[]) => { holds: boolean; measured: string },
) {
  return claim<TransformerRadiiSummary>(says, (s) => {
    const rows = methods.map((m) => s.table.find((r) => r.method === m));
    // a partly run arm (fewer seeds than others) is judged on what it has
    return rows.every((r) => r !== undefined) ? check(rows as TransformerRadiiRow[]) : null;
  });
}

/** The published method of each role, or ours. */
type Roles = {
  f1: TransformerRadiiMethod;
  f16: TransformerRadiiMethod;
  all: TransformerRadiiMethod;
  out: TransformerRadiiMethod;
};
const OUR_ROLES: Roles = { f1: "fixed-1x", f16: "fixed-16x", all: "all-radii", out: "output" };
const PUBLISHED_ROLES: Roles = {
  f1: "published-fixed-1x",
  f16: "published-fixed-16x",
  all: "published-all-radii",
  out: "published-output",
};

/**
 * The claim in parts for one protocol's arm: ours with the parts as they always read, the
 * published arm's prefixed "published protocol:" (all judged by the one rule).
 */
function claimsFor(arm: "ours" | "published"): Claim<TransformerRadiiSummary>[] {
  const r = arm === "ours" ? OUR_ROLES : PUBLISHED_ROLES;
  const pre = arm === "ours" ? "" : "published protocol: ";
  const Pre = arm === "ours" ? "" : "under the published protocol, ";
  const lowest = (s: TransformerRadiiSummary) =>
    arm === "ours" ? s.lowestLoss : (s.published?.lowestLoss ?? null);
  return [
    onRows([r.f16], `${pre}fixed 16× diverges`, ([f16]) => ({
      holds: f16.diverged > f16.seeds / 2,
      measured: `${Pre}fixed 16× diverged in ${f16.diverged}/${f16.seeds} seeds (final train loss ${f16.medianFinalTrainLoss})`,
    })),
    onRows([r.f1, r.all], `${pre}fixed 1× converges slowly`, ([f1, all]) => ({
      holds: f1.medianFinalTrainLoss > all.medianFinalTrainLoss,
      measured: `${Pre}fixed 1× ends at train loss ${f1.medianFinalTrainLoss} vs all-radii ${all.medianFinalTrainLoss}`,
    })),
    onRows(
      [r.all, r.out],
      `${pre}the controllers vary their effective LR by orders of magnitude`,
      ([all, out]) => ({
        holds: all.lrDecades >= 1 && out.lrDecades >= 1,
        measured: `${Pre}the controllers' effective LR spans ${all.lrDecades} (all-radii) and ${out.lrDecades} (output) decades`,
      }),
    ),
    claim<TransformerRadiiSummary>(
      `${pre}all-radii reaches the lowest loss`,
      (s) => {
        const arms = s.table.filter((x) => isPublishedMethod(x.method) === (arm === "published"));
        if (arms.every((x) => x.method !== r.all)) return null;
        const best = lowest(s);
        return {
          holds: best === r.all,
          measured: `${Pre}lowest final train loss: ${best === null ? "none" : labelOf(s, best)}`,
        };
      },
      { essential: true },
    ),
    claim<TransformerRadiiSummary>(`${pre}early FFN, late output, attention never binds`, (s) => {
      // the paper's radius is over the training split: judge the binding with ρ_out over it
      const b = (third: Third, over: "batch" | "train" = "train") =>
        s.binding.find((x) => x.method === r.all && x.third === third && x.outputOver === over);
      const early = b("early");
      const late = b("late");
      if (early === undefined || late === undefined) return null;
      const attention = s.binding
        .filter((x) => x.method === r.all && x.outputOver === "train")
        .reduce((n, x) => n + x.attention, 0);
      const batchCounts = THIRDS.map((t) => b(t, "batch"))
        .map((x) => (x ? `${x.ffn}/${x.output}/${x.attention}` : "—"))
        .join(", ");
      const where =
        arm === "ours"
          ? "all-radii binding (ρ_out over the training split)"
          : "under the published protocol, all-radii binding at the evaluation points";
      return {
        holds:
          early.ffn > early.evaluations / 2 &&
          late.output > late.evaluations / 2 &&
          attention === 0,
        measured:
          `${where}: early FFN ${early.ffn}/${early.evaluations}, ` +
          `late output ${late.output}/${late.evaluations}, attention ${attention} times` +
          (arm === "ours"
            ? ` (as the controller saw it on the batch, FFN/output/attention per third: ${batchCounts})`
            : ""),
      };
    }),
  ];
}

/** Shape and ranges of {@link TransformerRadiiResult}, checked on every cached run file. */
export const transformerRadiiResultSchema = resultSchemaOf<TransformerRadiiResult>()(
  z.object({
    loss: z.array(anyNumber),
    lr: z.array(magnitude),
    r: z.array(radius),
    rTrain: z.array(radius),
    binding: z.array(z.enum(RADII).nullable()),
    bindingTrain: z.array(z.enum(RADII).nullable()),
    testAcc: z.array(optionalFraction),
    finalTrainLoss: anyNumber,
    finalTrainAcc: fraction,
    finalTestLoss: anyNumber,
    finalTestAcc: fraction,
    skipped: count,
  }),
);

/** Loss and accuracy on the whole training split of a trained network. */
function trainSplitEval({ model, params, state, data }: TrainedNetwork): {
  loss: number;
  accuracy: number;
} {
  return scoped((scope) => {
    const x = scope.own(toDevice(data.train.x, [data.train.n, data.train.d], model.config.dtype));
    return evaluate(model, params, state, x, data.train.y);
  });
}

/**
 * A run of the published protocol: full-batch AdamW steps (the controllers set its rate from
 * all their radii over the training split, every step), the reference's bias-free attention,
 * its random split. No reference radius: the controllers' own is already over the training split.
 */
async function runPublished(c: PublishedRun, ctx: RunContext): Promise<TransformerRadiiResult> {
  const controller = controllerOf(c);
  let trainEval = { loss: Number.NaN, accuracy: Number.NaN };
  const out = await trainRun(
    {
      arch: c.arch,
      modelOptions: { attentionBias: c.attentionBias },
      seed: c.seed,
      testFraction: c.testFraction,
      split: c.split,
      splitSeed: c.splitSeed,
      // the controllers ignore the rate and apply the decay with their own
      optimizer: {
        name: c.optimizer,
        learningRate: c.learningRate ?? PUBLISHED_BASE_LR,
        weightDecay: c.weightDecay,
      },
      controller,
      steps: c.steps,
      batchSize: c.batchSize,
      evalEvery: c.evalEvery,
      probe: {
        sampleSet: c.sampleSet,
        method: "jvp",
        every: 0,
        ffnQuantile: c.ffnQuantile,
        ffnQuantileMethod: c.ffnQuantileMethod,
      },
      afterTraining: (trained) => {
        trainEval = trainSplitEval(trained);
      },
    },
    ctx,
  );
  const h = out.history;
  const fixed = controller.name === "none";
  return {
    loss: h.map((s) => roundSig(s.loss)),
    lr: h.map((s) => roundSig(s.effectiveLearningRate)),
    r: h.map((s) => roundSig(s.r)),
    // the controllers' ρ_out is already over the training split
    rTrain: h.map((s) =>
      s.tau > 0 && Number.isFinite(s.rhoA) ? roundSig(s.tau / s.rhoA) : Number.NaN,
    ),
    binding: h.map((s) => (!fixed && isRadiusName(s.binding) ? s.binding : null)),
    bindingTrain: h.map(() => null),
    testAcc: h.map((s) => (s.testAccuracy === undefined ? null : roundSig(s.testAccuracy))),
    finalTrainLoss: trainEval.loss,
    finalTrainAcc: trainEval.accuracy,
    finalTestLoss: out.finalTestLoss,
    finalTestAcc: out.finalTestAccuracy,
    skipped: out.skippedSteps,
  };
}

/** The experiment. */
export const transformerRadii = experiment({
  id: "transformer-radii",
  title: "Transformer: all-radii vs output-only controller vs fixed learning rates",
  claim:
    "Fixed 1× converges slowly, 16× diverges; adaptive controllers vary their effective LR by orders " +
    "of magnitude; all-radii reaches the lowest loss. Binding radius: early FFN (94/100 evaluations), " +
    "middle mixed (FFN 48 / output 52), late output (97/105); attention never binds.",
  protocol: {},
  grid: GRID,
  linked: LINKED,
  seeds: [0, 1, 2, 3, 4],
  // one seed; ours: 24 steps, mini-batches of 64, the reference every 4th step; the published
  // arm: 4 full-batch steps
  quick: { seeds: [0], linked: QUICK_LINKED },
  include: (c) =>
    ARMS[c.method].learningRate === c.learningRate && ARMS[c.method].rTarget === c.rTarget,
  describe: {
    optimizer: "adam",
    baseLearningRate: BASE_LR,
    highMultiplier: HIGH_MULTIPLIER,
    published: {
      optimizer: "adamw (decay applied with the controller's rate)",
      baseLearningRate: PUBLISHED_BASE_LR,
      probe: "all radii over the training split, every step (controllers); none (fixed arms)",
      binding: "counted at the evaluation points, thirds of ⌊m/3⌋ points",
    },
    probe: {
      method: "jvp",
      controllers: "all radii (or ρ_out) over the mini-batch, every step (drives η)",
      reference:
        "ρ_out over the training split (max) along the applied step, every referenceEvery steps, all arms (telemetry)",
      ffnQuantile: 0.01,
    },
    divergedLoss: DIVERGED_LOSS,
  },
  runKey: (c) => `${c.method}-s${c.seed}`,
  resultSchema: transformerRadiiResultSchema,

  async run(cell, ctx) {
    if (isPublishedRun(cell)) return runPublished(cell, ctx);
    const c = cell as OurRun;
    const controller = controllerOf(c);
    let trainEval = { loss: Number.NaN, accuracy: Number.NaN };
    const out = await trainRun(
      {
        arch: c.arch,
        seed: c.seed,
        testFraction: c.testFraction,
        // ρ-set ignores the learning rate; Adam's default otherwise
        optimizer: { name: "adam", learningRate: c.learningRate ?? BASE_LR },
        controller,
        steps: c.steps,
        batchSize: c.batchSize,
        evalEvery: c.evalEvery,
        probe: {
          sampleSet: c.sampleSet,
          method: "jvp",
          every: 0, // only the controller's own measurements
          reference: { sampleSet: "train", aggregate: "max", every: c.referenceEvery },
        },
        afterTraining: (trained) => {
          trainEval = trainSplitEval(trained);
        },
      },
      ctx,
    );
    const h = out.history;
    const fixed = controller.name === "none";
    const binding = h.map((s) => (!fixed && isRadiusName(s.binding) ? s.binding : null));
    return {
      loss: h.map((s) => roundSig(s.loss)),
      lr: h.map((s) => roundSig(s.effectiveLearningRate)),
      r: h.map((s) => roundSig(s.r)),
      rTrain: h.map((s) =>
        s.rhoReference !== undefined && s.tau > 0 ? roundSig(s.tau / s.rhoReference) : Number.NaN,
      ),
      binding,
      bindingTrain: h.map((s, i) =>
        s.rhoReference === undefined
          ? null
          : bindingWithOutput(binding[i], s.rhoNet ?? s.rhoA, s.rhoReference),
      ),
      testAcc: h.map((s) => (s.testAccuracy === undefined ? null : roundSig(s.testAccuracy))),
      finalTrainLoss: trainEval.loss,
      finalTrainAcc: trainEval.accuracy,
      finalTestLoss: out.finalTestLoss,
      finalTestAcc: out.finalTestAccuracy,
      skipped: out.skippedSteps,
    };
  },

  summarize(outcomes): TransformerRadiiSummary {
    // each arm's step count is its runs' (the setup holds no linked settings)
    const ours = outcomes.find((o) => !isPublishedRun(o.cell))?.cell;
    const pub = outcomes.map((o) => o.cell).find(isPublishedRun);
    const steps = ours?.steps ?? OUR_PROTOCOL.steps;
    const binOf = (n: number) => Math.max(1, Math.ceil(n / CURVE_POINTS));
    const bin = binOf(steps);
    const table: TransformerRadiiRow[] = [];
    const binding: BindingRow[] = [];
    const curves: TransformerRadiiCurvePoint[] = [];
    const accuracy: TransformerRadiiAccPoint[] = [];
    for (const { runs, results: rs } of groupRuns(outcomes, ["method"])) {
      const run0 = runs[0].cell;
      const method = run0.method;
      const published = isPublishedRun(run0);
      const runBin = binOf(run0.steps);
      const trainLoss = quartiles(rs.map((g) => g.finalTrainLoss));
      const lrMin = medianOf(rs.map((g) => minOf(g.lr.filter((v) => v > 0))));
      const lrMax = medianOf(rs.map((g) => maxOf(g.lr.filter((v) => v > 0))));
      table.push({
        method,
        label: transformerMethodLabel(run0),
        learningRate: run0.learningRate,
        rTarget: run0.rTarget,
        medianFinalTrainLoss: roundSig(trainLoss.median),
        trainLossQ25: roundSig(trainLoss.q25),
        trainLossQ75: roundSig(trainLoss.q75),
        medianFinalTestLoss: roundSig(medianOf(rs.map((g) => g.finalTestLoss))),
        ...finalAccuracy(rs.map((g) => g.finalTestAcc)),
        diverged: rs.filter((g) => diverged(g.finalTrainLoss)).length,
        skippedSteps: rs.reduce((s, g) => s + g.skipped, 0),
        lrMin: roundSig(lrMin),
        lrMax: roundSig(lrMax),
        lrDecades: roundSig(Math.log10(lrMax / lrMin), 3),
        medianR: roundSig(medianOf(rs.map((g) => medianOf(finite(g.r))))),
        medianRTrain: roundSig(medianOf(rs.map((g) => medianOf(finite(g.rTrain))))),
        maxRTrain: roundSig(medianOf(rs.map((g) => largestFinite(g.rTrain)))),
        seeds: rs.length,
      });
      if (run0.rTarget !== null && published) {
        const counts = countBindingsAtEvaluations(
          rs.map((g) => g.binding),
          run0.evalEvery,
        );
        for (const third of THIRDS) {
          binding.push({ method, outputOver: "train", third, ...counts[third] });
        }
      } else if (run0.rTarget !== null) {
        for (const outputOver of ["batch", "train"] as const) {
          const counts = countBindings(
            rs.map((g) => (outputOver === "batch" ? g.binding : g.bindingTrain)),
            steps,
          );
          for (const third of THIRDS) binding.push({ method, outputOver, third, ...counts[third] });
        }
      }
      const loss = quantilesPerStep(
        rs.map((g) => binSeries(g.loss, runBin, Number.isFinite, mean)),
      );
      const lr = quantilesPerStep(
        rs.map((g) => binSeries(g.lr, runBin, (v) => v > 0 && Number.isFinite(v), geomean)),
      );
      for (let i = 0; i < Math.max(loss.length, lr.length); i++) {
        const l = loss[i];
        const e = lr[i];
        curves.push({
          method,
          step: i * runBin,
          loss: roundSig(l?.median ?? Number.NaN),
          lossQ25: roundSig(l?.q25 ?? Number.NaN),
          lossQ75: roundSig(l?.q75 ?? Number.NaN),
          lr: roundSig(e?.median ?? Number.NaN),
          lrQ25: roundSig(e?.q25 ?? Number.NaN),
          lrQ75: roundSig(e?.q75 ?? Number.NaN),
        });
      }
      quantilesPerStep(rs.map((g) => g.testAcc)).forEach((a, step) => {
        if (a !== null) {
          accuracy.push({
            method,
            step: step + 1,
            acc: roundSig(a.median),
            q25: roundSig(a.q25),
            q75: roundSig(a.q75),
          });
        }
      });
    }
    // each protocol's arms are ranked among themselves
    const lowestOf = (published: boolean) =>
      table
        .filter((r) => isPublishedMethod(r.method) === published)
        .filter((r) => Number.isFinite(r.medianFinalTrainLoss))
        .sort((a, b) => a.medianFinalTrainLoss - b.medianFinalTrainLoss)[0]?.method ?? null;
    const summary: TransformerRadiiSummary = {
      table,
      binding,
      curves,
      accuracy,
      bin,
      steps,
      lowestLoss: lowestOf(false),
    };
    if (pub !== undefined) {
      const p = pub;
      summary.published = {
        bin: binOf(p.steps),
        steps: p.steps,
        evaluations: evaluationPoints(p.steps, p.evalEvery),
        lowestLoss: lowestOf(true) as PublishedMethod | null,
      };
    }
    return summary;
  },

  tables: (s) => transformerRadiiTables(s),
  figures: (s) => transformerRadiiFigures(s),
  claims: [...claimsFor("ours"), ...claimsFor("published")],
});

/**
 * Effective learning rate and loss per step (log y), and test accuracy, per protocol: ours as
 * `effective-lr`, `loss`, `accuracy`; the published arm's (when run) with `-published`.
 */
export function transformerRadiiFigures(summary: TransformerRadiiSummary): FigureSpec[] {
  const ours = armFigures(summary, false, "", summary.bin, summary.steps, "Mini-batch");
  const p = summary.published;
  if (p === undefined) return ours;
  return [
    ...ours,
    ...armFigures(summary, true, "-published", p.bin, p.steps, "Published protocol: full-batch"),
  ];
}

function armFigures(
  summary: TransformerRadiiSummary,
  published: boolean,
  suffix: string,
  bin: number,
  steps: number,
  lossWhat: string,
): FigureSpec[] {
  const label = (m: TransformerRadiiMethod) =>
    summary.table.find((r) => r.method === m)?.label ?? LABEL[m];
  const mine = (m: TransformerRadiiMethod) => isPublishedMethod(m) === published;
  const curves = summary.curves.filter((c) => mine(c.method));
  const lrRows = curves.map((c) => ({
    method: label(c.method),
    step: c.step,
    lr: c.lr,
    q25: c.lrQ25,
    q75: c.lrQ75,
  }));
  const lossRows = curves.map((c) => ({
    method: label(c.method),
    step: c.step,
    loss: c.loss,
    q25: c.lossQ25,
    q75: c.lossQ75,
  }));
  const accRows = summary.accuracy
    .filter((a) => mine(a.method))
    .map((a) => ({ ...a, method: label(a.method) }));
  const binNote = bin > 1 ? ` (means over bins of ${bin} steps)` : "";
  const thirds = [1, 2].map((k) => ({ x: Math.round((k * steps) / 3) }));
  const what = published ? "Published protocol: " : "";
  const perStep = {
    x: "step",
    band: ["q25", "q75"],
    color: "method",
    xTitle: "step",
    width: 560,
  } as const;
  return [
    bandLines(
      `effective-lr${suffix}`,
      `${what}Effective learning rate per step${binNote}, median over seeds with IQR band`,
      lrRows,
      {
        ...perStep,
        y: "lr",
        yTitle: "effective learning rate",
        logY: true,
        points: false,
        rule: thirds,
      },
    ),
    bandLines(
      `loss${suffix}`,
      `${lossWhat} training loss per step${binNote}, median over seeds with IQR band`,
      lossRows,
      { ...perStep, y: "loss", yTitle: "training loss", logY: true, points: false },
    ),
    bandLines(
      `accuracy${suffix}`,
      `${what}Test accuracy, median over seeds with IQR band`,
      accRows,
      {
        ...perStep,
        ...accuracyAxis(),
        y: "acc",
      },
    ),
  ];
}

/** Results per method, and binding counts per third beside the paper's. */
export function transformerRadiiTables(summary: TransformerRadiiSummary): ReportTable[] {
  const methods: ReportTable = {
    title: "Final loss and accuracy per method",
    columns: [
      "method",
      "final train loss, median [IQR]",
      "test loss",
      "test acc, median [IQR]",
      "effective LR min … max",
      "decades",
      "median r (own radius)",
      "τ/ρ_out(train): median, max",
      "diverged",
    ],
    rows: summary.table.map((r) => [
      r.label,
      medianIqr(
        { median: r.medianFinalTrainLoss, q25: r.trainLossQ25, q75: r.trainLossQ75, n: r.seeds },
        String,
      ),
      r.medianFinalTestLoss,
      finalAccuracyCell(r),
      `${r.lrMin.toExponential(2)} … ${r.lrMax.toExponential(2)}`,
      r.lrDecades,
      Number.isFinite(r.medianR) ? r.medianR : null,
      `${r.medianRTrain}, ${r.maxRTrain}`,
      `${r.diverged}/${r.seeds}`,
    ]),
    note:
      "Train loss over the whole training split after the last step. Effective LR: Adam's rate, or the " +
      "η ρ-set chose for Adam's direction (medians over seeds of each run's min and max). Own radius: " +
      "the controller's, over the mini-batch (= r_target by construction); ρ_out(train): π/max Δ_a over " +
      "the whole training split along the applied step, on the reference steps.",
  };
  const bindingRows = summary.binding.map((b) => {
    const pub =
      (b.method === "all-radii" || b.method === "published-all-radii") && b.outputOver === "train"
        ? PUBLISHED_BINDING[b.third]
        : undefined;
    const pubText =
      pub === undefined
        ? null
        : RADII.filter((k) => pub[k] !== undefined)
            .map((k) => `${k} ${pub[k]}`)
            .join(" / ") + ` of ${pub.evaluations}`;
    return [
      labelOf(summary, b.method),
      b.outputOver === "batch"
        ? "mini-batch, every step"
        : isPublishedMethod(b.method)
          ? "training split (all radii), evaluation points"
          : "training split, reference steps",
      b.third,
      b.evaluations,
      b.output,
      b.attention,
      b.ffn,
      pubText,
    ];
  });
  const bindings: ReportTable = {
    title: "Which radius binds, per third of training (evaluations summed over seeds)",
    columns: [
      "controller",
      "ρ_out over",
      "third",
      "evaluations",
      "output",
      "attention",
      "FFN",
      "paper",
    ],
    rows: bindingRows,
    note:
      "'mini-batch': as the controller saw it (all radii on the step's mini-batch, every step). " +
      "'training split': the same step with ρ_out taken over the whole training split instead (the " +
      "internal radii as measured on the batch), on every reference step. The output-only controller " +
      "measures only ρ_out, so output binds by definition. Published arm: every radius over the " +
      "whole training split, counted at the evaluation points (every 20th step) in thirds of " +
      "⌊m/3⌋ points, as the reference counts them.",
  };
  if (summary.published === undefined) return [methods, bindings];
  return [methods, bindings, protocolsTable(summary)];
}

/** One row per method role: the published protocol's arm beside ours. */
function protocolsTable(summary: TransformerRadiiSummary): ReportTable {
  const row = (m: TransformerRadiiMethod | null) =>
    m === null ? undefined : summary.table.find((r) => r.method === m);
  const cell = (r: TransformerRadiiRow | undefined) =>
    r === undefined
      ? "not run"
      : `train loss ${r.medianFinalTrainLoss}, test acc ${(100 * r.medianFinalTestAcc).toFixed(1)}%, ` +
        `LR ${r.lrDecades} decades, diverged ${r.diverged}/${r.seeds}`;
  return {
    title: "The published protocol beside ours (median over the seeds run)",
    columns: ["method", "published protocol", "our protocol"],
    rows: PUBLISHED_METHODS.map((m) => [ROLE[m], cell(row(m)), cell(row(OURS_OF[m]))]),
    note:
      "Published protocol: random 70/30 split (seed 42 for every seed), full-batch AdamW " +
      "(decay 1e-4 at the controller's rate), base LR 2e-3, 1,201 steps, all radii over the " +
      "training split every step, ρ_ffn by linear interpolation, bias-free q/k/v/o. Ours: " +
      "stratified 80/20 split per seed, Adam on mini-batches of 128, base LR 1e-3, 1,000 steps, " +
      "radii over the mini-batch. Adam's 1× and 16× are ours at 1e-3 and 1.6e-2.",
  };
}

function labelOf(summary: TransformerRadiiSummary, m: TransformerRadiiMethod): string {
  return summary.table.find((r) => r.method === m)?.label ?? LABEL[m];
}
