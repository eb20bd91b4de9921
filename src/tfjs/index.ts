/**
 * softmax-ghosts for TensorFlow.js (`softmax-ghosts/tfjs`; needs the optional peer
 * dependency `@tensorflow/tfjs`): the convergence radius of a `tf.LayersModel` along a
 * direction in its trainable weights, `r = τ/ρ_a` telemetry as a `model.fit` callback, and
 * ρ-clip for a hand-written loop with any tf.js optimizer.
 *
 * tf.js has no forward-mode derivative, so the directional logit derivatives `a = J_z·v`
 * come from a fourth-order central difference on the weights,
 *
 *     a ≈ [8(z(θ+hv̂) − z(θ−hv̂)) − (z(θ+2hv̂) − z(θ−2hv̂))] / (12h),   v̂ = v/‖v‖,
 *
 * whose truncation error is O(h⁴) and rounding error O(u·|z|/h) (u = 2⁻²⁴, tf.js computes in
 * float32): the two balance near h ≈ u^{1/5} ≈ 0.036, scaled by max(1, ‖θ‖_∞) so the step stays
 * far above the rounding of the weights themselves. Against the exact float64 JVP of the same
 * network this agrees to ~1e-5 relative in ρ_a (test/tfjs/tfjs.test.ts).
 *
 * A model whose last layer applies softmax is probed on log-probabilities: they differ from the
 * logits by a per-sample constant, which changes neither the spreads nor the ghosts.
 */
import * as tf from "@tensorflow/tfjs";
import {
  type ProbeResult,
  RadiusEstimator,
  type RadiusOptions,
  type RadiusReport,
} from "../probe/radius.js";

/** Options of {@link TfRadiusProbe}. */
export interface TfProbeOptions extends Omit<RadiusOptions, "labels"> {
  /** Finite-difference step along the unit direction (default `u^{1/5}·max(1, ‖θ‖_∞)`). */
  eps?: number;
  /**
   * What the model outputs: `"logits"`, `"probabilities"` (probed as log-probabilities), or
   * `"auto"` (default): probabilities when the last layer's activation is softmax.
   */
  output?: "auto" | "logits" | "probabilities";
  /** Labels of the samples by row (for `drive: "top2"`). */
  labels?: ArrayLike<number>;
  /** Samples per `predict` call (default 1024). */
  chunk?: number;
}

/** What one ρ-clip step did. */
export interface TfClipReport {
  /** Length of the update the optimizer proposed, ‖θ₁ − θ₀‖. */
  proposedNorm: number;
  /** Radius ρ along the proposed update. */
  rho: number;
  /** Factor the update was scaled by, `min(1, rMax·ρ/‖p‖)`. */
  scale: number;
  /** Length of the update applied. */
  tau: number;
  /** `tau / rho`. */
  r: number;
}

/** One `model.fit` batch seen by {@link rTelemetry}. */
export interface TfStepRecord {
  epoch: number;
  batch: number;
  /** Length of the applied update. */
  tau: number;
  /** ρ_a along it (at the weights before the update). */
  rhoA: number;
  /** τ/ρ_a. */
  r: number;
  /** Loss the fit loop reported for the batch. */
  loss?: number;
}

/** Unit roundoff of float32. */
const U32 = 2 ** -24;

function lastActivation(model: tf.LayersModel): string | undefined {
  const last = model.layers[model.layers.length - 1];
  const config = last?.getConfig() as { activation?: unknown } | undefined;
  return typeof config?.activation === "string" ? config.activation : undefined;
}

/**
 * The trainable weights of a model, as host copies (Float32Array per variable): a snapshot a
 * probe can perturb and restore without keeping tensors alive.
 */
function snapshot(model: tf.LayersModel): Float32Array[] {
  return model.trainableWeights
    .map((w) => w.read().dataSync() as Float32Array)
    .map((d) => d.slice());
}

function writeWeights(model: tf.LayersModel, values: Float32Array[]): void {
  model.trainableWeights.forEach((w, i) => {
    const t = tf.tensor(values[i]!, w.shape as number[], "float32");
    w.write(t);
    t.dispose();
  });
}

/** θ + c·d for host weight lists. */
function axpy(theta: Float32Array[], c: number, d: Float32Array[]): Float32Array[] {
  return theta.map((t, i) => {
    const out = new Float32Array(t.length);
    const di = d[i]!;
    for (let j = 0; j < t.length; j++) out[j] = t[j]! + c * di[j]!;
    return out;
  });
}

function norm(d: Float32Array[]): number {
  let s = 0;
  for (const a of d) for (const v of a) s += v * v;
  return Math.sqrt(s);
}

