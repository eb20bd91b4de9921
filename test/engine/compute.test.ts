import type { Array as JaxArray } from "@jax-js/jax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labelsToDevice, toDevice, toHost } from "../../src/engine/arrays.js";
import {
  argmaxRows,
  evaluate,
  evaluateLogits,
  logitsHost,
  lossAndGrad,
  predict,
} from "../../src/engine/compute.js";
import { initEngine, liveBufferCount } from "../../src/engine/runtime.js";
import {
  axpyTree,
  disposeTree,
  dotTree,
  flattenToHost,
  normTree,
  scaleTree,
  treeEntries,
  treeSize,
  unflattenFromHost,
} from "../../src/engine/tree.js";
import { buildModel, PAPER_ARCHITECTURES } from "../../src/models/index.js";
import type { ModelState, Params } from "../../src/models/types.js";
import { directionalLogitDerivatives } from "../../src/probe/directional.js";
import { digitsLike, lcg, maxAbsDiff } from "./helpers.js";

beforeAll(async () => {
  await initEngine();
});

const config = { inputDim: 64, numClasses: 10 };
const n = 12;
const xs = digitsLike(n, 64, 3);
const ys = Int32Array.from({ length: n }, (_, i) => (i * 7) % 10);
let x64: JaxArray;
let x32: JaxArray;
let y: JaxArray;

beforeAll(() => {
  x64 = toDevice(xs, [n, 64], "float64");
  x32 = toDevice(xs, [n, 64], "float32");
  y = labelsToDevice(ys);
});

afterAll(() => {
  for (const a of [x64, x32, y]) a.dispose();
});

function hostCrossEntropy(z: Float64Array, labels: ArrayLike<number>, k: number): number {
  return evaluateLogits(z, labels, k).loss;
}

function randomDirection(params: Params, seed: number): Params {
  const r = lcg(seed);
  const raw = unflattenFromHost(
    params,
    Float64Array.from({ length: treeSize(params) }, () => 2 * r() - 1),
  );
  const unit = scaleTree(raw, 1 / normTree(raw));
  disposeTree(raw);
  return unit;
}

