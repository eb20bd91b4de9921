/**
 * An experiment as a spec: its settings and a few small pure functions (one run, the
 * summary, the tables, figures and claims). {@link experiment} makes of it the
 * {@link ExperimentDefinition} the runner executes, doing once for every experiment what the
 * features below need. The features, in order:
 *
 * - `protocol`: the settings every run shares.
 * - `grid`: axes and their values; a run per combination (first axis outermost) and seed
 *   (`seeds`, innermost; `--seeds` replaces them). A run's spec, its *cell*, is
 *   `protocol ∪ one value per axis ∪ linked ∪ derived ∪ {seed}`: exactly what its run file
 *   stores, so a cached result is reused only when every setting it depends on is unchanged.
 * - `quick`: what `--quick` replaces (protocol values, axis values, seeds, linked settings),
 *   checked against the protocol and grid when the module loads, so a misspelt override is
 *   a bug found at once.
 * - `linked`: settings that follow from the value of one axis (e.g. each arm's model and
 *   step count), part of every cell with that value.
 * - `byData`: overrides per kind of data (`--data`), applied before `--quick`'s, with
 *   quick overrides of their own.
 * - `derive`: settings computed from a cell and added to it (so to its run file).
 * - `include`: which cells run (leaves out combinations that make no sense).
 * - `analyses`: further measurements of the same grid, each a run per cell with
 *   `analysis: <name>` added to its spec (the spec's own runs carry no such field, so adding
 *   an analysis later leaves every committed run file found).
 * - `arms`: further sets of cells beside the grid, each the grid at settings of its own with
 *   a few settings added to its cells (e.g. an arm under a published protocol: its own split
 *   and evaluation), so their run files never collide with the grid's.
 * - `validate`: checks the resolved {@link Setup} against the data before anything runs;
 *   bad input throws `ExperimentInputError`.
 * - `cost`: a run's weight relative to the others, for the progress line's ETA.
 * - `runKey`, `resultSchema`, `run`, `summarize`, `tables`, `figures`: a run's file name,
 *   its result's shape, the run itself, and the pure steps from results to the report;
 *   `claims` give the verdict by one rule (`framework/claims.ts`) unless `verdict` is given.
 *
 * The definition also keeps the spec's settings, and `withSettings` makes a variant at other
 * full-protocol settings (e.g. the demo's smaller grid) with the same keys and reports.
 *
 * {@link experimentInParts} is the same for an experiment whose runs are of several kinds
 * (*parts*), each with its own protocol, grid and quick overrides, sharing the seeds; a part
 * may be unseeded (it runs once per grid point). Both entry points share everything else:
 * the checks, seed resolution, the config a plan records and the setup `summarize` reads
 * back from it, and the rule from claims to a verdict.
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
  type JsonValue,
  type PlanOptions,
  type ReportTable,
  type RunContext,
  type Verdict,
} from "./types.js";

/**
 * The axes of a grid: a name and its values each (every combination is run). Values are
 * JSON: usually numbers or strings, an object where a setting is one (e.g. a spike's
 * `{multiplier, at}` or `null` for none). `undefined` is the setting left out: the cells of
 * that value do not have the key at all, so an arm can be added beside committed runs
 * (`arm: [undefined, "published"]`) without changing their run specs (the config records
 * it as `null`).
 */
export type Axes = { readonly [axis: string]: readonly (JsonValue | undefined)[] };

/** No linked settings (see {@link Linked}). */
export type NoLinked = Record<never, never>;

/**
 * Settings that follow from the value of one axis: `values[String(v)]` is part of every cell
 * whose `axis` is `v` (so of its run spec and run key's inputs), e.g. the model, optimizer
 * and step count of each of an experiment's two settings. A linked setting may replace a
 * protocol setting (e.g. another protocol's step count for its arm), never an axis or the seed.
 */
export type Linked<G extends Axes, L extends JsonObject> = {
  axis: keyof G & string;
  values: { readonly [value: string]: L };
};

/**
 * The settings of one grid point: an axis with an `undefined` value (see {@link Axes}) is an
 * optional setting.
 */
