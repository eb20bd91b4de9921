/**
 * The update the loop applies is the update it reports: on every step the parameters move by
 * exactly τ (read back from the parameters themselves, not from the telemetry), and with a
 * controller τ obeys its rule against the reported ρ_a. Float64 models, so "exactly" is 1e-9.
 */
import { describe, expect, it } from "vitest";
import { loadDigits, randomSubset, stratifiedSplit } from "../../src/data/index.js";
import { initEngine } from "../../src/engine/runtime.js";
import { disposeTree, flattenToHost } from "../../src/engine/tree.js";
import { buildModel } from "../../src/models/index.js";
import type { ControllerSpec, OptimizerSpec } from "../../src/optim/index.js";
import { type StepRecord, train } from "../../src/train/train.js";

const split = stratifiedSplit(loadDigits(), { testFraction: 0.2, seed: 0 });
const trainSet = split.train;
// the loop evaluates after every step here (that is where the parameters are read back)
const testSet = randomSubset(split.test, 32, 0);
/** Covers steps 0 and 10, where a skip "every 10th step" would show. */
const STEPS = 12;

/** Runs the loop and measures ‖θ_{t+1} − θ_t‖ after every step from the parameters. */
async function run(
  optimizer: OptimizerSpec,
  controller: ControllerSpec,
): Promise<{ history: StepRecord[]; applied: number[] }> {
  await initEngine();
  const model = buildModel("mlp", { inputDim: 64, numClasses: 10, dtype: "float64" });
  const init = model.init(3);
  let previous = flattenToHost(init.params);
  disposeTree(init.params);
  disposeTree(init.state);
  const applied: number[] = [];
  const res = await train({
    model,
    data: { train: trainSet, test: testSet },
    optimizer,
    controller,
    steps: STEPS,
    batchSize: 64,
    evalEvery: 1,
    seed: 3,
    probe: { sampleSet: "batch" },
    onEval: (_record, params) => {
      const now = flattenToHost(params);
      let s = 0;
      for (let i = 0; i < now.length; i++) s += (now[i]! - previous[i]!) ** 2;
      applied.push(Math.sqrt(s));
      previous = now;
    },
  });
  res.release();
  return { history: res.history, applied };
}

function expectAppliedIsTau(history: StepRecord[], applied: number[]): void {
  expect(applied).toHaveLength(STEPS);
  history.forEach((rec, i) => {
    expect(rec.skipped, `step ${i}`).toBe(false);
    expect(Math.abs(applied[i]! - rec.tau), `step ${i}`).toBeLessThanOrEqual(1e-9 * rec.tau);
  });
}

describe("the applied update", () => {
  it("ρ-clip: moves by τ = min(‖p‖, r_max·ρ_a) on every step, and the clip binds", async () => {
    const { history, applied } = await run(
      { name: "adam", learningRate: 0.05 },
      { name: "rho-clip", rMax: 0.5 },
    );
    expectAppliedIsTau(history, applied);
    let clipped = 0;
    for (const rec of history) {
      expect(rec.tau).toBeLessThanOrEqual(0.5 * rec.rhoA * (1 + 1e-9));
      if (Math.abs(rec.r - 0.5) < 1e-9) clipped++;
    }
    expect(clipped).toBeGreaterThanOrEqual(STEPS / 2);
  });

  it("ρ-set: moves by τ = r_target·ρ_a on every step", async () => {
    const { history, applied } = await run(
      { name: "momentum", learningRate: 0.05 },
      { name: "rho-set", rTarget: 0.7 },
    );
    expectAppliedIsTau(history, applied);
    for (const rec of history) expect(Math.abs(rec.tau / rec.rhoA - 0.7)).toBeLessThan(1e-9);
  });

  it("no controller: moves by the optimizer's own step, reported as τ", async () => {
    const { history, applied } = await run({ name: "sgd", learningRate: 0.1 }, { name: "none" });
    expectAppliedIsTau(history, applied);
    expect(history.every((rec) => rec.tau > 0 && rec.r === rec.tau / rec.rhoA)).toBe(true);
  });
});
