/**
 * `arch-grid` (docs/science.md §5): TinyTransformer, MLP+LN and CNN+BN trained with full-batch Adam
 * (base LR 0.015, 200 steps); the learning rate of the single step 50 is multiplied by 10,
 * 100, 1000 or 10000; plain Adam vs Adam with gradient clipping ‖g‖ ≤ 1 vs ρ-clip along
 * Adam's actual step (ρ_a over the training split — the batch itself). A seed *diverges*
 * when its final training loss (full batch, train mode, at the last step) exceeds 10 or is
 * not finite. The training loss, not the test loss: CNN+BN is evaluated with BatchNorm's
 * running statistics, which lag far behind fast full-batch Adam steps (momentum 0.1), so
 * its eval-mode test loss can exceed 10 while training goes well.
 *
 * The grid is built by {@link planArchGrid} from {@link ArchGridSettings}, so the quick
 * mode, the tests and `ghosts demo` run the same code path at other sizes.
 *
 * @module
 */

import { disposeTree } from "softmax-ghosts/engine";
import type { ModelName } from "softmax-ghosts/models";
import type { ControllerSpec } from "softmax-ghosts/optim";
import { train } from "softmax-ghosts/train";
import { z } from "zod";
import { median, summarise } from "../report/stats.js";
import { type ChartRow, lineWithBand } from "../report/vega.js";
import { anyNumber, count, fraction, nonNegative, radius } from "./framework/schemas.js";
import { quantilesPerStep, roundSig } from "./framework/stats.js";
import { modelFor as cachedModel } from "./framework/training.js";
import {
  defineExperiment,
  type ExperimentDefinition,
  ExperimentInputError,
  type FigureSpec,
  type JsonObject,
  type Plan,
  type PlanOptions,
  type ReportTable,
  type RunContext,
  type Verdict,
} from "./framework/types.js";

/** The three arms: plain Adam, gradient-norm clipping before Adam, ρ-clip after Adam. */
export type ArchGridMethod = "plain" | "grad-clip" | "rho-clip";

/** The architectures of the grid. */
export type ArchGridArch = "transformer" | "mlp-ln" | "cnn-bn";

/** One run: architecture × spike × method × seed, with the protocol spelled out. */
export type ArchGridRun = {
  arch: ArchGridArch;
  spike: number;
  method: ArchGridMethod;
  seed: number;
  steps: number;
  /** The only step trained at `learningRate × spike`. */
  spikeAt: number;
  learningRate: number;
  /** ‖g‖ bound of gradient clipping; r bound of ρ-clip. */
  maxGradNorm: number;
  rMax: number;
  /**
   * Radius telemetry of the runs without a ρ-controller every this many steps (0 = none):
   * a multiple of it equal to `spikeAt` records r at the spike at a fraction of the cost.
   */
  probeEvery: number;
  /** Test accuracy every this many steps (and after the last). */
  evalEvery: number;
  testFraction: number;
};

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
  /** Median wall time of a step (evaluation excluded), ms, first step (compilation) left out. */
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
export type ArchGridRow = {
  arch: ArchGridArch;
  spike: number;
  method: ArchGridMethod;
  medianFinalTestAcc: number;
  q25: number;
  q75: number;
  /** Seeds whose final training loss exceeds the divergence threshold (or is not finite). */
  diverged: number;
  seeds: number;
  medianFinalTestLoss: number;
  medianFinalTrainLoss: number;
  /** Median over seeds of r = τ/ρ_a at the spike step. */
  rAtSpike: number;
};

/** Training loss per step at the largest spike: medians and quartiles over seeds. */
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

/** The size of a grid: what differs between the full protocol, `--quick` and the demo. */
export type ArchGridSettings = {
  archs: ArchGridArch[];
  spikes: number[];
  methods: ArchGridMethod[];
  seeds: number[];
  steps: number;
  spikeAt: number;
  learningRate: number;
  evalEvery: number;
  testFraction: number;
};

/** The paper's protocol. */
export const ARCH_GRID_PROTOCOL: ArchGridSettings = {
  archs: ["transformer", "mlp-ln", "cnn-bn"],
  spikes: [10, 100, 1000, 10000],
  methods: ["plain", "grad-clip", "rho-clip"],
  seeds: [0, 1, 2, 3, 4],
  steps: 200,
  spikeAt: 50,
  learningRate: 0.015,
  evalEvery: 10,
  testFraction: 0.2,
};

