/**
 * `ghosts demo` (what `npm start` runs): in about a minute or two on two cores, on the
 * embedded digits data, the headline results at demo size —
 * 1. the 10000× one-step learning-rate spike on MLP+LN and the TinyTransformer with plain
 *    Adam, gradient clipping and ρ-clip (the `arch-grid` experiment with a small plan);
 * 2. the one-step phase transition on two architectures (the `phase-transition` experiment,
 *    its quick plan restricted to two architectures);
 * then a table of final accuracies and smallest failing r, and the HTML report.
 *
 * Runs are cached under `<out>/demo/<experiment>/`, apart from the full-scale results a
 * `ghosts run` writes to `<out>/<experiment>/`; the report goes to `<out>/index.html`.
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import Table from "cli-table3";
import type { EngineDevice } from "softmax-ghosts/engine";
import {
  type ArchGridMethod,
  type ArchGridSettings,
  type ArchGridSummary,
  archGrid,
} from "../../experiments/arch-grid.js";
import { OutputError } from "../../experiments/framework/dirs.js";
import {
  type AnyExperiment,
  createProgressReporter,
  type ExperimentOutcome,
  formatDuration,
  type JsonObject,
  type JsonValue,
  type PlanOptions,
  type ProgressStream,
  RunFailedError,
  runExperiment,
} from "../../experiments/framework/index.js";
import { getExperiment, UnknownExperimentError } from "../../experiments/registry.js";
import { type ReportEntry, writeReport } from "../../report/html.js";
import { formatNumber } from "../../report/stats.js";
import { DEVICE_HELP, parseDevice, startDevice } from "../device.js";
import { CliError, EXIT_INTERNAL, UsageError } from "../errors.js";
import type { CliIO } from "../io.js";
import { DEFAULT_OUT, parseSaveDir, prepareOut } from "./run.js";
import type { CliCommand } from "./types.js";

/**
 * The demo's spike grid: the two architectures of the issue, only the 10000× spike, one
 * seed, 40 full-batch steps with the spike at step 15 (the paper: 200 steps, spike at 50,
 * five seeds). 40 steps are enough for ρ-clip to recover and for the baselines not to.
 */
export const DEMO_ARCH_GRID = {
  arch: ["transformer", "mlp-ln"],
  spike: [10000],
  seeds: [0],
  steps: 40,
  spikeAt: 15,
  evalEvery: 10,
} satisfies ArchGridSettings;

/**
 * The arch-grid experiment at the demo's settings, without the published-protocol arms; run
 * with `--quick` (as the demo runs everything) it keeps exactly these settings, the whole
 * data split included.
 */
export const demoArchGrid = archGrid.withSettings(DEMO_ARCH_GRID, {}, { arms: [] });

/** The two architectures of the demo's phase transition (from the experiment's quick plan). */
export const DEMO_PHASE_ARCHS: readonly string[] = ["mlp", "mlp-ln"];

/** The id of the phase-transition experiment in the registry. */
export const PHASE_TRANSITION_ID = "phase-transition";

/** Options of {@link runDemo}. */
export type DemoOptions = {
  /** Results folder: runs under `<out>/demo/`, the report at `<out>/index.html`. */
  out: string;
  /** Worker threads (default: up to 2, as many as the machine has). */
  jobs?: number;
  /** `--save DIR`: store the final weights of the runs trained now (safetensors). */
  saveDir?: string;
  /** The engine device of worker threads (the caller starts this thread's engine on it). */
  device?: EngineDevice;
};

/** What {@link runDemo} produced. */
export type DemoOutcome = {
  archGrid: ExperimentOutcome<ArchGridSummary>;
  /** `null` when the phase-transition experiment is not registered in this build. */
  phase: ExperimentOutcome | null;
  reportPath: string;
  seconds: number;
};

/**
 * `def` with its quick plan restricted to `archs` (runs whose `arch` is listed; the first
 * two architectures of the plan when none is). Everything else — runs, summary, report —
 * is the experiment's own.
 */
export function restrictToArchitectures(
  def: AnyExperiment,
  archs: readonly string[] = DEMO_PHASE_ARCHS,
): AnyExperiment {
  return {
    ...def,
    plan(opts: PlanOptions) {
      const plan = def.plan({ ...opts, quick: true });
      const archOf = (run: JsonObject): JsonValue | undefined => run.arch;
      const available = [...new Set(plan.runs.map(archOf))].filter(
        (a): a is string => typeof a === "string",
      );
      let keep = archs.filter((a) => available.includes(a));
      if (keep.length === 0) keep = available.slice(0, 2);
      // the demo shows the sweep; an experiment's further analyses would only lengthen it
      const runs = plan.runs.filter(
        (r) => keep.includes(archOf(r) as string) && r.analysis === undefined,
      );
      // The config says which architectures ran: a plan's `archs`, or a spec's `grid.arch`.
      const grid = plan.config.grid;
      const specGrid =
        typeof grid === "object" &&
        grid !== null &&
        !Array.isArray(grid) &&
        Array.isArray(grid.arch)
          ? grid
          : null;
      const config = Array.isArray(plan.config.archs)
        ? { ...plan.config, archs: keep }
        : specGrid !== null
          ? { ...plan.config, grid: { ...specGrid, arch: keep } }
          : plan.config;
      return { config, runs };
    },
  };
}

