/**
 * A fake experiment that "trains" by initialising a small model and hands the weights to
 * `ctx.saveWeights`, for the `--save DIR` plumbing (in this thread and in worker threads).
 */

import { defineExperiment } from "../../packages/cli/src/experiments/framework/index.js";
import { registerExperiment } from "../../packages/cli/src/experiments/registry.js";
import { disposeTree } from "../../src/engine/tree.js";
import { buildModel } from "../../src/models/index.js";

export const fakeWeights = defineExperiment<{ seed: number }, number, { n: number }>({
  id: "fake-weights",
  title: "Fake weights",
  claim: "Runs save their weights.",
  plan: (opts) => ({ config: {}, runs: (opts.seeds ?? [0, 1, 2]).map((seed) => ({ seed })) }),
  runKey: (run) => `s${run.seed}`,
  async execute(run, ctx) {
    const model = buildModel("cnn-bn", { inputDim: 64, numClasses: 10 });
    const weights = model.init(run.seed);
    await ctx.saveWeights?.(weights);
    disposeTree(weights.params);
    disposeTree(weights.state);
    return run.seed;
  },
  summarize: (_config, results) => ({ n: results.length }),
  figures: () => [],
  report: (summary) => ({
    tables: [{ title: "Runs", columns: ["n"], rows: [[summary.n]] }],
    verdict: { reproduced: "n/a", sentence: "Nothing to reproduce." },
  }),
});
registerExperiment(fakeWeights);
