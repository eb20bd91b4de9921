import { describe, expect, it } from "vitest";
import {
  classCounts,
  DataError,
  loadIris,
  makeDataset,
  oneHot,
  randomSubset,
  subset,
} from "../../src/data/index.js";

const iris = loadIris();

describe("Dataset helpers", () => {
  it("subset copies the chosen rows in order, keeping names and numClasses", () => {
    const s = subset(iris, [149, 0, 0]);
    expect(s.n).toBe(3);
    expect(Array.from(s.y)).toEqual([2, 0, 0]);
    expect(Array.from(s.x.subarray(4, 8))).toEqual([5.1, 3.5, 1.4, 0.2]);
    expect(s.numClasses).toBe(3);
    expect(s.classNames).toEqual(iris.classNames);
    s.x[0] = 99;
    expect(iris.x[149 * 4]).not.toBe(99);
    expect(() => subset(iris, [150])).toThrow(/subset: index 150 \(position 0\) outside 0\.\.149/);
    expect(() => subset(iris, [-1])).toThrow(DataError);
  });

  it("randomSubset draws distinct samples, deterministically", () => {
    const a = randomSubset(iris, 30, 7);
    const b = randomSubset(iris, 30, 7);
    const c = randomSubset(iris, 30, 8);
    expect(a.n).toBe(30);
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    expect(Array.from(a.x)).not.toEqual(Array.from(c.x));
    expect(randomSubset(iris, 150, 1).n).toBe(150);
    expect(Array.from(classCounts(randomSubset(iris, 150, 1)))).toEqual([50, 50, 50]);
    expect(() => randomSubset(iris, 151, 1)).toThrow(
      /size must be an integer in 0\.\.150, got 151/,
    );
  });

  it("makeDataset validates shapes and labels", () => {
    expect(() =>
      makeDataset(new Float64Array(5), new Int32Array(2), { d: 2, numClasses: 2 }),
    ).toThrow(/x has 5 values but n·d = 2·2 = 4/);
    expect(() =>
      makeDataset(new Float64Array(2), new Int32Array([0, 2]), { d: 1, numClasses: 2 }),
    ).toThrow(/label y\[1\] = 2 outside 0\.\.1/);
    expect(() =>
      makeDataset(new Float64Array([0, Number.NaN]), new Int32Array([0, 1]), {
        d: 1,
        numClasses: 2,
      }),
    ).toThrow(/x\[1, 0\] = NaN is not finite/);
    expect(() =>
      makeDataset(new Float64Array(2), new Int32Array([0, 1]), {
        d: 1,
        numClasses: 2,
        classNames: ["a"],
      }),
    ).toThrow(/classNames has 1 entries/);
  });

  it("oneHot encodes labels", () => {
    expect(Array.from(oneHot([2, 0], 3))).toEqual([0, 0, 1, 1, 0, 0]);
  });
});
