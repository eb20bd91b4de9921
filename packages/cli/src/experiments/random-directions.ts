/**
 * `random-directions` (docs/science.md §5): is the radius ρ_a the right scale in every direction and at
 * every stage of training, or only along the gradient of a converged model?
 *
 * Protocol, per seed: train the MLP (64→128→128→K, GELU; AdamW, batch 128, test accuracy
 * evaluated after every step) and snapshot it at three phases:
 * - on the digits data, when test accuracy first reaches 84%, 95% and 98% (the paper's
 *   early/mid/late); a phase never reached falls back to the best snapshot of the run;
 * - on any other data, at 1/3, 2/3 and all of the way from chance (the majority-class share
 *   of the test split) to the best test accuracy of a reference run with the same seed (the
 *   run is deterministic, so the capturing rerun reaches the same points).
 *
 * At each snapshot, for the unit negative gradient of the training loss and for 20 seeded unit
 * Gaussian directions, each with its own ρ_a over the training split: step once to
 * `θ + r·ρ_a·v` for r on a log grid 0.01…100 and record the loss ratio (post/pre loss on the
 * training split, the set ρ_a is computed over) and the flip fraction (share of test
 * predictions that change). Onsets: the first r where the loss ratio is ≥ 2, and the first r
 * where the flip fraction is ≥ 0.1 (10% of the predictions changed), +∞ when never.
 *
 * Analysis `curvature` (runs `curvature-s<seed>`, the same training and snapshots): along the
 * same gradient and random directions, the curvature step 2/κ beside ρ_a
 * (`framework/curvature.ts`), as the paper's reference scripts compare them.
 * The published protocol runs beside ours as the arm `arm: "published"` (reference script
 * `experiments/randomdirs/run.py` of piyush314/ghosts-of-softmax): a linear model 64→K
 * trained by plain SGD (lr 0.1, batch 64) for 30, 180 and 700 steps from one initialisation
 * per seed; "the gradient" is the unit *ascent* direction +∇L/‖∇L‖ over the training split;
 * 20 unit Gaussian directions; loss ratio and flip fraction both on the training split; r on
 * logspace(−3, 0, 80) ∪ linspace(1.05, r_max, 120); loss onset = first r with ratio > 2. The
 * reference takes r_max per direction from the curvature 2/κ (clamped to [15, 100], 35 when
 * κ ≤ 0); without the curvature we use its fallback 35 for every direction: r_max only sets
 * the spacing of the linear part (0.29 against the reference's 0.12–0.83), so onsets above
 * 1.05 are located to within that. Our arm's cells are unchanged (their key `arm` is left out).
 *
 * @module
 */

import type { Dataset } from "softmax-ghosts/data";
import type { Params } from "softmax-ghosts/models";
import { maxOf, minOf } from "softmax-ghosts/util";
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
import { medianIqr, pct } from "./framework/format.js";
import {
  adamw,
  atTrainedPoint,
  firstWhere,
  gradientDirection,
  linGrid,
  logGrid,
  randomDirection,
  rhoAlong,
  sweepAlongDirection,
  type TrainedPoint,
  trainingFor,
  withDirection,
  withTrained,
} from "./framework/one-step.js";
import { count, fraction, magnitude, radius, resultSchemaOf } from "./framework/schemas.js";
import { type CellOf, experiment, type Linked, type RunOutcome } from "./framework/spec.js";
import { asFields, medianOf, quartiles } from "./framework/stats.js";
import {
  type DataSpec,
  ExperimentInputError,
  type FigureSpec,
  type RunContext,
} from "./framework/types.js";

/** Loss-ratio onset: first r with post/pre training loss ≥ this. */
export const LOSS_RATIO_THRESHOLD = 2;
/** Flip onset: first r with at least this share of test predictions changed. */
export const FLIP_THRESHOLD = 0.1;
/** The paper's snapshot accuracies on the digits data. */
export const DIGITS_TARGETS = [0.84, 0.95, 0.98];
/** Fractions of the way from chance to the best accuracy, for other data. */
export const RELATIVE_FRACTIONS = [1 / 3, 2 / 3, 1];
/** Names of the three phases. */
export const PHASES = ["early", "mid", "late"] as const;
/** Onsets within this range count as "near r ≈ 1" (one decade either side). */
export const NEAR_ONE: readonly [number, number] = [0.1, 10];

/** How the phases are located. */
export type PhaseTargets =
  | { kind: "absolute"; values: number[] }
  | { kind: "relative"; fractions: number[] };

const PROTOCOL = {
  steps: 600,
  batchSize: 128,
  learningRate: 3e-3,
  weightDecay: 1e-4,
  /** Where the phases lie (set from the data by {@link phaseTargets}). */
  targets: phaseTargets({ kind: "digits" }),
  randomDirections: 20,
  /** The grid of r = τ/ρ_a: 10 points per decade hit r = 0.1, 1, 10 exactly. */
  rs: logGrid(0.01, 100, 41),
};

