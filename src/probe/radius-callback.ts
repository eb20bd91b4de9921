/**
 * The radius for a hand-written training loop: a {@link RadiusProbe} turns a model, its
 * current params/state and a sample set into the {@link RadiusCallback} that the
 * ρ-controller links (`rhoClip`, `rhoSet`, `allRadii`) read from `extra.radius`.
 *
 * It speaks the same vocabulary as `train()` (`sampleSet`, `aggregate`, `drive`, `method`,
 * `chunk`) and is built only from the public probe functions, so a user's own loop gets the
 * same radii as the built-in one. It takes care of the easy-to-miss normalisation: the
 * controllers pass the unnormalised update `p` and its length, and the radius must be for
 * the unit direction, `a(p/‖p‖) = a(p)/‖p‖`.
 */

import { type Dataset, gatherRows } from "../data/dataset.js";
import { type DeviceArray, toDevice } from "../engine/arrays.js";
import { Resident, type Scope, scoped } from "../engine/scope.js";
import type { Model, ModelState, Params } from "../models/types.js";
import {
  bindingRadius,
  type ControllerRadius,
  type RadiusCallback,
  type RadiusKind,
} from "../optim/controllers.js";
import {
  type DirectionalOptions,
  directionalLogitDerivatives,
  type FfnQuantileOptions,
  ProbeError,
} from "./directional.js";
import { hasInternals, probeNetwork } from "./network.js";
import {
  type ProbeResult,
  RadiusEstimator,
  type RadiusOptions,
  type RadiusReport,
} from "./radius.js";

/** Options of a {@link RadiusProbe}: which samples, how reduced, how differentiated. */
export interface RadiusProbeOptions extends RadiusOptions, FfnQuantileOptions {
  /** Exact forward-mode JVP (`"jvp"`, default) or central finite differences (`"fd"`). */
  method?: DirectionalOptions["method"];
  /** Samples per device call (bounds memory on large sample sets). */
  chunk?: number;
  /** BatchNorm statistics of the probed function (`mode` of {@link DirectionalOptions}). */
  mode?: DirectionalOptions["mode"];
  /** FD only: the length moved in parameter space (`fdStep` of {@link DirectionalOptions}). */
  fdStep?: number;
  /** Dtype the probe computes in (`dtype` of {@link DirectionalOptions}; default the model's). */
  dtype?: DirectionalOptions["dtype"];
}

/** What the probe measured the last time a controller asked it. */
export interface RadiusMeasurement extends RadiusReport {
  /** The radius handed to the controller (ρ_a, ρ* or top-2 per `drive`; all-radii: the minimum). */
  rho: number;
  /** Which radius bound it was: `"output"`, `"attention"` or `"ffn"`. */
  binding: string;
  /** What the controller asked for. */
  kind: RadiusKind;
  /** Length `‖p‖` of the proposed update the radius was measured along. */
  proposedNorm: number;
}

/**
 * Builds radius callbacks for a hand-written loop. Create one per training run (it keeps
 * the window history, the bottleneck buffer and the random-subset stream, exactly like
 * `train()` does), then pass `probe.at(params, state, batchRows)` as `extra.radius` to the
 * optimizer chain's `update` every step:
 *
 * ```ts
 * const probe = new RadiusProbe(model, trainSet, { sampleSet: "train" });
 * const [updates, next] = updateBorrowed(optimizer, grads, optState, params, {
 *   radius: probe.at(params, state, batch.indices),
 * });
 * ```
 *
 * Ownership: `params` and `state` are BORROWED and must stay alive until `update` returns.
 * The probe keeps the sample set on the device once the whole set has been probed; call
 * {@link release} when the run is over.
 */
export class RadiusProbe {
  private readonly estimator: RadiusEstimator;
  private readonly directional: DirectionalOptions & FfnQuantileOptions;
  /** The whole sample set on the device, uploaded by the first probe that needs it. */
  private readonly resident: Resident<DeviceArray>;
  private lastMeasurement: RadiusMeasurement | null = null;

