/**
 * The contract of a reproducible experiment: a small declarative definition that the
 * runner expands into independent runs, caches, summarises, plots and reports.
 *
 * Everything that crosses a run boundary (run specs, run results, summaries) is plain JSON,
 * so results can be cached on disk, sent between worker threads and reloaded later to
 * rebuild the report. Declare those shapes with `type` aliases, not `interface`s: an
 * interface is not assignable to {@link JsonObject} (it has no index signature).
 *
 * @module
 */

import type { Dataset, SplitKind } from "softmax-ghosts/data";
import type { Weights } from "softmax-ghosts/engine";
import type { TopLevelSpec } from "vega-lite";
import type { ZodType } from "zod";

/** A JSON scalar. Numbers may be ±Infinity or NaN: the framework's codec keeps them. */
export type JsonPrimitive = null | boolean | number | string;

/** Any JSON value. */
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. Optional properties are allowed (an absent key is simply not written). */
export type JsonObject = { [key: string]: JsonValue };

/** A Vega-Lite specification (top level), as rendered by `renderSvg` in `src/report/`. */
export type VegaLiteSpec = TopLevelSpec;

/**
 * Which data set an experiment trains on.
 *
 * - `digits`: the embedded 8×8 digits (features already in [0, 1]).
 * - `csv`: a numeric CSV file (see `loadCsv`); `standardize` z-scores the features with
 *   mean and standard deviation fitted on the training split only; `labelColumn` as in
 *   `loadCsv` (default: the last column); `delimiter` as in `loadCsv` (default: detected).
 * - `cifar10`: the CIFAR-10 binary batches in `dir`, channel-normalised (another reader can
 *   be installed with `registerCifar10Loader`); the set comes with its own train/test split.
 */
export type DataSpec =
  | { kind: "digits" }
  | { kind: "csv"; path: string; standardize: boolean; labelColumn?: number; delimiter?: string }
  | { kind: "cifar10"; dir: string };

/** What `plan` is told about the invocation. */
export type PlanOptions = {
  /** A fast smoke version (fewer seeds, steps and grid points) instead of the full protocol. */
  quick: boolean;
  /** Seeds asked for on the command line; absent → the experiment's own default. */
  seeds?: number[];
  /** The data set asked for (`{kind: "digits"}` unless `--data` was given). */
  data: DataSpec;
};

/**
 * The fully resolved grid of an invocation.
 *
 * `config` records every setting the runs and the summary depend on; it is written to
 * `summary.json` and shown in the report. Put the seeds used under `config.seeds` (a number
 * array): the runner copies them to `summary.json`'s `seeds` field.
 */
export type Plan<Run extends JsonObject> = {
  config: JsonObject;
  runs: Run[];
};

/** A train/test pair of data sets. */
export type DataSplit = { train: Dataset; test: Dataset };

/** What `execute` gets besides its run spec. */
export type RunContext = {
  /** The key of the run being executed (for messages). */
  runKey: string;
  /** The data set of this invocation (`PlanOptions.data`). */
  data: DataSpec;
  /**
   * Loads `spec` and splits it: a stratified split seeded by `seed` with `testFraction`
   * (default 0.2) of each class in the test part (`split: "head"`: the first `testFraction`
   * of the rows, unshuffled, whatever the seed — `headSplit`); for `csv` with `standardize`, a
   * standardiser fitted on the training part and applied to both. CIFAR-10 keeps its own
   * split (`seed` and `testFraction` are ignored). Results are cached per thread: calling
   * it again with the same arguments returns the same objects — do not mutate them.
   *
   * `split: "random"` replaces the stratified split by one seeded permutation of all rows
   * (`randomSplit`: the published scripts' split).
   *
   * @throws {DataError} if the data cannot be read (the run fails with exit status 2).
   */
  loadData(spec: DataSpec, seed: number, testFraction?: number, split?: SplitKind): DataSplit;
  /** Reports the completed fraction (0..1) of this run; cheap, call it as often as you like. */
  onProgress(fraction: number): void;
  /**
   * Present with `--save DIR`: stores the run's final params and model state (borrowed) as
   * `DIR/<experiment>/<runKey>.safetensors`. Runs that train call it before disposing them.
   */
  saveWeights?: (weights: Weights) => Promise<void>;
};

/** How a data set is cut into training and test rows (the library's `SplitKind`). */
export type { SplitKind };

