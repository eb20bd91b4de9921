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
  type JsonValue,
  type PlanOptions,
  type ReportTable,
  type RunContext,
  type Verdict,
} from "./types.js";

/**
 * The axes of a grid: a name and its values each (every combination is run). Values are
 * JSON: usually numbers or strings, an object where a setting is one (e.g. a spike's
 * `{multiplier, at}` or `null` for none).
 */
export type Axes = { readonly [axis: string]: readonly JsonValue[] };

/** No linked settings (see {@link Linked}). */
export type NoLinked = Record<never, never>;

/**
 * Settings that follow from the value of one axis: `values[String(v)]` is part of every cell
 * whose `axis` is `v` (so of its run spec and run key's inputs), e.g. the model, optimizer
 * and step count of each of an experiment's two settings.
 */
export type Linked<G extends Axes, L extends JsonObject> = {
  axis: keyof G & string;
  values: { readonly [value: string]: L };
};

/** One point of the grid with the protocol and a seed: the run spec every function sees. */
export type CellOf<P extends JsonObject, G extends Axes, L extends JsonObject = NoLinked> = P & {
  -readonly [K in keyof G]: G[K][number];
} & L & { seed: number };

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

/** A result with the cell it was computed for. */
export type RunOutcome<Cell, Result> = { cell: Cell; result: Result };

/** A declarative experiment (see the module notes). */
export type ExperimentSpec<
  P extends JsonObject,
  G extends Axes,
  Result extends JsonValue,
  Summary extends JsonObject,
  L extends JsonObject = NoLinked,
  D extends JsonObject = NoDerived,
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
  quick: QuickOf<P, G, L>;
  /**
   * Settings that are not part of a run spec but describe the protocol (written to the
   * summary's config for the report), e.g. the optimizer's name when it is not an axis.
   */
  describe?: JsonObject;
  /** Settings that follow from one axis' value, part of every cell (see {@link Linked}). */
  linked?: Linked<G, L>;
  /**
   * Settings per kind of data (`--data`), applied over the protocol and grid before
   * `--quick`: e.g. another model and learning rates for CIFAR-10 than for the digits.
   */
  byData?: { readonly [K in DataSpec["kind"]]?: DataSettings<P, G, L> };
  /** Grid points to leave out (e.g. combinations that make no sense). */
  /**
   * Settings that follow from a grid point, added to its cell (and so to its run file): e.g.
   * the sample set of a named estimator, or a probe interval that depends on the method.
   * Their names must not be protocol settings, axes or `seed`.
   */
  derive?: (cell: CellOf<P, G, L>) => D;
  include?: (cell: CellOf<P, G, L> & D) => boolean;
  /** Checks the resolved setup against the data before anything runs (bad input: throw `ExperimentInputError`). */
  validate?: (setup: Setup<P, G>) => void;
  /** Stable, file-system-safe (`[A-Za-z0-9][A-Za-z0-9._=-]*`), unique key of a run. */
  runKey: (cell: CellOf<P, G, L> & D) => string;
  /** A run's cost relative to the others (the progress line's ETA weighs runs by it; default 1). */
  cost?: (cell: CellOf<P, G, L> & D) => number;
  /** Shape and ranges of a result: checked on every fresh and cached run file. */
  resultSchema: ZodType<Result>;
  /** One run (use `trainRun` from `framework/training.ts` for training runs). */
  run: (cell: CellOf<P, G, L> & D, ctx: RunContext) => Promise<Result>;
  /** Aggregates the results (in plan order); pure. */
  summarize: (outcomes: RunOutcome<CellOf<P, G, L> & D, Result>[], setup: Setup<P, G>) => Summary;
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

