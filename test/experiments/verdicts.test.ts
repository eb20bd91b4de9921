/**
 * The verdicts of natural-instability, temperature, transformer-radii, calibration,
 * random-directions and theory on
 * hand-made summaries: each must be able to say "yes", "partly" and "no", and each turns on
 * the boundary its rule names (the quick runs elsewhere only exercise whatever their numbers
 * happen to give). The summaries go through each experiment's public `report`.
 */
import { describe, expect, it } from "vitest";
import {
  type CalibrationSummary,
  calibration,
} from "../../packages/cli/src/experiments/calibration.js";
import {
  type NaturalRow,
  type NaturalSummary,
  naturalInstability,
} from "../../packages/cli/src/experiments/natural-instability.js";
import {
  type OnsetRow,
  type RandomSummary,
  randomDirections,
} from "../../packages/cli/src/experiments/random-directions.js";
import {
  type TemperatureSummary,
  temperature,
} from "../../packages/cli/src/experiments/temperature.js";
import {
  hessianPoint,
  type TheorySummary,
  theory,
} from "../../packages/cli/src/experiments/theory.js";
import {
  type BindingRow,
  type TransformerRadiiMethod,
  type TransformerRadiiRow,
  type TransformerRadiiSummary,
  transformerRadii,
} from "../../packages/cli/src/experiments/transformer-radii.js";

// ── natural-instability ──────────────────────────────────────────────────────────────
function naturalRow(
  kind: "fixed" | "rho-set",
  knob: number,
  acc: number,
  bnInit: "batch" | "default" = "batch",
): NaturalRow {
  return {
    method: kind === "fixed" ? `fixed η=${knob}` : `ρ-set r=${knob}`,
    kind,
    bnInit,
    lr: kind === "fixed" ? knob : null,
    rTarget: kind === "rho-set" ? knob : null,
    medianFinalTestAcc: acc,
    q25: acc,
    q75: acc,
    medianMaxR: 1,
    medianStepsOverR1: 0,
    medianMsPerStep: 1,
    published: null,
  };
}

/** Fixed η 0.005/0.01/0.1/0.5 and ρ-set r = 0.5/1/2/4 at the given accuracies. */
function natural(
  fixed: [number, number, number, number],
  rhoSet: [number, number, number, number],
  seedsExceeding: number,
): NaturalSummary {
  const lrs = [0.005, 0.01, 0.1, 0.5];
  const rs = [0.5, 1, 2, 4];
  return {
    setting: "digits",
    model: "resnet-small",
    sampleSet: "batch",
    stepsPerEpoch: 2,
    table: [
      ...lrs.map((lr, i) => naturalRow("fixed", lr, fixed[i]!)),
      ...rs.map((r, i) => naturalRow("rho-set", r, rhoSet[i]!)),
      // the uncalibrated BatchNorm arm is shown, never judged
      naturalRow("rho-set", 1, 0.99, "default"),
    ],
    perEpoch: [],
    smallestFixedLr: {
      lr: 0.005,
      stepsOverR1PerSeed: [seedsExceeding > 0 ? 1 : 0],
      firstStepOverR1PerSeed: [seedsExceeding > 0 ? 3 : null],
      stepsPerRun: 10,
      seedsExceeding,
    },
    rhoSetMaxRelDeviation: 0,
    publishedNote: "",
  };
}