/**
 * Radius of a `tf.LayersModel` along directions in its trainable weights, over a sample set
 * drawn from `x` with `train()`'s vocabulary (`"train"` = all rows of `x`, `"batch"`,
 * `{random: N}`, `{window: W}`, `{bottleneck: B}`). One instance per run: it keeps the window
 * history and the bottleneck buffer. The model's weights are restored after every probe.
 */
export class TfRadiusProbe {
  private readonly estimator: RadiusEstimator;
  private readonly n: number;
  private readonly logProbabilities: boolean;

  /** @param x samples, shape [n, ...inputShape] (borrowed: keep it alive while probing). */
  constructor(
    readonly model: tf.LayersModel,
    readonly x: tf.Tensor,
    private readonly options: TfProbeOptions = {},
  ) {
    this.n = x.shape[0] ?? 0;
    this.estimator = new RadiusEstimator(this.n, options);
    const output = options.output ?? "auto";
    if (output !== "auto" && output !== "logits" && output !== "probabilities") {
      throw new RangeError(
        `output must be "auto", "logits" or "probabilities", got ${String(output)}`,
      );
    }
    this.logProbabilities =
      output === "probabilities" || (output === "auto" && lastActivation(model) === "softmax");
  }

  /** Logits (or log-probabilities) of `rows` (null = all) at the current weights, host row-major. */
  private outputs(rows: Int32Array | null): { z: Float32Array; k: number } {
    const chunk = this.options.chunk ?? 1024;
    const total = rows === null ? this.n : rows.length;
    const parts: Float32Array[] = [];
    let k = 0;
    for (let start = 0; start < total; start += chunk) {
      const end = Math.min(total, start + chunk);
      const out = tf.tidy(() => {
        const xb =
          rows === null
            ? this.x.slice(start, end - start)
            : tf.gather(this.x, tf.tensor1d(rows.subarray(start, end), "int32"));
        const y = this.model.predict(xb) as tf.Tensor;
        return this.logProbabilities ? tf.log(y) : y;
      });
      k = out.shape[out.shape.length - 1]!;
      parts.push(out.dataSync() as Float32Array);
      out.dispose();
    }
    const z = new Float32Array(total * k);
    let off = 0;
    for (const p of parts) {
      z.set(p, off);
      off += p.length;
    }
    return { z, k };
  }

  /**
   * Slopes `a` along the unit direction `v/‖v‖` and outputs at weights `theta` for `rows`
   * (null = all of `x`). The model's weights are left at `theta`.
   */
  slopesAt(theta: Float32Array[], v: Float32Array[], rows: Int32Array | null): ProbeResult {
    const vNorm = norm(v);
    if (!(vNorm > 0) || !Number.isFinite(vNorm)) {
      throw new RangeError(`direction must have a positive finite norm, got ${vNorm}`);
    }
    let maxAbs = 0;
    for (const t of theta) for (const w of t) maxAbs = Math.max(maxAbs, Math.abs(w));
    const h = this.options.eps ?? U32 ** 0.2 * Math.max(1, maxAbs);
    const unit = v.map((d) => d.map((e) => e / vNorm));
    const at = (c: number) => {
      writeWeights(this.model, c === 0 ? theta : axpy(theta, c * h, unit));
      return this.outputs(rows);
    };
    const p1 = at(1);
    const m1 = at(-1);
    const p2 = at(2);
    const m2 = at(-2);
    const z0 = at(0);
    const k = z0.k;
    const a = new Float64Array(z0.z.length);
    for (let i = 0; i < a.length; i++) {
      a[i] = (8 * (p1.z[i]! - m1.z[i]!) - (p2.z[i]! - m2.z[i]!)) / (12 * h);
    }
    return { a, logits: Float64Array.from(z0.z), n: a.length / k, k };
  }

  /**
   * Radius at `theta` along `v` over the sample set; `batch` holds this step's rows of `x`
   * (needed by `"batch"`, `{window}` and `{bottleneck}`). Leaves the weights at `theta`.
   */
  radiusAt(theta: Float32Array[], v: Float32Array[], batch?: ArrayLike<number>): RadiusReport {
    const rows = batch === undefined ? new Int32Array(0) : Int32Array.from(batch);
    const set = this.estimator.sampleSet;
    if (batch === undefined && set !== "train" && !(typeof set === "object" && "random" in set)) {
      throw new RangeError(`sample set ${JSON.stringify(set)} needs the batch rows`);
    }
    return this.estimator.estimate((indices) => this.slopesAt(theta, v, indices), rows);
  }

