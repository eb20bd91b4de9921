import { describe, expect, it } from "vitest";
import { createRng, Rng } from "../../src/util/random.js";

function draws(r: Rng, k: number): number[] {
  return Array.from({ length: k }, () => r.nextUint32());
}

describe("Rng", () => {
  it("matches the xoshiro128** reference outputs from state {1,2,3,4}", () => {
    const r = Rng.fromState({ key: [0, 0], s: [1, 2, 3, 4], spare: null });
    const out = draws(r, 1000);
    expect(out.slice(0, 6)).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
    expect(out[999]).toBe(3170714187);
  });

  it("is reproducible: same seed, same sequence", () => {
    const a = new Rng(42);
    const b = createRng(42);
    for (let i = 0; i < 1000; i++) {
      expect(a.uniform()).toBe(b.uniform());
      expect(a.normal()).toBe(b.normal());
      expect(a.int(7)).toBe(b.int(7));
    }
  });

  it("pins the first outputs of seed 0 (guards against silent algorithm changes)", () => {
    // Values recorded from this implementation; update only with a deliberate change.
    expect(draws(new Rng(0), 3)).toEqual([1558724264, 2086968072, 2110854211]);
  });

  it("different and neighbouring seeds give different streams", () => {
    const s0 = draws(new Rng(0), 8);
    const s1 = draws(new Rng(1), 8);
    const sm1 = draws(new Rng(-1), 8);
    const big = draws(new Rng(2 ** 40), 8);
    expect(s0).not.toEqual(s1);
    expect(s0).not.toEqual(sm1);
    expect(s0).not.toEqual(big);
    expect(s1).not.toEqual(sm1);
  });

  it("rejects seeds that are not safe integers", () => {
    expect(() => new Rng(1.5)).toThrow(/safe integer/);
    expect(() => new Rng(Number.NaN)).toThrow(/safe integer/);
    expect(() => new Rng(2 ** 60)).toThrow(/safe integer/);
  });

  it("uniform lies in [0, 1) with mean ≈ 0.5 and variance ≈ 1/12 over 100k draws", () => {
    const r = new Rng(7);
    const n = 100_000;
    let sum = 0;
    let sq = 0;
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      sum += u;
      sq += u * u;
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    const mean = sum / n;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005); // sd of the mean ≈ 0.0009
    expect(Math.abs(sq / n - mean * mean - 1 / 12)).toBeLessThan(0.003);
  });

  it("normal has mean ≈ 0, variance ≈ 1, and light tails over 100k draws", () => {
    const r = new Rng(11);
    const n = 100_000;
    let sum = 0;
    let sq = 0;
    let beyond2 = 0;
    let finite = true;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      finite &&= Number.isFinite(z);
      sum += z;
      sq += z * z;
      if (Math.abs(z) > 2) beyond2++;
    }
    expect(finite).toBe(true);
    const mean = sum / n;
    expect(Math.abs(mean)).toBeLessThan(0.015); // sd of the mean ≈ 0.0032
    expect(Math.abs(sq / n - mean * mean - 1)).toBeLessThan(0.03); // sd ≈ 0.0045
    expect(Math.abs(beyond2 / n - 0.0455)).toBeLessThan(0.005);
  });

  it("int(n) is in range and roughly uniform; rejects bad n", () => {
    const r = new Rng(3);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[r.int(10)]++; // out of range would give NaN below
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100_000);
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500); // sd ≈ 95
    expect(r.int(1)).toBe(0);
    const big = r.int(2 ** 32);
    expect(big >= 0 && big < 2 ** 32).toBe(true);
    expect(() => r.int(0)).toThrow(RangeError);
    expect(() => r.int(2.5)).toThrow(RangeError);
    expect(() => r.int(2 ** 32 + 1)).toThrow(RangeError);
  });

  it("shuffle is an in-place permutation, reproducible, and moves things", () => {
    const a = Array.from({ length: 100 }, (_, i) => i);
    const same = a.slice();
    const ret = new Rng(5).shuffle(a);
    expect(ret).toBe(a);
    expect(a.slice().sort((p, q) => p - q)).toEqual(same);
    expect(a).not.toEqual(same);
    expect(new Rng(5).shuffle(same.slice())).toEqual(a);
    const typed = new Rng(5).shuffle(Int32Array.from(same));
    expect(Array.from(typed)).toEqual(a);
    expect(new Rng(1).shuffle([])).toEqual([]);
    expect(new Rng(1).shuffle([9])).toEqual([9]);
  });

  it("shuffle puts each element in each position about equally often", () => {
    const r = new Rng(123);
    const pos = Array.from({ length: 4 }, () => new Array(4).fill(0));
    for (let t = 0; t < 20_000; t++) {
      const p = r.shuffle([0, 1, 2, 3]);
      for (let i = 0; i < 4; i++) pos[p[i]][i]++;
    }
    for (const row of pos) for (const c of row) expect(Math.abs(c - 5000)).toBeLessThan(300);
  });

  it("permutation(n) is a permutation of 0..n-1", () => {
    const p = new Rng(9).permutation(50);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("fork depends on the key and label only, not on draws, and does not advance the parent", () => {
    const a = new Rng(1);
    const b = new Rng(1);
    draws(b, 17);
    expect(draws(a.fork("x"), 5)).toEqual(draws(b.fork("x"), 5));
    expect(draws(a.fork("x"), 5)).not.toEqual(draws(a.fork("y"), 5));
    expect(draws(a.fork(0), 5)).not.toEqual(draws(a.fork(1), 5));
    expect(draws(a.fork("x"), 5)).not.toEqual(draws(new Rng(2).fork("x"), 5));
    expect(draws(a.fork("x"), 5)).not.toEqual(draws(new Rng(1), 5));
    // nested forks are distinct from flat ones
    expect(draws(a.fork("x").fork("y"), 5)).not.toEqual(draws(a.fork("y").fork("x"), 5));
    const c = new Rng(1);
    c.fork("x");
    expect(draws(c, 5)).toEqual(draws(new Rng(1), 5));
  });

  it("split advances the parent and gives a reproducible, distinct child", () => {
    const a = new Rng(4);
    const child = a.split();
    const b = new Rng(4);
    const child2 = b.split();
    expect(draws(child, 5)).toEqual(draws(child2, 5));
    expect(draws(a, 5)).toEqual(draws(b, 5));
    const fresh = new Rng(4);
    const kid = fresh.split();
    expect(draws(kid, 5)).not.toEqual(draws(new Rng(4), 5));
    expect(draws(fresh.split(), 5)).not.toEqual(draws(new Rng(4).split(), 5));
  });

  it("clone and getState/fromState resume the sequence exactly (incl. the normal spare)", () => {
    const a = new Rng(8);
    a.normal(); // leaves a spare pending
    const c = a.clone();
    const st = JSON.parse(JSON.stringify(a.getState()));
    const d = Rng.fromState(st);
    const ref = [a.normal(), a.uniform(), a.nextUint32()];
    expect([c.normal(), c.uniform(), c.nextUint32()]).toEqual(ref);
    expect([d.normal(), d.uniform(), d.nextUint32()]).toEqual(ref);
    expect(draws(d.fork("z"), 3)).toEqual(draws(new Rng(8).fork("z"), 3));
    expect(() => Rng.fromState({ key: [0, 0], s: [0, 0, 0, 0], spare: null })).toThrow(/zero/);
    expect(() => Rng.fromState({ key: [0, -1], s: [1, 0, 0, 0], spare: null })).toThrow(/unsigned/);
  });
});