describe("natural-instability verdict", () => {
  const verdict = (s: NaturalSummary) => naturalInstability.report(s).verdict;
  const claimed = natural([0.8, 0.85, 0.82, 0.5], [0.8, 0.86, 0.84, 0.7], 1);

  it("is yes when all three claims hold, judging only the calibrated BatchNorm arms", () => {
    const v = verdict(claimed);
    expect(v.reproduced).toBe("yes");
    expect(v.sentence).toContain("every part of the claim holds");
    expect(v.sentence).toContain("Ours: fixed η = 0.5 ends at 50.0% vs best fixed 85.0%");
    expect(v.sentence).toContain("ρ-set r = 1 ends at 86.0% (best ρ-set: r = 1 at 86.0%)");
  });

  it("is partly when a side claim fails, no when ρ-set at r = 1 (the essential one) does", () => {
    // the smallest fixed η never exceeds r = 1
    const quiet = verdict({
      ...claimed,
      smallestFixedLr: { ...claimed.smallestFixedLr, seedsExceeding: 0 },
    });
    expect(quiet.reproduced).toBe("partly");
    expect(quiet.sentence).toMatch(
      /not as claimed: ours \([^)]*\): even the smallest fixed η exceeds r = 1/,
    );
    // ρ-set at r = 1 falls 5 points short of the best fixed η
    const v = verdict(natural([0.8, 0.85, 0.82, 0.5], [0.8, 0.8, 0.84, 0.7], 1));
    expect(v.reproduced).toBe("no");
    expect(v.sentence).toMatch(/not as claimed: ours \([^)]*\): ρ-set at r = 1 matches or beats/);
  });

  it("is no when none holds", () => {
    // the most aggressive η is the best one, ρ-set lags, no step of the smallest η over r = 1
    const v = verdict(natural([0.5, 0.6, 0.7, 0.9], [0.5, 0.6, 0.6, 0.6], 0));
    expect(v.reproduced).toBe("no");
    expect(v.sentence).toMatch(
      /the most aggressive fixed η ends below the best fixed η; ours \([^)]*\): ρ-set/,
    );
  });

  it("turns on its margins: ρ-set may tie the best fixed η, the aggressive η must lose 2 points", () => {
    // a tie at r = 1 counts as matching
    expect(verdict(natural([0.8, 0.85, 0.82, 0.5], [0.8, 0.85, 0.84, 0.7], 1)).reproduced).toBe(
      "yes",
    );
    // the aggressive η 1 point below the best is not "below"
    expect(verdict(natural([0.8, 0.85, 0.82, 0.84], [0.8, 0.86, 0.84, 0.7], 1)).reproduced).toBe(
      "partly",
    );
  });
});

// ── temperature ──────────────────────────────────────────────────────────────────────
function temperatureSummary(onsetStdRaw: number, onsetStdScaled: number): TemperatureSummary {
  return {
    onsetStdRaw,
    onsetStdScaled,
    onsetStdRawTest: onsetStdRaw,
    onsetStdScaledTest: onsetStdScaled,
    neverFailed: [],
    perTemperature: [],
    curvesRaw: [],
    curvesScaled: [],
    convention: "",
    published: { onsetStdRaw: 0.992, onsetStdScaled: 0.164 },
  };
}

describe("temperature verdict", () => {
  const reproduced = (raw: number, scaled: number) =>
    temperature.report(temperatureSummary(raw, scaled)).verdict.reproduced;

  it("is yes when r_T collapses the onsets more than 3×, partly when tighter at all, else no", () => {
    expect(reproduced(1, 0.2)).toBe("yes");
    expect(reproduced(1, 0.5)).toBe("partly");
    expect(reproduced(1, 1.5)).toBe("no");
  });

  it("needs strictly tighter: exactly 3× is partly, equal spread is no", () => {
    expect(reproduced(3, 1)).toBe("partly");
    expect(reproduced(1, 1)).toBe("no");
  });

  it("quotes both spreads and the ratio", () => {
    const v = temperature.report(temperatureSummary(1, 0.25)).verdict;
    expect(v.sentence).toContain("1.000 decades in raw τ vs 0.250 in r_T (4.0× tighter");
  });
});

