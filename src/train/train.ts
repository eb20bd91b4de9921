/**
 * The training loop: data → model → optimizer proposes p → probe (JVP) → radius → controller
 * scales p → apply → telemetry. One loop serves every experiment; what varies (model,
 * optimizer chain, controller, sample set, probe method) comes in as options. The step itself
 * is a sequence of named stages (`step.ts`); callers get plain numbers back in
 * {@link StepRecord}s.
 */
import { batchIterator } from "../data/batches.js";
import type { Dataset } from "../data/dataset.js";
import { labelsToDevice, toDevice } from "../engine/arrays.js";
import { type EvaluationMode, evaluate, type LossAndGrad } from "../engine/compute.js";
import { initEngine } from "../engine/runtime.js";
import { Holder, Scope } from "../engine/scope.js";
import type { Model, ModelState, Params } from "../models/types.js";
import { chain, initBorrowed } from "../optim/combine.js";
import { jitChain } from "../optim/fuse.js";
import { buildOptimizer, type ControllerSpec, type OptimizerSpec } from "../optim/spec.js";
import type { GradientTransformation, TrainingExtra } from "../optim/types.js";
import type { DirectionalOptions, FfnQuantileOptions } from "../probe/directional.js";
import { type ProbeResult, RadiusEstimator, type RadiusOptions } from "../probe/radius.js";
import type { StepRecord, TrainResult } from "./record.js";
import {
  applyStep,
  type Batch,
  computeGradient,
  drawBatch,
  measureRadius,
  measureReference,
  propose,
  type RunContext,
  recordStep,
  skipRecord,
  startRecord,
} from "./step.js";

export type { EvaluationMode } from "../engine/compute.js";
export type { StepRecord, TrainResult } from "./record.js";

/**
 * How the loop measures the radius along each step. `ffnQuantile` and `ffnQuantileMethod`
 * reduce the FFN ratios to ρ_ffn where a controller asks for the transformer's internal radii.
 */
export interface ProbeOptions extends RadiusOptions, FfnQuantileOptions {
  /** Exact forward-mode JVP (default) or central finite differences. */
  method?: DirectionalOptions["method"];
  /** Samples per probe chunk (bounds memory on large sets). */
  chunk?: number;
  /**
   * BatchNorm statistics of the probed function: running (`"eval"`, default) or the probed
   * rows' own (`"train"`, as a probe run with a PyTorch model left in training mode
   * computes). The model's running statistics are never changed by a probe.
   */
  mode?: DirectionalOptions["mode"];
  /** FD only: the length moved in parameter space (`fdStep` of {@link DirectionalOptions}). */
  fdStep?: number;
  /** Dtype the probe computes in (`dtype` of {@link DirectionalOptions}; default the model's). */
  dtype?: DirectionalOptions["dtype"];
  /**
   * Measure the radius for telemetry every this many steps even when no controller needs
   * it (default 1; 0 = only when a controller asks).
   */
  every?: number;
  /**
   * Sees every probe the loop makes: the step, the per-sample slopes `a` along the UNIT step
   * direction and logits, and the training-split rows probed (`null` = the whole split, in
   * order). Borrowed host arrays: copy what you keep. For calibration studies.
   */
  onProbe?: (step: number, result: ProbeResult, rows: Int32Array | null) => void;
  /**
   * A second radius, measured along the applied step (τ > 0) every `every` steps (default 1)
   * for comparison only: it never drives a controller. E.g. `{sampleSet: "train"}` as the
   * ground truth a cheaper estimator is judged against. Output radius only; its time is left
   * out of `wallMs`.
   */
  reference?: RadiusOptions & { every?: number };
}

/** Everything a training run needs. */
export interface TrainOptions {
  model: Model;
  data: { train: Dataset; test: Dataset };
  /** A declarative optimizer spec (preferred: its learning rate is reported) or a raw chain. */
  optimizer: OptimizerSpec | GradientTransformation<TrainingExtra>;
  /** Controller: a spec (with a spec optimizer) or a chain link appended last. */
  controller?: ControllerSpec | GradientTransformation<TrainingExtra>;
  /** Number of optimizer steps. */
  steps: number;
  /** Mini-batch size, or `"full"` for full-batch steps on the training split (default 64). */
  batchSize?: number | "full";
  /** Evaluate on the test split every this many steps, and after the last (default 10; 0 = last only). */
  evalEvery?: number;
  /**
   * How test evaluations normalise BatchNorm (default `"running-stats"`: eval mode).
   * `"batch-stats"` evaluates the whole test split as one train-mode batch on its own
   * statistics, as a script that never calls `model.eval()` does; the running statistics
   * that pass computes are dropped, so training is the same either way (see `EvaluationMode`).
   */
  evaluation?: EvaluationMode;
  /** Seed of initialisation and batch order (default 0). */
  seed?: number;
  /** Radius measurement. */
  probe?: ProbeOptions;
  /**
   * Called after every step with its record. A returned promise is awaited before the next
   * step, which lets a caller yield to its event loop (a Web Worker reading pause messages).
   */
  onStep?: (record: StepRecord) => unknown;
  /**
   * Compile the optimizer's device-only links into one function (default true; only for an
   * optimizer spec). `false` runs them op by op — same numbers, slower; for comparisons.
   */
  fuse?: boolean;
  /**
   * Called after each test evaluation with the step's record and the parameters and model
   * state just evaluated. BORROWED: valid during the call only; to keep them (e.g. to snapshot
   * the model when it first reaches a target accuracy), `hold` them in an engine `Scope`.
   */
  onEval?: (record: StepRecord, params: Params, state: ModelState) => void;
}