function checkGrid(id: string, spec: { protocol: JsonObject; grid: Axes }): void {
  for (const [axis, values] of Object.entries(spec.grid)) {
    if (values.length === 0) {
      throw new ExperimentDefinitionError(`${id}: grid axis ${axis} has no values`);
    }
    if (axis in spec.protocol || axis === "seed") {
      throw new ExperimentDefinitionError(`${id}: grid axis ${axis} is also a setting`);
    }
  }
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
      if (f in spec.protocol || f in spec.grid || f === "seed") {
        throw new ExperimentDefinitionError(
          `${spec.id}: linked setting ${f} is also a setting or an axis`,
        );
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
  const grid: Record<string, JsonValue[]> = {};
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

/** Every combination of the grid's values, first axis outermost, then the seeds. */
function expand<P extends JsonObject, G extends Axes, L extends JsonObject, D extends JsonObject>(
  id: string,
  setup: Setup<P, G>,
  linked: Linked<G, L> | undefined,
  derive?: (cell: CellOf<P, G, L>) => D,
): (CellOf<P, G, L> & D)[] {
  let points: Record<string, JsonValue>[] = [{}];
  for (const [axis, values] of Object.entries(setup.grid) as [string, JsonValue[]][]) {
    points = points.flatMap((p) => values.map((v) => ({ ...p, [axis]: v })));
  }
  return points.flatMap((p) => {
    const extra = linked === undefined ? {} : linked.values[String(p[linked.axis])];
    return setup.seeds.map((seed) => {
      const cell = { ...setup.protocol, ...p, ...extra, seed } as CellOf<P, G, L>;
      if (derive === undefined) return cell as CellOf<P, G, L> & D;
      const derived = derive(cell);
      for (const k of Object.keys(derived)) {
        if (k in cell) {
          throw new ExperimentDefinitionError(`${id}: derived setting ${k} is also a setting`);
        }
      }
      return { ...cell, ...derived };
    });
  });
}

/** The definition made from a spec, with the spec's settings and a way to vary them. */
export type SpecExperiment<
  P extends JsonObject,
  G extends Axes,
  Result extends JsonValue,
  Summary extends JsonObject,
  L extends JsonObject = NoLinked,
  D extends JsonObject = NoDerived,
> = ExperimentDefinition<CellOf<P, G, L> & D, Result, Summary> & {
  /** The full protocol, grid and seeds (before `--quick`). */
  readonly protocol: P;
  readonly grid: G;
  readonly seeds: readonly number[];
  /**
   * The same experiment with other full-protocol settings (as `quick` overrides are given),
   * e.g. a benchmark's smaller grid. Run keys, summaries and reports work unchanged.
   * `quick` replaces the spec's quick overrides for the variant (e.g. `{}`: a variant run
   * with `--quick` is run at exactly these settings, as the demo does).
   */
  withSettings(
    overrides: QuickOf<P, G, L>,
    quick?: QuickOf<P, G, L>,
  ): SpecExperiment<P, G, Result, Summary, L, D>;
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
>(spec: ExperimentSpec<P, G, Result, Summary, L, D>): SpecExperiment<P, G, Result, Summary, L, D> {
  checkGrid(spec.id, spec);
  checkLinked(spec);
  checkQuick(spec, spec.quick);
  for (const [kind, s] of Object.entries(spec.byData ?? {})) {
    checkQuick(spec, s?.settings ?? {}, `byData.${kind}.settings`);
    checkQuick(spec, s?.quick ?? {}, `byData.${kind}.quick`);
  }
  const def = defineExperiment<CellOf<P, G, L> & D, Result, Summary>({
    id: spec.id,
    title: spec.title,
    claim: spec.claim,
    plan(opts) {
      const forData = spec.byData?.[opts.data.kind];
      const quick = opts.quick ? [spec.quick, forData?.quick] : [];
      const resolved = applyLayers(spec, [forData?.settings, ...quick]);
      const seeds = [...(opts.seeds ?? resolved.seeds)];
      if (seeds.length === 0) throw new ExperimentInputError(`${spec.id} needs at least one seed`);
      const setup: Setup<P, G> = {
        protocol: resolved.protocol,
        grid: resolved.grid,
        seeds,
        quick: opts.quick,
        data: opts.data,
      };
      spec.validate?.(setup);
      const runs = expand(spec.id, setup, resolved.linked, spec.derive).filter(
        (c) => spec.include?.(c) ?? true,
      );
      const config: JsonObject = {
        seeds: setup.seeds,
        grid: setup.grid as JsonObject,
        protocol: setup.protocol,
        ...(resolved.linked === undefined ? {} : { linked: resolved.linked as JsonObject }),
        quick: setup.quick,
        data: setup.data as JsonObject,
        ...(spec.describe === undefined ? {} : { describe: spec.describe }),
      };
      return { config, runs };
    },
    runKey: spec.runKey,
    ...(spec.cost === undefined ? {} : { cost: spec.cost }),
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
    withSettings(overrides, quick) {
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
      });
    },
  };
}

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

// ---------------------------------------------------------------------------------------------
// Experiments in parts: several kinds of run, each with its own protocol and grid

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
 * {@link ExperimentSpec} with `parts` in place of `protocol` and `grid`.
 */
export type PartsExperimentSpec<
  S extends Parts,
  Result extends JsonValue,
  Summary extends JsonObject,
> = Omit<
  ExperimentSpec<JsonObject, Axes, Result, Summary>,
  "protocol" | "grid" | "quick" | "include" | "validate" | "runKey" | "cost" | "run" | "summarize"
> & {
  /** The kinds of run; planned in this order, each as a grid (first axis outermost, seeds innermost). */
  parts: S;
  /** What `--quick` changes besides each part's own overrides. */
  quick: { seeds?: readonly number[] };
  validate?: (setup: PartsSetup<S>) => void;
  runKey: (cell: CellOfParts<S>) => string;
  cost?: (cell: CellOfParts<S>) => number;
  run: (cell: CellOfParts<S>, ctx: RunContext) => Promise<Result>;
  summarize: (outcomes: RunOutcome<CellOfParts<S>, Result>[], setup: PartsSetup<S>) => Summary;
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
    checkQuick({ ...p, id }, p.quick);
    if (name === "seeds" || !/^[a-z0-9][a-z0-9-]*$/.test(name)) {
      throw new ExperimentDefinitionError(`${spec.id}: "${name}" cannot name a part`);
    }
    if ("part" in p.protocol || "part" in p.grid) {
      throw new ExperimentDefinitionError(`${id}: "part" is the name of the part, not a setting`);
    }
    checkGrid(id, p);
  }
  const resolve = (opts: PlanOptions): PartsSetup<S> => {
    const parts: Record<string, { protocol: JsonObject; grid: JsonObject }> = {};
    let seeds: number[] = [];
    for (const [name, p] of Object.entries(spec.parts)) {
      // the part's own overrides and the experiment's seeds (both checked above)
      const quick = { ...p.quick, seeds: spec.quick.seeds } as QuickOf<JsonObject, Axes>;
      const resolved = applyLayers(
        { ...p, id: spec.id, seeds: spec.seeds },
        opts.quick ? [quick] : [],
      );
      parts[name] = { protocol: resolved.protocol, grid: resolved.grid as JsonObject };
      seeds = [...(opts.seeds ?? resolved.seeds)];
      if (seeds.length === 0) throw new ExperimentInputError(`${spec.id} needs at least one seed`);
    }
    return { parts: parts as PartsSetup<S>["parts"], seeds, quick: opts.quick, data: opts.data };
  };
  return defineExperiment<CellOfParts<S>, Result, Summary>({
    id: spec.id,
    title: spec.title,
    claim: spec.claim,
    plan(opts) {
      const setup = resolve(opts);
      spec.validate?.(setup);
      const runs = Object.entries(setup.parts).flatMap(([name, p]) => {
        const seeded = spec.parts[name].seeded !== false;
        const cells = expand(
          spec.id,
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
      });
      const config: JsonObject = {
        seeds: setup.seeds,
        parts: setup.parts as JsonObject,
        quick: setup.quick,
        data: setup.data as JsonObject,
        ...(spec.describe === undefined ? {} : { describe: spec.describe }),
      };
      return { config, runs };
    },
    runKey: spec.runKey,
    ...(spec.cost === undefined ? {} : { cost: spec.cost }),
    resultSchema: spec.resultSchema,
    execute: spec.run,
    summarize(config, results) {
      const outcomes = results.map((r) => ({ cell: r.run, result: r.result }));
      return spec.summarize(outcomes, {
        parts: config.parts as PartsSetup<S>["parts"],
        seeds: config.seeds as number[],
        quick: config.quick === true,
        data: config.data as DataSpec,
      });
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
