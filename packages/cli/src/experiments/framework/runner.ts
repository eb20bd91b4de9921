/**
 * Runs an experiment: expands its plan, reuses the results already on disk, executes the
 * missing runs (in this thread or in parallel worker threads), writes each result as soon
 * as it is known, then writes the summary and the figures.
 *
 * Layout of `<out>/<id>/`:
 * - `runs/<runKey>.json` — one file per run: `{experiment, key, run, data, seconds,
 *   finishedAt, result}`;
 * - `summary.json` — {@link SummaryFile};
 * - `<figure name>.svg`, `.vl.json`, `.csv` — each figure, its Vega-Lite spec and its data.
 *
 * Every file is written atomically, so an interrupted invocation, rerun, continues where it
 * stopped and ends with the same summary as an uninterrupted one.
 *
 * @module
 */
import { readdir, readFile, rmdir, unlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { EngineDevice } from "softmax-ghosts/engine";
import { writeFigureFiles } from "../../report/figures.js";
import { createDataLoader, type DataLoader } from "./data.js";
import { ensureDirectory, fsReason, OutputError } from "./dirs.js";
import { decodeJson, encodeJson, normalizeJson, TEMP_PREFIX, writeFileAtomic } from "./json.js";
import { type FromWorker, type ToWorker, throttleProgress, type WorkerInit } from "./protocol.js";
import { checkRunFile, type ExpectedRun, firstIssue, type RunRecord } from "./run-file.js";
import { checkShard, IncompleteGridError, inShard, type Shard, writeShardPlan } from "./shard.js";
import {
  runsWallSeconds,
  SUMMARY_META_KEYS,
  type SummaryFile,
  type SummaryMeta,
  splitSummaryFile,
} from "./summary.js";
import {
  type DataSpec,
  type ExperimentDefinition,
  ExperimentDefinitionError,
  type ExperimentReport,
  type FigureSpec,
  type JsonObject,
  type JsonValue,
} from "./types.js";
import { runWeightSaver } from "./weights.js";

/** Something the runner reports while it works (for progress displays and logs). */
export type RunnerEvent =
  | {
      type: "plan";
      experiment: string;
      /** Runs in the plan. */
      total: number;
      /** Runs found on disk. */
      cached: number;
      /** Runs to execute now. */
      toRun: number;
      /** Threads that will execute them. */
      jobs: number;
      /**
       * The runs to execute, in the order they start, with their relative cost
       * ({@link ExperimentDefinition.cost}; 1 when the experiment does not say).
       */
      queue: { index: number; key: string; cost: number }[];
    }
  /**
   * A run file on disk was ignored and its run is recomputed: its spec or data differ from
   * the plan's, or it is unreadable, torn, or fails validation (schema, ranges, finiteness).
   */
  | { type: "stale"; experiment: string; key: string; reason: string }
  | { type: "run-start"; experiment: string; key: string; index: number }
  | { type: "run-progress"; experiment: string; key: string; index: number; fraction: number }
  | {
      type: "run-done";
      experiment: string;
      key: string;
      index: number;
      seconds: number;
      /** Runs finished by this invocation so far, and how many it has to run. */
      done: number;
      toRun: number;
    }
  | { type: "run-failed"; experiment: string; key: string; index: number; message: string }
  | { type: "summary"; experiment: string; path: string; durationSeconds: number };

/** Options of {@link runExperiment}. */
export type RunExperimentOptions = {
  /** Results folder; the experiment writes to `<out>/<id>/`. */
  out: string;
  /** Passed to `plan` (default false). */
  quick?: boolean;
  /** Passed to `plan` (default: the experiment's own seeds). */
  seeds?: number[];
  /** Passed to `plan` and to every run's context (default `{kind: "digits"}`). */
  data?: DataSpec;
  /** Runs executed at once, in worker threads when > 1 (default 1: in this thread). */
  jobs?: number;
  /**
   * The engine device of worker threads (default: the engine's default, wasm). Runs in this
   * thread use whatever device the caller started the engine on.
   */
  device?: EngineDevice;
  /** Receives progress events; nothing is printed otherwise. */
  onEvent?: (event: RunnerEvent) => void;
  /**
   * Modules (paths or URLs) each worker imports before looking the experiment up — for
   * experiments registered outside `registry.ts` (tests, plugins). Paths are resolved from
   * the current directory.
   */
  workerImports?: (string | URL)[];
  /**
   * `--shard k/N`: execute only this share of the missing runs (see `shard.ts`); without
   * the whole grid on disk afterwards, no summary is written and {@link IncompleteGridError}
   * is thrown.
   */
  shard?: Shard;
  /** Execute nothing: summarise what is on disk, or throw {@link IncompleteGridError}. */
  onlyCached?: boolean;
  /**
   * Summarise the runs on disk even when some of the grid is missing (with `onlyCached`: an
   * arm still being computed, committed run by run), instead of throwing
   * {@link IncompleteGridError}. The summary then covers only the runs present.
   */
  partial?: boolean;
  /** `--save DIR`: runs computed now store their final weights under `DIR/<id>/` (see `ctx.saveWeights`). */
  saveDir?: string;
};

/** A figure as written to disk: the SVG (`path`), its Vega-Lite spec and its data rows. */
export type RenderedFigure = {
  name: string;
  title: string;
  svg: string;
  path: string;
  specPath: string;
  csvPath: string;
};

/** What {@link runExperiment} produced. */
export type ExperimentOutcome<Summary extends JsonObject = JsonObject> = {
  id: string;
  /** `<out>/<id>`. */
  dir: string;
  summaryPath: string;
  /** The contents of `summary.json`. */
  file: SummaryFile<Summary>;
  /** The experiment's summary, exactly as it reads back from `summary.json`. */
  summary: Summary;
  report: ExperimentReport;
  figures: RenderedFigure[];
};

/**
 * A run failed; the runs finished before (and those in flight when it failed) are on disk,
 * so rerunning continues from there.
 */
export class RunFailedError extends Error {
  override name = "RunFailedError";
  constructor(
    /** The experiment id. */
    readonly experiment: string,
    /** Key of the failed run. */
    readonly runKey: string,
    /** `name` of the error the run threw (e.g. "DataError"). */
    readonly causeName: string,
    causeMessage: string,
  ) {
    super(`${experiment}: run ${runKey} failed: ${causeMessage}`);
  }

  /** Whether the run failed on the user's input (bad data) rather than a bug. */
  get userError(): boolean {
    return USER_ERROR_NAMES.has(this.causeName);
  }
}

/** Error names that mean bad input rather than a bug. */
export const USER_ERROR_NAMES: ReadonlySet<string> = new Set([
  "DataError",
  "UsageError",
  "ExperimentInputError",
  "OutputError",
]);

const RUN_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._=-]*$/;
/** What a figure's name must match: it names its files. */
export const FIGURE_NAME_PATTERN: RegExp = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const RUN_KEY_MAX = 200;

