/**
 * Every experiment `ghosts run` knows, by id, in the order `ghosts run all` runs them.
 *
 * To add one: write `experiments/<id>.ts` exporting a spec made with `experiment()` (see
 * `framework/spec.ts` and the README's "Add an experiment"), import it below and add it to
 * the list at the end.
 * Worker threads import this module to find experiments, so an experiment must be
 * registered here (or in a module passed as `workerImports`) to run with `--jobs > 1`.
 *
 * @module
 */
import { aggregation } from "./aggregation.js";
import { archGrid } from "./arch-grid.js";
import { baselines } from "./baselines.js";
import { calibration } from "./calibration.js";
import {
  type AnyExperiment,
  type ExperimentDefinition,
  ExperimentDefinitionError,
  type JsonObject,
  type JsonValue,
} from "./framework/types.js";
import { ghostEnvelope } from "./ghost-envelope.js";
import { lrSpike } from "./lr-spike.js";
import { naturalInstability } from "./natural-instability.js";
import { phaseTransition } from "./phase-transition.js";
import { randomDirections } from "./random-directions.js";
import { temperature } from "./temperature.js";
import { theory } from "./theory.js";
import { transformerRadii } from "./transformer-radii.js";

/** The registered experiments by id, in registration order. */
export const EXPERIMENTS: Record<string, AnyExperiment> = {};

/** Ids are command-line words and folder names. */
const ID_RE = /^[a-z0-9][a-z0-9-]*$/;

/**
 * Adds an experiment to {@link EXPERIMENTS}. Registering the same definition object again
 * is a no-op (a module may be imported twice); another definition with a taken id throws.
 *
 * @throws {ExperimentDefinitionError} for a malformed id or an id already taken.
 */
export function registerExperiment<
  Run extends JsonObject,
  Result extends JsonValue,
  Summary extends JsonObject,
>(def: ExperimentDefinition<Run, Result, Summary>): void {
  if (!ID_RE.test(def.id)) {
    throw new ExperimentDefinitionError(
      `experiment id ${JSON.stringify(def.id)} must match ${ID_RE.source}`,
    );
  }
  if (def.id === "all") throw new ExperimentDefinitionError(`experiment id "all" is reserved`);
  const existing = EXPERIMENTS[def.id];
  if (existing !== undefined && existing !== def) {
    throw new ExperimentDefinitionError(`experiment id ${def.id} is registered twice`);
  }
  EXPERIMENTS[def.id] = def;
}

/** Raised by {@link getExperiment} for an unknown id. */
export class UnknownExperimentError extends Error {
  override name = "UnknownExperimentError";
}

/**
 * The experiment with this id.
 *
 * @throws {UnknownExperimentError} listing the valid ids.
 */
export function getExperiment(id: string): AnyExperiment {
  const def = Object.hasOwn(EXPERIMENTS, id) ? EXPERIMENTS[id] : undefined;
  if (def === undefined) {
    const ids = Object.keys(EXPERIMENTS);
    throw new UnknownExperimentError(
      `unknown experiment '${id}'; valid: ${ids.length > 0 ? [...ids, "all"].join(", ") : "none registered"}`,
    );
  }
  return def;
}

// Experiments, in the order of the table (docs/science.md §5 first, then the open questions).
for (const def of [
  phaseTransition,
  randomDirections,
  temperature,
  lrSpike,
  archGrid,
  transformerRadii,
  naturalInstability,
  calibration,
  aggregation,
  baselines,
  theory,
  ghostEnvelope,
] as AnyExperiment[]) {
  registerExperiment(def);
}
