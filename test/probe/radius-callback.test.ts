import { beforeAll, describe, expect, it } from "vitest";
import { makeDataset } from "../../src/data/dataset.js";
import { toDevice } from "../../src/engine/arrays.js";
import { logitsHost } from "../../src/engine/compute.js";
import { initEngine, liveBufferCount } from "../../src/engine/runtime.js";
import {
  axpyTree,
  disposeTree,
  flattenToHost,
  normTree,
  refTree,
  scaleTree,
  unflattenFromHost,
} from "../../src/engine/tree.js";
import { buildModel } from "../../src/models/index.js";
import { ProbeError } from "../../src/probe/directional.js";
import { RadiusProbe } from "../../src/probe/radius-callback.js";
import { Rng } from "../../src/util/random.js";
import { digitsLike } from "../engine/helpers.js";
import { expectNoLeak } from "../engine/leak.js";

beforeAll(async () => {
  await initEngine();
});

const N = 40;
const samples = makeDataset(
  digitsLike(N, 64, 3),
  Int32Array.from({ length: N }, (_, i) => i % 10),
  { d: 64, numClasses: 10 },
);

/** π / max_i spread of the central-difference slopes along the unit direction (float64). */
function referenceRadius(model: ReturnType<typeof buildModel>, rows: number[]): number {
  const { params, state } = model.init(0);
  const rng = new Rng(9);
  const v = flattenToHost(params).map(() => rng.normal());
  const dir = unflattenFromHost(params, v);
  const unit = scaleTree(refTree(dir), 1 / normTree(dir));
  const h = 1e-5;
  const x = toDevice(
    rows.flatMap((r) => Array.from(samples.x.subarray(r * 64, (r + 1) * 64))),
    [rows.length, 64],
    "float64",
  );
  const plus = axpyTree(h, unit, params);
  const minus = axpyTree(-h, unit, params);
  const zp = logitsHost(model, plus, state, x);
  const zm = logitsHost(model, minus, state, x);
  let maxSpread = 0;
  for (let i = 0; i < rows.length; i++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let c = 0; c < 10; c++) {
      const a = (zp[i * 10 + c]! - zm[i * 10 + c]!) / (2 * h);
      lo = Math.min(lo, a);
      hi = Math.max(hi, a);
    }
    maxSpread = Math.max(maxSpread, hi - lo);
  }
  for (const t of [params, state, dir, unit, plus, minus]) disposeTree(t);
  x.dispose();
  return Math.PI / maxSpread;
}

describe("RadiusProbe: the radius callback for a hand-written loop", () => {
  const model = buildModel("mlp", { inputDim: 64, numClasses: 10, dtype: "float64" });

  it("gives π/max Δ_a of the unit direction, whatever the update's length", () => {
    const { params, state } = model.init(0);
    const rng = new Rng(9);
    const dir = unflattenFromHost(
      params,
      flattenToHost(params).map(() => rng.normal()),
    );
    const probe = new RadiusProbe(model, samples, { sampleSet: "train" });
    const expected = referenceRadius(
      model,
      Array.from({ length: N }, (_, i) => i),
    );
    for (const s of [1e-3, 1, 250]) {
      const p = scaleTree(refTree(dir), s);
      const { rho, binding } = probe.at(params, state)(p, normTree(p), "output");
      expect(Math.abs(rho - expected) / expected).toBeLessThan(1e-6);
      expect(binding).toBe("output");
      expect(probe.last?.samples).toBe(N);
      disposeTree(p);
    }
    probe.release();
    for (const t of [params, state, dir]) disposeTree(t);
  });

  it("probes only the batch rows for sampleSet 'batch', and asks for them", () => {
    const { params, state } = model.init(0);
    const rng = new Rng(9);
    const dir = unflattenFromHost(
      params,
      flattenToHost(params).map(() => rng.normal()),
    );
    const rows = [3, 17, 25];
    const probe = new RadiusProbe(model, samples, { sampleSet: "batch" });
    const { rho } = probe.at(params, state, rows)(dir, normTree(dir), "output");
    const expected = referenceRadius(model, rows);
    expect(Math.abs(rho - expected) / expected).toBeLessThan(1e-6);
    expect(probe.last?.samples).toBe(3);
    expect(() => probe.at(params, state)(dir, normTree(dir), "output")).toThrow(
      /needs the batch rows/,
    );
    expect(() => probe.at(params, state, [0, N])).toThrow(ProbeError);
    for (const t of [params, state, dir]) disposeTree(t);
  });

  it("rejects samples of the wrong width in one line", () => {
    const narrow = makeDataset(new Float64Array(8), new Int32Array([0, 1]), {
      d: 4,
      numClasses: 10,
    });
    expect(() => new RadiusProbe(model, narrow)).toThrow(
      "RadiusProbe: model expects 64 features but the samples have 4",
    );
  });
});

describe("RadiusProbe does not leak and leaves its arguments usable", () => {
  const cases: [
    string,
    ReturnType<typeof buildModel>,
    ConstructorParameters<typeof RadiusProbe>[2],
    "output" | "all",
  ][] = [
    [
      "the whole set (resident)",
      buildModel("mlp", { inputDim: 64, numClasses: 10 }),
      { sampleSet: "train" },
      "output",
    ],
    [
      "the batch rows, by finite differences",
      buildModel("mlp", { inputDim: 64, numClasses: 10 }),
      { sampleSet: "batch", method: "fd" },
      "output",
    ],
    [
      "a random subset in chunks",
      buildModel("cnn-bn", { inputDim: 64, numClasses: 10 }),
      { sampleSet: { random: 12 }, chunk: 5 },
      "output",
    ],
    [
      "all radii on a transformer",
      buildModel("transformer", { inputDim: 64, numClasses: 10 }),
      { sampleSet: "train", chunk: 16 },
      "all",
    ],
  ];
  for (const [name, model, options, kind] of cases) {
    it(name, async () => {
      const { params, state } = model.init(2);
      const rng = new Rng(4);
      const p = unflattenFromHost(
        params,
        flattenToHost(params).map(() => rng.normal()),
      );
      const kept = [params, state, p].map((t) => flattenToHost(t));
      const probe = new RadiusProbe(model, samples, options);
      const radius = () => probe.at(params, state, [1, 5, 9, 30])(p, normTree(p), kind).rho;
      const first = radius();
      expect(first).toBeGreaterThan(0);
      await expectNoLeak(radius);
      // the borrowed params, state and direction are untouched and still usable
      expect([params, state, p].map((t) => flattenToHost(t))).toEqual(kept);
      const random = typeof options?.sampleSet === "object";
      if (!random) expect(radius()).toBe(first);
      // release frees the resident sample set (the one buffer the probe keeps)
      const live = liveBufferCount();
      probe.release();
      expect(live - liveBufferCount()).toBe(options?.sampleSet === "train" ? 1 : 0);
      for (const t of [params, state, p]) disposeTree(t);
    });
  }
});
