import { beforeAll, describe, expect, it } from "vitest";
import {
  firstWhere,
  gradientDirection,
  logGrid,
  OneStepError,
  randomDirection,
  rhoAlong,
  sweepAlongDirection,
  toSamples,
  trainSnapshot,
} from "../../packages/cli/src/experiments/framework/one-step.js";
import type { Dataset } from "../../src/data/dataset.js";
import { loadDigits, stratifiedSplit } from "../../src/data/index.js";
import { toDevice } from "../../src/engine/arrays.js";
import { evaluate } from "../../src/engine/compute.js";
import { initEngine, liveBufferCount } from "../../src/engine/runtime.js";
import {
  axpyTree,
  disposeTree,
  dotTree,
  flattenToHost,
  normTree,
  scaleTree,
} from "../../src/engine/tree.js";
import { buildModel } from "../../src/models/registry.js";
import type { Model, ModelState, Params } from "../../src/models/types.js";

let train: Dataset;
let test: Dataset;

beforeAll(async () => {
  await initEngine();
  const split = stratifiedSplit(loadDigits(), { testFraction: 0.2, seed: 0 });
  train = split.train;
  test = split.test;
});

/** Independent path: materialise θ + τv and evaluate it with the engine's `evaluate`. */
function evaluateAt(
  model: Model,
  params: Params,
  state: ModelState,
  v: Params,
  tau: number,
  ds: Dataset,
) {
  const moved = axpyTree(tau, v, params);
  const x = toDevice(ds.x, [ds.n, ds.d]);
  try {
    return evaluate(model, moved, state, x, ds.y);
  } finally {
    x.dispose();
    disposeTree(moved);
  }
}

describe("sweepAlongDirection", () => {
  it("at τ = 0 gives loss ratio 1, retained accuracy 1 and no flips, with the engine's baseline", async () => {
    const model = buildModel("mlp", { inputDim: 64, numClasses: 10 });
    const { params, state } = model.init(3);
    const { direction } = await randomDirection(params, 1);
    const sweep = await sweepAlongDirection(model, params, state, direction, [0], { test, train });
    const p = sweep.points[0]!;
    expect(p.testLossRatio).toBe(1);
    expect(p.trainLossRatio).toBe(1);
    expect(p.retainedAccuracy).toBe(1);
    expect(p.flipFraction).toBe(0);
    const ref = evaluateAt(model, params, state, direction, 0, test);
    expect(sweep.pre.test.loss).toBeCloseTo(ref.loss, 5);
    expect(sweep.pre.test.accuracy).toBe(ref.accuracy);
    disposeTree(direction);
    disposeTree(params);
    disposeTree(state);
  });

  it("matches evaluating θ + τv directly, and counts flips against θ's predictions", async () => {
    const model = buildModel("cnn-bn", { inputDim: 64, numClasses: 10 });
    const { params, state } = model.init(0);
    const { direction } = await randomDirection(params, 7);
    const taus = [0.5, 5, 50];
    const samples = toSamples(test);
    const sweep = await sweepAlongDirection(model, params, state, direction, taus, {
      test: samples,
    });
    const pre = evaluateAt(model, params, state, direction, 0, test);
    taus.forEach((tau, i) => {
      const ref = evaluateAt(model, params, state, direction, tau, test);
      const pt = sweep.points[i]!;
      expect(pt.tau).toBe(tau);
      expect(pt.test.loss / ref.loss).toBeCloseTo(1, 4);
      expect(pt.test.accuracy).toBeCloseTo(ref.accuracy, 2);
      expect(pt.testLossRatio).toBeCloseTo(ref.loss / pre.loss, 3);
      let flips = 0;
      for (let j = 0; j < test.n; j++) if (ref.predictions[j] !== pre.predictions[j]) flips++;
      expect(Math.abs(pt.flipFraction - flips / test.n)).toBeLessThanOrEqual(2 / test.n);
    });
    // a long random step moves the predictions: the measurement is not vacuous
    expect(sweep.points[2]!.flipFraction).toBeGreaterThan(0.05);
    samples.release();
    disposeTree(direction);
    disposeTree(params);
    disposeTree(state);
  });

  it("rejects an empty or non-finite grid", async () => {
    const model = buildModel("linear", { inputDim: 64, numClasses: 10 });
    const { params, state } = model.init(0);
    await expect(sweepAlongDirection(model, params, state, params, [], { test })).rejects.toThrow(
      OneStepError,
    );
    await expect(
      sweepAlongDirection(model, params, state, params, [Number.NaN], { test }),
    ).rejects.toThrow(/not finite/);
    disposeTree(params);
  });
});

