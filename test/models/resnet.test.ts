import type { Array as JaxArray } from "@jax-js/jax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { takeToHost, toDevice, toHost } from "../../src/engine/arrays.js";
import { logitsHost } from "../../src/engine/compute.js";
import { consumingFn } from "../../src/engine/ops.js";
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
import { ModelConfigError } from "../../src/models/errors.js";
import { buildModel } from "../../src/models/registry.js";
import {
  conv2d as borrowingConv2d,
  buildResNet,
  imageShapeOf,
  RESNET_SMALL_LAYOUT,
} from "../../src/models/resnet.js";
import type { ModelState, Params } from "../../src/models/types.js";
import { directionalLogitDerivatives } from "../../src/probe/directional.js";
import { digitsLike, lcg, maxAbsDiff, relDiff } from "../engine/helpers.js";

beforeAll(async () => {
  await initEngine();
});

// ---------------------------------------------------------------------------------------------
// Plain-JS reference (independent of src): tensors are row-major Float64Arrays [B, C, H, W].

type T4 = { v: Float64Array; b: number; c: number; h: number; w: number };

function refConv(x: T4, w: Float64Array, co: number, k: number, stride: number): T4 {
  const pad = (k - 1) / 2;
  const ho = x.h / stride;
  const wo = x.w / stride;
  const out = new Float64Array(x.b * co * ho * wo);
  for (let n = 0; n < x.b; n++)
    for (let o = 0; o < co; o++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          let s = 0;
          for (let c = 0; c < x.c; c++)
            for (let di = 0; di < k; di++)
              for (let dj = 0; dj < k; dj++) {
                const r = i * stride + di - pad;
                const q = j * stride + dj - pad;
                if (r < 0 || r >= x.h || q < 0 || q >= x.w) continue;
                s +=
                  x.v[((n * x.c + c) * x.h + r) * x.w + q]! * w[((o * x.c + c) * k + di) * k + dj]!;
              }
          out[((n * co + o) * ho + i) * wo + j] = s;
        }
  return { v: out, b: x.b, c: co, h: ho, w: wo };
}

/** BatchNorm; train mode also returns the updated running statistics (momentum 0.1). */
function refBn(
  x: T4,
  gamma: Float64Array,
  beta: Float64Array,
  run: { mean: Float64Array; var: Float64Array },
  mode: "train" | "eval",
): { y: T4; mean?: number[]; var?: number[] } {
  const hw = x.h * x.w;
  const m = x.b * hw;
  const y = new Float64Array(x.v.length);
  const newMean: number[] = [];
  const newVar: number[] = [];
  for (let c = 0; c < x.c; c++) {
    let mu = run.mean[c]!;
    let v = run.var[c]!;
    if (mode === "train") {
      let s = 0;
      for (let n = 0; n < x.b; n++) for (let p = 0; p < hw; p++) s += x.v[(n * x.c + c) * hw + p]!;
      mu = s / m;
      let ss = 0;
      for (let n = 0; n < x.b; n++)
        for (let p = 0; p < hw; p++) ss += (x.v[(n * x.c + c) * hw + p]! - mu) ** 2;
      v = ss / m;
      newMean.push(0.9 * run.mean[c]! + 0.1 * mu);
      newVar.push(0.9 * run.var[c]! + 0.1 * (ss / (m - 1)));
    }
    for (let n = 0; n < x.b; n++)
      for (let p = 0; p < hw; p++) {
        const i = (n * x.c + c) * hw + p;
        y[i] = ((x.v[i]! - mu) / Math.sqrt(v + 1e-5)) * gamma[c]! + beta[c]!;
      }
  }
  const out = { ...x, v: y };
  return mode === "train" ? { y: out, mean: newMean, var: newVar } : { y: out };
}

const reluT = (x: T4): T4 => ({ ...x, v: x.v.map((t) => Math.max(t, 0)) });
const addT = (a: T4, b: T4): T4 => ({ ...a, v: a.v.map((t, i) => t + b.v[i]!) });

