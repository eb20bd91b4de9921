/**
 * Exact ghosts: throughput of the certified nearest-ghost solver at K = 10, 1,000 and
 * 50,000 classes, on the inputs `bench/ghost.ts` uses (logits ~ N(0, 3²) with one class
 * +6, slopes ~ N(0, 1), fixed seeds), with repeats summarised like every other case.
 */
import { nearestGhost } from "../../src/theory/ghost.js";
import { createRng } from "../../src/util/random.js";
import { summary, timeRow } from "../lib/stats.js";
import type { BenchCase, BenchContext, CaseResult } from "../lib/types.js";

/**
 * FLOP-equivalents of one term of one evaluation of F(t) = Σ exp(z_k + a_k t) at complex t:
 * exp, cos, sin (counted as ~4 each, as a vectorised libm would) and the complex
 * multiply-adds of F and F′. An estimate; the solver's own work per evaluation varies.
 */
const FLOPS_PER_TERM = 20;
/** Bytes read per term per evaluation: z_k and a_k as float64. */
const BYTES_PER_TERM = 16;

function makeBatch(k: number, n: number, seed: number): { z: Float64Array; a: Float64Array }[] {
  const rng = createRng(seed);
  const out: { z: Float64Array; a: Float64Array }[] = [];
  for (let i = 0; i < n; i++) {
    const z = rng.normalArray(k, 0, 3);
    const a = rng.normalArray(k);
    z[rng.int(k)]! += 6;
    out.push({ z, a });
  }
  return out;
}

export const ghostsCase: BenchCase = {
  id: "ghosts",
  title: "Exact ghosts: nearestGhost throughput (certified)",
  async run(ctx: BenchContext, result: CaseResult) {
    const plan: [number, number, number][] = ctx.quick
      ? [
          [10, 1000, 3],
          [1000, 20, 3],
          [50_000, 2, 2],
        ]
      : [
          [10, 20_000, 7],
          [1000, 400, 5],
          [50_000, 10, 5],
        ];
    result.description =
      "nearestGhost with the argument-principle certificate on, on logits ~ N(0, 3²) with one " +
      "class +6 and slopes ~ N(0, 1) (seed 1000 + K). Per K a batch of samples is solved once " +
      "as a warm-up (at most 200), then in full per repeat; rows give ms per solve (median over " +
      "repeats) and samples/s in `extra`. FLOPs ≈ evaluations × kept terms × " +
      `${FLOPS_PER_TERM} (exp, cos, sin and complex multiply-adds, an estimate); bytes = ` +
      `evaluations × terms × ${BYTES_PER_TERM}.`;
    for (const [k, n, defaultRepeats] of plan) {
      if (ctx.match !== undefined && !ctx.match.test(`K=${k}`)) continue;
      const repeats = ctx.repeats ?? defaultRepeats;
      ctx.log(`ghosts: K = ${k}, ${n} samples × ${repeats}`);
      const batch = makeBatch(k, n, 1000 + k);
      for (let i = 0; i < Math.min(n, 200); i++) nearestGhost(batch[i]!.z, batch[i]!.a);
      const ms: number[] = [];
      let evaluations = 0;
      let termEvals = 0;
      let certified = 0;
      for (let r = 0; r < repeats; r++) {
        evaluations = 0;
        termEvals = 0;
        certified = 0;
        const t0 = performance.now();
        for (const { z, a } of batch) {
          const g = nearestGhost(z, a);
          evaluations += g.evaluations;
          termEvals += g.evaluations * g.terms;
          if (g.certified) certified++;
        }
        ms.push((performance.now() - t0) / n);
      }
      const perSolve = summary(ms);
      if (k === 50_000) {
        // formerly a test assertion; a time is a benchmark figure, not a behaviour
        result.comparisons.push({
          name: "K=50,000 certified solve",
          stat: perSolve,
          definition: "ms per certified nearestGhost solve at K = 50,000",
          target: "< 1000 ms",
          pass: perSolve.median < 1000,
        });
      }
      result.rows.push(
        timeRow(
          `K=${k}`,
          { K: k, samples: n, repeats },
          "ms/solve",
          ms,
          {
            flops: (termEvals / n) * FLOPS_PER_TERM,
            bytes: (termEvals / n) * BYTES_PER_TERM,
            peakGflops: ctx.peakGflops,
          },
          {
            samplesPerSecond: 1000 / perSolve.median,
            evaluationsPerSolve: evaluations / n,
            termsPerEvaluation: evaluations > 0 ? termEvals / evaluations : 0,
            certifiedFraction: certified / n,
          },
        ),
      );
    }
    result.notes.push(
      "'% peak' compares scalar transcendental work with a matmul peak: it only shows how far " +
        "the solver is from the machine's arithmetic limit, not a reachable target.",
    );
  },
};