describe("gradientDirection", () => {
  it("is a unit descent direction: −‖∇L‖ is its directional derivative and a small step lowers the loss", async () => {
    const model = buildModel("mlp-ln", { inputDim: 64, numClasses: 10 });
    const { params, state } = model.init(1);
    const g = await gradientDirection(model, params, state, train);
    expect(normTree(g.direction)).toBeCloseTo(1, 5);
    expect(g.gradNorm).toBeGreaterThan(0);
    const h = 1e-3;
    const sweep = await sweepAlongDirection(model, params, state, g.direction, [-h, h], {
      test,
      train,
    });
    expect(sweep.pre.train!.loss).toBeCloseTo(g.loss, 4);
    expect(sweep.points[1]!.trainLossRatio!).toBeLessThan(1);
    expect(sweep.points[0]!.trainLossRatio!).toBeGreaterThan(1);
    const slope = (sweep.points[1]!.train!.loss - sweep.points[0]!.train!.loss) / (2 * h);
    expect(slope / -g.gradNorm).toBeCloseTo(1, 1);
    disposeTree(g.direction);
    disposeTree(params);
  });

  it("gives the same direction whether or not the set is processed in chunks", async () => {
    const model = buildModel("mlp", { inputDim: 64, numClasses: 10 });
    const { params, state } = model.init(2);
    const whole = await gradientDirection(model, params, state, train);
    const chunked = await gradientDirection(model, params, state, train, { chunk: 500 });
    expect(dotTree(whole.direction, chunked.direction)).toBeCloseTo(1, 5);
    expect(chunked.gradNorm / whole.gradNorm).toBeCloseTo(1, 5);
    expect(chunked.loss).toBeCloseTo(whole.loss, 5);
    disposeTree(whole.direction);
    disposeTree(chunked.direction);
    disposeTree(params);
  });
});

describe("randomDirection", () => {
  it("is unit-norm, reproducible for a seed, and different across seeds", async () => {
    const model = buildModel("mlp", { inputDim: 64, numClasses: 10 });
    const { params } = model.init(0);
    const a = await randomDirection(params, 11);
    const b = await randomDirection(params, 11);
    const c = await randomDirection(params, 12);
    expect(normTree(a.direction)).toBeCloseTo(1, 5);
    expect(flattenToHost(a.direction)).toEqual(flattenToHost(b.direction));
    const m = flattenToHost(params).length;
    // independent Gaussian directions in m dimensions are nearly orthogonal: |cos| ~ 1/√m
    expect(Math.abs(dotTree(a.direction, c.direction))).toBeLessThan(5 / Math.sqrt(m));
    for (const d of [a, b, c]) disposeTree(d.direction);
    disposeTree(params);
  });
});

describe("rhoAlong", () => {
  it("is π over the largest spread of a = J·v̂, computed by hand for the linear model", async () => {
    const model = buildModel("linear", { inputDim: 64, numClasses: 10 });
    const { params, state } = model.init(4);
    const { direction } = await randomDirection(params, 5);
    const scaled = scaleTree(direction, 3); // ρ_a is per unit length: the norm must not matter
    const rho = await rhoAlong(model, params, state, scaled, test);
    // logits = x·W + b are linear in θ, so a = x·W_v + b_v exactly
    const head = direction.head as Params;
    const w = flattenToHost({ w: head.w! } as Params);
    const b = flattenToHost({ b: head.b! } as Params);
    let maxSpread = 0;
    let arg = -1;
    for (let i = 0; i < test.n; i++) {
      let hi = -Infinity;
      let lo = Infinity;
      for (let k = 0; k < 10; k++) {
        let a = b[k]!;
        for (let j = 0; j < 64; j++) a += test.x[i * 64 + j]! * w[j * 10 + k]!;
        hi = Math.max(hi, a);
        lo = Math.min(lo, a);
      }
      if (hi - lo > maxSpread) {
        maxSpread = hi - lo;
        arg = i;
      }
    }
    expect(rho.directionNorm).toBeCloseTo(3, 5);
    expect(rho.maxSpread / maxSpread).toBeCloseTo(1, 4);
    expect(rho.rhoA / (Math.PI / maxSpread)).toBeCloseTo(1, 4);
    expect(rho.bindingSample).toBe(arg);
    expect(rho.spreads.length).toBe(test.n);
    expect(rho.medianSpread).toBeLessThanOrEqual(rho.maxSpread);
    disposeTree(direction);
    disposeTree(scaled);
    disposeTree(params);
  });
});