  /**
   * Radius at the model's current weights along `direction` (one tensor per trainable
   * weight, in `model.trainableWeights` order; borrowed).
   */
  radius(direction: tf.Tensor[], batch?: ArrayLike<number>): RadiusReport {
    const weights = this.model.trainableWeights;
    if (direction.length !== weights.length) {
      throw new RangeError(
        `direction has ${direction.length} tensors but the model has ${weights.length} trainable weights`,
      );
    }
    direction.forEach((d, i) => {
      if (d.shape.join(",") !== weights[i]!.shape.join(",")) {
        throw new RangeError(
          `direction[${i}] has shape [${d.shape.join(", ")}], weight ${weights[i]!.name} has [${weights[i]!.shape.join(", ")}]`,
        );
      }
    });
    const v = direction.map((d) => Float32Array.from(d.dataSync() as ArrayLike<number>));
    return this.radiusAt(snapshot(this.model), v, batch);
  }
}

/**
 * ρ-clip for a hand-written tf.js loop: wraps the step that applies an update
 * (`() => optimizer.minimize(loss)`, or `optimizer.applyGradients(grads)`), measures the
 * radius along the update it made, and scales the update back to `τ = rMax·ρ` when it was
 * longer. The optimizer's own state (moments) is left as the optimizer made it, exactly as the
 * `rhoClip` link never touches the moments of the links before it.
 */
export class TfRhoClip {
  readonly probe: TfRadiusProbe;
  private readonly rMax: number;

  /** @param x the samples the radius is measured over (see {@link TfRadiusProbe}). */
  constructor(
    model: tf.LayersModel,
    x: tf.Tensor,
    options: TfProbeOptions & { rMax?: number } = {},
  ) {
    this.rMax = options.rMax ?? 1;
    if (!(this.rMax > 0) || !Number.isFinite(this.rMax)) {
      throw new RangeError(`rMax must be a positive finite number, got ${this.rMax}`);
    }
    this.probe = new TfRadiusProbe(model, x, options);
  }

  /** Runs `applyStep` (which updates the model's weights) and clips its update. */
  step(applyStep: () => unknown, batch?: ArrayLike<number>): TfClipReport {
    const model = this.probe.model;
    const before = snapshot(model);
    const result = applyStep();
    if (result instanceof tf.Tensor) result.dispose();
    const after = snapshot(model);
    const p = after.map((a, i) => a.map((v, j) => v - before[i]![j]!));
    const proposedNorm = norm(p);
    if (!(proposedNorm > 0)) {
      return { proposedNorm, rho: Number.POSITIVE_INFINITY, scale: 1, tau: proposedNorm, r: 0 };
    }
    const { rhoA: rho } = this.probe.radiusAt(before, p, batch);
    const scale = Math.min(1, (this.rMax * rho) / proposedNorm);
    writeWeights(model, scale < 1 ? axpy(before, scale, p) : after);
    const tau = scale * proposedNorm;
    return { proposedNorm, rho, scale, tau, r: tau / rho };
  }
}

/**
 * `r = τ/ρ_a` of every batch of `model.fit`, as a callback: `model.fit(x, y, {callbacks:
 * [telemetry.callback]})`. The radius is measured at the weights before each batch along the
 * update the batch applied, over `x` (sample-set options as for {@link TfRadiusProbe}; the
 * `"batch"` set is not available, `fit` does not say which rows a batch held).
 */
export function rTelemetry(
  model: tf.LayersModel,
  x: tf.Tensor,
  options: TfProbeOptions & { onRecord?: (record: TfStepRecord) => void } = {},
): { callback: tf.CustomCallback; history: TfStepRecord[] } {
  const probe = new TfRadiusProbe(model, x, options);
  const history: TfStepRecord[] = [];
  let before: Float32Array[] | null = null;
  let epoch = 0;
  const callback = new tf.CustomCallback({
    onEpochBegin: (e) => {
      epoch = e;
    },
    onBatchBegin: () => {
      before = snapshot(model);
    },
    onBatchEnd: (batch, logs) => {
      if (before === null) return;
      const after = snapshot(model);
      const p = after.map((a, i) => a.map((v, j) => v - before![i]![j]!));
      const tau = norm(p);
      const rhoA = tau > 0 ? probe.radiusAt(before, p).rhoA : Number.POSITIVE_INFINITY;
      writeWeights(model, after);
      const record: TfStepRecord = { epoch, batch, tau, rhoA, r: tau > 0 ? tau / rhoA : 0 };
      if (typeof logs?.loss === "number") record.loss = logs.loss;
      history.push(record);
      options.onRecord?.(record);
      before = null;
    },
  });
  return { callback, history };
}
