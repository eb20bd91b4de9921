/**
 * An experiment made of parts that share no settings (e.g. a closed-form curve computed once,
 * a seeded Monte-Carlo check, a training run per seed): the counterpart of `experiment()` in
 * `spec.ts` for when a grid over one protocol does not fit. Each part has its own protocol
 * and runs once ({@link once}) or once per seed ({@link perSeed}); a run spec is
 * `{part} ∪ the part's protocol ∪ {seed}` (no seed for a part run once), exactly what a run
 * file stores. Quick overrides, their validation, seeds, the plan's config and the rule from
 * claims to a verdict are owned here, once, as in `spec.ts`.
 *
 * @module
 */
import type { ZodType } from "zod";
import { type Claim, verdictOf } from "./claims.js";
import type { RunOutcome } from "./spec.js";
import {
  type DataSpec,
  defineExperiment,
  type ExperimentDefinition,
  ExperimentDefinitionError,
  ExperimentInputError,
  type FigureSpec,
  type JsonObject,
  type JsonValue,
  type ReportTable,
  type RunContext,
  type Verdict,
} from "./types.js";

/** One part: its settings, and whether it runs once per seed. */
export type Part<P extends JsonObject, Seeded extends boolean> = { protocol: P; seeded: Seeded };

/** A part run once per seed. */
export function perSeed<P extends JsonObject>(protocol: P): Part<P, true> {
  return { protocol, seeded: true };
}

/** A part run once (it draws nothing at random). */
export function once<P extends JsonObject>(protocol: P): Part<P, false> {
  return { protocol, seeded: false };
}

/** The parts of an experiment by name, in plan order. */
export type Parts = { readonly [name: string]: Part<JsonObject, boolean> };

/** The run spec of one part: its name, its protocol and (per-seed parts) the seed. */
export type PartCellOf<Ps extends Parts> = {
  [K in keyof Ps & string]: { part: K } & Ps[K]["protocol"] &
    (Ps[K] extends Part<JsonObject, true> ? { seed: number } : Record<never, never>);
}[keyof Ps & string];

/** What `--quick` changes: the seeds, and any part's settings. */
export type PartsQuickOf<Ps extends Parts> = { seeds?: readonly number[] } & {
  [K in keyof Ps]?: Partial<Ps[K]["protocol"]>;
};

/** What an invocation resolved to: every part's protocol and the seeds after overrides. */
export type PartsSetup<Ps extends Parts> = {
  parts: { [K in keyof Ps]: Ps[K]["protocol"] };
  seeds: number[];
  quick: boolean;
  data: DataSpec;
};

/** A declarative experiment of parts (see the module notes; fields as in `ExperimentSpec`). */
export type PartsSpec<Ps extends Parts, Result extends JsonValue, Summary extends JsonObject> = {
  id: string;
  title: string;
  claim: string;
  /** The parts, run in this order (seeds innermost). */
  parts: Ps;
  /** The seeds of the full protocol (for the per-seed parts). */
  seeds: readonly number[];
  quick: PartsQuickOf<Ps>;
  /** Settings that describe the protocol without being part of a run spec. */
  describe?: JsonObject;
  validate?: (setup: PartsSetup<Ps>) => void;
  runKey: (cell: PartCellOf<Ps>) => string;
  resultSchema: ZodType<Result>;
  run: (cell: PartCellOf<Ps>, ctx: RunContext) => Promise<Result>;
  /** Aggregates the results (in plan order); pure. */
  summarize: (outcomes: RunOutcome<PartCellOf<Ps>, Result>[], setup: PartsSetup<Ps>) => Summary;
  tables: (summary: Summary) => ReportTable[];
  figures: (summary: Summary) => FigureSpec[];
  claims: readonly Claim<Summary>[];
  /** A verdict of its own instead of {@link claims}' rule (see `ExperimentSpec.verdict`). */
  verdict?: (summary: Summary) => Verdict;
};

function checkParts(spec: { id: string; parts: Parts; quick: object }): void {
  for (const [name, part] of Object.entries(spec.parts)) {
    if (name === "seeds" || !/^[a-z0-9][a-z0-9-]*$/.test(name)) {
      throw new ExperimentDefinitionError(`${spec.id}: "${name}" cannot name a part`);
    }
    if ("part" in part.protocol || "seed" in part.protocol) {
      throw new ExperimentDefinitionError(
        `${spec.id}: part ${name}'s protocol may not set "part" or "seed"`,
      );
    }
  }
  for (const [k, v] of Object.entries(spec.quick)) {
    if (k === "seeds") continue;
    const part = spec.parts[k];
    if (part === undefined)
      throw new ExperimentDefinitionError(`${spec.id}: quick.${k} is no part`);
    for (const setting of Object.keys(v as object)) {
      if (!(setting in part.protocol)) {
        throw new ExperimentDefinitionError(
          `${spec.id}: quick.${k}.${setting} is not a setting of part ${k}`,
        );
      }
    }
  }
}

/**
 * The definition the runner executes, made from a spec of parts. Checks part names and
 * quick overrides when the module loads, so a misspelt override is a bug found at once.
 */
export function experimentOfParts<
  Ps extends Parts,
  Result extends JsonValue,
  Summary extends JsonObject,
>(spec: PartsSpec<Ps, Result, Summary>): ExperimentDefinition<PartCellOf<Ps>, Result, Summary> {
  checkParts(spec);
  return defineExperiment<PartCellOf<Ps>, Result, Summary>({
    id: spec.id,
    title: spec.title,
    claim: spec.claim,
    plan(opts) {
      const over = (opts.quick ? spec.quick : {}) as Record<string, JsonObject | undefined>;
      const seeds = [...(opts.seeds ?? (opts.quick ? spec.quick.seeds : undefined) ?? spec.seeds)];
      if (seeds.length === 0) throw new ExperimentInputError(`${spec.id} needs at least one seed`);
      const parts: Record<string, JsonObject> = {};
      for (const [name, part] of Object.entries(spec.parts)) {
        parts[name] = { ...part.protocol, ...over[name] };
      }
      const setup = { parts, seeds, quick: opts.quick, data: opts.data } as PartsSetup<Ps>;
      spec.validate?.(setup);
      const runs = Object.entries(spec.parts).flatMap(([name, part]) => {
        const cell = { part: name, ...parts[name] };
        return part.seeded ? seeds.map((seed) => ({ ...cell, seed })) : [cell];
      }) as PartCellOf<Ps>[];
      const config: JsonObject = {
        seeds,
        parts,
        quick: opts.quick,
        data: opts.data as JsonObject,
        ...(spec.describe === undefined ? {} : { describe: spec.describe }),
      };
      return { config, runs };
    },
    runKey: spec.runKey,
    resultSchema: spec.resultSchema,
    execute: spec.run,
    summarize(config, results) {
      // Only this module's `plan` writes these configs.
      const setup = {
        parts: config.parts,
        seeds: config.seeds,
        quick: config.quick === true,
        data: config.data,
      } as unknown as PartsSetup<Ps>;
      return spec.summarize(
        results.map((r) => ({ cell: r.run, result: r.result })),
        setup,
      );
    },
    figures: spec.figures,
    report: (summary) => ({
      tables: spec.tables(summary),
      verdict: spec.verdict?.(summary) ?? verdictOf(spec.claims, summary),
    }),
  });
}
