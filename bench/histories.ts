/**
 * Seeded training runs of seven configurations (every architecture family, every optimizer
 * direction, every controller, JVP and FD probes), each hashed over its history (wall times
 * left out), final test metrics, parameters and state: run it on two commits and diff the
 * output to check that a refactoring kept every number bit-identical.
 *
 *     nice -n 10 npx tsx bench/histories.ts
 */
import { createHash } from "node:crypto";
import { flattenToHost } from "../src/engine/tree.js";
import { buildModel, type ModelName } from "../src/models/registry.js";
import type { ControllerSpec, OptimizerSpec } from "../src/optim/spec.js";
import { type ProbeOptions, train } from "../src/train/train.js";
import { digitsSplit } from "./lib/data.js";

const data = digitsSplit();
const cfg = { inputDim: data.train.d, numClasses: data.train.numClasses };
const runs: [string, ModelName, OptimizerSpec, ControllerSpec, number, ProbeOptions][] = [
  [
    "mlp-relu adam spike rho-clip",
    "mlp-relu",
    { name: "adam", learningRate: 1e-2, spike: { multiplier: 1000, at: 10 } },
    { name: "rho-clip", rMax: 1 },
    30,
    { sampleSet: "train", aggregate: "max", method: "jvp", every: 1 },
  ],
  [
    "mlp adamw grad-clip",
    "mlp",
    { name: "adamw", learningRate: 1e-3 },
    { name: "grad-clip", maxNorm: 1 },
    20,
    { every: 0 },
  ],
  [
    "cnn-bn momentum rho-set",
    "cnn-bn",
    { name: "momentum", learningRate: 1e-2 },
    { name: "rho-set", rTarget: 0.5 },
    12,
    { sampleSet: "batch", method: "jvp", every: 1 },
  ],
  [
    "transformer nesterov all-radii clip",
    "transformer",
    { name: "nesterov", learningRate: 1e-2 },
    { name: "all-radii", mode: "clip", rMax: 1 },
    6,
    { sampleSet: "batch", method: "jvp", every: 1 },
  ],
  [
    "transformer adam all-radii set fd",
    "transformer",
    { name: "adam", learningRate: 1e-3 },
    { name: "all-radii", mode: "set", rTarget: 0.5 },
    5,
    { sampleSet: "batch", method: "fd", every: 1 },
  ],
  [
    "resnet-small sgd",
    "resnet-small",
    { name: "sgd", learningRate: 1e-2 },
    { name: "none" },
    3,
    { every: 0 },
  ],
  [
    "cnn sgd plain",
    "cnn",
    { name: "sgd", learningRate: 5e-2 },
    { name: "none" },
    8,
    { sampleSet: "batch", method: "fd", every: 2 },
  ],
];
const out: Record<string, string> = {};
for (const [label, arch, optimizer, controller, steps, probe] of runs) {
  const model = buildModel(arch, cfg);
  const r = await train({
    model,
    data,
    optimizer,
    controller,
    steps,
    batchSize: 64,
    evalEvery: 2,
    seed: 3,
    probe,
  });
  const h = createHash("sha256")
    .update(
      JSON.stringify([
        r.history.map(({ wallMs, ...rest }) => rest),
        r.finalTestAccuracy,
        r.finalTestLoss,
        Array.from(flattenToHost(r.params)),
        Array.from(flattenToHost(r.state)),
      ]),
    )
    .digest("hex");
  r.release();
  out[label] = h.slice(0, 16);
  console.log(label, out[label], r.history.at(-1)?.loss);
}
