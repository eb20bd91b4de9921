/**
 * The LR-spike protocol's optimizer update alone — `jitChain(adam + spiked learning rate,
 * ρ-clip)` through the borrowing entry points `train()` uses — on mlp-relu's parameters with
 * fixed gradients and a constant radius: median CPU ms per update (warm-up dropped).
 *
 *     nice -n 10 npx tsx bench/optimizer-step.ts [updates=400]
 */

import { initEngine } from "../src/engine/runtime.js";
import { disposeTree, treeScale } from "../src/engine/tree.js";
import { buildModel } from "../src/models/registry.js";
import { applyBorrowed, initBorrowed, updateBorrowed } from "../src/optim/combine.js";
import { jitChain } from "../src/optim/fuse.js";
import { buildOptimizer } from "../src/optim/spec.js";

await initEngine();
const model = buildModel("mlp-relu", { inputDim: 64, numClasses: 10 });
let { params } = model.init(0);
const built = buildOptimizer(
  { name: "adam", learningRate: 1e-3, spike: { multiplier: 1000, at: 50 } },
  { name: "rho-clip", rMax: 1 },
);
const opt = jitChain(built.prefix, built.suffix);
let state = initBorrowed(opt, params);
const grads = treeScale(params, 0.01);
// A small radius, so that ρ-clip binds and rescales every update (the spiked steps do).
const extra = { radius: () => ({ rho: 1e-4 }), grad: grads, gradNorm: 1, learningRate: 1e-3 };
const n = Number(process.argv[2] ?? 400);
const cpu: number[] = [];
for (let i = 0; i < n; i++) {
  const c0 = process.cpuUsage();
  const [u, s] = updateBorrowed(opt, grads, state, params, extra);
  const np_ = applyBorrowed(params, u);
  disposeTree(u);
  disposeTree(state);
  disposeTree(params);
  state = s;
  params = np_;
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
}
const w = cpu.slice(20).sort((a, b) => a - b);
console.log(
  JSON.stringify({
    medianCpuMs: w[Math.floor(w.length / 2)],
    q1: w[Math.floor(w.length / 4)],
    q3: w[Math.floor((3 * w.length) / 4)],
  }),
);
