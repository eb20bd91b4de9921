/**
 * The statistics experiments summarise with, in one place: quartiles over seeds (numpy's
 * linear quantile, via `report/stats.ts`), per-step quartile curves, grouping of runs into
 * the cells of a table, and rounding for stored summaries.
 *
 * @module
 */
import { quantile, summarise } from "../../report/stats.js";
import type { JsonPrimitive } from "./types.js";

/** Median and quartiles of a sample, with its size (after dropping NaNs). */
export type Quartiles = { median: number; q25: number; q75: number; n: number };

/**
 * {@link Quartiles} of `values`, NaNs left out (diverged seeds, unmeasured points); all-NaN
 * or empty: NaNs with `n = 0`. ±∞ are ordinary values ("never" onsets, overflowed losses):
 * a quartile between a finite and an infinite order statistic is that infinity.
 */
export function quartiles(values: readonly number[]): Quartiles {
  const xs = values.filter((v) => !Number.isNaN(v));
  if (xs.length === 0) return { median: Number.NaN, q25: Number.NaN, q75: Number.NaN, n: 0 };
  const s = summarise(xs);
  return { median: s.median, q25: s.q25, q75: s.q75, n: s.n };
}

/**
 * The accuracy columns of a summary table's row: median and quartiles over seeds of the runs'
 * final test accuracies.
 */
export type FinalAccuracy = { medianFinalTestAcc: number; q25: number; q75: number };

/** {@link FinalAccuracy} of the final test accuracies of a group of runs (by {@link quartiles}). */
export function finalAccuracy(accuracies: readonly number[]): FinalAccuracy {
  const q = quartiles(accuracies);
  return { medianFinalTestAcc: q.median, q25: q.q25, q75: q.q75 };
}

/** Median of `values`, NaNs left out (NaN when nothing is left). */
export function medianOf(values: readonly number[]): number {
  return quartiles(values).median;
}

/** Largest non-NaN value (−∞ when there is none). */
export function maxFinite(values: readonly number[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const x of values) if (!Number.isNaN(x) && x > m) m = x;
  return m;
}

/** `x` rounded to `digits` significant digits (0 and non-finite values unchanged). */
export function roundSig(x: number, digits = 5): number {
  return Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(digits)) : x;
}

/** τ/ρ, or NaN when either is not positive (no step taken, no radius measured). */
export function ratio(tau: number, rho: number): number {
  return tau > 0 && rho > 0 ? tau / rho : Number.NaN;
}

/**
 * Quartiles over runs at each step: `series[run][step]` → per step `{median, q25, q75}`,
 * skipping null/NaN entries (null where no run has a value at that step).
 */
export function quantilesPerStep(
  series: readonly (readonly (number | null)[])[],
): ({ median: number; q25: number; q75: number } | null)[] {
  let steps = 0;
  for (const s of series) steps = Math.max(steps, s.length);
  const out: ({ median: number; q25: number; q75: number } | null)[] = [];
  for (let t = 0; t < steps; t++) {
    const xs: number[] = [];
    for (const s of series) {
      const v = s[t];
      if (typeof v === "number" && !Number.isNaN(v)) xs.push(v);
    }
    out.push(
      xs.length === 0
        ? null
        : { median: quantile(xs, 0.5), q25: quantile(xs, 0.25), q75: quantile(xs, 0.75) },
    );
  }
  return out;
}

/** The runs of one cell of a table: equal values of the grouping fields. */
export type Group<Cell, Result> = {
  /** The grouping fields' values. */
  key: { [K in keyof Cell]?: Cell[K] };
  runs: { cell: Cell; result: Result }[];
  results: Result[];
};

/**
 * Groups `results` by the values of `fields` of their cells, groups in order of first
 * appearance (the plan's grid order), runs in plan order within a group.
 */