/** The package version, from package.json two levels above this module's folder. */
export function packageVersion(): string {
  try {
    const pkg = createRequire(import.meta.url)("../../../package.json") as { version?: string };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

let threadLoader: DataLoader | null = null;

/** The data loader (and its cache) of runs executed in this thread. */
function sharedLoader(): DataLoader {
  threadLoader ??= createDataLoader();
  return threadLoader;
}

/**
 * The cached result of a run if its file is valid and matches the plan; otherwise why not
 * (`null`: no file). An empty folder where the file belongs is removed (and reported); a
 * non-empty one is an error, before anything is computed.
 */
async function readCached(
  path: string,
  expected: ExpectedRun,
  resultSchema: ExperimentDefinition<JsonObject, JsonValue, JsonObject>["resultSchema"],
): Promise<{ result: JsonValue; seconds: number; finishedAt: string } | { stale: string } | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    if (code === "EISDIR") {
      try {
        await rmdir(path);
      } catch {
        throw new OutputError(
          `${path} is a directory where a run file belongs; move it away and rerun`,
        );
      }
      return { stale: "an empty directory stood where the run file belongs (removed)" };
    }
    return { stale: `unreadable file (${fsReason(err)})` };
  }
  const checked = checkRunFile(text, expected, resultSchema);
  return "invalid" in checked ? { stale: checked.invalid } : checked;
}