/** `--quick`: one seed, the smallest and largest spike, 80 steps with the spike at 20. */
export const ARCH_GRID_QUICK: ArchGridSettings = {
  ...ARCH_GRID_PROTOCOL,
  spikes: [10, 10000],
  seeds: [0],
  steps: 80,
  spikeAt: 20,
};

/** A seed diverged when its final loss exceeds this (docs/science.md §5). */
export const DIVERGENCE_LOSS = 10;

/** Published median final test accuracy at 10000× (docs/science.md §5). */
export const PUBLISHED_10000: Record<ArchGridArch, Record<ArchGridMethod, number>> = {
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
};

const ARCHS: readonly ArchGridArch[] = ["transformer", "mlp-ln", "cnn-bn"];
const METHODS: readonly ArchGridMethod[] = ["plain", "grad-clip", "rho-clip"];

function checkSettings(s: ArchGridSettings): void {
  const bad = (msg: string) => new ExperimentInputError(`arch-grid: ${msg}`);
  if (s.seeds.length === 0) throw bad("needs at least one seed");
  if (s.archs.length === 0 || s.archs.some((a) => !ARCHS.includes(a))) {
    throw bad(`architectures must be among ${ARCHS.join(", ")}, got ${s.archs.join(", ")}`);
  }
  if (s.methods.length === 0 || s.methods.some((m) => !METHODS.includes(m))) {
    throw bad(`methods must be among ${METHODS.join(", ")}, got ${s.methods.join(", ")}`);
  }
  if (s.spikes.length === 0 || s.spikes.some((x) => !(x > 0 && Number.isFinite(x)))) {
    throw bad(`spikes must be positive numbers, got ${s.spikes.join(", ")}`);
  }
  if (!Number.isInteger(s.steps) || !Number.isInteger(s.spikeAt) || s.spikeAt >= s.steps) {
    throw bad(`the spike step ${s.spikeAt} must be an integer below the ${s.steps} steps`);
  }
}

/**
 * Rough cost of a run relative to a plain MLP+LN run, from measured full-batch step times
 * (the transformer and CNN+BN about 5× MLP+LN; ρ-clip's probe about doubles a step).
 */
function relativeCost(run: ArchGridRun): number {
  return (run.arch === "mlp-ln" ? 1 : 5) * (run.method === "rho-clip" ? 2 : 1) * run.steps;
}

/**
 * Expands settings into the grid (architecture × spike × method × seed), longest runs
 * first.
 *
 * @throws {ExperimentInputError} for an empty or malformed grid.
 */
export function planArchGrid(s: ArchGridSettings, data: PlanOptions["data"]): Plan<ArchGridRun> {
  if (data.kind === "cifar10") {
    throw new ExperimentInputError(
      "arch-grid trains the digits-sized architectures on flat feature vectors; CIFAR-10 is not supported",
    );
  }
  checkSettings(s);
  const runs: ArchGridRun[] = [];
  for (const arch of s.archs) {
    for (const spike of s.spikes) {
      for (const method of s.methods) {
        for (const seed of s.seeds) {
          runs.push({
            arch,
            spike,
            method,
            seed,
            steps: s.steps,
            spikeAt: s.spikeAt,
            learningRate: s.learningRate,
            maxGradNorm: 1,
            rMax: 1,
            probeEvery: method === "rho-clip" ? 1 : s.spikeAt,
            evalEvery: s.evalEvery,
            testFraction: s.testFraction,
          });
        }
      }
    }
  }
  // Longest runs first keeps worker threads evenly busy to the end (the summary does not
  // depend on the order).
  runs.sort((a, b) => relativeCost(b) - relativeCost(a));
  return {
    config: {
      ...s,
      optimizer: "adam",
      batchSize: "full",
      spikeOnce: true,
      maxGradNorm: 1,
      rMax: 1,
      divergence: `final full-batch training loss > ${DIVERGENCE_LOSS} (or not finite)`,
      probe: { sampleSet: "train", aggregate: "max", method: "jvp" },
    },
    runs,
  };
}

