/**
 * `phase-transition` (docs/science.md §5): does one step stay harmless exactly while it stays inside the
 * radius ρ_a?
 *
 * Protocol, per architecture and seed: train to convergence (AdamW, weight decay 1e-4, batch
 * 128); take the unit negative gradient `v` of the mean cross-entropy over the whole training
 * split; measure `ρ_a(v) = π / max_x Δ_a(x; v)` over the training split; then for every r on a
 * log grid 0.01…100 step once to `θ + r·ρ_a·v` and measure, on the test split, the retained
 * accuracy (post/pre test accuracy) and the loss inflation (post/pre test loss). The step
 * *fails* when retained accuracy < 0.9 or loss inflation > 2; `minFailR` is the smallest grid
 * r that fails (+∞ if none does).
 *
 * Evaluation is in eval mode (BatchNorm uses its running statistics, never updated here), and
 * the gradient is that of the eval-mode loss, so the step direction descends exactly the
 * function being measured.
 *
 * Analysis `curvature` (runs `curvature-<arch>-s<seed>`, the same training, on the first
 * {@link CURVATURE_SEEDS} seeds): at the trained point, along the unit negative gradient and
 * `curvatureDirections` seeded Gaussian directions, the curvature step 2/κ beside ρ_a
 * (`framework/curvature.ts`), the comparison the paper's reference scripts make.
 *
 * @module
 */

import { PAPER_ARCHITECTURES } from "softmax-ghosts/models";
import { z } from "zod";
import { formatNumber } from "../report/stats.js";
import { lineWithBand } from "../report/vega.js";
import { claim } from "./framework/claims.js";
import {
  type CurvatureResult,
  type CurvatureSummary,
  curvatureFigures,
  curvatureResultSchema,
  curvaturesAt,
  curvatureTable,
  summarizeCurvature,
} from "./framework/curvature.js";
import { medianIqr } from "./framework/format.js";
import {
  adamw,
  alongGradient,
  atTrainedPoint,
  firstWhere,
  logGrid,
  sweepAlongDirection,
  trainingFor,
} from "./framework/one-step.js";
import {
  anyNumber,
  count,
  fraction,
  magnitude,
  radius,
  resultSchemaOf,
} from "./framework/schemas.js";
import { type CellOf, experiment, type RunOutcome } from "./framework/spec.js";
import { asFields, groupRuns, quartilesInf } from "./framework/stats.js";
import { ExperimentInputError, type FigureSpec, type RunContext } from "./framework/types.js";

/** Architectures of the quick run (the three cheapest to train). */
export const QUICK_ARCHITECTURES: readonly string[] = ["linear", "mlp", "mlp-ln"];

/** Retained test accuracy below this fraction of the pre-step value counts as a failure. */
export const RETAINED_ACCURACY_THRESHOLD = 0.9;
/** Post/pre test loss above this counts as a failure. */
export const LOSS_INFLATION_THRESHOLD = 2;

/**
 * AdamW learning rate per architecture, inside the paper's 2–6e-3 range. From a 600-step
 * pilot (5 seeds, digits): linear at 6e-3 reaches ~95% test accuracy (it converges slowly);
 * mlp, cnn and mlp-ln at 3e-3 and the transformer at 2e-3 reach 96–99%. cnn-bn (docs/science.md's
 * 1-D conv with global average pooling) is weak on digits at any rate in the range and its
 * eval-mode accuracy (running statistics) is best at the low end: 53/53/64% at 2e-3 vs
 * 34/56/40% at 4e-3 on seeds 0–2.
 */
export const LEARNING_RATES: Record<string, number> = {
  linear: 6e-3,
  mlp: 3e-3,
  cnn: 3e-3,
  "mlp-ln": 3e-3,
  "cnn-bn": 2e-3,
  transformer: 2e-3,
};

