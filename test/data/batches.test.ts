import { describe, expect, it } from "vitest";
import {
  type Batch,
  batchesPerEpoch,
  batchIterator,
  loadIris,
  makeDataset,
} from "../../src/data/index.js";

const iris = loadIris();

function take(it: Iterator<Batch>, k: number): Batch[] {
  const out: Batch[] = [];
  for (let i = 0; i < k; i++) {
    const r = it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe("batchIterator", () => {
  it("visits every sample exactly once per epoch, reshuffling between epochs", () => {
    const batches = [...batchIterator(iris, { batchSize: 32, seed: 1, epochs: 3 })];
    expect(batches.length).toBe(3 * 5);
    expect(batches.map((b) => b.size)).toEqual([
      32, 32, 32, 32, 22, 32, 32, 32, 32, 22, 32, 32, 32, 32, 22,
    ]);
    const orders: number[][] = [];
    for (let e = 0; e < 3; e++) {
      const ep = batches.filter((b) => b.epoch === e);
      const order = ep.flatMap((b) => Array.from(b.indices));
      expect(order.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => i));
      orders.push(order);
    }
    expect(orders[0]).not.toEqual(orders[1]);
    expect(orders[1]).not.toEqual(orders[2]);
    expect(batches.map((b) => b.step)).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(batches[7].batchInEpoch).toBe(2);
  });

  it("gives batches whose rows and labels match the indices", () => {
    const [b] = take(batchIterator(iris, { batchSize: 10, seed: 2 }), 1);
    expect(b.x.length).toBe(10 * 4);
    for (let r = 0; r < 10; r++) {
      const i = b.indices[r];
      expect(b.y[r]).toBe(iris.y[i]);
      expect(Array.from(b.x.subarray(r * 4, r * 4 + 4))).toEqual(
        Array.from(iris.x.subarray(i * 4, i * 4 + 4)),
      );
    }
  });

  it("is deterministic for a seed; different seeds give different batches", () => {
    const a = take(batchIterator(iris, { batchSize: 16, seed: 5 }), 25);
    const b = take(batchIterator(iris, { batchSize: 16, seed: 5 }), 25);
    const c = take(batchIterator(iris, { batchSize: 16, seed: 6 }), 25);
    expect(a.map((x) => Array.from(x.indices))).toEqual(b.map((x) => Array.from(x.indices)));
    expect(a.map((x) => Array.from(x.x))).toEqual(b.map((x) => Array.from(x.x)));
    expect(a.map((x) => Array.from(x.indices))).not.toEqual(c.map((x) => Array.from(x.indices)));
  });

  it("is infinite without epochs; dropLast keeps only full batches", () => {
    const many = take(batchIterator(iris, { batchSize: 64, seed: 0, dropLast: true }), 100);
    expect(many.length).toBe(100);
    expect(many.every((b) => b.size === 64)).toBe(true);
    expect(many[99].epoch).toBe(49); // 2 full batches per epoch
    expect(batchesPerEpoch(150, 64, true)).toBe(2);
    expect(batchesPerEpoch(150, 64)).toBe(3);
    // dropLast: per epoch, no index repeats
    const ep0 = many.filter((b) => b.epoch === 0).flatMap((b) => Array.from(b.indices));
    expect(new Set(ep0).size).toBe(128);
  });

  it("shuffle: false visits samples in order", () => {
    const bs = [...batchIterator(iris, { batchSize: 50, seed: 0, epochs: 2, shuffle: false })];
    expect(bs.flatMap((b) => Array.from(b.indices))).toEqual([
      ...Array(150).keys(),
      ...Array(150).keys(),
    ]);
  });

  it("rejects bad sizes", () => {
    const tiny = makeDataset(new Float64Array(3), new Int32Array([0, 1, 0]), {
      d: 1,
      numClasses: 2,
    });
    expect(() => batchIterator(tiny, { batchSize: 0, seed: 0 }).next()).toThrow(
      /batchSize must be a positive integer, got 0/,
    );
    expect(() => batchIterator(tiny, { batchSize: 4, seed: 0, dropLast: true }).next()).toThrow(
      /no batch of 4 fits in 3 samples with dropLast/,
    );
    expect([...batchIterator(tiny, { batchSize: 4, seed: 0, epochs: 1 })][0].size).toBe(3);
    expect([...batchIterator(tiny, { batchSize: 2, seed: 0, epochs: 0 })]).toEqual([]);
  });
});