/** Removes temporary files left by an invocation killed in the middle of a write. */
async function sweepTempFiles(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names.filter((n) => n.startsWith(TEMP_PREFIX)).map((n) => unlink(join(dir, n)).catch(() => {})),
  );
}

/** Checks run keys: file-system-safe and unique. */
function checkKeys(id: string, keys: string[]): void {
  const seen = new Map<string, number>();
  keys.forEach((key, i) => {
    if (typeof key !== "string" || !RUN_KEY_RE.test(key) || key.length > RUN_KEY_MAX) {
      throw new ExperimentDefinitionError(
        `${id}: run key ${JSON.stringify(key)} (run ${i}) must match ${RUN_KEY_RE.source} and have at most ${RUN_KEY_MAX} characters`,
      );
    }
    const j = seen.get(key);
    if (j !== undefined) {
      throw new ExperimentDefinitionError(`${id}: runs ${j} and ${i} have the same key ${key}`);
    }
    seen.set(key, i);
  });
}

/** A function that executes the runs at `indices`, reporting each outcome as it comes. */
type Executor = (
  indices: number[],
  handlers: {
    start(index: number): void;
    progress(index: number, fraction: number): void;
    /** `text` is the encoded result. Resolves when the result is stored. */
    done(index: number, text: string, seconds: number): Promise<void>;
    failed(index: number, name: string, message: string): void;
    /** Whether a run has failed (then no new run is started). */
    stopped(): boolean;
  },
) => Promise<void>;

/**
 * Runs `def` (see the module notes) and returns the summary, report and figures.
 *
 * @throws {RunFailedError} when a run throws; the finished runs stay on disk.
 * @throws {ExperimentDefinitionError} when the definition breaks its contract (bad or
 *   duplicate run keys, non-JSON results, reserved summary keys, bad figure names).
 * @throws whatever `plan` throws (e.g. {@link ExperimentInputError} for unusable options).
 */
export async function runExperiment<
  Run extends JsonObject,
  Result extends JsonValue,
  Summary extends JsonObject,
