import { describe, expect, it } from "vitest";
import {
  type Probe,
  type ProbeResult,
  RadiusEstimator,
  setRhoStar,
} from "../../src/probe/radius.js";
import { nearestGhost } from "../../src/theory/ghost.js";
import { Rng } from "../../src/util/random.js";

const N = 200;
const K = 6;

/** A fixed synthetic "training split": slopes and logits per row, probed by index. */
function syntheticSplit(seed: number): {
  a: Float64Array;
  z: Float64Array;
  probe: Probe;
  calls: (Int32Array | null)[];
} {
  const rng = new Rng(seed);
  const a = new Float64Array(N * K);
  const z = new Float64Array(N * K);
  for (let i = 0; i < N * K; i++) {
    a[i] = rng.normal() * (1 + (i % 7));
    z[i] = 3 * rng.normal();
  }
  const calls: (Int32Array | null)[] = [];
  const probe: Probe = (indices) => {
    calls.push(indices);
    const rows = indices ?? Int32Array.from({ length: N }, (_, i) => i);
    const out: ProbeResult = {
      a: new Float64Array(rows.length * K),
      logits: new Float64Array(rows.length * K),
      n: rows.length,
      k: K,
    };
    rows.forEach((r, j) => {
      out.a.set(a.subarray(r * K, (r + 1) * K), j * K);
      out.logits.set(z.subarray(r * K, (r + 1) * K), j * K);
    });
    return out;
  };
  return { a, z, probe, calls };
}

function rowSpread(a: Float64Array, r: number): number {
  const row = Array.from(a.subarray(r * K, (r + 1) * K));
  return Math.max(...row) - Math.min(...row);
}

describe("RadiusEstimator", () => {
  const batch = Int32Array.from([3, 17, 42, 99, 150]);

  it("train: π over the largest spread of the whole split, probing it as one set", () => {
    const { a, probe, calls } = syntheticSplit(1);
    const report = new RadiusEstimator(N, { sampleSet: "train" }).estimate(probe, batch);
    let max = 0;
    let arg = -1;
    for (let r = 0; r < N; r++) {
      if (rowSpread(a, r) > max) {
        max = rowSpread(a, r);
        arg = r;
      }
    }
    expect(calls).toEqual([null]);
    expect(report.rhoA).toBeCloseTo(Math.PI / max, 12);
    expect(report.bindingSample).toBe(arg);
    expect(report.samples).toBe(N);
  });

  it("batch radius is never below the train radius (ρ_a(train) ≤ ρ_a(batch))", () => {
    const { probe } = syntheticSplit(2);
    const train = new RadiusEstimator(N, { sampleSet: "train" }).estimate(probe, batch);
    const b = new RadiusEstimator(N, { sampleSet: "batch" }).estimate(probe, batch);
    expect(b.rhoA).toBeGreaterThanOrEqual(train.rhoA);
    expect(b.samples).toBe(batch.length);
  });

  it("quantile aggregation is less conservative than max", () => {
    const { probe } = syntheticSplit(3);
    const max = new RadiusEstimator(N).estimate(probe, batch);
    const q = new RadiusEstimator(N, { aggregate: { quantile: 0.9 } }).estimate(probe, batch);
    expect(q.rhoA).toBeGreaterThan(max.rhoA);
  });

  it("random subsets have the requested size, are seeded, and change from step to step", () => {
    const { probe, calls } = syntheticSplit(4);
    const e1 = new RadiusEstimator(N, { sampleSet: { random: 32 }, seed: 7 });
    const e2 = new RadiusEstimator(N, { sampleSet: { random: 32 }, seed: 7 });
    e1.estimate(probe, batch);
    e1.estimate(probe, batch);
    e2.estimate(probe, batch);
    const [s1, s2, s3] = calls as Int32Array[];
    expect(s1.length).toBe(32);
    expect(new Set(s1).size).toBe(32);
    expect(Array.from(s3)).toEqual(Array.from(s1));
    expect(Array.from(s2)).not.toEqual(Array.from(s1));
  });

  it("window: the minimum batch radius over the last W steps", () => {
    const { probe } = syntheticSplit(5);
    const windowed = new RadiusEstimator(N, { sampleSet: { window: 2 } });
    const plain = new RadiusEstimator(N, { sampleSet: "batch" });
    const batches = [Int32Array.from([0, 1]), Int32Array.from([2, 3]), Int32Array.from([4, 5])];
    const raw = batches.map((b) => plain.estimate(probe, b).rhoA);
    const win = batches.map((b) => windowed.estimate(probe, b).rhoA);
    expect(win[0]).toBe(raw[0]);
    expect(win[1]).toBe(Math.min(raw[0], raw[1]));
    expect(win[2]).toBe(Math.min(raw[1], raw[2]));
  });

  it("bottleneck: keeps the largest-spread rows and always probes them again", () => {
    const { a, probe, calls } = syntheticSplit(6);
    const est = new RadiusEstimator(N, { sampleSet: { bottleneck: 2 } });
    const first = Int32Array.from([10, 11, 12, 13]);
    est.estimate(probe, first);
    const expected = Array.from(first)
      .sort((i, j) => rowSpread(a, j) - rowSpread(a, i))
      .slice(0, 2);
    expect(Array.from(est.bufferRows())).toEqual(expected);
    const second = Int32Array.from([50, 51]);
    const r2 = est.estimate(probe, second);
    expect(new Set(calls[1] as Int32Array)).toEqual(new Set([50, 51, ...expected]));
    const truth = Math.max(...[50, 51, ...expected].map((r) => rowSpread(a, r)));
    expect(r2.rhoA).toBeCloseTo(Math.PI / truth, 12);
  });

  it("rejects bad options with a one-line message", () => {
    expect(() => new RadiusEstimator(N, { sampleSet: { random: 0 } })).toThrow(
      "sampleSet.random must be a positive integer, got 0",
    );
    expect(() => new RadiusEstimator(N, { aggregate: { quantile: 1.5 } })).toThrow(
      "aggregate quantile must be in (0, 1], got 1.5",
    );
    expect(() => new RadiusEstimator(0)).toThrow("trainSize must be a positive integer, got 0");
  });
});

describe("setRhoStar", () => {
  it("equals the brute-force minimum of per-sample ghosts, solving far fewer of them", () => {
    const { probe } = syntheticSplit(8);
    const all = probe(null);
    let brute = Number.POSITIVE_INFINITY;
    for (let i = 0; i < all.n; i++) {
      const g = nearestGhost(
        all.logits.subarray(i * K, (i + 1) * K),
        all.a.subarray(i * K, (i + 1) * K),
      );
      brute = Math.min(brute, g.modulus);
    }
    const star = setRhoStar(all);
    expect(star.rhoStar).toBeCloseTo(brute, 10);
    expect(star.solved).toBeLessThan(all.n);
    expect(star.certified).toBe(true);
  });

  it("is at least the set bound π / max spread", () => {
    const { probe } = syntheticSplit(9);
    const est = new RadiusEstimator(N, { exact: true }).estimate(probe, new Int32Array([0]));
    expect(est.rhoStar).toBeGreaterThanOrEqual(est.rhoA * (1 - 1e-12));
  });
});
