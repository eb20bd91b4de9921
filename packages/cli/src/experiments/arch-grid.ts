/**
 * `arch-grid` (docs/science.md §5): TinyTransformer, MLP+LN and CNN+BN trained with full-batch Adam
 * (base LR 0.015, 200 steps); the learning rate of the single step 50 is multiplied by 10,
 * 100, 1000 or 10000; plain Adam vs Adam with gradient clipping ‖g‖ ≤ 1 vs ρ-clip along
 * Adam's actual step (ρ_a over the training split — the batch itself). A seed *diverges*
 * when its final training loss (full batch, train mode, at the last step) is past
 * `DIVERGED_LOSS` (`framework/stats.ts`). The training loss, not the test loss: CNN+BN is
 * evaluated with BatchNorm's running statistics, which lag far behind fast full-batch Adam
 * steps (momentum 0.1), so its eval-mode test loss can exceed 10 while training goes well.
 *
 * Beside the grid (our protocol), arms at the 10000× spike: the published protocol
 * (`split: "head"`: the first 20% of the rows as the test block, the same for every seed;
 * `evaluation: "batch-stats"`: the test rows as one batch through BatchNorm in training mode)
 * with the published controller `rho-clip-grad` beside plain Adam and gradient clipping (and
 * our ρ-clip on MLP+LN, where it is cheap), docs/science.md §5. Grid cells carry neither
 * setting (absent: stratified split, running statistics), so the committed runs keep their
 * keys and specs.
 *
 * @module
 */

import type { SplitKind } from "softmax-ghosts/data";
import type { EvaluationMode } from "softmax-ghosts/engine";
import type { ControllerSpec } from "softmax-ghosts/optim";
import { z } from "zod";
import { type Claim, claim, verdictOf } from "./framework/claims.js";
import { accuracyAxis, bandLines, bars } from "./framework/figures.js";
import { finalAccuracyCell, pct } from "./framework/format.js";
import { anyNumber, count, fraction, nonNegative, radius } from "./framework/schemas.js";
import {
  type Arm,
  type CellOf,
  experiment,
  type NoLinked,
  type QuickOf,
} from "./framework/spec.js";
import {
  DIVERGED_LOSS,
  diverged,
  type FinalAccuracy,
  finalAccuracy,
  groupRuns,
  medianOf,
  quantilesPerStep,
  roundSig,
} from "./framework/stats.js";
import { msPerStep, runData, trainRun } from "./framework/training.js";
import {
  ExperimentInputError,
  type FigureSpec,
  type ReportTable,
  type Verdict,
} from "./framework/types.js";

/**
 * The methods: plain Adam, gradient-norm clipping before Adam, ρ-clip after Adam (ours: the
 * applied step bounded by ρ along itself), and the published controller `rho-clip-grad`
 * (ρ along −g/‖g‖ against lr·‖g‖, Adam's learning rate rescaled: `rhoClipGrad` in src/optim).
 */
export type ArchGridMethod = "plain" | "grad-clip" | "rho-clip" | "rho-clip-grad";

/** The architectures of the grid. */
export type ArchGridArch = "transformer" | "mlp-ln" | "cnn-bn";

/** Settings every run shares. */
export type ArchGridProtocol = {
  steps: number;
  /** The only step trained at `learningRate × spike`. */
  spikeAt: number;
  learningRate: number;
  /** ‖g‖ bound of gradient clipping. */
  maxGradNorm: number;
  /** r bound of ρ-clip. */
  rMax: number;
  /** Test accuracy every this many steps (and after the last). */
  evalEvery: number;
  testFraction: number;
  /** Train on a seeded subset of this many training rows (absent: the whole split). */
  trainSubset?: number;
  /** Evaluate on a seeded subset of this many test rows (absent: the whole split). */
  testSubset?: number;
};

const PROTOCOL: ArchGridProtocol = {
  steps: 200,
  spikeAt: 50,
  learningRate: 0.015,
  maxGradNorm: 1,
  rMax: 1,
  evalEvery: 10,
  testFraction: 0.2,
  // absent from the full protocol's run files, which were written before they existed
  trainSubset: undefined,
  testSubset: undefined,
};

const ARCHS: ArchGridArch[] = ["transformer", "mlp-ln", "cnn-bn"];
const METHODS: ArchGridMethod[] = ["plain", "grad-clip", "rho-clip"];
const ALL_METHODS: ArchGridMethod[] = [...METHODS, "rho-clip-grad"];

const GRID = { arch: ARCHS, spike: [10, 100, 1000, 10000], method: METHODS };