function controllerOf(run: ArchGridRun): ControllerSpec {
  switch (run.method) {
    case "plain":
      return { name: "none" };
    case "grad-clip":
      return { name: "grad-clip", maxNorm: run.maxGradNorm };
    case "rho-clip":
      return { name: "rho-clip", rMax: run.rMax };
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
  const ok = ARCHS.filter(fits);
  throw new ExperimentInputError(
    `arch-grid: the ${arch} needs a square number of features (√d tokens of √d features); ` +
      `the data has ${d}. Architectures that fit this data: ${ok.join(", ")}`,
  );
}

/** Executes one run of the grid (shared by every plan size). */
async function executeRun(run: ArchGridRun, ctx: RunContext): Promise<ArchGridResult> {
  const data = ctx.loadData(ctx.data, run.seed, run.testFraction);
  checkArchFits(run.arch, data.train.d);
  const numClasses = Math.max(data.train.numClasses, data.test.numClasses);
  const model = cachedModel(run.arch as ModelName, data.train.d, numClasses);
  const result = await train({
    model,
    data,
    optimizer: {
      name: "adam",
      learningRate: run.learningRate,
      spike: { multiplier: run.spike, at: run.spikeAt, once: true },
    },
    controller: controllerOf(run),
    steps: run.steps,
    batchSize: "full",
    evalEvery: run.evalEvery,
    seed: run.seed,
    // the whole training split is the batch, so the probe set is the batch
    probe: { sampleSet: "train", aggregate: "max", method: "jvp", every: run.probeEvery },
    onStep: (rec) => ctx.onProgress((rec.step + 1) / run.steps),
  });
  await ctx.saveWeights?.(result);
  disposeTree(result.params);
  disposeTree(result.state);
  const h = result.history;
  const evaluated = h.filter((r) => r.testAccuracy !== undefined);
  const spikeRec = h[run.spikeAt];
  const lastLoss = h[h.length - 1].loss;
  return {
    finalTestAcc: result.finalTestAccuracy,
    finalTestLoss: result.finalTestLoss,
    lastTrainLoss: lastLoss,
    trainLoss: h.map((r) => roundSig(r.loss)),
    evalSteps: evaluated.map((r) => r.step),
    testAcc: evaluated.map((r) => roundSig(r.testAccuracy as number)),
    tauAtSpike: spikeRec.tau,
    rhoAtSpike: spikeRec.rhoA,
    rAtSpike: spikeRec.r,
    skipped: result.skippedSteps,
    msPerStep: roundSig(median((h.length > 1 ? h.slice(1) : h).map((r) => r.wallMs)), 4),
  };
}

/** Whether a run diverged: final training loss above {@link DIVERGENCE_LOSS} or not finite. */
export function diverged(result: Pick<ArchGridResult, "lastTrainLoss">): boolean {
  return !(result.lastTrainLoss <= DIVERGENCE_LOSS);
}

/** Aggregates the results (in plan order) into the summary. */
export function summarizeArchGrid(
  config: JsonObject,
  results: { run: ArchGridRun; result: ArchGridResult }[],
): ArchGridSummary {
  const archs = config.archs as ArchGridArch[];
  const spikes = config.spikes as number[];
  const methods = METHODS.filter((m) => (config.methods as ArchGridMethod[]).includes(m));
  const headlineSpike = Math.max(...spikes);
  const table: ArchGridRow[] = [];
  const lossCurves: ArchGridLossPoint[] = [];
  const timing: ArchGridTiming[] = [];
  for (const arch of archs) {
    for (const method of methods) {
      const all = results.filter((r) => r.run.arch === arch && r.run.method === method);
      if (all.length > 0) {
        timing.push({
          arch,
          method,
          msPerStep: roundSig(median(all.map((r) => r.result.msPerStep)), 4),
        });
      }
    }
    for (const spike of spikes) {
      for (const method of methods) {
        const group = results
          .filter((r) => r.run.arch === arch && r.run.spike === spike && r.run.method === method)
          .map((r) => r.result);
        if (group.length === 0) continue;
        const acc = summarise(
          group.map((g) => g.finalTestAcc),
          { dropNaN: true },
        );
        const rs = group.map((g) => g.rAtSpike).filter((r) => !Number.isNaN(r));
        table.push({
          arch,
          spike,
          method,
          medianFinalTestAcc: acc.median,
          q25: acc.q25,
          q75: acc.q75,
          diverged: group.filter((g) => diverged(g)).length,
          seeds: group.length,
          medianFinalTestLoss: roundSig(median(group.map((g) => g.finalTestLoss))),
          medianFinalTrainLoss: roundSig(median(group.map((g) => g.lastTrainLoss))),
          rAtSpike: rs.length === 0 ? Number.NaN : roundSig(median(rs)),
        });
        if (spike === headlineSpike) {
          const q = quantilesPerStep(group.map((g) => g.trainLoss));
          q.forEach((p, step) => {
            if (p !== null) {
              lossCurves.push({
                arch,
                method,
                step,
                loss: roundSig(p.median),
                q25: roundSig(p.q25),
                q75: roundSig(p.q75),
              });
            }
          });
        }
      }
    }
  }
  return {
    table,
    lossCurves,
    timing,
    headlineSpike,
    spikeAt: config.spikeAt as number,
    steps: config.steps as number,
    divergenceLoss: DIVERGENCE_LOSS,
  };
}

/** Final accuracy vs spike per architecture, and the loss curves at the largest spike. */
export function archGridFigures(summary: ArchGridSummary): FigureSpec[] {
  const accRows: ChartRow[] = summary.table.map((r) => ({
    arch: ARCH_LABEL[r.arch],
    method: METHOD_LABEL[r.method],
    spike: r.spike,
    acc: r.medianFinalTestAcc,
    q25: r.q25,
    q75: r.q75,
  }));
  const lossRows: ChartRow[] = summary.lossCurves.map((p) => ({
    arch: ARCH_LABEL[p.arch],
    method: METHOD_LABEL[p.method],
    step: p.step,
    loss: p.loss,
    q25: p.q25,
    q75: p.q75,
  }));
  return [
    {
      name: "accuracy-vs-spike",
      title:
        `Final test accuracy after a one-step learning-rate spike at step ${summary.spikeAt} ` +
        "(median over seeds, IQR band)",
      spec: lineWithBand({
        data: accRows,
        x: "spike",
        y: "acc",
        lo: "q25",
        hi: "q75",
        color: "method",
        facet: { field: "arch", columns: 3 },
        xTitle: "spike (× learning rate, one step)",
        yTitle: "final test accuracy",
        colorTitle: "method",
        logX: true,
        yDomain: [0, 1],
        width: 260,
        height: 220,
      }),
    },
    {
      name: "loss-curves",
      title:
        `Full-batch training loss per step at the ${summary.headlineSpike}× spike ` +
        "(median over seeds, IQR band, log scale)",
      spec: lineWithBand({
        data: lossRows,
        x: "step",
        y: "loss",
        lo: "q25",
        hi: "q75",
        color: "method",
        facet: { field: "arch", columns: 3 },
        xTitle: "step",
        yTitle: "training loss",
        colorTitle: "method",
        logY: true,
        rule: [
          { x: summary.spikeAt, label: `×${summary.headlineSpike}` },
          { y: summary.divergenceLoss, label: "divergence" },
        ],
        points: false,
        width: 260,
        height: 220,
      }),
    },
  ];
}

function pct(x: number | undefined): string {
  return x !== undefined && Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : "—";
}

function row(
  s: ArchGridSummary,
  arch: ArchGridArch,
  method: ArchGridMethod,
  spike = s.headlineSpike,
): ArchGridRow | undefined {
  return s.table.find((r) => r.arch === arch && r.method === method && r.spike === spike);
}

/** The report's tables: ours at the largest spike beside the paper, then the whole grid. */
export function archGridTables(s: ArchGridSummary): ReportTable[] {
  const archs = [...new Set(s.table.map((r) => r.arch))];
  const methods = [...new Set(s.table.map((r) => r.method))];
  const headline: ReportTable = {
    title: `Median final test accuracy at the ${s.headlineSpike}× spike: ours (paper at 10000×)`,
    columns: ["architecture", ...methods.map((m) => METHOD_LABEL[m])],
    rows: archs.map((arch) => [
      ARCH_LABEL[arch],
      ...methods.map((m) => {
        const ours = row(s, arch, m);
        const paper = PUBLISHED_10000[arch]?.[m];
        const div =
          ours !== undefined && ours.diverged > 0
            ? `, ${ours.diverged}/${ours.seeds} diverged`
            : "";
        return `${pct(ours?.medianFinalTestAcc)}${div} (${pct(paper)})`;
      }),
    ]),
    note:
      `Medians over seeds of the test accuracy after step ${s.steps}; diverged = final training loss > ` +
      `${s.divergenceLoss} or not finite. Paper numbers in brackets are for 10000×, 200 steps, 5 seeds.`,
  };
  const full: ReportTable = {
    title: "Every cell of the grid",
    columns: [
      "architecture",
      "spike",
      "method",
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
      `${pct(r.medianFinalTestAcc)} [${pct(r.q25)}, ${pct(r.q75)}]`,
      `${r.diverged}/${r.seeds}`,
      r.medianFinalTrainLoss,
      r.medianFinalTestLoss,
      r.rAtSpike,
    ]),
    note:
      "Losses are medians over seeds: training loss on the full training split in train mode at the last step, " +
      "test loss in eval mode after it (CNN+BN: BatchNorm running statistics, which lag behind fast full-batch steps). " +
      "r at spike = τ/ρ_a of the spiked step (ρ_a over the training split along the applied step); ρ-clip caps it at 1.",
  };
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
  return [headline, full, timing];
}