/** A table of the report: typically "ours beside published" numbers. */
export type ReportTable = {
  title: string;
  columns: string[];
  /** One row per line; numbers are formatted with 4 significant digits, `null` shows "—". */
  rows: (string | number | null)[][];
  /** A sentence shown under the table (e.g. what the brackets mean). */
  note?: string;
};

/** Whether the paper's claim was reproduced, and why, in one sentence. */
export type Verdict = { reproduced: "yes" | "partly" | "no" | "n/a"; sentence: string };

/** What `report` returns: the tables and the verdict of one experiment. */
export type ExperimentReport = { tables: ReportTable[]; verdict: Verdict };

/** One figure of an experiment: written to `<out>/<id>/<name>.svg` and inlined in the report. */
export type FigureSpec = {
  /** File-system-safe name, unique within the experiment: `[A-Za-z0-9][A-Za-z0-9._-]*`. */
  name: string;
  title: string;
  spec: VegaLiteSpec;
};

/**
 * One experiment of the paper, generic over its run spec, run result and summary (all
 * JSON). The runner calls `plan` once, `execute` once per run not already on disk (possibly
 * in parallel worker threads, in any order), then `summarize` over all results in plan
 * order, then `figures` and `report` on the summary.
 *
 * Rules that make caching and resuming correct:
 * - a run spec contains everything its result depends on (apart from the data set, which
 *   the runner tracks itself): a cached result is reused only when its stored spec equals
 *   the planned one;
 * - `execute` is deterministic given its run spec and data, and independent of other runs;
 * - `summarize`, `figures` and `report` are pure functions of their arguments (the summary
 *   is reloaded from `summary.json` to rebuild the report, so `figures` and `report` must
 *   need nothing else).
 */
export interface ExperimentDefinition<
  Run extends JsonObject,
  Result extends JsonValue,
  Summary extends JsonObject,
> {
  /** Identifier used on the command line and as the results folder: `[a-z0-9][a-z0-9-]*`. */
  id: string;
  /** Human-readable title. */
  title: string;
  /** The paper's published result, in one sentence. */
  claim: string;
  /** Expands the options into the full grid of runs (quick vs full). */
  plan(opts: PlanOptions): Plan<Run>;
  /** Stable, file-system-safe (`[A-Za-z0-9][A-Za-z0-9._=-]*`), unique key of a run. */
  runKey(run: Run): string;
  /** One independent unit of work (e.g. one seed × method × setting). */
  execute(run: Run, ctx: RunContext): Promise<Result>;
  /**
   * A run's cost relative to the others (e.g. 4 for a run that takes four times as long),
   * for the progress display's ETA; left out, every run counts the same.
   */
  cost?(run: Run): number;
  /**
   * The shape, ranges and finiteness a result must have (a zod schema). A cached run file
   * whose result fails it is reported and recomputed, and every fresh result is checked
   * against it before it is stored, so the schema cannot drift from `execute`. Left out,
   * a cached result is only checked to be JSON.
   */
  resultSchema?: ZodType<Result>;
  /** Aggregates the results, given in plan order. */
  summarize(config: JsonObject, results: { run: Run; result: Result }[]): Summary;
  /** The figures of the summary (may be empty). */
  figures(summary: Summary): FigureSpec[];
  /** Tables beside the published numbers, and the verdict. */
  report(summary: Summary): ExperimentReport;
}

/**
 * An experiment of any run/result/summary type, as held by the registry. Definitions of
 * concrete types are assignable to it (their methods are checked bivariantly).
 */
export type AnyExperiment = ExperimentDefinition<JsonObject, JsonValue, JsonObject>;

/**
 * Identity function that lets TypeScript infer the three type parameters of a definition
 * from its methods: `export const myExperiment = defineExperiment<MyRun, MyResult, MySummary>({…})`.
 */
export function defineExperiment<
  Run extends JsonObject,
  Result extends JsonValue,
  Summary extends JsonObject,
>(def: ExperimentDefinition<Run, Result, Summary>): ExperimentDefinition<Run, Result, Summary> {
  return def;
}

/**
 * An error caused by the user's input to an experiment (an unsuitable data set, an option
 * the experiment cannot honour). Thrown from `plan` or `execute`, it makes `ghosts run`
 * exit with status 2 instead of 1.
 */
export class ExperimentInputError extends Error {
  override name = "ExperimentInputError";
}

/** A definition that breaks the contract (duplicate run keys, bad names, reserved keys): a bug. */
export class ExperimentDefinitionError extends Error {
  override name = "ExperimentDefinitionError";
}