const PROTOCOL = {
  steps: 600,
  batchSize: 128,
  weightDecay: 1e-4,
  /** The r grid (ascending): 10 points per decade hits r = 0.1, 1 and 10 exactly. */
  rs: logGrid(0.01, 100, 41),
};

const GRID = {
  arch: [...PAPER_ARCHITECTURES] as string[],
  /** Each architecture runs at its own rate ({@link LEARNING_RATES}; `include` pairs them). */
  learningRate: [...new Set(Object.values(LEARNING_RATES))],
};

/** One run: one architecture trained with one seed, then swept. */
export type PhaseRun = CellOf<typeof PROTOCOL, typeof GRID>;

/** The seeds the curvature analysis runs on (its cost is that of training; three keep it small). */
export const CURVATURE_SEEDS: readonly number[] = [0, 1, 2];
/** Random directions per curvature run, besides the gradient. */
export const CURVATURE_DIRECTIONS = 10;

/** The settings of a curvature run beyond the sweep's (absent from the sweep runs' specs). */
type CurvatureSettings = { curvatureDirections?: number };

/** A run of either kind: the sweep (no `analysis`) or the curvature analysis. */
type AnyPhaseRun = PhaseRun & { analysis?: "curvature" } & CurvatureSettings;

/** What one run measured. */
export type PhaseResult = {
  /** Test accuracy and loss before the step (after training). */
  preStepAcc: number;
  preStepLoss: number;
  /** ‖∇L‖ over the training split and ρ_a along −∇L/‖∇L‖. */
  gradNorm: number;
  rhoA: number;
  /** Training-split index of the sample whose spread binds ρ_a. */
  bindingSample: number;
  /** Per r: post/pre test accuracy, post/pre test loss, fraction of test predictions flipped. */
  retained: number[];
  inflation: number[];
  flip: number[];
  /** Smallest r with retained < 0.9 or inflation > 2 (+∞ if none). */
  minFailR: number;
  /** Smallest r with retained < 0.9 alone, and with inflation > 2 alone. */
  minAccFailR: number;
  minLossFailR: number;
};

/** One row of the summary table (medians over seeds, with quartiles). */
export type PhaseTableRow = {
  arch: string;
  preStepAcc: number;
  preStepAccQ25: number;
  preStepAccQ75: number;
  minFailR: number;
  minFailRQ25: number;
  minFailRQ75: number;
  minAccFailR: number;
  minLossFailR: number;
  rhoA: number;
  /** Seeds that failed at some r < 1, and seeds in total. */
  seedsFailingBelowR1: number;
  seeds: number;
};

/** One point of the curves: an architecture at one r, medians and quartiles over seeds. */
export type PhaseCurvePoint = {
  arch: string;
  r: number;
  retained: number;
  retainedQ25: number;
  retainedQ75: number;
  inflation: number;
  inflationQ25: number;
  inflationQ75: number;
  flip: number;
};

/** The summary written to `summary.json`. */
export type PhaseSummary = {
  /** The r grid the curves are on. */
  rGrid: { min: number; max: number; points: number };
  table: PhaseTableRow[];
  curves: PhaseCurvePoint[];
  perSeed: { arch: string; seed: number; preStepAcc: number; rhoA: number; minFailR: number }[];
  /** The curvature analysis (2/κ beside ρ_a), when its runs were part of the plan. */
  curvature?: CurvatureSummary;
};

/** Whether one grid point fails (NaN-safe: an unmeasurable step counts as a failure). */
export function fails(retained: number, inflation: number): boolean {
  return !(retained >= RETAINED_ACCURACY_THRESHOLD) || !(inflation <= LOSS_INFLATION_THRESHOLD);
}

/** Architectures with their median first failing r, for a sentence. */
const listed = (rows: PhaseTableRow[]) =>
  rows.map((t) => `${t.arch} (${formatNumber(t.minFailR, 3)})`).join(", ");

