/**
 * Child process of `runExperimentChild` (experiment.ts): runs one experiment invocation
 * with `runExperiment` and writes a {@link ChildResult} as JSON.
 *
 *     node --import tsx bench/lib/experiment-child.ts '<ChildRequest JSON>' <work dir> <out file>
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as ArchGridModule from "../../packages/cli/src/experiments/arch-grid.js";
import type * as JsonModule from "../../packages/cli/src/experiments/framework/json.js";
import type * as RunnerModule from "../../packages/cli/src/experiments/framework/runner.js";
import type { JsonObject, JsonValue } from "../../packages/cli/src/experiments/framework/types.js";
import type * as LrSpikeModule from "../../packages/cli/src/experiments/lr-spike.js";
import { type ChildRequest, type ChildResult, withoutTimings } from "./experiment.js";

async function load<T>(dist: string | null, rel: string): Promise<T> {
  const url =
    dist === null
      ? new URL(`../../packages/cli/src/${rel}.ts`, import.meta.url).href
      : pathToFileURL(join(dist, `${rel}.js`)).href;
  return (await import(url)) as T;
}

async function main(): Promise<void> {
  const [requestText, workDir, outFile] = process.argv.slice(2);
  if (requestText === undefined || workDir === undefined || outFile === undefined) {
    throw new Error("usage: experiment-child.ts <request JSON> <work dir> <out file>");
  }
  const req = JSON.parse(requestText) as ChildRequest;
  const runner = await load<typeof RunnerModule>(req.dist, "experiments/framework/runner");
  const json = await load<typeof JsonModule>(req.dist, "experiments/framework/json");
  // Worker threads look experiments up in the registry: load it from the same build.
  await load<unknown>(req.dist, "experiments/registry");

  let def: Parameters<typeof runner.runExperiment>[0];
  if (req.experiment === "lr-spike") {
    const { lrSpike } = await load<typeof LrSpikeModule>(req.dist, "experiments/lr-spike");
    const p = req.sizes;
    def = lrSpike.withSettings({
      seeds: p.seeds,
      baseLr: p.lrs,
      steps: p.steps,
      spikeAt: p.spikeAt,
    }) as unknown as typeof def;
  } else {
    const { archGrid } = await load<typeof ArchGridModule>(req.dist, "experiments/arch-grid");
    def = archGrid.withSettings(req.settings, undefined, { arms: [] }) as unknown as typeof def;
  }

  let lastDone = Number.NaN;
  let runs = 0;
  const t0 = performance.now();
  const outcome = await runner.runExperiment(def, {
    out: workDir,
    jobs: req.jobs,
    onEvent: (e) => {
      if (e.type !== "run-done") return;
      lastDone = performance.now();
      runs = e.done;
      if (e.done === e.toRun || e.done % 10 === 0) {
        console.log(`${req.experiment} --jobs ${req.jobs}: ${e.done}/${e.toRun} runs`);
      }
    },
  });
  const t1 = performance.now();
  const results: Record<string, JsonValue> = {};
  const runsDir = join(outcome.dir, "runs");
  for (const f of await readdir(runsDir)) {
    if (!f.endsWith(".json")) continue;
    const rec = json.decodeJson(await readFile(join(runsDir, f), "utf8")) as JsonObject;
    results[String(rec.key)] = withoutTimings(rec.result ?? null);
  }
  const out: ChildResult = {
    runSeconds: ((Number.isNaN(lastDone) ? t1 : lastDone) - t0) / 1000,
    totalSeconds: (t1 - t0) / 1000,
    runs,
    results,
    summary: outcome.summary,
    implementation: req.dist === null ? "src" : "dist",
  };
  // the framework's codec keeps NaN/Infinity, which plain JSON cannot
  await writeFile(outFile, json.encodeJson(out as unknown as JsonValue, "bench child result"));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
