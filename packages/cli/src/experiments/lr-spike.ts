/**
 * `lr-spike` (docs/science.md §5): a ReLU MLP 64→128→10 trained with Adam (batch 64, 200 steps)
 * whose learning rate is multiplied by 1000 from step 50 on and held there, for base rates
 * 1e-4, 1e-3 and 1e-2; plain Adam against Adam with the ρ-clip controller (r_max = 1). Every
 * step logs the mini-batch loss, the test accuracy, the applied step length τ and ρ_a over the
 * whole training split along the step actually taken.
 *
 * @module
 */
import { minOf } from "softmax-ghosts/util";
import { z } from "zod";
import { claim } from "./framework/claims.js";
import { accuracyAxis, bandLines } from "./framework/figures.js";
import { approx, finalAccuracyCell, lrLabel, pct } from "./framework/format.js";
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
  type FinalAccuracy,
  finalAccuracy,
  groupRuns,
  maxFinite,
  medianOf,
  ratio,
  roundSig,
  stepCurves,
} from "./framework/stats.js";
import { spikedAdam, trainRun } from "./framework/training.js";

/** The two arms of the comparison. */
export type LrSpikeMethod = "plain" | "rho-clip";

const PROTOCOL = {
  arch: "mlp-relu",
  steps: 200,
  batchSize: 64,
  /** First step trained at `baseLr × multiplier` (held until the end). */
  spikeAt: 50,
  multiplier: 1000,
  /** ρ-clip's bound on r = τ/ρ_a. */
  rMax: 1,
  /** Test accuracy every this many steps (and after the last). */
  evalEvery: 1,
  testFraction: 0.2,
};

const GRID = {
  baseLr: [1e-4, 1e-3, 1e-2],
  method: ["plain", "rho-clip"] as LrSpikeMethod[],
};

/** One run: the protocol, a base learning rate, a method and a seed. */
export type LrSpikeRun = CellOf<typeof PROTOCOL, typeof GRID>;

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

