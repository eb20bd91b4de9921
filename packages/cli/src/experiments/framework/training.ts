/**
 * The one way an experiment run trains a network: the data of the run (its seeded split,
 * optionally cut to seeded subsets), a model from the thread's cache (optionally with
 * BatchNorm's running statistics calibrated at initialisation), `train()` with progress
 * forwarded to the runner, the weights saved when `--save` asks, and the final parameters
 * freed — runs only report numbers. One definition of "ms per step" lives here too.
 *
 * @module
 */
import { batchesPerEpoch, type Dataset, randomSubset, type SplitKind } from "softmax-ghosts/data";
import { scaleTree, scoped, toDevice, trainModeState, treeSize } from "softmax-ghosts/engine";
import {
  type ArchitectureOptions,
  buildModel,
  type Model,
  ModelConfigError,
  type ModelState,
  type Params,
} from "softmax-ghosts/models";
import type { OptimizerSpec } from "softmax-ghosts/optim";
import { type StepRecord, type TrainOptions, train } from "softmax-ghosts/train";
import { median } from "../../report/stats.js";
import { type DataSplit, ExperimentInputError, type RunContext } from "./types.js";

const models = new Map<string, Model>();

/**
 * The thread's model for (architecture, input width, classes, softmax temperature), built
 * once: the compiled step functions are cached per model object, so only a thread's first run
 * of a shape pays for compilation. Models hold no parameters (they come from `init(seed)`),
 * so runs sharing one stay independent.
 *
 * @throws {ExperimentInputError} when the architecture cannot take data of this shape.
 */
export function modelFor(
  arch: string,
  inputDim: number,
  numClasses: number,
  options: { temperature?: number } & ArchitectureOptions = {},
): Model {
  const { temperature: t, ...arch0 } = options;
  const extra = Object.keys(arch0).length === 0 ? "" : `:${JSON.stringify(arch0)}`;
  const key = `${arch}:${inputDim}:${numClasses}${t === undefined ? "" : `:T${t}`}${extra}`;
  let model = models.get(key);
  if (model === undefined) {
    try {
      model = buildModel(
        arch,
        t === undefined
          ? { inputDim, numClasses, ...arch0 }
          : { inputDim, numClasses, temperature: t, ...arch0 },
      );
    } catch (err) {
      if (err instanceof ModelConfigError) {
        throw new ExperimentInputError(`${arch} cannot take this data: ${err.message}`);
      }
      throw err;
    }
    models.set(key, model);
  }
  return model;
}

/** Training images whose statistics initialise BatchNorm's running statistics. */
export const BN_CALIBRATION_SAMPLES = 128;

const calibrated = new WeakMap<Model, WeakMap<Dataset, Model>>();
const hasBatchNorm = new WeakMap<Model, boolean>();

/**
 * `model` whose `init(seed)` sets every BatchNorm's running statistics to the train-mode
 * batch statistics of the freshly initialised network on a seeded batch of
 * {@link BN_CALIBRATION_SAMPLES} training images, instead of PyTorch's (mean 0, var 1).
 *
 * Why: the radius is probed in eval mode (docs/science.md §3), i.e. through the running
 * statistics. At (0, 1) the eval-mode network at initialisation is not the train-mode network
 * being trained; on resnet-small its ρ_a comes out 10–100× too long (4.6–26 vs ≈ 0.3), so
 * ρ-set's first steps (η up to 8.5) wreck the network and it never recovers (17% after 10
 * epochs). Fixed-rate training never reads the running statistics, so for it this changes
 * only the telemetry and the early test accuracy. Models without BatchNorm come back as they
 * are. The wrapper is cached per (model, training set), so its compiled functions are shared.
 */
export function withCalibratedBatchNorm(model: Model, trainSet: Dataset): Model {
  let hasBn = hasBatchNorm.get(model);
  if (hasBn === undefined) {
    hasBn = scoped((scope) => {
      const { params, state } = model.init(0);
      scope.own(params);
      return treeSize(scope.own(state)) > 0;
    });
    hasBatchNorm.set(model, hasBn);
  }
  if (!hasBn) return model;
  let perModel = calibrated.get(model);
  if (perModel === undefined) {
    perModel = new WeakMap();
    calibrated.set(model, perModel);
  }
  let wrapped = perModel.get(trainSet);
  if (wrapped === undefined) {
    const m = Math.min(BN_CALIBRATION_SAMPLES, trainSet.n);
    wrapped = {
      ...model,
      init(seed: number) {
        const { params, state } = model.init(seed);
        const sample = randomSubset(trainSet, m, seed * 1000 + 3);
        return scoped((scope) => {
          const x = scope.own(toDevice(sample.x, [m, trainSet.d], model.config.dtype));
          // new = 0.9·old + 0.1·batch (BN momentum 0.1): from old = 0, ×10 gives the batch's.
          const zero = scope.own(scaleTree(scope.own(state), 0));
          const fresh = scope.own(trainModeState(model, params, zero, x));
          return { params, state: scaleTree(fresh, 10) };
        });
      },
    };
    perModel.set(trainSet, wrapped);
  }
  return wrapped;
}

