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
 * @module
 */

import { evaluate, scoped, toDevice } from "softmax-ghosts/engine";
import type { ControllerSpec } from "softmax-ghosts/optim";
import { maxOf, minOf } from "softmax-ghosts/util";
import { z } from "zod";
import { claim } from "./framework/claims.js";
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
import { trainRun } from "./framework/training.js";
import type { FigureSpec, ReportTable } from "./framework/types.js";

/** The four arms. */
export type TransformerRadiiMethod = "all-radii" | "output" | "fixed-1x" | "fixed-16x";

/** The radii that can bind. */
export const RADII = ["output", "attention", "ffn"] as const;
/** A radius that can bind. */
export type RadiusName = (typeof RADII)[number];

/** The thirds of training the binding radius is counted in. */
export const THIRDS = ["early", "middle", "late"] as const;
/** One third of training. */
export type Third = (typeof THIRDS)[number];

/** Adam's fixed learning rate of the 1× arm. */
const BASE_LR = 1e-3;
/** The "16×" of the high fixed arm. */
const HIGH_MULTIPLIER = 16;

/** Each arm's setting: Adam's fixed rate, or the controllers' target r = τ/ρ (they set their own rate). */
const ARMS: Record<
  TransformerRadiiMethod,
  { learningRate: number | null; rTarget: number | null }
> = {
  "all-radii": { learningRate: null, rTarget: 1 },
  output: { learningRate: null, rTarget: 1 },
  "fixed-1x": { learningRate: BASE_LR, rTarget: null },
  "fixed-16x": { learningRate: BASE_LR * HIGH_MULTIPLIER, rTarget: null },
};

const PROTOCOL = {
  arch: "transformer",
  steps: 1000,
  batchSize: 128,
  /** The controllers' radius is over the step's mini-batch — see the module comment. */
  sampleSet: "batch" as const,
  /** Measure ρ_out over the whole training split along the applied step every this many steps. */
  referenceEvery: 3,
  evalEvery: 50,
  testFraction: 0.2,
};

/**
 * The arms as a grid: every (method, learning rate, r target) is planned and `include` keeps
 * each method's own setting from {@link ARMS}, so a run spells out the rate it trained with.
 */
const GRID = {
  method: ["all-radii", "output", "fixed-1x", "fixed-16x"] as TransformerRadiiMethod[],
  learningRate: [null, BASE_LR, BASE_LR * HIGH_MULTIPLIER] as (number | null)[],
  rTarget: [null, 1] as (number | null)[],
};

/** One run: a method with its setting, a seed, and the protocol. */
export type TransformerRadiiRun = CellOf<typeof PROTOCOL, typeof GRID>;

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
   * split, on the reference steps.
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
  /** Steps per curve bin (loss: mean, learning rate: geometric mean within a bin). */
  bin: number;
  steps: number;
  /** The method with the lowest median final training loss. */
  lowestLoss: TransformerRadiiMethod | null;
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
  switch (run.method) {
    case "all-radii":
      return { name: "all-radii", mode: "set", rTarget: run.rTarget ?? 1 };
    case "output":
      return { name: "rho-set", rTarget: run.rTarget ?? 1 };
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
    return rows.every((r) => r !== undefined) ? check(rows as TransformerRadiiRow[]) : null;
  });
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

