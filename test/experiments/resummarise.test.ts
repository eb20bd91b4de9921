/**
 * The committed full-scale results stay valid: for every experiment, the full plan of today's
 * definition finds each of its runs under `docs/results/<id>/runs/` (same key, same run spec,
 * a result its schema accepts), and summarising those results reproduces the committed
 * `summary.json` — every field but the framework's metadata and the experiment's own timing
 * fields (wall-clock figures differ between machines and runs).
 *
 * This is what lets the experiments be rewritten without recomputing anything.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  decodeJson,
  type JsonObject,
  type JsonValue,
  normalizeJson,
  SUMMARY_META_KEYS,
} from "../../packages/cli/src/experiments/framework/index.js";
import { checkRunFile } from "../../packages/cli/src/experiments/framework/run-file.js";
import { EXPERIMENTS } from "../../packages/cli/src/experiments/registry.js";

const RESULTS = join(import.meta.dirname, "..", "..", "docs", "results");

/**
 * Summary fields that are wall-clock measurements (per experiment, as paths: `a.b` drops
 * key `b` of the object — or of every element of the array — under `a`).
 */
const TIMING_FIELDS: Record<string, readonly string[]> = {
  "arch-grid": ["timing"],
  aggregation: [
    "plainMsPerStep",
    "table.baseMsPerStep",
    "table.msPerStep",
    "table.overheadPctWall",
    "table.radiusMsPerStep",
  ],
  baselines: ["table.msPerStep"],
  calibration: ["controllers.medianStepMs"],
  "natural-instability": ["table.medianMsPerStep"],
};

function dropPath(value: JsonValue, path: readonly string[]): JsonValue {
  if (path.length === 0 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => dropPath(v, path));
  const [head, ...rest] = path;
  const out: JsonObject = { ...value };
  if (rest.length === 0) delete out[head];
  else if (head in out) out[head] = dropPath(out[head], rest);
  return out;
}

function comparable(id: string, summary: JsonObject): JsonValue {
  let out: JsonValue = { ...summary };
  for (const k of SUMMARY_META_KEYS) delete (out as JsonObject)[k];
  for (const p of TIMING_FIELDS[id] ?? []) out = dropPath(out, p.split("."));
  return normalizeJson(out, `${id} summary`);
}

describe("re-summarising the committed full-scale runs", () => {
  for (const def of Object.values(EXPERIMENTS)) {
    it(`${def.id} reproduces docs/results/${def.id}/summary.json`, () => {
      const dir = join(RESULTS, def.id);
      const committed = decodeJson(readFileSync(join(dir, "summary.json"), "utf8")) as JsonObject;
      const data = (committed.data as JsonObject | undefined) ?? { kind: "digits" };
      const plan = def.plan({ quick: false, data: { kind: "digits" } });
      const config = normalizeJson(plan.config, "config");
      const results = plan.runs.map((r) => {
        const run = normalizeJson(r, "run") as JsonObject;
        const key = def.runKey(run);
        const text = readFileSync(join(dir, "runs", `${key}.json`), "utf8");
        const checked = checkRunFile(
          text,
          { experiment: def.id, key, run, data: data as JsonObject },
          def.resultSchema,
        );
        if ("invalid" in checked) throw new Error(`${def.id}/${key}: ${checked.invalid}`);
        return { run, result: checked.result };
      });
      const summary = normalizeJson(def.summarize(config, results), "summary") as JsonObject;
      expect(comparable(def.id, summary)).toEqual(comparable(def.id, committed));
    });
  }
});
