import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { classCounts, DataError, dataFileUrl, loadDigits, loadIris } from "../../src/data/index.js";

describe("loadDigits", () => {
  const ds = loadDigits();

  it("has shape 1797 × 64 and 10 classes", () => {
    expect(ds.n).toBe(1797);
    expect(ds.d).toBe(64);
    expect(ds.numClasses).toBe(10);
    expect(ds.x.length).toBe(1797 * 64);
    expect(ds.y.length).toBe(1797);
    expect(ds.classNames).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect(ds.featureNames?.length).toBe(64);
    expect(ds.featureNames?.[9]).toBe("r1c1");
  });

  it("has features in [0, 1] that are multiples of 1/16, reaching both ends", () => {
    let lo = 1;
    let hi = 0;
    let onGrid = true;
    for (const v of ds.x) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      onGrid &&= Number.isInteger(v * 16);
    }
    expect(lo).toBe(0);
    expect(hi).toBe(1);
    expect(onGrid).toBe(true);
  });

  it("has the known class counts (all between 174 and 183)", () => {
    expect(Array.from(classCounts(ds))).toEqual([178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
  });

  it("has the known first row (a zero)", () => {
    const first = Array.from(ds.x.subarray(0, 16), (v) => v * 16);
    expect(first).toEqual([0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0]);
    expect(ds.y[0]).toBe(0);
    expect(ds.y[1796]).toBe(8);
  });

  it("resolves the data folder from both src/data and dist/data", () => {
    const url = dataFileUrl("digits.csv.gz");
    expect(existsSync(url)).toBe(true);
    // dist/ mirrors src/: the same relative path from dist/data/builtin.js lands on the same file.
    const root = fileURLToPath(new URL("../", url));
    const fromDist = new URL(
      "../../data/digits.csv.gz",
      pathToFileURL(`${root}dist/data/builtin.js`),
    );
    expect(fileURLToPath(fromDist)).toBe(fileURLToPath(url));
  });

  it("reports a missing copy clearly", () => {
    expect(() => loadDigits({ path: "/nonexistent/digits.csv.gz" })).toThrow(DataError);
    expect(() => loadDigits({ path: "/nonexistent/digits.csv.gz" })).toThrow(
      /\/nonexistent\/digits\.csv\.gz: file not found/,
    );
  });
});

describe("loadIris", () => {
  it("has 150 × 4, three classes of 50 named from the first line", () => {
    const ds = loadIris();
    expect(ds.n).toBe(150);
    expect(ds.d).toBe(4);
    expect(ds.numClasses).toBe(3);
    expect(ds.classNames).toEqual(["setosa", "versicolor", "virginica"]);
    expect(ds.featureNames).toEqual([
      "sepal length (cm)",
      "sepal width (cm)",
      "petal length (cm)",
      "petal width (cm)",
    ]);
    expect(Array.from(classCounts(ds))).toEqual([50, 50, 50]);
    expect(Array.from(ds.x.subarray(0, 4))).toEqual([5.1, 3.5, 1.4, 0.2]);
  });
});
