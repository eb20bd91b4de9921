/**
 * The `transformer-radii` experiment: the per-third binding counter and curve binning on
 * hand-made series, and one quick run through the runner.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decodeJson,
  type ExperimentOutcome,
  runExperiment,
} from "../../packages/cli/src/experiments/framework/index.js";
import { getExperiment } from "../../packages/cli/src/experiments/registry.js";
import {
  bindingWithOutput,
  binSeries,
  countBindings,
  countBindingsAtEvaluations,
  evaluationPoints,
  isPublishedMethod,
  isPublishedRun,
  OUR_METHODS,
  type OurRun,
  PUBLISHED_METHODS,
  RADII,
  type RadiusName,
  THIRDS,
  type TransformerRadiiResult,
  type TransformerRadiiSummary,
  thirdOf,
  transformerMethodLabel,
  transformerRadii,
} from "../../packages/cli/src/experiments/transformer-radii.js";

describe("binding counts per third", () => {
  it("splits steps into thirds like floor(3·step/steps)", () => {
    expect([0, 3, 4, 7, 8, 11].map((s) => thirdOf(s, 12))).toEqual([
      "early",
      "early",
      "middle",
      "middle",
      "late",
      "late",
    ]);
  });

  it("counts each non-null binding once, in its third", () => {
    const a: (RadiusName | null)[] = ["ffn", "ffn", null, "output", "attention", "output"];
    const b: (RadiusName | null)[] = ["ffn", null, "output", "output", "output", "ffn"];
    const c = countBindings([a, b], 6);
    expect(c.early).toEqual({ evaluations: 3, output: 0, attention: 0, ffn: 3 });
    expect(c.middle).toEqual({ evaluations: 3, output: 3, attention: 0, ffn: 0 });
    expect(c.late).toEqual({ evaluations: 4, output: 2, attention: 1, ffn: 1 });
  });
});

describe("bindingWithOutput", () => {
  it("lets ρ_out from another sample set bind only when it is below the controller's radius", () => {
    expect(bindingWithOutput("ffn", 2, 1)).toBe("output");
    expect(bindingWithOutput("ffn", 2, 3)).toBe("ffn");
    expect(bindingWithOutput("attention", 2, 2)).toBe("attention");
    expect(bindingWithOutput("output", 2, 2.0000001)).toBe("output");
    expect(bindingWithOutput(null, 2, 1)).toBeNull();
  });
});

describe("binSeries", () => {
  it("reduces bins of consecutive steps over the values it keeps", () => {
    const v = [1, 3, Number.NaN, 5, 7, Number.POSITIVE_INFINITY, 2];
    const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
    expect(binSeries(v, 2, Number.isFinite, sum)).toEqual([4, 5, 7, 2]);
    expect(binSeries([Number.NaN, Number.NaN, 1], 2, Number.isFinite, sum)).toEqual([
      Number.NaN,
      1,
    ]);
  });
});

const DIGITS = { kind: "digits" } as const;
/** The quick plan's first run (every run shares the protocol's steps and cadences). */
const quickRun = Object.assign(() => transformerRadii.plan({ quick: true, data: DIGITS }).runs[0], {
  published: () => transformerRadii.plan({ quick: true, data: DIGITS }).runs.find(isPublishedRun)!,
});