  /**
   * @param model the model being trained.
   * @param samples the rows the sample set picks from (usually the training split); its
   *   labels feed `drive: "top2"`.
   */
  constructor(
    readonly model: Model,
    readonly samples: Dataset,
    options: RadiusProbeOptions = {},
  ) {
    if (samples.d !== model.config.inputDim) {
      throw new ProbeError(
        `RadiusProbe: model expects ${model.config.inputDim} features but the samples have ${samples.d}`,
      );
    }
    this.estimator = new RadiusEstimator(samples.n, { labels: samples.y, ...options });
    this.directional = {
      method: options.method ?? "jvp",
      chunk: options.chunk,
      mode: options.mode,
      fdStep: options.fdStep,
      dtype: options.dtype,
      ...(options.ffnQuantile === undefined ? {} : { ffnQuantile: options.ffnQuantile }),
      ...(options.ffnQuantileMethod === undefined
        ? {}
        : { ffnQuantileMethod: options.ffnQuantileMethod }),
    };
    this.resident = new Resident(() =>
      toDevice(samples.x, [samples.n, samples.d], model.config.dtype),
    );
    // Logits feed only ρ* and the top-2 radius; without them FD makes two passes, not three.
    if (!this.estimator.exact && this.estimator.drive === "rhoA") this.directional.logits = false;
  }

  /** What the last callback measured (null before the first call). */
  get last(): RadiusMeasurement | null {
    return this.lastMeasurement;
  }

  /**
   * The radius callback for one step at `params`/`state` (borrowed). `batch` holds the rows
   * of {@link samples} in this step's mini-batch; the sample sets `"batch"`, `{window}` and
   * `{bottleneck}` need it, `"train"` and `{random}` ignore it.
   */
  at(params: Params, state: ModelState, batch?: ArrayLike<number>): RadiusCallback {
    const rows = batch === undefined ? null : Int32Array.from(batch);
    if (rows !== null) {
      for (const r of rows) {
        if (!(r >= 0 && r < this.samples.n)) {
          throw new ProbeError(`RadiusProbe: batch row ${r} is outside 0..${this.samples.n - 1}`);
        }
      }
    }
    return (p, norm, kind): ControllerRadius => {
      const set = this.estimator.sampleSet;
      const needsBatch = set !== "train" && !(typeof set === "object" && "random" in set);
      if (needsBatch && rows === null) {
        throw new ProbeError(
          `RadiusProbe: sample set ${JSON.stringify(set)} needs the batch rows: probe.at(params, state, batchRows)`,
        );
      }
      return this.measure(params, state, p as Params, norm, kind, rows ?? new Int32Array(0));
    };
  }

  /** Frees the device copy of the sample set (the probe can still be used; it re-uploads). */
  release(): void {
    this.resident.release();
  }

  /** Device samples for a probe: the resident whole set (borrowed), or some rows (owned by `scope`). */
  private samplesFor(indices: Int32Array | null, scope: Scope): DeviceArray {
    if (indices === null) return this.resident.get();
    const { samples, model } = this;
    const rows = gatherRows(samples, indices);
    return scope.own(toDevice(rows, [indices.length, samples.d], model.config.dtype));
  }

  private measure(
    params: Params,
    state: ModelState,
    direction: Params,
    norm: number,
    kind: RadiusKind,
    rows: Int32Array,
  ): ControllerRadius {
    if (!(norm > 0) || !Number.isFinite(norm)) {
      throw new ProbeError(`RadiusProbe: the update norm must be positive and finite, got ${norm}`);
    }
    const all = kind !== "output" && hasInternals(this.model);
    let internal = { rhoAttention: Number.POSITIVE_INFINITY, rhoFfn: Number.POSITIVE_INFINITY };
    const probe = (indices: Int32Array | null): ProbeResult =>
      scoped((scope) => {
        const x = this.samplesFor(indices, scope);
        if (all) {
          const net = probeNetwork(this.model, params, state, direction, norm, x, this.directional);
          internal = net;
          return net.output;
        }
        const out = directionalLogitDerivatives(
          this.model,
          params,
          state,
          direction,
          x,
          this.directional,
        );
        // The derivative is linear in the direction: slopes along p/‖p‖ are a(p)/‖p‖.
        for (let i = 0; i < out.a.length; i++) out.a[i] /= norm;
        return out;
      });
    const report = this.estimator.estimate(probe, rows);
    const [binding, rho] = bindingRadius(kind, {
      output: report.driven,
      attention: internal.rhoAttention,
      ffn: internal.rhoFfn,
    });
    this.lastMeasurement = { ...report, rho, binding, kind, proposedNorm: norm };
    return { rho, binding };
  }
}
