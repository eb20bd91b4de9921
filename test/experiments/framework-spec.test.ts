/**
 * The shared layer experiments are written on: a spec's grid × seeds expansion, quick
 * overrides and their validation, variants, the config a summary is computed from, and the
 * one rule from claims to a verdict; the statistics and formats every table uses.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { claim, verdictOf } from "../../packages/cli/src/experiments/framework/claims.js";
import {
  approx,
  lrLabel,
  medianIqr,
  pct,
} from "../../packages/cli/src/experiments/framework/format.js";
import {
  ExperimentDefinitionError,
  ExperimentInputError,
  normalizeJson,
} from "../../packages/cli/src/experiments/framework/index.js";
import { type CellOf, experiment } from "../../packages/cli/src/experiments/framework/spec.js";
import {
  diverged,
  groupRuns,
  quartiles,
  stepCurves,
} from "../../packages/cli/src/experiments/framework/stats.js";

const PROTOCOL = { steps: 10, lr: 0.1 };
const GRID = { arch: ["a", "b"], method: ["x", "y", "z"] };
type Cell = CellOf<typeof PROTOCOL, typeof GRID>;
type Summary = { cells: { arch: string; method: string; total: number }[]; steps: number };

const base = {
  id: "toy",
  title: "Toy",
  claim: "a beats b",
  protocol: PROTOCOL,
  grid: GRID,
  seeds: [0, 1, 2],
  quick: { seeds: [7], steps: 2, method: ["x"] },
  include: (c: Cell) => !(c.arch === "b" && c.method === "z"),
  runKey: (c: Cell) => `${c.arch}-${c.method}-s${c.seed}`,
  resultSchema: z.number(),
  run: async (c: Cell) => c.seed + c.steps,
  summarize: (
    outcomes: { cell: Cell; result: number }[],
    setup: { protocol: typeof PROTOCOL },
  ): Summary => ({
    cells: groupRuns(outcomes, ["arch", "method"]).map((g) => ({
      arch: g.key.arch as string,
      method: g.key.method as string,
      total: g.results.reduce((s, r) => s + r, 0),
    })),
    steps: setup.protocol.steps,
  }),
  tables: () => [],
  figures: () => [],
  claims: [
    claim<Summary>("a's total is larger", (s) => ({
      holds: (s.cells[0]?.total ?? 0) > (s.cells.at(-1)?.total ?? 0),
      measured: `a has ${s.cells[0]?.total}`,
    })),
  ],
};

/** The toy experiment, with some of its spec replaced (possibly by something invalid). */
function toy(overrides: Record<string, unknown> = {}) {
  return experiment({ ...base, ...overrides } as typeof base);
}

const DIGITS = { kind: "digits" } as const;

describe("experiment(): the plan", () => {
  it("expands the grid, first axis outermost and seeds innermost, without excluded cells", () => {
    const plan = toy().plan({ quick: false, data: DIGITS });
    const keys = plan.runs.map((r) => `${r.arch}-${r.method}-s${r.seed}`);
    expect(keys.slice(0, 4)).toEqual(["a-x-s0", "a-x-s1", "a-x-s2", "a-y-s0"]);
    expect(plan.runs).toHaveLength(5 * 3);
    expect(keys).not.toContain("b-z-s0");
    expect(plan.runs[0]).toEqual({ steps: 10, lr: 0.1, arch: "a", method: "x", seed: 0 });
  });

  it("applies quick overrides to the protocol, the axes and the seeds", () => {
    const plan = toy().plan({ quick: true, data: DIGITS });
    expect(plan.runs).toEqual([
      { steps: 2, lr: 0.1, arch: "a", method: "x", seed: 7 },
      { steps: 2, lr: 0.1, arch: "b", method: "x", seed: 7 },
    ]);
    expect(plan.config).toMatchObject({
      seeds: [7],
      grid: { arch: ["a", "b"], method: ["x"] },
      protocol: { steps: 2, lr: 0.1 },
      quick: true,
    });
  });

  it("--seeds replaces the seeds of either mode; an empty list is bad input", () => {
    expect(toy().plan({ quick: true, seeds: [3, 4], data: DIGITS }).runs).toHaveLength(4);
    expect(() => toy().plan({ quick: false, seeds: [], data: DIGITS })).toThrow(
      ExperimentInputError,
    );
  });

  it("rejects a misspelt quick override, an empty axis and an axis that is also a setting", () => {
    expect(() => toy({ quick: { stpes: 2 } })).toThrow(/quick\.stpes/);
    expect(() => toy({ quick: { method: [] } })).toThrow(ExperimentDefinitionError);
    expect(() => toy({ grid: { ...GRID, arch: [] } })).toThrow(/arch has no values/);
    expect(() => toy({ grid: { ...GRID, steps: [1] } })).toThrow(/also a setting/);
  });

  it("withSettings makes a variant whose plan uses the new full protocol", () => {
    const v = toy().withSettings({ steps: 4, arch: ["b"], seeds: [1] });
    expect(v.plan({ quick: false, data: DIGITS }).runs).toEqual([
      { steps: 4, lr: 0.1, arch: "b", method: "x", seed: 1 },
      { steps: 4, lr: 0.1, arch: "b", method: "y", seed: 1 },
    ]);
    expect(v.protocol.steps).toBe(4);
    expect(() => toy().withSettings({ nope: 1 } as never)).toThrow(/withSettings\.nope/);
  });
});