// ── transformer-radii ────────────────────────────────────────────────────────────────
function transformerRow(
  method: TransformerRadiiMethod,
  loss: number,
  diverged: number,
  lrDecades: number,
): TransformerRadiiRow {
  return {
    method,
    label: method,
    learningRate: null,
    rTarget: null,
    medianFinalTrainLoss: loss,
    trainLossQ25: loss,
    trainLossQ75: loss,
    medianFinalTestLoss: loss,
    medianFinalTestAcc: 0.5,
    q25: 0.5,
    q75: 0.5,
    diverged,
    skippedSteps: 0,
    lrMin: 1e-4,
    lrMax: 1e-4 * 10 ** lrDecades,
    lrDecades,
    medianR: 1,
    medianRTrain: 1,
    maxRTrain: 1,
    seeds: 5,
  };
}

function binding(
  third: "early" | "middle" | "late",
  counts: { ffn: number; output: number; attention: number },
  outputOver: "batch" | "train" = "train",
): BindingRow {
  return {
    method: "all-radii",
    outputOver,
    third,
    evaluations: counts.ffn + counts.output + counts.attention,
    ...counts,
  };
}

type TransformerClaims = {
  f16Diverged: number;
  f1Loss: number;
  decades: number;
  lowest: TransformerRadiiMethod;
  early: { ffn: number; output: number; attention: number };
};

function transformerSummary(c: TransformerClaims): TransformerRadiiSummary {
  return {
    table: [
      transformerRow("all-radii", 0.5, 0, c.decades),
      transformerRow("output", 0.7, 0, c.decades),
      transformerRow("fixed-1x", c.f1Loss, 0, 0),
      transformerRow("fixed-16x", 50, c.f16Diverged, 0),
    ],
    binding: [
      binding("early", c.early),
      binding("middle", { ffn: 5, output: 5, attention: 0 }),
      binding("late", { ffn: 1, output: 9, attention: 0 }),
      // as the controller saw it on the batch: attention binding here is not judged
      binding("early", { ffn: 1, output: 1, attention: 8 }, "batch"),
    ],
    curves: [],
    accuracy: [],
    bin: 10,
    steps: 300,
    lowestLoss: c.lowest,
  };
}

describe("transformer-radii verdict", () => {
  const claimed: TransformerClaims = {
    f16Diverged: 4,
    f1Loss: 1.2,
    decades: 1.5,
    lowest: "all-radii",
    early: { ffn: 9, output: 1, attention: 0 },
  };
  const verdict = (c: Partial<TransformerClaims>) =>
    transformerRadii.report(transformerSummary({ ...claimed, ...c })).verdict;

  it("is yes when all five parts hold, and quotes the numbers", () => {
    const v = verdict({});
    expect(v.reproduced).toBe("yes");
    expect(v.sentence).toMatch(/^Fixed 16× diverged in 4\/5 seeds/);
    expect(v.sentence).toContain("early FFN 9/10, late output 9/10, attention 0 times");
    expect(v.sentence).toMatch(/every part of the claim holds\.$/);
  });

  it("is partly when one part besides the lowest loss fails, naming it", () => {
    const oneOff: [Partial<TransformerClaims>, string][] = [
      [{ f16Diverged: 2 }, "fixed 16× diverges"], // 2 of 5 seeds is not a majority
      [{ f1Loss: 0.5 }, "fixed 1× converges slowly"], // fixed 1× ties all-radii
      [{ decades: 0.9 }, "the controllers vary their effective LR by orders of magnitude"],
      // FFN binds exactly half: not "early FFN"; then attention binding once
      [
        { early: { ffn: 5, output: 5, attention: 0 } },
        "early FFN, late output, attention never binds",
      ],
      [
        { early: { ffn: 9, output: 0, attention: 1 } },
        "early FFN, late output, attention never binds",
      ],
    ];
    for (const [c, says] of oneOff) {
      const v = verdict(c);
      expect(v.reproduced, JSON.stringify(c)).toBe("partly");
      expect(v.sentence, JSON.stringify(c)).toMatch(new RegExp(`not as claimed: ${says}\\.$`));
    }
  });

  it("is no when all-radii does not reach the lowest loss (the heart of the claim)", () => {
    expect(verdict({ lowest: "output" }).reproduced).toBe("no");
  });

  it("is no without a strict majority of parts, and when none holds", () => {
    expect(verdict({ f16Diverged: 0, f1Loss: 0.1, decades: 0.5 }).reproduced).toBe("no");
    const v = verdict({
      f16Diverged: 0,
      f1Loss: 0.1,
      decades: 0.5,
      lowest: "fixed-1x",
      early: { ffn: 0, output: 10, attention: 0 },
    });
    expect(v.reproduced).toBe("no");
  });

  it("needs a strict majority of diverged seeds: 2 of 4 is not one, 3 of 4 is", () => {
    const s = transformerSummary(claimed);
    const f16 = s.table.find((r) => r.method === "fixed-16x")!;
    f16.seeds = 4;
    f16.diverged = 2;
    expect(transformerRadii.report(s).verdict.reproduced).toBe("partly");
    f16.diverged = 3;
    expect(transformerRadii.report(s).verdict.reproduced).toBe("yes");
  });

  it("leaves a part unmeasured when a method it needs was not run; n/a with nothing run", () => {
    const s = transformerSummary(claimed);
    s.table = s.table.filter((r) => r.method !== "fixed-16x");
    const v = transformerRadii.report(s).verdict;
    expect(v.reproduced).toBe("yes");
    expect(v.sentence).not.toContain("16×");
    const none = { ...s, table: [], binding: [], lowestLoss: null };
    expect(transformerRadii.report(none).verdict.reproduced).toBe("n/a");
  });
});

