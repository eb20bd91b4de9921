/**
 * Data layer: loading, splitting, standardising and batching classification data sets
 * held as plain typed arrays.
 *
 * @module
 */
export { type Batch, type BatchOptions, batchesPerEpoch, batchIterator } from "./batches.js";
export {
  DIGITS_N,
  DIGITS_SIDE,
  dataFileUrl,
  IRIS_FEATURES,
  loadDigits,
  loadIris,
  parseDigits,
} from "./builtin.js";
export { type Cifar10, type Cifar10Options, loadCifar10 } from "./cifar10.js";
export {
  CSV_DELIMITERS,
  decodeTextBytes,
  detectDelimiter,
  type LoadCsvOptions,
  loadCsv,
  MAX_CSV_BYTES,
  parseCsv,
  readTextFile,
} from "./csv.js";
export {
  classCounts,
  DataError,
  type Dataset,
  gatherRows,
  makeDataset,
  oneHot,
  randomSubset,
  subset,
  withFeatures,
} from "./dataset.js";
export { type NpyArray, NpyError, parseNpy, parseNpz } from "./npy.js";
export {
  headSplit,
  type RandomSplitOptions,
  randomSplit,
  type Split,
  type SplitKind,
  type SplitOptions,
  splitDataset,
  stratifiedSplit,
} from "./split.js";
export { applyStandardizer, fitStandardizer, type Standardizer } from "./standardize.js";
export { describeDataset, minRowsPerClass, splitWarnings } from "./summary.js";