>(
  def: ExperimentDefinition<Run, Result, Summary>,
  opts: RunExperimentOptions,
): Promise<ExperimentOutcome<Summary>> {
  const startTime = performance.now();
  const id = def.id;
  const jobs = opts.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1) {
    throw new RangeError(`jobs must be an integer ≥ 1, got ${jobs}`);
  }
  const data: DataSpec = opts.data ?? { kind: "digits" };
  const dataJson = normalizeJson(data as JsonObject, "data spec");
  const quick = opts.quick ?? false;
  const emit = opts.onEvent ?? (() => {});

  const plan = prefixErrors(id, null, () => def.plan({ quick, seeds: opts.seeds, data }));
  const config = normalizeJson(plan.config, `${id}: plan config`);
  // Runs as they read back from disk, so fresh and cached results pair with equal specs.
  const runs = plan.runs.map((r, i) => normalizeJson(r, `${id}: run ${i}`));
  const keys = runs.map((r) => def.runKey(r));
  checkKeys(id, keys);

  const dir = join(opts.out, id);
  const runsDir = join(dir, "runs");
  await ensureDirectory(runsDir);
  // Shards share the folder: a temporary file may be another shard's write in flight.
  if (opts.shard === undefined) await Promise.all([sweepTempFiles(dir), sweepTempFiles(runsDir)]);
  const runPath = (i: number) => join(runsDir, `${keys[i]}.json`);

  const results: ({ result: Result; seconds: number; finishedAt: string } | undefined)[] =
    new Array(runs.length);
  /** Takes run `i`'s result from its file if that holds one; else why it is stale, or null. */
  const readStored = async (i: number): Promise<{ stale: string } | null> => {
    const cached = await readCached(
      runPath(i),
      { experiment: id, key: keys[i], run: runs[i], data: dataJson },
      def.resultSchema,
    );
    if (cached === null || "stale" in cached) return cached;
    const { result, seconds, finishedAt } = cached;
    results[i] = { result: result as Result, seconds, finishedAt };
    return null;
  };
  const missing: number[] = [];
  for (let i = 0; i < runs.length; i++) {
    const stale = await readStored(i);
    if (results[i] !== undefined) continue;
    if (stale !== null) emit({ type: "stale", experiment: id, key: keys[i], reason: stale.stale });
    missing.push(i);
  }
  const shard = opts.shard;
  if (shard !== undefined) {
    checkShard(shard);
    await writeShardPlan(dir, { quick, seeds: opts.seeds ?? null, data });
  }
  const toRun = opts.onlyCached
    ? []
    : shard === undefined
      ? missing
      : missing.filter((i) => inShard(i, shard));
  const threads = Math.min(jobs, toRun.length);
  emit({
    type: "plan",
    experiment: id,
    total: runs.length,
    cached: runs.length - missing.length,
    toRun: toRun.length,
    jobs: threads,
    queue: toRun.map((index) => ({ index, key: keys[index], cost: runCost(def, runs[index]) })),
  });

  let failure: RunFailedError | null = null;
  let done = 0;
  const execute: Executor =
    jobs > 1 && toRun.length > 1
      ? workerExecutor(
          id,
          runs,
          keys,
          data,
          threads,
          opts.workerImports ?? [],
          opts.saveDir,
          opts.device,
        )
      : inThreadExecutor(def, runs, keys, data, opts.saveDir);
  await execute(toRun, {
    start: (index) => emit({ type: "run-start", experiment: id, key: keys[index], index }),
    progress: (index, fraction) =>
      emit({ type: "run-progress", experiment: id, key: keys[index], index, fraction }),
    async done(index, text, seconds) {
      const result = decodeJson(text) as Result;
      const valid = def.resultSchema?.safeParse(result);
      if (valid !== undefined && !valid.success) {
        const why = firstIssue(valid.error);
        emit({ type: "run-failed", experiment: id, key: keys[index], index, message: why });
        failure ??= new RunFailedError(
          id,
          keys[index],
          "ExperimentDefinitionError",
          `the result does not match the experiment's resultSchema (${why})`,
        );
        return;
      }
      const record: RunRecord = {
        experiment: id,
        key: keys[index],
        run: runs[index],
        data: dataJson,
        seconds,
        finishedAt: new Date().toISOString(),
        result,
      };
      await writeFileAtomic(runPath(index), encodeJson(record, `${id}: run ${keys[index]}`));
      results[index] = { result, seconds, finishedAt: record.finishedAt };
      done++;
      emit({
        type: "run-done",
        experiment: id,
        key: keys[index],
        index,
        seconds,
        done,
        toRun: toRun.length,
      });
    },
    failed(index, name, message) {
      emit({ type: "run-failed", experiment: id, key: keys[index], index, message });
      failure ??= new RunFailedError(id, keys[index], name, message);
    },
    stopped: () => failure !== null,
  });
  if (failure !== null) throw failure;
  if (toRun.length < missing.length) {
    // Other shards may have stored their runs meanwhile.
    for (const i of missing) if (results[i] === undefined) await readStored(i);
    const onDisk = results.filter((r) => r !== undefined).length;
    if (onDisk < runs.length && opts.partial !== true) {
      throw new IncompleteGridError(id, onDisk, runs.length);
    }
  }

  const ordered = runs.flatMap((run, i) => {
    const r = results[i];
    if (r === undefined) {
      if (opts.partial === true) return [];
      throw new Error(`${id}: run ${keys[i]} has no result`); // unreachable
    }
    return [{ run: run as Run, result: r.result }];
  });
  const summary = prefixErrors(id, "summarize", () => def.summarize(config, ordered));
  const reserved = Object.keys(summary).filter((k) =>
    (SUMMARY_META_KEYS as readonly string[]).includes(k),
  );
  if (reserved.length > 0) {
    throw new ExperimentDefinitionError(
      `${id}: summary uses reserved key(s) ${reserved.join(", ")}`,
    );
  }
  const seeds =
    Array.isArray(config.seeds) && config.seeds.every((s) => typeof s === "number")
      ? (config.seeds as number[])
      : (opts.seeds ?? null);
  const meta: SummaryMeta = {
    experiment: id,
    title: def.title,
    version: packageVersion(),
    config,
    seeds,
    data,
    quick,
    runs: runs.length,
    computedRuns: done,
    durationSeconds: (performance.now() - startTime) / 1000,
    computeSeconds: results.reduce((s, r) => s + (r?.seconds ?? 0), 0),
    wallSeconds: runsWallSeconds(results.filter((r) => r !== undefined)),
    generatedAt: new Date().toISOString(),
  };
  const summaryText = encodeJson({ ...meta, ...summary }, `${id}: summary`);
  const summaryPath = join(dir, "summary.json");
  await writeFileAtomic(summaryPath, summaryText);
  const file = decodeJson(summaryText) as SummaryFile<Summary>;
  const reloaded = splitSummaryFile<Summary>(file).summary;

  const figures = await writeFigures(def, reloaded, dir);
  const report = prefixErrors(id, "report", () => def.report(reloaded));
  emit({
    type: "summary",
    experiment: id,
    path: summaryPath,
    durationSeconds: meta.durationSeconds,
  });
  return { id, dir, summaryPath, file, summary: reloaded, report, figures };
}

