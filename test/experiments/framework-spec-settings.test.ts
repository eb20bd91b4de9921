/**
 * `experiment()`'s settings beyond protocol × grid: settings linked to an axis value, settings
 * per data kind, and JSON-valued axes — what the cells (run specs) become and what is
 * rejected when the module loads.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { experiment } from "../../packages/cli/src/experiments/framework/spec.js";
import {
  type DataSpec,
  ExperimentDefinitionError,
} from "../../packages/cli/src/experiments/framework/types.js";

type Arm = { model: string; steps: number };

const ARMS: Record<"small" | "big", Arm> = {
  small: { model: "mlp", steps: 10 },
  big: { model: "resnet", steps: 100 },
};

function spec(over: { quick?: object; byData?: object; linked?: object } = {}) {
  return experiment({
    id: "spec-settings",
    title: "t",
    claim: "c",
    protocol: { batch: 8, subset: null as number | null },
    grid: {
      arm: ["small", "big"] as ("small" | "big")[],
      spike: [null, { at: 5 }] as ({ at: number } | null)[],
    },
    linked: { axis: "arm", values: ARMS },
    seeds: [0, 1],
    quick: { seeds: [0], linked: { big: { steps: 3 } } },
    byData: {
      cifar10: { settings: { batch: 16 }, quick: { subset: 4, spike: [null] } },
    },
    runKey: (c) => `${c.arm}-${c.spike === null ? "flat" : "spike"}-s${c.seed}`,
    resultSchema: z.number(),
    run: async (c) => c.steps,
    summarize: (outcomes) => ({ steps: outcomes.map((o) => o.result) }),
    tables: () => [],
    figures: () => [],
    claims: [],
    // invalid settings on purpose (the spec's types would reject them)
    ...(over as Record<never, never>),
  });
}

const DIGITS: DataSpec = { kind: "digits" };
const CIFAR: DataSpec = { kind: "cifar10", dir: "/x" };

describe("experiment(): linked settings, settings per data kind, JSON axes", () => {
  it("puts an axis value's linked settings into its cells, seeds innermost", () => {
    const { runs, config } = spec().plan({ quick: false, data: DIGITS });
    expect(runs.map((r) => [r.arm, r.model, r.steps, r.spike, r.seed])).toEqual([
      ["small", "mlp", 10, null, 0],
      ["small", "mlp", 10, null, 1],
      ["small", "mlp", 10, { at: 5 }, 0],
      ["small", "mlp", 10, { at: 5 }, 1],
      ["big", "resnet", 100, null, 0],
      ["big", "resnet", 100, null, 1],
      ["big", "resnet", 100, { at: 5 }, 0],
      ["big", "resnet", 100, { at: 5 }, 1],
    ]);
    expect(runs[0]).toEqual({
      batch: 8,
      subset: null,
      arm: "small",
      spike: null,
      ...ARMS.small,
      seed: 0,
    });
    expect(config.linked).toEqual({ axis: "arm", values: ARMS });
  });

  it("--quick overrides linked settings per value, merged over the full ones", () => {
    const { runs } = spec().plan({ quick: true, data: DIGITS });
    expect(runs.map((r) => [r.arm, r.model, r.steps])).toEqual([
      ["small", "mlp", 10],
      ["small", "mlp", 10],
      ["big", "resnet", 3],
      ["big", "resnet", 3],
    ]);
  });

  it("applies a data kind's settings, and its quick settings after the spec's", () => {
    const full = spec().plan({ quick: false, data: CIFAR }).runs;
    expect(full.length).toBe(8);
    expect(full.every((r) => r.batch === 16 && r.subset === null)).toBe(true);
    const quick = spec().plan({ quick: true, data: CIFAR }).runs;
    expect(quick.map((r) => [r.arm, r.batch, r.subset, r.spike, r.steps, r.seed])).toEqual([
      ["small", 16, 4, null, 10, 0],
      ["big", 16, 4, null, 3, 0],
    ]);
    // other data kinds keep the spec's settings
    expect(
      spec()
        .plan({ quick: true, data: DIGITS })
        .runs.every((r) => r.batch === 8),
    ).toBe(true);
  });

  it("withSettings varies linked settings and keeps the per-data settings for --data", () => {
    const small = spec().withSettings({ seeds: [7], linked: { small: { steps: 2 } } });
    const { runs } = small.plan({ quick: false, data: DIGITS });
    expect(runs.filter((r) => r.arm === "small").map((r) => [r.steps, r.seed])).toEqual([
      [2, 7],
      [2, 7],
    ]);
    expect(small.plan({ quick: false, data: CIFAR }).runs[0]!.batch).toBe(16);
  });

  it("rejects misspelt or inconsistent settings when the module loads", () => {
    const bad = (over: object) => () => spec(over);
    expect(bad({ quick: { linked: { huge: { steps: 1 } } } })).toThrow(ExperimentDefinitionError);
    expect(bad({ quick: { linked: { big: { stepz: 1 } } } })).toThrow(/stepz is not a linked/);
    expect(bad({ byData: { csv: { settings: { batchSize: 1 } } } })).toThrow(
      /byData\.csv\.settings\.batchSize/,
    );
    expect(bad({ linked: { axis: "arm", values: { small: ARMS.small } } })).toThrow(
      /no linked settings for arm = big/,
    );
    expect(
      bad({ linked: { axis: "arm", values: { small: { spike: null }, big: { spike: null } } } }),
    ).toThrow(/linked setting spike is also an axis/);
  });
});

describe("experiment(): an arm added beside committed cells", () => {
  // `undefined` leaves the axis out of ours' cells; the new arm's linked settings replace
  // protocol values for it alone
  function withArm() {
    return experiment({
      id: "spec-arm",
      title: "t",
      claim: "c",
      protocol: { batch: 8, steps: 10 },
      grid: { arm: [undefined, "published"] as (undefined | "published")[] },
      linked: {
        axis: "arm",
        values: { undefined: {}, published: { steps: 700, model: "linear" } },
      },
      seeds: [0],
      quick: {},
      runKey: (c) => `${c.arm ?? "ours"}-s${c.seed}`,
      resultSchema: z.number(),
      run: async (c) => c.steps,
      summarize: (outcomes) => ({ steps: outcomes.map((o) => o.result) }),
      tables: () => [],
      figures: () => [],
      claims: [],
    });
  }

  it("leaves the key out of the old arm's cells, and records the value as null", () => {
    const { runs, config } = withArm().plan({ quick: false, data: DIGITS });
    expect(runs[0]).toEqual({ batch: 8, steps: 10, seed: 0 });
    expect("arm" in runs[0]!).toBe(false);
    expect(runs[1]).toEqual({ batch: 8, steps: 700, arm: "published", model: "linear", seed: 0 });
    expect(runs.map((r) => withArm().runKey(r))).toEqual(["ours-s0", "published-s0"]);
    expect(config.grid).toEqual({ arm: [null, "published"] });
  });
});
