/**
 * One training step as named stages over a typed context:
 *
 *     drawBatch → computeGradient → propose (optimizer proposes p; the controller link, if
 *     any, probes the radius along p and scales it) → measureRadius (telemetry when no
 *     controller asked) → measureReference → applyStep → recordStep
 *
 * Each stage is a plain function of a {@link RunContext} (what lasts the whole run) and the
 * values earlier stages produced; the step's arrays belong to a {@link Scope} released when
 * the step ends, so no stage counts references.
 */
import type { Batch as HostBatch } from "../data/batches.js";
import { type Dataset, gatherRows } from "../data/dataset.js";
import { type DeviceArray, labelsToDevice, takeScalar, toDevice } from "../engine/arrays.js";
import { batchLoss, type LossAndGrad, lossAndGrad } from "../engine/compute.js";
import type { Holder, Scope } from "../engine/scope.js";
import { scoped } from "../engine/scope.js";
import { treeGlobalNormHost, treeVdot } from "../engine/tree.js";
import type { Model, ModelState, Params } from "../models/types.js";
import { applyBorrowed, updateBorrowed } from "../optim/combine.js";
import {
  bindingRadius,
  type ControlReport,
  type RadiusCallback,
  type RadiusKind,
} from "../optim/controllers.js";
import type { GradientTransformation, OptState, TrainingExtra } from "../optim/types.js";
import {
  type DirectionalOptions,
  directionalLogitDerivatives,
  type FfnQuantileOptions,
} from "../probe/directional.js";
import { hasInternals, probeNetwork } from "../probe/network.js";
import type { ProbeResult, RadiusEstimator, RadiusOptions, RadiusReport } from "../probe/radius.js";
import type { StepRecord } from "./record.js";

/** What every step of a run reads: fixed for the run, except the three holders. */
export interface RunContext {
  model: Model;
  trainSet: Dataset;
  /** The training split on the device, [n, d]. */
  xTrain: DeviceArray;
  /** The whole training split's labels on the device (full-batch runs only). */
  yTrain: DeviceArray | null;
  /** Mini-batches (null for full-batch runs). */
  batches: Generator<HostBatch, void, void> | null;
  /** Every row index of the training split, in order (the full batch). */
  allRows: Int32Array;
  transform: GradientTransformation<TrainingExtra>;
  learningRateAt: (step: number) => number;
  estimator: RadiusEstimator;
  referenceEstimator: RadiusEstimator | null;
  directional: DirectionalOptions & FfnQuantileOptions;
  probe: {
    every: number;
    onProbe?: (step: number, result: ProbeResult, rows: Int32Array | null) => void;
    reference?: RadiusOptions & { every?: number };
  };
  params: Holder<Params>;
  state: Holder<ModelState>;
  optState: Holder<OptState>;
}

/** This step's samples on the device (owned by the step's scope). */
export interface Batch {
  /** Training-split rows of the batch. */
  rows: Int32Array;
  x: DeviceArray;
  y: DeviceArray;
}

/** A radius measurement along a direction, as the telemetry keeps it. */
export interface RadiusMeasurement {
  report: RadiusReport;
  /** Internal radii, when the all-radii probe measured them. */
  internal: { rhoAttention: number; rhoFfn: number } | null;
  /**
   * The smallest radius the controller asked for — min(ρ_out, ρ_attn, ρ_ffn), min(ρ_out, ρ_attn)
   * for "output-attention", ρ_a alone without internals — and which binds.
   */
  rho: number;
  binding: string;
}

/** What the optimizer chain proposed, and what its controller link saw. */
export interface Proposal {
  /** The update to apply (owned by the step's scope). */
  updates: Params;
  /** τ = ‖updates‖. */
  tau: number;
  control: ControlReport | null;
  /** The radius the controller asked for along the update (null when none asked). */
  measured: RadiusMeasurement | null;
}

/** Stage 1: this step's batch. */
export function drawBatch(run: RunContext, scope: Scope): Batch {
  if (run.batches === null) return { rows: run.allRows, x: run.xTrain, y: run.yTrain! };
  const b = run.batches.next().value!;
  const d = run.trainSet.d;
  return {
    rows: b.indices,
    x: scope.own(toDevice(b.x, [b.size, d], run.model.config.dtype)),
    y: scope.own(labelsToDevice(b.y)),
  };
}

