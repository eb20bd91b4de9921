import type { Array as JaxArray } from "@jax-js/jax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { takeToHost, toDevice, toHost } from "../../src/engine/arrays.js";
import { logitsHost } from "../../src/engine/compute.js";
import { initEngine } from "../../src/engine/runtime.js";
import {
  disposeTree,
  flattenToHost,
  refTree,
  treeEntries,
  treeSize,
} from "../../src/engine/tree.js";
import {
  buildMlp,
  buildModel,
  MODEL_NAMES,
  ModelConfigError,
  PAPER_ARCHITECTURES,
} from "../../src/models/index.js";
import type { Model, Params } from "../../src/models/types.js";
import { digitsLike, maxAbsDiff } from "../engine/helpers.js";

beforeAll(async () => {
  await initEngine();
});

const config = { inputDim: 64, numClasses: 10 };
const n = 6;
let x32: JaxArray;
let x64: JaxArray;

beforeAll(() => {
  const xs = digitsLike(n);
  x32 = toDevice(xs, [n, 64], "float32");
  x64 = toDevice(xs, [n, 64], "float64");
});

afterAll(() => {
  x32.dispose();
  x64.dispose();
});

/** Parameter counts worked out by hand from docs/science.md §4. */
const expectedCounts: Record<string, number> = {
  linear: 64 * 10 + 10,
  mlp: 64 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10,
  "mlp-relu": 64 * 128 + 128 + 128 * 10 + 10,
  // conv1 16·1·9+16, conv2 32·16·9+32, flatten 32·2·2 = 128 → 64, head 64 → 10
  cnn: 16 * 9 + 16 + 32 * 16 * 9 + 32 + 128 * 64 + 64 + 64 * 10 + 10,
  // three Linear(→64) + LayerNorm(64) blocks, head
  "mlp-ln": 64 * 64 + 64 + 128 + 2 * (64 * 64 + 64 + 128) + 64 * 10 + 10,
  // conv1 32·1·3+32, bn1 64, conv2 32·32·3+32, bn2 64, head 32·10+10
  "cnn-bn": 32 * 3 + 32 + 64 + 32 * 32 * 3 + 32 + 64 + 32 * 10 + 10,
  // embed 8→32, cls 32, pos 9·32, per block 2 LN (128) + 4·(32·32+32) + 32·128+128 + 128·32+32,
  // final LN 64, head 32·10+10
  transformer:
    8 * 32 +
    32 +
    32 +
    9 * 32 +
    2 * (128 + 4 * (32 * 32 + 32) + 32 * 128 + 128 + 128 * 32 + 32) +
    64 +
    32 * 10 +
    10,
};