/** The relative cost of a run for the ETA: the experiment's, when it is a positive number, else 1. */
function runCost<Run extends JsonObject>(
  def: { cost?: (run: Run) => number },
  run: JsonObject,
): number {
  if (def.cost === undefined) return 1;
  try {
    const c = def.cost(run as Run);
    return Number.isFinite(c) && c > 0 ? c : 1;
  } catch {
    return 1; // an estimate for the progress line must never fail a run
  }
}

/**
 * Calls `fn`, prefixing the message of anything it throws with the experiment and the
 * step (the error keeps its class, so bad input still exits 2).
 */
function prefixErrors<T>(id: string, step: string | null, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof Error)
      err.message = `${id}: ${step === null ? "" : `${step}: `}${err.message}`;
    throw err;
  }
}

/** Renders and writes the figures of a summary. */
async function writeFigures<Summary extends JsonObject>(
  def: { id: string; figures(summary: Summary): FigureSpec[] },
  summary: Summary,
  dir: string,
): Promise<RenderedFigure[]> {
  const specs = prefixErrors(def.id, "figures", () => def.figures(summary));
  const names = new Set<string>();
  for (const f of specs) {
    if (!FIGURE_NAME_PATTERN.test(f.name) || f.name === "summary" || names.has(f.name)) {
      throw new ExperimentDefinitionError(
        `${def.id}: figure name ${JSON.stringify(f.name)} must be unique, not "summary", and match ${FIGURE_NAME_PATTERN.source}`,
      );
    }
    names.add(f.name);
  }
  const out: RenderedFigure[] = [];
  for (const f of specs) {
    const { texts, paths } = await writeFigureFiles(dir, f);
    out.push({
      name: f.name,
      title: f.title,
      svg: texts.svg,
      path: paths.svg,
      specPath: paths.vegaLite,
      csvPath: paths.csv,
    });
  }
  return out;
}

/** Executes runs one after the other in this thread. */
function inThreadExecutor<Run extends JsonObject, Result extends JsonValue>(
  def: ExperimentDefinition<Run, Result, JsonObject>,
  runs: JsonObject[],
  keys: string[],
  data: DataSpec,
  saveDir?: string,
): Executor {
  return async (indices, h) => {
    for (const index of indices) {
      if (h.stopped()) return;
      h.start(index);
      const t0 = performance.now();
      let text: string;
      try {
        const result = await def.execute(runs[index] as Run, {
          runKey: keys[index],
          data,
          loadData: sharedLoader(),
          onProgress: throttleProgress((fraction) => h.progress(index, fraction)),
          ...(saveDir === undefined
            ? {}
            : { saveWeights: runWeightSaver(saveDir, def.id, keys[index]) }),
        });
        text = encodeJson(result, `result of run ${keys[index]}`);
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        h.failed(index, e.name, e.message);
        return;
      }
      await h.done(index, text, (performance.now() - t0) / 1000);
    }
  };
}

