/**
 * The experiment framework: definitions, the caching and parallel runner, data loading
 * for runs, and progress display. See `types.ts` for the contract an experiment fulfils.
 *
 * @module
 */
export {
  type Cifar10Loader,
  createDataLoader,
  type DataLoader,
  describeData,
  registerCifar10Loader,
} from "./data.js";
export { decodeJson, encodeJson, jsonEqual, normalizeJson, writeFileAtomic } from "./json.js";
export {
  createProgressReporter,
  formatDuration,
  type ProgressReporter,
  type ProgressStream,
} from "./progress.js";
export {
  type ExperimentOutcome,
  packageVersion,
  type RenderedFigure,
  type RunExperimentOptions,
  RunFailedError,
  type RunnerEvent,
  runExperiment,
  USER_ERROR_NAMES,
} from "./runner.js";
export {
  checkShard,
  IncompleteGridError,
  inShard,
  readShardPlans,
  SHARD_PLAN_FILE,
  type Shard,
  type ShardPlan,
  writeShardPlan,
} from "./shard.js";
export {
  readAllSummaries,
  readSummaryFile,
  SUMMARY_META_KEYS,
  SUMMARY_TIMING_KEYS,
  type SummaryFile,
  type SummaryMeta,
  splitSummaryFile,
} from "./summary.js";
export {
  type AnyExperiment,
  type DataSpec,
  type DataSplit,
  defineExperiment,
  type ExperimentDefinition,
  ExperimentDefinitionError,
  ExperimentInputError,
  type ExperimentReport,
  type FigureSpec,
  type JsonObject,
  type JsonPrimitive,
  type JsonValue,
  type Plan,
  type PlanOptions,
  type ReportTable,
  type RunContext,
  type VegaLiteSpec,
  type Verdict,
} from "./types.js";