// The residual nets have their own suite (test/models/resnet.test.ts).
describe.each([...PAPER_ARCHITECTURES, "mlp-relu"])("%s", (name) => {
  it("has the SPEC's parameter count and [batch, classes] logits in float32 and float64", () => {
    for (const [dtype, x] of [
      ["float32", x32],
      ["float64", x64],
    ] as const) {
      const model = buildModel(name, { ...config, dtype });
      const { params, state } = model.init(0);
      expect(treeSize(params)).toBe(expectedCounts[name]);
      for (const [, leaf] of treeEntries(params)) expect(leaf.dtype).toBe(dtype);
      const z = model.apply(refTree(params), x.ref, { mode: "eval", state: refTree(state) });
      expect(z.shape).toEqual([n, 10]);
      expect(z.dtype).toBe(dtype);
      const values = takeToHost(z);
      expect(values.every(Number.isFinite)).toBe(true);
      disposeTree(params);
      disposeTree(state);
    }
  });

  it("initialises deterministically from the seed", () => {
    const model = buildModel(name, config);
    const a = model.init(7);
    const b = model.init(7);
    const c = model.init(8);
    const fa = flattenToHost(a.params);
    expect(maxAbsDiff(fa, flattenToHost(b.params))).toBe(0);
    expect(maxAbsDiff(fa, flattenToHost(c.params))).toBeGreaterThan(0);
    for (const t of [a, b, c]) {
      disposeTree(t.params);
      disposeTree(t.state);
    }
  });

  it("float32 and float64 instances start from the same values and agree", () => {
    const m32 = buildModel(name, { ...config, dtype: "float32" });
    const m64 = buildModel(name, { ...config, dtype: "float64" });
    const p32 = m32.init(3);
    const p64 = m64.init(3);
    const f32 = flattenToHost(p32.params);
    const f64 = flattenToHost(p64.params);
    expect(maxAbsDiff(f32, f64)).toBeLessThan(1e-7);
    const z32 = logitsHost(m32, p32.params, p32.state, x32);
    const z64 = logitsHost(m64, p64.params, p64.state, x64);
    expect(maxAbsDiff(z32, z64)).toBeLessThan(2e-5);
    for (const t of [p32, p64]) {
      disposeTree(t.params);
      disposeTree(t.state);
    }
  });

  it("divides the logits by the temperature", () => {
    const base = buildModel(name, { ...config, dtype: "float64" });
    const hot = buildModel(name, { ...config, dtype: "float64", temperature: 4 });
    const { params, state } = base.init(1);
    const z1 = logitsHost(base, params, state, x64);
    const z4 = logitsHost(hot, params, state, x64);
    expect(
      maxAbsDiff(
        z4,
        Array.from(z1, (v) => v / 4),
      ),
    ).toBeLessThan(1e-14);
    // The per-call override wins over the configured value.
    const z2 = logitsHost(hot, params, state, x64, { temperature: 0.5 });
    expect(
      maxAbsDiff(
        z2,
        Array.from(z1, (v) => v * 2),
      ),
    ).toBeLessThan(1e-13);
    disposeTree(params);
    disposeTree(state);
  });
});

describe("standard initialisation", () => {
  function leaf(params: Params, path: string): Float64Array {
    const found = treeEntries(params).find(([p]) => p === path);
    if (!found) throw new Error(`no ${path}`);
    return toHost(found[1]);
  }

  it("Linear layers draw weight and bias from U(±1/√fan_in)", () => {
    const model = buildModel("mlp", config);
    const { params } = model.init(0);
    for (const [path, fanIn] of [
      ["fc1", 64],
      ["fc2", 128],
      ["head", 128],
    ] as const) {
      const bound = 1 / Math.sqrt(fanIn);
      for (const part of ["w", "b"]) {
        const v = leaf(params, `${path}.${part}`);
        const max = Math.max(...v.map(Math.abs));
        expect(max).toBeLessThanOrEqual(bound);
        // Uniform on ±bound: the largest of many draws sits near the bound, variance bound²/3.
        if (v.length > 1000) {
          expect(max).toBeGreaterThan(0.99 * bound);
          const variance = v.reduce((s, t) => s + t * t, 0) / v.length;
          expect(Math.abs(variance / ((bound * bound) / 3) - 1)).toBeLessThan(0.05);
        }
      }
    }
    disposeTree(params);
  });

  it("convolutions use fan_in = in_channels · kernel size", () => {
    const model = buildModel("cnn", config);
    const { params } = model.init(0);
    expect(Math.max(...leaf(params, "conv1.w").map(Math.abs))).toBeLessThanOrEqual(1 / 3);
    const w2 = leaf(params, "conv2.w");
    expect(Math.max(...w2.map(Math.abs))).toBeLessThanOrEqual(1 / 12);
    expect(Math.max(...w2.map(Math.abs))).toBeGreaterThan(0.99 / 12);
    disposeTree(params);
  });

  it("norm layers start at γ = 1, β = 0 and BatchNorm statistics at mean 0, var 1", () => {
    const ln = buildModel("mlp-ln", config).init(0);
    expect(leaf(ln.params, "ln2.gamma").every((v) => v === 1)).toBe(true);
    expect(leaf(ln.params, "ln2.beta").every((v) => v === 0)).toBe(true);
    const bn = buildModel("cnn-bn", config).init(0);
    expect(leaf(bn.params, "bn1.gamma").every((v) => v === 1)).toBe(true);
    expect(leaf(bn.state as Params, "bn1.mean").every((v) => v === 0)).toBe(true);
    expect(leaf(bn.state as Params, "bn2.var").every((v) => v === 1)).toBe(true);
    for (const t of [ln, bn]) {
      disposeTree(t.params);
      disposeTree(t.state);
    }
  });

  it("transformer CLS token and positions ~ N(0, 0.02²)", () => {
    const { params } = buildModel("transformer", config).init(0);
    const pos = leaf(params, "pos");
    const mean = pos.reduce((s, v) => s + v, 0) / pos.length;
    const sd = Math.sqrt(pos.reduce((s, v) => s + (v - mean) ** 2, 0) / pos.length);
    expect(pos.length).toBe(9 * 32);
    expect(Math.abs(mean)).toBeLessThan(0.005);
    expect(Math.abs(sd / 0.02 - 1)).toBeLessThan(0.15);
    expect(leaf(params, "cls").length).toBe(32);
    disposeTree(params);
  });
});