/**
 * resnet-small by hand: stem conv-BN-ReLU, two blocks relu(BN(conv(relu(BN(conv x)))) + x),
 * global average pool, dense head. Returns logits and the train-mode running statistics.
 */
function refResNetSmall(
  xs: Float64Array,
  n: number,
  leaf: (path: string) => Float64Array,
  mode: "train" | "eval",
): { logits: number[]; stats: Map<string, number[]> } {
  const stats = new Map<string, number[]>();
  const convBn = (x: T4, conv: string, bn: string) => {
    const h = refConv(x, leaf(`${conv}.w`), 16, 3, 1);
    const r = refBn(
      h,
      leaf(`${bn}.gamma`),
      leaf(`${bn}.beta`),
      { mean: leaf(`state:${bn}.mean`), var: leaf(`state:${bn}.var`) },
      mode,
    );
    if (r.mean) stats.set(`${bn}.mean`, r.mean).set(`${bn}.var`, r.var!);
    return r.y;
  };
  let h = reluT(convBn({ v: xs, b: n, c: 1, h: 8, w: 8 }, "stem.conv", "stem.bn"));
  for (const blk of ["stage1_0", "stage1_1"]) {
    const a = reluT(convBn(h, `${blk}.conv1`, `${blk}.bn1`));
    h = reluT(addT(convBn(a, `${blk}.conv2`, `${blk}.bn2`), h));
  }
  const hw = h.h * h.w;
  const hw_ = leaf("head.w");
  const hb = leaf("head.b");
  const logits: number[] = [];
  for (let i = 0; i < n; i++)
    for (let k = 0; k < 10; k++) {
      let s = hb[k]!;
      for (let c = 0; c < 16; c++) {
        let pool = 0;
        for (let p = 0; p < hw; p++) pool += h.v[(i * 16 + c) * hw + p]!;
        s += (pool / hw) * hw_[c * 10 + k]!;
      }
      logits.push(s);
    }
  return { logits, stats };
}

// ---------------------------------------------------------------------------------------------

const config = { inputDim: 64, numClasses: 10 };

function randArray(len: number, seed: number, scale = 1): Float64Array {
  const r = lcg(seed);
  return Float64Array.from({ length: len }, () => scale * (2 * r() - 1));
}

/** Running statistics moved away from (0, 1) so eval mode is distinguishable from train mode. */
function movedState(state: ModelState): ModelState {
  return unflattenFromHost(
    state,
    flattenToHost(state).map((s, i) =>
      s === 0 ? 0.2 * Math.sin(i) : 0.6 + 0.5 * Math.cos(i) ** 2,
    ),
  ) as ModelState;
}

describe("imageShapeOf", () => {
  it("reads s² as one channel and 3·s² as RGB, and rejects anything else", () => {
    expect(imageShapeOf("m", 64)).toEqual({ channels: 1, side: 8 });
    expect(imageShapeOf("m", 3072)).toEqual({ channels: 3, side: 32 });
    expect(imageShapeOf("m", 48)).toEqual({ channels: 3, side: 4 });
    expect(() => imageShapeOf("m", 50)).toThrow(ModelConfigError);
    expect(() => imageShapeOf("m", 50)).toThrow(/inputDim 50/);
  });
});

const conv2d = consumingFn(borrowingConv2d);