describe("trainSnapshot", () => {
  it("snapshots the first evaluation reaching each target and the best one, without leaking", async () => {
    const model = buildModel("mlp", { inputDim: 64, numClasses: 10 });
    const data = { train, test };
    const opts = {
      model,
      data,
      optimizer: { name: "adamw" as const, learningRate: 3e-3 },
      steps: 40,
      seed: 0,
    };
    const warm = await trainSnapshot({ ...opts, targets: [0.5], keepBest: true });
    warm.release();
    const before = liveBufferCount();
    const run = await trainSnapshot({ ...opts, targets: [0.5, 0.8, 1], keepBest: true });
    const accs = run.history.map((h) => h.testAccuracy!);
    expect(accs.every((a) => Number.isFinite(a))).toBe(true); // evaluated every step
    for (const { target, snapshot } of run.targets) {
      const first = accs.findIndex((a) => a >= target);
      if (first < 0) {
        expect(snapshot).toBeNull();
        continue;
      }
      expect(snapshot!.steps).toBe(first + 1);
      expect(snapshot!.testAccuracy).toBe(accs[first]);
      // the captured parameters are the ones evaluated then (not a later step's)
      const x = toDevice(test.x, [test.n, test.d]);
      expect(evaluate(model, snapshot!.params, snapshot!.state, x, test.y).accuracy).toBe(
        accs[first],
      );
      x.dispose();
    }
    expect(run.targets[0]!.snapshot).not.toBeNull();
    expect(run.targets[2]!.snapshot).toBeNull(); // 100% is not reached in 40 steps
    expect(run.best!.testAccuracy).toBe(Math.max(...accs));
    expect(run.best!.steps).toBe(accs.indexOf(Math.max(...accs)) + 1);
    expect(run.final.steps).toBe(40);
    run.release();
    expect(liveBufferCount()).toBe(before);
    run.release(); // a second release frees nothing twice
    expect(liveBufferCount()).toBe(before);
  });

  it("rejects targets outside (0, 1]", async () => {
    const model = buildModel("linear", { inputDim: 64, numClasses: 10 });
    await expect(
      trainSnapshot({
        model,
        data: { train, test },
        optimizer: { name: "adam", learningRate: 1e-3 },
        steps: 1,
        targets: [1.5],
      }),
    ).rejects.toThrow(OneStepError);
  });
});

describe("grid and onset helpers", () => {
  it("logGrid hits the powers of ten exactly and is geometric", () => {
    const g = logGrid(0.01, 100, 41);
    expect(g).toHaveLength(41);
    expect(g[0]).toBe(0.01);
    expect(g[10]).toBe(0.1);
    expect(g[20]).toBe(1);
    expect(g[30]).toBe(10);
    expect(g[40]).toBe(100);
    expect(g[21]! / g[20]!).toBeCloseTo(10 ** 0.1, 10);
    expect(() => logGrid(0, 1, 5)).toThrow(OneStepError);
    expect(() => logGrid(1, 10, 1)).toThrow(OneStepError);
  });

  it("firstWhere returns the first matching x or +∞", () => {
    expect(firstWhere([1, 2, 3], (i) => i >= 1)).toBe(2);
    expect(firstWhere([1, 2, 3], () => false)).toBe(Number.POSITIVE_INFINITY);
  });
});