// ── calibration ──────────────────────────────────────────────────────────────────────
function calibrationSummary(min: number, uncertified: number): CalibrationSummary {
  const ratio = { median: 3, q05: 1.5, q95: 8, min };
  return {
    ratio,
    uncertified,
    samples: 1000,
    top2OverFraction: 0.1,
    top2Ratio: { median: 1, q05: 0.9, q95: 1.2 },
    setTop2OverFraction: 0.2,
    setCheckpoints: 10,
    setRatio: ratio,
    perArch: [],
    overTraining: [],
    histogram: [],
    scatter: [],
    controllers: [],
    controllerCurves: [],
    equalSafety: "",
    theoremHolds: min >= 1 - 1e-9,
  };
}

describe("calibration verdict", () => {
  const verdict = (min: number, uncertified: number) =>
    calibration.report(calibrationSummary(min, uncertified)).verdict;

  it("is yes when ρ*/ρ_a ≥ 1 on every sample and every sample is certified", () => {
    const v = verdict(1.02, 0);
    expect(v.reproduced).toBe("yes");
    expect(v.sentence).toContain("ρ*/ρ_a ≥ 1 held in all 1000 certified samples (min 1.02000");
  });

  it("is partly when the bound holds but some samples could not be certified", () => {
    expect(verdict(1.02, 3).reproduced).toBe("partly");
  });

  it("is no when a certified sample violates the bound", () => {
    const v = verdict(0.97, 0);
    expect(v.reproduced).toBe("no");
    expect(v.sentence).toContain("ρ*/ρ_a ≥ 1 is violated among 1000 certified samples");
    expect(verdict(0.97, 3).reproduced).toBe("no");
  });
});

// ── random-directions ────────────────────────────────────────────────────────────────
function onset(phase: string, kind: "gradient" | "random", loss: number, flip: number): OnsetRow {
  const q = { onsetLossQ25: loss, onsetLossQ75: loss, onsetFlipQ25: flip, onsetFlipQ75: flip };
  return { phase, kind, onsetLoss: loss, onsetFlip: flip, ...q, rhoA: 1, n: 1 };
}

function randomSummary(onsets: OnsetRow[]): RandomSummary {
  return {
    thresholds: { lossRatio: 2, flip: 0.1, nearOne: [0.1, 10] },
    phases: [],
    onsets,
    curves: [],
  };
}

