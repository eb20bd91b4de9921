/**
 * `ghosts run <experiment|all>`: reproduces the paper's experiments (cached, resumable,
 * optionally parallel), prints each one's main table and verdict and writes the HTML
 * report. `ghosts report`: rebuilds the report from the results on disk.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import Table from "cli-table3";
import { DataError, describeDataset, loadCsv, splitWarnings } from "softmax-ghosts/data";
import { ensureDirectory, OutputError } from "../../experiments/framework/dirs.js";
import {
  type AnyExperiment,
  createProgressReporter,
  type DataSpec,
  ExperimentInputError,
  type ExperimentReport,
  formatDuration,
  IncompleteGridError,
  RunFailedError,
  type RunnerEvent,
  readShardPlans,
  runExperiment,
  type Shard,
} from "../../experiments/framework/index.js";
import { EXPERIMENTS, getExperiment, UnknownExperimentError } from "../../experiments/registry.js";
import { NoResultsError, writeReportFromDisk } from "../../report/html.js";
import { formatNumber } from "../../report/stats.js";
import { type CliDevice, DEVICE_HELP, parseDevice, startDevice } from "../device.js";
import { CliError, EXIT_INTERNAL, UsageError } from "../errors.js";
import type { CliIO } from "../io.js";
import { createSlowRunNotes } from "../slow-runs.js";
import type { CliCommand } from "./types.js";

/** Default results folder. */
export const DEFAULT_OUT = "results";

/** Raw options of `ghosts run`, as commander gives them. */
export type RunCliOptions = {
  quick?: boolean;
  seeds?: string;
  out?: string;
  data?: string;
  standardize?: boolean;
  labelColumn?: string;
  delimiter?: string;
  jobs?: string;
  save?: string;
  shard?: string;
  device?: string;
};

/** Parses `--seeds`: comma-separated distinct non-negative integers. */
export function parseSeeds(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(",").map((s) => s.trim());
  const seeds = parts.map((s) => (/^\d+$/.test(s) ? Number(s) : Number.NaN));
  if (parts.length === 0 || seeds.some((s) => !Number.isSafeInteger(s))) {
    throw new UsageError(
      `--seeds must be a comma-separated list of non-negative integers, got '${text}'`,
    );
  }
  const dup = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (dup !== undefined) throw new UsageError(`--seeds lists seed ${dup} twice`);
  return seeds;
}

