import type { Array as JaxArray } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { toDevice, toHost } from "../../src/engine/arrays.js";
import { initEngine } from "../../src/engine/runtime.js";
import {
  type ArrayTree,
  axpyTree,
  castTree,
  disposeTree,
  dotTree,
  flattenToHost,
  mapTree,
  maxAbsTree,
  normTree,
  scaleTree,
  treeEntries,
  treeSize,
  unflattenFromHost,
  zerosLikeTree,
} from "../../src/engine/tree.js";

beforeAll(async () => {
  await initEngine();
});

const f64 = (v: number[], shape = [v.length]) => toDevice(v, shape, "float64");

function makeTrees(): [ArrayTree, ArrayTree] {
  // Same paths, different key insertion order.
  const a: ArrayTree = { w: f64([1, 2, 3, 4], [2, 2]), inner: { b: f64([5]), a: f64([-6, 7]) } };
  const b: ArrayTree = { inner: { a: f64([1, 1]), b: f64([2]) }, w: f64([0.5, 0, 0, -1], [2, 2]) };
  return [a, b];
}

describe("tree helpers", () => {
  it("match leaves by key path, not insertion order", () => {
    const [a, b] = makeTrees();
    expect(treeEntries(a).map(([p]) => p)).toEqual(["inner.a", "inner.b", "w"]);
    expect(treeSize(a)).toBe(7);
    expect(dotTree(a, b)).toBe(-6 + 7 + 10 + 0.5 - 4);
    expect(normTree(a)).toBeCloseTo(Math.sqrt(1 + 4 + 9 + 16 + 25 + 36 + 49), 14);
    expect(maxAbsTree(a)).toBe(7);
    const c = axpyTree(2, a, b);
    expect(Array.from(flattenToHost(c))).toEqual([-11, 15, 12, 2.5, 4, 6, 7]);
    disposeTree(c);
    disposeTree(a);
    disposeTree(b);
  });

  it("borrow their inputs and return owned trees", () => {
    const [a, b] = makeTrees();
    const s = scaleTree(a, 3);
    const z = zerosLikeTree(a);
    const m = mapTree((x: JaxArray, y: JaxArray) => x.mul(y), a, b);
    for (const [, leaf] of treeEntries(a)) expect(leaf.refCount).toBe(1);
    expect(Array.from(flattenToHost(s))).toEqual([-18, 21, 15, 3, 6, 9, 12]);
    expect(Array.from(flattenToHost(z))).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(flattenToHost(m))).toEqual([-6, 7, 10, 0.5, 0, 0, -4]);
    for (const t of [a, b, s, z, m]) disposeTree(t);
  });

  it("flatten and unflatten round-trip, and cast between dtypes", () => {
    const [a, b] = makeTrees();
    const flat = flattenToHost(a);
    const back = unflattenFromHost(b, flat);
    expect(Array.from(flattenToHost(back))).toEqual(Array.from(flat));
    expect(() => unflattenFromHost(b, [1, 2])).toThrow(/2 values for 7 parameters/);
    const c32 = castTree(a, "float32");
    for (const [, leaf] of treeEntries(c32)) expect(leaf.dtype).toBe("float32");
    expect(toHost(treeEntries(c32)[0]![1])[0]).toBe(-6);
    for (const t of [a, b, back, c32]) disposeTree(t);
  });

  it("report mismatched structures", () => {
    const [a] = makeTrees();
    const other: ArrayTree = { w: f64([1, 2, 3, 4], [2, 2]) };
    expect(() => mapTree((x: JaxArray, y: JaxArray) => x.add(y), a, other)).toThrow(/lacks key/);
    disposeTree(a);
    disposeTree(other);
  });
});
