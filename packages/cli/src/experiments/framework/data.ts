/**
 * Data loading for experiment runs: load, split (stratified, seeded), standardise (fitted on
 * the training part only), cached per thread so the runs a worker executes share one copy.
 *
 * @module
 */
import {
  applyStandardizer,
  DataError,
  type Dataset,
  fitStandardizer,
  loadCifar10,
  loadCsv,
  loadDigits,
  type SplitKind,
  splitDataset,
} from "softmax-ghosts/data";
import { encodeJson } from "./json.js";
import type { DataSpec, DataSplit } from "./types.js";

/** Reads the CIFAR-10 data set from a folder (see {@link registerCifar10Loader}). */
export type Cifar10Loader = (dir: string) => DataSplit;

/**
 * CIFAR-10 from its binary batches, channel-normalised with training-set statistics (the
 * usual preprocessing of the CIFAR ResNet recipes). The default, so every thread that
 * loads data — worker threads included — reads CIFAR-10 the same way.
 */
const readCifar10: Cifar10Loader = (dir) => {
  const { train, test } = loadCifar10(dir, { normalize: "per-channel" });
  return { train, test };
};

let cifar10Loader: Cifar10Loader = readCifar10;

/**
 * Replaces the reader of `{kind: "cifar10", dir}` data (default: channel-normalised
 * `loadCifar10`). Call it at module scope of a module the registry imports, so worker
 * threads — which import the registry — get it too.
 */
export function registerCifar10Loader(loader: Cifar10Loader): void {
  cifar10Loader = loader;
}

/** A one-line description of a data spec, for messages and the report. */
export function describeData(spec: DataSpec): string {
  switch (spec.kind) {
    case "digits":
      return "digits (embedded)";
    case "csv": {
      const label = spec.labelColumn === undefined ? "" : `, label column ${spec.labelColumn}`;
      return `${spec.path}${spec.standardize ? ", standardised" : ""}${label}`;
    }
    case "cifar10":
      return `CIFAR-10 in ${spec.dir}`;
  }
}

/** The signature of {@link RunContext.loadData}, with its cache. */
export type DataLoader = (
  spec: DataSpec,
  seed: number,
  testFraction?: number,
  split?: SplitKind,
) => DataSplit;

/**
 * A loader with its own caches: whole data sets by spec, splits by (spec, seed, fraction,
 * kind).
 * One per thread; the runner makes one for in-thread runs and each worker makes its own.
 */
export function createDataLoader(): DataLoader {
  const sets = new Map<string, Dataset | DataSplit>();
  const splits = new Map<string, DataSplit>();

  function loadWhole(spec: DataSpec): Dataset | DataSplit {
    const key = encodeJson(spec, "data spec", 0);
    let set = sets.get(key);
    if (set === undefined) {
      switch (spec.kind) {
        case "digits":
          set = loadDigits();
          break;
        case "csv":
          set = loadCsv(spec.path, { labelColumn: spec.labelColumn, delimiter: spec.delimiter });
          break;
        case "cifar10":
          set = cifar10Loader(spec.dir);
          break;
        default:
          throw new DataError(
            `unknown data kind ${JSON.stringify((spec as { kind: unknown }).kind)}`,
          );
      }
      sets.set(key, set);
    }
    return set;
  }

  return (spec, seed, testFraction = 0.2, kind = "stratified") => {
    // the stratified split's key keeps its old form: one cache entry per request either way
    const key = encodeJson(
      kind === "stratified"
        ? { spec, seed, testFraction }
        : { spec, seed, testFraction, split: kind },
      "data request",
      0,
    );
    let split = splits.get(key);
    if (split === undefined) {
      const whole = loadWhole(spec);
      if ("train" in whole) {
        split = whole; // CIFAR-10 has a fixed split
      } else {
        const s = splitDataset(whole, { kind, seed, testFraction });
        split = { train: s.train, test: s.test };
        if (spec.kind === "csv" && spec.standardize) {
          const st = fitStandardizer(split.train);
          split = {
            train: applyStandardizer(split.train, st),
            test: applyStandardizer(split.test, st),
          };
        }
      }
      splits.set(key, split);
    }
    return split;
  };
}