/** A part of the claim on the per-architecture median first failing r. */
function onAll(
  says: string,
  bad: (t: PhaseTableRow) => boolean,
  measured: (bad: PhaseTableRow[], all: PhaseTableRow[]) => string,
  opts: { essential?: boolean } = {},
) {
  return claim<PhaseSummary>(
    says,
    (s) => {
      if (s.table.length === 0) return null;
      const off = s.table.filter(bad);
      return { holds: off.length === 0, measured: measured(off, s.table) };
    },
    opts,
  );
}

/** Shape and ranges of {@link PhaseResult}, checked on every cached run file. */
export const phaseResultSchema = resultSchemaOf<PhaseResult>()(
  z.object({
    preStepAcc: fraction,
    preStepLoss: anyNumber,
    gradNorm: magnitude,
    rhoA: radius,
    bindingSample: count,
    retained: z.array(magnitude),
    inflation: z.array(magnitude),
    flip: z.array(fraction),
    minFailR: radius,
    minAccFailR: radius,
    minLossFailR: radius,
  }),
);

/** Either kind of run result, checked on every cached run file. */
const anyPhaseResultSchema = z.union([phaseResultSchema, curvatureResultSchema]);

/** The training of a run (both kinds train alike, so to the same point). */
function phaseTraining(c: PhaseRun, ctx: RunContext) {
  return trainingFor(ctx, c.arch, c, {
    optimizer: adamw(c),
    onProgress: (f) => ctx.onProgress(0.85 * f),
  });
}

/** Analysis `curvature`: ρ_a and 2/κ along the gradient and seeded random directions. */
function curvatureRun(c: AnyPhaseRun, ctx: RunContext): Promise<CurvatureResult> {
  const directions = c.curvatureDirections ?? CURVATURE_DIRECTIONS;
  return atTrainedPoint(phaseTraining(c, ctx), async (p) => {
    const points = await curvaturesAt(
      p,
      "final",
      directions,
      (j) => c.seed * 100_000 + j,
      (j) => ctx.onProgress(0.85 + (0.15 * j) / directions),
    );
    const final = p.trained.final;
    return {
      snapshots: [{ snapshot: "final", steps: final.steps, testAccuracy: final.testAccuracy }],
      points,
    };
  });
}

/** The curvature part of the summary (none when the plan had no curvature runs). */
function curvatureSummary(outcomes: RunOutcome<AnyPhaseRun, PhaseResult | CurvatureResult>[]): {
  curvature?: CurvatureSummary;
} {
  const runs = outcomes.flatMap(({ cell, result }) =>
    cell.analysis === "curvature"
      ? [{ group: cell.arch, seed: cell.seed, result: result as CurvatureResult }]
      : [],
  );
  return runs.length === 0 ? {} : { curvature: summarizeCurvature(runs) };
}

