/**
 * The training loop: data → model → optimizer proposes p → probe (JVP) → radius → controller
 * scales p → apply → telemetry. One loop serves every experiment; what varies (model,
 * optimizer chain, controller, sample set, probe method) comes in as options.
 *
 * All jax-js ownership bookkeeping of the loop lives here and in `src/engine`; callers get
 * plain numbers back in {@link StepRecord}s.
 */
import type { Array as JaxArray } from "@jax-js/jax";
import { tree } from "@jax-js/jax";
import { batchIterator } from "../data/batches.js";
import { type Dataset, gatherRows } from "../data/dataset.js";
import { labelsToDevice, takeScalar, toDevice } from "../engine/arrays.js";
import { cachedJit, crossEntropy, evaluate, lossAndGrad } from "../engine/compute.js";
import { initEngine } from "../engine/runtime.js";
import { disposeTree, refTree, treeGlobalNormHost, treeVdot } from "../engine/tree.js";
import type { Model, ModelState, Params } from "../models/types.js";
import { applyUpdatesCompiled, chain } from "../optim/combine.js";
import type {
  ControllerRadius,
  ControlReport,
  RadiusCallback,
  RadiusKind,
} from "../optim/controllers.js";
import { jitChain } from "../optim/fuse.js";
import type { LossExtra } from "../optim/loss-extra.js";
import { buildOptimizer, type ControllerSpec, type OptimizerSpec } from "../optim/spec.js";
import type { ArrayTree, GradientTransformation, OptState } from "../optim/types.js";
import { type DirectionalOptions, directionalLogitDerivatives } from "../probe/directional.js";
import { hasInternals, probeNetwork } from "../probe/network.js";
import {
  type ProbeResult,
  RadiusEstimator,
  type RadiusOptions,
  type RadiusReport,
} from "../probe/radius.js";

/** How the loop measures the radius along each step. */
export interface ProbeOptions extends RadiusOptions {
  /** Exact forward-mode JVP (default) or central finite differences. */
  method?: DirectionalOptions["method"];
  /** Samples per probe chunk (bounds memory on large sets). */
  chunk?: number;
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
  optimizer: OptimizerSpec | GradientTransformation;
  /** Controller: a spec (with a spec optimizer) or a chain link appended last. */
  controller?: ControllerSpec | GradientTransformation;
  /** Number of optimizer steps. */
  steps: number;
  /** Mini-batch size, or `"full"` for full-batch steps on the training split (default 64). */
  batchSize?: number | "full";
  /** Evaluate on the test split every this many steps, and after the last (default 10; 0 = last only). */
  evalEvery?: number;
  /** Seed of initialisation and batch order (default 0). */
  seed?: number;
  /** Radius measurement. */
  probe?: ProbeOptions;
  /** Called after every step with its record. */
  onStep?: (record: StepRecord) => void;
  /**
   * Compile the optimizer's device-only links into one function (default true; only for an
   * optimizer spec). `false` runs them op by op — same numbers, slower; for comparisons.
   */
  fuse?: boolean;
  /**
   * Called after each test evaluation with the step's record and the parameters and model
   * state just evaluated. BORROWED: valid during the call only; `refTree` them to keep them
   * (e.g. to snapshot the model when it first reaches a target accuracy).
   */
  onEval?: (record: StepRecord, params: Params, state: ModelState) => void;
}

/** Telemetry of one step. */
export interface StepRecord {
  step: number;
  /** Mini-batch loss before the step. */
  loss: number;
  /** Mini-batch accuracy before the step (eval-free: from the training forward pass). */
  batchAccuracy: number;
  /** Test accuracy after the step (eval steps only). */
  testAccuracy?: number;
  /** Test loss after the step (eval steps only). */
  testLoss?: number;
  /** Length of the update actually applied, τ = ‖p‖ (0 when skipped). */
  tau: number;
  /** Radius ρ_a along the applied step (NaN when not measured this step). */
  rhoA: number;
  /** Normalised step r = τ/ρ_a. */
  r: number;
  /** Exact set-level ρ* along the step, when `probe.exact` is on (or `probe.drive` is "rhoStar"). */
  rhoStar?: number;
  /** Set-level top-2 estimate along the step, when `probe.drive` is "top2". */
  rhoTop2?: number;
  /** Radius along the applied step from `probe.reference` (absent off its cadence, skipped or τ = 0). */
  rhoReference?: number;
  /** Base learning rate × controller scale (ρ-set: the η it chose). */
  effectiveLearningRate: number;
  /** Which radius bound (`output`, `attention`, `ffn`) when measured. */
  binding?: string;
  /** The step had a non-finite loss or gradient and was not applied. */
  skipped: boolean;
  /** Wall time of the whole step, ms (evaluation excluded). */
  wallMs: number;
}

