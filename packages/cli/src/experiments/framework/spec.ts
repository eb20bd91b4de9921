/**
 * An experiment as a spec: a fixed protocol, a grid of axes, seeds, quick overrides, and a
 * few small pure functions (what one run does, how results summarise, the tables, figures
 * and claims). {@link experiment} turns it into the {@link ExperimentDefinition} the runner
 * executes, owning once: grid × seeds expansion, quick overrides and their validation, run
 * keys, the typed run spec ("cell") handed to every function, the plan's config, and the rule
 * from claims to a verdict.
 *
 * A cell is `protocol ∪ one value per grid axis ∪ {seed}`: exactly what a run file stores, so
 * a cached result is reused only when every setting it depends on is unchanged.
 *
 * @module
 */
import type { ZodType } from "zod";
import { type Claim, verdictOf } from "./claims.js";
import {
  type DataSpec,
  defineExperiment,
  type ExperimentDefinition,
  ExperimentDefinitionError,
  ExperimentInputError,
  type FigureSpec,
  type JsonObject,
  type JsonPrimitive,
  type JsonValue,
  type ReportTable,
  type RunContext,
  type Verdict,
} from "./types.js";

/** The axes of a grid: a name and its values each (every combination is run). */
export type Axes = { readonly [axis: string]: readonly JsonPrimitive[] };

/** One point of the grid with the protocol and a seed: the run spec every function sees. */
export type CellOf<P extends JsonObject, G extends Axes> = P & {
  -readonly [K in keyof G]: G[K][number];
} & { seed: number };

/** Settings `--quick` replaces: any protocol value, any axis' values, the seeds. */
export type QuickOf<P extends JsonObject, G extends Axes> = { seeds?: readonly number[] } & {
  [K in keyof P]?: P[K];
} & { [K in keyof G]?: readonly G[K][number][] };

/** What an invocation resolved to: the protocol, the grid and the seeds after overrides. */
export type Setup<P extends JsonObject, G extends Axes> = {
  protocol: P;
  grid: { -readonly [K in keyof G]: G[K][number][] };
  seeds: number[];
  quick: boolean;
  data: DataSpec;
};

/** A result with the cell it was computed for. */
export type RunOutcome<Cell, Result> = { cell: Cell; result: Result };

/** A declarative experiment (see the module notes). */
export type ExperimentSpec<
  P extends JsonObject,
  G extends Axes,
  Result extends JsonValue,
  Summary extends JsonObject,
> = {
  /** Identifier on the command line and the results folder: `[a-z0-9][a-z0-9-]*`. */
  id: string;
  title: string;
  /** The published result, in one sentence. */
  claim: string;
  /** Settings every run shares; part of every run spec. */
  protocol: P;
  /** The axes; runs are every combination, first axis outermost, seeds innermost. */
  grid: G;
  /** The seeds of the full protocol. */
  seeds: readonly number[];
  /** What `--quick` changes: fewer seeds, steps, grid points, a data subset. */
  quick: QuickOf<P, G>;
  /**
   * Settings that are not part of a run spec but describe the protocol (written to the
   * summary's config for the report), e.g. the optimizer's name when it is not an axis.
   */
  describe?: JsonObject;
  /**
   * Protocol settings that follow from the data (e.g. accuracy targets only meaningful on
   * one data set); applied after the quick overrides and recorded in every run spec.
   */
  forData?: (data: DataSpec) => { [K in keyof P]?: P[K] };
  /** Grid points to leave out (e.g. combinations that make no sense). */
  include?: (cell: CellOf<P, G>) => boolean;
  /** Checks the resolved setup against the data before anything runs (bad input: throw `ExperimentInputError`). */
  validate?: (setup: Setup<P, G>) => void;
  /** Stable, file-system-safe (`[A-Za-z0-9][A-Za-z0-9._=-]*`), unique key of a run. */
  runKey: (cell: CellOf<P, G>) => string;
  /** Shape and ranges of a result: checked on every fresh and cached run file. */
  resultSchema: ZodType<Result>;
  /** One run (use `trainRun` from `framework/training.ts` for training runs). */
  run: (cell: CellOf<P, G>, ctx: RunContext) => Promise<Result>;
  /** Aggregates the results (in plan order); pure. */
  summarize: (outcomes: RunOutcome<CellOf<P, G>, Result>[], setup: Setup<P, G>) => Summary;
  /** The report's tables; pure in the summary. */
  tables: (summary: Summary) => ReportTable[];
  /** The figures; pure in the summary. */
  figures: (summary: Summary) => FigureSpec[];
  /** The published claim in parts; the verdict follows by one rule (`framework/claims.ts`). */
  claims: readonly Claim<Summary>[];
  /**
   * A verdict of its own instead of {@link claims}' rule, where the claim is not a list of
   * independent checks (kept for experiments whose summary is truly special).
   */
  verdict?: (summary: Summary) => Verdict;
};

function checkQuick(id: string, spec: { protocol: JsonObject; grid: Axes }, quick: object): void {
  for (const [k, v] of Object.entries(quick)) {
    if (k === "seeds") continue;
    if (k in spec.grid) {
      if (!Array.isArray(v) || v.length === 0) {
        throw new ExperimentDefinitionError(`${id}: quick.${k} must be a non-empty list of values`);
      }
    } else if (!(k in spec.protocol)) {
      throw new ExperimentDefinitionError(
        `${id}: quick.${k} is neither a protocol setting nor a grid axis`,
      );
    }
  }
}