describe("experiment(): arms beside the grid", () => {
  // the toy's cell type has no arms' settings: read the added one untyped
  const variantOf = (r: object) => (r as { variant?: string }).variant;
  const arms = [
    { settings: { arch: ["b"], method: ["z"] }, add: { variant: "v1" }, quick: { steps: 3 } },
    { settings: { method: ["y"] }, add: { variant: "v2" } },
  ];

  it("plans each arm after the grid with its settings and added fields; grid cells lack them", () => {
    const plan = toy({ arms, include: undefined }).plan({ quick: false, data: DIGITS });
    expect(plan.runs).toHaveLength(6 * 3 + 3 + 2 * 3);
    expect(plan.runs.slice(0, 18).every((r) => !("variant" in r))).toBe(true);
    expect(plan.runs[18]).toEqual({
      steps: 10,
      lr: 0.1,
      arch: "b",
      method: "z",
      variant: "v1",
      seed: 0,
    });
    expect(plan.runs.slice(21).map((r) => `${r.arch}-${r.method}-${variantOf(r)}`)).toEqual([
      ...Array(3).fill("a-y-v2"),
      ...Array(3).fill("b-y-v2"),
    ]);
  });

  it("under --quick the spec's overrides apply first, then the arm's settings, then its quick", () => {
    const plan = toy({ arms, include: undefined }).plan({ quick: true, seeds: [5], data: DIGITS });
    // the grid's quick keeps method x; the arm's own settings define its method
    expect(plan.runs.filter((r) => variantOf(r) === "v1")).toEqual([
      { steps: 3, lr: 0.1, arch: "b", method: "z", variant: "v1", seed: 5 },
    ]);
    expect(plan.runs.filter((r) => variantOf(r) === "v2").map((r) => r.steps)).toEqual([2, 2]);
  });

  it("applies include to arm cells, and withSettings can drop the arms", () => {
    const plan = toy({ arms }).plan({ quick: false, data: DIGITS });
    expect(plan.runs.some((r) => variantOf(r) === "v1")).toBe(false); // b-z is excluded
    const bare = toy({ arms }).withSettings({}, undefined, { arms: [] });
    expect(bare.plan({ quick: false, data: DIGITS }).runs).toHaveLength(15);
  });

  it("rejects an added field that is a setting, an arm with seeds, a misspelt arm override", () => {
    expect(() => toy({ arms: [{ add: { steps: 1 } }] })).toThrow(/arms\[0\]\.add\.steps/);
    expect(() => toy({ arms: [{ settings: { seeds: [1] }, add: {} }] })).toThrow(/share the seeds/);
    expect(() => toy({ arms: [{ settings: { stpes: 1 }, add: {} }] })).toThrow(
      /arms\[0\]\.settings\.stpes/,
    );
  });
});

