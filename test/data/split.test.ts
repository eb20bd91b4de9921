import { describe, expect, it } from "vitest";
import {
  classCounts,
  headSplit,
  loadDigits,
  loadIris,
  makeDataset,
  randomSplit,
  splitDataset,
  stratifiedSplit,
  subset,
} from "../../src/data/index.js";

const digits = loadDigits();

describe("stratifiedSplit", () => {
  it("splits digits 80/20: 359 test, 1438 train", () => {
    const { train, test } = stratifiedSplit(digits, { seed: 0 });
    expect(test.n).toBe(359);
    expect(train.n).toBe(1438);
    expect(train.n + test.n).toBe(digits.n);
    expect(train.d).toBe(64);
    expect(test.numClasses).toBe(10);
    expect(test.classNames).toEqual(digits.classNames);
  });

  it("is stratified: per class, test count within ±1 of n_c·f, the rest in train", () => {
    for (const f of [0.2, 0.1, 0.5]) {
      const { train, test } = stratifiedSplit(digits, { seed: 3, testFraction: f });
      const all = classCounts(digits);
      const te = classCounts(test);
      const tr = classCounts(train);
      for (let c = 0; c < 10; c++) {
        expect(Math.abs(te[c] - all[c] * f)).toBeLessThanOrEqual(1);
        expect(tr[c] + te[c]).toBe(all[c]);
      }
    }
  });

  it("gives disjoint splits that cover every sample, with matching rows", () => {
    const s = stratifiedSplit(digits, { seed: 1 });
    const seen = new Uint8Array(digits.n);
    for (const i of s.trainIndices) seen[i]++;
    for (const i of s.testIndices) seen[i]++;
    expect(seen.every((v) => v === 1)).toBe(true);
    // ascending, and rows/labels copied from the source
    for (let k = 1; k < s.testIndices.length; k++) {
      expect(s.testIndices[k]).toBeGreaterThan(s.testIndices[k - 1]);
    }
    const k = 17;
    const src = s.testIndices[k];
    expect(s.test.y[k]).toBe(digits.y[src]);
    expect(Array.from(s.test.x.subarray(k * 64, k * 64 + 64))).toEqual(
      Array.from(digits.x.subarray(src * 64, src * 64 + 64)),
    );
  });

  it("is deterministic for a seed and differs across seeds", () => {
    const a = stratifiedSplit(digits, { seed: 42 });
    const b = stratifiedSplit(digits, { seed: 42 });
    const c = stratifiedSplit(digits, { seed: 43 });
    expect(Array.from(a.testIndices)).toEqual(Array.from(b.testIndices));
    expect(Array.from(a.train.x)).toEqual(Array.from(b.train.x));
    expect(Array.from(a.testIndices)).not.toEqual(Array.from(c.testIndices));
  });

  it("keeps at least one training sample per class; testFraction 0 puts all in train", () => {
    // two samples per class, f = 0.9 would round both into test without the cap
    const tiny = makeDataset(new Float64Array([0, 1, 2, 3]), new Int32Array([0, 0, 1, 1]), {
      d: 1,
      numClasses: 2,
    });
    const s = stratifiedSplit(tiny, { seed: 0, testFraction: 0.9 });
    expect(Array.from(classCounts(s.train))).toEqual([1, 1]);
    expect(Array.from(classCounts(s.test))).toEqual([1, 1]);
    const iris = loadIris();
    const z = stratifiedSplit(iris, { seed: 0, testFraction: 0 });
    expect(z.train.n).toBe(150);
    expect(z.test.n).toBe(0);
  });

  it("rejects a testFraction outside [0, 1)", () => {
    expect(() => stratifiedSplit(digits, { seed: 0, testFraction: 1 })).toThrow(
      /testFraction must be in \[0, 1\), got 1/,
    );
    expect(() => stratifiedSplit(digits, { seed: 0, testFraction: -0.1 })).toThrow(/testFraction/);
    expect(() => stratifiedSplit(digits, { seed: 0, testFraction: Number.NaN })).toThrow(
      /testFraction/,
    );
  });
});

