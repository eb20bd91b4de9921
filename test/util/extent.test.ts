import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { summarise } from "../../packages/cli/src/report/stats.js";
import { maxOf, minOf } from "../../src/util/extent.js";
import { Rng } from "../../src/util/random.js";

const N = 200_000;

/** 200,000 seeded values in (−1, 1) with the extremes planted at known places. */
function large(): Float64Array {
  const rng = Rng.fromState({ key: [0, 0], s: [7, 11, 13, 17], spare: null });
  const xs = new Float64Array(N);
  for (let i = 0; i < N; i++) xs[i] = (rng.nextUint32() / 2 ** 32) * 2 - 1;
  xs[123_456] = -5;
  xs[N - 1] = 9;
  return xs;
}

describe("minOf / maxOf", () => {
  it("take 200,000 elements, where the Math.min spread overflows the call stack", () => {
    const xs = large();
    expect(minOf(xs)).toBe(-5);
    expect(maxOf(xs)).toBe(9);
    expect(minOf(Array.from(xs))).toBe(-5);
  });

  it("agree with Math.min / Math.max on small arrays, NaN, ±Infinity and empty input", () => {
    const value = fc.oneof(
      fc.double(),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
    );
    fc.assert(
      fc.property(fc.array(value, { maxLength: 30 }), (xs) => {
        // Object.is would tell −0 from +0, which the helpers do not promise to order.
        const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));
        expect(same(minOf(xs), Math.min(...xs))).toBe(true);
        expect(same(maxOf(xs), Math.max(...xs))).toBe(true);
      }),
      { seed: 15, numRuns: 2000 },
    );
    expect(minOf([])).toBe(Number.POSITIVE_INFINITY);
    expect(maxOf([])).toBe(Number.NEGATIVE_INFINITY);
  });

  it("summarise reports the extremes of 200,000 values", () => {
    const s = summarise(large());
    expect(s.min).toBe(-5);
    expect(s.max).toBe(9);
    expect(s.n).toBe(N);
  });

  it("no Math.min/Math.max spread is left in the files that take data-sized arrays", () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
    const cli = join("packages", "cli", "src");
    const files = [
      join(cli, "report/stats.ts"),
      join("src", "probe/radius.ts"),
      join(cli, "experiments/theory.ts"),
      join(cli, "experiments/random-directions.ts"),
      join(cli, "experiments/temperature.ts"),
      join(cli, "experiments/transformer-radii.ts"),
      join(cli, "experiments/calibration.ts"),
    ];
    for (const f of files) {
      expect(readFileSync(join(root, f), "utf8"), f).not.toMatch(/Math\.(min|max)\(\.\.\./);
    }
  });
});