// ---------------------------------------------------------------------------------------------
// The published protocol's arm (its settings; its run and summary are further down)

/** The published arm's r_max: the reference's value for a direction without finite curvature. */
export const PUBLISHED_R_MAX = 35;
/** The published r grid: logspace(−3, 0, 80) ∪ linspace(1.05, r_max, 120). */
export const PUBLISHED_RS = [...logGrid(0.001, 1, 80), ...linGrid(1.05, PUBLISHED_R_MAX, 120)];
/** The published snapshots: steps of SGD from the same initialisation. */
export const PUBLISHED_SNAPSHOT_STEPS = [30, 180, 700];

/** Settings of the published arm, replacing or adding to the protocol (none for ours). */
export type ArmSettings = {
  /** The model (ours: the MLP, not written into our cells). */
  arch?: "linear";
  /** Snapshot after this many steps each (ours: at test accuracies, `targets`). */
  snapshotSteps?: number[];
  /** "ascent": the gradient direction is +∇L/‖∇L‖ (ours: −∇L/‖∇L‖). */
  gradientSign?: "ascent";
  /** Split of the loss ratio and the flip fraction (ours: loss on train, flips on test). */
  sweepSplit?: "train";
  /** Loss onset rule: ratio > 2 (ours: ≥ 2). */
  onsetRule?: "gt";
  steps?: number;
  batchSize?: number;
  learningRate?: number;
  weightDecay?: number;
  rs?: number[];
};

/** The two arms: ours (`arm` left out of the cell) and the published protocol. */
const GRID = { arm: [undefined, "published"] as (undefined | "published")[] };

const LINKED: Linked<typeof GRID, ArmSettings> = {
  axis: "arm",
  values: {
    undefined: {},
    published: {
      arch: "linear",
      snapshotSteps: PUBLISHED_SNAPSHOT_STEPS,
      gradientSign: "ascent",
      sweepSplit: "train",
      onsetRule: "gt",
      steps: maxOf(PUBLISHED_SNAPSHOT_STEPS),
      batchSize: 64,
      learningRate: 0.1,
      // plain SGD: no weight decay, `weightDecay` only records it
      weightDecay: 0,
      rs: PUBLISHED_RS,
    },
  },
};

/** One run: one seed of one arm, its three snapshots and all their directions. */
export type RandomRun = CellOf<typeof PROTOCOL, typeof GRID, ArmSettings>;

/** A run of either kind: the sweeps (no `analysis`) or the curvature analysis. */
type AnyRandomRun = RandomRun & { analysis?: "curvature" };

/** Sweeps along one kind of direction at one snapshot. */
export type DirectionSweeps = {
  /** ρ_a per direction. */
  rhoA: number[];
  /** [direction][r]: post/pre training loss. */
  lossRatio: number[][];
  /** [direction][r]: share of test predictions changed. */
  flip: number[][];
  /** Per direction: first r with loss ratio ≥ 2 / flip ≥ 0.1 (+∞ if none). */
  onsetLoss: number[];
  onsetFlip: number[];
};

/** One snapshot's measurements. */
export type PhaseMeasurement = {
  phase: string;
  /** Test accuracy the phase was looking for. */
  target: number;
  /** Whether training reached it (otherwise the best snapshot was used). */
  reached: boolean;
  steps: number;
  testAccuracy: number;
  gradient: DirectionSweeps;
  random: DirectionSweeps;
};

/** What one run of our arm returns. */
export type OursResult = { bestTestAccuracy: number; phases: PhaseMeasurement[] };

/** One snapshot of the published arm. */
export type PublishedPhase = {
  phase: string;
  /** SGD steps from the initialisation. */
  steps: number;
  testAccuracy: number;
  /** Accuracy on the training split (the reference script reports this one). */
  trainAccuracy: number;
  gradient: DirectionSweeps;
  random: DirectionSweeps;
};

/** What one run of the published arm returns (flips are on the training split). */
export type PublishedResult = { published: true; phases: PublishedPhase[] };

/** What one run returns. */
export type RandomResult = OursResult | PublishedResult;

/** Onsets of one phase × direction kind, medians and quartiles (random: pooled over seeds × directions). */
export type OnsetRow = {
  phase: string;
  kind: "gradient" | "random";
  onsetLoss: number;
  onsetLossQ25: number;
  onsetLossQ75: number;
  onsetFlip: number;
  onsetFlipQ25: number;
  onsetFlipQ75: number;
  rhoA: number;
  /** Number of sweeps summarised. */
  n: number;
};