const subsets = new WeakMap<Dataset, Map<string, Dataset>>();

/**
 * A seeded random subset of `m` rows of `ds` (`null` or `m ≥ n`: `ds` itself). The same
 * request returns the same object, because calibrated models and their compiled functions
 * are cached per data-set object.
 */
function subsetOf(ds: Dataset, m: number | null, seed: number, salt: number): Dataset {
  if (m === null || m >= ds.n) return ds;
  let perSet = subsets.get(ds);
  if (perSet === undefined) {
    perSet = new Map();
    subsets.set(ds, perSet);
  }
  const key = `${m}:${seed}:${salt}`;
  let sub = perSet.get(key);
  if (sub === undefined) {
    sub = randomSubset(ds, m, seed * 1000 + salt);
    perSet.set(key, sub);
  }
  return sub;
}

/** Which data a run trains and evaluates on. */
export type RunDataOptions = {
  /** Seed of the stratified split (unless `splitSeed` is given) and of the subsets. */
  seed: number;
  /** Fraction of each class held out for testing (default 0.2). */
  testFraction?: number;
  /**
   * `"stratified"` (default): the seeded stratified split; `"head"`: the published
   * reference's split — the first `testFraction` of the rows, unshuffled, the same for every
   * seed (`headSplit`); `"random"`: one seeded permutation of all rows (`randomSplit`).
   */
  split?: SplitKind;
  /** Seed of the split, when it is not the run's (a protocol whose split is the same for every seed). */
  splitSeed?: number;
  /** Train on a seeded random subset of this many training rows (`null`: all). */
  trainSubset?: number | null;
  /** Evaluate on a seeded random subset of this many test rows (`null`: all). */
  testSubset?: number | null;
};

/** The data of a run: the context's seeded split, optionally cut to seeded subsets. */
export function runData(ctx: RunContext, o: RunDataOptions): DataSplit {
  const split = ctx.loadData(ctx.data, o.splitSeed ?? o.seed, o.testFraction, o.split);
  return {
    train: subsetOf(split.train, o.trainSubset ?? null, o.seed, 1),
    test: subsetOf(split.test, o.testSubset ?? null, o.seed, 2),
  };
}

/**
 * Mini-batches of `batchSize` ("full": the whole split, one step) per epoch of the training
 * split {@link runData} gives — the same (cached) split {@link trainRun} trains on.
 */
export function stepsPerEpochOf(
  ctx: RunContext,
  o: RunDataOptions,
  batchSize: number | "full",
): number {
  const n = runData(ctx, o).train.n;
  return batchesPerEpoch(n, batchSize === "full" ? n : batchSize);
}

/** Number of classes of a split: the larger of its two parts' counts. */
export function classesOf(data: DataSplit): number {
  return Math.max(data.train.numClasses, data.test.numClasses);
}

/**
 * A training run of an experiment: `train()`'s options, with the model named, not built —
 * `evaluation` among them (`"batch-stats"`: test accuracy with BatchNorm on the test rows' own
 * statistics, never touching the trained state; see `EvaluationMode`).
 */
export type TrainingRun = Omit<TrainOptions, "model" | "data" | "onStep"> &
  RunDataOptions & {
    /** Architecture name (see `buildModel`). */
    arch: string;
    /** Calibrate BatchNorm's running statistics at initialisation (see {@link withCalibratedBatchNorm}). */
    calibrateBatchNorm?: boolean;
    /** Options of the architecture (e.g. the transformer's attention biases); default none. */
    modelOptions?: ArchitectureOptions;
    /** Smallest number of classes the model is built for (default 1). */
    minClasses?: number;
    /** Sees every step's record (after progress has been reported). */
    onStep?: (record: StepRecord) => void;
    /**
     * Sees the trained network before its weights are freed (borrowed: do not keep or free
     * them), e.g. to evaluate it on the whole training split.
     */
    afterTraining?: (trained: TrainedNetwork) => void;
  };

/** The network a training run ends with (see {@link TrainingRun.afterTraining}). */
export type TrainedNetwork = { model: Model; params: Params; state: ModelState; data: DataSplit };

/** What a training run leaves: its history and final test numbers (the weights are freed). */
export type TrainingOutcome = {
  history: StepRecord[];
  finalTestAccuracy: number;
  finalTestLoss: number;
  skippedSteps: number;
  /** Number of classes the model was built for. */
  numClasses: number;
  /** The data the run used. */
  data: DataSplit;
};

/**
 * Trains one run: {@link runData}, {@link modelFor} (calibrated when asked), `train()` with
 * progress forwarded to the runner, `--save`'s weights written, the final weights freed.
 *
 * @throws {ExperimentInputError} when the model does not fit the data or jax-js's 4 GiB
 *   Wasm memory.
 */