export function groupRuns<Cell extends { [k: string]: unknown }, Result, K extends keyof Cell>(
  results: readonly { cell: Cell; result: Result }[],
  fields: readonly K[],
): Group<Cell, Result>[] {
  const groups = new Map<string, Group<Cell, Result>>();
  for (const r of results) {
    const values = fields.map((f) => r.cell[f] as JsonPrimitive);
    const id = JSON.stringify(values);
    let g = groups.get(id);
    if (g === undefined) {
      const key: { [P in keyof Cell]?: Cell[P] } = {};
      for (const f of fields) key[f] = r.cell[f];
      g = { key, runs: [], results: [] };
      groups.set(id, g);
    }
    g.runs.push(r);
    g.results.push(r.result);
  }
  return [...groups.values()];
}

/** One per-step series of {@link stepCurves}: the values of a run at each step. */
export type StepSeries<R> = {
  of: (result: R) => readonly (number | null)[];
  /**
   * Also the quartiles, as `<name>Q25`/`<name>Q75`; steps without a value are `null`.
   * Without a band a step without a value is NaN (a series measured at every step).
   */
  band?: boolean;
};

/**
 * Per-step curves of a group of runs: one point per step with the median over runs of every
 * series (rounded to 5 significant digits), and the quartiles of the banded ones.
 */
export function stepCurves<R>(
  results: readonly R[],
  series: Record<string, StepSeries<R>>,
): { step: number; [name: string]: number | null }[] {
  const columns = Object.entries(series).map(
    ([name, s]) => [name, s.band === true, quantilesPerStep(results.map(s.of))] as const,
  );
  let steps = 0;
  for (const [, , q] of columns) steps = Math.max(steps, q.length);
  const points: { step: number; [name: string]: number | null }[] = [];
  for (let step = 0; step < steps; step++) {
    const point: { step: number; [name: string]: number | null } = { step };
    for (const [name, band, q] of columns) {
      const v = q[step] ?? null;
      if (band) {
        point[name] = v === null ? null : roundSig(v.median);
        point[`${name}Q25`] = v === null ? null : roundSig(v.q25);
        point[`${name}Q75`] = v === null ? null : roundSig(v.q75);
      } else {
        point[name] = roundSig(v?.median ?? Number.NaN);
      }
    }
    points.push(point);
  }
  return points;
}

/**
 * Training loss above which (or a non-finite one) a run counts as diverged, in every
 * experiment: cross-entropy at chance is ln K ≈ 2.3 for ten classes, so 10 is far past any
 * training that still learns.
 */
export const DIVERGED_LOSS = 10;

/** Whether a (final training) loss means the run diverged: above {@link DIVERGED_LOSS} or not finite. */
export function diverged(loss: number): boolean {
  return !(loss <= DIVERGED_LOSS);
}

/**
 * The quantile of the theory (numpy's linear rule; ±∞ are ordinary values at the ends) with
 * NaNs left out — e.g. "never failed" onsets; NaN if nothing is left. The one quantile
 * definition every summary uses.
 */
export function quantileInf(values: readonly number[], q: number): number {
  const x = values.filter((v) => !Number.isNaN(v));
  return x.length === 0 ? Number.NaN : quantile(x, q);
}

/**
 * {@link quartiles} without the count: the shape the stored summaries of the one-step
 * experiments and calibration hold.
 */
export function quartilesInf(values: readonly number[]): {
  median: number;
  q25: number;
  q75: number;
} {
  const { median, q25, q75 } = quartiles(values);
  return { median, q25, q75 };
}

/** A median and its quartiles as the fields `name`, `nameQ25`, `nameQ75` of a summary row. */
export type QuartileFields<K extends string> = { [P in K | `${K}Q25` | `${K}Q75`]: number };

/**
 * `{name: median, nameQ25: q25, nameQ75: q75}` (in that order), the row fields of a median
 * with its quartiles; spread it into a row: `{...asFields("onset", quartilesInf(xs))}`.
 */
export function asFields<K extends string>(
  name: K,
  q: { median: number; q25: number; q75: number },
): QuartileFields<K> {
  return { [name]: q.median, [`${name}Q25`]: q.q25, [`${name}Q75`]: q.q75 } as QuartileFields<K>;
}
