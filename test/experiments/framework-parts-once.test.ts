/**
 * The shared layer's additions for experiments that do not fit one grid: experiments of
 * parts that are not seeded (`part({seeded: false})` in `framework/spec.ts`), protocol settings that follow from the data (`byData` in
 * `framework/spec.ts`), and quartiles over samples holding ±∞ (`framework/stats.ts`).
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { claim } from "../../packages/cli/src/experiments/framework/claims.js";
import {
  experiment,
  experimentInParts,
  type Parts,
  part,
} from "../../packages/cli/src/experiments/framework/spec.js";
import { quartiles } from "../../packages/cli/src/experiments/framework/stats.js";
import {
  ExperimentDefinitionError,
  ExperimentInputError,
} from "../../packages/cli/src/experiments/framework/types.js";

const DIGITS = { kind: "digits" } as const;

// Declared outside the call, so that the parts' types are inferred from the parts alone
// (inside it, the parameter's type `Parts` would widen them), as experiments do.
function fixtureParts(quickCases: number) {
  return {
    curve: part({ protocol: { points: 10 }, seeded: false }),
    draws: part({ protocol: { cases: 100, scale: 2 }, quick: { cases: quickCases } }),
  };
}

/** The fixture; `quickCases`: the draws part's `cases` under `--quick`. */
function parts(quickCases = 100, seeds?: number[]) {
  return experimentInParts({
    id: "parts-fixture",
    title: "parts",
    claim: "the total is positive",
    parts: fixtureParts(quickCases),
    seeds: [0, 1],
    quick: seeds === undefined ? {} : { seeds },
    runKey: (c) => (c.part === "curve" ? "curve" : `draws-s${c.seed}`),
    resultSchema: z.number(),
    run: async (c) => (c.part === "curve" ? c.points : c.cases * c.scale + c.seed),
    summarize: (outcomes, setup) => ({
      total: outcomes.reduce((s, o) => s + o.result, 0) + setup.parts.curve.protocol.points,
    }),
    tables: () => [],
    figures: () => [],
    claims: [
      claim<{ total: number }>("the total is positive", (s) => ({
        holds: s.total > 0,
        measured: `${s.total}`,
      })),
    ],
  });
}

describe("unseeded parts of an experiment in parts", () => {
  it("runs an unseeded part once, a seeded one once per seed, in declared order", () => {
    const def = parts(3, [5]);
    const full = def.plan({ quick: false, data: DIGITS });
    expect(full.runs).toEqual([
      { part: "curve", points: 10 },
      { part: "draws", cases: 100, scale: 2, seed: 0 },
      { part: "draws", cases: 100, scale: 2, seed: 1 },
    ]);
    expect(full.config).toMatchObject({ seeds: [0, 1], quick: false });
    const quick = def.plan({ quick: true, data: DIGITS });
    expect(quick.runs).toEqual([
      { part: "curve", points: 10 },
      { part: "draws", cases: 3, scale: 2, seed: 5 },
    ]);
    expect(def.plan({ quick: true, seeds: [8], data: DIGITS }).runs[1]).toMatchObject({ seed: 8 });
  });

  it("summarises with the setup recorded in the config, and judges by the claims", async () => {
    const def = parts();
    const plan = def.plan({ quick: false, data: DIGITS });
    const ctx = {} as Parameters<typeof def.execute>[1];
    const results = await Promise.all(
      plan.runs.map(async (run) => ({ run, result: await def.execute(run, ctx) })),
    );
    const summary = def.summarize(plan.config, results);
    expect(summary.total).toBe(10 + 200 + 201 + 10);
    expect(def.report(summary).verdict.reproduced).toBe("yes");
  });

  it("rejects an empty seed list as bad input", () => {
    expect(() => parts().plan({ quick: false, seeds: [], data: DIGITS })).toThrow(
      ExperimentInputError,
    );
  });

  it("finds misspelt quick overrides and bad part names when the module loads", () => {
    const spec = (parts: Parts) => ({
      id: "bad",
      title: "t",
      claim: "c",
      parts,
      seeds: [0],
      quick: {},
      runKey: () => "x",
      resultSchema: z.number(),
      run: async () => 1,
      summarize: () => ({}),
      tables: () => [],
      figures: () => [],
      claims: [],
    });
    const misspelt = () =>
      experimentInParts(
        spec({ draws: part({ protocol: { cases: 1 }, quick: { case: 1 } as never }) }),
      );
    expect(misspelt).toThrow(/quick\.case/);
    expect(() => experimentInParts(spec({ seeds: part({ protocol: { x: 1 } }) }))).toThrow(
      ExperimentDefinitionError,
    );
  });
});

describe("byData", () => {
  it("sets protocol values per data kind, into every run spec", () => {
    const def = experiment({
      id: "for-data-fixture",
      title: "t",
      claim: "c",
      protocol: { steps: 10, target: 0.9 },
      grid: { lr: [1, 2] },
      seeds: [0],
      quick: { steps: 2 },
      byData: { csv: { settings: { target: 0.5 } } },
      runKey: (c) => `lr${c.lr}`,
      resultSchema: z.number(),
      run: async () => 0,
      summarize: () => ({}),
      tables: () => [],
      figures: () => [],
      claims: [],
    });
    expect(def.plan({ quick: true, data: DIGITS }).runs[0]).toEqual({
      steps: 2,
      target: 0.9,
      lr: 1,
      seed: 0,
    });
    const csv = { kind: "csv", path: "x.csv", standardize: false } as const;
    expect(def.plan({ quick: true, data: csv }).runs[1]).toEqual({
      steps: 2,
      target: 0.5,
      lr: 2,
      seed: 0,
    });
  });
});

describe("quartiles with infinities", () => {
  it("treats ±∞ as ordinary values at the ends, never returning NaN for them", () => {
    const inf = Number.POSITIVE_INFINITY;
    // the median lies halfway between 2 and ∞: interpolated from the upper end, ∞ − ∞
    expect(quartiles([1, 2, inf, inf])).toEqual({ median: inf, q25: 1.75, q75: inf, n: 4 });
    expect(quartiles([inf, inf, 1])).toEqual({ median: inf, q25: inf, q75: inf, n: 3 });
    expect(quartiles([-inf, 0, 1, 2]).q25).toBe(-inf);
    // finite samples are untouched (numpy's linear rule)
    expect(quartiles([1, 2, 3, 4, Number.NaN])).toEqual({
      median: 2.5,
      q25: 1.75,
      q75: 3.25,
      n: 4,
    });
  });
});
