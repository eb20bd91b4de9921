import { beforeAll, describe, expect, it } from "vitest";
import { labelsToDevice, toDevice } from "../../src/engine/arrays.js";
import { logitsHost, lossAndGrad, steppedLogitsHost } from "../../src/engine/compute.js";
import { initEngine } from "../../src/engine/runtime.js";
import { disposeTree, flattenToHost, normTree, unflattenFromHost } from "../../src/engine/tree.js";
import { buildModel } from "../../src/models/index.js";
import type { Params } from "../../src/models/types.js";
import { directionalLogitDerivatives, ProbeError } from "../../src/probe/directional.js";
import {
  fullGradient,
  sampleStepSlopes,
  seededUnitDirection,
} from "../../src/probe/step-slopes.js";
import { digitsLike, maxAbsDiff, relDiff } from "../engine/helpers.js";
import { expectNoLeak } from "../engine/leak.js";

beforeAll(async () => {
  await initEngine();
});

const model = buildModel("mlp", { inputDim: 64, numClasses: 10, dtype: "float64" });
const N = 30;
const gradientSet = {
  x: digitsLike(N, 64, 5),
  n: N,
  d: 64,
  y: Int32Array.from({ length: N }, (_, i) => (i * 7) % 10),
};
const sample = digitsLike(1, 64, 9);

/** ∇L over the whole gradient set in one `lossAndGrad` call, on the host (sorted key paths). */
function hostGradient(params: Params): Float64Array {
  const x = toDevice(gradientSet.x, [N, 64], "float64");
  const y = labelsToDevice(gradientSet.y);
  const lg = lossAndGrad(model, params, {}, x, y, { mode: "eval" });
  const g = flattenToHost(lg.grads);
  disposeTree([x, y, lg.grads, lg.state]);
  return g;
}

/** Central differences of the sample's logits along a host direction `v` (unit length). */
function fdSlopes(params: Params, v: Float64Array, h = 1e-6): Float64Array {
  const dir = unflattenFromHost(params, v);
  const x = toDevice(sample, [1, 64], "float64");
  const opts = { dtype: "float64" as const, chunk: 1 };
  const plus = steppedLogitsHost(model, params, {}, dir, x, h, opts);
  const minus = steppedLogitsHost(model, params, {}, dir, x, -h, opts);
  disposeTree([dir, x]);
  return Float64Array.from(plus, (p, c) => (p - minus[c]!) / (2 * h));
}

function unit(v: Float64Array, sign = 1): Float64Array {
  let ss = 0;
  for (const e of v) ss += e * e;
  const s = sign / Math.sqrt(ss);
  return Float64Array.from(v, (e) => e * s);
}

describe("sampleStepSlopes", () => {
  it("SGD: slopes are the finite differences of the logits along −∇L/‖∇L‖", () => {
    const { params } = model.init(3);
    const g = hostGradient(params);
    const out = sampleStepSlopes(model, params, {}, sample, { direction: "sgd", gradientSet });
    expect(out.slopes).toHaveLength(10);
    expect(relDiff(out.slopes, fdSlopes(params, unit(g, -1)))).toBeLessThan(1e-6);
    expect(out.directionNorm).toBeCloseTo(Math.hypot(...g), 12);
    const x = toDevice(sample, [1, 64], "float64");
    expect(maxAbsDiff(out.logits, logitsHost(model, params, {}, x))).toBeLessThan(1e-12);
    disposeTree([x, params]);
  });

  it("Adam: slopes are those along the closed-form first step −g/(|g|+ε), normalised", () => {
    const { params } = model.init(4);
    const g = hostGradient(params);
    // Adam's first step from a fresh state: m̂ = g, v̂ = g² after bias correction.
    const step = Float64Array.from(g, (e) => e / (Math.abs(e) + 1e-8));
    const out = sampleStepSlopes(model, params, {}, sample, { direction: "adam", gradientSet });
    expect(relDiff(out.slopes, fdSlopes(params, unit(step, -1)))).toBeLessThan(1e-6);
    expect(out.directionNorm).toBeCloseTo(Math.hypot(...step), 8);
    // Not the SGD direction: sign-like steps weigh small gradients up.
    const sgd = sampleStepSlopes(model, params, {}, sample, { direction: "sgd", gradientSet });
    expect(relDiff(out.slopes, sgd.slopes)).toBeGreaterThan(1e-3);
    disposeTree(params);
  });

  it("random: the seeded unit direction's slopes, the same for the same seed", () => {
    const { params } = model.init(5);
    const out = sampleStepSlopes(model, params, {}, sample, { direction: "random", seed: 11 });
    const v = seededUnitDirection(params, 11);
    expect(normTree(v)).toBeCloseTo(1, 12);
    const x = toDevice(sample, [1, 64], "float64");
    const probe = directionalLogitDerivatives(model, params, {}, v, x);
    expect(relDiff(out.slopes, probe.a)).toBeLessThan(1e-12);
    expect(relDiff(out.slopes, fdSlopes(params, flattenToHost(v)))).toBeLessThan(1e-6);
    const again = sampleStepSlopes(model, params, {}, sample, { direction: "random", seed: 11 });
    expect(again.slopes).toEqual(out.slopes);
    const other = sampleStepSlopes(model, params, {}, sample, { direction: "random", seed: 12 });
    expect(relDiff(other.slopes, out.slopes)).toBeGreaterThan(1e-3);
    disposeTree([v, x, params]);
  });

  it("releases everything it makes and leaves its arguments usable", async () => {
    const { params } = model.init(6);
    const kept = flattenToHost(params);
    for (const direction of ["sgd", "adam", "random"] as const) {
      await expectNoLeak(() =>
        sampleStepSlopes(model, params, {}, sample, { direction, gradientSet, seed: 1 }),
      );
    }
    expect(flattenToHost(params)).toEqual(kept);
    disposeTree(params);
  });

  it("rejects a sample of the wrong length and a gradient direction without a set", () => {
    const { params } = model.init(7);
    expect(() =>
      sampleStepSlopes(model, params, {}, sample.subarray(1), { direction: "random" }),
    ).toThrow(ProbeError);
    expect(() => sampleStepSlopes(model, params, {}, sample, { direction: "adam" })).toThrow(
      /needs a gradientSet/,
    );
    disposeTree(params);
  });
});

describe("fullGradient", () => {
  it("in chunks is the size-weighted mean: the one-call gradient, and leaks nothing", async () => {
    const { params } = model.init(8);
    const x = toDevice(gradientSet.x, [N, 64], "float64");
    const whole = hostGradient(params);
    for (const chunk of [N, 7]) {
      const { grads, loss } = fullGradient(model, params, {}, x, gradientSet.y, { chunk });
      expect(relDiff(flattenToHost(grads), whole)).toBeLessThan(1e-12);
      expect(Number.isFinite(loss) && loss > 0).toBe(true);
      disposeTree(grads);
      await expectNoLeak(() => {
        disposeTree(fullGradient(model, params, {}, x, gradientSet.y, { chunk }).grads);
      });
    }
    disposeTree([x, params]);
  });
});
