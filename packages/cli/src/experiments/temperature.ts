/**
 * `temperature`: does the radius explain where one step breaks, across softmax temperatures?
 *
 * Protocol (docs/science.md §5): the MLP 64→128→128→10 (GELU) is trained with cross-entropy on `z/T`
 * (Adam, LR 0.01, batch 256, 120 steps) for each T. Along the unit negative gradient of the
 * training loss (full training split) we take one step of length τ for τ on a log grid from
 * 1e-4 to max(4ρ_a(T), 2) and record the loss ratio (post/pre). Onset = the first grid τ
 * whose loss ratio is ≥ 2.
 *
 * **Convention.** The model's logits already include the temperature (`z/T`), so the slopes
 * `a` we measure are those of `z/T` and `ρ_a(T) = π / max Δ_a(z/T) = πT / max Δ_a(z)`. The
 * scaled step is therefore `r_T = τ/ρ_a(T) = τ·Δ_a(z)/(πT)` — docs/science.md's `τΔ_a/(πT)` with
 * `Δ_a` the spread of the raw logits. Each run checks this identity numerically by probing
 * the same direction with the temperature overridden to 1 (`temperatureIdentityError`).
 *
 * The loss is the mean cross-entropy at temperature T on the training split (the set the
 * gradient and ρ_a come from); test-split onsets are reported beside it.
 *
 * @module
 */

import { rhoAFromSpread } from "softmax-ghosts/theory";
import { maxOf, minOf } from "softmax-ghosts/util";
import { z } from "zod";
import { lineWithBand } from "../report/vega.js";
import {
  alongGradient,
  atTrainedPoint,
  firstWhere,
  logGrid,
  rhoAlong,
  sweepAlongDirection,
  trainingFor,
} from "./framework/one-step.js";
import { anyNumber, fraction, magnitude, radius, resultSchemaOf } from "./framework/schemas.js";
import { type CellOf, experiment } from "./framework/spec.js";
import { quantileInf, quartilesInf } from "./framework/stats.js";
import type { FigureSpec, ReportTable, Verdict } from "./framework/types.js";

/** The temperatures of the protocol. */
export const TEMPERATURES = [0.25, 0.5, 1, 2, 4, 8, 16, 64];

/** The reduced set of `--quick`: both ends and every factor of 4 between. */
export const QUICK_TEMPERATURES = [0.25, 1, 4, 16, 64];

/** The loss ratio that marks the onset of a failed step. */
export const ONSET_RATIO = 2;

/**
 * Population standard deviation (ddof = 0, numpy's default) of log10 of the finite positive
 * values; NaN with fewer than two.
 */
export function log10Std(values: readonly number[]): number {
  const xs = values.filter((v) => Number.isFinite(v) && v > 0).map(Math.log10);
  if (xs.length < 2) return Number.NaN;
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  return Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
}

/**
 * `y` at `x` on a piecewise-linear curve in (log10 x, log10 y) through `(xs, ys)` (xs
 * increasing); NaN outside `[xs[0], xs.at(-1)]`. Infinite ys stay infinite where they bound
 * the interval.
 */
export function interpLogLog(xs: readonly number[], ys: readonly number[], x: number): number {
  const n = xs.length;
  if (n === 0 || !(x >= xs[0] && x <= xs[n - 1])) return Number.NaN;
  let j = 0;
  while (j < n - 2 && xs[j + 1] < x) j++;
  const x0 = Math.log10(xs[j]);
  const x1 = Math.log10(xs[j + 1] ?? xs[j]);
  const f = x1 === x0 ? 0 : (Math.log10(x) - x0) / (x1 - x0);
  const y0 = ys[j];
  const y1 = ys[j + 1] ?? ys[j];
  if (f === 0) return y0;
  if (f === 1) return y1;
  if (!Number.isFinite(y0) || !Number.isFinite(y1)) return Number.POSITIVE_INFINITY;
  return 10 ** (Math.log10(y0) + f * (Math.log10(y1) - Math.log10(y0)));
}

// ---------------------------------------------------------------------------------------------
// Runs

const PROTOCOL = {
  arch: "mlp",
  optimizer: { name: "adam" as const, learningRate: 0.01 },
  batchSize: 256,
  steps: 120,
  tauMin: 1e-4,
  gridPoints: 71,
};

const GRID = { temperature: TEMPERATURES };

/** One run: the protocol at one temperature and seed. */
export type TemperatureRun = CellOf<typeof PROTOCOL, typeof GRID>;