/** What an arm adds to its cells (absent from the grid's: stratified split, running statistics). */
export type ArchGridArmSettings = {
  /** `"head"`: the published split (see `headSplit`). */
  split: SplitKind;
  /** `"batch-stats"`: the published evaluation (see `EvaluationMode`). */
  evaluation: EvaluationMode;
};

const PUBLISHED_PROTOCOL: ArchGridArmSettings = { split: "head", evaluation: "batch-stats" };

/** The published protocol's methods: the published controller first, then the baselines. */
const PUBLISHED_METHODS: ArchGridMethod[] = ["rho-clip-grad", "plain", "grad-clip"];

/**
 * The arms, at the published headline spike only, in the order they run (MLP+LN, cheap, then
 * CNN+BN, the question): the published protocol with the published controller and the two
 * baselines on every architecture, and our ρ-clip under it where that is cheap (MLP+LN).
 * Sized to the CPU budget of the full-scale run (≈ 50 core-minutes at the committed
 * per-step times); our split with batch-stats evaluation for CNN+BN would be the next arm
 * (`add: {split: "stratified", evaluation: "batch-stats"}`).
 */
const ARMS: Arm<ArchGridProtocol, typeof GRID, NoLinked, ArchGridArmSettings>[] = [
  {
    settings: { arch: ["mlp-ln"], spike: [10000], method: [...PUBLISHED_METHODS, "rho-clip"] },
    add: PUBLISHED_PROTOCOL,
  },
  {
    settings: { arch: ["cnn-bn"], spike: [10000], method: PUBLISHED_METHODS },
    add: PUBLISHED_PROTOCOL,
  },
  {
    settings: { arch: ["transformer"], spike: [10000], method: PUBLISHED_METHODS },
    add: PUBLISHED_PROTOCOL,
  },
];

/**
 * A step's relative cost per architecture, for the progress line's ETA. Measured on the demo
 * (40 full-batch steps): TinyTransformer 30–39 s, MLP+LN 2–5 s a run; CNN+BN runs ~10× MLP+LN
 * in the quick grid. ρ-clip's probe adds about a third.
 */
const ARCH_COST: Record<ArchGridArch, number> = { transformer: 14, "mlp-ln": 1, "cnn-bn": 10 };

/**
 * One run: architecture × spike × method × seed with the protocol, and `probeEvery`: the
 * radius telemetry interval (ρ-clip: every step; the others only at the spike step, which
 * records r at the spike at a fraction of the cost).
 */
export type ArchGridRun = CellOf<typeof PROTOCOL, typeof GRID> &
  Partial<ArchGridArmSettings> & { probeEvery: number };

/**
 * What a variant of the grid may change (`archGrid.withSettings`, as the demo and the
 * benchmarks do): protocol settings, the axes' values, the seeds.
 */
export type ArchGridSettings = QuickOf<ArchGridProtocol, typeof GRID>;

/** What one run measured. */
export type ArchGridResult = {
  finalTestAcc: number;
  finalTestLoss: number;
  /** Full-batch training loss at the last step (before its update): the divergence criterion. */
  lastTrainLoss: number;
  /** Full-batch training loss before each step (5 significant digits). */
  trainLoss: number[];
  /** Test accuracy at the evaluated steps. */
  evalSteps: number[];
  testAcc: number[];
  /** τ, ρ_a and r = τ/ρ_a of the spike step (NaN when not measured). */
  tauAtSpike: number;
  rhoAtSpike: number;
  rAtSpike: number;
  skipped: number;
  /**
   * ms per step by `msPerStep` (`framework/training.ts`), 4 significant digits. The committed
   * full-scale runs stored the median over all steps but the first instead (a timing field).
   */
  msPerStep: number;
};

/** Shape and ranges of {@link ArchGridResult}, checked on every cached run file. */
export const archGridResultSchema = z.object({
  finalTestAcc: fraction,
  finalTestLoss: anyNumber,
  lastTrainLoss: anyNumber,
  trainLoss: z.array(anyNumber),
  evalSteps: z.array(count),
  testAcc: z.array(fraction),
  tauAtSpike: anyNumber,
  rhoAtSpike: radius,
  rAtSpike: anyNumber,
  skipped: count,
  msPerStep: nonNegative,
}) satisfies z.ZodType<ArchGridResult>;

