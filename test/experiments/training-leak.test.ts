import { beforeAll, describe, expect, it } from "vitest";
import {
  trainRun,
  withCalibratedBatchNorm,
} from "../../packages/cli/src/experiments/framework/training.js";
import type { RunContext } from "../../packages/cli/src/experiments/framework/types.js";
import { subset } from "../../src/data/dataset.js";
import { loadDigits, stratifiedSplit } from "../../src/data/index.js";
import { initEngine, liveBufferCount } from "../../src/engine/runtime.js";
import { disposeTree, flattenToHost, treeSize } from "../../src/engine/tree.js";
import { buildModel } from "../../src/models/index.js";
import { expectNoLeak } from "../engine/leak.js";

beforeAll(async () => {
  await initEngine();
});

const { train, test } = stratifiedSplit(loadDigits(), { testFraction: 0.2, seed: 2 });
const rows = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
const split = { train: subset(train, rows(80)), test: subset(test, rows(40)) };

/** A run context over a fixed split, recording what `--save` would have written. */
function context(saved: Float64Array[]): RunContext {
  return {
    runKey: "leak",
    data: { kind: "digits" },
    loadData: () => split,
    onProgress: () => {},
    saveWeights: async (w) => {
      saved.push(flattenToHost(w.params));
    },
  };
}

describe("the experiments' training helper frees what train() returns", () => {
  for (const [arch, calibrateBatchNorm] of [
    ["mlp", false],
    ["cnn-bn", true],
  ] as const) {
    it(`trainRun on ${arch}${calibrateBatchNorm ? " (BatchNorm calibrated at init)" : ""}`, async () => {
      const saved: Float64Array[] = [];
      const seen: Float64Array[] = [];
      const run = () =>
        trainRun(
          {
            arch,
            seed: 0,
            calibrateBatchNorm,
            optimizer: { name: "adam", learningRate: 1e-3 },
            steps: 2,
            batchSize: 16,
            probe: { every: 0 },
            // borrowed and still usable here: trainRun frees them after this and --save
            afterTraining: (t) => seen.push(flattenToHost(t.params)),
          },
          context(saved),
        );
      await expectNoLeak(async () => {
        const out = await run();
        expect(out.history).toHaveLength(2);
      });
      expect(saved).toHaveLength(4);
      expect(saved).toEqual(seen);
      expect(saved[0]!.every(Number.isFinite)).toBe(true);
    });
  }

  it("withCalibratedBatchNorm's init and its BatchNorm test hold nothing", async () => {
    const model = buildModel("cnn-bn", { inputDim: 64, numClasses: 10 });
    await expectNoLeak(() => {
      const calibrated = withCalibratedBatchNorm(model, split.train);
      const { params, state } = calibrated.init(1);
      expect(treeSize(state)).toBeGreaterThan(0);
      disposeTree(params);
      disposeTree(state);
    });
    // The BatchNorm test initialises the model once and frees that init (cached per model
    // object, so each check uses a fresh model).
    for (const arch of ["mlp-relu", "cnn-bn"] as const) {
      const fresh = () => buildModel(arch, { inputDim: 64, numClasses: 10 });
      withCalibratedBatchNorm(fresh(), split.train); // warms what model.init compiles
      const before = liveBufferCount();
      const plain = fresh();
      const wrapped = withCalibratedBatchNorm(plain, split.train);
      expect(wrapped === plain).toBe(arch === "mlp-relu");
      expect(liveBufferCount()).toBe(before);
    }
  });
});