describe("lossAndGrad", () => {
  it("linear model: loss and gradient equal the closed form Xᵀ(softmax − onehot)/n", () => {
    const model = buildModel("linear", { ...config, dtype: "float64" });
    const { params, state } = model.init(0);
    const z = logitsHost(model, params, state, x64);
    const r = lossAndGrad(model, params, state, x64, y);
    expect(Math.abs(r.loss - hostCrossEntropy(z, ys, 10))).toBeLessThan(1e-13);
    const gw = new Float64Array(64 * 10);
    const gb = new Float64Array(10);
    for (let i = 0; i < n; i++) {
      const row = z.slice(i * 10, i * 10 + 10);
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, v) => a + v, 0);
      for (let c = 0; c < 10; c++) {
        const d = (e[c]! / s - (ys[i] === c ? 1 : 0)) / n;
        gb[c]! += d;
        for (let f = 0; f < 64; f++) gw[f * 10 + c]! += xs[i * 64 + f]! * d;
      }
    }
    const grads = new Map(treeEntries(r.grads));
    expect(maxAbsDiff(toHost(grads.get("head.w")!), gw)).toBeLessThan(1e-14);
    expect(maxAbsDiff(toHost(grads.get("head.b")!), gb)).toBeLessThan(1e-14);
    const preds = argmaxRows(z, 10);
    expect(r.accuracy).toBe(preds.filter((p, i) => p === ys[i]).length / n);
    disposeTree(r.grads);
    disposeTree(r.state);
    disposeTree(params);
  });

  it.each(PAPER_ARCHITECTURES)("%s: ⟨grad, v⟩ matches a central difference of the loss", (name) => {
    const model = buildModel(name, { ...config, dtype: "float64" });
    const { params, state } = model.init(2);
    const v = randomDirection(params, 5);
    const r = lossAndGrad(model, params, state, x64, y);
    const slope = dotTree(r.grads, v);
    const eps = 1e-5;
    const lossAt = (t: number) => {
      const p = axpyTree(t, v, params);
      const out = lossAndGrad(model, p, state, x64, y);
      disposeTree(out.grads);
      disposeTree(out.state);
      disposeTree(p);
      return out.loss;
    };
    const fd = (lossAt(eps) - lossAt(-eps)) / (2 * eps);
    expect(Math.abs(fd - slope)).toBeLessThan(1e-6 * Math.max(1, Math.abs(slope)));
    for (const t of [r.grads, r.state, v, params, state]) disposeTree(t);
  });

  it("cnn-bn: train mode returns updated running statistics and leaves the input state alone", () => {
    const model = buildModel("cnn-bn", { ...config, dtype: "float64" });
    const { params, state } = model.init(0);
    const before = flattenToHost(state);
    const r = lossAndGrad(model, params, state, x64, y);
    expect(Array.from(flattenToHost(state))).toEqual(Array.from(before));
    const after = flattenToHost(r.state);
    expect(maxAbsDiff(after, before)).toBeGreaterThan(1e-3);
    // Running mean of bn1 after one step from 0: 0.1 × the batch mean of conv1's output.
    const evalR = lossAndGrad(model, params, state, x64, y, { mode: "eval" });
    expect(Array.from(flattenToHost(evalR.state))).toEqual(Array.from(before));
    for (const t of [r.grads, r.state, evalR.grads, evalR.state, params, state]) disposeTree(t);
  });

  it("the temperature option divides the logits inside the loss", () => {
    const model = buildModel("mlp", { ...config, dtype: "float64" });
    const { params, state } = model.init(0);
    const z = logitsHost(model, params, state, x64);
    const r = lossAndGrad(model, params, state, x64, y, { temperature: 3 });
    const want = hostCrossEntropy(
      z.map((v) => v / 3),
      ys,
      10,
    );
    expect(Math.abs(r.loss - want)).toBeLessThan(1e-13);
    disposeTree(r.grads);
    disposeTree(r.state);
    disposeTree(params);
  });
});

describe("predict / evaluate", () => {
  it("agree with host computations on the logits, whatever the chunk size", () => {
    const model = buildModel("cnn", config);
    const { params, state } = model.init(4);
    const z = logitsHost(model, params, state, x32);
    const preds = predict(model, params, state, x32);
    expect(Array.from(preds)).toEqual(Array.from(argmaxRows(z, 10)));
    const whole = evaluate(model, params, state, x32, ys);
    const chunked = evaluate(model, params, state, x32, ys, { chunk: 5 });
    expect(Math.abs(whole.loss - hostCrossEntropy(z, ys, 10))).toBeLessThan(1e-12);
    expect(Math.abs(chunked.loss - whole.loss)).toBeLessThan(1e-6);
    expect(chunked.accuracy).toBe(whole.accuracy);
    expect(() => evaluate(model, params, state, x32, ys.slice(1))).toThrow(/11 labels for 12/);
    disposeTree(params);
  });
});

describe("no leaks", () => {
  it("200 alternating grad steps and probes leave the live buffer count unchanged", () => {
    for (const name of ["cnn-bn", "transformer"] as const) {
      const model = buildModel(name, config);
      const init = model.init(0);
      let params: Params = init.params;
      let state: ModelState = init.state;
      const v = randomDirection(params, 1);
      const step = () => {
        const r = lossAndGrad(model, params, state, x32, y);
        const next = axpyTree(-0.01, r.grads, params);
        disposeTree(params);
        disposeTree(r.grads);
        disposeTree(state);
        params = next;
        state = r.state;
        const probe = directionalLogitDerivatives(model, params, state, v, x32, { chunk: 5 });
        expect(probe.a.every(Number.isFinite)).toBe(true);
      };
      for (let i = 0; i < 5; i++) step();
      const settled = liveBufferCount();
      for (let i = 0; i < 95; i++) step();
      expect(liveBufferCount()).toBe(settled);
      disposeTree(params);
      disposeTree(state);
      disposeTree(v);
    }
  });
});