/** One row of the summary table. */
export type ArchGridRow = FinalAccuracy & {
  arch: ArchGridArch;
  spike: number;
  method: ArchGridMethod;
  /** The split of the row's runs: `"stratified"` (ours) or `"head"` (the published). */
  split: SplitKind;
  /** How their test accuracy was measured: `"running-stats"` (ours) or `"batch-stats"` (the published). */
  evaluation: EvaluationMode;
  /** Seeds whose final training loss is past `DIVERGED_LOSS` (or not finite). */
  diverged: number;
  seeds: number;
  medianFinalTestLoss: number;
  medianFinalTrainLoss: number;
  /** Median over seeds of r = τ/ρ_a at the spike step. */
  rAtSpike: number;
};

/** Training loss per step at the largest spike (our protocol): medians and quartiles over seeds. */
export type ArchGridLossPoint = {
  arch: ArchGridArch;
  method: ArchGridMethod;
  step: number;
  loss: number;
  q25: number;
  q75: number;
};

/** Median time per full-batch step per architecture and method (ms). */
export type ArchGridTiming = { arch: ArchGridArch; method: ArchGridMethod; msPerStep: number };

/** What `summary.json` holds besides the framework's metadata. */
export type ArchGridSummary = {
  table: ArchGridRow[];
  lossCurves: ArchGridLossPoint[];
  timing: ArchGridTiming[];
  /** The spike of `lossCurves` and of the comparison with the paper (the largest run). */
  headlineSpike: number;
  spikeAt: number;
  steps: number;
  divergenceLoss: number;
};

/**
 * Published median final test accuracy at 10000× (docs/science.md §5). "rho-clip" is the
 * published ρ-controller's number — the controller `rho-clip-grad` reproduces; our protocol's
 * claims compare our ρ-clip with it.
 */
export const PUBLISHED_10000: Record<
  ArchGridArch,
  Record<"plain" | "grad-clip" | "rho-clip", number>
> = {
  transformer: { plain: 0.318, "grad-clip": 0.387, "rho-clip": 0.953 },
  "mlp-ln": { plain: 0.446, "grad-clip": 0.515, "rho-clip": 0.939 },
  "cnn-bn": { plain: 0.134, "grad-clip": 0.103, "rho-clip": 0.716 },
};

/** ρ-clip must beat both baselines by this much (accuracy) to count as winning (verdict). */
export const WIN_MARGIN = 0.1;
/** How far below the published ρ-clip accuracy ours may stay and still count as reproduced. */
export const RHO_CLIP_SLACK = 0.15;

const ARCH_LABEL: Record<ArchGridArch, string> = {
  transformer: "TinyTransformer",
  "mlp-ln": "MLP+LN",
  "cnn-bn": "CNN+BN",
};

const METHOD_LABEL: Record<ArchGridMethod, string> = {
  plain: "plain Adam",
  "grad-clip": "grad clip ‖g‖≤1",
  "rho-clip": "ρ-clip",
  "rho-clip-grad": "published ρ-controller",
};

/** The paper's number for a method at 10000× (its ρ-controller's for both ρ methods). */
function paperAcc(arch: ArchGridArch, m: ArchGridMethod): number | undefined {
  return PUBLISHED_10000[arch]?.[m === "rho-clip-grad" ? "rho-clip" : m];
}

/** Which protocol a row (or run) was measured under. */
export function protocolOf(r: {
  split?: SplitKind;
  evaluation?: EvaluationMode;
}): ArchGridProtocolName {
  const head = r.split === "head";
  const batch = r.evaluation === "batch-stats";
  if (head) return batch ? "published" : "head-running-stats";
  return batch ? "ours-batch-stats" : "ours";
}

/**
 * The protocol of a run, from its split and evaluation: ours (stratified seeded split,
 * BatchNorm running statistics), the published one (head split, batch statistics), ours with
 * the published evaluation only, or the head split with running statistics (not planned).
 */
export type ArchGridProtocolName = "ours" | "published" | "ours-batch-stats" | "head-running-stats";

const PROTOCOL_LABEL: Record<ArchGridProtocolName, string> = {
  ours: "our protocol",
  published: "the published protocol",
  "ours-batch-stats": "our split, batch-stats evaluation",
  "head-running-stats": "head split, running-stats evaluation",
};

function controllerOf(run: ArchGridRun): ControllerSpec {
  switch (run.method) {
    case "plain":
      return { name: "none" };
    case "grad-clip":
      return { name: "grad-clip", maxNorm: run.maxGradNorm };
    case "rho-clip":
      return { name: "rho-clip", rMax: run.rMax };
    case "rho-clip-grad":
      return { name: "rho-clip-grad", rMax: run.rMax };
  }
}

