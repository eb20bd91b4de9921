/**
 * The spec layer's additions used by arch-grid and aggregation: settings derived from a
 * grid point, protocol settings absent from full-protocol run specs, a variant's own quick
 * overrides, and the shared steady-state timing median.
 */
import { describe, expect, it } from "vitest";
import {
  ExperimentDefinitionError,
  type JsonObject,
  normalizeJson,
} from "../../packages/cli/src/experiments/framework/index.js";
import { experiment } from "../../packages/cli/src/experiments/framework/spec.js";
import {
  msPerStep,
  steadyMedian,
  TIMING_WARMUP_STEPS,
} from "../../packages/cli/src/experiments/framework/training.js";
import type { StepRecord } from "../../src/train/index.js";

const DIGITS = { kind: "digits" } as const;

type Protocol = { steps: number; subset?: number };

function toy(derive?: (c: { method: string; steps: number }) => JsonObject) {
  const protocol: Protocol = { steps: 10, subset: undefined };
  return experiment({
    id: "toy",
    title: "toy",
    claim: "toy",
    protocol,
    grid: { method: ["a", "b"] },
    seeds: [0, 1],
    quick: { seeds: [0], steps: 2, subset: 8 },
    derive: (c) => ({ every: c.method === "a" ? 1 : c.steps, ...derive?.(c) }),
    runKey: (c) => `${c.method}-e${c.every}-s${c.seed}`,
    resultSchema: undefined as never,
    run: async (c) => c.every,
    summarize: (outcomes) => ({ n: outcomes.length }),
    tables: () => [],
    figures: () => [],
    claims: [],
  });
}

describe("experiment specs: derived settings", () => {
  it("adds what follows from a grid point to its cell, after the quick overrides", () => {
    const full = toy().plan({ quick: false, data: DIGITS }).runs;
    expect(full.map((r) => [r.method, r.every, r.seed])).toEqual([
      ["a", 1, 0],
      ["a", 1, 1],
      ["b", 10, 0],
      ["b", 10, 1],
    ]);
    const quick = toy().plan({ quick: true, data: DIGITS }).runs;
    expect(quick.map((r) => [r.method, r.every])).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
    expect(toy().runKey(quick[1])).toBe("b-e2-s0");
  });

  it("rejects a derived setting that is already a setting", () => {
    expect(() => toy(() => ({ steps: 3 })).plan({ quick: false, data: DIGITS })).toThrow(
      ExperimentDefinitionError,
    );
  });
});

describe("experiment specs: optional protocol settings", () => {
  it("leaves an undefined setting out of the stored run spec, and quick can set it", () => {
    const full = toy().plan({ quick: false, data: DIGITS }).runs;
    expect(Object.keys(normalizeJson(full[0] as JsonObject))).not.toContain("subset");
    const quick = toy().plan({ quick: true, data: DIGITS }).runs;
    expect(quick.every((r) => r.subset === 8)).toBe(true);
  });
});

describe("experiment specs: withSettings", () => {
  it("keeps the spec's quick overrides unless the variant brings its own", () => {
    const keeps = toy().withSettings({ steps: 5 });
    expect(keeps.plan({ quick: false, data: DIGITS }).runs[0].steps).toBe(5);
    expect(keeps.plan({ quick: true, data: DIGITS }).runs[0].steps).toBe(2);
    const own = toy().withSettings({ steps: 5, method: ["b"] }, {});
    const runs = own.plan({ quick: true, data: DIGITS }).runs;
    expect(runs.map((r) => [r.method, r.steps, r.every, r.subset])).toEqual([
      ["b", 5, 5, undefined],
      ["b", 5, 5, undefined],
    ]);
  });

  it("checks the variant's quick overrides too", () => {
    expect(() => toy().withSettings({}, { nope: 1 } as never)).toThrow(ExperimentDefinitionError);
  });
});

describe("steadyMedian (the rule of msPerStep)", () => {
  it("leaves out the warm-up steps when there are at least twice as many steps", () => {
    const slowStart = [100, 100, 100, 100, 100, 1, 2, 3, 4, 5];
    expect(TIMING_WARMUP_STEPS).toBe(5);
    expect(steadyMedian(slowStart)).toBe(3);
    expect(steadyMedian(slowStart.slice(0, 9))).toBe(100);
    expect(steadyMedian([])).toBeNaN();
  });

  it("is what msPerStep computes from the steps' wall times", () => {
    const wall = [50, 40, 30, 20, 10, 7, 6, 5, 4, 3, 2];
    const history = wall.map((wallMs) => ({ wallMs }) as StepRecord);
    expect(msPerStep(history)).toBe(steadyMedian(wall));
    expect(msPerStep(history)).toBe(4.5);
  });
});
