/**
 * The committed full-scale results stay valid: for every experiment, every run file under
 * `docs/results/<id>/runs/` is one the full plan of today's definition asks for (same key,
 * same run spec, a result its schema accepts), and summarising those results reproduces the
 * committed `summary.json` — every field but the framework's metadata and the experiment's
 * own timing fields (wall-clock figures differ between machines and runs). Planned runs not
 * committed yet (an arm still being computed) are left out of that summary, as the runner's
 * `partial` summary leaves them out.
 *
 * This is what lets the experiments be rewritten without recomputing anything.
 */
import { readdirSync, readFileSync } from "node:fs";
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
      // An arm still being computed has only some of its runs committed: the summary covers
      // the runs present (written with the runner's `partial`), and every committed run file
      // must still be one the plan asks for.
      const planned = plan.runs.map((r) => normalizeJson(r, "run") as JsonObject);
      const files = new Set(readdirSync(join(dir, "runs")).filter((f) => f.endsWith(".json")));
      const orphans = [...files].filter((f) => !planned.some((r) => `${def.runKey(r)}.json` === f));
      expect(orphans, `${def.id}: committed runs the plan no longer has`).toEqual([]);
      const present = planned.filter((r) => files.has(`${def.runKey(r)}.json`));
      const missing = planned.length - present.length;
      if (missing > 0) expect(committed.runs, `${def.id}: a partial summary`).toBe(planned.length);
      const results = present.map((run) => {
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