describe("conv2d (bias-free, padding (k−1)/2)", () => {
  const x: T4 = { v: randArray(2 * 3 * 6 * 6, 1), b: 2, c: 3, h: 6, w: 6 };
  it.each([
    [3, 1],
    [3, 2],
    [1, 1],
    [1, 2],
  ] as const)("k = %i, stride %i matches a direct convolution", (k, stride) => {
    const w = randArray(4 * 3 * k * k, 2 + k);
    const y = conv2d(
      toDevice(w, [4, 3, k, k], "float64"),
      toDevice(x.v, [2, 3, 6, 6], "float64"),
      stride,
    );
    expect(y.shape).toEqual([2, 4, 6 / stride, 6 / stride]);
    expect(maxAbsDiff(takeToHost(y), refConv(x, w, 4, k, stride).v)).toBeLessThan(1e-13);
  });

  it("rejects stride 2 on odd sides and kernels that do not fit", () => {
    const odd = () =>
      conv2d(
        toDevice(randArray(9, 3), [1, 1, 3, 3], "float64"),
        toDevice(randArray(25, 4), [1, 1, 5, 5], "float64"),
        2,
      );
    expect(odd).toThrow(/even sides/);
    const wrong = () =>
      conv2d(
        toDevice(randArray(18, 3), [1, 2, 3, 3], "float64"),
        toDevice(randArray(25, 4), [1, 1, 5, 5], "float64"),
        1,
      );
    expect(wrong).toThrow(ModelConfigError);
  });
});

describe("resnet-small", () => {
  const model = buildModel("resnet-small", { ...config, dtype: "float64" });
  const n = 5;
  const xs = digitsLike(n, 64, 3);
  let x: JaxArray;
  let params: Params;
  let state: ModelState;
  let leaf: (path: string) => Float64Array;

  beforeAll(() => {
    x = toDevice(xs, [n, 64], "float64");
    const init = model.init(4);
    params = init.params;
    state = movedState(init.state);
    disposeTree(init.state);
    // Non-trivial BN affine parameters, so a γ/β mix-up would show.
    const moved = unflattenFromHost(
      params,
      flattenToHost(params).map((p, i) => p + 0.05 * Math.sin(3 * i)),
    );
    disposeTree(params);
    params = moved;
    const host = new Map<string, Float64Array>();
    for (const [p, a] of treeEntries(params)) host.set(p, toHost(a));
    for (const [p, a] of treeEntries(state)) host.set(`state:${p}`, toHost(a));
    leaf = (path) => {
      const v = host.get(path);
      if (!v) throw new Error(`no leaf ${path}`);
      return v;
    };
  });

  afterAll(() => {
    x.dispose();
    disposeTree(params);
    disposeTree(state);
  });

  it("has stem 16, two 16-channel blocks without projections, and a 16→10 head", () => {
    const paths = treeEntries(params).map(([p]) => p);
    expect(paths.some((p) => p.includes("proj"))).toBe(false);
    // stem conv 16·1·9 + BN 32; per block 2·(16·16·9 + 32); head 16·10 + 10
    expect(treeSize(params)).toBe(16 * 9 + 32 + 2 * 2 * (16 * 16 * 9 + 32) + 16 * 10 + 10);
    // 5 BatchNorms × (mean, var) × 16
    expect(treeSize(state)).toBe(5 * 2 * 16);
  });

  it("eval mode matches a hand-written forward pass and returns no state", () => {
    const out = model.forward(refTree(params), x.ref, { mode: "eval", state: refTree(state) });
    expect(out.state).toBeUndefined();
    expect(out.logits.shape).toEqual([n, 10]);
    const want = refResNetSmall(xs, n, leaf, "eval");
    expect(maxAbsDiff(takeToHost(out.logits), want.logits)).toBeLessThan(1e-12);
  });

  it("eval mode never mutates the running statistics and is per-sample (batch-independent)", () => {
    const before = flattenToHost(state);
    const all = logitsHost(model, params, state, x);
    const one = toDevice(xs.subarray(64, 128), [1, 64], "float64");
    const alone = logitsHost(model, params, state, one);
    one.dispose();
    expect(maxAbsDiff(alone, all.subarray(10, 20))).toBeLessThan(1e-12);
    expect(Array.from(flattenToHost(state))).toEqual(Array.from(before));
  });

  it("eval mode over a batch larger than the memory budget's chunk gives the same logits", () => {
    // per-sample patches of resnet-small: 16·9·64 = 9216 elements → chunks of 2 samples
    const chunked = buildResNet(
      "resnet-small",
      { ...config, dtype: "float64" },
      RESNET_SMALL_LAYOUT,
      {
        evalPatchBudget: 2 * 9216 + 5,
      },
    );
    const a = logitsHost(chunked, params, state, x);
    expect(maxAbsDiff(a, refResNetSmall(xs, n, leaf, "eval").logits)).toBeLessThan(1e-12);
  });

  it("train mode uses batch statistics and returns running statistics updated with momentum 0.1", () => {
    const out = model.forward(refTree(params), x.ref, { mode: "train", state: refTree(state) });
    const want = refResNetSmall(xs, n, leaf, "train");
    expect(maxAbsDiff(takeToHost(out.logits), want.logits)).toBeLessThan(1e-11);
    const got = treeEntries(out.state as Params);
    expect(got.map(([p]) => p).sort()).toEqual([...want.stats.keys()].sort());
    for (const [p, a] of got)
      expect(maxAbsDiff(takeToHost(a), want.stats.get(p)!)).toBeLessThan(1e-12);
    // …and the train-mode logits really differ from eval mode's.
    const evalLogits = refResNetSmall(xs, n, leaf, "eval").logits;
    expect(maxAbsDiff(want.logits, evalLogits)).toBeGreaterThan(1e-3);
  });

  it("JVP and central differences agree (float64), probing in eval mode without mutation", () => {
    const r = lcg(9);
    const raw = unflattenFromHost(
      params,
      Float64Array.from({ length: treeSize(params) }, () => 2 * r() - 1),
    );
    const v = scaleTree(raw, 1 / normTree(raw));
    disposeTree(raw);
    const before = flattenToHost(state);
    const exact = directionalLogitDerivatives(model, params, state, v, x);
    const fd = directionalLogitDerivatives(model, params, state, v, x, { method: "fd" });
    disposeTree(v);
    expect(exact.a.every(Number.isFinite)).toBe(true);
    expect(relDiff(fd.a, exact.a)).toBeLessThan(1e-5);
    expect(maxAbsDiff(exact.logits, logitsHost(model, params, state, x))).toBe(0);
    expect(Array.from(flattenToHost(state))).toEqual(Array.from(before));
  });
});