/**
 * The verdict, from the numbers at the largest spike: ρ-clip "wins" an architecture when
 * its median final accuracy beats both baselines' by at least {@link WIN_MARGIN}. *yes*
 * when it wins every architecture, the largest spike is the paper's 10000× and ρ-clip
 * reaches the published accuracy within {@link RHO_CLIP_SLACK} on each; *partly* when it
 * wins some; *no* when none.
 */
export function archGridVerdict(s: ArchGridSummary): Verdict {
  const archs = [...new Set(s.table.map((r) => r.arch))];
  const parts: string[] = [];
  let wins = 0;
  let compared = 0;
  const short: string[] = [];
  for (const arch of archs) {
    const rho = row(s, arch, "rho-clip")?.medianFinalTestAcc;
    const others = (["plain", "grad-clip"] as const)
      .map((m) => row(s, arch, m)?.medianFinalTestAcc)
      .filter((x): x is number => x !== undefined);
    if (rho === undefined || others.length === 0) continue;
    compared++;
    const best = Math.max(...others);
    if (rho >= best + WIN_MARGIN) wins++;
    const pub = PUBLISHED_10000[arch];
    if (rho < pub["rho-clip"] - RHO_CLIP_SLACK) short.push(ARCH_LABEL[arch]);
    parts.push(
      `${ARCH_LABEL[arch]} ${others.map(pct).join(" / ")} / ${pct(rho)} ` +
        `(paper ${pct(pub.plain)} / ${pct(pub["grad-clip"])} / ${pct(pub["rho-clip"])})`,
    );
  }
  if (compared === 0) {
    return {
      reproduced: "n/a",
      sentence: "ρ-clip and a baseline were not both run at the same spike.",
    };
  }
  const paperScale = s.headlineSpike === 10000;
  const reproduced: Verdict["reproduced"] =
    wins === compared && paperScale && short.length === 0 ? "yes" : wins > 0 ? "partly" : "no";
  const shortText =
    short.length === 0
      ? ""
      : ` ρ-clip stays more than ${Math.round(RHO_CLIP_SLACK * 100)} points below the paper on ${short.join(", ")}.`;
  return {
    reproduced,
    sentence:
      `At the ${s.headlineSpike}× spike ρ-clip beats plain Adam and gradient clipping by ≥ ` +
      `${Math.round(WIN_MARGIN * 100)} points on ${wins} of ${compared} architectures; median final ` +
      `test accuracy plain / clip / ρ-clip: ${parts.join("; ")}.${shortText}`,
  };
}

