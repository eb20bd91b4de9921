/**
 * The curvature analysis shared by the one-step experiments (phase transition, random
 * directions): along each direction at a trained point, the radius ρ_a and the curvature step
 * 2/κ (κ = v̂ᵀHv̂ of the mean training loss, one float32 Hessian-vector product, the probe's
 * `directionalCurvature`), both over the training split; then how the two scales compare —
 * the ratio (2/κ)/ρ_a, its quartiles per snapshot and direction kind, a log-log scatter and a
 * table. The paper's reference scripts make this comparison; the paper states no number for
 * it, so it carries no claim (docs/science.md §2, "The curvature step").
 *
 * Both ρ_a and κ are even in the direction (the spread of −a is that of a; κ(−v) = κ(v)),
 * so the sign convention of the gradient direction (our descent, the reference's ascent)
 * does not matter here.
 *
 * @module
 */
import type { Params } from "softmax-ghosts/models";
import { directionalCurvature } from "softmax-ghosts/probe";
import { maxOf, minOf } from "softmax-ghosts/util";
import { z } from "zod";
import { formatNumber } from "../../report/stats.js";
import { scatter } from "./figures.js";
import { medianIqr } from "./format.js";
import {
  gradientDirection,
  randomDirection,
  rhoAlong,
  type TrainedPoint,
  withDirection,
} from "./one-step.js";
import { anyNumber, count, radius, resultSchemaOf } from "./schemas.js";
import { asFields, quartiles } from "./stats.js";
import type { FigureSpec, ReportTable } from "./types.js";

/** The two step scales along one unit direction at one snapshot. */
export type CurvaturePoint = {
  /** Which snapshot of the run ("early", "mid", "late", or "final"). */
  snapshot: string;
  kind: "gradient" | "random";
  /** ρ_a over the training split. */
  rhoA: number;
  /** κ = v̂ᵀHv̂ of the mean training cross-entropy (may be ≤ 0). */
  kappa: number;
  /** 2/κ, +∞ when κ ≤ 0. */
  curvatureStep: number;
};

/** What a curvature run returns. */
export type CurvatureResult = {
  /** Test accuracy of each snapshot measured. */
  snapshots: { snapshot: string; steps: number; testAccuracy: number }[];
  points: CurvaturePoint[];
};

/** Shape and ranges of {@link CurvatureResult}, checked on every cached run file. */
export const curvatureResultSchema = resultSchemaOf<CurvatureResult>()(
  z.object({
    snapshots: z.array(
      z.object({
        snapshot: z.string().min(1),
        steps: count,
        testAccuracy: z.number().min(0).max(1),
      }),
    ),
    points: z.array(
      z.object({
        snapshot: z.string().min(1),
        kind: z.enum(["gradient", "random"]),
        rhoA: radius,
        kappa: anyNumber,
        curvatureStep: radius,
      }),
    ),
  }),
);

/**
 * Rows per Hessian-vector product by model (default the probe's 2048: a digits training split
 * in one call). Forward-over-reverse through attention keeps the tangents of every
 * [rows, heads, tokens, tokens] intermediate, which for the whole split exceeds WebAssembly's
 * 4 GiB; chunking changes the sum's rounding only.
 */
const HVP_CHUNK: Record<string, number> = { transformer: 256 };

/** ρ_a and κ along one direction (borrowed) at one point, both over the training split. */
export async function scalesAlong(
  p: TrainedPoint,
  direction: Params,
  snapshot: string,
  kind: CurvaturePoint["kind"],
): Promise<CurvaturePoint> {
  const rho = await rhoAlong(p.model, p.params, p.state, direction, p.train);
  const chunk = HVP_CHUNK[p.model.name];
  const c = directionalCurvature(p.model, p.params, p.state, direction, p.train.x, p.train.y, {
    ...(chunk === undefined ? {} : { chunk }),
  });
  return { snapshot, kind, rhoA: rho.rhoA, kappa: c.curvature, curvatureStep: c.curvatureStep };
}

/**
 * The unit negative gradient and `randomDirections` seeded Gaussian directions at one point
 * (direction j drawn with `seedOf(j)`), each measured by {@link scalesAlong}.
 */
export async function curvaturesAt(
  p: TrainedPoint,
  snapshot: string,
  randomDirections: number,
  seedOf: (j: number) => number,
  onDirection?: (done: number) => void,
): Promise<CurvaturePoint[]> {
  const grad = gradientDirection(p.model, p.params, p.state, p.train);
  const out = [await withDirection(grad, (g) => scalesAlong(p, g.direction, snapshot, "gradient"))];
  for (let j = 0; j < randomDirections; j++) {
    const made = randomDirection(p.params, seedOf(j));
    out.push(await withDirection(made, (d) => scalesAlong(p, d.direction, snapshot, "random")));
    onDirection?.(j + 1);
  }
  return out;
}

/** The ratio (2/κ)/ρ_a of one point (+∞ when κ ≤ 0). */
export const curvatureRatio = (p: CurvaturePoint): number => p.curvatureStep / p.rhoA;

/** A point of the scatter: which run it came from, and its ratio. */
export type CurvatureScatterPoint = CurvaturePoint & { group: string; seed: number; ratio: number };

/** One row of the ratio table: a group × snapshot × kind, pooled over seeds (and directions). */
export type CurvatureRow = {
  group: string;
  snapshot: string;
  kind: "gradient" | "random";
  /** Median and quartiles of (2/κ)/ρ_a. */
  ratio: number;
  ratioQ25: number;
  ratioQ75: number;
  rhoA: number;
  curvatureStep: number;
  /** Directions measured, those with κ ≤ 0 (2/κ = ∞), and those with 2/κ < ρ_a. */
  n: number;
  nonPositive: number;
  below: number;
};

