import type { Array as JaxArray } from "@jax-js/jax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toDevice, toHost } from "../../src/engine/arrays.js";
import { logitsHost } from "../../src/engine/compute.js";
import { initEngine } from "../../src/engine/runtime.js";
import {
  disposeTree,
  flattenToHost,
  normTree,
  refTree,
  scaleTree,
  treeEntries,
  treeSize,
  unflattenFromHost,
} from "../../src/engine/tree.js";
import { buildModel, PAPER_ARCHITECTURES } from "../../src/models/index.js";
import type { Model, Params } from "../../src/models/types.js";
import {
  defaultFdEps,
  directionalLogitDerivatives,
  ProbeError,
  quantileOf,
  transformerInternalDerivatives,
} from "../../src/probe/directional.js";
import { quantile, spreads } from "../../src/theory/spread.js";
import { digitsLike, lcg, maxAbsDiff, relDiff } from "../engine/helpers.js";
import { hostInternals } from "./internals.helpers.js";

beforeAll(async () => {
  await initEngine();
});

const config = { inputDim: 64, numClasses: 10 };
const n = 7;
const xs = digitsLike(n, 64, 11);
let x64: JaxArray;
let x32: JaxArray;

beforeAll(() => {
  x64 = toDevice(xs, [n, 64], "float64");
  x32 = toDevice(xs, [n, 64], "float32");
});

afterAll(() => {
  x64.dispose();
  x32.dispose();
});

/** A unit direction with independent uniform entries. */
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

function leafOf(t: Params, path: string): Float64Array {
  return toHost(treeEntries(t).find(([p]) => p === path)![1]);
}

describe("linear model: a = V_w·x + V_b exactly", () => {
  const model = buildModel("linear", { ...config, dtype: "float64" });
  let params: Params;
  const state = {};
  let v: Params;
  const want: number[] = [];

  beforeAll(() => {
    params = model.init(0).params;
    v = randomDirection(params, 1);
    const vw = leafOf(v, "head.w");
    const vb = leafOf(v, "head.b");
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 10; c++) {
        let s = vb[c]!;
        for (let f = 0; f < 64; f++) s += xs[i * 64 + f]! * vw[f * 10 + c]!;
        want.push(s);
      }
    }
  });

  afterAll(() => {
    disposeTree(params);
    disposeTree(v);
  });

  it("by JVP (float64, to rounding) and returns the logits", () => {
    const r = directionalLogitDerivatives(model, params, state, v, x64);
    expect(r).toMatchObject({ n, k: 10, method: "jvp", dtype: "float64" });
    expect(maxAbsDiff(r.a, want)).toBeLessThan(1e-14);
    expect(maxAbsDiff(r.logits, logitsHost(model, params, state, x64))).toBe(0);
  });

  it("by central differences (float64), with the documented default step", () => {
    const r = directionalLogitDerivatives(model, params, state, v, x64, { method: "fd" });
    const maxAbs = Math.max(1, ...flattenToHost(params).map(Math.abs));
    expect(r.eps).toBeCloseTo((Math.cbrt(2 ** -53) * maxAbs) / normTree(v), 18);
    expect(r.eps).toBe(defaultFdEps(params, v, "float64"));
    expect(maxAbsDiff(r.a, want)).toBeLessThan(1e-9);
  });

  it("by JVP in float32 for a float32 model (to float32 rounding)", () => {
    const m32 = buildModel("linear", config);
    const p32 = m32.init(0);
    const v32 = randomDirection(p32.params, 1);
    const r = directionalLogitDerivatives(m32, p32.params, p32.state, v32, x32);
    expect(r.dtype).toBe("float32");
    expect(maxAbsDiff(r.a, want)).toBeLessThan(1e-5);
    disposeTree(p32.params);
    disposeTree(v32);
  });
});

