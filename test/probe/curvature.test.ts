import type { Array as JaxArray } from "@jax-js/jax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labelsToDevice, toDevice, toHost } from "../../src/engine/arrays.js";
import { lossAndGrad } from "../../src/engine/compute.js";
import { initEngine } from "../../src/engine/runtime.js";
import {
  axpyTree,
  castTree,
  disposeTree,
  dotTree,
  normTree,
  scaleTree,
  treeEntries,
  treeSize,
  unflattenFromHost,
} from "../../src/engine/tree.js";
import { buildModel } from "../../src/models/index.js";
import type { Params } from "../../src/models/types.js";
import { curvatureStep, directionalCurvature, ProbeError } from "../../src/probe/index.js";
import { digitsLike, lcg } from "../engine/helpers.js";
import { expectNoLeak } from "../engine/leak.js";

beforeAll(async () => {
  await initEngine();
});

const config = { inputDim: 64, numClasses: 10 };
const n = 9;
const xs = digitsLike(n, 64, 5);
const labels = Int32Array.from({ length: n }, (_, i) => (i * 7) % 10);
let x32: JaxArray;
let x64: JaxArray;

beforeAll(() => {
  x32 = toDevice(xs, [n, 64], "float32");
  x64 = toDevice(xs, [n, 64], "float64");
});

afterAll(() => {
  x32.dispose();
  x64.dispose();
});

/** A direction of norm `norm` with independent uniform entries. */
function direction(params: Params, seed: number, norm = 1): Params {
  const r = lcg(seed);
  const raw = unflattenFromHost(
    params,
    Float64Array.from({ length: treeSize(params) }, () => 2 * r() - 1),
  );
  const out = scaleTree(raw, norm / normTree(raw));
  disposeTree(raw);
  return out;
}

