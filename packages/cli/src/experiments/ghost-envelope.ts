/**
 * `ghost-envelope`: where the nearest ghosts of the training samples sit in the complex
 * t-plane, for four architectures at three stages of one AdamW run (untrained, mid, final),
 * beside the strip the one-JVP bound keeps free of them (docs/science.md §2, "The ghost
 * envelope").
 *
 * A run trains one architecture for `finalStep + 1` steps; the training loop's telemetry
 * probe looks, at steps 0, `midStep` and `finalStep`, along the step AdamW is about to apply
 * (the optimizer's update, weight decay included, as a unit direction — not the negative
 * gradient), over every training sample. For each sample the theory's certified
 * `nearestGhost` gives the zero `t*` of its partition function of least modulus (`Im t* ≥ 0`;
 * the conjugate is a zero too) and `ρ_a = π/Δ_a` its bound: no zero lies in the strip
 * `|Im t| < ρ_a`, so none in the disk `|t| < ρ_a` either.
 *
 * The published script (experiments/ghostenvelope) draws the label/rival top-2 estimate,
 * along the negative gradient of 768 training rows; here the ghosts are exact and the
 * direction is the step actually taken.
 *
 * @module
 */
import type { ProbeResult } from "softmax-ghosts/probe";
import { minOf } from "softmax-ghosts/util";
import { z } from "zod";
import { bandLines } from "./framework/figures.js";
import { pct } from "./framework/format.js";
import { accuracyOfLogits, ghostsOf } from "./framework/ghosts.js";
import { count, fraction, magnitude, radius, resultSchemaOf } from "./framework/schemas.js";
import { experiment } from "./framework/spec.js";
import { medianOf, quantileInf, roundSig } from "./framework/stats.js";
import { runData, trainRun } from "./framework/training.js";
import {
  ExperimentInputError,
  type FigureSpec,
  type ReportTable,
  type VegaLiteSpec,
  type Verdict,
} from "./framework/types.js";

/** The three stages of a run, in training order. */
export const STAGES = ["untrained", "mid", "final"] as const;
/** A stage of training. */
export type Stage = (typeof STAGES)[number];

/** Significant digits of the stored per-sample ghosts (the checks use full precision). */
export const STORED_DIGITS = 6;

/** Rounding tolerance of the theorem `Im t* ≥ π/Δ_a` (the solver's, relative). */
export const ENVELOPE_TOLERANCE = 1e-9;

/** A ghost "lies near its bound" when `|t*| ≤ NEAR_FACTOR · ρ_a`. */
export const NEAR_FACTOR = 2;

/** Points per architecture and stage drawn in the t-plane figure (a subsample of all seeds'). */
export const PLOT_POINTS = 150;

const DIRECTION_NOTE =
  "the AdamW update about to be applied at the stage (weight decay included), as a unit direction in parameter space; slopes over the whole training split";

// ---------------------------------------------------------------------------------------------
// One stage

/** The nearest ghosts of the training split at one stage of one run. */
export type StageGhosts = {
  stage: Stage;
  /** Optimizer steps applied before the probe (the parameters are θ_step). */
  step: number;
  /** Samples probed. */
  n: number;
  /** Samples whose ghost search was not certified (left out of everything below). */
  uncertified: number;
  /** Samples whose slopes all coincide: no ghost at all (left out too). */
  noGhost: number;
  /** Accuracy on the training split of the probed parameters (from the probe's logits). */
  trainAccuracy: number;
  /** Test accuracy of the probed parameters (null at step 0, which is not evaluated). */
  testAccuracy: number | null;
  /** `π / max_x Δ_a(x)` over the split: the strip no sample's ghost enters. */
  setRhoA: number;
  /** min over the kept samples of `Im t* / ρ_a(x)` (≥ 1 by the theorem), full precision. */
  minImOverRhoA: number;
  /** Kept samples with `|t*| ≤ NEAR_FACTOR · ρ_a(x)`, full precision. */
  near: number;
  /** Per kept sample (training-split order), to {@link STORED_DIGITS} digits: Re t*, Im t*, ρ_a. */
  re: number[];
  im: number[];
  rhoA: number[];
};