/** A point of the curves. */
export type RandomCurvePoint = {
  phase: string;
  kind: "gradient" | "random";
  r: number;
  lossRatio: number;
  lossRatioQ25: number;
  lossRatioQ75: number;
  flip: number;
  flipQ25: number;
  flipQ75: number;
};

/** The published arm in the summary: phases by step count, onsets and curves on its r grid. */
export type PublishedSummary = {
  phases: {
    phase: string;
    steps: number;
    testAccuracy: number;
    trainAccuracy: number;
    seeds: number;
  }[];
  onsets: OnsetRow[];
  curves: RandomCurvePoint[];
  rMax: number;
};

/** The summary written to `summary.json` (`phases`, `onsets`, `curves`: our arm). */
export type RandomSummary = {
  thresholds: { lossRatio: number; flip: number; nearOne: number[] };
  phases: {
    phase: string;
    target: number;
    testAccuracy: number;
    steps: number;
    seedsReached: number;
    seeds: number;
  }[];
  onsets: OnsetRow[];
  curves: RandomCurvePoint[];
  /** The curvature analysis (2/κ beside ρ_a), when its runs were part of the plan. */
  curvature?: CurvatureSummary;
  /** The published protocol's arm, when it was run. */
  published?: PublishedSummary;
};

/** Where the phases lie on a data set: the paper's accuracies on digits, else relative. */
export function phaseTargets(data: DataSpec): PhaseTargets {
  return data.kind === "digits" ? { kind: "absolute", values: DIGITS_TARGETS } : RELATIVE_TARGETS;
}

/** Phases at fixed fractions of the best accuracy, for data other than the digits. */
const RELATIVE_TARGETS: PhaseTargets = { kind: "relative", fractions: RELATIVE_FRACTIONS };

/** Largest class share of a split: the accuracy of always predicting the most common class. */
export function chanceAccuracy(ds: Dataset): number {
  const counts = new Array<number>(ds.numClasses).fill(0);
  for (let i = 0; i < ds.n; i++) counts[ds.y[i]!]!++;
  return maxOf(counts) / ds.n;
}

/** Sweeps one direction (borrowed) at one point: ρ_a over the training split, then the r grid. */
async function sweepOne(p: TrainedPoint, direction: Params, rs: number[]) {
  const rho = await rhoAlong(p.model, p.params, p.state, direction, p.train);
  const sweep = await sweepAlongDirection(
    p.model,
    p.params,
    p.state,
    direction,
    rs.map((r) => r * rho.rhoA),
    { train: p.train, test: p.test },
  );
  const lossRatio = sweep.points.map((q) => q.trainLossRatio!);
  const flip = sweep.points.map((q) => q.flipFraction);
  return {
    rhoA: rho.rhoA,
    lossRatio,
    flip,
    onsetLoss: firstWhere(rs, (i) => !(lossRatio[i]! < LOSS_RATIO_THRESHOLD)),
    onsetFlip: firstWhere(rs, (i) => flip[i]! >= FLIP_THRESHOLD),
  };
}

function collect(items: Awaited<ReturnType<typeof sweepOne>>[]): DirectionSweeps {
  return {
    rhoA: items.map((i) => i.rhoA),
    lossRatio: items.map((i) => i.lossRatio),
    flip: items.map((i) => i.flip),
    onsetLoss: items.map((i) => i.onsetLoss),
    onsetFlip: items.map((i) => i.onsetFlip),
  };
}

const directionSweepsSchema = resultSchemaOf<DirectionSweeps>()(
  z.object({
    rhoA: z.array(radius),
    lossRatio: z.array(z.array(magnitude)),
    flip: z.array(z.array(fraction)),
    onsetLoss: z.array(radius),
    onsetFlip: z.array(radius),
  }),
);

const oursResultSchema = resultSchemaOf<OursResult>()(
  z.object({
    bestTestAccuracy: fraction,
    phases: z.array(
      z.object({
        phase: z.string().min(1),
        target: fraction,
        reached: z.boolean(),
        steps: count,
        testAccuracy: fraction,
        gradient: directionSweepsSchema,
        random: directionSweepsSchema,
      }),
    ),
  }),
);

const publishedResultSchema = resultSchemaOf<PublishedResult>()(
  z.object({
    published: z.literal(true),
    phases: z.array(
      z.object({
        phase: z.string().min(1),
        steps: count,
        testAccuracy: fraction,
        trainAccuracy: fraction,
        gradient: directionSweepsSchema,
        random: directionSweepsSchema,
      }),
    ),
  }),
);

/** Shape and ranges of {@link RandomResult}, checked on every cached run file. */
export const randomResultSchema = resultSchemaOf<RandomResult>()(
  z.union([publishedResultSchema, oursResultSchema]),
);
/** Either kind of run result, checked on every cached run file. */
const anyRandomResultSchema = z.union([randomResultSchema, curvatureResultSchema]);

