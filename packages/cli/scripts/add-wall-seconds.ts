/**
 * One-off migration: adds `wallSeconds` (see `SummaryMeta`) to `summary.json` files written
 * before it was recorded, from the run files beside them, changing nothing else. A file
 * whose text the codec would not write back byte for byte is left alone and named.
 *
 *     npx tsx packages/cli/scripts/add-wall-seconds.ts docs/results
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeJson, encodeJson } from "../src/experiments/framework/json.js";
import { runRecordSchema } from "../src/experiments/framework/run-file.js";
import { runsWallSeconds } from "../src/experiments/framework/summary.js";

const out = process.argv[2];
if (out === undefined) {
  process.stderr.write("usage: add-wall-seconds.ts RESULTS_DIR\n");
  process.exit(2);
}
for (const entry of (await readdir(out, { withFileTypes: true })).filter((e) => e.isDirectory())) {
  const dir = join(out, entry.name);
  const path = join(dir, "summary.json");
  const text = await readFile(path, "utf8").catch(() => null);
  if (text === null) continue;
  const summary = decodeJson(text) as Record<string, unknown>;
  if (`${encodeJson(summary)}` !== text.replace(/\n$/, "")) {
    process.stderr.write(`${path}: not in the codec's own format, left alone\n`);
    continue;
  }
  if ("wallSeconds" in summary) continue;
  const runs = [];
  for (const name of (await readdir(join(dir, "runs"))).filter((n) => n.endsWith(".json"))) {
    const rec = runRecordSchema.safeParse(
      decodeJson(await readFile(join(dir, "runs", name), "utf8")),
    );
    if (rec.success) runs.push(rec.data);
  }
  if (runs.length !== summary.runs) {
    process.stderr.write(
      `${path}: ${runs.length} run files for ${summary.runs} runs, left alone\n`,
    );
    continue;
  }
  const migrated: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(summary)) {
    migrated[k] = v;
    if (k === "computeSeconds") migrated.wallSeconds = runsWallSeconds(runs);
  }
  await writeFile(path, text.endsWith("\n") ? `${encodeJson(migrated)}\n` : encodeJson(migrated));
  process.stdout.write(`${path}: wallSeconds ${migrated.wallSeconds}\n`);
}