describe("experiment(): summary and report", () => {
  it("summarises from the config as written to summary.json, groups in grid order", async () => {
    const def = toy();
    const plan = def.plan({ quick: false, data: DIGITS });
    const config = normalizeJson(plan.config, "config");
    const results = await Promise.all(
      plan.runs.map(async (run) => ({ run, result: await def.execute(run, {} as never) })),
    );
    const s = def.summarize(config, results);
    expect(s.steps).toBe(10);
    expect(s.cells.map((c) => `${c.arch}/${c.method}`)).toEqual([
      "a/x",
      "a/y",
      "a/z",
      "b/x",
      "b/y",
    ]);
    // seeds 0, 1, 2 with 10 steps each: 10 + 11 + 12
    expect(s.cells[0].total).toBe(33);
    expect(def.report(s).verdict.reproduced).toBe("no");
  });
});

describe("verdictOf: one rule for every experiment", () => {
  type S = { ok: boolean[] };
  const parts = (essential: boolean[]) =>
    essential.map((e, i) =>
      claim<S>(`part ${i}`, (s) => ({ holds: s.ok[i], measured: `m${i}` }), { essential: e }),
    );

  it("yes when every part holds", () => {
    const v = verdictOf(parts([false, true]), { ok: [true, true] });
    expect(v).toEqual({ reproduced: "yes", sentence: "M0; m1 — every part of the claim holds." });
  });

  it("partly when the essential parts and a strict majority hold", () => {
    const v = verdictOf(parts([false, false, true]), { ok: [false, true, true] });
    expect(v.reproduced).toBe("partly");
    expect(v.sentence).toBe("M0; m1; m2 — not as claimed: part 0.");
  });

  it("no when an essential part fails, or only half holds", () => {
    expect(verdictOf(parts([false, true, false]), { ok: [true, false, true] }).reproduced).toBe(
      "no",
    );
    expect(verdictOf(parts([false, false]), { ok: [true, false] }).reproduced).toBe("no");
  });

  it("n/a when nothing could be measured; unmeasured parts do not count", () => {
    const none = claim<S>("never measured", () => null, { essential: true });
    expect(verdictOf([none], { ok: [] }).reproduced).toBe("n/a");
    expect(verdictOf([none, ...parts([false])], { ok: [true] }).reproduced).toBe("yes");
  });
});

describe("statistics and formats", () => {
  it("quartiles use numpy's linear quantile and leave NaN out", () => {
    expect(quartiles([1, 2, 4, Number.NaN])).toEqual({ median: 2, q25: 1.5, q75: 3, n: 3 });
    expect(quartiles([Number.NaN]).n).toBe(0);
  });

  it("stepCurves gives per-step medians, with null-padded bands", () => {
    const runs = [
      { a: [1, null], b: [1, 2] },
      { a: [3, null], b: [3, 4] },
    ];
    expect(stepCurves(runs, { a: { of: (r) => r.a, band: true }, b: { of: (r) => r.b } })).toEqual([
      { step: 0, a: 2, aQ25: 1.5, aQ75: 2.5, b: 2 },
      { step: 1, a: null, aQ25: null, aQ75: null, b: 3 },
    ]);
  });

  it("a divergence is a loss above 10 or not finite", () => {
    expect([9.9, 10, 10.1, Number.NaN, Number.POSITIVE_INFINITY].map(diverged)).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
  });

  it("one percentage format, and no degenerate IQR", () => {
    expect(pct(0.9812)).toBe("98.1%");
    expect(pct(Number.NaN)).toBe("—");
    expect(medianIqr({ median: 0.5, q25: 0.4, q75: 0.6, n: 5 })).toBe("50.0% [40.0%, 60.0%]");
    expect(medianIqr({ median: 0.103, q25: 0.103, q75: 0.103, n: 1 })).toBe("10.3%");
    expect(medianIqr({ median: 2, q25: 1, q75: 3 }, String)).toBe("2 [1, 3]");
    expect(lrLabel(1e-3)).toBe("1e-3");
    expect(lrLabel(0.015)).toBe("1.5e-2");
    expect(approx(123.4)).toBe("≈ 123");
    expect(approx(0.8712)).toBe("≈ 0.87");
  });
});
