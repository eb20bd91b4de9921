/**
 * The JSON codec and atomic file writes used for everything the runner stores.
 *
 * JSON has no Infinity or NaN, and `JSON.stringify` silently turns them into `null`. Radii
 * are often infinite and diverged losses NaN, so the codec writes them as the strings
 * `"Infinity"`, `"-Infinity"` and `"NaN"` (the convention of the `ghosts` CLI) and reads
 * those strings back as numbers. The runner passes every fresh result through
 * encode → decode before summarising, so a summary computed from fresh results equals one
 * computed from cached results bit for bit.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { rename, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { threadId } from "node:worker_threads";
import { fsReason, OutputError } from "./dirs.js";
import { ExperimentDefinitionError, type JsonValue } from "./types.js";

const NON_FINITE = new Map<string, number>([
  ["Infinity", Number.POSITIVE_INFINITY],
  ["-Infinity", Number.NEGATIVE_INFINITY],
  ["NaN", Number.NaN],
]);

function describeValue(v: unknown): string {
  if (v === undefined) return "undefined";
  if (typeof v === "object" && v !== null) return v.constructor?.name ?? "an object";
  return typeof v;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Checks `value` is plain JSON (typed arrays, Maps, class instances, bigints are not). */
function toJsonTree(value: unknown, path: string, what: string): unknown {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return value;
    return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
  }
  if (Array.isArray(value)) {
    return value.map((v, i) => toJsonTree(v, `${path}[${i}]`, what));
  }
  if (typeof value === "object" && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue; // an absent optional property
      out[k] = toJsonTree(v, `${path}.${k}`, what);
    }
    return out;
  }
  throw new ExperimentDefinitionError(
    `${what}: ${path} is ${describeValue(value)}, not JSON (use plain arrays and objects)`,
  );
}

/**
 * Serialises a JSON value (non-finite numbers as strings, see the module notes).
 *
 * @param what names the value in error messages, e.g. `"result of run mlp-s0"`.
 * @param indent passed to `JSON.stringify` (default 2).
 * @throws {ExperimentDefinitionError} naming the path of the first non-JSON part.
 */
export function encodeJson(value: unknown, what = "value", indent = 2): string {
  return JSON.stringify(toJsonTree(value, "$", what), null, indent);
}

/** Parses text written by {@link encodeJson}, turning `"Infinity"`, `"-Infinity"`, `"NaN"` back into numbers. */
export function decodeJson(text: string): JsonValue {
  return JSON.parse(text, (_key, v) =>
    typeof v === "string" && NON_FINITE.has(v) ? NON_FINITE.get(v) : v,
  ) as JsonValue;
}

/** The value as it will read back from disk: `decodeJson(encodeJson(value))`. */
export function normalizeJson<T extends JsonValue>(value: T, what = "value"): T {
  return decodeJson(encodeJson(value, what, 0)) as T;
}

/**
 * Deep equality of JSON values; object key order does not matter, NaN equals NaN and
 * −0 equals +0.
 */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (typeof a === "number" && typeof b === "number") {
    return a === b || (Number.isNaN(a) && Number.isNaN(b));
  }
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]));
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
}

/** Prefix of the temporary files of {@link writeFileAtomic} (hidden, in the target's folder). */
export const TEMP_PREFIX = ".tmp-";

/**
 * Writes `text` to `path` atomically: to a temporary file in the same folder, then renamed
 * over `path` (a rename within one file system is atomic), so a reader — or a rerun after
 * an interruption — sees either the old file or the complete new one, never a torn write.
 *
 * @throws {OutputError} naming the path and the reason (full disk, no permission, a
 *   directory in the way).
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temp = join(
    dirname(path),
    `${TEMP_PREFIX}${basename(path)}.${process.pid}.${threadId}.${randomBytes(4).toString("hex")}`,
  );
  try {
    await writeFile(temp, text, "utf8");
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw new OutputError(`cannot write ${path}: ${fsReason(err)}`);
  }
}
