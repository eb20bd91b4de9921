/**
 * Experiments in parts (`experimentInParts`, framework/spec.ts): runs of several kinds with
 * their own settings, planned part by part; and the ±∞-tolerant quantile of framework/stats.ts.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { claim } from "../../packages/cli/src/experiments/framework/claims.js";
import {
  ExperimentDefinitionError,
  ExperimentInputError,
} from "../../packages/cli/src/experiments/framework/index.js";
import { experimentInParts, part } from "../../packages/cli/src/experiments/framework/spec.js";
import { quantileInf, quartilesInf } from "../../packages/cli/src/experiments/framework/stats.js";

const data = { kind: "digits" } as const;

const PARTS = {
  probe: part({
    protocol: { steps: 100, every: 10 },
    grid: { arch: ["a", "b", "c"], width: [1, 2] },
    quick: { steps: 4, arch: ["a"] },
  }),
  drive: part({
    protocol: { arch: "a", steps: 50 },
    grid: { drive: ["x", "y"] },
    quick: { steps: 5 },
  }),
};

function spec(
  over: { parts?: typeof PARTS; verdict?: () => { reproduced: "partly"; sentence: string } } = {},
) {
  return experimentInParts({
    id: "parts-demo",
    title: "demo",
    claim: "demo",
    parts: over.parts ?? PARTS,
    seeds: [0, 1, 2],
    quick: { seeds: [7] },
    resultSchema: z.object({ v: z.number() }),
    runKey: (c) =>
      c.part === "probe" ? `p-${c.arch}-${c.width}-s${c.seed}` : `d-${c.drive}-s${c.seed}`,
    run: async (c) => ({ v: c.part === "probe" ? c.width * c.steps : c.steps }),
    summarize: (outcomes, setup) => ({
      total: outcomes.reduce((s, o) => s + o.result.v, 0),
      archs: setup.parts.probe.grid.arch,
      driveSteps: setup.parts.drive.protocol.steps,
    }),
    tables: () => [],
    figures: () => [],
    claims: [
      claim<{ total: number }>("total is positive", (s) => ({
        holds: s.total > 0,
        measured: `total ${s.total}`,
      })),
    ],
    verdict: over.verdict,
  });
}

describe("experimentInParts", () => {
  it("plans part by part, first axis outermost, seeds innermost, each cell with its part's settings only", () => {
    const def = spec();
    const { runs } = def.plan({ quick: false, data, seeds: [0, 1] });
    expect(runs.map((r) => def.runKey(r))).toEqual([
      ...["a", "b", "c"].flatMap((a) =>
        [1, 2].flatMap((w) => [`p-${a}-${w}-s0`, `p-${a}-${w}-s1`]),
      ),
      "d-x-s0",
      "d-x-s1",
      "d-y-s0",
      "d-y-s1",
    ]);
    expect(runs[0]).toEqual({ part: "probe", steps: 100, every: 10, arch: "a", width: 1, seed: 0 });
    expect(runs.at(-1)).toEqual({ part: "drive", arch: "a", steps: 50, drive: "y", seed: 1 });
  });

  it("applies each part's quick overrides and the experiment's quick seeds; --seeds wins", () => {
    const def = spec();
    const quick = def.plan({ quick: true, data });
    expect(quick.runs.map((r) => def.runKey(r))).toEqual([
      "p-a-1-s7",
      "p-a-2-s7",
      "d-x-s7",
      "d-y-s7",
    ]);
    expect(quick.runs.map((r) => r.steps)).toEqual([4, 4, 5, 5]);
    expect(quick.config).toMatchObject({
      seeds: [7],
      quick: true,
      parts: { probe: { grid: { arch: ["a"] } }, drive: { protocol: { steps: 5 } } },
    });
    expect(def.plan({ quick: true, data, seeds: [3] }).runs.every((r) => r.seed === 3)).toBe(true);
    expect(() => def.plan({ quick: false, data, seeds: [] })).toThrow(ExperimentInputError);
  });

  it("hands summarize the resolved settings of every part", async () => {
    const def = spec();
    const plan = def.plan({ quick: true, data });
    const results = await Promise.all(
      plan.runs.map(async (run) => ({ run, result: await def.execute(run, {} as never) })),
    );
    const summary = def.summarize(plan.config, results);
    expect(summary).toEqual({ total: 4 * 1 + 4 * 2 + 5 + 5, archs: ["a"], driveSteps: 5 });
    expect(def.report(summary).verdict.reproduced).toBe("yes");
  });

  it("takes a verdict of its own when given one", () => {
    const def = spec({ verdict: () => ({ reproduced: "partly", sentence: "own" }) });
    expect(def.report({ total: 1, archs: [], driveSteps: 0 }).verdict).toEqual({
      reproduced: "partly",
      sentence: "own",
    });
  });

  it("rejects a misspelt quick override and a setting named part when defined", () => {
    // as a JavaScript caller could write them: the types would not let these through
    const bad = {
      ...PARTS,
      drive: { ...PARTS.drive, quick: { stepz: 3 } },
    } as unknown as typeof PARTS;
    expect(() => spec({ parts: bad })).toThrow(ExperimentDefinitionError);
    expect(() => spec({ parts: bad })).toThrow(/parts-demo \(drive\): quick.stepz/);
    const named = {
      ...PARTS,
      drive: { ...PARTS.drive, protocol: { part: "x", steps: 1 } },
    } as unknown as typeof PARTS;
    expect(() => spec({ parts: named })).toThrow(/"part" is the name of the part/);
  });
});

describe("quantileInf", () => {
  it("is numpy's linear quantile on finite values, NaNs dropped", () => {
    expect(quantileInf([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantileInf([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(quantileInf([0, 10], 0.05)).toBeCloseTo(0.5, 12);
    expect(quantileInf([Number.NaN, 1, 3], 0.5)).toBe(2);
    expect(quantileInf([], 0.5)).toBeNaN();
    expect(quantileInf([Number.NaN], 0.5)).toBeNaN();
  });

  it("returns the infinity an interpolation would touch instead of NaN", () => {
    const inf = Number.POSITIVE_INFINITY;
    expect(quantileInf([1, 2, inf, inf], 0.5)).toBe(inf);
    expect(quantileInf([1, 2, 3, inf], 0.5)).toBe(2.5);
    expect(quantileInf([-inf, 1, 2], 0.25)).toBe(-inf);
    expect(quartilesInf([1, 2, 3, inf, inf])).toEqual({ median: 3, q25: 2, q75: inf });
  });
});
