/**
 * Test evaluation with BatchNorm's batch statistics (`evaluation: "batch-stats"`, the
 * published reference's way): it never changes what is trained, it equals eval mode on
 * models without BatchNorm, and on BatchNorm models it is eval mode through statistics
 * computed from the evaluated rows themselves.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadDigits, randomSubset, stratifiedSplit } from "../../src/data/index.js";
import { toDevice } from "../../src/engine/arrays.js";
import { evaluate, trainModeState } from "../../src/engine/compute.js";
import { initEngine } from "../../src/engine/runtime.js";
import { disposeTree, flattenToHost, scaleTree } from "../../src/engine/tree.js";
import { buildModel } from "../../src/models/index.js";
import type { ControllerSpec } from "../../src/optim/index.js";
import { type TrainResult, train } from "../../src/train/train.js";

const split = stratifiedSplit(loadDigits(), { testFraction: 0.2, seed: 0 });
const data = { train: randomSubset(split.train, 96, 1), test: randomSubset(split.test, 60, 2) };

beforeAll(async () => {
  await initEngine();
});

async function run(
  arch: string,
  evaluation: "running-stats" | "batch-stats" | undefined,
  controller: ControllerSpec,
) {
  return train({
    model: buildModel(arch, { inputDim: 64, numClasses: 10 }),
    data,
    optimizer: {
      name: "adam",
      learningRate: 0.015,
      spike: { multiplier: 10000, at: 3, once: true },
    },
    controller,
    steps: 6,
    batchSize: "full",
    evalEvery: 2,
    evaluation,
    seed: 3,
    probe: { sampleSet: "train", every: 0 },
  });
}

/** Everything a history records but the test evaluations and the wall time. */
const trained = (r: TrainResult) =>
  r.history.map(({ testAccuracy, testLoss, wallMs, ...rest }) => rest);

describe("evaluation: batch-stats", () => {
  it("never changes training: same history, parameters and BatchNorm state (CNN+BN)", async () => {
    // the published controller, so that its radius probes (in eval mode) run between evaluations
    const controller: ControllerSpec = { name: "rho-clip-grad" };
    const running = await run("cnn-bn", undefined, controller);
    const batch = await run("cnn-bn", "batch-stats", controller);
    expect(trained(batch)).toEqual(trained(running));
    expect(flattenToHost(batch.params)).toEqual(flattenToHost(running.params));
    expect(flattenToHost(batch.state)).toEqual(flattenToHost(running.state));
    // the controller acted: the 10000× spike's learning rate (150) was rescaled (lr·s, s < 1)
    expect(running.history[3].effectiveLearningRate).toBeLessThan(150);
    // …while the test numbers each reports are its own
    const losses = (r: TrainResult) => r.history.map((h) => h.testLoss ?? null);
    expect(losses(batch)).not.toEqual(losses(running));
    for (const r of [running, batch]) {
      disposeTree(r.params);
      disposeTree(r.state);
    }
  });

  it("equals eval mode on a model without BatchNorm (MLP+LN)", async () => {
    const running = await run("mlp-ln", "running-stats", { name: "rho-clip" });
    const batch = await run("mlp-ln", "batch-stats", { name: "rho-clip" });
    expect(batch.history).toEqual(
      running.history.map((h, i) => ({ ...h, wallMs: batch.history[i].wallMs })),
    );
    expect(batch.finalTestAccuracy).toBe(running.finalTestAccuracy);
    for (const r of [running, batch]) {
      disposeTree(r.params);
      disposeTree(r.state);
    }
  });

  it("is eval mode through the evaluated rows' own statistics, and leaves the state as it was", () => {
    const model = buildModel("cnn-bn", { inputDim: 64, numClasses: 10 });
    const { params, state } = model.init(5);
    const x = toDevice(data.test.x, [data.test.n, 64]);
    const before = flattenToHost(state);
    const batch = evaluate(model, params, state, x, data.test.y, { evaluation: "batch-stats" });
    expect(flattenToHost(state)).toEqual(before);
    // running statistics := the batch's (new = 0.9·0 + 0.1·batch, so ×10), read in eval mode.
    // BatchNorm keeps the unbiased variance n/(n−1)·σ² for eval, so the loss agrees to ~1/n.
    const zero = scaleTree(state, 0);
    const fresh = trainModeState(model, params, zero, x);
    const own = scaleTree(fresh, 10);
    const viaEval = evaluate(model, params, own, x, data.test.y);
    expect(batch.accuracy).toBeCloseTo(viaEval.accuracy, 1);
    expect(Math.abs(batch.loss - viaEval.loss) / viaEval.loss).toBeLessThan(0.05);
    const running = evaluate(model, params, state, x, data.test.y);
    expect(batch.loss).not.toBe(running.loss);
    for (const t of [params, state, zero, fresh, own]) disposeTree(t);
    x.dispose();
  });

  it("rejects an unknown evaluation", async () => {
    await expect(run("mlp-ln", "eval" as never, { name: "none" })).rejects.toThrow(
      'evaluation must be "running-stats" or "batch-stats", got "eval"',
    );
  });
});