/**
 * The grid with another plan size, same runs, summary, figures and report: what `--quick`
 * uses, and what the demo and the tests run at their own sizes.
 */
export function archGridWith(
  settings: ArchGridSettings,
): ExperimentDefinition<ArchGridRun, ArchGridResult, ArchGridSummary> {
  return { ...archGrid, plan: (opts) => planArchGrid(withSeeds(settings, opts.seeds), opts.data) };
}

function withSeeds(s: ArchGridSettings, seeds: number[] | undefined): ArchGridSettings {
  return seeds === undefined ? s : { ...s, seeds };
}

/** The experiment definition. */
export const archGrid = defineExperiment<ArchGridRun, ArchGridResult, ArchGridSummary>({
  id: "arch-grid",
  title:
    "One-step learning-rate spikes across architectures: plain Adam vs gradient clipping vs ρ-clip",
  claim:
    "Median final test accuracy after a 10000× one-step spike (plain / grad clip / ρ-clip): " +
    "Transformer 31.8 / 38.7 / 95.3%, MLP+LN 44.6 / 51.5 / 93.9%, CNN+BN 13.4 / 10.3 / 71.6%.",
  plan: (opts) =>
    planArchGrid(
      withSeeds(opts.quick ? ARCH_GRID_QUICK : ARCH_GRID_PROTOCOL, opts.seeds),
      opts.data,
    ),
  runKey: (run) => `${run.arch}-x${run.spike}-${run.method}-s${run.seed}-n${run.steps}`,
  execute: executeRun,
  resultSchema: archGridResultSchema,
  summarize: summarizeArchGrid,
  figures: archGridFigures,
  report: (s) => ({ tables: archGridTables(s), verdict: archGridVerdict(s) }),
});