/**
 * The transformer cuts the input into √d tokens of √d features, so it needs a square
 * feature count; the other architectures take any. A data set that does not fit is the
 * user's input, not a bug: the error names the architectures that do fit.
 */
function checkArchFits(arch: ArchGridArch, d: number): void {
  const fits = (a: ArchGridArch) => a !== "transformer" || Number.isInteger(Math.sqrt(d));
  if (fits(arch)) return;
  throw new ExperimentInputError(
    `arch-grid: the ${arch} needs a square number of features (√d tokens of √d features); ` +
      `the data has ${d}. Architectures that fit this data: ${ARCHS.filter(fits).join(", ")}`,
  );
}

function row(
  s: ArchGridSummary,
  arch: ArchGridArch,
  method: ArchGridMethod,
  protocol: ArchGridProtocolName = "ours",
  spike = s.headlineSpike,
): ArchGridRow | undefined {
  return s.table.find(
    (r) =>
      r.arch === arch && r.method === method && r.spike === spike && protocolOf(r) === protocol,
  );
}

/**
 * How a protocol's claims read the table: which protocol's rows, and which ρ method stands
 * for the paper's ρ-controller (ours: our ρ-clip; published: the published controller).
 */
type ClaimSide = { protocol: ArchGridProtocolName; rho: ArchGridMethod; suffix: string };

const OURS: ClaimSide = { protocol: "ours", rho: "rho-clip", suffix: "" };
const PUBLISHED_SIDE: ClaimSide = {
  protocol: "published",
  rho: "rho-clip-grad",
  suffix: " (published protocol and controller)",
};

/** The ρ method's and the baselines' median final accuracy at the largest spike on `arch`. */
function headline(s: ArchGridSummary, arch: ArchGridArch, side: ClaimSide = OURS) {
  const rho = row(s, arch, side.rho, side.protocol)?.medianFinalTestAcc;
  const others = (["plain", "grad-clip"] as const)
    .map((m) => row(s, arch, m, side.protocol)?.medianFinalTestAcc)
    .filter((x): x is number => x !== undefined);
  return rho === undefined || others.length === 0 ? undefined : { rho, others };
}

/** The claim on one architecture: the ρ method beats both baselines by {@link WIN_MARGIN}. */
function winsOn(arch: ArchGridArch, side: ClaimSide = OURS) {
  return claim<ArchGridSummary>(
    `ρ-clip beats plain Adam and gradient clipping on ${ARCH_LABEL[arch]}${side.suffix}`,
    (s) => {
      const h = headline(s, arch, side);
      if (h === undefined) return null;
      const pub = PUBLISHED_10000[arch];
      const under = side.protocol === "ours" ? "" : ` under ${PROTOCOL_LABEL[side.protocol]}`;
      return {
        holds: h.rho >= Math.max(...h.others) + WIN_MARGIN,
        measured:
          `at ${s.headlineSpike}×${under} ${ARCH_LABEL[arch]} ends at ${h.others.map((x) => pct(x)).join(" / ")} / ` +
          `${pct(h.rho)} (plain / clip / ${METHOD_LABEL[side.rho]}; paper ${pct(pub.plain)} / ` +
          `${pct(pub["grad-clip"])} / ${pct(pub["rho-clip"])})`,
      };
    },
    { essential: true },
  );
}

/** The claim on one architecture: the ρ method within {@link RHO_CLIP_SLACK} of the paper's accuracy. */
function reachesPaperOn(arch: ArchGridArch, side: ClaimSide = OURS) {
  const paper = PUBLISHED_10000[arch]["rho-clip"];
  return claim<ArchGridSummary>(
    `ρ-clip reaches the paper's ${pct(paper)} on ${ARCH_LABEL[arch]} (within ${Math.round(RHO_CLIP_SLACK * 100)} points)${side.suffix}`,
    (s) => {
      const h = headline(s, arch, side);
      if (h === undefined) return null;
      return {
        holds: h.rho >= paper - RHO_CLIP_SLACK,
        measured: `${METHOD_LABEL[side.rho]} on ${ARCH_LABEL[arch]} ${pct(h.rho)} vs the paper's ${pct(paper)}`,
      };
    },
  );
}