/** What one run measured. */
export type TemperatureResult = {
  /** `ρ_a(T)` over the training split along the unit negative gradient. */
  rhoA: number;
  /** `max Δ_a` of the raw logits z (temperature overridden to 1) along the same direction. */
  rawMaxSpread: number;
  /** `|ρ_a(T) − πT/max Δ_a(z)| / ρ_a(T)`: the convention check. */
  temperatureIdentityError: number;
  gradNorm: number;
  preTrainLoss: number;
  preTestLoss: number;
  testAccuracy: number;
  tauMax: number;
  curve: { tau: number; r: number; trainLossRatio: number; testLossRatio: number }[];
  /** First τ with train loss ratio ≥ 2 (+∞: never on the grid), and the same as r_T. */
  onsetTau: number;
  onsetR: number;
  /** The same on the test split. */
  onsetTauTest: number;
  onsetRTest: number;
};

/** Per-temperature medians over seeds. */
export type PerTemperature = {
  temperature: number;
  rhoA: number;
  onsetTau: number;
  onsetR: number;
  onsetTauTest: number;
  onsetRTest: number;
  testAccuracy: number;
  preTrainLoss: number;
  /** Largest convention-check error over seeds. */
  temperatureIdentityError: number;
};

/** The temperature summary. */
export type TemperatureSummary = {
  /** Std of log10(onset τ) across temperatures (per-T median over seeds), train loss. */
  onsetStdRaw: number;
  /** Std of log10(onset r_T) across temperatures, train loss. */
  onsetStdScaled: number;
  /** The same two on the test split's loss ratio. */
  onsetStdRawTest: number;
  onsetStdScaledTest: number;
  /** Temperatures whose median onset never came on the grid (left out of the spreads). */
  neverFailed: number[];
  perTemperature: PerTemperature[];
  /** Median [IQR] over seeds of the train loss ratio, on common τ and r_T grids per T. */
  curvesRaw: { T: string; x: number; median: number; q25: number; q75: number }[];
  curvesScaled: { T: string; x: number; median: number; q25: number; q75: number }[];
  convention: string;
  published: { onsetStdRaw: number; onsetStdScaled: number };
};

const CONVENTION =
  "The model's logits include 1/T, so a is the slope of z/T and ρ_a(T) = π/max Δ_a(z/T) = πT/max Δ_a(z); r_T = τ/ρ_a(T) = τ·Δ_a(z)/(πT). Std = population std (ddof 0) of log10 onsets across temperatures, each the median over seeds.";

/** Median [IQR] over seeds of each seed's curve, interpolated onto a common log grid. */
function commonCurves(
  perT: readonly { T: number; results: TemperatureResult[] }[],
  x: (c: TemperatureResult["curve"][number]) => number,
  points: number,
): TemperatureSummary["curvesRaw"] {
  return perT.flatMap(({ T, results }) => {
    const xsAll = results.flatMap((r) => r.curve.map(x));
    const lo = minOf(xsAll);
    const hi = maxOf(xsAll);
    if (!(hi > lo && lo > 0)) return [];
    return logGrid(lo, hi, points).flatMap((gx) => {
      const ys = results
        .map((r) =>
          interpLogLog(
            r.curve.map(x),
            r.curve.map((c) => c.trainLossRatio),
            gx,
          ),
        )
        .filter((v) => !Number.isNaN(v));
      if (ys.length === 0) return [];
      const { median, q25, q75 } = quartilesInf(ys);
      return [{ T: `T = ${T}`, x: gx, median, q25, q75 }];
    });
  });
}

/** Shape and ranges of a temperature run's result, checked on every cached run file. */
export const temperatureResultSchema = resultSchemaOf<TemperatureResult>()(
  z.object({
    rhoA: radius,
    rawMaxSpread: magnitude,
    temperatureIdentityError: magnitude,
    gradNorm: magnitude,
    preTrainLoss: anyNumber,
    preTestLoss: anyNumber,
    testAccuracy: fraction,
    tauMax: magnitude,
    curve: z.array(
      z.object({ tau: magnitude, r: radius, trainLossRatio: magnitude, testLossRatio: magnitude }),
    ),
    onsetTau: radius,
    onsetR: radius,
    onsetTauTest: radius,
    onsetRTest: radius,
  }),
);