export async function trainRun(run: TrainingRun, ctx: RunContext): Promise<TrainingOutcome> {
  const {
    arch,
    calibrateBatchNorm,
    minClasses,
    onStep,
    afterTraining,
    seed,
    testFraction,
    split,
    splitSeed,
    trainSubset,
    testSubset,
    modelOptions,
    ...options
  } = run;
  const data = runData(ctx, { seed, testFraction, split, splitSeed, trainSubset, testSubset });
  const numClasses = Math.max(classesOf(data), minClasses ?? 1);
  const shared = modelFor(arch, data.train.d, numClasses, modelOptions);
  const model = calibrateBatchNorm ? withCalibratedBatchNorm(shared, data.train) : shared;
  let result: Awaited<ReturnType<typeof train>>;
  try {
    result = await train({
      ...options,
      seed,
      model,
      data,
      onStep: (rec) => {
        ctx.onProgress((rec.step + 1) / options.steps);
        onStep?.(rec);
      },
    });
  } catch (err) {
    // jax-js's wasm backend addresses at most 4 GiB: say what did not fit, not where.
    if (err instanceof RangeError && /memory32|4 GiB/.test(err.message)) {
      throw new ExperimentInputError(
        `${arch} at batch ${String(options.batchSize ?? 64)} with ${data.train.n} resident ` +
          `training rows needs more than jax-js's 4 GiB wasm memory (${err.message}); ` +
          `for ResNet-18 on 3×32×32 images a batch of 16 fits, 32 does not`,
      );
    }
    throw err;
  }
  try {
    afterTraining?.({ model, params: result.params, state: result.state, data });
    await ctx.saveWeights?.(result);
  } finally {
    result.release();
  }
  return {
    history: result.history,
    finalTestAccuracy: result.finalTestAccuracy,
    finalTestLoss: result.finalTestLoss,
    skippedSteps: result.skippedSteps,
    numClasses,
    data,
  };
}

/** Steps left out of {@link msPerStep}: the first steps compile the step functions. */
export const TIMING_WARMUP_STEPS = 5;

/**
 * "ms per step", defined once: the median wall time of a step (`StepRecord.wallMs`: the
 * optimizer step with its probes, test evaluations excluded) over the steps after the first
 * {@link TIMING_WARMUP_STEPS} (over all steps when a run is shorter than twice that).
 * NaN for an empty history.
 */
export function msPerStep(history: readonly StepRecord[]): number {
  return steadyMedian(history.map((r) => r.wallMs));
}

/**
 * The median of per-step timings (ms, one per step in step order) by {@link msPerStep}'s
 * rule: the first {@link TIMING_WARMUP_STEPS} left out when there are at least twice as
 * many. For a part of a step timed apart (e.g. a controller's radius measurement), so that
 * it is summarised over the same steps as the whole step. NaN for no steps.
 */
export function steadyMedian(perStepMs: readonly number[]): number {
  if (perStepMs.length === 0) return Number.NaN;
  const skip = perStepMs.length >= 2 * TIMING_WARMUP_STEPS ? TIMING_WARMUP_STEPS : 0;
  return median(perStepMs.slice(skip));
}

/** The settings of a run measured in epochs (the natural-instability protocol and its kin). */
export type EpochRunCell = {
  seed: number;
  model: string;
  /** `"batch"`: BatchNorm's running statistics calibrated at initialisation. */
  bnInit: string;
  batchSize: number | "full";
  trainSubset: number | null;
  testSubset: number | null;
};

/**
 * Trains a run of `epochs` epochs of its (possibly cut) training split, evaluating once per
 * epoch unless `evalEvery` says otherwise; `steps` replaces the epoch count where a setting
 * is measured in steps. Models get at least 2 classes.
 */
export async function trainEpochs(
  c: EpochRunCell,
  ctx: RunContext,
  o: Pick<TrainingRun, "optimizer" | "controller" | "probe"> & {
    epochs: number;
    steps?: number;
    evalEvery?: number;
  },
): Promise<TrainingOutcome & { stepsPerEpoch: number }> {
  const data = { seed: c.seed, trainSubset: c.trainSubset, testSubset: c.testSubset };
  const stepsPerEpoch = stepsPerEpochOf(ctx, data, c.batchSize);
  const out = await trainRun(
    {
      ...data,
      arch: c.model,
      calibrateBatchNorm: c.bnInit === "batch",
      minClasses: 2,
      optimizer: o.optimizer,
      controller: o.controller,
      steps: o.steps ?? o.epochs * stepsPerEpoch,
      batchSize: c.batchSize,
      evalEvery: o.evalEvery ?? stepsPerEpoch,
      probe: o.probe,
    },
    ctx,
  );
  return { ...out, stepsPerEpoch };
}

/**
 * Adam at `baseLr` whose learning rate is multiplied by `multiplier` from step `spikeAt` on —
 * held to the end, or for that one step only (`once`): the spike protocols of docs/science.md §5.
 */
export function spikedAdam(
  c: { baseLr: number; multiplier: number; spikeAt: number },
  o: { once?: boolean } = {},
): OptimizerSpec {
  return {
    name: "adam",
    learningRate: c.baseLr,
    spike: { multiplier: c.multiplier, at: c.spikeAt, ...(o.once === true ? { once: true } : {}) },
  };
}
