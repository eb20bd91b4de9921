/**
 * The LR-spike step on its own: one `train()` run of the protocol's configuration (mlp-relu,
 * Adam, batch 64, ×1000 spike, ρ-clip with r_max 1, ρ_a over the whole training split and the
 * test accuracy every step) on digits, timed per step. Prints the median and quartiles of the
 * per-step wall time and of the per-step CPU time of this process (user + system; steadier
 * than wall time on a shared machine), warm-up steps dropped, as one JSON line, for
 * before/after comparisons:
 *
 *     nice -n 10 npx tsx bench/step.ts [--steps 200] [--lr 1e-3] [--method rho-clip|plain]
 */
import { parseArgs } from "node:util";
import { buildModel } from "../src/models/registry.js";
import { train } from "../src/train/train.js";
import { digitsSplit } from "./lib/data.js";

const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "200" },
    lr: { type: "string", default: "1e-3" },
    method: { type: "string", default: "rho-clip" },
    warmup: { type: "string", default: "5" },
    seed: { type: "string", default: "0" },
  },
});
const steps = Number(values.steps);
const warmup = Number(values.warmup);
const data = digitsSplit();
const model = buildModel("mlp-relu", { inputDim: data.train.d, numClasses: data.train.numClasses });
const stamps: number[] = [];
const cpu: number[] = [];
const t0 = performance.now();
const result = await train({
  model,
  data,
  optimizer: {
    name: "adam",
    learningRate: Number(values.lr),
    spike: { multiplier: 1000, at: Math.floor(steps / 4) },
  },
  controller: values.method === "rho-clip" ? { name: "rho-clip", rMax: 1 } : { name: "none" },
  steps,
  batchSize: 64,
  evalEvery: 1,
  seed: Number(values.seed),
  probe: { sampleSet: "train", aggregate: "max", method: "jvp", every: 1 },
  onStep: () => {
    stamps.push(performance.now());
    const u = process.cpuUsage();
    cpu.push((u.user + u.system) / 1000);
  },
});
const total = performance.now() - t0;
const diffs = (xs: number[]) => {
  const out: number[] = [];
  for (let i = warmup + 1; i < xs.length; i++) out.push(xs[i]! - xs[i - 1]!);
  return out.sort((a, b) => a - b);
};
const ms = diffs(stamps);
const cpuMs = diffs(cpu);
const q = (f: number, xs = ms) => xs[Math.min(xs.length - 1, Math.floor(f * xs.length))]!;
const finalLoss = result.history[result.history.length - 1]?.loss;
console.log(
  JSON.stringify({
    steps,
    medianMs: q(0.5),
    q1Ms: q(0.25),
    q3Ms: q(0.75),
    cpuMedianMs: q(0.5, cpuMs),
    cpuQ1Ms: q(0.25, cpuMs),
    cpuQ3Ms: q(0.75, cpuMs),
    totalMs: total,
    finalLoss,
  }),
);