export type PointOf<G extends Axes> = {
  -readonly [K in keyof G as undefined extends G[K][number] ? never : K]: G[K][number];
} & {
  -readonly [K in keyof G as undefined extends G[K][number] ? K : never]?: Exclude<
    G[K][number],
    undefined
  >;
};

/** One point of the grid with the protocol and a seed: the run spec every function sees. */
export type CellOf<P extends JsonObject, G extends Axes, L extends JsonObject = NoLinked> = P &
  PointOf<G> &
  L & { seed: number };

/**
 * Settings `--quick` (or a data kind, see {@link ExperimentSpec.byData}) replaces: any
 * protocol value, any axis' values, the seeds, and linked settings per axis value (merged
 * over them). `seeds` and `linked` are therefore no names for protocol settings.
 */
export type QuickOf<P extends JsonObject, G extends Axes, L extends JsonObject = NoLinked> = {
  seeds?: readonly number[];
  linked?: { readonly [value: string]: Partial<L> };
} & {
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

/** The settings of one kind of data: overrides of the full protocol and of `--quick`'s. */
export type DataSettings<P extends JsonObject, G extends Axes, L extends JsonObject = NoLinked> = {
  /** Replace the spec's protocol values, axes and seeds for this data. */
  settings?: QuickOf<P, G, L>;
  /** Applied after the spec's `quick` under `--quick` for this data. */
  quick?: QuickOf<P, G, L>;
};

/** No derived settings. */
export type NoDerived = Record<never, never>;

/**
 * The field an analysis adds to its cells (see {@link ExperimentSpec.analyses}): absent on
 * the spec's own runs; nothing at all when the spec has no analyses.
 */
export type AnalysisField<A extends string> = [A] extends [never]
  ? Record<never, never>
  : { analysis?: A };

/** No arms' settings (see {@link Arm}). */
export type NoArms = Record<never, never>;

/**
 * A further set of cells beside the grid (see {@link ExperimentSpec.arms}): the grid's
 * settings with `settings` over them (protocol values, axes' values, seeds — as `quick` gives
 * them; applied after `--quick`'s, so they define the arm), `add` set in every cell of the
 * arm (names that are neither settings nor axes: grid cells lack them, so arm cells — and
 * their run keys — differ from the grid's), and `quick`, applied last under `--quick`.
 */
export type Arm<
  P extends JsonObject,
  G extends Axes,
  L extends JsonObject,
  R extends JsonObject,
> = {
  settings?: QuickOf<P, G, L>;
  add: R;
  quick?: QuickOf<P, G, L>;
};

/** A cell of a spec with arms: a grid cell, or an arm's cell with its added settings. */
export type ArmCellOf<
  P extends JsonObject,
  G extends Axes,
  L extends JsonObject,
  R extends JsonObject,
> = CellOf<P, G, L> & Partial<R>;

/** A result with the cell it was computed for. */
export type RunOutcome<Cell, Result> = { cell: Cell; result: Result };

/** What every setup holds besides its settings. */
type SetupBase = { seeds: number[]; quick: boolean; data: DataSpec };

/**
 * The fields of {@link ExperimentSpec} and {@link PartsExperimentSpec} alike, over their
 * cell (a run spec) and setup (what an invocation resolved to).
 */
type SpecCore<
  Cell extends JsonObject,
  Result extends JsonValue,
  Summary extends JsonObject,
  S extends SetupBase,
> = {
  /** Identifier on the command line and the results folder: `[a-z0-9][a-z0-9-]*`. */
  id: string;
  title: string;
  /** The published result, in one sentence. */
  claim: string;
  /** The seeds of the full protocol. */
  seeds: readonly number[];
  /**
   * Settings that are not part of a run spec but describe the protocol (written to the
   * summary's config for the report), e.g. the optimizer's name when it is not an axis.
   */
  describe?: JsonObject;
  /** Checks the resolved setup against the data before anything runs (bad input: throw `ExperimentInputError`). */
  validate?: (setup: S) => void;
  /** Stable, file-system-safe (`[A-Za-z0-9][A-Za-z0-9._=-]*`), unique key of a run. */
  runKey: (cell: Cell) => string;
  /** A run's cost relative to the others (the progress line's ETA weighs runs by it; default 1). */
  cost?: (cell: Cell) => number;
  /** Shape and ranges of a result: checked on every fresh and cached run file. */
  resultSchema: ZodType<Result>;
  /** One run (use `trainRun` from `framework/training.ts` for training runs). */
  run: (cell: Cell, ctx: RunContext) => Promise<Result>;
  /** Aggregates the results (in plan order); pure. */
  summarize: (outcomes: RunOutcome<Cell, Result>[], setup: S) => Summary;
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

/** A declarative experiment (see the module notes). */
export type ExperimentSpec<
  P extends JsonObject,
  G extends Axes,
  Result extends JsonValue,
  Summary extends JsonObject,
  L extends JsonObject = NoLinked,
  D extends JsonObject = NoDerived,
  A extends string = never,
  R extends JsonObject = NoArms,
> = SpecCore<ArmCellOf<P, G, L, R> & D & AnalysisField<A>, Result, Summary, Setup<P, G>> & {
  /** Settings every run shares; part of every run spec. */
  protocol: P;
  /** The axes; runs are every combination, first axis outermost, seeds innermost. */
  grid: G;
  /** What `--quick` changes: fewer seeds, steps, grid points, a data subset. */
  quick: QuickOf<P, G, L>;
  /** Settings that follow from one axis' value, part of every cell (see {@link Linked}). */
  linked?: Linked<G, L>;
  /**
   * Settings per kind of data (`--data`), applied over the protocol and grid before
   * `--quick`: e.g. another model and learning rates for CIFAR-10 than for the digits.
   */
  byData?: { readonly [K in DataSpec["kind"]]?: DataSettings<P, G, L> };
  /**
   * Settings that follow from a grid point, added to its cell (and so to its run file): e.g.
   * the sample set of a named estimator, or a probe interval that depends on the method.
   * Their names must not be protocol settings, axes or `seed`. An analysis' cells (see
   * {@link analyses}) are derived with their `analysis` field, so an analysis can carry
   * settings of its own that the spec's own runs lack.
   */
  derive?: (cell: ArmCellOf<P, G, L, R> & AnalysisField<A>) => D;
  /** Which cells run; `false` leaves a grid point out (e.g. a combination that makes no sense). */
  include?: (cell: ArmCellOf<P, G, L, R> & D & AnalysisField<A>) => boolean;
  /**
   * Further analyses of the grid, e.g. a measurement added after the spec's runs were
   * committed: each name adds, after the spec's own runs, one run per cell whose spec is that
   * cell with `analysis: name` (then `include` decides, as for any cell). The spec's own runs
   * have no `analysis` field, so their run specs, and so their cached files, are unchanged;
   * `runKey`, `run` and `summarize` tell the runs apart by `cell.analysis`.
   */
  analyses?: readonly A[];
  /**
   * Further sets of cells, planned after the grid and its analyses in this order (see
   * {@link Arm}); they share the seeds (`--seeds` too), `derive`, `include` and the summary.
   * `setup` (validate, summarize) describes the grid alone.
   */
  arms?: readonly Arm<P, G, L, R>[];
};

type SpecSettings<P extends JsonObject, G extends Axes, L extends JsonObject> = {
  id: string;
  protocol: P;
  grid: G;
  linked?: Linked<G, L>;
};

function checkQuick<P extends JsonObject, G extends Axes, L extends JsonObject>(
  spec: SpecSettings<P, G, L>,
  quick: object,
  what = "quick",
): void {
  const id = spec.id;
  for (const [k, v] of Object.entries(quick)) {
    if (k === "seeds") continue;
    if (k === "linked") {
      const linked = spec.linked;
      if (linked === undefined) {
        throw new ExperimentDefinitionError(`${id}: ${what}.linked but the spec links no settings`);
      }
      for (const [value, fields] of Object.entries(v as object)) {
        const known = linked.values[value];
        if (known === undefined) {
          throw new ExperimentDefinitionError(
            `${id}: ${what}.linked.${value} is not a value of axis ${linked.axis}`,
          );
        }
        for (const f of Object.keys(fields as object)) {
          if (!(f in known)) {
            throw new ExperimentDefinitionError(
              `${id}: ${what}.linked.${value}.${f} is not a linked setting`,
            );
          }
        }
      }
    } else if (k in spec.grid) {
      if (!Array.isArray(v) || v.length === 0) {
        throw new ExperimentDefinitionError(
          `${id}: ${what}.${k} must be a non-empty list of values`,
        );
      }
    } else if (!(k in spec.protocol)) {
      throw new ExperimentDefinitionError(
        `${id}: ${what}.${k} is neither a protocol setting nor a grid axis`,
      );
    }
  }
}

/**
 * The checks of a spec's (or a part's) settings when the module loads: every axis has
 * values and names no setting, the linked settings fit the grid, and every override
 * (`[what, overrides]`, `what` naming it in messages) names settings that exist.
 */
function checkSettings<P extends JsonObject, G extends Axes, L extends JsonObject>(
  spec: SpecSettings<P, G, L>,
  overrides: readonly (readonly [what: string, quick: object])[],
): void {
  for (const [axis, values] of Object.entries(spec.grid)) {
    if (values.length === 0) {
      throw new ExperimentDefinitionError(`${spec.id}: grid axis ${axis} has no values`);
    }
    if (axis in spec.protocol || axis === "seed") {
      throw new ExperimentDefinitionError(`${spec.id}: grid axis ${axis} is also a setting`);
    }
  }
  checkLinked(spec);
  for (const [what, quick] of overrides) checkQuick(spec, quick, what);
}

/** Every linked axis value has its settings, and no linked setting is also a setting or an axis. */
function checkLinked<P extends JsonObject, G extends Axes, L extends JsonObject>(
  spec: SpecSettings<P, G, L>,
): void {
  const linked = spec.linked;
  if (linked === undefined) return;
  const values = spec.grid[linked.axis];
  if (values === undefined) {
    throw new ExperimentDefinitionError(`${spec.id}: linked axis ${linked.axis} is not an axis`);
  }
  for (const v of values) {
    const fields = linked.values[String(v)];
    if (fields === undefined) {
      throw new ExperimentDefinitionError(
        `${spec.id}: no linked settings for ${linked.axis} = ${String(v)}`,
      );
    }
    for (const f of Object.keys(fields)) {
      if (f in spec.grid || f === "seed") {
        throw new ExperimentDefinitionError(`${spec.id}: linked setting ${f} is also an axis`);
      }
    }
  }
}

/** The settings after override layers (later layers win), before `--seeds`. */
type Resolved<P extends JsonObject, G extends Axes, L extends JsonObject> = {
  protocol: P;
  grid: Setup<P, G>["grid"];
  seeds: readonly number[];
  linked: Linked<G, L> | undefined;
};

function applyLayers<P extends JsonObject, G extends Axes, L extends JsonObject>(
  spec: SpecSettings<P, G, L> & { seeds: readonly number[] },
  layers: readonly (QuickOf<P, G, L> | undefined)[],
): Resolved<P, G, L> {
  const protocol: Record<string, unknown> = { ...spec.protocol };
  const grid: Record<string, (JsonValue | undefined)[]> = {};
  for (const [axis, values] of Object.entries(spec.grid)) grid[axis] = [...values];
  let seeds = spec.seeds;
  const linkedValues: Record<string, L> = { ...spec.linked?.values };
  for (const layer of layers) {
    if (layer === undefined) continue;
    for (const [k, v] of Object.entries(layer as Record<string, unknown>)) {
      if (k === "seeds") seeds = v as readonly number[];
      else if (k === "linked") {
        for (const [value, fields] of Object.entries(v as Record<string, Partial<L>>)) {
          linkedValues[value] = { ...linkedValues[value], ...fields } as L;
        }
      } else if (k in spec.grid) grid[k] = [...(v as readonly JsonValue[])];
      else protocol[k] = v;
    }
  }
  return {
    protocol: protocol as P,
    grid: grid as Setup<P, G>["grid"],
    seeds,
    linked:
      spec.linked === undefined ? undefined : { axis: spec.linked.axis, values: linkedValues },
  };
}

/**
 * Every combination of the grid's values, first axis outermost, then the seeds; `add` (an
 * arm's added settings) set in every cell.
 */
function expand<P extends JsonObject, G extends Axes, L extends JsonObject, R extends JsonObject>(
  setup: Setup<P, G>,
  linked: Linked<G, L> | undefined,
  add?: R,
): ArmCellOf<P, G, L, R>[] {
  let points: Record<string, JsonValue>[] = [{}];
  for (const [axis, values] of Object.entries(setup.grid) as [
    string,
    (JsonValue | undefined)[],
  ][]) {
    // an `undefined` value leaves the key out (see {@link Axes})
    points = points.flatMap((p) => values.map((v) => (v === undefined ? p : { ...p, [axis]: v })));
  }
  return points.flatMap((p) => {
    const extra = linked === undefined ? {} : linked.values[String(p[linked.axis])];
    return setup.seeds.map((seed) => {
      return { ...setup.protocol, ...p, ...extra, ...add, seed } as ArmCellOf<P, G, L, R>;
    });
  });
}

/** A cell with the settings `derive` computes from it added (none is already a setting). */
function withDerived<C extends JsonObject, D extends JsonObject>(
  id: string,
  cell: C,
  derive: ((cell: C) => D) | undefined,
): C & D {
  if (derive === undefined) return cell as C & D;
  const derived = derive(cell);
  for (const k of Object.keys(derived)) {
    if (k in cell) {
      throw new ExperimentDefinitionError(`${id}: derived setting ${k} is also a setting`);
    }
  }
  return { ...cell, ...derived };
}

// ---------------------------------------------------------------------------------------------
// What both entry points share: from a resolved invocation to the definition the runner runs

/** How one entry point resolves an invocation; {@link define} does the rest. */
type Resolver<Cell extends JsonObject, S extends SetupBase> = {
  /**
   * The setup's settings after the overrides `opts` asks for; the seeds unless `--seeds`
   * replaces them; the settings the config records (after `seeds`, before `quick`, `data`
   * and `describe`); and the cells of a setup.
   */
  resolve(opts: PlanOptions): {
    settings: Omit<S, keyof SetupBase>;
    seeds: readonly number[];
    recorded: JsonObject;
    cells: (setup: S) => Cell[];
  };
  /** The setup's settings, read back from a config this plan wrote. */
  read(config: JsonObject): Omit<S, keyof SetupBase>;
};

/**
 * The definition of a spec: the seeds (at least one, else bad input), the setup, its
 * validation, the cells, the config (`summarize` reads the setup back from it as written to
 * `summary.json`, so only this `plan` writes these configs), and the report.
 */
function define<
  Cell extends JsonObject,
  Result extends JsonValue,
  Summary extends JsonObject,
  S extends SetupBase,
>(
  spec: SpecCore<Cell, Result, Summary, S>,
  how: Resolver<Cell, S>,
): ExperimentDefinition<Cell, Result, Summary> {
  return defineExperiment<Cell, Result, Summary>({
    id: spec.id,
    title: spec.title,
    claim: spec.claim,
    plan(opts) {
      const resolved = how.resolve(opts);
      const seeds = [...(opts.seeds ?? resolved.seeds)];
      if (seeds.length === 0) throw new ExperimentInputError(`${spec.id} needs at least one seed`);
      const setup = { ...resolved.settings, seeds, quick: opts.quick, data: opts.data } as S;
      spec.validate?.(setup);
      const runs = resolved.cells(setup);
      const config: JsonObject = {
        seeds,
        ...resolved.recorded,
        quick: opts.quick,
        data: opts.data as JsonObject,
        ...(spec.describe === undefined ? {} : { describe: spec.describe }),
      };
      return { config, runs };
    },
    runKey: spec.runKey,
    ...(spec.cost === undefined ? {} : { cost: spec.cost }),
    resultSchema: spec.resultSchema,
    execute: spec.run,
    summarize(config, results) {
      const setup = {
        ...how.read(config),
        seeds: config.seeds as number[],
        quick: config.quick === true,
        data: config.data as DataSpec,
      } as S;
      return spec.summarize(
        results.map((r) => ({ cell: r.run, result: r.result })),
        setup,
      );
    },
    figures: spec.figures,
    report(summary) {
      return {
        tables: spec.tables(summary),
        verdict: spec.verdict?.(summary) ?? verdictOf(spec.claims, summary),
      };
    },
  });
}

// ---------------------------------------------------------------------------------------------
// experiment(): an experiment as one grid

/** Analysis names are distinct, file-name safe, and `analysis` names no setting or axis. */
function checkAnalyses(spec: {
  id: string;
  protocol: JsonObject;
  grid: Axes;
  analyses?: readonly string[];
}): void {
  if (spec.analyses === undefined) return;
  if ("analysis" in spec.protocol || "analysis" in spec.grid) {
    throw new ExperimentDefinitionError(
      `${spec.id}: "analysis" names the spec's analyses, not a setting`,
    );
  }
  const seen = new Set<string>();
  for (const a of spec.analyses) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(a) || seen.has(a)) {
      throw new ExperimentDefinitionError(`${spec.id}: "${a}" cannot name an analysis`);
    }
    seen.add(a);
  }
}