/** One row of the summary table (statistics over seeds). */
export type LrSpikeRow = FinalAccuracy & {
  lr: number;
  method: LrSpikeMethod;
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

/** Accuracy at or above which a run counts as "fine". */
export const FINE_ACCURACY = 0.9;
/** Accuracy at or below which plain Adam counts as "dropped to ~50% or lower". */
export const DROPPED_ACCURACY = 0.6;
/** Multiple of chance at or below which a run counts as "at chance". */
export const CHANCE_FACTOR = 2;

const METHOD_LABEL: Record<LrSpikeMethod, string> = { plain: "plain Adam", "rho-clip": "ρ-clip" };

/** r = τ/ρ_a at every step of a run. */
const rOf = (g: LrSpikeResult) => g.tau.map((t, i) => ratio(t, g.rhoA[i]));

function rowOf(s: LrSpikeSummary, lr: number, method: LrSpikeMethod): LrSpikeRow | undefined {
  return s.table.find((r) => r.lr === lr && r.method === method);
}

/** A verdict part on the median final accuracy of plain Adam at one base rate. */
function plainAt(lr: number, says: string, holds: (acc: number, s: LrSpikeSummary) => boolean) {
  return claim<LrSpikeSummary>(says, (s) => {
    const row = rowOf(s, lr, "plain");
    if (row === undefined) return null;
    const r = lr === 1e-4 ? "" : ` (r ${approx(row.rAtSpike)} at the spike)`;
    return {
      holds: holds(row.medianFinalTestAcc, s),
      measured: `plain Adam at ${lrLabel(lr)} ends at ${pct(row.medianFinalTestAcc)}${r}`,
    };
  });
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

/** The experiment. */
export const lrSpike = experiment({
  id: "lr-spike",
  title: "Learning-rate spike: plain Adam vs ρ-clip",
  claim:
    "With the learning rate ×1000 from step 50 on: at base LR 1e-4 both plain Adam and ρ-clip stay fine; " +
    "at 1e-3 plain Adam drops to ~50% or lower and never recovers (τ ≈ 10 ρ_a); at 1e-2 it falls to " +
    "chance (τ ≈ 100 ρ_a); ρ-clip survives all three.",
  protocol: PROTOCOL,
  grid: GRID,
  seeds: [0, 1, 2, 3, 4],
  quick: { seeds: [0], steps: 100, spikeAt: 25, evalEvery: 5 },
  describe: {
    optimizer: "adam",
    spikeHeld: true,
    probe: { sampleSet: "train", aggregate: "max", method: "jvp", every: 1 },
  },
  runKey: (c) => `lr${lrLabel(c.baseLr)}-${c.method}-s${c.seed}`,
  resultSchema: lrSpikeResultSchema,

  async run(c, ctx) {
    const out = await trainRun(
      {
        arch: c.arch,
        seed: c.seed,
        testFraction: c.testFraction,
        optimizer: spikedAdam(c),
        controller: c.method === "rho-clip" ? { name: "rho-clip", rMax: c.rMax } : { name: "none" },
        steps: c.steps,
        batchSize: c.batchSize,
        evalEvery: c.evalEvery,
        // ρ_a along the applied step over the whole training split, every step
        probe: { sampleSet: "train", aggregate: "max", method: "jvp", every: 1 },
      },
      ctx,
    );
    const h = out.history;
    return {
      loss: h.map((r) => roundSig(r.loss)),
      testAcc: h.map((r) => (r.testAccuracy === undefined ? null : roundSig(r.testAccuracy))),
      tau: h.map((r) => roundSig(r.tau)),
      rhoA: h.map((r) => roundSig(r.rhoA)),
      finalTestAcc: out.finalTestAccuracy,
      finalTestLoss: out.finalTestLoss,
      skipped: out.skippedSteps,
      numClasses: out.numClasses,
    };
  },

  summarize(outcomes, { protocol: p }) {
    const groups = groupRuns(outcomes, ["baseLr", "method"]);
    const table: LrSpikeRow[] = groups.map(({ key, results }) => {
      const rs = results.map(rOf);
      const perSeedMax = rs.map(maxFinite);
      return {
        lr: key.baseLr as number,
        method: key.method as LrSpikeMethod,
        ...finalAccuracy(results.map((g) => g.finalTestAcc)),
        maxR: roundSig(medianOf(perSeedMax)),
        maxRWorst: roundSig(maxFinite(perSeedMax)),
        rAtSpike: roundSig(medianOf(rs.map((r) => r[p.spikeAt] ?? Number.NaN))),
        minAccAfterSpike: medianOf(
          results.map((g) =>
            minOf([
              ...g.testAcc.slice(p.spikeAt).filter((v): v is number => typeof v === "number"),
              g.finalTestAcc,
            ]),
          ),
        ),
        seeds: results.length,
      };
    });
    const curves = groups.flatMap(({ key, results }) =>
      stepCurves(results, {
        acc: { of: (g) => g.testAcc, band: true },
        loss: { of: (g) => g.loss },
        tau: { of: (g) => g.tau },
        rhoA: { of: (g) => g.rhoA },
      }).map((pt) => ({ lr: key.baseLr, method: key.method, ...pt }) as LrSpikeCurvePoint),
    );
    const numClasses = Math.max(1, ...outcomes.map((o) => o.result.numClasses));
    return {
      table,
      curves,
      spikeAt: p.spikeAt,
      steps: p.steps,
      multiplier: p.multiplier,
      chance: 1 / numClasses,
    };
  },

  tables: (s) => [
    {
      title: `Final test accuracy after a ×${s.multiplier} learning-rate spike held from step ${s.spikeAt}`,
      columns: [
        "base LR",
        "method",
        "final test acc, median [IQR]",
        "lowest acc after spike",
        "r at spike",
        "max r",
        "paper",
      ],
      rows: s.table.map((r) => [
        lrLabel(r.lr),
        METHOD_LABEL[r.method],
        finalAccuracyCell(r),
        pct(r.minAccAfterSpike),
        r.rAtSpike,
        r.maxR,
        PUBLISHED[lrLabel(r.lr)]?.[r.method] ?? null,
      ]),
      note:
        "r = τ/ρ_a with ρ_a = π/max Δ_a over the training split along the applied step. " +
        "'r at spike': median over seeds at the first spiked step; 'max r': median over seeds of " +
        "each seed's largest r (ρ-clip's r is capped at r_max = 1); 'lowest acc after spike': median " +
        "over seeds of the lowest evaluated test accuracy from the spike on.",
    },
  ],

  figures: (s) => lrSpikeFigures(s),

  claims: [
    plainAt(1e-4, "plain Adam at 1e-4 stays fine", (acc) => acc >= FINE_ACCURACY),
    plainAt(1e-3, "plain Adam at 1e-3 drops to ~50% or lower", (acc) => acc <= DROPPED_ACCURACY),
    plainAt(
      1e-2,
      "plain Adam at 1e-2 falls to chance",
      (acc, s) => acc <= CHANCE_FACTOR * s.chance,
    ),
    claim<LrSpikeSummary>(
      "ρ-clip survives all three",
      (s) => {
        const rho = s.table.filter((r) => r.method === "rho-clip");
        if (rho.length === 0) return null;
        return {
          holds: rho.every((r) => r.medianFinalTestAcc >= FINE_ACCURACY),
          measured: `ρ-clip ends at ${rho.map((r) => `${pct(r.medianFinalTestAcc)} (${lrLabel(r.lr)})`).join(", ")}`,
        };
      },
      { essential: true },
    ),
  ],
});

/** The published outcome per base LR, in words, for the table (docs/science.md §5). */
const PUBLISHED: Record<string, Record<LrSpikeMethod, string>> = {
  "1e-4": { plain: "fine", "rho-clip": "fine" },
  "1e-3": { plain: "≤ ~50%, never recovers (τ ≈ 10 ρ_a)", "rho-clip": "survives" },
  "1e-2": { plain: "chance (τ ≈ 100 ρ_a)", "rho-clip": "survives" },
};

/** Test accuracy vs step per base LR, and τ against ρ_a per step. */
export function lrSpikeFigures(summary: LrSpikeSummary) {
  const spikeRule = { x: summary.spikeAt, label: `×${summary.multiplier} from here` };
  const facet = (c: LrSpikeCurvePoint) => `base LR ${lrLabel(c.lr)}`;
  const accRows = summary.curves
    .filter((c) => c.acc !== null)
    .map((c) => ({
      lr: facet(c),
      method: METHOD_LABEL[c.method],
      step: c.step,
      acc: c.acc,
      q25: c.accQ25,
      q75: c.accQ75,
    }));
  const tauRows = summary.curves.flatMap((c) => [
    { lr: facet(c), series: `τ, ${METHOD_LABEL[c.method]}`, step: c.step, value: c.tau },
    { lr: facet(c), series: `ρ_a, ${METHOD_LABEL[c.method]}`, step: c.step, value: c.rhoA },
  ]);
  const panels = { facet: { field: "lr", columns: 3 }, points: false, width: 300, height: 220 };
  return [
    bandLines(
      "accuracy",
      "Test accuracy per step (median over seeds, IQR band); the learning rate is multiplied " +
        `by ${summary.multiplier} from the dashed line on`,
      accRows,
      {
        ...panels,
        ...accuracyAxis(),
        x: "step",
        y: "acc",
        band: ["q25", "q75"],
        color: "method",
        xTitle: "step",
        colorTitle: "method",
        rule: [spikeRule, { y: summary.chance, label: "chance" }],
      },
    ),
    bandLines(
      "tau-vs-rho",
      "Applied step length τ and radius ρ_a (training split, along the step) per step, " +
        "medians over seeds; plain Adam's τ crossing above its ρ_a is a step past the nearest ghost",
      tauRows,
      {
        ...panels,
        x: "step",
        y: "value",
        color: "series",
        xTitle: "step",
        yTitle: "length (parameter space)",
        colorTitle: "",
        logY: true,
        rule: spikeRule,
      },
    ),
  ];
}