/**
 * The run's training with its phases located: the paper's accuracies, or (other data) the
 * fractions of the way from chance to the best accuracy of a reference run (module notes).
 */
async function phasedTraining(c: RandomRun, ctx: RunContext) {
  const training = trainingFor(ctx, "mlp", c, { optimizer: adamw(c), evalEvery: 1 });
  let targets: number[];
  if (c.targets.kind === "absolute") {
    targets = c.targets.values;
  } else {
    const best = await withTrained(
      { ...training, onProgress: (f) => ctx.onProgress(0.1 * f) },
      async ({ history }) => maxOf(history.map((h) => h.testAccuracy ?? 0)),
    );
    const chance = chanceAccuracy(training.data.test);
    // clamped to the best: rounding must not put the last target out of reach
    targets = c.targets.fractions.map((f) => Math.min(best, chance + f * (best - chance)));
  }
  return {
    ...training,
    targets,
    keepBest: true,
    onProgress: (f: number) => ctx.onProgress(0.1 + 0.2 * f),
  };
}

/** The seed of random direction `j` at phase `p` (the curvature analysis reuses the sweeps'). */
const directionSeed = (c: RandomRun, p: number, j: number) => c.seed * 100_000 + p * 1000 + j;

/** Analysis `curvature`: ρ_a and 2/κ along the sweeps' directions at every phase. */
async function curvatureRun(c: RandomRun, ctx: RunContext): Promise<CurvatureResult> {
  return atTrainedPoint(await phasedTraining(c, ctx), async (point) => {
    const snaps = point.trained;
    const result: CurvatureResult = { snapshots: [], points: [] };
    for (let p = 0; p < snaps.targets.length; p++) {
      const snap = snaps.targets[p]!.snapshot ?? snaps.best!;
      const phase = PHASES[p] ?? `phase${p}`;
      const at: TrainedPoint = { ...point, params: snap.params, state: snap.state };
      result.snapshots.push({
        snapshot: phase,
        steps: snap.steps,
        testAccuracy: snap.testAccuracy,
      });
      const points = await curvaturesAt(
        at,
        phase,
        c.randomDirections,
        (j) => directionSeed(c, p, j),
        (j) => ctx.onProgress(0.3 + (0.7 * (p + j / c.randomDirections)) / snaps.targets.length),
      );
      result.points.push(...points);
    }
    return result;
  });
}

/** The curvature part of the summary (none when the plan had no curvature runs). */
function curvatureSummary(outcomes: RunOutcome<AnyRandomRun, RandomResult | CurvatureResult>[]): {
  curvature?: CurvatureSummary;
} {
  const runs = outcomes.flatMap(({ cell, result }) =>
    cell.analysis === "curvature"
      ? [{ group: "mlp", seed: cell.seed, result: result as CurvatureResult }]
      : [],
  );
  return runs.length === 0 ? {} : { curvature: summarizeCurvature(runs) };
}

const inRange = (v: number) => v >= NEAR_ONE[0] && v <= NEAR_ONE[1];
const fmt = (v: number) => formatNumber(v, 3);
const rangeText = `r ∈ [${NEAR_ONE[0]}, ${NEAR_ONE[1]}]`;

/** Which arm a claim part reads: ours (the summary's top level) or the published protocol's. */
type ArmName = "ours" | "published";

/** The onset rows of an arm (empty when the arm was not run). */
function onsetsOf(s: RandomSummary, arm: ArmName): OnsetRow[] {
  return arm === "ours" ? s.onsets : (s.published?.onsets ?? []);
}

/** How a claim part names its arm and its gradient direction. */
const ARM_TEXT: Record<ArmName, string> = {
  ours: "ours (MLP, AdamW; gradient = −∇L, descent)",
  published: "published protocol (linear, SGD; gradient = +∇L, ascent)",
};

/** A verdict part: one metric's median onsets all lie within {@link NEAR_ONE}. */
function turnsNearOne(metric: "onsetLoss" | "onsetFlip", name: string, arm: ArmName) {
  return claim<RandomSummary>(
    `${ARM_TEXT[arm]}: the ${name} turns near r ≈ 1 in every phase`,
    (s) => {
      const onsets = onsetsOf(s, arm);
      if (onsets.length === 0) return null;
      const far = onsets.filter((o) => !inRange(o[metric]));
      const all = onsets.map((o) => o[metric]);
      return {
        holds: far.length === 0,
        measured:
          far.length === 0
            ? `${arm}: every median ${name} onset lies in ${rangeText} (${fmt(minOf(all))} to ${fmt(maxOf(all))})`
            : `${arm}: ${name} onsets outside ${rangeText}: ${far.map((o) => `${o.phase}/${o.kind} ${fmt(o[metric])}`).join(", ")}`,
      };
    },
    // the question of the experiment: is ρ_a the scale of a step in every direction and phase
    { essential: true },
  );
}