/** Resolves the setup of an invocation: quick overrides, the data's settings, then `--seeds`. */
function resolveSetup<P extends JsonObject, G extends Axes>(
  spec: {
    id: string;
    protocol: P;
    grid: G;
    seeds: readonly number[];
    quick: QuickOf<P, G>;
    forData?: (data: DataSpec) => { [K in keyof P]?: P[K] };
  },
  opts: { quick: boolean; seeds?: number[]; data: DataSpec },
): Setup<P, G> {
  const over = (opts.quick ? spec.quick : {}) as Record<string, unknown>;
  const protocol = { ...spec.protocol };
  const grid: Record<string, JsonPrimitive[]> = {};
  for (const [axis, values] of Object.entries(spec.grid)) {
    grid[axis] = [...((over[axis] as readonly JsonPrimitive[] | undefined) ?? values)];
  }
  for (const [k, v] of Object.entries(over)) {
    if (k !== "seeds" && !(k in spec.grid)) (protocol as Record<string, unknown>)[k] = v;
  }
  Object.assign(protocol, spec.forData?.(opts.data));
  const seeds = [...(opts.seeds ?? (over.seeds as readonly number[] | undefined) ?? spec.seeds)];
  if (seeds.length === 0) throw new ExperimentInputError(`${spec.id} needs at least one seed`);
  return {
    protocol,
    grid: grid as Setup<P, G>["grid"],
    seeds,
    quick: opts.quick,
    data: opts.data,
  };
}

/** Every combination of the grid's values, first axis outermost, then the seeds. */
function expand<P extends JsonObject, G extends Axes>(setup: Setup<P, G>): CellOf<P, G>[] {
  let points: Record<string, JsonPrimitive>[] = [{}];
  for (const [axis, values] of Object.entries(setup.grid) as [string, JsonPrimitive[]][]) {
    points = points.flatMap((p) => values.map((v) => ({ ...p, [axis]: v })));
  }
  return points.flatMap((p) =>
    setup.seeds.map((seed) => ({ ...setup.protocol, ...p, seed }) as CellOf<P, G>),
  );
}

/** The definition made from a spec, with the spec's settings and a way to vary them. */
export type SpecExperiment<
  P extends JsonObject,
  G extends Axes,
  Result extends JsonValue,
  Summary extends JsonObject,
> = ExperimentDefinition<CellOf<P, G>, Result, Summary> & {
  /** The full protocol, grid and seeds (before `--quick`). */
  readonly protocol: P;
  readonly grid: G;
  readonly seeds: readonly number[];
  /**
   * The same experiment with other full-protocol settings (as `quick` overrides are given),
   * e.g. a benchmark's smaller grid. Run keys, summaries and reports work unchanged.
   */
  withSettings(overrides: QuickOf<P, G>): SpecExperiment<P, G, Result, Summary>;
};

/**
 * The definition the runner executes, made from a spec. Checks the quick overrides against
 * the protocol and grid when the module loads, so a misspelt override is a bug found at once.
 */
export function experiment<
  P extends JsonObject,
  G extends Axes,
  Result extends JsonValue,
  Summary extends JsonObject,
>(spec: ExperimentSpec<P, G, Result, Summary>): SpecExperiment<P, G, Result, Summary> {
  checkQuick(spec.id, spec, spec.quick);
  for (const [axis, values] of Object.entries(spec.grid)) {
    if (values.length === 0) {
      throw new ExperimentDefinitionError(`${spec.id}: grid axis ${axis} has no values`);
    }
    if (axis in spec.protocol || axis === "seed") {
      throw new ExperimentDefinitionError(`${spec.id}: grid axis ${axis} is also a setting`);
    }
  }
  const def = defineExperiment<CellOf<P, G>, Result, Summary>({
    id: spec.id,
    title: spec.title,
    claim: spec.claim,
    plan(opts) {
      const setup = resolveSetup(spec, opts);
      spec.validate?.(setup);
      const runs = expand(setup).filter((c) => spec.include?.(c) ?? true);
      const config: JsonObject = {
        seeds: setup.seeds,
        grid: setup.grid as JsonObject,
        protocol: setup.protocol,
        quick: setup.quick,
        data: setup.data as JsonObject,
        ...(spec.describe === undefined ? {} : { describe: spec.describe }),
      };
      return { config, runs };
    },
    runKey: spec.runKey,
    resultSchema: spec.resultSchema,
    execute: spec.run,
    summarize(config, results) {
      const outcomes = results.map((r) => ({ cell: r.run, result: r.result }));
      return spec.summarize(outcomes, setupFromConfig<P, G>(config));
    },
    figures: spec.figures,
    report(summary) {
      return {
        tables: spec.tables(summary),
        verdict: spec.verdict?.(summary) ?? verdictOf(spec.claims, summary),
      };
    },
  });
  return {
    ...def,
    protocol: spec.protocol,
    grid: spec.grid,
    seeds: spec.seeds,
    withSettings(overrides) {
      checkQuick(spec.id, spec, overrides);
      const setup = resolveSetup({ ...spec, quick: overrides }, { quick: true, data: DIGITS });
      return experiment({
        ...spec,
        protocol: setup.protocol,
        grid: setup.grid as unknown as G,
        seeds: setup.seeds,
      });
    },
  };
}

const DIGITS: DataSpec = { kind: "digits" };

/**
 * The setup recorded in a plan's config (the runner hands `summarize` the config as it is
 * written to `summary.json`). Only {@link experiment}'s own `plan` writes these configs.
 */
function setupFromConfig<P extends JsonObject, G extends Axes>(config: JsonObject): Setup<P, G> {
  return {
    protocol: config.protocol as P,
    grid: config.grid as Setup<P, G>["grid"],
    seeds: config.seeds as number[],
    quick: config.quick === true,
    data: config.data as DataSpec,
  };
}