describe.each(PAPER_ARCHITECTURES)("%s", (name) => {
  let model: Model;
  let params: Params;
  let state: Params;
  let v: Params;

  beforeAll(() => {
    model = buildModel(name, { ...config, dtype: "float64" });
    const init = model.init(5);
    params = init.params;
    state = init.state as Params;
    v = randomDirection(params, 9);
  });

  afterAll(() => {
    for (const t of [params, state, v]) disposeTree(t);
  });

  it("JVP and central differences agree (float64)", () => {
    const exact = directionalLogitDerivatives(model, params, state, v, x64);
    const fd = directionalLogitDerivatives(model, params, state, v, x64, { method: "fd" });
    expect(relDiff(fd.a, exact.a)).toBeLessThan(1e-5);
    expect(maxAbsDiff(fd.logits, exact.logits)).toBe(0);
    expect(exact.a.every(Number.isFinite)).toBe(true);
  });

  it("is linear in the direction, unchanged by chunking, and scales with 1/T", () => {
    const base = directionalLogitDerivatives(model, params, state, v, x64);
    const v3 = scaleTree(v, 3);
    const tripled = directionalLogitDerivatives(model, params, state, v3, x64, { chunk: 3 });
    disposeTree(v3);
    expect(
      relDiff(
        tripled.a,
        base.a.map((t) => 3 * t),
      ),
    ).toBeLessThan(1e-12);
    expect(relDiff(tripled.logits, base.logits)).toBeLessThan(1e-12);
    const hot = directionalLogitDerivatives(model, params, state, v, x64, { temperature: 2 });
    expect(
      relDiff(
        hot.a,
        base.a.map((t) => t / 2),
      ),
    ).toBeLessThan(1e-14);
  });
});

describe("float32 models", () => {
  it("FD runs in the model's float32 by default, float64 on request, each to its accuracy", () => {
    const model = buildModel("mlp", config);
    const { params, state } = model.init(0);
    const v = randomDirection(params, 2);
    const exact64 = directionalLogitDerivatives(model, params, state, v, x32, { dtype: "float64" });
    const fd = directionalLogitDerivatives(model, params, state, v, x32, { method: "fd" });
    expect(fd.dtype).toBe("float32");
    expect(fd.eps).toBe(defaultFdEps(params, v, "float32"));
    // float32 central differences: rounding ~u·|z|/ε dominates, far above float32's 1e-7 …
    const err32 = relDiff(fd.a, exact64.a);
    expect(err32).toBeGreaterThan(1e-6);
    expect(err32).toBeLessThan(1e-3);
    // … and the per-sample spreads ρ_a is made of keep that accuracy.
    const s32 = spreads({ data: fd.a, n, k: 10 });
    const s64 = spreads({ data: exact64.a, n, k: 10 });
    expect(relDiff(s32, s64)).toBeLessThan(1e-3);
    // The float64 evaluation of the same float32 model agrees with the float64 JVP much better.
    const fd64 = directionalLogitDerivatives(model, params, state, v, x32, {
      method: "fd",
      dtype: "float64",
    });
    expect(fd64.dtype).toBe("float64");
    expect(relDiff(fd64.a, exact64.a)).toBeLessThan(1e-7);
    // Slopes alone (no evaluation at θ): the same slopes, bit for bit, and no logits.
    const slopes = directionalLogitDerivatives(model, params, state, v, x32, {
      method: "fd",
      logits: false,
      chunk: 3,
    });
    expect(Array.from(slopes.a)).toEqual(Array.from(fd.a));
    expect(slopes.logits).toHaveLength(0);
    expect(slopes.eps).toBe(fd.eps);
    disposeTree(params);
    disposeTree(v);
  });
});