/** A verdict part: in every phase the gradient's median onsets are no later than the random directions'. */
function gradientFirst(arm: ArmName) {
  return claim<RandomSummary>(`${ARM_TEXT[arm]}: the gradient direction degrades earliest`, (s) => {
    const onsets = onsetsOf(s, arm);
    const phases = [...new Set(onsets.map((o) => o.phase))];
    if (phases.length === 0) return null;
    const pair = (p: string) => ({
      g: onsets.find((o) => o.phase === p && o.kind === "gradient"),
      r: onsets.find((o) => o.phase === p && o.kind === "random"),
    });
    const late = phases.filter((p) => {
      const { g, r } = pair(p);
      return !(g && r && g.onsetLoss <= r.onsetLoss && g.onsetFlip <= r.onsetFlip);
    });
    const vs = phases
      .map((p) => {
        const { g, r } = pair(p);
        const vs = (k: "onsetLoss" | "onsetFlip") =>
          `${fmt(g?.[k] ?? Number.NaN)} vs ${fmt(r?.[k] ?? Number.NaN)}`;
        return `${p} loss ${vs("onsetLoss")}, flip ${vs("onsetFlip")}`;
      })
      .join("; ");
    const dir = arm === "ours" ? "the descent gradient −∇L" : "the ascent gradient +∇L";
    return {
      holds: late.length === 0,
      measured:
        late.length === 0
          ? `${arm}: ${dir} degrades no later than the random directions in every phase (onsets, gradient vs random: ${vs})`
          : `${arm}: ${dir} does not degrade first in: ${late.join(", ")} (onsets, gradient vs random: ${vs})`,
    };
  });
}

/** Onsets and curves of one phase, per direction kind, pooled over seeds (and directions). */
function directionRows(
  phase: string,
  mine: { gradient: DirectionSweeps; random: DirectionSweeps }[],
  rs: readonly number[],
): { onsets: OnsetRow[]; curves: RandomCurvePoint[] } {
  const onsets: OnsetRow[] = [];
  const curves: RandomCurvePoint[] = [];
  for (const kind of ["gradient", "random"] as const) {
    const sweeps = mine.map((m) => m[kind]);
    onsets.push({
      phase,
      kind,
      ...asFields("onsetLoss", quartiles(sweeps.flatMap((s) => s.onsetLoss))),
      ...asFields("onsetFlip", quartiles(sweeps.flatMap((s) => s.onsetFlip))),
      rhoA: medianOf(sweeps.flatMap((s) => s.rhoA)),
      n: sweeps.reduce((a, s) => a + s.rhoA.length, 0),
    });
    rs.forEach((r, i) => {
      curves.push({
        phase,
        kind,
        r,
        ...asFields("lossRatio", quartiles(sweeps.flatMap((s) => s.lossRatio.map((l) => l[i]!)))),
        ...asFields("flip", quartiles(sweeps.flatMap((s) => s.flip.map((f) => f[i]!)))),
      });
    });
  }
  return { onsets, curves };
}

// ---------------------------------------------------------------------------------------------
// The published arm: run and summary

/** Sweeps one direction (borrowed) under the published protocol: everything on the training split. */
async function sweepPublished(p: TrainedPoint, direction: Params, rs: number[]) {
  const rho = await rhoAlong(p.model, p.params, p.state, direction, p.train);
  // the training split as the sweep's only split: its loss ratio and its flips
  const sweep = await sweepAlongDirection(
    p.model,
    p.params,
    p.state,
    direction,
    rs.map((r) => r * rho.rhoA),
    { test: p.train },
  );
  const lossRatio = sweep.points.map((q) => q.testLossRatio);
  const flip = sweep.points.map((q) => q.flipFraction);
  return {
    rhoA: rho.rhoA,
    lossRatio,
    flip,
    onsetLoss: firstWhere(rs, (i) => !(lossRatio[i]! <= LOSS_RATIO_THRESHOLD)),
    onsetFlip: firstWhere(rs, (i) => flip[i]! >= FLIP_THRESHOLD),
    trainAccuracy: sweep.pre.test.accuracy,
  };
}

/**
 * One seed of the published arm: for each snapshot step count, SGD from the seed's
 * initialisation (the run is deterministic, so the shorter runs are prefixes of the longest),
 * then the ascent gradient and the random directions swept on the training split.
 */