/** The temperature experiment. */
export const temperature = experiment({
  id: "temperature",
  title: "Temperature: loss-ratio onsets in raw τ vs r_T",
  claim:
    "Across T ∈ {0.25 … 64}, the onset of one-step failure (loss ratio ≥ 2) spreads 0.992 decades (std of log10) in raw step length τ but only 0.164 in r_T = τΔ_a/(πT): 6× tighter.",
  protocol: PROTOCOL,
  grid: GRID,
  seeds: [0, 1, 2, 3, 4],
  quick: { seeds: [0], temperature: QUICK_TEMPERATURES, gridPoints: 36 },
  describe: {
    tauGrid: "log, from tauMin to max(4ρ_a(T), 2)",
    direction: "unit negative gradient of the mean training-split loss at T (eval mode)",
    onset: `first grid τ with loss ratio ≥ ${ONSET_RATIO} (training split; test split reported too)`,
    convention: CONVENTION,
  },
  runKey: (c) => `T${c.temperature}-s${c.seed}`,
  resultSchema: temperatureResultSchema,

  async run(c, ctx) {
    const training = trainingFor(ctx, c.arch, c, {
      optimizer: c.optimizer,
      temperature: c.temperature,
      onProgress: (f) => ctx.onProgress(0.5 * f),
    });
    return atTrainedPoint(training, (p) =>
      alongGradient(p, async ({ direction: v, gradNorm, rho }) => {
        const raw = await rhoAlong(p.model, p.params, p.state, v, p.train, { temperature: 1 });
        // ρ_a(T) = T·π/Δ_a of the untempered slopes (docs/science.md §2)
        const expected = c.temperature * rhoAFromSpread(raw.maxSpread);
        const tauMax = Math.max(4 * rho.rhoA, 2);
        const taus = logGrid(c.tauMin, tauMax, c.gridPoints);
        ctx.onProgress(0.6);
        const sweep = await sweepAlongDirection(p.model, p.params, p.state, v, taus, {
          test: p.test,
          train: p.train,
        });
        const curve = sweep.points.map((q) => ({
          tau: q.tau,
          r: q.tau / rho.rhoA,
          trainLossRatio: q.trainLossRatio!,
          testLossRatio: q.testLossRatio,
        }));
        const onsetTau = firstWhere(taus, (i) => curve[i]!.trainLossRatio >= ONSET_RATIO);
        const onsetTauTest = firstWhere(taus, (i) => curve[i]!.testLossRatio >= ONSET_RATIO);
        ctx.onProgress(1);
        return {
          rhoA: rho.rhoA,
          rawMaxSpread: raw.maxSpread,
          temperatureIdentityError: Math.abs(rho.rhoA - expected) / rho.rhoA,
          gradNorm,
          preTrainLoss: sweep.pre.train!.loss,
          preTestLoss: sweep.pre.test.loss,
          testAccuracy: sweep.pre.test.accuracy,
          tauMax,
          curve,
          onsetTau,
          onsetR: onsetTau / rho.rhoA,
          onsetTauTest,
          onsetRTest: onsetTauTest / rho.rhoA,
        };
      }),
    );
  },

  summarize(outcomes, setup) {
    // Every temperature of the grid, in grid order (one without runs gives NaN medians).
    const perT = setup.grid.temperature.map((T) => ({
      T,
      results: outcomes.filter((o) => o.cell.temperature === T).map((o) => o.result),
    }));
    const med = (xs: number[]) => quantileInf(xs, 0.5);
    const perTemperature: PerTemperature[] = perT.map(({ T, results: rs }) => ({
      temperature: T,
      rhoA: med(rs.map((r) => r.rhoA)),
      onsetTau: med(rs.map((r) => r.onsetTau)),
      onsetR: med(rs.map((r) => r.onsetR)),
      onsetTauTest: med(rs.map((r) => r.onsetTauTest)),
      onsetRTest: med(rs.map((r) => r.onsetRTest)),
      testAccuracy: med(rs.map((r) => r.testAccuracy)),
      preTrainLoss: med(rs.map((r) => r.preTrainLoss)),
      temperatureIdentityError: maxOf(rs.map((r) => r.temperatureIdentityError)),
    }));
    return {
      onsetStdRaw: log10Std(perTemperature.map((p) => p.onsetTau)),
      onsetStdScaled: log10Std(perTemperature.map((p) => p.onsetR)),
      onsetStdRawTest: log10Std(perTemperature.map((p) => p.onsetTauTest)),
      onsetStdScaledTest: log10Std(perTemperature.map((p) => p.onsetRTest)),
      neverFailed: perTemperature
        .filter((p) => !Number.isFinite(p.onsetTau))
        .map((p) => p.temperature),
      perTemperature,
      curvesRaw: commonCurves(perT, (c) => c.tau, 50),
      curvesScaled: commonCurves(perT, (c) => c.r, 50),
      convention: CONVENTION,
      published: { onsetStdRaw: 0.992, onsetStdScaled: 0.164 },
    };
  },

  figures(summary) {
    const common = {
      y: "median",
      lo: "q25",
      hi: "q75",
      color: "T",
      logX: true,
      logY: true,
      points: false,
      yTitle: "loss ratio (post/pre, training split)",
      colorTitle: "temperature",
    };
    const figs: FigureSpec[] = [
      {
        name: "loss-ratio-raw",
        title: "One-step loss ratio vs raw step length τ",
        spec: lineWithBand({
          ...common,
          data: summary.curvesRaw,
          x: "x",
          xTitle: "τ",
          rule: { y: ONSET_RATIO, label: "onset (ratio 2)" },
        }),
      },
      {
        name: "loss-ratio-scaled",
        title: "One-step loss ratio vs r_T = τΔ_a/(πT)",
        spec: lineWithBand({
          ...common,
          data: summary.curvesScaled,
          x: "x",
          xTitle: "r_T",
          rule: [{ x: 1, label: "r = 1" }, { y: ONSET_RATIO }],
        }),
      },
      {
        name: "onsets",
        title: "Onset vs temperature: raw τ and r_T (median over seeds)",
        spec: lineWithBand({
          data: summary.perTemperature.flatMap((p) => [
            { T: p.temperature, onset: p.onsetTau, scale: "raw τ" },
            { T: p.temperature, onset: p.onsetR, scale: "r_T" },
          ]),
          x: "T",
          y: "onset",
          color: "scale",
          logX: true,
          logY: true,
          xTitle: "temperature T",
          yTitle: "onset (loss ratio ≥ 2)",
          rule: { y: 1, label: "r_T = 1" },
        }),
      },
    ];
    return figs;
  },
  tables: (summary): ReportTable[] => [
    {
      title: "Onset spread across temperatures (std of log10 onset)",
      columns: ["scale", "ours (train loss)", "ours (test loss)", "published"],
      rows: [
        ["raw τ", summary.onsetStdRaw, summary.onsetStdRawTest, 0.992],
        ["r_T", summary.onsetStdScaled, summary.onsetStdScaledTest, 0.164],
        [
          "ratio raw/r_T",
          summary.onsetStdRaw / summary.onsetStdScaled,
          summary.onsetStdRawTest / summary.onsetStdScaledTest,
          6.05,
        ],
      ],
      note: summary.convention,
    },
    {
      title: "Per temperature (median over seeds)",
      columns: ["T", "ρ_a(T)", "onset τ", "onset r_T", "onset r_T (test)", "test acc"],
      rows: summary.perTemperature.map((p) => [
        p.temperature,
        p.rhoA,
        p.onsetTau,
        p.onsetR,
        p.onsetRTest,
        p.testAccuracy,
      ]),
      note:
        summary.neverFailed.length > 0
          ? `No onset on the grid for T = ${summary.neverFailed.join(", ")} (left out of the spreads).`
          : "Every temperature reached the onset on its grid.",
    },
  ],

  // The claim is one ratio of two spreads, graded by how far it gets, not a list of checks.
  claims: [],
  verdict: temperatureVerdict,
});

/**
 * The verdict on the onset spreads: *yes* when r_T tightens them more than 3× (the paper:
 * 6×), *partly* when it tightens them at all, *no* otherwise.
 */
function temperatureVerdict(summary: TemperatureSummary): Verdict {
  const tighter = summary.onsetStdRaw / summary.onsetStdScaled;
  const reproduced =
    summary.onsetStdScaled < summary.onsetStdRaw / 3
      ? "yes"
      : summary.onsetStdScaled < summary.onsetStdRaw
        ? "partly"
        : "no";
  return {
    reproduced,
    sentence: `Onset spread ${summary.onsetStdRaw.toFixed(3)} decades in raw τ vs ${summary.onsetStdScaled.toFixed(3)} in r_T (${tighter.toFixed(1)}× tighter; paper: 0.992 vs 0.164, 6× tighter).`,
  };
}
