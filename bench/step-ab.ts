/**
 * Before/after step time in one process: the LR-spike step of `bench/step.ts`, run alternately
 * from two source trees (this one and `--base DIR`, e.g. a `git worktree` of an older commit
 * sharing this node_modules), so both see the same process, heap and jax-js kernel cache.
 * Prints, per round, the median per-step wall time of each tree, and the median ratio:
 *
 *     npx tsx bench/step-ab.ts --base /tmp/base [--steps 300] [--rounds 8]
 */

import { resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    base: { type: "string" },
    steps: { type: "string", default: "300" },
    rounds: { type: "string", default: "8" },
    warmup: { type: "string", default: "5" },
  },
});
if (values.base === undefined) {
  console.error("step-ab: --base DIR (a source tree with src/ and bench/lib/) is required");
  process.exit(2);
}
const steps = Number(values.steps);
const warmup = Number(values.warmup);
const trees = { base: resolve(values.base), new: resolve(import.meta.dirname, "..") };

// biome-ignore lint/suspicious/noExplicitAny: two versions of the API, loaded at run time
type Loose = any;
async function loadTree(root: string): Promise<(seed: number) => Promise<number[]>> {
  const { buildModel } = (await import(`${root}/src/models/registry.ts`)) as Loose;
  const { train } = (await import(`${root}/src/train/train.ts`)) as Loose;
  const { digitsSplit } = (await import(`${root}/bench/lib/data.ts`)) as Loose;
  const data = digitsSplit();
  return async (seed) => {
    const model = buildModel("mlp-relu", {
      inputDim: data.train.d,
      numClasses: data.train.numClasses,
    });
    const stamps: number[] = [];
    const result = await train({
      model,
      data,
      optimizer: {
        name: "adam",
        learningRate: 1e-3,
        spike: { multiplier: 1000, at: Math.floor(steps / 4) },
      },
      controller: { name: "rho-clip", rMax: 1 },
      steps,
      batchSize: 64,
      evalEvery: 1,
      seed,
      probe: { sampleSet: "train", aggregate: "max", method: "jvp", every: 1 },
      onStep: () => stamps.push(performance.now()),
    });
    result.release?.();
    const out: number[] = [];
    for (let i = warmup + 1; i < stamps.length; i++) out.push(stamps[i]! - stamps[i - 1]!);
    return out.sort((a, b) => a - b);
  };
}
const median = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;
const run = { base: await loadTree(trees.base), new: await loadTree(trees.new) };
const ratios: number[] = [];
for (let round = 0; round < Number(values.rounds); round++) {
  // Alternate which tree goes first, so warm-up and drift do not favour one side.
  const order = round % 2 === 0 ? (["base", "new"] as const) : (["new", "base"] as const);
  const med: Record<string, number> = {};
  for (const which of order) med[which] = median(await run[which](0));
  ratios.push(med.new! / med.base!);
  console.log(
    JSON.stringify({ round, baseMs: med.base, newMs: med.new, ratio: med.new! / med.base! }),
  );
}
console.log(
  JSON.stringify({ medianRatio: median([...ratios].sort((a, b) => a - b)), rounds: ratios.length }),
);