async function runPublished(c: RandomRun, ctx: RunContext): Promise<PublishedResult> {
  if (c.arch === undefined || c.snapshotSteps === undefined) {
    throw new RangeError("random-directions: published arm without its model or snapshots");
  }
  const stages = c.snapshotSteps;
  const phases: PublishedPhase[] = [];
  for (let p = 0; p < stages.length; p++) {
    const steps = stages[p]!;
    const training = trainingFor(
      ctx,
      c.arch,
      { seed: c.seed, steps, batchSize: c.batchSize },
      { optimizer: { name: "sgd", learningRate: c.learningRate } },
    );
    phases.push(
      await atTrainedPoint(training, async (at) => {
        const grad = gradientDirection(at.model, at.params, at.state, at.train, {
          ascent: c.gradientSign === "ascent",
        });
        const g = await withDirection(grad, (d) => sweepPublished(at, d.direction, c.rs));
        const random = [];
        for (let j = 0; j < c.randomDirections; j++) {
          const made = randomDirection(at.params, c.seed * 100_000 + p * 1000 + j);
          random.push(await withDirection(made, (d) => sweepPublished(at, d.direction, c.rs)));
          ctx.onProgress((p + (j + 1) / c.randomDirections) / stages.length);
        }
        return {
          phase: PHASES[p] ?? `phase${p}`,
          steps,
          testAccuracy: at.trained.final.testAccuracy,
          trainAccuracy: g.trainAccuracy,
          gradient: collect([g]),
          random: collect(random),
        };
      }),
    );
  }
  return { published: true, phases };
}

/** The published arm's part of the summary (null when none of its runs is in the plan). */
function summarizePublished(
  outcomes: { cell: AnyRandomRun; result: RandomResult | CurvatureResult }[],
): PublishedSummary | null {
  const runs = outcomes.filter((o) => o.cell.arm === "published");
  const results = runs.flatMap((o) => ("published" in o.result ? [o.result] : []));
  if (results.length === 0) return null;
  const rs = runs[0]!.cell.rs;
  const phases: PublishedSummary["phases"] = [];
  const onsets: OnsetRow[] = [];
  const curves: RandomCurvePoint[] = [];
  results[0]!.phases.forEach(({ phase }, p) => {
    const mine = results.map((r) => r.phases[p]!);
    phases.push({
      phase,
      steps: medianOf(mine.map((m) => m.steps)),
      testAccuracy: medianOf(mine.map((m) => m.testAccuracy)),
      trainAccuracy: medianOf(mine.map((m) => m.trainAccuracy)),
      seeds: mine.length,
    });
    const rows = directionRows(phase, mine, rs);
    onsets.push(...rows.onsets);
    curves.push(...rows.curves);
  });
  return { phases, onsets, curves, rMax: maxOf(rs) };
}

/** The published arm's table (none when it was not run). */
function publishedTables(s: RandomSummary) {
  const pub = s.published;
  if (pub === undefined) return [];
  return [
    {
      title:
        "Published protocol: onset r per phase and direction (linear 64→K, SGD lr 0.1, gradient = +∇L ascent, all on the training split)",
      columns: [
        "phase",
        "steps",
        "train acc (test acc)",
        "direction",
        "ρ_a",
        "onset: loss ratio > 2",
        "onset: flip ≥ 10%",
        "paper",
      ],
      rows: pub.onsets.map((o) => {
        const ph = pub.phases.find((p) => p.phase === o.phase);
        return [
          o.phase,
          ph?.steps ?? null,
          ph ? `${pct(ph.trainAccuracy)} (${pct(ph.testAccuracy)})` : null,
          o.kind === "gradient" ? "gradient (+∇L)" : o.kind,
          o.rhoA,
          medianIqr({ median: o.onsetLoss, q25: o.onsetLossQ25, q75: o.onsetLossQ75, n: o.n }, fmt),
          medianIqr({ median: o.onsetFlip, q25: o.onsetFlipQ25, q75: o.onsetFlipQ75, n: o.n }, fmt),
          o.kind === "gradient" ? "turns near r ≈ 1, earliest" : "turns near r ≈ 1",
        ];
      }),
      note: `The reference script's protocol (experiments/randomdirs/run.py): medians [25%, 75%] over seeds (gradient) and seeds × directions (random). Loss ratio and flips on the training split; onset = first r of logspace(−3, 0, 80) ∪ linspace(1.05, ${pub.rMax}, 120) with post/pre training loss > ${s.thresholds.lossRatio}, or ≥ ${pct(s.thresholds.flip, 0)} of training predictions changed; ∞ = never on the grid. r_max = ${pub.rMax} for every direction (the reference's value without finite curvature).`,
    },
  ];
}