function isTransform(x: unknown): x is GradientTransformation<TrainingExtra> {
  return typeof x === "object" && x !== null && "init" in x && "update" in x;
}

function checkOptions(o: TrainOptions): void {
  if (!Number.isInteger(o.steps) || o.steps < 1) {
    throw new RangeError(`steps must be a positive integer, got ${o.steps}`);
  }
  const bs = o.batchSize ?? 64;
  if (bs !== "full" && (!Number.isInteger(bs) || bs < 1)) {
    throw new RangeError(`batchSize must be a positive integer or "full", got ${bs}`);
  }
  if (o.data.train.d !== o.model.config.inputDim) {
    throw new RangeError(
      `model expects ${o.model.config.inputDim} features but the data has ${o.data.train.d}`,
    );
  }
  if (o.data.train.numClasses > o.model.config.numClasses) {
    throw new RangeError(
      `model has ${o.model.config.numClasses} classes but the data has ${o.data.train.numClasses}`,
    );
  }
  const ev = o.evaluation;
  if (ev !== undefined && ev !== "running-stats" && ev !== "batch-stats") {
    throw new RangeError(
      `evaluation must be "running-stats" or "batch-stats", got ${JSON.stringify(ev)}`,
    );
  }
  if (isTransform(o.optimizer) && o.controller && !isTransform(o.controller)) {
    throw new RangeError("a controller spec needs an optimizer spec (or pass the controller link)");
  }
}

/**
 * Resolves the optimizer/controller options into one chain. With an optimizer spec the
 * device-only links are compiled into one function (see `jitChain`); a raw chain runs as
 * given, op by op.
 */
function resolveChain(o: TrainOptions): {
  transform: GradientTransformation<TrainingExtra>;
  learningRateAt: (step: number) => number;
  label: string;
  /** Frees what the chain compiled (nothing for an unfused chain). */
  close: () => void;
} {
  const fuse = o.fuse ?? true;
  if (!isTransform(o.optimizer)) {
    const customLink = o.controller !== undefined && isTransform(o.controller);
    const built = buildOptimizer(
      o.optimizer,
      customLink ? undefined : (o.controller as ControllerSpec | undefined),
    );
    const suffix = customLink
      ? (o.controller as GradientTransformation<TrainingExtra>)
      : built.suffix;
    const label = customLink ? `${built.label} + custom` : built.label;
    if (!fuse) {
      const transform = suffix === null ? built.prefix : chain(built.prefix, suffix);
      return { transform, learningRateAt: built.learningRateAt, label, close: () => {} };
    }
    const fused = jitChain(built.prefix, suffix);
    return { transform: fused, learningRateAt: built.learningRateAt, label, close: fused.close };
  }
  const transform = o.controller
    ? chain(o.optimizer, o.controller as GradientTransformation<TrainingExtra>)
    : o.optimizer;
  return {
    transform,
    learningRateAt: () => Number.NaN,
    label: "custom chain",
    close: () => {},
  };
}

/**
 * Sets up everything a run's steps share; its uploads belong to `uploads`, its optimizer
 * state to the returned context (released by the caller).
 */
function startRun(
  options: TrainOptions,
  transform: GradientTransformation<TrainingExtra>,
  learningRateAt: (step: number) => number,
  uploads: Scope,
): RunContext {
  const { model, data } = options;
  const trainSet = data.train;
  const dtype = model.config.dtype;
  const seed = options.seed ?? 0;
  const probeOpts = options.probe ?? {};
  const init = model.init(seed);
  const fullBatch = options.batchSize === "full";
  const batchSize = fullBatch ? trainSet.n : ((options.batchSize as number | undefined) ?? 64);
  const params = new Holder<Params>(init.params);
  return {
    model,
    trainSet,
    xTrain: uploads.own(toDevice(trainSet.x, [trainSet.n, trainSet.d], dtype)),
    yTrain: fullBatch ? uploads.own(labelsToDevice(trainSet.y)) : null,
    batches: fullBatch
      ? null
      : batchIterator(trainSet, { batchSize, seed: seed + 1, dropLast: false }),
    allRows: Int32Array.from({ length: trainSet.n }, (_, i) => i),
    transform,
    learningRateAt,
    estimator: new RadiusEstimator(trainSet.n, {
      labels: trainSet.y,
      ...probeOpts,
      seed: probeOpts.seed ?? seed,
    }),
    referenceEstimator: probeOpts.reference
      ? new RadiusEstimator(trainSet.n, {
          ...probeOpts.reference,
          seed: probeOpts.reference.seed ?? seed,
        })
      : null,
    directional: {
      method: probeOpts.method ?? "jvp",
      chunk: probeOpts.chunk,
      mode: probeOpts.mode,
      fdStep: probeOpts.fdStep,
      dtype: probeOpts.dtype,
      ...(probeOpts.ffnQuantile === undefined ? {} : { ffnQuantile: probeOpts.ffnQuantile }),
      ...(probeOpts.ffnQuantileMethod === undefined
        ? {}
        : { ffnQuantileMethod: probeOpts.ffnQuantileMethod }),
    },
    probe: {
      every: probeOpts.every ?? 1,
      onProbe: probeOpts.onProbe,
      reference: probeOpts.reference,
    },
    params,
    state: new Holder<ModelState>(init.state),
    optState: new Holder(initBorrowed(transform, init.params)),
  };
}