describe("the plan", () => {
  it("runs each method with its own setting, seeds innermost, keyed by method and seed", () => {
    const { runs } = transformerRadii.plan({ quick: false, data: DIGITS, seeds: [0, 1] });
    expect(runs.map((r) => transformerRadii.runKey(r))).toEqual(
      [...OUR_METHODS, ...PUBLISHED_METHODS].flatMap((m) => [`${m}-s0`, `${m}-s1`]),
    );
    const setting = (m: string) => {
      const r = runs.find((x) => x.method === m)!;
      return [r.learningRate, r.rTarget];
    };
    expect(setting("all-radii")).toEqual([null, 1]);
    expect(setting("output")).toEqual([null, 1]);
    expect(setting("fixed-1x")).toEqual([1e-3, null]);
    expect(setting("fixed-16x")).toEqual([1.6e-2, null]);
    expect(runs[0]).toMatchObject({ steps: 1000, batchSize: 128, referenceEvery: 3 });
    expect(setting("published-fixed-1x")).toEqual([2e-3, null]);
    expect(setting("published-fixed-16x")).toEqual([3.2e-2, null]);
    expect(setting("published-attn-out")).toEqual([null, 1]);
  });

  it("keeps our arm's run specs as committed, and gives the published arm its own protocol", () => {
    const { runs } = transformerRadii.plan({ quick: false, data: DIGITS });
    const ours = runs.find((r) => r.method === "all-radii" && r.seed === 0)!;
    // exactly the keys of the committed run files: no setting of the published arm leaks in
    expect(Object.keys(ours).sort()).toEqual(
      [
        "arch",
        "batchSize",
        "evalEvery",
        "learningRate",
        "method",
        "rTarget",
        "referenceEvery",
        "sampleSet",
        "seed",
        "steps",
        "testFraction",
      ].sort(),
    );
    const pub = runs.find((r) => r.method === "published-all-radii" && r.seed === 3)!;
    expect(isPublishedRun(pub)).toBe(true);
    expect(pub).toMatchObject({
      attentionBias: false,
      steps: 1201,
      batchSize: "full",
      optimizer: "adamw",
      weightDecay: 1e-4,
      sampleSet: "train",
      ffnQuantile: 0.01,
      ffnQuantileMethod: "linear",
      evalEvery: 20,
      split: "random",
      splitSeed: 42,
      testFraction: 0.3,
    });
    // the fixed arms of the published protocol are planned first among its runs
    expect(runs.filter(isPublishedRun).map((r) => r.method)[0]).toBe("published-fixed-16x");
  });

  it("labels a method with its setting", () => {
    expect(
      transformerMethodLabel({ method: "fixed-16x", learningRate: 1.6e-2, rTarget: null }),
    ).toBe("Adam 16× 1.6e-2");
    expect(transformerMethodLabel({ method: "output", learningRate: null, rTarget: 1 })).toBe(
      "output-only r=1",
    );
  });

  it("quick keeps every method on one seed with fewer, smaller steps", () => {
    const { runs } = transformerRadii.plan({ quick: true, data: DIGITS });
    expect(runs.map((r) => `${r.method}-s${r.seed}`)).toEqual(
      [...OUR_METHODS, ...PUBLISHED_METHODS].map((m) => `${m}-s0`),
    );
    expect(runs[0].steps).toBeLessThan(100);
    expect(runs.find(isPublishedRun)!.steps).toBeLessThan(10);
  });
});

describe("binding counts at the evaluation points (the published count)", () => {
  it("takes steps 0, every, 2·every, … and cuts m points into thirds of ⌊m/3⌋ (61 → 20/20/21)", () => {
    expect(evaluationPoints(1201, 20)).toBe(61);
    const run: RadiusName[] = Array.from({ length: 1201 }, (_, step) =>
      step < 400 ? "ffn" : step < 800 ? "attention" : "output",
    );
    const c = countBindingsAtEvaluations([run, run], 20);
    expect(c.early).toEqual({ evaluations: 40, output: 0, attention: 0, ffn: 40 });
    expect(c.middle).toEqual({ evaluations: 40, output: 0, attention: 40, ffn: 0 });
    expect(c.late).toEqual({ evaluations: 42, output: 42, attention: 0, ffn: 0 });
    // off the evaluation points nothing counts; nulls are no evaluations
    const sparse: (RadiusName | null)[] = ["ffn", "output", "output", null, "attention", "ffn"];
    const d = countBindingsAtEvaluations([sparse], 3);
    expect(d.early).toEqual({ evaluations: 1, output: 0, attention: 0, ffn: 1 });
    expect(d.middle.evaluations + d.late.evaluations).toBe(0);
  });
});

