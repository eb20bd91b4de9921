/**
 * Small statistics and row-building helpers for the cases. Medians and quartiles come from
 * the library's own `summarise` (numpy's linear interpolation).
 */
import { type Summary5, summarise } from "../../packages/cli/src/report/stats.js";
import type { BenchRow, Comparison } from "./types.js";

export type { Summary5 };

/** Summary of the finite values of `xs` (a NaN-only sample gives NaNs, n = 0). */
export function summary(xs: readonly number[]): Summary5 {
  const finite = xs.filter((x) => Number.isFinite(x));
  if (finite.length === 0) {
    return { median: Number.NaN, q25: Number.NaN, q75: Number.NaN, min: NaN, max: NaN, n: 0 };
  }
  return summarise(finite);
}

/** Median of the finite values of `xs` (NaN when none). */
export function medianOf(xs: readonly number[]): number {
  return summary(xs).median;
}

/**
 * A time row: `ms` are per-unit times in milliseconds; GFLOP/s and the fraction of the
 * matmul peak are derived from `flops` when given.
 */
export function timeRow(
  name: string,
  params: BenchRow["params"],
  metric: string,
  ms: readonly number[],
  work: { flops?: number; bytes?: number; peakGflops: number | null },
  extra?: BenchRow["extra"],
): BenchRow {
  const stat = summary(ms);
  const row: BenchRow = { name, params, metric, stat };
  if (work.flops !== undefined) {
    row.flops = work.flops;
    const seconds = metric.startsWith("s/") ? stat.median : stat.median / 1000;
    row.gflops = work.flops / seconds / 1e9;
    if (work.peakGflops !== null && work.peakGflops > 0) {
      row.peakFraction = row.gflops / work.peakGflops;
    }
  }
  if (work.bytes !== undefined) row.bytes = work.bytes;
  if (extra !== undefined) row.extra = extra;
  return row;
}

/** A comparison from per-repeat ratios, checked against `target` (`>=`/`<=` a bound). */
export function comparison(
  name: string,
  ratios: readonly number[],
  definition: string,
  target?: { op: ">=" | "<="; bound: number; text?: string },
): Comparison {
  const stat = summary(ratios);
  const c: Comparison = { name, stat, definition };
  if (target !== undefined) {
    c.target = target.text ?? `${target.op === ">=" ? "≥" : "≤"} ${target.bound}`;
    c.pass = target.op === ">=" ? stat.median >= target.bound : stat.median <= target.bound;
  }
  return c;
}

/** Repeats a synchronous call: `warmup` untimed calls, then `n` timed ones (ms each). */
export function timeCalls(fn: () => void, warmup: number, n: number): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return out;
}