/** The curvature part of a summary. */
export type CurvatureSummary = {
  rows: CurvatureRow[];
  /** Every direction pooled: the ratio's quartiles, min and max, and the counts. */
  overall: {
    ratio: number;
    ratioQ25: number;
    ratioQ75: number;
    min: number;
    max: number;
    n: number;
    nonPositive: number;
    below: number;
  };
  points: CurvatureScatterPoint[];
};

/**
 * The curvature summary of a set of runs: `runs` gives each run's group (e.g. the
 * architecture), seed and result; rows are in order of first appearance.
 */
export function summarizeCurvature(
  runs: readonly { group: string; seed: number; result: CurvatureResult }[],
): CurvatureSummary {
  const points: CurvatureScatterPoint[] = runs.flatMap(({ group, seed, result }) =>
    result.points.map((p) => ({ group, seed, ...p, ratio: curvatureRatio(p) })),
  );
  const keys: string[] = [];
  const byKey = new Map<string, CurvatureScatterPoint[]>();
  for (const p of points) {
    const key = JSON.stringify([p.group, p.snapshot, p.kind]);
    if (!byKey.has(key)) {
      keys.push(key);
      byKey.set(key, []);
    }
    byKey.get(key)!.push(p);
  }
  const counts = (ps: CurvatureScatterPoint[]) => ({
    n: ps.length,
    nonPositive: ps.filter((p) => !(p.kappa > 0)).length,
    below: ps.filter((p) => p.ratio < 1).length,
  });
  const rows = keys.map((key): CurvatureRow => {
    const ps = byKey.get(key)!;
    const [group, snapshot, kind] = JSON.parse(key) as [string, string, CurvatureRow["kind"]];
    return {
      group,
      snapshot,
      kind,
      ...asFields("ratio", quartiles(ps.map((p) => p.ratio))),
      rhoA: quartiles(ps.map((p) => p.rhoA)).median,
      curvatureStep: quartiles(ps.map((p) => p.curvatureStep)).median,
      ...counts(ps),
    };
  });
  const ratios = points.map((p) => p.ratio);
  return {
    rows,
    overall: {
      ...asFields("ratio", quartiles(ratios)),
      min: ratios.length ? minOf(ratios) : Number.NaN,
      max: ratios.length ? maxOf(ratios) : Number.NaN,
      ...counts(points),
    },
    points,
  };
}

const fmt = (v: number) => formatNumber(v, 3);

/** The ratio table: one row per group × snapshot × kind, `groupTitle` naming the group column. */
export function curvatureTable(s: CurvatureSummary, groupTitle: string): ReportTable {
  const o = s.overall;
  return {
    title: "Curvature step 2/κ against the radius ρ_a, per snapshot and direction",
    columns: [
      groupTitle,
      "snapshot",
      "direction",
      "ρ_a",
      "2/κ",
      "(2/κ)/ρ_a, median [IQR]",
      "κ ≤ 0",
      "2/κ < ρ_a",
      "paper",
    ],
    rows: s.rows.map((r) => [
      r.group,
      r.snapshot,
      r.kind,
      r.rhoA,
      r.curvatureStep,
      medianIqr({ median: r.ratio, q25: r.ratioQ25, q75: r.ratioQ75, n: r.n }, fmt),
      `${r.nonPositive}/${r.n}`,
      `${r.below}/${r.n}`,
      "no number stated",
    ]),
    note: `κ = v̂ᵀHv̂ of the mean training cross-entropy along the unit direction (one float32 Hessian-vector product), ρ_a over the same training split; medians [25%, 75%] pooled over seeds (and directions). All ${o.n} directions: ratio ${medianIqr({ median: o.ratio, q25: o.ratioQ25, q75: o.ratioQ75, n: o.n }, fmt)}, from ${fmt(o.min)} to ${fmt(o.max)}; κ ≤ 0 (2/κ = ∞) for ${o.nonPositive}, 2/κ below ρ_a for ${o.below}. A ratio above 1 means the quadratic model allows a longer step than the radius. The paper compares the two scales but states no number, so this carries no verdict.`,
  };
}

/**
 * The figure: 2/κ against ρ_a per direction (log-log, with the diagonals 2/κ = ρ_a,
 * 10·ρ_a and 100·ρ_a); `color`/`shape` name the point fields that tell the points apart.
 */
export function curvatureFigures(
  s: CurvatureSummary,
  o: {
    color: "group" | "kind" | "snapshot";
    shape?: "group" | "kind" | "snapshot";
    colorTitle: string;
    shapeTitle?: string;
  },
): FigureSpec[] {
  const infinite = s.points.filter((p) => !Number.isFinite(p.curvatureStep)).length;
  return [
    scatter(
      "curvature-vs-radius",
      `Curvature step 2/κ against the radius ρ_a, one point per direction (log-log${
        infinite > 0 ? `; ${infinite} direction(s) with κ ≤ 0 not drawn` : ""
      })`,
      s.points,
      {
        x: "rhoA",
        y: "curvatureStep",
        color: o.color,
        colorTitle: o.colorTitle,
        ...(o.shape === undefined ? {} : { shape: o.shape, shapeTitle: o.shapeTitle ?? o.shape }),
        logX: true,
        logY: true,
        xTitle: "ρ_a (training split)",
        yTitle: "2/κ",
        diagonals: [
          { c: 1, label: "2/κ = ρ_a" },
          { c: 10, label: "10×" },
          { c: 100, label: "100×" },
        ],
      },
    ),
  ];
}