describe("transformer-radii, quick, through the runner", () => {
  let out: string;
  let outcome: ExperimentOutcome<TransformerRadiiSummary>;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), "ghosts-transformer-radii-"));
    outcome = (await runExperiment(transformerRadii, {
      out,
      quick: true,
    })) as ExperimentOutcome<TransformerRadiiSummary>;
  }, 600_000); // ~2 min idle (the published arm's full-batch probes); ~5 min on a loaded 2-core machine
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("is registered", () => {
    expect(getExperiment("transformer-radii")).toBe(transformerRadii);
  });

  it("writes a summary with config, seeds, timing, one row per method and the figures", () => {
    const { file, summary } = outcome;
    expect(file.seeds).toEqual([0]);
    expect(file.quick).toBe(true);
    expect(typeof file.durationSeconds).toBe("number");
    expect(file.config).toMatchObject({
      describe: { baseLearningRate: 1e-3, highMultiplier: 16 },
      grid: { rTarget: [null, 1] },
    });
    for (const r of summary.table.filter((x) => !isPublishedMethod(x.method))) {
      // every arm measured τ/ρ_out over the training split on the reference steps
      expect(r.medianRTrain).toBeGreaterThan(0);
      expect(r.maxRTrain).toBeGreaterThanOrEqual(r.medianRTrain);
    }
    expect(summary.table.map((r) => r.method)).toEqual([...OUR_METHODS, ...PUBLISHED_METHODS]);
    expect(summary.published).toMatchObject({ steps: 4, evaluations: 2 });
    const row = (m: string) => summary.table.find((r) => r.method === m)!;
    expect(row("fixed-1x").learningRate).toBe(1e-3);
    expect(row("fixed-16x").learningRate).toBeCloseTo(1.6e-2, 12);
    // a fixed rate spans no decades; the controllers choose theirs every step
    expect(row("fixed-1x").lrDecades).toBe(0);
    expect(row("fixed-1x").lrMin).toBe(1e-3);
    for (const r of summary.table) {
      expect(Number.isFinite(r.medianFinalTrainLoss)).toBe(true);
      expect(r.q25).toBeLessThanOrEqual(r.medianFinalTestAcc);
      expect(r.medianFinalTestAcc).toBeLessThanOrEqual(r.q75);
    }
    expect(row("published-fixed-1x").learningRate).toBe(2e-3);
    expect(row("published-fixed-1x").lrMin).toBe(2e-3);
    for (const m of ["all-radii", "output", "published-all-radii", "published-attn-out"]) {
      const r = row(m);
      expect(r.lrMin).toBeGreaterThan(0);
      expect(r.lrMax).toBeGreaterThan(r.lrMin);
      // ρ-set applies exactly τ = r_target·ρ: r is the target wherever it was measured
      expect(r.medianR).toBeCloseTo(1, 4);
    }
    // the published output-only controller's radius is ρ_out over the training split itself
    expect(row("published-output").medianRTrain).toBeCloseTo(1, 4);
    expect(summary.curves.filter((c) => c.method === "all-radii").length).toBe(
      Math.ceil(transformerRadii.plan({ quick: true, data: DIGITS }).runs[0].steps / summary.bin),
    );
    expect(summary.accuracy.length).toBeGreaterThan(0);
    expect(outcome.figures.map((f) => f.name)).toEqual([
      "effective-lr",
      "loss",
      "accuracy",
      "effective-lr-published",
      "loss-published",
      "accuracy-published",
    ]);
    for (const f of outcome.figures) expect(existsSync(f.path)).toBe(true);
  });

  it("counts one binding per controller step (and per reference step), only among output/attention/ffn", () => {
    const { steps, referenceEvery: every } = quickRun() as OurRun;
    const binding = outcome.summary.binding.filter((b) => !isPublishedMethod(b.method));
    expect(binding.map((b) => `${b.method}:${b.outputOver}:${b.third}`)).toEqual(
      ["all-radii", "output"].flatMap((m) =>
        ["batch", "train"].flatMap((o) => THIRDS.map((t) => `${m}:${o}:${t}`)),
      ),
    );
    for (const method of ["all-radii", "output"]) {
      for (const over of ["batch", "train"]) {
        const rows = binding.filter((b) => b.method === method && b.outputOver === over);
        const evaluations = over === "batch" ? steps : Math.ceil(steps / every);
        expect(rows.reduce((s, b) => s + b.evaluations, 0)).toBe(evaluations);
        for (const b of rows) {
          expect(RADII.reduce((s, k) => s + b[k], 0)).toBe(b.evaluations);
        }
      }
    }
    // the output-only controller only ever measures ρ_out
    for (const b of binding.filter((x) => x.method === "output")) {
      expect(b.output).toBe(b.evaluations);
    }
  });

  it("keeps the per-step series; a step the batch ρ_out bound is bound by output with the training split too", () => {
    const { steps, referenceEvery: every } = quickRun() as OurRun;
    const rec = decodeJson(
      readFileSync(join(outcome.dir, "runs", "all-radii-s0.json"), "utf8"),
    ) as { result: TransformerRadiiResult };
    const r = rec.result;
    for (const series of [r.loss, r.lr, r.r, r.rTrain, r.binding, r.bindingTrain, r.testAcc]) {
      expect(series).toHaveLength(steps);
    }
    r.bindingTrain.forEach((b, i) => {
      expect(b === null).toBe(i % every !== 0);
      expect(Number.isNaN(r.rTrain[i])).toBe(i % every !== 0);
      if (r.binding[i] === "output") expect(b === null || b === "output").toBe(true);
      // ρ_out(train) ≤ ρ_out(batch): τ/ρ_out(train) ≥ τ/ρ_out(batch) = r when output bound
      if (b !== null && r.binding[i] === "output") {
        expect(r.rTrain[i]).toBeGreaterThanOrEqual(r.r[i] * (1 - 1e-4));
      }
    });
  });

  it("counts the published controllers' binding at their evaluation points, attn-out never by the FFN", () => {
    const pub = quickRun.published();
    const points = evaluationPoints(pub.steps, pub.evalEvery);
    const rows = (m: string) => outcome.summary.binding.filter((b) => b.method === m);
    for (const m of ["published-all-radii", "published-attn-out", "published-output"]) {
      expect(rows(m).map((b) => `${b.outputOver}:${b.third}`)).toEqual(
        THIRDS.map((t) => `train:${t}`),
      );
      expect(rows(m).reduce((s, b) => s + b.evaluations, 0)).toBe(points);
    }
    for (const b of rows("published-attn-out")) expect(b.ffn).toBe(0);
    for (const b of rows("published-output")) expect(b.output).toBe(b.evaluations);
    const rec = decodeJson(
      readFileSync(join(outcome.dir, "runs", "published-all-radii-s0.json"), "utf8"),
    ) as { result: TransformerRadiiResult };
    // one full-batch step per step; the controller's ρ_out is over the training split
    expect(rec.result.loss).toHaveLength(pub.steps);
    expect(rec.result.bindingTrain.every((b) => b === null)).toBe(true);
  });

  it("has the report tables and a verdict", () => {
    expect(outcome.report.tables.length).toBe(3);
    expect(outcome.report.tables[1].rows.length).toBe(12 + 9);
    expect(outcome.report.tables[2].rows.length).toBe(PUBLISHED_METHODS.length);
    // the verdict (its rule: test/experiments/verdicts.test.ts) quotes this run's numbers
    const f16 = outcome.summary.table.find((r) => r.method === "fixed-16x")!;
    expect(outcome.report.verdict.sentence).toMatch(
      new RegExp(`^Fixed 16× diverged in ${f16.diverged}/${f16.seeds} seeds`),
    );
  });
});
