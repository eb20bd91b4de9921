/**
 * Fake experiments for the framework tests: pure JavaScript, no training. Importing this
 * module registers them, so worker threads find them when it is passed as `workerImports`.
 */

import { z } from "zod";
import {
  defineExperiment,
  ExperimentInputError,
  type JsonObject,
} from "../../packages/cli/src/experiments/framework/index.js";
import { count, radius } from "../../packages/cli/src/experiments/framework/schemas.js";
import { registerExperiment } from "../../packages/cli/src/experiments/registry.js";
import { summarise } from "../../packages/cli/src/report/stats.js";
import { barGroups, lineWithBand } from "../../packages/cli/src/report/vega.js";
import { DataError } from "../../src/data/index.js";

export type FakeRun = { seed: number; scale: number; steps: number };
export type FakeResult = {
  value: number;
  /** Infinity for scale > 1: checks the codec keeps non-finite numbers. */
  radius: number;
  trainN: number;
  testN: number;
  firstLabel: number;
};
export type FakeSummary = {
  rows: { scale: number; median: number; q25: number; q75: number; published: number }[];
  order: string[];
  trainN: number;
  anyInfinite: boolean;
};

/** The published number the fake "paper" claims for each scale. */
export const PUBLISHED: Record<number, number> = { 0.5: 1, 1: 2, 2: 4 };

/** The fake's deterministic result, computed independently of the framework. */
export function fakeValue(run: FakeRun, trainN: number): number {
  return run.scale * (run.seed + 1) + trainN / 10000 + run.steps / 1000;
}

export const FAKE_SCALES = [0.5, 1, 2];

/** A pure experiment over seeds × scales, reading the digits split of each seed. */
export const fakeSum = defineExperiment<FakeRun, FakeResult, FakeSummary>({
  id: "fake-sum",
  title: "Fake sum <test>",
  claim: "Values scale with r < 10 & more.",
  plan(opts) {
    const seeds = opts.seeds ?? (opts.quick ? [0, 1] : [0, 1, 2]);
    const runs: FakeRun[] = [];
    for (const scale of FAKE_SCALES)
      for (const seed of seeds) runs.push({ seed, scale, steps: 10 });
    return { config: { seeds, scales: FAKE_SCALES, steps: 10 }, runs };
  },
  runKey: (run) => `scale${run.scale}-s${run.seed}`,
  resultSchema: z.object({
    value: z.number(),
    radius,
    trainN: count,
    testN: count,
    firstLabel: count,
  }),
  async execute(run, ctx) {
    const { train, test } = ctx.loadData(ctx.data, run.seed);
    ctx.onProgress(0.5);
    ctx.onProgress(1);
    return {
      value: fakeValue(run, train.n),
      radius: run.scale > 1 ? Number.POSITIVE_INFINITY : run.scale,
      trainN: train.n,
      testN: test.n,
      firstLabel: train.y[0],
    };
  },
  summarize(config: JsonObject, results) {
    const scales = config.scales as number[];
    return {
      rows: scales.map((scale) => {
        const s = summarise(
          results.filter((r) => r.run.scale === scale).map((r) => r.result.value),
        );
        return { scale, median: s.median, q25: s.q25, q75: s.q75, published: PUBLISHED[scale] };
      }),
      order: results.map((r) => `scale${r.run.scale}-s${r.run.seed}`),
      trainN: results[0]?.result.trainN ?? 0,
      anyInfinite: results.some((r) => r.result.radius === Number.POSITIVE_INFINITY),
    };
  },
  figures(summary) {
    return [
      {
        name: "values",
        title: "Value vs scale",
        spec: lineWithBand({
          data: summary.rows,
          x: "scale",
          y: "median",
          lo: "q25",
          hi: "q75",
          logX: true,
          rule: { x: 1, label: "r = 1" },
        }),
      },
      {
        name: "bars",
        title: "Ours vs published",
        spec: barGroups({ data: summary.rows, x: "scale", y: "median", ref: "published" }),
      },
    ];
  },
  report(summary) {
    return {
      tables: [
        {
          title: "Median value per scale",
          columns: ["scale", "ours", "published"],
          rows: summary.rows.map((r) => [r.scale, r.median, r.published]),
          note: "ours: median over seeds <IQR>",
        },
      ],
      verdict: { reproduced: "partly", sentence: "Our values beat the <paper> at every scale." },
    };
  },
});

/** Runs whose seed is in `failSeeds` (part of the run spec) throw a DataError. */
export type FailRun = { seed: number; failSeeds: number[] };

/** An experiment whose chosen runs fail, for the failure paths of the worker pool. */
export const fakeFail = defineExperiment<FailRun, number, { total: number }>({
  id: "fake-fail",
  title: "Fake failure",
  claim: "Some runs fail.",
  plan(opts) {
    const seeds = opts.seeds ?? [0, 1, 2, 3, 4, 5];
    if (seeds.length < 2) throw new ExperimentInputError("needs at least 2 seeds");
    return { config: { seeds }, runs: seeds.map((seed) => ({ seed, failSeeds: [3] })) };
  },
  runKey: (run) => `s${run.seed}`,
  async execute(run) {
    if (run.failSeeds.includes(run.seed)) throw new DataError(`seed ${run.seed} is cursed`);
    // a little work so that runs overlap in the pool
    await new Promise((r) => setTimeout(r, 20));
    return run.seed * 10;
  },
  summarize: (_config, results) => ({ total: results.reduce((s, r) => s + r.result, 0) }),
  figures: () => [],
  report: (summary) => ({
    tables: [{ title: "Total", columns: ["total"], rows: [[summary.total]] }],
    verdict: { reproduced: "n/a", sentence: "Nothing to compare." },
  }),
});

registerExperiment(fakeSum);
registerExperiment(fakeFail);

/** URL of this module, for `workerImports`. */
export const FIXTURE_URL = new URL(import.meta.url);