const METHOD_HEAD: Record<ArchGridMethod, string> = {
  plain: "plain Adam",
  "grad-clip": "grad clip ‖g‖≤1",
  "rho-clip": "ρ-clip",
  "rho-clip-grad": "published ρ-controller",
};

const ARCH_NAME: Record<string, string> = {
  transformer: "TinyTransformer",
  "mlp-ln": "MLP+LN",
  "cnn-bn": "CNN+BN",
  linear: "Linear",
  mlp: "MLP",
  cnn: "CNN",
};

function pct(x: number | undefined): string {
  return x !== undefined && Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : "—";
}

function plainTable(head: string[]): Table.Table {
  return new Table({
    head,
    style: { head: [], border: [] },
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
}

/** A phase-transition table row as the demo reads it (fields of that experiment's summary). */
type PhaseRow = { arch: string; preStepAcc: number; minFailR: number };

function phaseRows(summary: JsonObject | null): PhaseRow[] {
  const table = summary?.table;
  if (!Array.isArray(table)) return [];
  return table.filter(
    (r): r is PhaseRow =>
      typeof r === "object" &&
      r !== null &&
      !Array.isArray(r) &&
      typeof r.arch === "string" &&
      typeof r.preStepAcc === "number" &&
      typeof r.minFailR === "number",
  );
}

/**
 * The demo's terminal tables: final test accuracy per architecture and method at the
 * largest spike (with diverged seeds), and per architecture the smallest failing r of the
 * phase transition (when a phase summary is given).
 */
export function demoTables(spike: ArchGridSummary, phase: JsonObject | null): string {
  const methods = [...new Set(spike.table.map((r) => r.method))];
  const archs = [...new Set(spike.table.map((r) => r.arch))];
  const t1 = plainTable(["architecture", ...methods.map((m) => METHOD_HEAD[m])]);
  for (const arch of archs) {
    t1.push([
      ARCH_NAME[arch] ?? arch,
      ...methods.map((m) => {
        const row = spike.table.find(
          (r) => r.arch === arch && r.method === m && r.spike === spike.headlineSpike,
        );
        if (row === undefined) return "—";
        return `${pct(row.medianFinalTestAcc)}${row.diverged > 0 ? " diverged" : ""}`;
      }),
    ]);
  }
  const lines = [
    `Final test accuracy after a ${spike.headlineSpike}× learning-rate spike at step ${spike.spikeAt} of ${spike.steps} (full-batch Adam, LR 0.015):`,
    t1.toString(),
  ];
  const rows = phaseRows(phase);
  if (rows.length > 0) {
    const t2 = plainTable(["architecture", "test acc before", "smallest failing r"]);
    for (const r of rows) {
      t2.push([ARCH_NAME[r.arch] ?? r.arch, pct(r.preStepAcc), formatNumber(r.minFailR, 3)]);
    }
    lines.push(
      "",
      "One gradient step of length r·ρ_a: smallest r at which test accuracy drops below 90% of its value or the loss doubles:",
      t2.toString(),
    );
  }
  return lines.join("\n");
}

/** The default number of worker threads: two where the machine has them. */
export function defaultDemoJobs(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

/**
 * Runs the demo (see the module notes), writing progress to `progressStream` and returning
 * the outcomes and the report path.
 *
 * @throws {RunFailedError} when a run fails (finished runs stay cached).
 */
export async function runDemo(
  opts: DemoOptions,
  progressStream: ProgressStream,
  log: (line: string) => void = () => {},
): Promise<DemoOutcome> {
  const t0 = performance.now();
  const jobs = opts.jobs ?? defaultDemoJobs();
  const dir = join(opts.out, "demo");
  const run = async <S extends JsonObject>(def: AnyExperiment): Promise<ExperimentOutcome<S>> => {
    const progress = createProgressReporter(progressStream);
    try {
      return (await runExperiment(def, {
        out: dir,
        quick: true,
        jobs,
        onEvent: progress.onEvent,
        ...(opts.saveDir === undefined ? {} : { saveDir: opts.saveDir }),
        ...(opts.device === undefined ? {} : { device: opts.device }),
      })) as unknown as ExperimentOutcome<S>;
    } finally {
      progress.stop();
    }
  };

  log(
    `1/2  ${DEMO_ARCH_GRID.spike.join(", ")}× one-step learning-rate spike: ` +
      `${DEMO_ARCH_GRID.arch.map((a) => ARCH_NAME[a] ?? a).join(" and ")} × plain Adam, gradient clipping, ρ-clip`,
  );
  const archGridOutcome = await run<ArchGridSummary>(demoArchGrid as unknown as AnyExperiment);

  let phaseDef: AnyExperiment | null = null;
  try {
    phaseDef = restrictToArchitectures(getExperiment(PHASE_TRANSITION_ID));
  } catch (err) {
    if (!(err instanceof UnknownExperimentError)) throw err;
  }
  let phase: ExperimentOutcome | null = null;
  if (phaseDef === null) {
    log(`2/2  skipped: the ${PHASE_TRANSITION_ID} experiment is not part of this build`);
  } else {
    log(`2/2  phase transition: one gradient step of length r·ρ_a on two trained architectures`);
    phase = await run<JsonObject>(phaseDef);
  }

  const entries: ReportEntry[] = [
    {
      def: getExperiment("arch-grid"),
      summary: archGridOutcome.file,
      figures: archGridOutcome.figures,
    },
  ];
  if (phase !== null && phaseDef !== null) {
    entries.push({ def: phaseDef, summary: phase.file, figures: phase.figures });
  }
  const reportPath = await writeReport(opts.out, entries);
  return { archGrid: archGridOutcome, phase, reportPath, seconds: (performance.now() - t0) / 1000 };
}

/** Parses `--jobs` (an integer ≥ 1). */
function parseJobsOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--jobs must be an integer ≥ 1, got '${text}'`);
  }
  return n;
}

async function demoAction(
  opts: { out?: string; jobs?: string; save?: string; device?: string },
  io: CliIO,
): Promise<void> {
  const out = opts.out ?? DEFAULT_OUT;
  if (out.trim() === "") throw new UsageError("--out must not be empty");
  const saveDir = parseSaveDir(opts.save);
  const jobs = parseJobsOption(opts.jobs);
  const device = parseDevice(opts.device);
  await startDevice(device);
  await prepareOut(out);
  io.stdout.write(
    "ghosts demo: a step longer than the radius ρ_a of the nearest complex singularity of the\n" +
      "softmax loss breaks training; ρ-clip caps every step at ρ_a. Small versions of the\n" +
      "paper's experiments on the embedded digits data (see 'ghosts run --help' for full ones).\n\n",
  );
  let outcome: DemoOutcome;
  try {
    outcome = await runDemo({ out, jobs, saveDir, device }, io.stderr as ProgressStream, (line) =>
      io.stdout.write(`${line}\n`),
    );
  } catch (err) {
    if (err instanceof RunFailedError) {
      throw new CliError(err.message, err.userError ? 2 : EXIT_INTERNAL);
    }
    if (err instanceof OutputError) throw new UsageError(err.message);
    throw err;
  }
  const phaseSummary = outcome.phase?.summary ?? null;
  io.stdout.write(`\n${demoTables(outcome.archGrid.summary, phaseSummary)}\n\n`);
  io.stdout.write(`${outcome.archGrid.report.verdict.sentence}\n`);
  if (outcome.phase !== null) io.stdout.write(`${outcome.phase.report.verdict.sentence}\n`);
  io.stdout.write(
    `\nDemo finished in ${formatDuration(outcome.seconds)}. Report: ${outcome.reportPath}\n`,
  );
}

/** `ghosts demo [--out dir] [--jobs n]`. */
export const demoCommand: CliCommand = {
  name: "demo",
  register(program, { io }) {
    program
      .command("demo")
      .summary("a two-minute tour: learning-rate spikes and the r = 1 phase transition")
      .description(
        "On the embedded digits data: the 10000× one-step learning-rate spike on MLP+LN and " +
          "the TinyTransformer with plain Adam, gradient clipping and ρ-clip, then the one-step " +
          "phase transition on two architectures, at demo size (one seed, few steps). Prints a " +
          "table, writes the HTML report OUT/index.html and prints its path. Runs are cached in " +
          "OUT/demo/, so a second demo is quick.",
      )
      .option("-o, --out <dir>", `results folder (default: ${DEFAULT_OUT})`)
      .option("-j, --jobs <n>", "runs executed in parallel worker threads (default: up to 2)")
      .option("--save <dir>", "store the final weights of every run trained now (safetensors)")
      .option("--device <name>", DEVICE_HELP)
      .action((opts: { out?: string; jobs?: string; save?: string; device?: string }) =>
        demoAction(opts, io),
      );
  },
};