/** Stage 2: loss, accuracy and gradient on the batch (gradient and new state owned by `scope`). */
export function computeGradient(run: RunContext, batch: Batch, scope: Scope): LossAndGrad {
  const lg = lossAndGrad(run.model, run.params.get(), run.state.get(), batch.x, batch.y);
  scope.own(lg.grads);
  return lg;
}

/** The smallest of the output radius and the internal radii `kind` asks for, and its name. */
function smallestRadius(
  kind: RadiusKind,
  output: number,
  internal: RadiusMeasurement["internal"],
): [binding: string, rho: number] {
  if (internal === null) return ["output", output];
  return bindingRadius(kind, {
    output,
    attention: internal.rhoAttention,
    ffn: internal.rhoFfn,
  });
}

/**
 * Output-logit slopes along the unit direction over `x`: a is linear in the direction, so
 * a(p/‖p‖) = a(p)/‖p‖.
 */
function outputSlopes(
  run: RunContext,
  p: Params,
  norm: number,
  x: DeviceArray,
  logits: boolean,
): ProbeResult {
  const { model, params, state, directional } = run;
  const opts = logits ? directional : { ...directional, logits };
  const out = directionalLogitDerivatives(model, params.get(), state.get(), p, x, opts);
  for (let i = 0; i < out.a.length; i++) out.a[i] /= norm;
  return out;
}

/**
 * Whether a probe's logits are read: by ρ*, by the top-2 radius, or by `onProbe`. Without
 * them FD evaluates θ ± εv only, two forward passes instead of three.
 */
function readsLogits(estimator: RadiusEstimator, onProbe: unknown): boolean {
  return estimator.exact || estimator.drive !== "rhoA" || onProbe !== undefined;
}

/** The device samples of a probe: the resident split, this step's batch, or an upload. */
function samplesFor(run: RunContext, batch: Batch, indices: Int32Array | null, scope: Scope) {
  if (indices === null) return run.xTrain;
  if (indices === batch.rows) return batch.x;
  const { trainSet } = run;
  const x = gatherRows(trainSet, indices);
  return scope.own(toDevice(x, [indices.length, trainSet.d], run.model.config.dtype));
}

/**
 * Stage 3a, probe and radius: the radius along a direction over the probed set, with the
 * internal radii when `kind` is "all" and the model has them. Calls `onMeasured` with what
 * the telemetry keeps and returns what the controller asked for (`probe.drive`).
 */
export function measureRadius(
  run: RunContext,
  batch: Batch,
  step: number,
  direction: Params,
  norm: number,
  kind: RadiusKind,
): { measurement: RadiusMeasurement; driven: { rho: number; binding: string } } {
  const all = kind !== "output" && hasInternals(run.model);
  const logits = readsLogits(run.estimator, run.probe.onProbe);
  let internal: RadiusMeasurement["internal"] = null;
  const probe = (indices: Int32Array | null): ProbeResult =>
    scoped((scope) => {
      const x = samplesFor(run, batch, indices, scope);
      let out: ProbeResult;
      if (all) {
        const { model, params, state, directional } = run;
        const net = probeNetwork(model, params.get(), state.get(), direction, norm, x, directional);
        internal = { rhoAttention: net.rhoAttention, rhoFfn: net.rhoFfn };
        out = net.output;
      } else out = outputSlopes(run, direction, norm, x, logits);
      run.probe.onProbe?.(step, out, indices);
      return out;
    });
  const report = run.estimator.estimate(probe, batch.rows);
  const [binding, rho] = smallestRadius(kind, report.rhoA, internal);
  const measurement: RadiusMeasurement = { report, internal, rho, binding };
  if (report.driven === report.rhoA) return { measurement, driven: { rho, binding } };
  const [drivenBinding, driven] = smallestRadius(kind, report.driven, internal);
  return { measurement, driven: { rho: driven, binding: drivenBinding } };
}

/**
 * Stage 3, the optimizer proposes p and the controller link (if any) scales it: one call of
 * the chain with the typed {@link TrainingExtra} (radius callback, loss keys for line
 * searches, listeners). The updates and the gradient are owned by `scope`.
 */