function leafOf(t: Params, path: string): Float64Array {
  return toHost(treeEntries(t).find(([p]) => p === path)![1]);
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe("linear softmax model: κ against the closed form", () => {
  // z_i = W x_i + b, so along v = (V, c) the logits move by a_i = V x_i + c, and the Hessian
  // of the mean cross-entropy gives vᵀHv = (1/n) Σ_i a_iᵀ (diag p_i − p_i p_iᵀ) a_i.
  const model = buildModel("linear", config);
  let params: Params;
  let v: Params;
  let want: { loss: number; slope: number; curvature: number };

  beforeAll(() => {
    params = scaleTree(model.init(3).params, 4); // sharper softmaxes than at initialisation
    const norm = 2.5; // not a unit direction: results are per unit length along v̂
    v = direction(params, 1, norm);
    const w = leafOf(params, "head.w");
    const b = leafOf(params, "head.b");
    const vw = leafOf(v, "head.w");
    const vb = leafOf(v, "head.b");
    const k = 10;
    let loss = 0;
    let slope = 0;
    let curvature = 0;
    for (let i = 0; i < n; i++) {
      const z = new Float64Array(k);
      const a = new Float64Array(k);
      for (let c = 0; c < k; c++) {
        z[c] = b[c]!;
        a[c] = vb[c]! / norm;
        for (let f = 0; f < 64; f++) {
          z[c] += xs[i * 64 + f]! * w[f * k + c]!;
          a[c] += (xs[i * 64 + f]! * vw[f * k + c]!) / norm;
        }
      }
      const m = Math.max(...z);
      const e = z.map((zc) => Math.exp(zc - m));
      const s = e.reduce((u, t) => u + t, 0);
      const p = e.map((t) => t / s);
      const y = labels[i]!;
      loss += (m + Math.log(s) - z[y]!) / n;
      let mean = 0;
      for (let c = 0; c < k; c++) mean += p[c]! * a[c]!;
      slope += (mean - a[y]!) / n;
      let variance = 0;
      for (let c = 0; c < k; c++) variance += p[c]! * (a[c]! - mean) ** 2;
      curvature += variance / n;
    }
    want = { loss, slope, curvature };
  });

  afterAll(() => {
    disposeTree(params);
    disposeTree(v);
  });

  it("the HVP (float32) matches loss, slope and κ", () => {
    const got = directionalCurvature(model, params, {}, v, x32, labels);
    expect(got.method).toBe("hvp");
    expect(got.dtype).toBe("float32");
    expect(got.directionNorm).toBeCloseTo(2.5, 5);
    expect(rel(got.loss, want.loss)).toBeLessThan(1e-5);
    expect(rel(got.slope, want.slope)).toBeLessThan(1e-4);
    expect(rel(got.curvature, want.curvature)).toBeLessThan(1e-4);
    expect(got.curvatureStep).toBeCloseTo(2 / got.curvature, 12);
  });

  it("gradient differences (float64) match κ, chunked or not", () => {
    for (const chunk of [2048, 4]) {
      const got = directionalCurvature(model, params, {}, v, x32, labels, { method: "fd", chunk });
      expect(got.dtype).toBe("float64");
      expect(got.eps).toBeGreaterThan(0);
      // the parameters are float32 values; the closed form reads the same values back
      expect(rel(got.curvature, want.curvature)).toBeLessThan(1e-7);
      expect(rel(got.slope, want.slope)).toBeLessThan(1e-6); // ‖v‖ of float32 entries ≠ 2.5 exactly
    }
  });
});

describe("MLP: the HVP against central differences of the gradient", () => {
  const model = buildModel("mlp", { ...config, dtype: "float64" });
  let params: Params;
  let v: Params;
  let fd: number;

  beforeAll(() => {
    params = model.init(7).params;
    v = direction(params, 2);
    // Independent reference: ∇L at θ ± εv from the training code's gradient, in float64.
    const eps = 1e-4;
    const y = labelsToDevice(labels);
    const grad = (t: number) => {
      const moved = axpyTree(t, v, params);
      const lg = lossAndGrad(model, moved, {}, x64, y, { mode: "eval" });
      const gv = dotTree(lg.grads, v);
      disposeTree(moved);
      disposeTree(lg.grads);
      disposeTree(lg.state);
      return gv;
    };
    fd = (grad(eps) - grad(-eps)) / (2 * eps);
    y.dispose();
  });

  afterAll(() => {
    disposeTree(params);
    disposeTree(v);
  });

  it("κ by HVP (cast to float32) agrees to float32 accuracy", () => {
    const got = directionalCurvature(model, params, {}, v, x64, labels);
    expect(got.dtype).toBe("float32");
    expect(rel(got.curvature, fd)).toBeLessThan(2e-3);
  });

  it("κ by the probe's own gradient differences agrees closely", () => {
    const got = directionalCurvature(model, params, {}, v, x64, labels, { method: "fd" });
    expect(rel(got.curvature, fd)).toBeLessThan(1e-6);
  });

  it("a float32 MLP gives the same κ by HVP, and the cast model's inputs are borrowed", () => {
    const m32 = buildModel("mlp", config);
    const p32 = castTree(params, "float32");
    const v32 = castTree(v, "float32");
    const got = directionalCurvature(m32, p32, {}, v32, x32, labels, { chunk: 4 });
    expect(rel(got.curvature, fd)).toBeLessThan(2e-3);
    // still usable: nothing was consumed
    expect(normTree(v32)).toBeCloseTo(1, 5);
    disposeTree(p32);
    disposeTree(v32);
  });
});

describe("conv, BatchNorm and attention: the HVP against float64 gradient differences", () => {
  for (const name of ["cnn", "cnn-bn", "transformer"]) {
    it(name, () => {
      const model = buildModel(name, config);
      const { params, state } = model.init(1);
      const v = direction(params, 3);
      const hvp = directionalCurvature(model, params, state, v, x32, labels);
      const fd = directionalCurvature(model, params, state, v, x32, labels, { method: "fd" });
      expect(rel(hvp.curvature, fd.curvature)).toBeLessThan(1e-4);
      disposeTree(params);
      disposeTree(state);
      disposeTree(v);
    });
  }
});

describe("directionalCurvature: bad requests and memory", () => {
  const model = buildModel("cnn-bn", config);
  const { params, state } = model.init(0);
  const v = direction(params, 4);

  afterAll(() => {
    disposeTree(params);
    disposeTree(state);
    disposeTree(v);
  });

  it("refuses a float64 HVP, bad shapes and a zero direction with one-line errors", () => {
    expect(() =>
      directionalCurvature(model, params, state, v, x32, labels, { dtype: "float64" }),
    ).toThrow(/float32 only.*"fd"/);
    expect(() => directionalCurvature(model, params, state, v, x32, labels.subarray(1))).toThrow(
      ProbeError,
    );
    const zero = scaleTree(v, 0);
    expect(() => directionalCurvature(model, params, state, zero, x32, labels)).toThrow(
      /positive finite norm/,
    );
    disposeTree(zero);
    expect(() =>
      directionalCurvature(model, params, state, v, x32, labels, { method: "x" as never }),
    ).toThrow(/unknown method/);
  });

  it("2/κ is +∞ without positive curvature", () => {
    expect(curvatureStep(0)).toBe(Number.POSITIVE_INFINITY);
    expect(curvatureStep(-1)).toBe(Number.POSITIVE_INFINITY);
    expect(curvatureStep(4)).toBe(0.5);
  });

  it("borrows everything and leaks no device buffer (BatchNorm model, chunked, both methods)", async () => {
    await expectNoLeak(() =>
      directionalCurvature(model, params, state, v, x32, labels, { chunk: 4 }),
    );
    await expectNoLeak(() =>
      directionalCurvature(model, params, state, v, x32, labels, { method: "fd", chunk: 4 }),
    );
  });
});