/** The claim's parts as measured under one protocol (see {@link ClaimSide}). */
function claimsUnder(side: ClaimSide): Claim<ArchGridSummary>[] {
  return [
    ...ARCHS.map((a) => winsOn(a, side)),
    ...ARCHS.map((a) => reachesPaperOn(a, side)),
    // says nothing by itself: only where the ρ method and a baseline were compared
    claim<ArchGridSummary>("at the paper's 10000× spike", (s) =>
      ARCHS.some((a) => headline(s, a, side) !== undefined)
        ? { holds: s.headlineSpike === 10000, measured: `the largest spike is ${s.headlineSpike}×` }
        : null,
    ),
  ];
}

/** The claim under our protocol (the experiment's verdict) and under the published one. */
export const ARCH_GRID_CLAIMS = {
  ours: claimsUnder(OURS),
  published: claimsUnder(PUBLISHED_SIDE),
} as const;

/**
 * The verdict: the one rule (`verdictOf`) under our protocol, and — where the published arm
 * was run — under the published protocol, both in the sentence. `reproduced` is our
 * protocol's; the published protocol's stands in the report's verdict table.
 */
export function archGridVerdict(s: ArchGridSummary): Verdict {
  const ours = verdictOf(ARCH_GRID_CLAIMS.ours, s);
  const published = verdictOf(ARCH_GRID_CLAIMS.published, s);
  if (published.reproduced === "n/a") return ours;
  return {
    reproduced: ours.reproduced,
    sentence:
      `Our protocol (${ours.reproduced}): ${ours.sentence} ` +
      `Published protocol (${published.reproduced}): ${published.sentence}`,
  };
}