/** The grid as the config records it: JSON, a left-out value (`undefined`) as `null`. */
function recordedGrid(grid: { [axis: string]: readonly (JsonValue | undefined)[] }): JsonObject {
  const out: JsonObject = {};
  for (const [axis, values] of Object.entries(grid)) out[axis] = values.map((v) => v ?? null);
  return out;
}

/** The definition made from a spec, with the spec's settings and a way to vary them. */
export type SpecExperiment<
  P extends JsonObject,
  G extends Axes,
  Result extends JsonValue,
  Summary extends JsonObject,
  L extends JsonObject = NoLinked,
  D extends JsonObject = NoDerived,
  A extends string = never,
  R extends JsonObject = NoArms,
> = ExperimentDefinition<ArmCellOf<P, G, L, R> & D & AnalysisField<A>, Result, Summary> & {
  /** The full protocol, grid and seeds (before `--quick`). */
  readonly protocol: P;
  readonly grid: G;
  readonly seeds: readonly number[];
  /**
   * The same experiment with other full-protocol settings (as `quick` overrides are given),
   * e.g. a benchmark's smaller grid. Run keys, summaries and reports work unchanged.
   * `quick` replaces the spec's quick overrides for the variant (e.g. `{}`: a variant run
   * with `--quick` is run at exactly these settings, as the demo does). A variant has the
   * spec's arms unless `opts.arms` replaces them (`[]`: the grid alone).
   */
  withSettings(
    overrides: QuickOf<P, G, L>,
    quick?: QuickOf<P, G, L>,
    opts?: { arms?: readonly Arm<P, G, L, R>[] },
  ): SpecExperiment<P, G, Result, Summary, L, D, A, R>;
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
  L extends JsonObject = NoLinked,
  D extends JsonObject = NoDerived,
  A extends string = never,
  R extends JsonObject = NoArms,
>(
  spec: ExperimentSpec<P, G, Result, Summary, L, D, A, R>,
): SpecExperiment<P, G, Result, Summary, L, D, A, R> {
  checkAnalyses(spec);
  const arms = spec.arms ?? [];
  checkSettings(spec, [
    ["quick", spec.quick],
    ...Object.entries(spec.byData ?? {}).flatMap(([kind, s]) => [
      [`byData.${kind}.settings`, s?.settings ?? {}] as const,
      [`byData.${kind}.quick`, s?.quick ?? {}] as const,
    ]),
    ...arms.flatMap((a, i) => [
      [`arms[${i}].settings`, a.settings ?? {}] as const,
      [`arms[${i}].quick`, a.quick ?? {}] as const,
    ]),
  ]);
  arms.forEach((a, i) => {
    if (a.settings?.seeds !== undefined || a.quick?.seeds !== undefined) {
      throw new ExperimentDefinitionError(`${spec.id}: arms[${i}] share the seeds; set none`);
    }
    for (const k of Object.keys(a.add)) {
      if (k in spec.protocol || k in spec.grid || k === "seed") {
        throw new ExperimentDefinitionError(
          `${spec.id}: arms[${i}].add.${k} is also a setting or an axis`,
        );
      }
    }
  });
  type Cell = ArmCellOf<P, G, L, R> & D & AnalysisField<A>;
  const def = define<Cell, Result, Summary, Setup<P, G>>(spec, {
    resolve(opts) {
      const forData = spec.byData?.[opts.data.kind];
      const quick = opts.quick ? [spec.quick, forData?.quick] : [];
      const { protocol, grid, seeds, linked } = applyLayers(spec, [forData?.settings, ...quick]);
      const keep = (c: Cell) => spec.include?.(c) ?? true;
      return {
        settings: { protocol, grid },
        seeds,
        recorded: {
          grid: recordedGrid(grid),
          protocol,
          ...(linked === undefined ? {} : { linked: linked as JsonObject }),
          ...(spec.analyses === undefined ? {} : { analyses: [...spec.analyses] }),
          ...(arms.length === 0 ? {} : { arms: arms as unknown as JsonObject[] }),
        },
        cells: (setup) => {
          const own = expand<P, G, L, R>(setup, linked) as (ArmCellOf<P, G, L, R> &
            AnalysisField<A>)[];
          const further = (spec.analyses ?? []).flatMap((analysis) =>
            own.map((c) => ({ ...c, analysis })),
          );
          const armCells = arms.flatMap((arm) => {
            const layers = [
              forData?.settings,
              ...quick,
              arm.settings,
              ...(opts.quick ? [arm.quick] : []),
            ];
            const r = applyLayers(spec, layers);
            const armSetup = { ...setup, protocol: r.protocol, grid: r.grid };
            return expand<P, G, L, R>(armSetup, r.linked, arm.add);
          });
          return [...own, ...further, ...armCells]
            .map((c) => withDerived(spec.id, c, spec.derive) as Cell)
            .filter(keep);
        },
      };
    },
    read: (config) => ({
      protocol: config.protocol as P,
      grid: config.grid as Setup<P, G>["grid"],
    }),
  });
  return {
    ...def,
    protocol: spec.protocol,
    grid: spec.grid,
    seeds: spec.seeds,
    withSettings(overrides, quick, opts) {
      checkQuick(spec, overrides, "withSettings");
      if (quick !== undefined) checkQuick(spec, quick);
      const resolved = applyLayers(spec, [overrides]);
      return experiment({
        ...spec,
        protocol: resolved.protocol,
        grid: resolved.grid as unknown as G,
        seeds: resolved.seeds,
        quick: quick ?? spec.quick,
        ...(resolved.linked === undefined ? {} : { linked: resolved.linked }),
        arms: opts?.arms ?? spec.arms,
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// experimentInParts(): several kinds of run, each with its own protocol and grid

/**
 * One kind of run of an experiment in parts (see {@link experimentInParts}): its own
 * protocol, grid and quick overrides; the seeds are the experiment's, unless the part draws
 * nothing at random (`seeded: false`: it runs once per grid point, its cells have no seed).
 */
export type Part<P extends JsonObject, G extends Axes, Seeded extends boolean = true> = {
  protocol: P;
  grid: G;
  /** What `--quick` changes in this part (protocol values, axis values). */
  quick: Omit<QuickOf<P, G>, "seeds">;
  /** `false`: the part runs once per grid point, without a seed (default true). */
  seeded?: Seeded;
};

/**
 * A part, typed (an identity: it lets the protocol and grid types be inferred); `grid` and
 * `quick` default to none.
 */
export function part<
  P extends JsonObject,
  G extends Axes = Record<never, never>,
  Seeded extends boolean = true,
>(p: {
  protocol: P;
  grid?: G;
  // the grid is inferred from `grid` alone, not from the axes a quick override names
  quick?: Omit<QuickOf<P, NoInfer<G>>, "seeds">;
  seeded?: Seeded;
}): Part<P, G, Seeded> {
  return { grid: {} as G, quick: {} as Omit<QuickOf<P, G>, "seeds">, ...p };
}

/** The parts of an experiment by name (the name is the `part` field of its cells). */
export type Parts = {
  [name: string]: { protocol: JsonObject; grid: Axes; quick: object; seeded?: boolean };
};

/**
 * A cell of an experiment in parts: `{part} ∪ protocol ∪ grid point ∪ {seed}` of one part
 * (no seed for a part that is not seeded).
 */
export type CellOfParts<S extends Parts> = {
  [K in keyof S & string]: S[K] extends Part<infer P, infer G, infer Seeded>
    ? Seeded extends false
      ? { part: K } & Omit<CellOf<P, G>, "seed">
      : { part: K } & CellOf<P, G>
    : never;
}[keyof S & string];

/** What an invocation of an experiment in parts resolved to, per part. */
export type PartsSetup<S extends Parts> = {
  parts: {
    [K in keyof S]: S[K] extends Part<infer P, infer G, boolean>
      ? { protocol: P; grid: Setup<P, G>["grid"] }
      : never;
  };
  seeds: number[];
  quick: boolean;
  data: DataSpec;
};

/**
 * An experiment whose runs are of several kinds with different settings (e.g. tracking
 * runs per architecture and controller runs per radius drive): the fields of
 * {@link ExperimentSpec} with `parts` in place of `protocol` and `grid` (and none of the
 * one-grid features `linked`, `byData`, `derive` and `include`).
 */
export type PartsExperimentSpec<
  S extends Parts,
  Result extends JsonValue,
  Summary extends JsonObject,
> = SpecCore<CellOfParts<S>, Result, Summary, PartsSetup<S>> & {
  /** The kinds of run; planned in this order, each as a grid (first axis outermost, seeds innermost). */
  parts: S;
  /** What `--quick` changes besides each part's own overrides. */
  quick: { seeds?: readonly number[] };
};

/**
 * The definition the runner executes, made from an experiment in parts: every part's cells,
 * part by part, each cell carrying its part's name as `part`. Quick overrides are checked
 * when the module loads, as in {@link experiment}.
 */
export function experimentInParts<
  S extends Parts,
  Result extends JsonValue,
  Summary extends JsonObject,
>(
  spec: PartsExperimentSpec<S, Result, Summary>,
): ExperimentDefinition<CellOfParts<S>, Result, Summary> {
  for (const [name, p] of Object.entries(spec.parts)) {
    const id = `${spec.id} (${name})`;
    if (name === "seeds" || !/^[a-z0-9][a-z0-9-]*$/.test(name)) {
      throw new ExperimentDefinitionError(`${spec.id}: "${name}" cannot name a part`);
    }
    if ("part" in p.protocol || "part" in p.grid) {
      throw new ExperimentDefinitionError(`${id}: "part" is the name of the part, not a setting`);
    }
    checkSettings({ ...p, id }, [["quick", p.quick]]);
  }
  return define<CellOfParts<S>, Result, Summary, PartsSetup<S>>(spec, {
    resolve(opts) {
      const parts: Record<string, { protocol: JsonObject; grid: JsonObject }> = {};
      for (const [name, p] of Object.entries(spec.parts)) {
        const resolved = applyLayers({ ...p, id: spec.id, seeds: [] }, opts.quick ? [p.quick] : []);
        parts[name] = { protocol: resolved.protocol, grid: resolved.grid as JsonObject };
      }
      return {
        settings: { parts: parts as PartsSetup<S>["parts"] },
        seeds: (opts.quick ? spec.quick.seeds : undefined) ?? spec.seeds,
        recorded: { parts },
        cells: (setup) =>
          Object.entries(setup.parts).flatMap(([name, p]) => {
            const seeded = spec.parts[name].seeded !== false;
            const cells = expand(
              {
                ...setup,
                // an unseeded part runs once per grid point: one pass, its seed dropped
                seeds: seeded ? setup.seeds : [0],
                protocol: p.protocol,
                grid: p.grid as Setup<JsonObject, Axes>["grid"],
              },
              undefined,
            );
            return cells.map(({ seed, ...c }) =>
              seeded
                ? ({ part: name, ...c, seed } as CellOfParts<S>)
                : ({ part: name, ...c } as CellOfParts<S>),
            );
          }),
      };
    },
    read: (config) => ({ parts: config.parts as PartsSetup<S>["parts"] }),
  });
}