describe("shape adaptation and bad input", () => {
  it("the 2-D CNN rejects a non-square input width, naming the problem", () => {
    expect(() => buildModel("cnn", { inputDim: 60, numClasses: 10 })).toThrow(ModelConfigError);
    expect(() => buildModel("cnn", { inputDim: 60, numClasses: 10 })).toThrow(/perfect square/);
    // A square side the two 2×2 pools cannot halve twice is rejected too.
    expect(() => buildModel("cnn", { inputDim: 36, numClasses: 10 })).toThrow(/divisible by 4/);
  });

  it("the CNN adapts to a larger square image and the class count", () => {
    const model = buildModel("cnn", { inputDim: 256, numClasses: 3 });
    const { params, state } = model.init(0);
    const x = toDevice(digitsLike(2, 256), [2, 256]);
    const z = model.apply(refTree(params), x, { mode: "eval", state });
    expect(z.shape).toEqual([2, 3]);
    z.dispose();
    disposeTree(params);
  });

  it("a transformer without attention biases has the same other parameters, and computes as zero biases", () => {
    const withBias = buildModel("transformer", config);
    const noBias = buildModel("transformer", { ...config, attentionBias: false });
    const a = withBias.init(3).params;
    const b = noBias.init(3).params;
    const entries = (t: Params) => treeEntries(t).map(([path, v]) => [path, toHost(v)] as const);
    const ea = entries(a);
    const eb = entries(b);
    const isAttnBias = (path: string) => /^block\d\.attn\.[qkvo]\.b$/.test(path);
    expect(ea.filter(([path]) => isAttnBias(path)).length).toBe(8);
    expect(eb.map(([path]) => path)).toEqual(
      ea.map(([path]) => path).filter((path) => !isAttnBias(path)),
    );
    for (const [path, v] of eb) expect(v, path).toEqual(ea.find(([q]) => q === path)![1]);
    // the biased model with its attention biases set to zero is the bias-free model
    const zeroed = refTree(a);
    for (const blk of ["block1", "block2"]) {
      const attn = (zeroed[blk] as Params)["attn"] as Params;
      for (const k of ["q", "k", "v", "o"]) {
        const proj = attn[k] as Params;
        (proj["b"] as JaxArray).dispose();
        proj["b"] = toDevice(new Float64Array(32), [32]);
      }
    }
    const x = toDevice(digitsLike(3, 64), [3, 64]);
    const za = withBias.apply(zeroed, x.ref, { mode: "eval" });
    const zb = noBias.apply(refTree(b), x, { mode: "eval" });
    expect(maxAbsDiff(takeToHost(za), takeToHost(zb))).toBe(0);
    disposeTree(a);
    disposeTree(b);
  });

  it("the transformer needs a square width or an explicit token count", () => {
    expect(() => buildModel("transformer", { inputDim: 60, numClasses: 10 })).toThrow(/tokens/);
    expect(() => buildModel("transformer", { inputDim: 60, numClasses: 10, tokens: 7 })).toThrow(
      /cannot be cut into 7 equal tokens/,
    );
    const model = buildModel("transformer", { inputDim: 60, numClasses: 4, tokens: 6 });
    const { params } = model.init(0);
    expect(treeEntries(params).find(([p]) => p === "pos")![1].shape).toEqual([7, 32]);
    expect(treeEntries(params).find(([p]) => p === "embed.w")![1].shape).toEqual([10, 32]);
    const x = toDevice(digitsLike(2, 60), [2, 60]);
    const z = model.apply(refTree(params), x, { mode: "eval" });
    expect(z.shape).toEqual([2, 4]);
    z.dispose();
    disposeTree(params);
  });

  it("rejects unknown names, bad configs and wrongly shaped input", () => {
    expect(() => buildModel("resnet", config)).toThrow(/unknown model "resnet"/);
    expect(() => buildModel("mlp", { inputDim: 0, numClasses: 10 })).toThrow(ModelConfigError);
    expect(() => buildModel("mlp", { inputDim: 64, numClasses: 1 })).toThrow(/numClasses/);
    expect(() => buildModel("mlp", { ...config, temperature: 0 })).toThrow(/temperature/);
    const model = buildModel("linear", config);
    const { params } = model.init(0);
    const bad = toDevice(new Float64Array(2 * 63), [2, 63]);
    expect(() => model.apply(refTree(params), bad, { mode: "eval" })).toThrow(/\[batch, 64\]/);
    disposeTree(params);
  });

  it("one MLP builder makes both the GELU and ReLU variants", () => {
    const relu = buildMlp(config, { name: "tiny", hidden: [3], activation: "relu" });
    const gelu = buildMlp(config, { name: "tiny", hidden: [3], activation: "gelu" });
    const p = relu.init(0);
    const x = toDevice(digitsLike(4), [4, 64], "float32");
    const zr = logitsHost(relu, p.params, p.state, x);
    const zg = logitsHost(gelu, p.params, p.state, x);
    expect(maxAbsDiff(zr, zg)).toBeGreaterThan(1e-4);
    x.dispose();
    disposeTree(p.params);
  });
});