/** The experiment. */
export const transformerRadii = experiment({
  id: "transformer-radii",
  title: "Transformer: all-radii vs output-only controller vs fixed learning rates",
  claim:
    "Fixed 1× converges slowly, 16× diverges; adaptive controllers vary their effective LR by orders " +
    "of magnitude; all-radii reaches the lowest loss. Binding radius: early FFN (94/100 evaluations), " +
    "middle mixed (FFN 48 / output 52), late output (97/105); attention never binds.",
  protocol: PROTOCOL,
  grid: GRID,
  seeds: [0, 1, 2, 3, 4],
  // one seed, 24 steps, mini-batches of 64, the reference every 4th step
  quick: { seeds: [0], steps: 24, batchSize: 64, referenceEvery: 4, evalEvery: 8 },
  include: (c) =>
    ARMS[c.method].learningRate === c.learningRate && ARMS[c.method].rTarget === c.rTarget,
  describe: {
    optimizer: "adam",
    baseLearningRate: BASE_LR,
    highMultiplier: HIGH_MULTIPLIER,
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

  async run(c, ctx) {
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
        afterTraining: ({ model, params, state, data }) => {
          trainEval = scoped((scope) => {
            const x = scope.own(
              toDevice(data.train.x, [data.train.n, data.train.d], model.config.dtype),
            );
            return evaluate(model, params, state, x, data.train.y);
          });
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

  summarize(outcomes, { protocol: p }): TransformerRadiiSummary {
    const steps = p.steps;
    const bin = Math.max(1, Math.ceil(steps / CURVE_POINTS));
    const table: TransformerRadiiRow[] = [];
    const binding: BindingRow[] = [];
    const curves: TransformerRadiiCurvePoint[] = [];
    const accuracy: TransformerRadiiAccPoint[] = [];
    for (const { runs, results: rs } of groupRuns(outcomes, ["method"])) {
      const run0 = runs[0].cell;
      const method = run0.method;
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
      if (run0.rTarget !== null) {
        for (const outputOver of ["batch", "train"] as const) {
          const counts = countBindings(
            rs.map((g) => (outputOver === "batch" ? g.binding : g.bindingTrain)),
            steps,
          );
          for (const third of THIRDS) binding.push({ method, outputOver, third, ...counts[third] });
        }
      }
      const loss = quantilesPerStep(rs.map((g) => binSeries(g.loss, bin, Number.isFinite, mean)));
      const lr = quantilesPerStep(
        rs.map((g) => binSeries(g.lr, bin, (v) => v > 0 && Number.isFinite(v), geomean)),
      );
      for (let i = 0; i < Math.max(loss.length, lr.length); i++) {
        const l = loss[i];
        const e = lr[i];
        curves.push({
          method,
          step: i * bin,
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
    const ranked = table
      .filter((r) => Number.isFinite(r.medianFinalTrainLoss))
      .sort((a, b) => a.medianFinalTrainLoss - b.medianFinalTrainLoss);
    return {
      table,
      binding,
      curves,
      accuracy,
      bin,
      steps,
      lowestLoss: ranked[0]?.method ?? null,
    };
  },

  tables: (s) => transformerRadiiTables(s),
  figures: (s) => transformerRadiiFigures(s),
  claims: [
    onRows(["fixed-16x"], "fixed 16× diverges", ([f16]) => ({
      holds: f16.diverged > f16.seeds / 2,
      measured: `fixed 16× diverged in ${f16.diverged}/${f16.seeds} seeds (final train loss ${f16.medianFinalTrainLoss})`,
    })),
    onRows(["fixed-1x", "all-radii"], "fixed 1× converges slowly", ([f1, all]) => ({
      holds: f1.medianFinalTrainLoss > all.medianFinalTrainLoss,
      measured: `fixed 1× ends at train loss ${f1.medianFinalTrainLoss} vs all-radii ${all.medianFinalTrainLoss}`,
    })),
    onRows(
      ["all-radii", "output"],
      "the controllers vary their effective LR by orders of magnitude",
      ([all, out]) => ({
        holds: all.lrDecades >= 1 && out.lrDecades >= 1,
        measured: `the controllers' effective LR spans ${all.lrDecades} (all-radii) and ${out.lrDecades} (output) decades`,
      }),
    ),
    claim<TransformerRadiiSummary>(
      "all-radii reaches the lowest loss",
      (s) =>
        s.table.every((r) => r.method !== "all-radii")
          ? null
          : {
              holds: s.lowestLoss === "all-radii",
              measured: `lowest final train loss: ${s.lowestLoss === null ? "none" : labelOf(s, s.lowestLoss)}`,
            },
      { essential: true },
    ),
    claim<TransformerRadiiSummary>("early FFN, late output, attention never binds", (s) => {
      // the paper's radius is over the training split: judge the binding with ρ_out over it
      const b = (third: Third, over: "batch" | "train" = "train") =>
        s.binding.find(
          (x) => x.method === "all-radii" && x.third === third && x.outputOver === over,
        );
      const early = b("early");
      const late = b("late");
      if (early === undefined || late === undefined) return null;
      const attention = s.binding
        .filter((x) => x.method === "all-radii" && x.outputOver === "train")
        .reduce((n, x) => n + x.attention, 0);
      const batchCounts = THIRDS.map((t) => b(t, "batch"))
        .map((x) => (x ? `${x.ffn}/${x.output}/${x.attention}` : "—"))
        .join(", ");
      return {
        holds:
          early.ffn > early.evaluations / 2 &&
          late.output > late.evaluations / 2 &&
          attention === 0,
        measured:
          `all-radii binding (ρ_out over the training split): early FFN ${early.ffn}/${early.evaluations}, ` +
          `late output ${late.output}/${late.evaluations}, attention ${attention} times ` +
          `(as the controller saw it on the batch, FFN/output/attention per third: ${batchCounts})`,
      };
    }),
  ],
});

/** Effective learning rate and loss per step (log y), and test accuracy. */
export function transformerRadiiFigures(summary: TransformerRadiiSummary): FigureSpec[] {
  const label = (m: TransformerRadiiMethod) =>
    summary.table.find((r) => r.method === m)?.label ?? LABEL[m];
  const lrRows = summary.curves.map((c) => ({
    method: label(c.method),
    step: c.step,
    lr: c.lr,
    q25: c.lrQ25,
    q75: c.lrQ75,
  }));
  const lossRows = summary.curves.map((c) => ({
    method: label(c.method),
    step: c.step,
    loss: c.loss,
    q25: c.lossQ25,
    q75: c.lossQ75,
  }));
  const accRows = summary.accuracy.map((a) => ({ ...a, method: label(a.method) }));
  const binNote = summary.bin > 1 ? ` (means over bins of ${summary.bin} steps)` : "";
  const thirds = [1, 2].map((k) => ({ x: Math.round((k * summary.steps) / 3) }));
  const perStep = {
    x: "step",
    band: ["q25", "q75"],
    color: "method",
    xTitle: "step",
    width: 560,
  } as const;
  return [
    bandLines(
      "effective-lr",
      `Effective learning rate per step${binNote}, median over seeds with IQR band`,
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
      "loss",
      `Mini-batch training loss per step${binNote}, median over seeds with IQR band`,
      lossRows,
      { ...perStep, y: "loss", yTitle: "training loss", logY: true, points: false },
    ),
    bandLines("accuracy", "Test accuracy, median over seeds with IQR band", accRows, {
      ...perStep,
      ...accuracyAxis(),
      y: "acc",
    }),
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
      b.method === "all-radii" && b.outputOver === "train" ? PUBLISHED_BINDING[b.third] : undefined;
    const pubText =
      pub === undefined
        ? null
        : RADII.filter((k) => pub[k] !== undefined)
            .map((k) => `${k} ${pub[k]}`)
            .join(" / ") + ` of ${pub.evaluations}`;
    return [
      labelOf(summary, b.method),
      b.outputOver === "batch" ? "mini-batch, every step" : "training split, reference steps",
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
      "measures only ρ_out, so output binds by definition.",
  };
  return [methods, bindings];
}

function labelOf(summary: TransformerRadiiSummary, m: TransformerRadiiMethod): string {
  return summary.table.find((r) => r.method === m)?.label ?? LABEL[m];
}