describe("BatchNorm models", () => {
  it("are probed in eval mode with the running statistics, which stay untouched", () => {
    const model = buildModel("cnn-bn", { ...config, dtype: "float64" });
    const { params, state } = model.init(0);
    // Move the running statistics away from (0, 1) so eval and train modes differ.
    const moved = unflattenFromHost(
      state,
      flattenToHost(state).map((s, i) => s + 0.1 * Math.sin(i)),
    );
    const before = flattenToHost(moved);
    const v = randomDirection(params, 3);
    const r = directionalLogitDerivatives(model, params, moved, v, x64);
    expect(Array.from(flattenToHost(moved))).toEqual(Array.from(before));
    expect(maxAbsDiff(r.logits, logitsHost(model, params, moved, x64))).toBe(0);
    const train = model.forward(refTree(params), x64.ref, { mode: "train", state: refTree(moved) });
    expect(maxAbsDiff(toHost(train.logits), r.logits)).toBeGreaterThan(1e-3);
    train.logits.dispose();
    disposeTree(train.state);
    for (const t of [params, state, moved, v]) disposeTree(t);
  });

  it('mode "train": batch statistics, FD and JVP radii agree to FD accuracy, nothing is modified', () => {
    const model = buildModel("cnn-bn", config);
    const { params, state } = model.init(0);
    const moved = unflattenFromHost(
      state,
      flattenToHost(state).map((s, i) => s + 0.1 * Math.sin(i)),
    );
    const stateBefore = Array.from(flattenToHost(moved));
    const paramsBefore = Array.from(flattenToHost(params));
    const v = randomDirection(params, 5);
    const jvpTrain = directionalLogitDerivatives(model, params, moved, v, x32, { mode: "train" });
    // h = 1e-5: at these rows a ReLU kink lies between 1e-5 and 1e-4 along v (h = 1e-4, the
    // published step, is off by 3e-3 here; 1e-2 and 1e-3 by 1e-2 and 5e-3: no h² convergence)
    const fdTrain = directionalLogitDerivatives(model, params, moved, v, x32, {
      method: "fd",
      mode: "train",
      fdStep: 1e-5,
      dtype: "float64",
    });
    const jvpEval = directionalLogitDerivatives(model, params, moved, v, x32);
    // the probed function is the training step's: logits with the rows' own statistics
    const train = model.forward(refTree(params), x32.ref, { mode: "train", state: refTree(moved) });
    expect(relDiff(jvpTrain.logits, toHost(train.logits))).toBeLessThan(1e-6);
    train.logits.dispose();
    disposeTree(train.state);
    // a unit direction: ε = h/‖v‖ = h
    expect(fdTrain.eps).toBeCloseTo(1e-5, 12);
    // central differences in float64 against the float32 JVP: float32 rounding dominates
    expect(relDiff(fdTrain.a, jvpTrain.a)).toBeLessThan(1e-5);
    const rho = (a: Float64Array) => {
      let m = 0;
      for (let i = 0; i < n; i++) {
        const row = a.subarray(i * 10, i * 10 + 10);
        m = Math.max(m, Math.max(...row) - Math.min(...row));
      }
      return Math.PI / m;
    };
    expect(Math.abs(rho(fdTrain.a) / rho(jvpTrain.a) - 1)).toBeLessThan(1e-5);
    // another function than eval mode's (so the agreement above is not eval mode's)
    expect(relDiff(jvpTrain.a, jvpEval.a)).toBeGreaterThan(1e-2);
    // all rows in one call whatever the chunk: a chunk's own statistics would differ
    const chunked = directionalLogitDerivatives(model, params, moved, v, x32, {
      mode: "train",
      chunk: 2,
    });
    expect(maxAbsDiff(chunked.a, jvpTrain.a)).toBe(0);
    // neither the running statistics nor the weights move
    expect(Array.from(flattenToHost(moved))).toEqual(stateBefore);
    expect(Array.from(flattenToHost(params))).toEqual(paramsBefore);
    expect(() =>
      directionalLogitDerivatives(model, params, moved, v, x32, {
        method: "fd",
        eps: 1e-3,
        fdStep: 1e-4,
      }),
    ).toThrow(/eps or fdStep/);
    for (const t of [params, state, moved, v]) disposeTree(t);
  });
});