describe("collectInternals", () => {
  it("the transformer returns pre-softmax scores and FFN pre-activations per block", () => {
    const model = buildModel("transformer", config);
    const { params } = model.init(0);
    const out = model.forward(refTree(params), x32.ref, { mode: "eval", collectInternals: true });
    const internals = out.internals!;
    expect(internals.attentionScores.map((a) => a.shape)).toEqual([
      [n, 4, 9, 9],
      [n, 4, 9, 9],
    ]);
    expect(internals.ffnPreActivations.map((a) => a.shape)).toEqual([
      [n, 9, 128],
      [n, 9, 128],
    ]);
    // The logits do not depend on whether internals were collected.
    const plain = model.apply(refTree(params), x32.ref, { mode: "eval" });
    expect(maxAbsDiff(toHost(out.logits), takeToHost(plain))).toBe(0);
    out.logits.dispose();
    for (const a of [...internals.attentionScores, ...internals.ffnPreActivations]) a.dispose();
    disposeTree(params);
  });

  it("other models return no internals", () => {
    const model: Model = buildModel("mlp", config);
    const { params } = model.init(0);
    const out = model.forward(params, x32.ref, { mode: "eval", collectInternals: true });
    expect(out.internals).toBeUndefined();
    out.logits.dispose();
  });
});

describe("registry", () => {
  it("lists the six paper architectures plus the ReLU MLP", () => {
    expect(PAPER_ARCHITECTURES).toEqual([
      "linear",
      "mlp",
      "cnn",
      "mlp-ln",
      "cnn-bn",
      "transformer",
    ]);
    expect([...MODEL_NAMES].sort()).toEqual(
      [...PAPER_ARCHITECTURES, "mlp-relu", "resnet-small", "resnet18"].sort(),
    );
  });
});