/** The published arm's curves, as ours (none when it was not run). */
function publishedFigures(s: RandomSummary): FigureSpec[] {
  const pub = s.published;
  if (pub === undefined) return [];
  const common = {
    data: pub.curves.map((c) => ({ ...c })),
    x: "r",
    color: "kind",
    colorTitle: "direction",
    facet: { field: "phase", columns: 3 },
    logX: true,
    xTitle: "r = τ / ρ_a",
    width: 260,
    height: 220,
  };
  const rule = { x: 1, label: "r = 1" };
  return [
    {
      name: "published-loss-ratio",
      title:
        "Published protocol: loss ratio (training split) vs r, ascent gradient +∇L vs random directions",
      spec: lineWithBand({
        ...common,
        y: "lossRatio",
        lo: "lossRatioQ25",
        hi: "lossRatioQ75",
        logY: true,
        yTitle: "post / pre training loss",
        rule: [rule, { y: LOSS_RATIO_THRESHOLD, label: "2×" }],
      }),
    },
    {
      name: "published-flip-fraction",
      title:
        "Published protocol: fraction of training predictions flipped vs r, ascent gradient vs random",
      spec: lineWithBand({
        ...common,
        y: "flip",
        lo: "flipQ25",
        hi: "flipQ75",
        yTitle: "flip fraction (training split)",
        yDomain: [0, 1],
        rule: [rule, { y: FLIP_THRESHOLD, label: "10%" }],
      }),
    },
  ];
}

