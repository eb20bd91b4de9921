import { describe, expect, it } from "vitest";
import {
  applyStandardizer,
  fitStandardizer,
  loadDigits,
  makeDataset,
  stratifiedSplit,
} from "../../src/data/index.js";

describe("standardizer", () => {
  it("has known values on a tiny array; constant features get std 1", () => {
    // 3 samples × 3 features; feature 2 is constant
    const x = new Float64Array([1, 10, 0.1, 2, 20, 0.1, 3, 60, 0.1]);
    const ds = makeDataset(x, new Int32Array([0, 1, 0]), { d: 3, numClasses: 2 });
    const st = fitStandardizer(ds);
    expect(Array.from(st.mean)).toEqual([2, 30, 0.1]);
    expect(st.std[0]).toBeCloseTo(Math.sqrt(2 / 3), 14);
    expect(st.std[1]).toBeCloseTo(Math.sqrt(1400 / 3), 12);
    expect(st.std[2]).toBe(1);
    const z = applyStandardizer(ds, st);
    expect(z.x[0]).toBeCloseTo(-Math.sqrt(3 / 2), 14);
    expect(z.x[3]).toBe(0);
    expect(z.x[6]).toBeCloseTo(Math.sqrt(3 / 2), 14);
    expect([z.x[2], z.x[5], z.x[8]]).toEqual([0, 0, 0]);
    expect(Array.from(ds.x)).toEqual(Array.from(x)); // input untouched
    expect(z.y).toBe(ds.y);
  });

  it("fitted on train only: train becomes mean 0 / sd 1, test does not exactly", () => {
    const { train, test } = stratifiedSplit(loadDigits(), { seed: 0 });
    const st = fitStandardizer(train);
    const ztr = applyStandardizer(train, st);
    const zte = applyStandardizer(test, st);
    const colMean = (x: Float64Array, n: number, j: number) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += x[i * 64 + j];
      return s / n;
    };
    let maxTrain = 0;
    let maxTest = 0;
    let nonConst = 0;
    for (let j = 0; j < 64; j++) {
      maxTrain = Math.max(maxTrain, Math.abs(colMean(ztr.x, train.n, j)));
      maxTest = Math.max(maxTest, Math.abs(colMean(zte.x, test.n, j)));
      if (st.std[j] !== 1) {
        nonConst++;
        let v = 0;
        for (let i = 0; i < train.n; i++) v += ztr.x[i * 64 + j] ** 2;
        expect(v / train.n).toBeCloseTo(1, 10);
      }
    }
    expect(maxTrain).toBeLessThan(1e-12);
    expect(maxTest).toBeGreaterThan(0.01);
    expect(nonConst).toBeGreaterThan(55);
    expect(st.std[0]).toBe(1); // the top-left pixel is always 0
    expect(Array.from(zte.x).every(Number.isFinite)).toBe(true);
  });

  it("rejects a mismatched standardiser and an empty training set", () => {
    const ds = makeDataset(new Float64Array(4), new Int32Array([0, 1]), { d: 2, numClasses: 2 });
    const st = { mean: new Float64Array(3), std: new Float64Array(3).fill(1) };
    expect(() => applyStandardizer(ds, st)).toThrow(/standardiser has 3 features, data has 2/);
    const empty = makeDataset(new Float64Array(0), new Int32Array(0), { d: 2, numClasses: 2 });
    expect(() => fitStandardizer(empty)).toThrow(/training set is empty/);
  });
});