/** The experiment. */
export const archGrid = experiment({
  id: "arch-grid",
  title:
    "One-step learning-rate spikes across architectures: plain Adam vs gradient clipping vs ρ-clip",
  claim:
    "Median final test accuracy after a 10000× one-step spike (plain / grad clip / ρ-clip): " +
    "Transformer 31.8 / 38.7 / 95.3%, MLP+LN 44.6 / 51.5 / 93.9%, CNN+BN 13.4 / 10.3 / 71.6%.",
  protocol: PROTOCOL,
  grid: GRID,
  seeds: [0, 1, 2, 3, 4],
  // A full-batch transformer step on the whole split takes ~0.7 s: a seeded 256-row subset,
  // the two end spikes and 30 steps keep every architecture and method in about a minute.
  quick: {
    seeds: [0],
    spike: [10, 10000],
    steps: 30,
    spikeAt: 10,
    trainSubset: 256,
    testSubset: 180,
  },
  describe: {
    optimizer: "adam",
    batchSize: "full",
    spikeOnce: true,
    divergence: `final full-batch training loss > ${DIVERGED_LOSS} (or not finite)`,
    probe: { sampleSet: "train", aggregate: "max", method: "jvp" },
  },
  // ρ methods probe every step; the rest only at the spike (telemetry)
  derive: (c) => ({ probeEvery: c.method.startsWith("rho-clip") ? 1 : c.spikeAt }),
  arms: ARMS,
  validate({ protocol: p, grid, data }) {
    const bad = (msg: string) => new ExperimentInputError(`arch-grid: ${msg}`);
    if (data.kind === "cifar10") {
      throw bad(
        "trains the digits-sized architectures on flat feature vectors; CIFAR-10 is not supported",
      );
    }
    const unknownArch = grid.arch.filter((a) => !ARCHS.includes(a));
    if (unknownArch.length > 0) {
      throw bad(`architectures must be among ${ARCHS.join(", ")}, got ${grid.arch.join(", ")}`);
    }
    if (grid.method.some((m) => !ALL_METHODS.includes(m))) {
      throw bad(`methods must be among ${ALL_METHODS.join(", ")}, got ${grid.method.join(", ")}`);
    }
    if (grid.spike.some((x) => !(x > 0 && Number.isFinite(x)))) {
      throw bad(`spikes must be positive numbers, got ${grid.spike.join(", ")}`);
    }
    if (!Number.isInteger(p.steps) || !Number.isInteger(p.spikeAt) || p.spikeAt >= p.steps) {
      throw bad(`the spike step ${p.spikeAt} must be an integer below the ${p.steps} steps`);
    }
  },
  runKey: (c) => {
    const protocol = protocolOf(c);
    const tag = protocol === "ours" ? "" : `-${protocol}`;
    return `${c.arch}-x${c.spike}-${c.method}${tag}-s${c.seed}-n${c.steps}`;
  },
  cost: (c) => ARCH_COST[c.arch] * (c.method.startsWith("rho-clip") ? 1.3 : 1) * c.steps,
  resultSchema: archGridResultSchema,

  async run(c, ctx) {
    const split = c.split;
    checkArchFits(
      c.arch,
      runData(ctx, { seed: c.seed, testFraction: c.testFraction, split }).train.d,
    );
    const out = await trainRun(
      {
        arch: c.arch,
        seed: c.seed,
        testFraction: c.testFraction,
        split,
        evaluation: c.evaluation,
        trainSubset: c.trainSubset,
        testSubset: c.testSubset,
        optimizer: {
          name: "adam",
          learningRate: c.learningRate,
          spike: { multiplier: c.spike, at: c.spikeAt, once: true },
        },
        controller: controllerOf(c),
        steps: c.steps,
        batchSize: "full",
        evalEvery: c.evalEvery,
        // the whole training split is the batch, so the probe set is the batch
        probe: { sampleSet: "train", aggregate: "max", method: "jvp", every: c.probeEvery },
      },
      ctx,
    );
    const h = out.history;
    const evaluated = h.filter((r) => r.testAccuracy !== undefined);
    const spikeRec = h[c.spikeAt];
    return {
      finalTestAcc: out.finalTestAccuracy,
      finalTestLoss: out.finalTestLoss,
      lastTrainLoss: h[h.length - 1].loss,
      trainLoss: h.map((r) => roundSig(r.loss)),
      evalSteps: evaluated.map((r) => r.step),
      testAcc: evaluated.map((r) => roundSig(r.testAccuracy ?? Number.NaN)),
      tauAtSpike: spikeRec.tau,
      rhoAtSpike: spikeRec.rhoA,
      rAtSpike: spikeRec.r,
      skipped: out.skippedSteps,
      msPerStep: roundSig(msPerStep(h), 4),
    };
  },

  summarize(outcomes, { protocol: p, grid }) {
    const headlineSpike = Math.max(...grid.spike);
    const timing: ArchGridTiming[] = groupRuns(outcomes, ["arch", "method"]).map((g) => ({
      arch: g.runs[0].cell.arch,
      method: g.runs[0].cell.method,
      msPerStep: roundSig(medianOf(g.results.map((r) => r.msPerStep)), 4),
    }));
    const cells = groupRuns(outcomes, ["arch", "spike", "method", "split", "evaluation"]);
    const table: ArchGridRow[] = cells.map(({ runs, results }) => {
      const { arch, spike, method, split, evaluation } = runs[0].cell;
      return {
        arch,
        spike,
        method,
        split: split ?? "stratified",
        evaluation: evaluation ?? "running-stats",
        ...finalAccuracy(results.map((g) => g.finalTestAcc)),
        diverged: results.filter((g) => diverged(g.lastTrainLoss)).length,
        seeds: results.length,
        medianFinalTestLoss: roundSig(medianOf(results.map((g) => g.finalTestLoss))),
        medianFinalTrainLoss: roundSig(medianOf(results.map((g) => g.lastTrainLoss))),
        rAtSpike: roundSig(medianOf(results.map((g) => g.rAtSpike))),
      };
    });
    const lossCurves: ArchGridLossPoint[] = cells
      .filter(
        (g) => g.runs[0].cell.spike === headlineSpike && protocolOf(g.runs[0].cell) === "ours",
      )
      .flatMap(({ runs, results }) => {
        const { arch, method } = runs[0].cell;
        return quantilesPerStep(results.map((g) => g.trainLoss)).flatMap((q, step) =>
          q === null
            ? []
            : [
                {
                  arch,
                  method,
                  step,
                  loss: roundSig(q.median),
                  q25: roundSig(q.q25),
                  q75: roundSig(q.q75),
                },
              ],
        );
      });
    return {
      table,
      lossCurves,
      timing,
      headlineSpike,
      spikeAt: p.spikeAt,
      steps: p.steps,
      divergenceLoss: DIVERGED_LOSS,
    };
  },

  tables: (s) => archGridTables(s),
  figures: (s) => archGridFigures(s),

  claims: ARCH_GRID_CLAIMS.ours,
  verdict: archGridVerdict,
});