/** What a run returns. */
export interface TrainResult {
  history: StepRecord[];
  /** Final parameters and model state (caller owns them; `disposeTree` when done). */
  params: Params;
  state: ModelState;
  /** Steps not applied because of a non-finite loss or gradient. */
  skippedSteps: number;
  /** Final test accuracy and loss. */
  finalTestAccuracy: number;
  finalTestLoss: number;
  /** One-line description of the optimizer chain. */
  label: string;
}

/**
 * Batch loss at θ + u in train mode, like the step's own loss (BatchNorm on batch
 * statistics; the new running statistics are dropped). Borrows everything.
 */
function trialLoss(
  model: Model,
  params: Params,
  state: ModelState,
  x: JaxArray,
  y: JaxArray,
  u: Params,
): number {
  const fn = cachedJit(model, "trialLoss", () => {
    return (p: Params, s: ModelState, xb: JaxArray, yb: JaxArray) =>
      crossEntropy(model.apply(p, xb, { mode: "train", state: s }), yb);
  });
  const trial = applyUpdatesCompiled(refTree(params), refTree(u));
  return takeScalar(fn(trial, refTree(state), x.ref, y.ref) as JaxArray);
}

function isTransform(x: unknown): x is GradientTransformation {
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
  transform: GradientTransformation;
  learningRateAt: (step: number) => number;
  label: string;
  dispose: () => void;
} {
  const fuse = o.fuse ?? true;
  if (!isTransform(o.optimizer)) {
    const customLink = o.controller !== undefined && isTransform(o.controller);
    const built = buildOptimizer(
      o.optimizer,
      customLink ? undefined : (o.controller as ControllerSpec | undefined),
    );
    const suffix = customLink ? (o.controller as GradientTransformation) : built.suffix;
    const label = customLink ? `${built.label} + custom` : built.label;
    if (!fuse) {
      const transform = suffix === null ? built.prefix : chain(built.prefix, suffix);
      return { transform, learningRateAt: built.learningRateAt, label, dispose: () => {} };
    }
    const fused = jitChain(built.prefix, suffix);
    return {
      transform: fused,
      learningRateAt: built.learningRateAt,
      label,
      dispose: () => fused.dispose(),
    };
  }
  const transform = o.controller
    ? chain(o.optimizer, o.controller as GradientTransformation)
    : o.optimizer;
  return {
    transform,
    learningRateAt: () => Number.NaN,
    label: "custom chain",
    dispose: () => {},
  };
}