describe("bad requests", () => {
  it("throw ProbeError with a clear message", () => {
    const model = buildModel("linear", config);
    const { params, state } = model.init(0);
    const v = randomDirection(params, 4);
    const wrong = toDevice(new Float64Array(2 * 63), [2, 63]);
    expect(() => directionalLogitDerivatives(model, params, state, v, wrong)).toThrow(ProbeError);
    expect(() => directionalLogitDerivatives(model, params, state, v, wrong)).toThrow(/\[n, 64\]/);
    expect(() => directionalLogitDerivatives(model, params, state, v, x32, { chunk: 0 })).toThrow(
      /chunk/,
    );
    const zero = scaleTree(v, 0);
    expect(() =>
      directionalLogitDerivatives(model, params, state, zero, x32, { method: "fd" }),
    ).toThrow(/positive finite norm/);
    expect(() =>
      directionalLogitDerivatives(model, params, state, v, x32, { method: "fd", eps: -1 }),
    ).toThrow(/eps/);
    expect(() => transformerInternalDerivatives(model, params, state, v, x32)).toThrow(
      /no internals/,
    );
    for (const t of [params, v, zero]) disposeTree(t);
    wrong.dispose();
  });
});

describe("transformerInternalDerivatives", () => {
  it("matches host central differences of the attention scores and FFN pre-activations", () => {
    const model = buildModel("transformer", { ...config, dtype: "float64" });
    const { params, state } = model.init(1);
    const v = randomDirection(params, 6);
    const exact = transformerInternalDerivatives(model, params, state, v, x64, { chunk: 4 });
    const fd = transformerInternalDerivatives(model, params, state, v, x64, { method: "fd" });
    const plain = directionalLogitDerivatives(model, params, state, v, x64);
    expect(maxAbsDiff(exact.a, plain.a)).toBeLessThan(1e-15);

    // Independent path: the internals at θ ± εv, evaluated eagerly and differenced on the host.
    const { spread, ratioMin, ratios } = hostInternals(model, params, v, x64, n);
    expect(relDiff(exact.attentionSpread, spread)).toBeLessThan(1e-6);
    expect(relDiff(fd.attentionSpread, spread)).toBeLessThan(1e-6);
    expect(relDiff(exact.ffnRatioMin, ratioMin)).toBeLessThan(1e-4);
    expect(exact.ffnCount).toBe(ratios.length);
    expect(exact.ffnQuantileLevel).toBe(0.01);
    const q = quantileOf(Float64Array.from(ratios), 0.01);
    expect(Math.abs(exact.ffnRatioQuantile / q - 1)).toBeLessThan(1e-5);
    for (const t of [params, state, v]) disposeTree(t);
  });
});

describe("quantileOf", () => {
  it("returns the ⌈q·m⌉-th smallest value, NaN counted as +∞", () => {
    const r = lcg(3);
    const values = Float64Array.from({ length: 1001 }, () => r() * 100 - 50);
    const sorted = Array.from(values).sort((a, b) => a - b);
    for (const q of [0, 0.01, 0.25, 0.5, 0.999, 1]) {
      const rank = Math.min(1000, Math.max(0, Math.ceil(q * 1001) - 1));
      expect(quantileOf(values, q)).toBe(sorted[rank]);
    }
    expect(quantileOf(Float64Array.from([Number.NaN, 2, 1]), 1)).toBe(Infinity);
    expect(quantileOf(new Float64Array(0), 0.5)).toBeNaN();
    expect(() => quantileOf(values, 1.5)).toThrow(ProbeError);
  });

  it("with method 'linear' equals the theory's type-7 quantile (numpy's and torch's default)", () => {
    const r = lcg(5);
    for (const m of [1, 2, 7, 1001, 4096]) {
      const values = Float64Array.from({ length: m }, () => r() * 100 - 50);
      // ties, to exercise the partitioning
      for (let i = 0; i < m; i += 5) values[i] = Math.round(values[i]!);
      for (const q of [0, 0.01, 0.1, 0.5, 0.77, 0.999, 1]) {
        expect(quantileOf(values, q, "linear"), `m ${m} q ${q}`).toBe(quantile(values, q));
      }
    }
    // NaN counts as +∞, an infinite neighbour is returned as is
    expect(quantileOf(Float64Array.from([1, Number.NaN]), 0.5, "linear")).toBe(Infinity);
    expect(quantileOf(Float64Array.from([1, 2, 3, 4]), 0.5, "linear")).toBe(2.5);
    expect(quantileOf(Float64Array.from([1, 2, 3, 4]), 0.5)).toBe(2);
  });
});
