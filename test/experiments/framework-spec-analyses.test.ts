/**
 * The spec layer's `analyses`: a further measurement of the same grid is planned after the
 * spec's own runs, as cells with an `analysis` field, while the spec's own run specs (what
 * their cached files are checked against) stay exactly as without it.
 */
import { describe, expect, it } from "vitest";
import {
  ExperimentDefinitionError,
  type JsonObject,
  normalizeJson,
} from "../../packages/cli/src/experiments/framework/index.js";
import { experiment } from "../../packages/cli/src/experiments/framework/spec.js";

const DIGITS = { kind: "digits" } as const;

function toy(analyses?: readonly string[], protocol: JsonObject = { steps: 10 }) {
  return experiment({
    id: "toy",
    title: "toy",
    claim: "toy",
    protocol: protocol as { steps: number },
    grid: { method: ["a", "b"] },
    seeds: [0, 1],
    quick: { seeds: [0] },
    ...(analyses === undefined ? {} : { analyses }),
    // an analysis' own setting: derived with the analysis field, absent from the own runs
    derive: (c): { directions?: number } =>
      "analysis" in c && c.analysis === "first" ? { directions: 3 } : {},
    // the second analysis leaves method b out, to show `include` sees the analysis
    include: (c) => !("analysis" in c && c.analysis === "second" && c.method === "b"),
    runKey: (c) => `${"analysis" in c && c.analysis ? `${c.analysis}-` : ""}${c.method}-s${c.seed}`,
    resultSchema: undefined as never,
    run: async () => 0,
    summarize: (outcomes) => ({ n: outcomes.length }),
    tables: () => [],
    figures: () => [],
    claims: [],
  });
}

describe("experiment specs: further analyses", () => {
  it("plans each analysis after the spec's own runs, whose specs do not change", () => {
    const without = toy().plan({ quick: false, data: DIGITS }).runs;
    const def = toy(["first", "second"]);
    const runs = def.plan({ quick: false, data: DIGITS }).runs;
    expect(runs.map((r) => def.runKey(r))).toEqual([
      "a-s0",
      "a-s1",
      "b-s0",
      "b-s1",
      "first-a-s0",
      "first-a-s1",
      "first-b-s0",
      "first-b-s1",
      "second-a-s0",
      "second-a-s1",
    ]);
    expect(runs.slice(0, 4).map((r) => normalizeJson(r as JsonObject))).toEqual(
      without.map((r) => normalizeJson(r as JsonObject)),
    );
    expect(runs[4]).toMatchObject({ method: "a", seed: 0, steps: 10, analysis: "first" });
    expect(runs[4]).toHaveProperty("directions", 3);
    expect(runs[8]).not.toHaveProperty("directions");
    expect(def.plan({ quick: false, data: DIGITS }).config.analyses).toEqual(["first", "second"]);
    expect(def.plan({ quick: true, data: DIGITS }).runs).toHaveLength(5);
  });

  it("rejects a clashing, repeated or unsafe analysis name", () => {
    expect(() => toy(["x"], { steps: 1, analysis: 2 })).toThrow(ExperimentDefinitionError);
    expect(() => toy(["x", "x"])).toThrow(/cannot name an analysis/);
    expect(() => toy(["A b"])).toThrow(/cannot name an analysis/);
  });
});
