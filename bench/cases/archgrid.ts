/**
 * Experiment grid: `ghosts run arch-grid` (full scale by default) with --jobs 1 against
 * --jobs 2, timed from the call to the last finished run, and every run's result compared
 * between the two invocations (timing fields left out): parallel execution must not change
 * a single number.
 */
import { type ArchGridSettings, archGrid } from "../../packages/cli/src/experiments/arch-grid.js";
import { jsonEqual } from "../../packages/cli/src/experiments/framework/json.js";
import type { JsonValue } from "../../packages/cli/src/experiments/framework/types.js";
import { freshDist, runExperimentChild } from "../lib/experiment.js";
import { comparison, timeRow } from "../lib/stats.js";
import type { BenchCase, BenchContext, CaseResult } from "../lib/types.js";

/** `--quick`: two architectures, the two end arms, a handful of full-batch steps. */
const QUICK: ArchGridSettings = {
  arch: ["mlp-ln", "transformer"],
  spike: [10_000],
  method: ["plain", "rho-clip"],
  seeds: [0],
  steps: 4,
  spikeAt: 2,
  evalEvery: 2,
};

export const archGridCase: BenchCase = {
  id: "archgrid",
  title: "Experiment grid: arch-grid --jobs 1 vs --jobs 2",
  async run(ctx: BenchContext, result: CaseResult) {
    const base: ArchGridSettings = ctx.quick ? QUICK : { seeds: ctx.seeds ?? [...archGrid.seeds] };
    // --match picks architectures: the full --jobs 1 grid takes hours on two cores.
    const archs = (base.arch ?? archGrid.grid.arch).filter(
      (a) => ctx.match === undefined || ctx.match.test(a),
    );
    if (archs.length === 0) throw new Error(`--match ${ctx.match} selects no architecture`);
    const settings: ArchGridSettings = { ...base, arch: archs };
    const variant = archGrid.withSettings(settings, undefined, { arms: [] });
    const dist = freshDist();
    const repeats = ctx.repeats ?? 1;
    const runs = variant.plan({ quick: false, data: { kind: "digits" } }).runs.length;
    const { grid, seeds, protocol } = variant;
    result.description =
      `arch-grid with ${grid.arch.length} architectures × ${grid.spike.length} spike(s) × ` +
      `${grid.method.length} methods × ${seeds.length} seed(s) = ${runs} runs of ` +
      `${protocol.steps} full-batch steps, through runExperiment in a fresh child process per ` +
      "invocation, as `ghosts run` does; timed from the call to the last finished run (process " +
      "start, imports, summary and figures excluded). --jobs 2 runs in " +
      `two worker threads. ${repeats} repeat(s), the order of the two alternating. Every run's ` +
      "result is compared between the invocations with the timing fields (msPerStep) removed.";
    const secs = { j1: [] as number[], j2: [] as number[] };
    let compared = 0;
    let differing: string[] = [];
    for (let r = 0; r < repeats; r++) {
      const order = r % 2 === 0 ? [1, 2] : [2, 1];
      const got = new Map<number, Record<string, JsonValue>>();
      for (const jobs of order) {
        ctx.log(`archgrid: --jobs ${jobs} (repeat ${r + 1}/${repeats}, ${runs} runs)`);
        const t = await runExperimentChild(
          { experiment: "arch-grid", settings, jobs, dist },
          ctx.log,
        );
        (jobs === 1 ? secs.j1 : secs.j2).push(t.runSeconds);
        got.set(jobs, t.results);
      }
      const a = got.get(1)!;
      const b = got.get(2)!;
      compared = Object.keys(a).length;
      differing = Object.keys(a).filter((k) => {
        const other = b[k];
        return other === undefined || !jsonEqual(a[k]!, other);
      });
    }
    const params = { runs, steps: protocol.steps, seeds: seeds.join(",") };
    result.rows.push(
      timeRow("arch-grid --jobs 1", { ...params, jobs: 1 }, "s/grid", secs.j1, {
        peakGflops: null,
      }),
      timeRow(
        "arch-grid --jobs 2",
        { ...params, jobs: 2 },
        "s/grid",
        secs.j2,
        { peakGflops: null },
        {
          runsCompared: compared,
          runsDiffering: differing.length,
        },
      ),
    );
    result.comparisons.push(
      comparison(
        "arch-grid --jobs 1 / --jobs 2",
        secs.j1.map((t, i) => t / secs.j2[i]!),
        "wall time with one thread / with two worker threads, per repeat",
        { op: ">=", bound: 1.8, text: "≥ 1.8" },
      ),
      comparison(
        "runs whose results differ between --jobs 1 and --jobs 2",
        [differing.length],
        `of ${compared} runs, timing fields removed`,
        { op: "<=", bound: 0, text: "0" },
      ),
    );
    if (differing.length > 0)
      result.notes.push(`Differing runs: ${differing.slice(0, 10).join(", ")}.`);
    result.notes.push(
      dist === null
        ? "Ran from src/ through tsx (dist/ missing or older than src/): --jobs 2 workers " +
            "transpile TypeScript at start-up. `npm run bench` builds first and uses dist/."
        : `Ran from the compiled build (${dist}).`,
      "No FLOP model for this case: it mixes architectures and the controllers' probes; it " +
        "measures parallel efficiency and determinism.",
    );
  },
};