/**
 * The ghosts of one probe: {@link ghostsOf} on every row, the accuracy of the probed
 * logits against `labels` (by training-split row), and the theorem's check.
 */
export function stageGhosts(
  stage: Stage,
  step: number,
  probe: ProbeResult,
  labels: ArrayLike<number>,
  testAccuracy: number | null = null,
): StageGhosts {
  const { n, k } = probe;
  const ghosts = ghostsOf(probe.logits, probe.a, n, k);
  const out: StageGhosts = {
    stage,
    step,
    n,
    uncertified: 0,
    noGhost: 0,
    trainAccuracy: accuracyOfLogits(probe.logits, labels, n, k),
    testAccuracy,
    setRhoA: minOf(ghosts.map((g) => g.rhoA)),
    minImOverRhoA: Number.POSITIVE_INFINITY,
    near: 0,
    re: [],
    im: [],
    rhoA: [],
  };
  for (const g of ghosts) {
    if (!g.certified) {
      out.uncertified++;
      continue;
    }
    if (!Number.isFinite(g.modulus)) {
      out.noGhost++;
      continue;
    }
    out.minImOverRhoA = Math.min(out.minImOverRhoA, g.im / g.rhoA);
    if (g.modulus <= NEAR_FACTOR * g.rhoA) out.near++;
    out.re.push(roundSig(g.re, STORED_DIGITS));
    out.im.push(roundSig(g.im, STORED_DIGITS));
    out.rhoA.push(roundSig(g.rhoA, STORED_DIGITS));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Runs

const PROTOCOL = {
  midStep: 125,
  finalStep: 500,
  batchSize: 128,
  optimizer: { name: "adamw" as const, learningRate: 3e-3 },
};
const GRID = { arch: ["linear", "mlp", "cnn", "transformer"] };

/** Relative cost of a run per architecture (the progress line's ETA; calibration's timings). */
const ARCH_COST: Record<string, number> = { linear: 1, mlp: 1.3, cnn: 9, transformer: 11 };

/** A run: one architecture × seed. */
export type EnvelopeRun = typeof PROTOCOL & { arch: string; seed: number };

/** A run's result: the three stages in order. */
export type EnvelopeResult = { finalTestAccuracy: number; stages: StageGhosts[] };

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

// ---------------------------------------------------------------------------------------------
// Summary

/** Quantiles over samples. */
export type SampleQuantiles = {
  q05: number;
  q25: number;
  median: number;
  q75: number;
  q95: number;
};

function sampleQuantiles(xs: readonly number[]): SampleQuantiles {
  return {
    q05: quantileInf(xs, 0.05),
    q25: quantileInf(xs, 0.25),
    median: quantileInf(xs, 0.5),
    q75: quantileInf(xs, 0.75),
    q95: quantileInf(xs, 0.95),
  };
}

/** One architecture at one stage, pooled over seeds. */
export type EnvelopeRow = {
  arch: string;
  stage: Stage;
  step: number;
  seeds: number;
  /** Samples probed (training-split rows × seeds). */
  probed: number;
  /** Certified ghosts behind the quantiles (samples × seeds). */
  samples: number;
  uncertified: number;
  noGhost: number;
  trainAccuracy: number;
  testAccuracy: number | null;
  /** Median over seeds of the set-level π/max Δ_a. */
  setRhoA: number;
  /** Over samples (pooled over seeds). */
  modulus: SampleQuantiles;
  re: SampleQuantiles;
  absIm: SampleQuantiles;
  rhoA: SampleQuantiles;
  /** `|t*|/ρ_a` per sample. */
  ratio: SampleQuantiles;
  /** `Im t* / ρ_a` per sample: the height above the sample's strip edge (≥ 1). */
  imRatio: SampleQuantiles;
  /** Fraction of samples with `|t*| ≤ 2ρ_a`. */
  nearFraction: number;
  /** min over samples and seeds of `Im t* / ρ_a` (≥ 1). */
  minImOverRhoA: number;
};

/** The ghost-envelope summary. */
export type EnvelopeSummary = {
  direction: string;
  rows: EnvelopeRow[];
  /**
   * The envelope proper: Im t* quantiles (10/50/90%) in bins of Re t* (16 bins between the
   * 5% and 95% quantiles of Re, bins of ≥ 8 ghosts), pooled over seeds.
   */
  envelope: {
    arch: string;
    stage: Stage;
    re: number;
    imQ10: number;
    imQ50: number;
    imQ90: number;
  }[];
  /**
   * A deterministic subsample for the t-plane figure: every m-th ghost of the pooled list
   * (seeds in plan order, samples in training-split order), about {@link PLOT_POINTS} each.
   */
  points: { arch: string; stage: Stage; re: number; im: number }[];
  /**
   * Per architecture and stage the smallest set-level π/max Δ_a over seeds (the figure's
   * rules): every ghost of every seed lies on or above it.
   */
  bounds: { arch: string; stage: Stage; setRhoA: number }[];
  plotNote: string;
  /** Over everything: min Im t* / ρ_a, certified ghosts, uncertified samples. */
  minImOverRhoA: number;
  samples: number;
  uncertified: number;
  theoremHolds: boolean;
};

const ENVELOPE_BINS = 16;
const ENVELOPE_MIN_BIN = 8;

function envelopeOf(arch: string, stage: Stage, re: number[], im: number[]) {
  const lo = quantileInf(re, 0.05);
  const hi = quantileInf(re, 0.95);
  if (!(hi > lo)) return [];
  const w = (hi - lo) / ENVELOPE_BINS;
  const bins: number[][] = Array.from({ length: ENVELOPE_BINS }, () => []);
  re.forEach((x, i) => {
    const b = Math.floor((x - lo) / w);
    if (x >= lo && x <= hi) bins[Math.min(ENVELOPE_BINS - 1, b)].push(im[i]);
  });
  return bins.flatMap((ims, b) =>
    ims.length < ENVELOPE_MIN_BIN
      ? []
      : [
          {
            arch,
            stage,
            re: roundSig(lo + (b + 0.5) * w),
            imQ10: roundSig(quantileInf(ims, 0.1)),
            imQ50: roundSig(quantileInf(ims, 0.5)),
            imQ90: roundSig(quantileInf(ims, 0.9)),
          },
        ],
  );
}

function summarizeEnvelope(
  outcomes: { cell: EnvelopeRun; result: EnvelopeResult }[],
): EnvelopeSummary {
  const archs = [...new Set(outcomes.map((o) => o.cell.arch))];
  const rows: EnvelopeRow[] = [];
  const envelope: EnvelopeSummary["envelope"] = [];
  const points: EnvelopeSummary["points"] = [];
  const bounds: EnvelopeSummary["bounds"] = [];
  for (const arch of archs) {
    const mine = outcomes.filter((o) => o.cell.arch === arch);
    for (const stage of STAGES) {
      const st = mine.flatMap((o) => o.result.stages.filter((s) => s.stage === stage));
      if (st.length === 0) continue;
      const re = st.flatMap((s) => s.re);
      const im = st.flatMap((s) => s.im);
      const rhoA = st.flatMap((s) => s.rhoA);
      const mod = re.map((x, i) => Math.hypot(x, im[i]));
      const near = st.reduce((s, x) => s + x.near, 0);
      const tests = st.map((s) => s.testAccuracy).filter((x): x is number => x !== null);
      rows.push({
        arch,
        stage,
        step: st[0].step,
        seeds: st.length,
        probed: st.reduce((s, x) => s + x.n, 0),
        samples: re.length,
        uncertified: st.reduce((s, x) => s + x.uncertified, 0),
        noGhost: st.reduce((s, x) => s + x.noGhost, 0),
        trainAccuracy: medianOf(st.map((s) => s.trainAccuracy)),
        testAccuracy: tests.length > 0 ? medianOf(tests) : null,
        setRhoA: medianOf(st.map((s) => s.setRhoA)),
        modulus: sampleQuantiles(mod),
        re: sampleQuantiles(re),
        absIm: sampleQuantiles(im),
        rhoA: sampleQuantiles(rhoA),
        ratio: sampleQuantiles(mod.map((m, i) => m / rhoA[i])),
        imRatio: sampleQuantiles(im.map((x, i) => x / rhoA[i])),
        nearFraction: re.length > 0 ? near / re.length : Number.NaN,
        minImOverRhoA: minOf(st.map((s) => s.minImOverRhoA)),
      });
      envelope.push(...envelopeOf(arch, stage, re, im));
      // the points and the envelope describe the same pooled ghosts
      const stride = Math.max(1, Math.ceil(re.length / PLOT_POINTS));
      for (let i = 0; i < re.length; i += stride)
        points.push({ arch, stage, re: re[i], im: im[i] });
      bounds.push({ arch, stage, setRhoA: minOf(st.map((x) => x.setRhoA)) });
    }
  }
  const minIm = minOf(rows.map((r) => r.minImOverRhoA));
  return {
    direction: DIRECTION_NOTE,
    rows,
    envelope,
    points,
    bounds,
    plotNote: `About ${PLOT_POINTS} of the ghosts per architecture and stage are drawn (every m-th of the seeds' pooled ghosts, m = ⌈n/${PLOT_POINTS}⌉; ${points.length} of ${rows.reduce((s, r) => s + r.samples, 0)}); Im t* on a log axis, upper half plane only (every ghost's conjugate is a ghost too).`,
    minImOverRhoA: minIm,
    samples: rows.reduce((s, r) => s + r.samples, 0),
    uncertified: rows.reduce((s, r) => s + r.uncertified, 0),
    theoremHolds: minIm >= 1 - ENVELOPE_TOLERANCE,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (x: number) => (Number.isFinite(x) ? x.toPrecision(3) : "—");
const band = (q: SampleQuantiles) => `${fmt(q.median)} [${fmt(q.q05)}, ${fmt(q.q95)}]`;

function envelopeTable(s: EnvelopeSummary): ReportTable {
  return {
    title:
      "Nearest ghosts of every training sample along the AdamW step: median [5%, 95%] over samples",
    columns: [
      "arch",
      "stage",
      "step",
      "train acc",
      "|t*|",
      "Re t*",
      "|Im t*|",
      "ρ_a = π/Δ_a",
      "set π/max Δ_a",
      "|t*|/ρ_a",
      "Im t* / ρ_a",
      "|t*| ≤ 2ρ_a",
      "min Im t* / ρ_a",
      "uncertified",
    ],
    rows: s.rows.map((r) => [
      r.arch,
      r.stage,
      r.step,
      pct(r.trainAccuracy),
      band(r.modulus),
      band(r.re),
      band(r.absIm),
      band(r.rhoA),
      r.setRhoA,
      band(r.ratio),
      band(r.imRatio),
      pct(r.nearFraction),
      r.minImOverRhoA,
      r.uncertified,
    ]),
    note: `Direction: ${s.direction}. Pooled over seeds (${s.rows[0]?.seeds ?? 0} per row). ρ_a is per sample; "set π/max Δ_a" is the median over seeds of the set-level bound. Theory: Im t* ≥ ρ_a for every sample (min Im t* / ρ_a ≥ 1). No published numbers: the published script draws the figure only.`,
  };
}

function envelopeVerdict(s: EnvelopeSummary): Verdict {
  const per = (stage: Stage, f: (r: EnvelopeRow) => string) =>
    s.rows
      .filter((r) => r.stage === stage)
      .map((r) => `${r.arch} ${f(r)}`)
      .join(", ");
  const ratioArc = [...new Set(s.rows.map((r) => r.arch))]
    .map((arch) => {
      const byStage = STAGES.map(
        (st) => s.rows.find((r) => r.arch === arch && r.stage === st)?.ratio.median,
      );
      return `${arch} ${byStage.map((x) => (x === undefined ? "—" : fmt(x))).join(" → ")}`;
    })
    .join("; ");
  const theorem = s.theoremHolds
    ? `No ghost entered its strip |Im t| < π/Δ_a: min Im t* / ρ_a = ${s.minImOverRhoA.toPrecision(6)} over ${s.samples} certified ghosts (${s.uncertified} uncertified)`
    : `A ghost entered its strip: min Im t* / ρ_a = ${s.minImOverRhoA.toPrecision(6)} over ${s.samples} certified ghosts`;
  return {
    // an analysis with no published numbers; a certified ghost inside its strip would refute
    // the theorem and is reported as such
    reproduced: s.theoremHolds ? "n/a" : "no",
    sentence: `${theorem}. Median |t*|/ρ_a untrained → mid → final: ${ratioArc}. Ghosts within 2ρ_a at the final stage: ${per("final", (r) => pct(r.nearFraction))}. Median height above the strip, Im t* / ρ_a, at the final stage: ${per("final", (r) => fmt(r.imRatio.median))} (the rest of the slack is sideways, in Re t*).`,
  };
}

/** The t-plane scatter, one panel per architecture, colour = stage, with each stage's set bound. */
function planeSpec(s: EnvelopeSummary): VegaLiteSpec {
  const archs = [...new Set(s.rows.map((r) => r.arch))];
  const color = { field: "stage", type: "nominal", sort: [...STAGES], title: "stage" };
  const spec = {
    data: {
      values: [
        ...s.points.map((p) => ({ ...p, kind: "ghost" })),
        ...s.bounds.map((b) => ({ ...b, kind: "bound" })),
        ...s.envelope.map((e) => ({ ...e, kind: "envelope" })),
      ],
    },
    facet: { field: "arch", type: "nominal", sort: archs, title: null },
    columns: 2,
    spec: {
      width: 300,
      height: 220,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'ghost'" }],
          mark: { type: "point", filled: true, opacity: 0.45, size: 14 },
          encoding: {
            x: { field: "re", type: "quantitative", title: "Re t*" },
            y: { field: "im", type: "quantitative", title: "Im t*", scale: { type: "log" } },
            color,
          },
        },
        {
          transform: [{ filter: "datum.kind === 'envelope'" }],
          mark: { type: "line", strokeWidth: 1.5 },
          encoding: {
            x: { field: "re", type: "quantitative" },
            y: { field: "imQ10", type: "quantitative", scale: { type: "log" } },
            color,
          },
        },
        {
          transform: [{ filter: "datum.kind === 'bound'" }],
          mark: { type: "rule", strokeDash: [5, 4], strokeWidth: 1.5 },
          encoding: { y: { field: "setRhoA", type: "quantitative" }, color },
        },
      ],
    },
    resolve: { scale: { x: "independent", y: "independent" } },
  };
  return spec as unknown as VegaLiteSpec;
}

// ---------------------------------------------------------------------------------------------
// Schema and spec

/** Shape and ranges of {@link EnvelopeResult}, checked on every cached run file. */
export const envelopeResultSchema = resultSchemaOf<EnvelopeResult>()(
  z.object({
    finalTestAccuracy: fraction,
    stages: z.array(
      z.object({
        stage: z.enum(STAGES),
        step: count,
        n: count,
        uncertified: count,
        noGhost: count,
        trainAccuracy: fraction,
        testAccuracy: fraction.nullable(),
        setRhoA: radius,
        minImOverRhoA: magnitude,
        near: count,
        re: z.array(z.number()),
        im: z.array(magnitude),
        rhoA: z.array(radius),
      }),
    ),
  }),
);

/** The ghost envelope (module notes). */
export const ghostEnvelope = experiment({
  id: "ghost-envelope",
  title: "Ghost envelope: nearest ghosts of every training sample across training",
  claim:
    "The published figure (no numbers): the nearest ghosts of the training samples of four architectures, untrained, mid-training and final, in the complex t-plane with quantile envelope bands and the ρ_a level.",
  protocol: PROTOCOL,
  grid: GRID,
  seeds: [0, 1, 2],
  quick: { seeds: [0], midStep: 10, finalStep: 40 },
  describe: {
    direction: DIRECTION_NOTE,
    samples: "every training sample (80% stratified split)",
    stages:
      "untrained = θ_0, mid = θ_midStep, final = θ_finalStep (the run trains finalStep + 1 steps)",
    ghosts: "exact certified nearest zero of the linearised partition function (nearestGhost)",
  },
  validate({ protocol: p, data }) {
    if (data.kind === "cifar10") {
      throw new ExperimentInputError(
        "ghost-envelope: solves a ghost per training sample of the digits-sized models; CIFAR-10 is not supported",
      );
    }
    if (
      !(
        Number.isInteger(p.midStep) &&
        Number.isInteger(p.finalStep) &&
        p.midStep > 0 &&
        p.midStep < p.finalStep
      )
    ) {
      throw new ExperimentInputError(
        `ghost-envelope: need integers 0 < midStep < finalStep, got ${p.midStep}, ${p.finalStep}`,
      );
    }
  },
  runKey: (c) => `${c.arch}-s${c.seed}`,
  cost: (c) => (ARCH_COST[c.arch] ?? 5) * c.finalStep,
  resultSchema: envelopeResultSchema,
  async run(c, ctx): Promise<EnvelopeResult> {
    const labels = runData(ctx, { seed: c.seed }).train.y;
    // the probe fires every `every` steps; only the three stages are kept
    const every = gcd(c.midStep, c.finalStep);
    const stageAt = new Map<number, Stage>([
      [0, "untrained"],
      [c.midStep, "mid"],
      [c.finalStep, "final"],
    ]);
    const stages: StageGhosts[] = [];
    const res = await trainRun(
      {
        arch: c.arch,
        seed: c.seed,
        optimizer: c.optimizer,
        steps: c.finalStep + 1,
        batchSize: c.batchSize,
        evalEvery: every,
        probe: {
          every,
          sampleSet: "train",
          onProbe: (step, probe, rows) => {
            const stage = stageAt.get(step);
            if (stage === undefined) return;
            const rowLabels = rows === null ? labels : Array.from(rows, (r) => labels[r]);
            stages.push(stageGhosts(stage, step, probe, rowLabels));
          },
        },
      },
      ctx,
    );
    if (stages.length !== STAGES.length) {
      throw new Error(
        `ghost-envelope: ${c.arch} seed ${c.seed} probed ${stages.length} of 3 stages (a zero step?)`,
      );
    }
    for (const s of stages) {
      s.testAccuracy = s.step === 0 ? null : (res.history[s.step - 1]?.testAccuracy ?? null);
    }
    return { finalTestAccuracy: res.finalTestAccuracy, stages };
  },
  summarize: (outcomes) => summarizeEnvelope(outcomes),
  tables: (s) => [envelopeTable(s)],
  figures(s): FigureSpec[] {
    const ratioRows = s.rows.map((r) => ({
      arch: r.arch,
      stage: r.stage,
      step: r.step,
      median: r.ratio.median,
      q05: r.ratio.q05,
      q25: r.ratio.q25,
      q75: r.ratio.q75,
      q95: r.ratio.q95,
    }));
    return [
      {
        name: "ghost-plane",
        title: `Nearest ghosts in the t-plane (dashed: the smallest set bound π/max Δ_a over seeds, no ghost below it; line: 10% quantile of Im t* per bin of Re t*). ${s.plotNote}`,
        spec: planeSpec(s),
      },
      bandLines("ratio-by-stage", "|t*|/ρ_a over training samples: median, band 5–95%", ratioRows, {
        x: "step",
        y: "median",
        band: ["q05", "q95"],
        facet: { field: "arch", columns: 4 },
        width: 200,
        height: 200,
        logY: true,
        xTitle: "steps (untrained, mid, final)",
        yTitle: "|t*| / ρ_a",
        rule: [
          { y: 1, label: "bound" },
          { y: NEAR_FACTOR, label: "2ρ_a" },
        ],
      }),
    ];
  },
  claims: [],
  verdict: envelopeVerdict,
});