/**
 * The stages after a finite gradient: propose, probe, measure the reference, apply, record.
 * Returns the time `probe.reference` took (left out of `wallMs`), or null when the proposed
 * update was not finite and nothing was applied.
 */
function proposeAndApply(
  run: RunContext,
  batch: Batch,
  lg: LossAndGrad,
  record: StepRecord,
  scope: Scope,
): { referenceMs: number } | null {
  const { step } = record;
  run.state.set(lg.state);
  const proposal = propose(run, batch, lg, step, scope);
  if (!Number.isFinite(proposal.tau)) return null;
  const { every, reference } = run.probe;
  let measured = proposal.measured;
  if (measured === null && every > 0 && step % every === 0 && proposal.tau > 0) {
    const { updates, tau } = proposal;
    measured = measureRadius(run, batch, step, updates, tau, "output").measurement;
  }
  let referenceMs = 0;
  if (proposal.tau > 0 && step % (reference?.every ?? 1) === 0) {
    const measuredReference = measureReference(run, batch, proposal);
    if (measuredReference !== null) {
      record.rhoReference = measuredReference.rho;
      referenceMs = measuredReference.ms;
    }
  }
  applyStep(run, proposal);
  recordStep(run, record, proposal, measured);
  return { referenceMs };
}

/**
 * One step through the stages of `step.ts`: returns its record (the caller evaluates and
 * reports it). Everything the step allocates is released before it returns.
 */
function runStep(run: RunContext, step: number): { record: StepRecord; skipped: boolean } {
  const t0 = performance.now();
  const scope = new Scope();
  try {
    const batch = drawBatch(run, scope);
    const lg = computeGradient(run, batch, scope);
    const record = startRecord(run, step, lg);
    // Never apply a step computed from non-finite numbers: it would poison the parameters
    // and the optimizer's moments alike.
    const finite = Number.isFinite(lg.loss) && Number.isFinite(lg.gradNorm);
    if (!finite) scope.own(lg.state);
    const applied = finite ? proposeAndApply(run, batch, lg, record, scope) : null;
    if (applied === null) skipRecord(record);
    scope.release();
    record.wallMs = performance.now() - t0 - (applied?.referenceMs ?? 0);
    return { record, skipped: applied === null };
  } finally {
    scope.release();
  }
}

/**
 * Trains `model` and returns its history. Deterministic for a seed: the same options give a
 * bit-identical history on the same machine.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  checkOptions(options);
  await initEngine();
  const { model, data } = options;
  const testSet = data.test;
  const evalEvery = options.evalEvery ?? 10;
  const { transform, learningRateAt, label, close: closeChain } = resolveChain(options);
  const uploads = new Scope();
  const run = startRun(options, transform, learningRateAt, uploads);
  const xTest = uploads.own(toDevice(testSet.x, [testSet.n, testSet.d], model.config.dtype));
  const history: StepRecord[] = [];
  let skippedSteps = 0;
  let last = { accuracy: Number.NaN, loss: Number.NaN };
  try {
    for (let step = 0; step < options.steps; step++) {
      const { record, skipped } = runStep(run, step);
      if (skipped) skippedSteps++;
      const isLast = step === options.steps - 1;
      if (isLast || (evalEvery > 0 && (step + 1) % evalEvery === 0)) {
        const ev = evaluate(model, run.params.get(), run.state.get(), xTest, testSet.y, {
          evaluation: options.evaluation,
        });
        record.testAccuracy = ev.accuracy;
        record.testLoss = ev.loss;
        last = { accuracy: ev.accuracy, loss: ev.loss };
        options.onEval?.(record, run.params.get(), run.state.get());
      }
      history.push(record);
      const pending = options.onStep?.(record);
      if (pending instanceof Promise) await pending;
    }
  } catch (e) {
    run.params.release();
    run.state.release();
    throw e;
  } finally {
    uploads.release();
    run.optState.release();
    closeChain();
  }
  const weights = new Scope();
  return {
    history,
    params: weights.own(run.params.take()),
    state: weights.own(run.state.take()),
    release: () => weights.release(),
    skippedSteps,
    finalTestAccuracy: last.accuracy,
    finalTestLoss: last.loss,
    label,
  };
}