/** One seed's snapshots are swept along the gradient and the random directions (module notes). */
export const randomDirections = experiment({
  id: "random-directions",
  title: "Random directions vs the gradient, early/mid/late in training",
  claim:
    "Both metrics (loss ratio, flip fraction) turn near r ≈ 1 in every phase; the gradient direction degrades earliest.",
  protocol: PROTOCOL,
  grid: GRID,
  linked: LINKED,
  seeds: [0, 1, 2, 3, 4],
  quick: { seeds: [0], steps: 200, randomDirections: 4, rs: logGrid(0.01, 100, 17) },
  // the paper's absolute targets are digits accuracies; other data get relative ones
  byData: {
    csv: { settings: { targets: RELATIVE_TARGETS } },
  },
  describe: {
    model: "mlp (64→128→128→K, GELU)",
    optimizer: "adamw",
    lossRatioOn: "training split (the set ρ_a is computed over)",
    flipOn: "test split",
    lossRatioThreshold: LOSS_RATIO_THRESHOLD,
    flipThreshold: FLIP_THRESHOLD,
  },
  validate({ data }) {
    if (data.kind === "cifar10") {
      throw new ExperimentInputError(
        "random-directions trains an MLP on flat feature vectors; CIFAR-10 is not supported",
      );
    }
  },
  analyses: ["curvature"],
  // the curvature analysis measures our arm's MLP snapshots only
  include: (c) => !(c.analysis === "curvature" && c.arm === "published"),
  runKey: (c) =>
    `${c.analysis === "curvature" ? "curvature-" : ""}${c.arm === "published" ? "pub-" : ""}s${c.seed}`,
  resultSchema: anyRandomResultSchema,

  async run(c, ctx) {
    if (c.analysis === "curvature") return curvatureRun(c, ctx);
    if (c.arm === "published") return runPublished(c, ctx);
    return atTrainedPoint(await phasedTraining(c, ctx), async (point) => {
      const snaps = point.trained;
      const phases: PhaseMeasurement[] = [];
      for (let p = 0; p < snaps.targets.length; p++) {
        const { target, snapshot } = snaps.targets[p]!;
        const snap = snapshot ?? snaps.best!;
        const at: TrainedPoint = { ...point, params: snap.params, state: snap.state };
        const grad = gradientDirection(at.model, at.params, at.state, at.train);
        const gradient = collect([
          await withDirection(grad, (g) => sweepOne(at, g.direction, c.rs)),
        ]);
        const random = [];
        for (let j = 0; j < c.randomDirections; j++) {
          const made = randomDirection(at.params, directionSeed(c, p, j));
          random.push(await withDirection(made, (d) => sweepOne(at, d.direction, c.rs)));
          ctx.onProgress(0.3 + (0.7 * (p + (j + 1) / c.randomDirections)) / snaps.targets.length);
        }
        phases.push({
          phase: PHASES[p] ?? `phase${p}`,
          target,
          reached: snapshot !== null,
          steps: snap.steps,
          testAccuracy: snap.testAccuracy,
          gradient,
          random: collect(random),
        });
      }
      return { bestTestAccuracy: snaps.best!.testAccuracy, phases };
    });
  },

  summarize(outcomes, { protocol: { rs } }) {
    const results = outcomes.flatMap((o) =>
      o.cell.analysis === undefined && o.cell.arm === undefined && !("published" in o.result)
        ? [o.result as OursResult]
        : [],
    );
    const phaseNames = results[0]?.phases.map((p) => p.phase) ?? [];
    const phases: RandomSummary["phases"] = [];
    const onsets: OnsetRow[] = [];
    const curves: RandomCurvePoint[] = [];
    phaseNames.forEach((phase, p) => {
      const mine = results.map((r) => r.phases[p]!);
      phases.push({
        phase,
        target: medianOf(mine.map((m) => m.target)),
        testAccuracy: medianOf(mine.map((m) => m.testAccuracy)),
        steps: medianOf(mine.map((m) => m.steps)),
        seedsReached: mine.filter((m) => m.reached).length,
        seeds: mine.length,
      });
      const rows = directionRows(phase, mine, rs);
      onsets.push(...rows.onsets);
      curves.push(...rows.curves);
    });
    const published = summarizePublished(outcomes);
    return {
      thresholds: { lossRatio: LOSS_RATIO_THRESHOLD, flip: FLIP_THRESHOLD, nearOne: [...NEAR_ONE] },
      phases,
      onsets,
      curves,
      ...curvatureSummary(outcomes),
      ...(published === null ? {} : { published }),
    };
  },

  tables(s) {
    return [
      {
        title: "Onset r per phase and direction (ours) beside the paper",
        columns: [
          "phase",
          "test acc (target)",
          "direction",
          "ρ_a",
          "onset: loss ratio ≥ 2",
          "onset: flip ≥ 10%",
          "paper",
        ],
        rows: s.onsets.map((o) => {
          const ph = s.phases.find((p) => p.phase === o.phase);
          return [
            o.phase,
            ph
              ? `${pct(ph.testAccuracy)} (${pct(ph.target, 0)}${
                  ph.seedsReached < ph.seeds ? `, reached ${ph.seedsReached}/${ph.seeds}` : ""
                })`
              : null,
            o.kind,
            o.rhoA,
            medianIqr(
              { median: o.onsetLoss, q25: o.onsetLossQ25, q75: o.onsetLossQ75, n: o.n },
              fmt,
            ),
            medianIqr(
              { median: o.onsetFlip, q25: o.onsetFlipQ25, q75: o.onsetFlipQ75, n: o.n },
              fmt,
            ),
            o.kind === "gradient" ? "turns near r ≈ 1, earliest" : "turns near r ≈ 1",
          ];
        }),
        note: `Medians [25%, 75%] over seeds (gradient) and over seeds × directions (random). Onset = first grid r with post/pre training loss ≥ ${s.thresholds.lossRatio}, or with ≥ ${pct(s.thresholds.flip, 0)} of test predictions changed; ∞ = never on the grid (r ≤ 100). A phase not reached uses the run's best snapshot.`,
      },
      ...(s.curvature ? [curvatureTable(s.curvature, "model")] : []),
      ...publishedTables(s),
    ];
  },

  figures(summary): FigureSpec[] {
    const rows = summary.curves.map((c) => ({ ...c }));
    const common = {
      data: rows,
      x: "r",
      color: "kind",
      colorTitle: "direction",
      facet: { field: "phase", columns: 3 },
      logX: true,
      xTitle: "r = τ / ρ_a",
      width: 260,
      height: 220,
    };
    const rule = { x: 1, label: "r = 1" };
    return [
      {
        name: "loss-ratio",
        title: "Loss ratio (post/pre training loss) vs r, gradient vs random directions",
        spec: lineWithBand({
          ...common,
          y: "lossRatio",
          lo: "lossRatioQ25",
          hi: "lossRatioQ75",
          logY: true,
          yTitle: "post / pre training loss",
          rule: [rule, { y: LOSS_RATIO_THRESHOLD, label: "2×" }],
        }),
      },
      {
        name: "flip-fraction",
        title: "Fraction of test predictions flipped vs r, gradient vs random directions",
        spec: lineWithBand({
          ...common,
          y: "flip",
          lo: "flipQ25",
          hi: "flipQ75",
          yTitle: "flip fraction",
          yDomain: [0, 1],
          rule: [rule, { y: FLIP_THRESHOLD, label: "10%" }],
        }),
      },
      ...(summary.curvature
        ? curvatureFigures(summary.curvature, {
            color: "kind",
            colorTitle: "direction",
            shape: "snapshot",
            shapeTitle: "phase",
          })
        : []),
      ...publishedFigures(summary),
    ];
  },

  claims: [
    turnsNearOne("onsetLoss", "loss ratio", "ours"),
    turnsNearOne("onsetFlip", "flip fraction", "ours"),
    gradientFirst("ours"),
    turnsNearOne("onsetLoss", "loss ratio", "published"),
    turnsNearOne("onsetFlip", "flip fraction", "published"),
    gradientFirst("published"),
  ],
});