export function propose(
  run: RunContext,
  batch: Batch,
  lg: LossAndGrad,
  step: number,
  scope: Scope,
): Proposal {
  let measured: RadiusMeasurement | null = null;
  let control: ControlReport | null = null;
  let proposedNorm: number | null = null;
  const radius: RadiusCallback = (p, norm, kind) => {
    const m = measureRadius(run, batch, step, p as Params, norm, kind);
    measured = m.measurement;
    return m.driven;
  };
  const params = run.params.get();
  const extra: TrainingExtra = {
    radius,
    onControl: (r) => {
      control = r;
    },
    onUpdateNorm: (n) => {
      proposedNorm = n;
    },
    loss: lg.loss,
    gradNorm: lg.gradNorm,
    grad: lg.grads,
    learningRate: run.learningRateAt(step),
    lossAt: (u) =>
      scoped((s) =>
        batchLoss(
          run.model,
          s.own(applyBorrowed(params, u as Params)),
          run.state.get(),
          batch.x,
          batch.y,
        ),
      ),
    gradDot: (u) => takeScalar(treeVdot(lg.grads, u)),
  };
  const [updates, nextState] = updateBorrowed(
    run.transform,
    lg.grads,
    run.optState.get(),
    params,
    extra,
  );
  run.optState.set(nextState);
  scope.own(updates);
  // τ without another pass over the update when the chain already measured it.
  const reported = control as ControlReport | null;
  const tau = reported !== null ? reported.tau : (proposedNorm ?? treeGlobalNormHost(updates));
  return { updates, tau, control: reported, measured };
}

/** Stage 5: the output radius over `probe.reference`'s sample set along the applied step, with its time. */
export function measureReference(
  run: RunContext,
  batch: Batch,
  proposal: Proposal,
): { rho: number; ms: number } | null {
  const { referenceEstimator } = run;
  if (referenceEstimator === null) return null;
  const t0 = performance.now();
  const report = referenceEstimator.estimate(
    (indices) =>
      scoped((scope) =>
        outputSlopes(
          run,
          proposal.updates,
          proposal.tau,
          samplesFor(run, batch, indices, scope),
          readsLogits(referenceEstimator, undefined),
        ),
      ),
    batch.rows,
  );
  return { rho: report.rhoA, ms: performance.now() - t0 };
}

/** Stage 6: θ ← θ + p. */
export function applyStep(run: RunContext, proposal: Proposal): void {
  run.params.set(applyBorrowed(run.params.get(), proposal.updates));
}

/** A record for a step before anything but the loss is known. */
export function startRecord(run: RunContext, step: number, lg: LossAndGrad): StepRecord {
  return {
    step,
    loss: lg.loss,
    batchAccuracy: lg.accuracy,
    tau: 0,
    rhoA: Number.NaN,
    r: Number.NaN,
    effectiveLearningRate: run.learningRateAt(step),
    skipped: false,
    wallMs: 0,
  };
}

/** Stage 7, telemetry of an applied step. */
export function recordStep(
  run: RunContext,
  record: StepRecord,
  proposal: Proposal,
  measured: RadiusMeasurement | null,
): void {
  record.tau = proposal.tau;
  if (measured !== null) {
    const { report, internal } = measured;
    record.rhoA = report.rhoA;
    record.r = proposal.tau / measured.rho;
    record.binding = measured.binding;
    if (internal !== null) {
      record.rhoNet = measured.rho;
      record.rhoAttention = internal.rhoAttention;
      record.rhoFfn = internal.rhoFfn;
    }
    if (report.rhoStar !== undefined) record.rhoStar = report.rhoStar;
    if (report.rhoTop2 !== undefined) record.rhoTop2 = report.rhoTop2;
  }
  const c = proposal.control;
  if (c !== null) {
    record.effectiveLearningRate =
      c.controller === "rhoSet" ? c.scale : run.learningRateAt(record.step) * c.scale;
  }
}

/** Marks a step as skipped (non-finite numbers: nothing was applied). */
export function skipRecord(record: StepRecord): void {
  record.skipped = true;
  record.effectiveLearningRate = 0;
}