/**
 * Trains `model` and returns its history. Deterministic for a seed: the same options give a
 * bit-identical history on the same machine.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  checkOptions(options);
  await initEngine();
  const { model, data } = options;
  const { train: trainSet, test: testSet } = data;
  const dtype = model.config.dtype;
  const seed = options.seed ?? 0;
  const evalEvery = options.evalEvery ?? 10;
  const probeOpts = options.probe ?? {};
  const probeEvery = probeOpts.every ?? 1;
  const { transform, learningRateAt, label, dispose: disposeChain } = resolveChain(options);
  const estimator = new RadiusEstimator(trainSet.n, {
    labels: trainSet.y,
    ...probeOpts,
    seed: probeOpts.seed ?? seed,
  });
  const referenceEstimator = probeOpts.reference
    ? new RadiusEstimator(trainSet.n, {
        ...probeOpts.reference,
        seed: probeOpts.reference.seed ?? seed,
      })
    : null;
  const directional: DirectionalOptions = {
    method: probeOpts.method ?? "jvp",
    chunk: probeOpts.chunk,
  };

  const init = model.init(seed);
  let params: Params = init.params;
  let state: ModelState = init.state;
  let optState: OptState = transform.init(refTree(params));

  const xTrain = toDevice(trainSet.x, [trainSet.n, trainSet.d], dtype);
  const xTest = toDevice(testSet.x, [testSet.n, testSet.d], dtype);
  const fullBatch = options.batchSize === "full";
  const batchSize = fullBatch ? trainSet.n : ((options.batchSize as number | undefined) ?? 64);
  const allRows = Int32Array.from({ length: trainSet.n }, (_, i) => i);
  const yTrainFull = fullBatch ? labelsToDevice(trainSet.y) : null;
  const batches = fullBatch
    ? null
    : batchIterator(trainSet, { batchSize, seed: seed + 1, dropLast: false });

  const history: StepRecord[] = [];
  let skipped = 0;
  let last = { accuracy: Number.NaN, loss: Number.NaN };

  try {
    for (let step = 0; step < options.steps; step++) {
      const t0 = performance.now();
      let referenceMs = 0;
      let rows: Int32Array;
      let xb: JaxArray;
      let yb: JaxArray;
      if (fullBatch) {
        rows = allRows;
        xb = xTrain.ref;
        yb = yTrainFull!.ref;
      } else {
        const b = batches!.next().value!;
        rows = b.indices;
        xb = toDevice(b.x, [b.size, trainSet.d], dtype);
        yb = labelsToDevice(b.y);
      }

      const lg = lossAndGrad(model, params, state, xb, yb);
      const gradNorm = lg.gradNorm;
      const record: StepRecord = {
        step,
        loss: lg.loss,
        batchAccuracy: lg.accuracy,
        tau: 0,
        rhoA: Number.NaN,
        r: Number.NaN,
        effectiveLearningRate: learningRateAt(step),
        skipped: false,
        wallMs: 0,
      };

      if (!Number.isFinite(lg.loss) || !Number.isFinite(gradNorm)) {
        // Never apply a step computed from non-finite numbers: it would poison the
        // parameters and the optimizer's moments alike.
        disposeTree(lg.grads);
        disposeTree(lg.state);
        record.skipped = true;
        record.effectiveLearningRate = 0;
        skipped++;
      } else {
        disposeTree(state);
        state = lg.state;

        // The probe closes over this step's batch and parameters; the controller (if any)
        // calls it along its proposed update, otherwise telemetry calls it after the chain.
        let measured: (RadiusReport & ControllerRadius) | null = null;
        // Device samples for a probe: the resident training split, this step's batch, or
        // the requested rows uploaded once (caller disposes).
        const samplesFor = (indices: Int32Array | null): JaxArray =>
          indices === null
            ? xTrain.ref
            : indices === rows
              ? xb.ref
              : toDevice(gatherRows(trainSet, indices), [indices.length, trainSet.d], dtype);
        // Output-logit slopes along the unit direction: a is linear in the direction, so
        // a(p/‖p‖) = a(p)/‖p‖.
        const outputSlopes = (p: Params, norm: number, x: JaxArray): ProbeResult => {
          const out = directionalLogitDerivatives(model, params, state, p, x, directional);
          for (let i = 0; i < out.a.length; i++) out.a[i] /= norm;
          return out;
        };
        const radius: RadiusCallback = (p: ArrayTree, norm: number, kind: RadiusKind) => {
          const direction = p as Params;
          const all = kind === "all" && hasInternals(model);
          let internal = {
            rhoAttention: Number.POSITIVE_INFINITY,
            rhoFfn: Number.POSITIVE_INFINITY,
          };
          const probe = (indices: Int32Array | null): ProbeResult => {
            const x = samplesFor(indices);
            try {
              if (all) {
                const net = probeNetwork(model, params, state, direction, norm, x, directional);
                internal = net;
                probeOpts.onProbe?.(step, net.output, indices);
                return net.output;
              }
              const out = outputSlopes(direction, norm, x);
              probeOpts.onProbe?.(step, out, indices);
              return out;
            } finally {
              x.dispose();
            }
          };
          const report = estimator.estimate(probe, rows);
          // Telemetry keeps ρ_a; the controller gets the radius `probe.drive` asks for.
          const smallest = (output: number): [string, number] =>
            (
              [
                ["output", output],
                ["attention", internal.rhoAttention],
                ["ffn", internal.rhoFfn],
              ] as [string, number][]
            ).reduce((a, b) => (b[1] < a[1] ? b : a));
          const [binding, rho] = smallest(report.rhoA);
          measured = { ...report, rho, binding };
          if (report.driven === report.rhoA) return { rho, binding };
          const [drivenBinding, driven] = smallest(report.driven);
          return { rho: driven, binding: drivenBinding };
        };
        let control: ControlReport | null = null;
        let proposedNorm: number | null = null;
        const onControl = (r: ControlReport) => {
          control = r;
        };

        // Loss-aware links (Armijo, Polyak: optim/loss-extra.ts) need the batch loss at trial
        // points and ⟨∇f, u⟩; the gradient is kept for that by one more reference (no copy).
        const gradsForDot = refTree(lg.grads);
        const lossExtra: LossExtra = {
          loss: lg.loss,
          gradNorm,
          lossAt: (u) => trialLoss(model, params, state, xb, yb, u as Params),
          gradDot: (u) => takeScalar(treeVdot(gradsForDot, u)),
        };
        const [updates, nextOpt] = transform.update(lg.grads, optState, refTree(params), {
          radius,
          onControl,
          onUpdateNorm: (n: number) => {
            proposedNorm = n;
          },
          ...lossExtra,
        });
        disposeTree(gradsForDot);
        optState = nextOpt;
        // τ without another pass over the update when the chain already measured it.
        const reported = control as ControlReport | null;
        const tau =
          reported !== null ? reported.tau : (proposedNorm ?? treeGlobalNormHost(updates));
        if (!Number.isFinite(tau)) {
          disposeTree(updates);
          record.skipped = true;
          record.effectiveLearningRate = 0;
          skipped++;
        } else {
          const wantProbe = probeEvery > 0 && step % probeEvery === 0;
          if (measured === null && wantProbe && tau > 0) radius(updates, tau, "output");
          const referenceEvery = probeOpts.reference?.every ?? 1;
          if (referenceEstimator !== null && tau > 0 && step % referenceEvery === 0) {
            const t1 = performance.now();
            const reference = referenceEstimator.estimate((indices) => {
              const x = samplesFor(indices);
              try {
                return outputSlopes(updates as Params, tau, x);
              } finally {
                x.dispose();
              }
            }, rows);
            record.rhoReference = reference.rhoA;
            referenceMs = performance.now() - t1;
          }
          params = applyUpdatesCompiled(params, updates);
          record.tau = tau;
          const m = measured as (RadiusReport & ControllerRadius) | null;
          if (m !== null) {
            record.rhoA = m.rho;
            record.r = tau / m.rho;
            record.binding = m.binding;
            if (m.rhoStar !== undefined) record.rhoStar = m.rhoStar;
            if (m.rhoTop2 !== undefined) record.rhoTop2 = m.rhoTop2;
          }
          const c = control as ControlReport | null;
          if (c !== null) {
            record.effectiveLearningRate =
              c.controller === "rhoSet" ? c.scale : learningRateAt(step) * c.scale;
          }
        }
      }
      xb.dispose();
      yb.dispose();
      record.wallMs = performance.now() - t0 - referenceMs;

      const isLast = step === options.steps - 1;
      if (isLast || (evalEvery > 0 && (step + 1) % evalEvery === 0)) {
        const ev = evaluate(model, params, state, xTest, testSet.y);
        record.testAccuracy = ev.accuracy;
        record.testLoss = ev.loss;
        last = { accuracy: ev.accuracy, loss: ev.loss };
        options.onEval?.(record, params, state);
      }
      history.push(record);
      options.onStep?.(record);
    }
  } finally {
    xTrain.dispose();
    xTest.dispose();
    yTrainFull?.dispose();
    tree.dispose(optState);
    disposeChain();
  }

  return {
    history,
    params,
    state,
    skippedSteps: skipped,
    finalTestAccuracy: last.accuracy,
    finalTestLoss: last.loss,
    label,
  };
}