/** Final accuracy vs spike per architecture, and the loss curves at the largest spike. */
export function archGridFigures(summary: ArchGridSummary): FigureSpec[] {
  const labels = (r: { arch: ArchGridArch; method: ArchGridMethod }) => ({
    arch: ARCH_LABEL[r.arch],
    method: METHOD_LABEL[r.method],
  });
  const ours = summary.table.filter((r) => protocolOf(r) === "ours");
  const accRows = ours.map((r) => ({
    ...labels(r),
    spike: r.spike,
    acc: r.medianFinalTestAcc,
    q25: r.q25,
    q75: r.q75,
  }));
  const lossRows = summary.lossCurves.map((p) => ({ ...p, ...labels(p) }));
  const panels = {
    facet: { field: "arch", columns: 3 },
    width: 260,
    height: 220,
    color: "method",
    band: ["q25", "q75"],
    colorTitle: "method",
  } as const;
  const figures = [
    bandLines(
      "accuracy-vs-spike",
      `Final test accuracy after a one-step learning-rate spike at step ${summary.spikeAt} ` +
        "(median over seeds, IQR band)",
      accRows,
      {
        ...panels,
        ...accuracyAxis("final test accuracy"),
        x: "spike",
        y: "acc",
        xTitle: "spike (× learning rate, one step)",
        logX: true,
      },
    ),
    bandLines(
      "loss-curves",
      `Full-batch training loss per step at the ${summary.headlineSpike}× spike ` +
        "(median over seeds, IQR band, log scale)",
      lossRows,
      {
        ...panels,
        x: "step",
        y: "loss",
        xTitle: "step",
        yTitle: "training loss",
        logY: true,
        rule: [
          { x: summary.spikeAt, label: `×${summary.headlineSpike}` },
          { y: summary.divergenceLoss, label: "divergence" },
        ],
        points: false,
      },
    ),
  ];
  const compared = protocolRows(summary);
  if (compared.length === 0) return figures;
  const barRows = compared.flatMap(({ arch, method, byProtocol }) =>
    byProtocol.map(({ protocol, r }) => ({
      cell: `${ARCH_LABEL[arch]}: ${METHOD_LABEL[method]}`,
      protocol: PROTOCOL_LABEL[protocol],
      acc: r.medianFinalTestAcc,
      q25: r.q25,
      q75: r.q75,
      paper: paperAcc(arch, method) ?? null,
    })),
  );
  figures.push(
    bars(
      "protocols",
      `Final test accuracy at ${summary.headlineSpike}× under each protocol ` +
        "(median over seeds, IQR; black tick: the paper)",
      barRows,
      {
        x: "cell",
        y: "acc",
        group: "protocol",
        band: ["q25", "q75"],
        ref: "paper",
        xTitle: "architecture: method",
        groupTitle: "protocol",
        ...accuracyAxis("final test accuracy"),
        width: 720,
      },
    ),
  );
  return figures;
}

/** The protocols in the order of the comparison table: the published first, ours last. */
const PROTOCOL_ORDER: ArchGridProtocolName[] = [
  "published",
  "ours-batch-stats",
  "head-running-stats",
  "ours",
];

/**
 * Each (architecture, method) measured at the headline spike under a protocol other than
 * ours, with its rows under every protocol that has one — the comparison's rows.
 */
function protocolRows(s: ArchGridSummary) {
  const at = s.table.filter((r) => r.spike === s.headlineSpike);
  const pairs = new Map<string, { arch: ArchGridArch; method: ArchGridMethod }>();
  for (const r of at) {
    if (protocolOf(r) !== "ours") pairs.set(`${r.arch}/${r.method}`, r);
  }
  const archOrder = (a: ArchGridArch) => ARCHS.indexOf(a);
  const methodOrder = (m: ArchGridMethod) => ALL_METHODS.indexOf(m);
  return [...pairs.values()]
    .sort(
      (a, b) =>
        archOrder(a.arch) - archOrder(b.arch) || methodOrder(a.method) - methodOrder(b.method),
    )
    .map(({ arch, method }) => ({
      arch,
      method,
      byProtocol: PROTOCOL_ORDER.flatMap((protocol) => {
        const r = row(s, arch, method, protocol);
        return r === undefined ? [] : [{ protocol, r }];
      }),
    }));
}