/** How to start a worker thread from this module, whether it runs as .ts (tsx, vitest) or .js. */
function spawnWorker(init: WorkerInit): Worker {
  const self = import.meta.url;
  if (!self.endsWith(".ts")) {
    return new Worker(new URL("./worker.js", self), { workerData: init });
  }
  // Running from TypeScript sources: a worker does not inherit the parent's TypeScript
  // loader (tsx's, or vitest's), so it registers tsx itself before importing worker.ts.
  let tsxApi: string;
  try {
    const pkgJson = createRequire(self).resolve("tsx/package.json");
    tsxApi = pathToFileURL(join(pkgJson, "..", "dist", "esm", "api", "index.mjs")).href;
  } catch {
    throw new Error(
      "--jobs > 1 from TypeScript sources needs the tsx package; build with 'npm run build' and run dist/ instead",
    );
  }
  const target = new URL("./worker.ts", self).href;
  const code = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); });`;
  return new Worker(code, { eval: true, workerData: init, execArgv: [] });
}

/** Executes runs in `threads` worker threads, feeding each the next run when it is free. */
function workerExecutor(
  id: string,
  runs: JsonObject[],
  keys: string[],
  data: DataSpec,
  threads: number,
  imports: (string | URL)[],
  saveDir?: string,
  device?: EngineDevice,
): Executor {
  return (indices, h) =>
    new Promise<void>((resolve) => {
      const queue = [...indices];
      const init: WorkerInit = {
        experimentId: id,
        imports: imports.map((m) => (m instanceof URL ? m.href : pathToFileURL(m).href)),
        data,
        ...(saveDir === undefined ? {} : { saveDir }),
        ...(device === undefined ? {} : { device }),
      };
      const pending = new Set<Promise<void>>();
      let live = 0;
      const finish = () => {
        live--;
        if (live === 0) void Promise.all(pending).then(() => resolve());
      };
      for (let t = 0; t < threads; t++) {
        const worker = spawnWorker(init);
        live++;
        let current: number | null = null;
        let closed = false;
        const close = () => {
          if (closed) return;
          closed = true;
          void worker.terminate();
          finish();
        };
        const feed = () => {
          const index = h.stopped() ? undefined : queue.shift();
          if (index === undefined) {
            current = null;
            close();
            return;
          }
          current = index;
          h.start(index);
          const msg: ToWorker = { type: "run", index, run: runs[index], key: keys[index] };
          worker.postMessage(msg);
        };
        worker.on("message", (msg: FromWorker) => {
          if (msg.type === "progress") h.progress(msg.index, msg.fraction);
          else if (msg.type === "error") {
            h.failed(msg.index, msg.name, msg.message);
            feed();
          } else {
            const p = h.done(msg.index, msg.text, msg.seconds).catch((err: unknown) => {
              h.failed(msg.index, "Error", `cannot store the result: ${(err as Error).message}`);
            });
            pending.add(p);
            void p.then(() => {
              pending.delete(p);
              feed();
            });
          }
        });
        // A worker that dies (failed import, uncaught error, out of memory) fails its run.
        worker.on("error", (err: Error) => {
          const index = current ?? queue[0];
          if (index !== undefined) h.failed(index, err.name, err.message);
          else h.failed(indices[0], err.name, `worker thread failed: ${err.message}`);
          close();
        });
        worker.on("exit", () => {
          if (!closed) {
            const index = current ?? indices[0];
            h.failed(index, "Error", "worker thread exited unexpectedly");
            close();
          }
        });
        feed();
      }
    });
}
