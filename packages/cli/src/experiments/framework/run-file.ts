/**
 * Validation of the run files in the cache (`<out>/<id>/runs/<key>.json`) on read: a file
 * is reused only when its envelope has the right shape (zod schema), its numbers are finite
 * and in range, it was written for the planned run and data, and its result passes the
 * experiment's own {@link ExperimentDefinition.resultSchema}. Anything else is a reason to
 * recompute the run, reported to the user — a cache that cannot lie.
 *
 * @module
 */
import { z } from "zod";
import { decodeJson, jsonEqual } from "./json.js";
import type { JsonObject, JsonValue } from "./types.js";

/** A stored run file: the run spec and data it was computed for, and its result. */
export type RunRecord = {
  experiment: string;
  key: string;
  run: JsonObject;
  data: JsonObject;
  /** Execution time of the run, finite and ≥ 0. */
  seconds: number;
  /** ISO 8601 time the run finished. */
  finishedAt: string;
  result: JsonValue;
};

const jsonObject = z.record(z.string(), z.unknown());

/** The envelope every run file has, whatever the experiment (zod rejects NaN and ±Infinity). */
export const runRecordSchema = z.object({
  experiment: z.string().min(1),
  key: z.string().min(1),
  run: jsonObject,
  data: jsonObject,
  seconds: z.number().nonnegative(),
  finishedAt: z.iso.datetime({ offset: true }),
  result: z.unknown().refine((v) => v !== undefined, { message: "is required" }),
});

/** The first problem zod found, as `path: message`. */
export function firstIssue(error: z.ZodError): string {
  return describeIssue(error.issues[0], []);
}

/**
 * One issue as `path: message`. A result that matches no branch of a union (e.g. a run kind
 * or an analysis) is described by the branch it came closest to (fewest issues), so the
 * message still names the field that is wrong rather than "Invalid input".
 */
function describeIssue(issue: z.core.$ZodIssue, prefix: PropertyKey[]): string {
  const at = [...prefix, ...issue.path];
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0]!;
    if (closest.length > 0) return describeIssue(closest[0]!, at);
  }
  const path = at.map(String).join(".");
  return path === "" ? issue.message : `${path}: ${issue.message}`;
}

/** What a run file must have been written for. */
export type ExpectedRun = {
  experiment: string;
  key: string;
  run: JsonObject;
  data: JsonObject;
};

/**
 * Checks the text of a run file against the plan; returns the result or why the file
 * cannot be used.
 */
export function checkRunFile(
  text: string,
  expected: ExpectedRun,
  resultSchema?: z.ZodType,
): { result: JsonValue; seconds: number; finishedAt: string } | { invalid: string } {
  let value: unknown;
  try {
    value = decodeJson(text);
  } catch {
    return { invalid: "not valid JSON (a torn or edited file)" };
  }
  const env = runRecordSchema.safeParse(value);
  if (!env.success) return { invalid: `not a valid run file (${firstIssue(env.error)})` };
  const rec = env.data;
  if (rec.experiment !== expected.experiment || rec.key !== expected.key) {
    return { invalid: "written for another run" };
  }
  if (!jsonEqual(rec.run as JsonObject, expected.run)) return { invalid: "run spec changed" };
  if (!jsonEqual(rec.data as JsonObject, expected.data)) return { invalid: "data changed" };
  if (resultSchema !== undefined) {
    const res = resultSchema.safeParse(rec.result);
    if (!res.success) return { invalid: `invalid result (${firstIssue(res.error)})` };
  }
  return { result: rec.result as JsonValue, seconds: rec.seconds, finishedAt: rec.finishedAt };
}