describe("headSplit (the published reference's split)", () => {
  it("puts the first floor(n·f) rows in the test split, unshuffled, the rest in training", () => {
    const s = headSplit(digits, { testFraction: 0.2 });
    expect(s.test.n).toBe(359);
    expect(s.train.n).toBe(1438);
    expect(Array.from(s.testIndices)).toEqual(Array.from({ length: 359 }, (_, i) => i));
    expect(s.trainIndices[0]).toBe(359);
    expect(s.trainIndices.at(-1)).toBe(1796);
    // rows are the source's rows, in order
    expect(Array.from(s.test.x.subarray(0, 64))).toEqual(Array.from(digits.x.subarray(0, 64)));
    expect(Array.from(s.train.y.subarray(0, 5))).toEqual(Array.from(digits.y.subarray(359, 364)));
  });

  it("is the same whatever the seed (splitDataset), unlike the stratified split", () => {
    const a = splitDataset(digits, { kind: "head", seed: 0 });
    const b = splitDataset(digits, { kind: "head", seed: 7 });
    expect(Array.from(a.testIndices)).toEqual(Array.from(b.testIndices));
    const st = splitDataset(digits, { seed: 0 });
    expect(Array.from(st.testIndices)).toEqual(
      Array.from(stratifiedSplit(digits, { seed: 0 }).testIndices),
    );
    expect(Array.from(st.testIndices)).not.toEqual(Array.from(a.testIndices));
  });

  it("says what is wrong with a fraction or a set too small to split", () => {
    expect(() => headSplit(digits, { testFraction: 1 })).toThrow(
      "headSplit: testFraction must be in [0, 1), got 1",
    );
    const tiny = subset(digits, Int32Array.from([0, 1, 2]));
    expect(() => headSplit(tiny, { testFraction: 0.2 })).toThrow(
      "headSplit: a 0.2 head split of 3 rows leaves 0 test and 3 training rows",
    );
    expect(() => splitDataset(digits, { kind: "tail" as never, seed: 0 })).toThrow(
      'split must be "stratified", "head" or "random", got "tail"',
    );
  });
});

describe("randomSplit", () => {
  it("splits digits 70/30 by one permutation: ⌊n·f⌋ = 539 test rows, disjoint and covering", () => {
    const s = randomSplit(digits, { seed: 42, testFraction: 0.3 });
    expect([s.test.n, s.train.n]).toEqual([539, 1258]);
    const all = new Set([...s.trainIndices, ...s.testIndices]);
    expect(all.size).toBe(digits.n);
    // in the original order, the rows of the source
    expect(Array.from(s.testIndices)).toEqual(Array.from(s.testIndices).sort((a, b) => a - b));
    const i = s.testIndices[5]!;
    expect(Array.from(s.test.x.subarray(5 * 64, 6 * 64))).toEqual(
      Array.from(digits.x.subarray(i * 64, (i + 1) * 64)),
    );
    expect(s.test.y[5]).toBe(digits.y[i]);
  });

  it("is deterministic for a seed, differs across seeds, and is not the stratified split", () => {
    const a = randomSplit(digits, { seed: 42, testFraction: 0.3 });
    const b = randomSplit(digits, { seed: 42, testFraction: 0.3 });
    const c = randomSplit(digits, { seed: 43, testFraction: 0.3 });
    expect(Array.from(a.testIndices)).toEqual(Array.from(b.testIndices));
    expect(Array.from(a.testIndices)).not.toEqual(Array.from(c.testIndices));
    // class proportions hold only on average: some class is off its exact share by more than one row
    const counts = classCounts(a.test);
    const whole = classCounts(digits);
    const off = Array.from(counts).some((n, k) => Math.abs(n - whole[k]! * 0.3) > 1);
    expect(off).toBe(true);
  });

  it("rejects a fraction outside [0, 1) and an empty test split", () => {
    expect(() => randomSplit(digits, { seed: 0, testFraction: 1 })).toThrow(/testFraction/);
    expect(() => randomSplit(digits, { seed: 0, testFraction: 1e-4 })).toThrow(/empty/);
  });
});