/** The report's tables: ours at the largest spike beside the paper, then the whole grid. */
export function archGridTables(s: ArchGridSummary): ReportTable[] {
  const ours = s.table.filter((r) => protocolOf(r) === "ours");
  const archs = [...new Set(ours.map((r) => r.arch))];
  const methods = [...new Set(ours.map((r) => r.method))];
  const headlineTable: ReportTable = {
    title: `Median final test accuracy at the ${s.headlineSpike}× spike: ours (paper at 10000×)`,
    columns: ["architecture", ...methods.map((m) => METHOD_LABEL[m])],
    rows: archs.map((arch) => [
      ARCH_LABEL[arch],
      ...methods.map((m) => {
        const ours = row(s, arch, m);
        const div =
          ours !== undefined && ours.diverged > 0
            ? `, ${ours.diverged}/${ours.seeds} diverged`
            : "";
        return `${pct(ours?.medianFinalTestAcc)}${div} (${pct(paperAcc(arch, m))})`;
      }),
    ]),
    note:
      `Medians over seeds of the test accuracy after step ${s.steps}; diverged = final training loss > ` +
      `${s.divergenceLoss} or not finite. Paper numbers in brackets are for 10000×, 200 steps, 5 seeds.`,
  };
  const full: ReportTable = {
    title: "Every cell of the grid and the arms",
    columns: [
      "architecture",
      "spike",
      "method",
      "protocol",
      "final test acc, median [IQR]",
      "diverged",
      "final training loss",
      "final test loss",
      "r at spike",
    ],
    rows: s.table.map((r) => [
      ARCH_LABEL[r.arch],
      `${r.spike}×`,
      METHOD_LABEL[r.method],
      PROTOCOL_LABEL[protocolOf(r)],
      finalAccuracyCell(r),
      `${r.diverged}/${r.seeds}`,
      r.medianFinalTrainLoss,
      r.medianFinalTestLoss,
      r.rAtSpike,
    ]),
    note:
      "Losses are medians over seeds: training loss on the full training split in train mode at the last step, " +
      "test loss in eval mode after it (CNN+BN: BatchNorm running statistics, which lag behind fast full-batch steps). " +
      "r at spike = τ/ρ_a of the spiked step (ρ_a over the training split along the applied step; for the published " +
      "ρ-controller along the gradient, with τ the step it applied); ρ-clip caps it at 1. Batch-stats rows: test " +
      "accuracy and loss with BatchNorm on the test rows' own statistics (train mode, running statistics untouched).",
  };
  const compared = protocolRows(s);
  const protocolTables: ReportTable[] =
    compared.length === 0
      ? []
      : [
          {
            title: `Published protocol beside ours at ${s.headlineSpike}×: median final test accuracy [IQR]`,
            columns: [
              "architecture",
              "method",
              "paper (published protocol)",
              ...PROTOCOL_ORDER.filter((p) =>
                compared.some((c) => c.byProtocol.some((b) => b.protocol === p)),
              ).map((p) => `ours, ${PROTOCOL_LABEL[p]}`),
            ],
            rows: compared.map(({ arch, method, byProtocol }) => [
              ARCH_LABEL[arch],
              METHOD_LABEL[method],
              method === "rho-clip" ? "—" : pct(paperAcc(arch, method)),
              ...PROTOCOL_ORDER.filter((p) =>
                compared.some((c) => c.byProtocol.some((b) => b.protocol === p)),
              ).map((p) => {
                const r = byProtocol.find((b) => b.protocol === p)?.r;
                if (r === undefined) return null;
                const div = r.diverged > 0 ? `, ${r.diverged}/${r.seeds} diverged` : "";
                return `${finalAccuracyCell(r)}${div}`;
              }),
            ]),
            note:
              "The published protocol: the first 20% of the rows as the test block (unshuffled, the same for every " +
              "seed) and test accuracy with BatchNorm in training mode on the test rows as one batch; the published " +
              "ρ-controller measures ρ along −g/‖g‖, compares it with lr·‖g‖ and rescales Adam's learning rate, so " +
              "the step it takes is not bounded by ρ. Ours: a seeded stratified split per seed, BatchNorm's running " +
              "statistics, ρ-clip bounding Adam's actual step. The paper's ρ number is its controller's; it has no " +
              "number for our ρ-clip.",
          },
          {
            title: "Verdict under each protocol (one rule: framework/claims.ts)",
            columns: ["protocol", "reproduced", "measured"],
            rows: (["ours", "published"] as const).map((p) => {
              const v = verdictOf(ARCH_GRID_CLAIMS[p], s);
              return [PROTOCOL_LABEL[p], v.reproduced, v.sentence];
            }),
          },
        ];
  const timing: ReportTable = {
    title: "Median wall time of one full-batch step (ms)",
    columns: ["architecture", ...methods.map((m) => METHOD_LABEL[m])],
    rows: archs.map((arch) => [
      ARCH_LABEL[arch],
      ...methods.map(
        (m) => s.timing.find((t) => t.arch === arch && t.method === m)?.msPerStep ?? null,
      ),
    ]),
    note: "ρ-clip adds one forward-mode JVP over the training split per step; the others probe only at the spike step (telemetry).",
  };
  return [headlineTable, ...protocolTables, full, timing];
}
