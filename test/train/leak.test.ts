import { beforeAll, describe, expect, it } from "vitest";
import { subset } from "../../src/data/dataset.js";
import { loadDigits, stratifiedSplit } from "../../src/data/index.js";
import { toDevice } from "../../src/engine/arrays.js";
import { initEngine, liveBufferCount } from "../../src/engine/runtime.js";
import { disposeTree, flattenToHost, scaleTree, treeLeaves } from "../../src/engine/tree.js";
import { buildModel } from "../../src/models/index.js";
import { armijo } from "../../src/optim/armijo.js";
import { directionalLogitDerivatives } from "../../src/probe/directional.js";
import { probeNetwork } from "../../src/probe/network.js";
import { type TrainOptions, train } from "../../src/train/train.js";
import { expectNoLeak } from "../engine/leak.js";

beforeAll(async () => {
  await initEngine();
});

const { train: tr, test: te } = stratifiedSplit(loadDigits(), { testFraction: 0.2, seed: 0 });
const small = {
  train: subset(
    tr,
    Int32Array.from({ length: 96 }, (_, i) => i),
  ),
  test: te,
};
const mlp = buildModel("mlp-relu", { inputDim: 64, numClasses: 10 });
const transformer = buildModel("transformer", { inputDim: 64, numClasses: 10 });

const runs: [string, Omit<TrainOptions, "data" | "steps">][] = [
  [
    "Adam + ρ-clip, radius over the training split, reference probe",
    {
      model: mlp,
      optimizer: { name: "adam", learningRate: 1e-3 },
      controller: { name: "rho-clip", rMax: 1 },
      probe: { sampleSet: "train", reference: { sampleSet: { random: 32 } } },
    },
  ],
  [
    "ρ-set, full batch, unfused",
    {
      model: mlp,
      optimizer: { name: "nesterov", learningRate: 0.1 },
      controller: { name: "rho-set", rTarget: 0.5 },
      batchSize: "full",
      fuse: false,
    },
  ],
  [
    "custom Armijo link",
    { model: mlp, optimizer: { name: "sgd", learningRate: 1 }, controller: armijo() },
  ],
  [
    "all-radii on a transformer",
    {
      model: transformer,
      optimizer: { name: "adam", learningRate: 1e-3 },
      controller: { name: "all-radii", mode: "clip", rMax: 0.5 },
      batchSize: 16,
    },
  ],
  [
    "skipped steps (learning rate overflows)",
    { model: mlp, optimizer: { name: "sgd", learningRate: 1e38 }, probe: { every: 1 } },
  ],
];

describe("train() returns every buffer it allocates (only the result stays live)", () => {
  for (const [name, opts] of runs) {
    it(name, async () => {
      await expectNoLeak(async () => {
        const res = await train({ ...opts, data: small, steps: 3, evalEvery: 2 });
        res.release();
      }, 2);
    });
  }

  it("the result's release() frees exactly its final params and state, once", async () => {
    const opts = { model: mlp, optimizer: { name: "adam", learningRate: 1e-3 } } as const;
    (await train({ ...opts, data: small, steps: 2 })).release(); // warm the compiled functions
    const before = liveBufferCount();
    const res = await train({ ...opts, data: small, steps: 2 });
    const leaves = treeLeaves(res.params).length + treeLeaves(res.state).length;
    expect(leaves).toBeGreaterThan(0);
    expect(liveBufferCount() - before).toBe(leaves);
    // the weights are usable until released
    expect(flattenToHost(res.params).every(Number.isFinite)).toBe(true);
    res.release();
    expect(liveBufferCount()).toBe(before);
    res.release();
    expect(liveBufferCount()).toBe(before);
  });
});

describe("the probes borrow their arguments and do not leak", () => {
  it("directionalLogitDerivatives (JVP and finite differences) and probeNetwork", async () => {
    const { params, state } = transformer.init(1);
    const direction = scaleTree(params, 0.01);
    const x = toDevice(tr.x.subarray(0, 8 * 64), [8, 64]);
    const before = flattenToHost(params);
    for (const method of ["jvp", "fd"] as const) {
      await expectNoLeak(() =>
        directionalLogitDerivatives(transformer, params, state, direction, x, { method, chunk: 3 }),
      );
    }
    await expectNoLeak(() => probeNetwork(transformer, params, state, direction, 1, x));
    expect(flattenToHost(params)).toEqual(before);
    for (const t of [params, state, direction, x]) disposeTree(t);
  });
});
