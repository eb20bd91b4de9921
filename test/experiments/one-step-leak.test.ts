import { beforeAll, describe, expect, it } from "vitest";
import {
  alongGradient,
  atTrainedPoint,
  gradientDirection,
  randomDirection,
  rhoAlong,
  sweepAlongDirection,
  type TrainedPoint,
  toSamples,
  trainSnapshot,
  withDirection,
  withTrained,
} from "../../packages/cli/src/experiments/framework/one-step.js";
import { subset } from "../../src/data/dataset.js";
import { loadDigits, stratifiedSplit } from "../../src/data/index.js";
import { initEngine } from "../../src/engine/runtime.js";
import { disposeTree, flattenToHost } from "../../src/engine/tree.js";
import { buildModel } from "../../src/models/index.js";
import { expectNoLeak } from "../engine/leak.js";

beforeAll(async () => {
  await initEngine();
});

const { train: tr, test: te } = stratifiedSplit(loadDigits(), { testFraction: 0.2, seed: 1 });
const rows = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
const train = subset(tr, rows(150));
const test = subset(te, rows(60));

describe("the one-step measurements borrow their arguments and do not leak", () => {
  it("trainSnapshot, gradientDirection, randomDirection, rhoAlong, sweepAlongDirection", async () => {
    const model = buildModel("cnn-bn", { inputDim: 64, numClasses: 10 });
    const opts = {
      model,
      data: { train, test },
      optimizer: { name: "adam" as const, learningRate: 1e-3 },
    };
    await expectNoLeak(async () =>
      (await trainSnapshot({ ...opts, steps: 3, targets: [0.05], keepBest: true })).release(),
    );
    await expectNoLeak(() => toSamples(train).release());
    // A training that fails half-way frees the snapshots it had taken (targets and best).
    await expectNoLeak(async () => {
      await expect(
        trainSnapshot({
          ...opts,
          steps: 4,
          targets: [0.01, 0.02],
          keepBest: true,
          onProgress: (f) => {
            if (f >= 0.75) throw new Error("stopped");
          },
        }),
      ).rejects.toThrow("stopped");
    });
    // The best snapshot is replaced as the accuracy improves; only the last one is kept.
    await expectNoLeak(async () => {
      const t = await trainSnapshot({ ...opts, steps: 6, keepBest: true });
      expect(t.best).not.toBeNull();
      expect(t.best!.testAccuracy).toBe(Math.max(...t.history.map((r) => r.testAccuracy!)));
      t.release();
      t.release(); // a second release frees nothing twice
    });
    const snap = await trainSnapshot({ ...opts, steps: 3 });
    const { params, state } = snap.final;
    const before = flattenToHost(params);
    const samples = toSamples(train);
    // Host data (uploaded per call and chunked) and device samples.
    for (const s of [train, samples]) {
      await expectNoLeak(async () =>
        disposeTree((await gradientDirection(model, params, state, s, { chunk: 64 })).direction),
      );
    }
    await expectNoLeak(async () => disposeTree((await randomDirection(params, 3)).direction));
    const { direction } = await gradientDirection(model, params, state, samples);
    await expectNoLeak(() => rhoAlong(model, params, state, direction, train, { chunk: 50 }));
    await expectNoLeak(() => rhoAlong(model, params, state, direction, samples.x));
    await expectNoLeak(() =>
      sweepAlongDirection(
        model,
        params,
        state,
        direction,
        [0, 0.5],
        { test, train: samples },
        { chunk: 40 },
      ),
    );
    // The borrowed parameters are still there and unchanged.
    expect(flattenToHost(params)).toEqual(before);
    disposeTree(direction);
    samples.release();
    snap.release();
  });

  it("atTrainedPoint frees the snapshot, the uploaded splits and what the measurement owns, also when it throws", async () => {
    const model = buildModel("mlp", { inputDim: 64, numClasses: 10 });
    const opts = {
      model,
      data: { train, test },
      optimizer: { name: "adam" as const, learningRate: 1e-3 },
      steps: 2,
    };
    const measure = async (p: TrainedPoint) => {
      const g = await gradientDirection(p.model, p.params, p.state, p.train);
      const v = p.scope.own(g.direction);
      return (await rhoAlong(p.model, p.params, p.state, v, p.test)).rhoA;
    };
    await expectNoLeak(async () => {
      expect(await atTrainedPoint(opts, measure)).toBeGreaterThan(0);
    });
    await expectNoLeak(async () => {
      await expect(
        atTrainedPoint(opts, async (p) => {
          await measure(p);
          throw new Error("measurement failed");
        }),
      ).rejects.toThrow("measurement failed");
    });
  });

  it("withTrained, withDirection and alongGradient free what they lend, also when the user throws", async () => {
    const model = buildModel("mlp", { inputDim: 64, numClasses: 10 });
    const opts = {
      model,
      data: { train, test },
      optimizer: { name: "adam" as const, learningRate: 1e-3 },
      steps: 2,
    };
    await expectNoLeak(async () => {
      const steps = await withTrained({ ...opts, keepBest: true }, async (t) => t.history.length);
      expect(steps).toBe(2);
    });
    await expectNoLeak(async () => {
      await expect(
        withTrained(opts, async () => {
          throw new Error("use failed");
        }),
      ).rejects.toThrow("use failed");
    });
    await expectNoLeak(async () => {
      const measured = await atTrainedPoint(opts, async (p) => {
        const viaHelper = await alongGradient(p, async (g) => [g.rho.rhoA, g.gradNorm]);
        // the same two measurements by hand: alongGradient adds nothing of its own
        const byHand = await withDirection(
          gradientDirection(p.model, p.params, p.state, p.train),
          async (g) => [
            (await rhoAlong(p.model, p.params, p.state, g.direction, p.train)).rhoA,
            g.gradNorm,
          ],
        );
        await expect(
          withDirection(randomDirection(p.params, 3), async () => {
            throw new Error("sweep failed");
          }),
        ).rejects.toThrow("sweep failed");
        return { viaHelper, byHand };
      });
      expect(measured.viaHelper[0]).toBeGreaterThan(0);
      expect(measured.viaHelper).toEqual(measured.byHand);
    });
  });
});
