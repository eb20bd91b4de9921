/**
 * `ghosts demo`: its plans and terminal table (the whole demo takes a minute or more, too
 * long for the suite; `npm start` runs it), and its registration on the command line.
 */
import { describe, expect, it } from "vitest";
import {
  DEMO_PHASE_ARCHS,
  demoArchGrid,
  demoTables,
  restrictToArchitectures,
} from "../../packages/cli/src/cli/commands/demo.js";
import type { ArchGridSummary } from "../../packages/cli/src/experiments/arch-grid.js";
import {
  type AnyExperiment,
  defineExperiment,
} from "../../packages/cli/src/experiments/framework/index.js";
import { getExperiment } from "../../packages/cli/src/experiments/registry.js";
import { ghosts } from "./helpers.js";

const DIGITS = { kind: "digits" } as const;

describe("demo plans", () => {
  it("runs the arch-grid definition at 10000× on the transformer and MLP+LN, one seed", () => {
    const def = demoArchGrid;
    const plan = def.plan({ quick: true, data: DIGITS });
    expect(plan.runs).toHaveLength(2 * 3);
    // the demo's own settings under --quick: 40 steps on the whole split
    expect(plan.runs.every((r) => r.steps === 40 && r.trainSubset === undefined)).toBe(true);
    expect(new Set(plan.runs.map((r) => r.arch))).toEqual(new Set(["transformer", "mlp-ln"]));
    expect(new Set(plan.runs.map((r) => r.method))).toEqual(
      new Set(["plain", "grad-clip", "rho-clip"]),
    );
    expect(plan.runs.every((r) => r.spike === 10000 && r.seed === 0)).toBe(true);
    // the same experiment otherwise: id, execute, summary and report are arch-grid's
    const registered = getExperiment("arch-grid");
    expect(def.id).toBe(registered.id);
    expect(def.execute).toBe(registered.execute);
    expect(def.runKey).toBe(registered.runKey);
  });

  const fake = defineExperiment<{ arch: string; seed: number }, number, { archs: string[] }>({
    id: "fake-phase",
    title: "fake",
    claim: "fake",
    plan: (opts) => {
      const archs = opts.quick ? ["linear", "mlp", "mlp-ln"] : ["linear", "mlp", "mlp-ln", "cnn"];
      return {
        config: { archs, seeds: [0, 1] },
        runs: archs.flatMap((arch) => [0, 1].map((seed) => ({ arch, seed }))),
      };
    },
    runKey: (r) => `${r.arch}-s${r.seed}`,
    execute: async () => 0,
    summarize: (config) => ({ archs: config.archs as string[] }),
    figures: () => [],
    report: () => ({ tables: [], verdict: { reproduced: "n/a", sentence: "" } }),
  }) as unknown as AnyExperiment;

  it("restricts an experiment's quick plan to the demo's architectures", () => {
    const plan = restrictToArchitectures(fake).plan({ quick: false, data: DIGITS });
    expect(plan.runs.map((r) => r.arch)).toEqual(["mlp", "mlp", "mlp-ln", "mlp-ln"]);
    expect(plan.config.archs).toEqual([...DEMO_PHASE_ARCHS]);
  });

  it("falls back to the plan's first two architectures", () => {
    const plan = restrictToArchitectures(fake, ["cnn-bn"]).plan({ quick: true, data: DIGITS });
    expect(plan.config.archs).toEqual(["linear", "mlp"]);
    expect(plan.runs).toHaveLength(4);
  });

  it("the phase-transition experiment's quick plan holds the demo's architectures", () => {
    const plan = restrictToArchitectures(getExperiment("phase-transition")).plan({
      quick: true,
      data: DIGITS,
    });
    expect(new Set(plan.runs.map((r) => r.arch))).toEqual(new Set(DEMO_PHASE_ARCHS));
    // the sweeps only: the curvature analysis is not part of the demo
    expect(plan.runs).toHaveLength(DEMO_PHASE_ARCHS.length);
    expect(plan.runs.some((r) => "analysis" in r)).toBe(false);
    expect(plan.config.grid).toMatchObject({ arch: [...DEMO_PHASE_ARCHS] });
  });
});

describe("demo table", () => {
  const spike: ArchGridSummary = {
    table: [
      ["transformer", "plain", 0.103, 1],
      ["transformer", "grad-clip", 0.1, 1],
      ["transformer", "rho-clip", 0.908, 0],
      ["mlp-ln", "plain", 0.123, 1],
      ["mlp-ln", "grad-clip", 0.103, 1],
      ["mlp-ln", "rho-clip", 0.981, 0],
    ].map(([arch, method, acc, diverged]) => ({
      arch: arch as "transformer" | "mlp-ln",
      spike: 10000,
      method: method as "plain" | "grad-clip" | "rho-clip",
      split: "stratified" as const,
      evaluation: "running-stats" as const,
      medianFinalTestAcc: acc as number,
      q25: acc as number,
      q75: acc as number,
      diverged: diverged as number,
      seeds: 1,
      medianFinalTestLoss: 1,
      medianFinalTrainLoss: 1,
      rAtSpike: 1,
    })),
    lossCurves: [],
    timing: [],
    headlineSpike: 10000,
    spikeAt: 15,
    steps: 40,
    divergenceLoss: 10,
  };

  it("lists final accuracies per architecture and method, marking diverged runs", () => {
    const text = demoTables(spike, null);
    expect(text).toContain("10000× learning-rate spike at step 15 of 40");
    const transformer = text.split("\n").find((l) => l.includes("TinyTransformer"));
    expect(transformer).toMatch(/10\.3% diverged.*10\.0% diverged.*90\.8%/);
    expect(text).not.toContain("smallest failing r");
  });

  it("adds the phase transition's smallest failing r when given", () => {
    const phase = {
      table: [
        { arch: "mlp", preStepAcc: 0.964, minFailR: 3.98107 },
        { arch: "mlp-ln", preStepAcc: 0.975, minFailR: Number.POSITIVE_INFINITY },
      ],
    };
    const text = demoTables(spike, phase);
    const lines = text.split("\n");
    expect(lines.find((l) => l.includes("│ MLP  "))).toMatch(/96\.4%.*3\.98/);
    expect(lines.find((l) => l.includes("MLP+LN") && l.includes("97.5%"))).toContain("∞");
  });
});

describe("ghosts demo on the command line", () => {
  it("is listed in the help and documents its options", async () => {
    const help = await ghosts(["--help"]);
    expect(help.out).toMatch(/\bdemo\b/);
    const own = await ghosts(["demo", "--help"]);
    expect(own.code).toBe(0);
    expect(own.out).toContain("--out");
    expect(own.out).toContain("--jobs");
  });

  it("rejects a bad --jobs before running anything", async () => {
    const r = await ghosts(["demo", "--jobs", "0"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--jobs");
  });
});
