/**
 * A slow, deterministic fake experiment for the kill tests: each run busy-waits a few tens
 * of milliseconds (so a SIGKILL lands in the middle of runs and of cache writes) and
 * returns a value computed from its spec alone. Importing this module registers it, so
 * worker threads find it when it is passed as `workerImports`.
 */
import { z } from "zod";
import { defineExperiment } from "../../packages/cli/src/experiments/framework/index.js";
import { registerExperiment } from "../../packages/cli/src/experiments/registry.js";

type SlowRun = { seed: number; part: number };
type SlowResult = { value: number; checksum: string };

export const slowSum = defineExperiment<SlowRun, SlowResult, { total: number; values: number[] }>({
  id: "fake-slow",
  title: "Slow fake for kill tests",
  claim: "none",
  plan: () => {
    const runs: SlowRun[] = [];
    for (let part = 0; part < 8; part++) for (const seed of [0, 1]) runs.push({ seed, part });
    return { config: { seeds: [0, 1], parts: 8 }, runs };
  },
  runKey: (r) => `p${r.part}-s${r.seed}`,
  resultSchema: z.object({ value: z.number(), checksum: z.string() }),
  async execute(run) {
    const until = performance.now() + 150 + 20 * run.part;
    while (performance.now() < until) {
      // busy: the process is killed while computing, not only while idle
    }
    const value = run.part * 10 + run.seed + 0.125;
    // a large result makes the cache write long enough to be hit by a kill
    return { value, checksum: String(value).repeat(20_000) };
  },
  summarize: (_config, results) => ({
    total: results.reduce((s, r) => s + r.result.value, 0),
    values: results.map((r) => r.result.value),
  }),
  figures: () => [],
  report: (s) => ({ tables: [], verdict: { reproduced: "n/a", sentence: `total ${s.total}` } }),
});

registerExperiment(slowSum);