describe("random-directions verdict", () => {
  const verdict = (...onsets: OnsetRow[]) => randomDirections.report(randomSummary(onsets)).verdict;

  it("is yes when every onset is near r = 1 and the gradient turns first", () => {
    expect(
      verdict(onset("early", "gradient", 1, 2), onset("early", "random", 2, 3)).reproduced,
    ).toBe("yes");
  });

  it("is partly when only the gradient-first part fails (the committed full-scale result)", () => {
    const v = verdict(onset("early", "gradient", 3, 4), onset("early", "random", 2, 3));
    expect(v.reproduced).toBe("partly");
    expect(v.sentence).toContain("the descent gradient −∇L does not degrade first in: early");
  });

  it("is no when an onset lies outside r ∈ [0.1, 10], the essential part", () => {
    const v = verdict(onset("early", "gradient", 1, 30), onset("early", "random", 2, 40));
    expect(v.reproduced).toBe("no");
    expect(v.sentence).toContain("flip fraction onsets outside r ∈ [0.1, 10]: early/gradient 30");
    // the edges of the range count as near
    expect(
      verdict(onset("mid", "gradient", 0.1, 10), onset("mid", "random", 10, 10)).reproduced,
    ).toBe("yes");
  });

  it("is n/a without onsets", () => {
    expect(verdict().reproduced).toBe("n/a");
  });
});

// ── theory ───────────────────────────────────────────────────────────────────────────
function theorySummary(o: {
  mismatch: number;
  violations: number;
  ghost: number | null;
}): TheorySummary {
  const atTen = hessianPoint(10);
  const phases =
    o.ghost === null
      ? []
      : [
          {
            phase: "late" as const,
            seed: 0,
            step: 500,
            testAccuracy: 0.97,
            setRhoA: 1,
            setRhoStar: 2,
            minImOverBound: o.ghost,
            medianModulus: 3,
            medianRatio: 2,
            uncertified: 0,
          },
        ];
  return {
    hessian: { curve: [atTen], atTen, curvatureRelErr: 0, radiusRelErr: 0, allCertified: true },
    kl: {
      cases: 100,
      violations: o.violations,
      maxRatio: o.violations > 0 ? 1.5 : 0.99,
      maxRatioGeneric: 0.5,
      medianRatio: 0.1,
      byR: [],
      sample: [],
    },
    ghostMap: { direction: "gradient", seeds: [0], phases, points: [], bounds: [] },
    mismatchAtTen2L: o.mismatch,
    klHolds: o.violations === 0,
    ghostBoundRatio: o.ghost ?? Number.POSITIVE_INFINITY,
  };
}

describe("theory verdict", () => {
  const verdict = (o: Parameters<typeof theorySummary>[0]) =>
    theory.report(theorySummary(o)).verdict;

  it("is yes when the mismatch exceeds 4000×, the KL bound holds and no ghost crosses", () => {
    const v = verdict({ mismatch: 4203, violations: 0, ghost: 1.003 });
    expect(v.reproduced).toBe("yes");
    expect(v.sentence).toContain("the 2/L curvature step is 4203× the radius");
    expect(v.sentence).toContain("held in 100 of 100 cases");
  });

  it("is no when any of the three checks fails: each is essential", () => {
    expect(verdict({ mismatch: 3999, violations: 0, ghost: 1.003 }).reproduced).toBe("no");
    expect(verdict({ mismatch: 4203, violations: 1, ghost: 1.003 }).reproduced).toBe("no");
    expect(verdict({ mismatch: 4203, violations: 0, ghost: 0.99 }).reproduced).toBe("no");
  });

  it("judges the first two alone when no ghost map was run", () => {
    expect(verdict({ mismatch: 4203, violations: 0, ghost: null }).reproduced).toBe("yes");
  });
});