describe("resnet18", () => {
  it("has the CIFAR ResNet-18 parameter count and gives [2, 10] logits for 3×32×32 inputs", () => {
    const model = buildModel("resnet18", { inputDim: 3072, numClasses: 10 });
    const { params, state } = model.init(0);
    // Independent count: stem 3→64 conv + BN; stage widths 64/128/256/512, two blocks each,
    // the first block of stages 2–4 with a 1×1 projection + BN; head 512→10.
    const conv = (ci: number, co: number, k: number) => ci * co * k * k;
    let count = conv(3, 64, 3) + 2 * 64;
    let ci = 64;
    for (const co of [64, 128, 256, 512]) {
      for (let b = 0; b < 2; b++) {
        count += conv(b === 0 ? ci : co, co, 3) + conv(co, co, 3) + 4 * co;
        if (b === 0 && ci !== co) count += conv(ci, co, 1) + 2 * co;
      }
      ci = co;
    }
    count += 512 * 10 + 10;
    expect(treeSize(params)).toBe(count);
    expect(count).toBe(11_173_962); // the figure usually quoted for the CIFAR ResNet-18
    const paths = treeEntries(params).map(([p]) => p);
    expect(paths.filter((p) => p.endsWith("proj.w"))).toEqual([
      "stage2_0.proj.w",
      "stage3_0.proj.w",
      "stage4_0.proj.w",
    ]);
    const x = toDevice(digitsLike(2, 3072, 5), [2, 3072], "float32");
    const z = logitsHost(model, params, state, x);
    x.dispose();
    expect(z.length).toBe(20);
    expect(z.every(Number.isFinite)).toBe(true);
    disposeTree(params);
    disposeTree(state);
  }, 60_000);

  it("rejects image sides that three stride-2 stages cannot halve", () => {
    expect(() => buildModel("resnet18", { inputDim: 3 * 12 * 12, numClasses: 10 })).toThrow(
      /divisible by 8/,
    );
  });
});