/** The experiment definition. */
export const phaseTransition = experiment({
  id: "phase-transition",
  title: "Phase transition at r = 1: one gradient step of length r·ρ_a",
  claim:
    "No architecture loses accuracy for r < 1; collapse appears once r ≥ 1, clustered between 1 and 10 (confidence-margin slack).",
  protocol: PROTOCOL,
  grid: GRID,
  include: (c) =>
    LEARNING_RATES[c.arch] === c.learningRate &&
    (c.analysis === undefined || CURVATURE_SEEDS.includes(c.seed)),
  analyses: ["curvature"],
  derive: (c): CurvatureSettings =>
    c.analysis === "curvature" ? { curvatureDirections: CURVATURE_DIRECTIONS } : {},
  seeds: [0, 1, 2, 3, 4],
  // Quick keeps the three cheapest architectures and 5 r per decade; the code path is the same.
  quick: { seeds: [0], arch: [...QUICK_ARCHITECTURES], steps: 150, rs: logGrid(0.01, 100, 21) },
  describe: {
    optimizer: "adamw",
    direction: "unit negative gradient of the eval-mode training loss (full training split)",
    rhoOver: "training split",
    measuredOn: "test split",
    failWhen: `retained accuracy < ${RETAINED_ACCURACY_THRESHOLD} or loss inflation > ${LOSS_INFLATION_THRESHOLD}`,
  },
  validate(setup) {
    if (setup.data.kind === "cifar10") {
      throw new ExperimentInputError(
        "phase-transition trains the six small architectures on flat feature vectors; CIFAR-10 is not supported",
      );
    }
  },
  runKey: (c) => `${c.analysis === "curvature" ? "curvature-" : ""}${c.arch}-s${c.seed}`,
  resultSchema: anyPhaseResultSchema,

  async run(c, ctx) {
    if (c.analysis === "curvature") return curvatureRun(c, ctx);
    return atTrainedPoint(phaseTraining(c, ctx), (p) =>
      alongGradient(p, async ({ direction: v, gradNorm, rho }) => {
        ctx.onProgress(0.9);
        const taus = c.rs.map((r) => r * rho.rhoA);
        const sweep = await sweepAlongDirection(p.model, p.params, p.state, v, taus, {
          test: p.test,
        });
        const retained = sweep.points.map((q) => q.retainedAccuracy);
        const inflation = sweep.points.map((q) => q.testLossRatio);
        ctx.onProgress(1);
        return {
          preStepAcc: sweep.pre.test.accuracy,
          preStepLoss: sweep.pre.test.loss,
          gradNorm,
          rhoA: rho.rhoA,
          bindingSample: rho.bindingSample,
          retained,
          inflation,
          flip: sweep.points.map((q) => q.flipFraction),
          minFailR: firstWhere(c.rs, (i) => fails(retained[i]!, inflation[i]!)),
          minAccFailR: firstWhere(c.rs, (i) => !(retained[i]! >= RETAINED_ACCURACY_THRESHOLD)),
          minLossFailR: firstWhere(c.rs, (i) => !(inflation[i]! <= LOSS_INFLATION_THRESHOLD)),
        };
      }),
    );
  },

  summarize(all, { protocol: { rs } }) {
    const outcomes = all.flatMap((o) =>
      o.cell.analysis === undefined ? [{ cell: o.cell, result: o.result as PhaseResult }] : [],
    );
    const groups = groupRuns(outcomes, ["arch"]);
    const table: PhaseTableRow[] = groups.map(({ key, results: res }) => {
      return {
        arch: key.arch as string,
        ...asFields("preStepAcc", quartilesInf(res.map((r) => r.preStepAcc))),
        ...asFields("minFailR", quartilesInf(res.map((r) => r.minFailR))),
        minAccFailR: quartilesInf(res.map((r) => r.minAccFailR)).median,
        minLossFailR: quartilesInf(res.map((r) => r.minLossFailR)).median,
        rhoA: quartilesInf(res.map((r) => r.rhoA)).median,
        seedsFailingBelowR1: res.filter((r) => r.minFailR < 1).length,
        seeds: res.length,
      };
    });
    const curves = groups.flatMap(({ key, results: res }) =>
      rs.map((r, i): PhaseCurvePoint => {
        return {
          arch: key.arch as string,
          r,
          ...asFields("retained", quartilesInf(res.map((x) => x.retained[i]!))),
          ...asFields("inflation", quartilesInf(res.map((x) => x.inflation[i]!))),
          flip: quartilesInf(res.map((x) => x.flip[i]!)).median,
        };
      }),
    );
    const perSeed = outcomes.map(({ cell, result }) => ({
      arch: cell.arch,
      seed: cell.seed,
      preStepAcc: result.preStepAcc,
      rhoA: result.rhoA,
      minFailR: result.minFailR,
    }));
    return {
      rGrid: { min: rs[0]!, max: rs[rs.length - 1]!, points: rs.length },
      table,
      curves,
      perSeed,
      ...curvatureSummary(all),
    };
  },

  tables: (summary) => [
    {
      title: "Smallest failing r per architecture (ours) beside the paper",
      columns: [
        "architecture",
        "pre-step test acc, median [IQR]",
        "ρ_a",
        "min failing r, median [IQR]",
        "acc < 90% from r",
        "loss × 2 from r",
        "seeds failing at r < 1",
        "paper",
      ],
      rows: summary.table.map((t) => [
        t.arch,
        medianIqr({ median: t.preStepAcc, q25: t.preStepAccQ25, q75: t.preStepAccQ75, n: t.seeds }),
        t.rhoA,
        medianIqr({ median: t.minFailR, q25: t.minFailRQ25, q75: t.minFailRQ75, n: t.seeds }, (x) =>
          formatNumber(x, 3),
        ),
        t.minAccFailR,
        t.minLossFailR,
        `${t.seedsFailingBelowR1}/${t.seeds}`,
        "no loss for r < 1; fails in [1, 10]",
      ]),
      note: `Medians over seeds [25%, 75%]; r is read off a log grid of ${
        summary.rGrid.points
      } points from ${summary.rGrid.min} to ${summary.rGrid.max}. A step fails when retained test accuracy < 0.9 or post/pre test loss > 2; ∞ = never failed on the grid.`,
    },
    ...(summary.curvature ? [curvatureTable(summary.curvature, "architecture")] : []),
  ],

  figures(summary): FigureSpec[] {
    const rows = summary.curves.map((c) => ({ ...c }));
    const rule = { x: 1, label: "r = 1" };
    return [
      {
        name: "retained-accuracy",
        title: "Retained test accuracy after one step of length r·ρ_a (median, IQR band)",
        spec: lineWithBand({
          data: rows,
          x: "r",
          y: "retained",
          lo: "retainedQ25",
          hi: "retainedQ75",
          color: "arch",
          colorTitle: "architecture",
          logX: true,
          xTitle: "r = τ / ρ_a",
          yTitle: "post / pre test accuracy",
          rule: [rule, { y: RETAINED_ACCURACY_THRESHOLD, label: "fail: < 0.9" }],
        }),
      },
      {
        name: "loss-inflation",
        title: "Loss inflation (post/pre test loss) after one step of length r·ρ_a",
        spec: lineWithBand({
          data: rows,
          x: "r",
          y: "inflation",
          lo: "inflationQ25",
          hi: "inflationQ75",
          color: "arch",
          colorTitle: "architecture",
          logX: true,
          logY: true,
          xTitle: "r = τ / ρ_a",
          yTitle: "post / pre test loss",
          rule: [rule, { y: LOSS_INFLATION_THRESHOLD, label: "fail: > 2" }],
        }),
      },
      ...(summary.curvature
        ? curvatureFigures(summary.curvature, {
            color: "group",
            colorTitle: "architecture",
            shape: "kind",
            shapeTitle: "direction",
          })
        : []),
    ];
  },

  // Per architecture, the median over seeds of the first failing r.
  claims: [
    onAll(
      "no architecture loses accuracy for r < 1",
      (t) => t.minFailR < 1,
      (off, all) =>
        off.length === 0
          ? "no architecture fails below r = 1"
          : `${off.length}/${all.length} architecture(s) fail already below r = 1: ${listed(off)}`,
      { essential: true },
    ),
    onAll(
      "collapse appears once r ≥ 1",
      (t) => !Number.isFinite(t.minFailR),
      (off, all) =>
        off.length === 0
          ? `all first fail at ${listed(all)}`
          : `never failing on the grid: ${off.map((t) => t.arch).join(", ")}`,
    ),
    onAll(
      "clustered between 1 and 10",
      (t) => Number.isFinite(t.minFailR) && t.minFailR > 10,
      (off) => (off.length === 0 ? "none later than r = 10" : `later than r = 10: ${listed(off)}`),
    ),
  ],
});
