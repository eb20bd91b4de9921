/**
 * The `summary.json` file of an experiment: the framework's metadata with the experiment's
 * own summary spread beside it, and the run files under `runs/`.
 *
 * @module
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { decodeJson } from "./json.js";
import { firstIssue } from "./run-file.js";
import { count, nonNegative } from "./schemas.js";
import type { DataSpec, JsonObject, JsonValue } from "./types.js";

/** The framework's fields of `summary.json`; an experiment's summary must not use these keys. */
export type SummaryMeta = {
  /** The experiment id. */
  experiment: string;
  title: string;
  /** The package version that wrote the file. */
  version: string;
  /** The plan's `config`. */
  config: JsonObject;
  /** The seeds used (`config.seeds`, else the `--seeds` given, else null). */
  seeds: number[] | null;
  data: DataSpec;
  quick: boolean;
  /** Number of runs in the plan. */
  runs: number;
  /** How many of them were computed by this invocation (the others came from the cache). */
  computedRuns: number;
  /** Wall-clock seconds of the invocation that wrote the file. */
  durationSeconds: number;
  /**
   * Sum of the execution seconds of all runs, cached ones included: with `--jobs N` up to N
   * times the elapsed time.
   */
  computeSeconds: number;
  /**
   * Elapsed seconds during which at least one run of the plan was executing, over every
   * invocation that computed them ({@link runsWallSeconds}); absent in files written before
   * it was recorded.
   */
  wallSeconds?: number;
  /** ISO 8601 time the file was written. */
  generatedAt: string;
};

/** The keys of {@link SummaryMeta}. */
export const SUMMARY_META_KEYS: readonly (keyof SummaryMeta)[] = [
  "experiment",
  "title",
  "version",
  "config",
  "seeds",
  "data",
  "quick",
  "runs",
  "computedRuns",
  "durationSeconds",
  "computeSeconds",
  "wallSeconds",
  "generatedAt",
];

/** The keys of {@link SummaryMeta} that depend on timing or on what was cached. */
export const SUMMARY_TIMING_KEYS: readonly (keyof SummaryMeta)[] = [
  "computedRuns",
  "durationSeconds",
  "computeSeconds",
  "wallSeconds",
  "generatedAt",
];

/**
 * The wall time of a set of runs: the length of the union of their intervals
 * `[finishedAt − seconds, finishedAt]`, so runs in parallel threads count once and the idle
 * time between two invocations (an interrupted grid resumed later) not at all. Unreadable
 * times are left out.
 */
export function runsWallSeconds(runs: readonly { seconds: number; finishedAt: string }[]): number {
  const spans = runs
    .map((r) => {
      const end = Date.parse(r.finishedAt) / 1000;
      return [end - r.seconds, end] as const;
    })
    .filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b))
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let from = Number.NEGATIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const [a, b] of spans) {
    if (a > to) {
      if (to > from) total += to - from;
      from = a;
      to = b;
    } else to = Math.max(to, b);
  }
  if (to > from) total += to - from;
  return total;
}

/** Contents of `summary.json`: metadata plus the experiment's summary `S`. */
export type SummaryFile<S extends JsonObject = JsonObject> = SummaryMeta & S;

/** Splits a summary file into the framework's metadata and the experiment's summary. */
export function splitSummaryFile<S extends JsonObject = JsonObject>(
  file: SummaryFile<S>,
): { meta: SummaryMeta; summary: S } {
  const meta: Record<string, unknown> = {};
  const summary: Record<string, unknown> = {};
  const metaKeys = new Set<string>(SUMMARY_META_KEYS);
  for (const [k, v] of Object.entries(file)) (metaKeys.has(k) ? meta : summary)[k] = v;
  return { meta: meta as SummaryMeta, summary: summary as S };
}

/** The data spec as stored (see {@link DataSpec}). */
const dataSpecSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("digits") }),
  z.object({
    kind: z.literal("csv"),
    path: z.string(),
    standardize: z.boolean(),
    labelColumn: z.number().int().optional(),
    delimiter: z.string().optional(),
  }),
  z.object({ kind: z.literal("cifar10"), dir: z.string() }),
]);

/** Shape and ranges of the framework's fields of `summary.json` ({@link SummaryMeta}). */
export const summaryMetaSchema = z.object({
  experiment: z.string().min(1),
  title: z.string(),
  version: z.string(),
  config: z.record(z.string(), z.unknown()),
  seeds: z.array(z.number()).nullable(),
  data: dataSpecSchema,
  quick: z.boolean(),
  runs: count,
  computedRuns: count,
  durationSeconds: nonNegative,
  computeSeconds: nonNegative,
  wallSeconds: nonNegative.optional(),
  generatedAt: z.string(),
});

/** Checks decoded `summary.json` contents; the summary, or why it is not one. */
export function checkSummaryFile(
  value: JsonValue,
): { file: SummaryFile; invalid?: undefined } | { invalid: string } {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { invalid: "not a JSON object" };
  }
  const meta = summaryMetaSchema.safeParse(value);
  if (!meta.success) return { invalid: firstIssue(meta.error) };
  return { file: value as SummaryFile };
}

/**
 * Reads and decodes `<dir>/summary.json`; `null` when absent or not a valid summary (then
 * `onInvalid` gets the reason).
 */
export async function readSummaryFile(
  dir: string,
  onInvalid?: (path: string, reason: string) => void,
): Promise<SummaryFile | null> {
  const path = join(dir, "summary.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") onInvalid?.(path, "unreadable");
    return null;
  }
  let value: JsonValue;
  try {
    value = decodeJson(text);
  } catch {
    onInvalid?.(path, "not valid JSON");
    return null;
  }
  const checked = checkSummaryFile(value);
  if (checked.invalid !== undefined) {
    onInvalid?.(path, checked.invalid);
    return null;
  }
  return checked.file;
}

/**
 * Every valid `<out>/*\/summary.json` present, keyed by the experiment id of the folder;
 * `onInvalid` hears of each one skipped and why.
 */
export async function readAllSummaries(
  out: string,
  onInvalid?: (path: string, reason: string) => void,
): Promise<Map<string, SummaryFile>> {
  const found = new Map<string, SummaryFile>();
  let entries: string[];
  try {
    entries = (await readdir(out, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return found;
  }
  for (const name of entries) {
    const file = await readSummaryFile(join(out, name), onInvalid);
    if (file === null) continue;
    if (file.experiment === name) found.set(name, file);
    else
      onInvalid?.(join(out, name, "summary.json"), `written for experiment "${file.experiment}"`);
  }
  return found;
}