/** Parses `--jobs`: an integer ≥ 1 (default 1). */
export function parseJobs(text: string | undefined): number {
  if (text === undefined) return 1;
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--jobs must be an integer ≥ 1, got '${text}'`);
  }
  return n;
}

function statKind(path: string): "file" | "dir" | null {
  try {
    const s = statSync(path);
    return s.isDirectory() ? "dir" : s.isFile() ? "file" : null;
  } catch {
    return null;
  }
}

/**
 * Row count above which `ghosts run` warns that runs will be slow and, when stderr is not a
 * terminal, prints each run's expected time once its first steps are timed.
 */
export const LARGE_DATA_ROWS = 100_000;

/** Parses `--delimiter`: one character, or `tab` / `\t`. */
export function parseDelimiter(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const d = text === "tab" || text === "\\t" ? "\t" : text;
  if (d.length !== 1 || /[\r\n"]/.test(d)) {
    throw new UsageError(
      `--delimiter must be one character (or 'tab'), not a quote or line end; got ${JSON.stringify(text)}`,
    );
  }
  return d;
}

/**
 * Parses `--data` (`FILE.csv`, `cifar10:DIR` or `digits`; default digits) with
 * `--standardize`, `--label-column` and `--delimiter`, checking that the file or folder
 * exists and that a CSV file loads. For a CSV file, `notes` holds the summary line (rows,
 * features, classes with counts and mapping) and a warning per class too small to split,
 * and `facts.rows` its row count.
 */
export function parseData(
  opts: Pick<RunCliOptions, "data" | "standardize" | "labelColumn" | "delimiter">,
  notes: string[] = [],
  facts: { rows?: number } = {},
): DataSpec {
  const text = opts.data;
  const csv = text !== undefined && text !== "digits" && !text.startsWith("cifar10:");
  if (!csv && opts.standardize) throw new UsageError("--standardize needs --data FILE.csv");
  if (!csv && opts.labelColumn !== undefined) {
    throw new UsageError("--label-column needs --data FILE.csv");
  }
  if (!csv && opts.delimiter !== undefined)
    throw new UsageError("--delimiter needs --data FILE.csv");
  if (text === undefined || text === "digits") return { kind: "digits" };
  if (text.startsWith("cifar10:")) {
    const dir = text.slice("cifar10:".length);
    if (dir === "" || statKind(dir) !== "dir") {
      throw new UsageError(`--data ${text}: no such directory '${dir}'`);
    }
    return { kind: "cifar10", dir };
  }
  const kind = statKind(text);
  if (kind !== "file") {
    throw new UsageError(`--data ${text}: ${kind === "dir" ? "is a directory" : "no such file"}`);
  }
  let labelColumn: number | undefined;
  if (opts.labelColumn !== undefined) {
    labelColumn = /^-?\d+$/.test(opts.labelColumn.trim()) ? Number(opts.labelColumn) : Number.NaN;
    if (!Number.isSafeInteger(labelColumn)) {
      throw new UsageError(`--label-column must be an integer, got '${opts.labelColumn}'`);
    }
  }
  const delimiter = parseDelimiter(opts.delimiter);
  try {
    // fail now, with the file's own message, not in a run
    const ds = loadCsv(text, { labelColumn, delimiter });
    facts.rows = ds.n;
    notes.push(`data: ${text}: ${describeDataset(ds)}`);
    for (const w of splitWarnings(ds)) notes.push(`warning: ${text}: ${w}`);
    if (ds.n > LARGE_DATA_ROWS) {
      notes.push(
        `warning: ${text}: ${ds.n.toLocaleString("en-US")} rows is large: a run may take minutes; ` +
          "each run's expected time is printed once its first steps are timed",
      );
    }
  } catch (err) {
    if (err instanceof DataError) throw new UsageError(err.message);
    throw err;
  }
  const spec: DataSpec = { kind: "csv", path: text, standardize: opts.standardize === true };
  if (labelColumn !== undefined) spec.labelColumn = labelColumn;
  if (delimiter !== undefined) spec.delimiter = delimiter;
  return spec;
}

/** Parses `--shard k/N`: the k-th of N shares of each grid, `1 ≤ k ≤ N`. */
export function parseShard(text: string | undefined): Shard | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1) {
    throw new UsageError(`--shard must be k/N with integers 1 ≤ k ≤ N, e.g. 2/8, got '${text}'`);
  }
  if (index < 1 || index > count) {
    throw new UsageError(`--shard ${text}: k must be between 1 and ${count}`);
  }
  return { index, count };
}

/**
 * Parses `--save DIR`: where runs store their final weights (`DIR/<experiment>/<run>.safetensors`);
 * it must not be an existing file.
 */
export function parseSaveDir(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === "") throw new UsageError("--save must not be empty");
  if (statKind(text) === "file") throw new UsageError(`--save ${text}: is a file, not a directory`);
  return text;
}

/** The first table of a report and the verdict, as terminal text. */
export function formatReportSummary(title: string, report: ExperimentReport): string {
  const lines: string[] = [title];
  const first = report.tables[0];
  if (first !== undefined) {
    const t = new Table({
      head: first.columns,
      style: { head: [], border: [] },
      chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
    });
    t.push(...first.rows.map((r) => r.map((v) => (typeof v === "string" ? v : formatNumber(v)))));
    lines.push(first.title, t.toString());
    if (first.note !== undefined) lines.push(first.note);
  }
  lines.push(`verdict: ${report.verdict.reproduced} — ${report.verdict.sentence}`);
  return lines.join("\n") + "\n";
}

/**
 * The closing timing of `ghosts run`: `wall 1 min 02 s, compute 3 min 47 s over 40 runs;
 * this invocation 12 s` — wall time while the runs were executing, compute summed over
 * threads, and what this command took (less when runs came from disk).
 */
export function timingLine(meta: {
  wallSeconds?: number;
  computeSeconds: number;
  durationSeconds: number;
  runs: number;
}): string {
  const wall = meta.wallSeconds === undefined ? "?" : formatDuration(meta.wallSeconds);
  return (
    `wall ${wall}, compute ${formatDuration(meta.computeSeconds)} over ${meta.runs} run${meta.runs === 1 ? "" : "s"}; ` +
    `this invocation ${formatDuration(meta.durationSeconds)}`
  );
}

/** Maps the framework's errors to the CLI's: bad input exits 2, bugs exit 1. */
function toCliError(err: unknown): unknown {
  if (err instanceof RunFailedError) {
    return new CliError(err.message, err.userError ? 2 : EXIT_INTERNAL);
  }
  if (
    err instanceof UnknownExperimentError ||
    err instanceof ExperimentInputError ||
    err instanceof DataError ||
    err instanceof NoResultsError ||
    err instanceof OutputError
  ) {
    return new UsageError(err.message);
  }
  return err;
}

async function runRun(name: string, opts: RunCliOptions, io: CliIO): Promise<void> {
  let defs: AnyExperiment[];
  if (name === "all") {
    defs = Object.values(EXPERIMENTS);
    if (defs.length === 0) throw new UsageError("no experiments are registered");
  } else {
    try {
      defs = [getExperiment(name)];
    } catch (err) {
      throw toCliError(err);
    }
  }
  const seeds = parseSeeds(opts.seeds);
  const jobs = parseJobs(opts.jobs);
  const device = parseDevice(opts.device);
  const notes: string[] = [];
  const facts: { rows?: number } = {};
  const data = parseData(opts, notes, facts);
  const largeData = (facts.rows ?? 0) > LARGE_DATA_ROWS;
  const out = opts.out ?? DEFAULT_OUT;
  if (out.trim() === "") throw new UsageError("--out must not be empty");
  const saveDir = parseSaveDir(opts.save);
  const shard = parseShard(opts.shard);
  await startDevice(device);
  await prepareOut(out);
  for (const note of notes) io.stderr.write(`${note}\n`);

  const saved = new SavedRuns(out);
  const onInterrupt = () => {
    io.stderr.write(`\nghosts: interrupted; ${saved.describe()}\n`);
    process.exit(EXIT_INTERRUPTED);
  };
  process.once("SIGINT", onInterrupt);
  let pending = 0;
  try {
    for (const def of defs) {
      const finished = await runOne(
        def,
        {
          out,
          quick: opts.quick === true,
          seeds,
          data,
          jobs,
          ...(device === undefined ? {} : { device }),
          ...(saveDir === undefined ? {} : { saveDir }),
          ...(shard === undefined ? {} : { shard }),
        },
        saved,
        io,
        largeData,
      );
      if (!finished) pending++;
    }
  } finally {
    process.removeListener("SIGINT", onInterrupt);
  }
  if (pending === defs.length) return; // nothing summarised yet: no report to write
  const { path } = await writeReportFromDisk(out, EXPERIMENTS, {
    onInvalidSummary: (file, why) =>
      io.stderr.write(`warning: ${file} left out: not a valid summary (${why})\n`),
  }).catch((err: unknown) => {
    throw toCliError(err);
  });
  io.stdout.write(`report: ${path}\n`);
}

/** Exit status after Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;

/** Counts, per experiment, the runs on disk (cached or finished now), for the Ctrl-C message. */
class SavedRuns {
  private readonly byExperiment = new Map<string, { onDisk: number; total: number }>();
  constructor(private readonly out: string) {}

  onEvent(e: RunnerEvent): void {
    if (e.type === "plan")
      this.byExperiment.set(e.experiment, { onDisk: e.cached, total: e.total });
    else if (e.type === "run-done") {
      const c = this.byExperiment.get(e.experiment);
      if (c !== undefined) c.onDisk++;
    }
  }

  /** e.g. "12 of 40 runs of arch-grid are saved in results/arch-grid/runs; rerun the same command to continue". */
  describe(): string {
    if (this.byExperiment.size === 0) return "nothing was computed yet";
    const parts = [...this.byExperiment].map(
      ([id, c]) =>
        `${c.onDisk} of ${c.total} runs of ${id} are saved in ${join(this.out, id, "runs")}`,
    );
    return `${parts.join("; ")}; rerun the same command to continue`;
  }
}

/** Checks (creating it if needed) that `--out` is a writable folder, at once. */
export async function prepareOut(out: string): Promise<void> {
  try {
    await ensureDirectory(out);
  } catch (err) {
    if (err instanceof OutputError) throw new UsageError(`--out ${err.message}`);
    throw err;
  }
}

/**
 * Runs one experiment and prints its main table, verdict and results folder; false when it
 * ran as one shard of a grid whose other shares are not all on disk yet (no summary).
 */
async function runOne(
  def: AnyExperiment,
  opts: {
    out: string;
    quick: boolean;
    seeds: number[] | undefined;
    data: DataSpec;
    jobs: number;
    device?: CliDevice;
    saveDir?: string;
    shard?: Shard;
  },
  saved: SavedRuns,
  io: CliIO,
  largeData = false,
): Promise<boolean> {
  const stderr = io.stderr as { write(s: string): unknown; isTTY?: boolean };
  const progress = createProgressReporter(stderr);
  // a terminal's bar moves with every step; plain lines would wait for a run to finish
  const slow = stderr.isTTY === true ? null : createSlowRunNotes(stderr, { always: largeData });
  try {
    const outcome = await runExperiment(def, {
      ...opts,
      onEvent: (e) => {
        saved.onEvent(e);
        progress.onEvent(e);
        slow?.onEvent(e);
      },
    });
    io.stdout.write(
      formatReportSummary(`${def.title} (${def.id})`, outcome.report) +
        `results: ${outcome.dir} (${timingLine(outcome.file)})\n\n`,
    );
    return true;
  } catch (err) {
    if (!(err instanceof IncompleteGridError)) throw toCliError(err);
    io.stdout.write(
      `${def.id}: shard ${opts.shard?.index}/${opts.shard?.count} done, ${err.onDisk} of ${err.total} runs on disk; ` +
        `'ghosts report --out ${opts.out}' writes the summary once every shard has finished\n\n`,
    );
    return false;
  } finally {
    progress.stop();
    slow?.stop();
  }
}

/**
 * Summarises the sharded grids under `out` whose runs are all on disk (the shards that
 * finished last may each have seen the others still running); notes the incomplete ones.
 */
async function finishShardedGrids(out: string, io: CliIO): Promise<void> {
  for (const [id, plan] of await readShardPlans(out)) {
    if (!Object.hasOwn(EXPERIMENTS, id)) continue;
    try {
      await runExperiment(EXPERIMENTS[id]!, {
        out,
        quick: plan.quick,
        data: plan.data,
        onlyCached: true,
        ...(plan.seeds === null ? {} : { seeds: plan.seeds }),
      });
    } catch (err) {
      if (!(err instanceof IncompleteGridError)) throw toCliError(err);
      io.stderr.write(`report: ${err.message}; not summarised yet\n`);
    }
  }
}

async function runReport(opts: { out?: string }, io: CliIO): Promise<void> {
  const out = opts.out ?? DEFAULT_OUT;
  await finishShardedGrids(out, io);
  try {
    const { path, experiments } = await writeReportFromDisk(out, EXPERIMENTS, {
      onInvalidSummary: (file, why) =>
        io.stderr.write(`warning: ${file} left out: not a valid summary (${why})\n`),
    });
    io.stdout.write(
      `report: ${path} (${experiments.length} experiment${experiments.length === 1 ? "" : "s"})\n`,
    );
  } catch (err) {
    throw toCliError(err);
  }
}

/** `ghosts run <experiment|all> [options]`. */
export const runCommand: CliCommand = {
  name: "run",
  register(program, { io }) {
    program
      .command("run")
      .summary("reproduce an experiment of the paper (or all), with its report")
      .description(
        [
          "Runs EXPERIMENT (or every registered one with 'all'): each independent run",
          "(seed × method × setting) is stored under OUT/EXPERIMENT/runs/ as soon as it",
          "finishes, so an interrupted command, rerun, continues where it stopped.",
          "Writes OUT/EXPERIMENT/summary.json, the figures as SVG, and the HTML report",
          "OUT/index.html; prints each experiment's main table and verdict.",
          `Experiments: ${Object.keys(EXPERIMENTS).join(", ") || "(none registered)"}.`,
        ].join("\n"),
      )
      .argument("<experiment>", "experiment id, or 'all'")
      .option("--quick", "fast smoke version: fewer seeds, steps and grid points")
      .option("--seeds <list>", "comma-separated seeds, e.g. 0,1,2,3,4 (default: the experiment's)")
      .option("-o, --out <dir>", `results folder (default: ${DEFAULT_OUT})`)
      .option(
        "--data <source>",
        "FILE.csv (numeric features + a class label) or cifar10:DIR (default: digits)",
      )
      .option("--standardize", "z-score CSV features, fitted on the training split only")
      .option("--label-column <n>", "0-based label column of the CSV; negative counts from the end")
      .option("--delimiter <c>", "CSV separator: one character or 'tab' (default: detected)")
      .option("-j, --jobs <n>", "runs executed in parallel worker threads (default 1)")
      .option("--device <name>", DEVICE_HELP)
      .option(
        "--shard <k/N>",
        "run only the k-th of N shares of each grid (job arrays); 'ghosts report' merges",
      )
      .option(
        "--save <dir>",
        "store each trained run's final weights as DIR/EXPERIMENT/RUN.safetensors",
      )
      .action((name: string, opts: RunCliOptions) => runRun(name, opts, io));
  },
};

/** `ghosts report [--out dir]`. */
export const reportCommand: CliCommand = {
  name: "report",
  register(program, { io }) {
    program
      .command("report")
      .summary("rebuild the HTML report from the results on disk")
      .description(
        `Rebuilds OUT/index.html from every OUT/*/summary.json (default OUT: ${DEFAULT_OUT}),\n` +
          "first summarising the sharded grids (ghosts run --shard) whose runs are all on disk.",
      )
      .option("-o, --out <dir>", `results folder (default: ${DEFAULT_OUT})`)
      .action((opts: { out?: string }) => runReport(opts, io));
  },
};
