/**
 * One-step measurements, the run kind shared by the experiments that probe the loss along a
 * single direction (phase transition, random directions, temperature, theory): train a model
 * to a snapshot, pick a direction (normalised negative gradient or a seeded Gaussian),
 * measure the radius ρ_a along it, and sweep step lengths τ to see what one step of that
 * length does.
 *
 * Nothing here is a second implementation: the slopes and the set-level reduction are the
 * probe's (`directionalLogitDerivatives`, `RadiusEstimator`), the radius is the theory's
 * (`rhoAFromSpread`), the stepped forward pass is the engine's (`steppedLogitsHost`), the
 * training loop is `train()`, the full-set gradient and the seeded random direction are the
 * probe's (`fullGradient`, `seededUnitDirection`, shared with the explorer). What is here is
 * the normalising of directions and the bookkeeping of a sweep.
 *
 * Ownership follows `src/engine`: every function BORROWS its array arguments (params, state,
 * directions, device samples) and returns arrays the caller owns; lifetimes are kept by the
 * engine's `Scope`/`Holder`. The lending helpers keep that bookkeeping out of the experiments:
 * {@link atTrainedPoint} (and {@link withTrained}) frame a whole run, {@link withDirection}
 * and {@link alongGradient} lend a direction for one measurement and free it afterwards, so an
 * experiment never frees anything itself. Host results are plain numbers / typed arrays.
 *
 * @module
 */
import type { Dataset } from "softmax-ghosts/data";
import {
  type DeviceArray,
  evaluateLogits,
  type FloatDType,
  floatDtypeOf,
  Holder,
  initEngine,
  normTree,
  Scope,
  scaleTree,
  scoped,
  steppedLogitsHost,
  toDevice,
  treeLeaves,
  treeSize,
} from "softmax-ghosts/engine";
import type { Model, ModelState, Params } from "softmax-ghosts/models";
import type { OptimizerSpec } from "softmax-ghosts/optim";
import {
  type DirectionalOptions,
  directionalLogitDerivatives,
  type FullGradientOptions,
  fullGradient,
  type ProbeResult,
  RadiusEstimator,
  seededUnitDirection,
} from "softmax-ghosts/probe";
import { quantile, rhoAFromSpread, spreads as spreadsOf } from "softmax-ghosts/theory";
import { type ProbeOptions, type StepRecord, train } from "softmax-ghosts/train";
import { modelFor, runData } from "./training.js";
import type { DataSplit, RunContext } from "./types.js";

/** Raised for invalid one-step requests (empty grids, bad targets, zero gradients). */
export class OneStepError extends Error {
  override name = "OneStepError";
}

// ---------------------------------------------------------------------------------------------
// Samples on the device

/**
 * A labelled sample set already on the device: `x` is [n, inputDim] (owned by whoever made
 * it), `y` the host labels. Build one with {@link toSamples} to reuse the upload across many
 * calls.
 */
export type DeviceSamples = { x: DeviceArray; y: Int32Array };

/** What the functions below accept as a sample set: host data (uploaded per call) or device samples. */
export type SamplesLike = Dataset | DeviceSamples;

/** Device samples that own their upload: {@link OwnedSamples.release} frees it. */
export type OwnedSamples = DeviceSamples & {
  /** Frees `x` (a second call does nothing). */
  release(): void;
};

/** Uploads a data set once; `release()` the result when done. */
export function toSamples(ds: Dataset, dtype: FloatDType = "float32"): OwnedSamples {
  const upload = new Scope();
  const x = upload.own(toDevice(ds.x, [ds.n, ds.d], dtype));
  return { x, y: ds.y, release: () => upload.release() };
}

function isDeviceSamples(s: SamplesLike): s is DeviceSamples {
  return !(s.x instanceof Float64Array);
}

/** Borrowed device view of `s` plus a release function (frees only what was uploaded here). */
function borrowSamples(
  s: SamplesLike,
  dtype: FloatDType,
): { x: DeviceArray; y: Int32Array; release: () => void } {
  if (isDeviceSamples(s)) return { x: s.x, y: s.y, release: () => {} };
  const upload = new Scope();
  const x = upload.own(toDevice(s.x, [s.n, s.d], dtype));
  return { x, y: s.y, release: () => upload.release() };
}

function paramsDtype(params: Params): FloatDType {
  const first = treeLeaves(params)[0];
  if (first === undefined) throw new OneStepError("params tree is empty");
  return floatDtypeOf(first);
}

// ---------------------------------------------------------------------------------------------
// Training to a snapshot

/** A model state captured during training (its arrays belong to the {@link TrainedSnapshots}). */
export type Snapshot = {
  /** Optimizer steps applied when it was captured. */
  steps: number;
  testAccuracy: number;
  testLoss: number;
  params: Params;
  state: ModelState;
};

/** Options of {@link trainSnapshot}. */
export type SnapshotOptions = {
  model: Model;
  data: { train: Dataset; test: Dataset };
  optimizer: OptimizerSpec;
  steps: number;
  /** Mini-batch size or `"full"` (default 128). */
  batchSize?: number | "full";
  /** Seed of initialisation and batch order (default 0). */
  seed?: number;
  /**
   * Evaluate on the test split every this many steps (default: the whole run's last step
   * only, or every step when `targets`/`keepBest` need a trajectory).
   */
  evalEvery?: number;
  /**
   * Test accuracies to snapshot at: for each, the parameters at the first evaluation whose
   * test accuracy is ≥ the target (null if never reached).
   */
  targets?: number[];
  /** Also keep the parameters at the best test accuracy (earliest evaluation on ties). */
  keepBest?: boolean;
  /**
   * Radius telemetry during training (default `{every: 0}`: none, since no controller needs
   * it and probing every step would dominate the cost).
   */
  probe?: ProbeOptions;
  /** Completed fraction of the training run (0..1). */
  onProgress?: (fraction: number) => void;
};

/** What {@link trainSnapshot} returns: it owns every snapshot's arrays until {@link TrainedSnapshots.release}. */
export type TrainedSnapshots = {
  /** Parameters after the last step. */
  final: Snapshot;
  /** Per target (same order as `targets`): the first snapshot reaching it, or null. */
  targets: { target: number; snapshot: Snapshot | null }[];
  /** The best-test-accuracy snapshot when `keepBest` was asked for, else null. */
  best: Snapshot | null;
  /** The training loop's per-step telemetry. */
  history: StepRecord[];
  /** Frees every snapshot's arrays (a second call does nothing). */
  release(): void;
};

type SnapshotMeta = Omit<Snapshot, "params" | "state">;
type Weights = { params: Params; state: ModelState };

/**
 * Trains with {@link train} (no loop of its own) and returns the final parameters plus, on
 * request, snapshots at target test accuracies and at the best test accuracy. Deterministic
 * for a seed, like `train`.
 *
 * @throws {OneStepError} for targets outside (0, 1].
 */
export async function trainSnapshot(opts: SnapshotOptions): Promise<TrainedSnapshots> {
  const targets = opts.targets ?? [];
  for (const t of targets) {
    if (!(t > 0 && t <= 1)) throw new OneStepError(`target accuracy must be in (0, 1], got ${t}`);
  }
  const tracking = targets.length > 0 || opts.keepBest === true;
  const evalEvery = opts.evalEvery ?? (tracking ? 1 : 0);
  // The target snapshots and, at the end, the final and best ones; the best so far is
  // replaced as training improves, so it lives in a holder until then.
  const owner = new Scope();
  const found: (Snapshot | null)[] = targets.map(() => null);
  let bestMeta: SnapshotMeta | null = null;
  const bestWeights = new Holder<Weights>();
  const metaOf = (record: StepRecord): SnapshotMeta => ({
    steps: record.step + 1,
    testAccuracy: record.testAccuracy!,
    testLoss: record.testLoss!,
  });

  let result: Awaited<ReturnType<typeof train>>;
  try {
    result = await train({
      model: opts.model,
      data: opts.data,
      optimizer: opts.optimizer,
      steps: opts.steps,
      batchSize: opts.batchSize ?? 128,
      seed: opts.seed ?? 0,
      evalEvery,
      probe: opts.probe ?? { every: 0 },
      onStep: opts.onProgress ? (r) => opts.onProgress!((r.step + 1) / opts.steps) : undefined,
      onEval: tracking
        ? (record, params, state) => {
            const acc = record.testAccuracy!;
            targets.forEach((t, i) => {
              if (found[i] === null && acc >= t) {
                found[i] = { ...metaOf(record), ...owner.hold({ params, state }) };
              }
            });
            if (opts.keepBest && (bestMeta === null || acc > bestMeta.testAccuracy)) {
              bestMeta = metaOf(record);
              bestWeights.hold({ params, state });
            }
          }
        : undefined,
    });
  } catch (err) {
    owner.release();
    bestWeights.release();
    throw err;
  }
  const final: Snapshot = {
    steps: opts.steps,
    testAccuracy: result.finalTestAccuracy,
    testLoss: result.finalTestLoss,
    ...owner.hold({ params: result.params, state: result.state }),
  };
  result.release();
  const kept = bestMeta as SnapshotMeta | null;
  return {
    final,
    targets: targets.map((target, i) => ({ target, snapshot: found[i]! })),
    best: kept === null ? null : { ...kept, ...owner.own(bestWeights.take()) },
    history: result.history,
    release: () => owner.release(),
  };
}

// ---------------------------------------------------------------------------------------------
// A trained point, measured

/** What a one-step measurement sees at a trained point (everything borrowed). */
export type TrainedPoint = {
  model: Model;
  params: Params;
  state: ModelState;
  /** The training and test splits, on the device. */
  train: DeviceSamples;
  test: DeviceSamples;
  /** The whole {@link trainSnapshot} result (targets, best, history). */
  trained: TrainedSnapshots;
  /**
   * Owns what the measurement creates (directions): `scope.own(direction)`; released when
   * the measurement returns or throws.
   */
  scope: Scope;
};

/**
 * Trains with {@link trainSnapshot}, lends the result (every snapshot, the history) to `use`
 * and frees it afterwards, however `use` ends. `use` returns host values only.
 */
export async function withTrained<R>(
  opts: SnapshotOptions,
  use: (trained: TrainedSnapshots) => Promise<R>,
): Promise<R> {
  const trained = await trainSnapshot(opts);
  try {
    return await use(trained);
  } finally {
    trained.release();
  }
}

/**
 * The frame of a one-step run: trains with {@link trainSnapshot}, uploads both splits, runs
 * `measure` at the final parameters, then frees everything (snapshots, samples, and whatever
 * `measure` gave its scope). `measure` returns host numbers only. To measure at another
 * snapshot of the run, spread the point with that snapshot's `params` and `state`
 * (`{...point, params: s.params, state: s.state}`): everything stays borrowed.
 */
export async function atTrainedPoint<R>(
  opts: SnapshotOptions,
  measure: (point: TrainedPoint) => Promise<R>,
): Promise<R> {
  return withTrained(opts, async (trained) => {
    const scope = new Scope();
    try {
      const dtype = opts.model.config.dtype;
      const upload = (ds: Dataset): DeviceSamples => ({
        x: scope.own(toDevice(ds.x, [ds.n, ds.d], dtype)),
        y: ds.y,
      });
      const train = upload(opts.data.train);
      const test = upload(opts.data.test);
      const { params, state } = trained.final;
      return await measure({ model: opts.model, params, state, train, test, trained, scope });
    } finally {
      scope.release();
    }
  });
}

/** What {@link trainingFor} takes besides the cell: the optimizer, any other training option, the model's temperature. */
export type TrainingOptions = Omit<
  SnapshotOptions,
  "model" | "data" | "seed" | "steps" | "batchSize"
> & {
  /** The model's temperature (`modelFor`); none: the model's default. */
  temperature?: number;
};

/**
 * The training of a one-step run: the run's data (`runData`, the seeded subset of the cell's
 * seed), the cached model of `arch` for it (`modelFor`), the cell's seed, steps and batch size,
 * and the other options given.
 */
export function trainingFor(
  ctx: RunContext,
  arch: string,
  cell: { seed: number; steps: number; batchSize: number },
  { temperature, ...options }: TrainingOptions,
): SnapshotOptions & { data: DataSplit } {
  const data = runData(ctx, { seed: cell.seed });
  const model = modelFor(arch, data.train.d, data.train.numClasses, { temperature });
  return { model, data, seed: cell.seed, steps: cell.steps, batchSize: cell.batchSize, ...options };
}

/** AdamW with a cell's learning rate and weight decay (the one-step experiments' optimizer). */
export function adamw(c: { learningRate: number; weightDecay: number }): OptimizerSpec {
  return { name: "adamw", learningRate: c.learningRate, weightDecay: c.weightDecay };
}

// ---------------------------------------------------------------------------------------------
// Directions

/** A unit direction in parameter space (caller owns `direction`). */
export type Direction = {
  /** Params-shaped tree with Euclidean norm 1 (to the params' dtype precision). */
  direction: Params;
};

/** The normalised negative gradient and what it was computed from. */
export type GradientDirection = Direction & {
  /** ‖∇L‖ over the sample set, before normalising. */
  gradNorm: number;
  /** Mean cross-entropy over the sample set at the parameters. */
  loss: number;
};

/** Options of {@link gradientDirection}: those of the probe's `fullGradient`, and the sign. */
export type GradientOptions = FullGradientOptions & {
  /**
   * `true`: `v = +∇L/‖∇L‖`, the ascent direction (what the published random-directions
   * protocol sweeps as "the gradient direction"). Default false: the descent direction.
   */
  ascent?: boolean;
};

/**
 * `v = −∇L/‖∇L‖` (or `+∇L/‖∇L‖` with `ascent`), the unit negative gradient of the mean cross-entropy over a whole sample
 * set (typically the full training split). Borrows everything.
 *
 * @throws {OneStepError} if the gradient is zero or not finite.
 */
export async function gradientDirection(
  model: Model,
  params: Params,
  state: ModelState,
  samples: SamplesLike,
  opts: GradientOptions = {},
): Promise<GradientDirection> {
  await initEngine();
  const s = borrowSamples(samples, paramsDtype(params));
  if (s.x.shape[0] === 0) {
    s.release();
    throw new OneStepError("gradientDirection: empty sample set");
  }
  return scoped((scope) => {
    let full: ReturnType<typeof fullGradient>;
    try {
      full = fullGradient(model, params, state, s.x, s.y, opts);
    } finally {
      s.release();
    }
    const grads = scope.own(full.grads);
    const gradNorm = normTree(grads);
    if (!(gradNorm > 0) || !Number.isFinite(gradNorm)) {
      throw new OneStepError(`gradientDirection: gradient norm is ${gradNorm}`);
    }
    return {
      direction: scaleTree(grads, (opts.ascent ? 1 : -1) / gradNorm),
      gradNorm,
      loss: full.loss,
    };
  });
}

/**
 * A seeded unit Gaussian direction shaped like `params`: i.i.d. standard normals over every
 * parameter (drawn on the host in float64, canonical sorted-key-path order), divided by their
 * joint norm. Same seed → same direction, whatever the dtype. Borrows `params`.
 */
export async function randomDirection(params: Params, seed: number): Promise<Direction> {
  await initEngine();
  if (treeSize(params) === 0) throw new OneStepError("randomDirection: params tree is empty");
  return { direction: seededUnitDirection(params, seed) };
}

/**
 * Lends a freshly made direction to `use` and frees it afterwards, however `use` ends:
 * `withDirection(gradientDirection(…), (g) => …)`. `use` returns host values only.
 */
export async function withDirection<D extends Direction, R>(
  made: D | Promise<D>,
  use: (d: D) => Promise<R>,
): Promise<R> {
  const d = await made;
  const scope = new Scope();
  scope.own(d.direction);
  try {
    return await use(d);
  } finally {
    scope.release();
  }
}

// ---------------------------------------------------------------------------------------------
// Radius along a direction

/** ρ_a over a sample set along a direction, and which sample binds it. */
export type RhoAlong = {
  /** `π / max_x Δ_a(x; v̂)` with `v̂ = v/‖v‖` (Infinity if every spread is 0). */
  rhoA: number;
  /** `max_x Δ_a(x; v̂)`. */
  maxSpread: number;
  /** Median per-sample spread (how far the binding sample is from typical). */
  medianSpread: number;
  /** Index (row of `x`) of the sample with the largest spread: the one that binds ρ_a. */
  bindingSample: number;
  /** Classes with the largest and smallest slope `a_k` at the binding sample. */
  bindingClasses: [number, number];
  /** ‖v‖ of the direction given (spreads are per unit length, whatever it was). */
  directionNorm: number;
  /** Per-sample spreads Δ_a(x; v̂), length n. */
  spreads: Float64Array;
};

/** Options of {@link rhoAlong}: those of `directionalLogitDerivatives` (method, chunk, temperature…). */
export type RhoAlongOptions = DirectionalOptions;

/**
 * The set-level radius lower bound `ρ_a(v) = π / max_{x∈S} Δ_a(x; v̂)` (docs/science.md §2) over a
 * sample set along the unit direction `v̂ = v/‖v‖`: the probe's {@link RadiusEstimator} over
 * the whole set (sample set `"train"`), fed by `directionalLogitDerivatives` (one JVP per
 * chunk), and the theory's `rhoAFromSpread`. Borrows everything.
 *
 * The slopes are those of `v` itself; the spreads are divided by ‖v‖ afterwards (rather than
 * the slopes before) so that the numbers are those this measurement has always produced.
 *
 * @throws {OneStepError} for a zero or non-finite direction, or slopes that overflowed.
 */
export async function rhoAlong(
  model: Model,
  params: Params,
  state: ModelState,
  direction: Params,
  samples: SamplesLike | DeviceArray,
  opts: RhoAlongOptions = {},
): Promise<RhoAlong> {
  await initEngine();
  const directionNorm = normTree(direction);
  if (!(directionNorm > 0) || !Number.isFinite(directionNorm)) {
    throw new OneStepError(`rhoAlong: direction norm is ${directionNorm}`);
  }
  const s =
    "y" in samples
      ? borrowSamples(samples, paramsDtype(params))
      : { x: samples, release: () => {} };
  let probed: ProbeResult;
  try {
    probed = directionalLogitDerivatives(model, params, state, direction, s.x, opts);
  } finally {
    s.release();
  }
  const { a, n, k } = probed;
  const report = new RadiusEstimator(n, { sampleSet: "train" }).estimate(
    () => probed,
    new Int32Array(0),
  );
  if (!Number.isFinite(report.spread)) {
    throw new OneStepError(
      `rhoAlong: the slopes of sample ${report.bindingSample} are not finite (the logits overflow along this direction)`,
    );
  }
  const bindingSample = report.bindingSample;
  const maxSpread = report.spread / directionNorm;
  const spreads = spreadsOf({ data: a, n, k });
  for (let i = 0; i < n; i++) spreads[i] /= directionNorm;
  let hi = 0;
  let lo = 0;
  for (let c = 1; c < k; c++) {
    if (a[bindingSample * k + c]! > a[bindingSample * k + hi]!) hi = c;
    if (a[bindingSample * k + c]! < a[bindingSample * k + lo]!) lo = c;
  }
  return {
    rhoA: rhoAFromSpread(maxSpread),
    maxSpread,
    medianSpread: quantile(spreads, 0.5),
    bindingSample,
    bindingClasses: [hi, lo],
    directionNorm,
    spreads,
  };
}

/**
 * The gradient measurement of a trained point: the unit negative gradient over the point's
 * training split ({@link gradientDirection}) and ρ_a along it over the same split
 * ({@link rhoAlong}), lent to `use` (the direction is freed when `use` returns or throws).
 */
export function alongGradient<R>(
  p: TrainedPoint,
  use: (g: GradientDirection & { rho: RhoAlong }) => Promise<R>,
): Promise<R> {
  return withDirection(gradientDirection(p.model, p.params, p.state, p.train), async (g) =>
    use({ ...g, rho: await rhoAlong(p.model, p.params, p.state, g.direction, p.train) }),
  );
}

// ---------------------------------------------------------------------------------------------
// Sweeping step lengths

/** Loss and accuracy on one split. */
export type SplitMetrics = { loss: number; accuracy: number };

/** The effect of one step of length τ (`θ' = θ + τ·v`). */
export type SweepPoint = {
  tau: number;
  /** Test metrics at θ'. A non-finite loss (overflow) is reported as +∞. */
  test: SplitMetrics;
  /** Post/pre test loss. */
  testLossRatio: number;
  /** Post/pre test accuracy. */
  retainedAccuracy: number;
  /** Fraction of test samples whose predicted class at θ' differs from the one at θ. */
  flipFraction: number;
  /** Training-split metrics and post/pre loss, when a training split was given. */
  train?: SplitMetrics;
  trainLossRatio?: number;
};

/** What {@link sweepAlongDirection} returns. */
export type Sweep = {
  /** Metrics at θ (τ = 0). */
  pre: { test: SplitMetrics; train?: SplitMetrics };
  /** One point per τ, in the order given. */
  points: SweepPoint[];
};

/** Options of {@link sweepAlongDirection}. */
export type SweepOptions = {
  /** Overrides the model's configured temperature. */
  temperature?: number;
  /** Samples per device call (default 1024). */
  chunk?: number;
};

/**
 * Steps `θ' = θ + τ·v` for every τ in `taus` (pass a unit `v` so that τ is a length) and
 * measures what each step does, in eval mode (BatchNorm running statistics untouched): loss
 * ratio (post/pre) on the test split and, if given, the training split; test accuracy and
 * retained accuracy (post/pre); and the flip fraction of test predictions. The baseline is
 * computed by the same compiled function at τ = 0, so τ = 0 gives ratios of exactly 1 and no
 * flips. Each τ costs one forward pass per split. Borrows everything.
 *
 * @throws {OneStepError} if `taus` is empty or holds a non-finite value.
 */
export async function sweepAlongDirection(
  model: Model,
  params: Params,
  state: ModelState,
  direction: Params,
  taus: readonly number[],
  splits: { test: SamplesLike; train?: SamplesLike },
  opts: SweepOptions = {},
): Promise<Sweep> {
  await initEngine();
  if (taus.length === 0) throw new OneStepError("sweepAlongDirection: no step lengths given");
  for (const t of taus) {
    if (!Number.isFinite(t))
      throw new OneStepError(`sweepAlongDirection: step length ${t} is not finite`);
  }
  const dtype = paramsDtype(params);
  const chunk = Math.max(1, opts.chunk ?? 1024);
  const k = model.config.numClasses;
  const test = borrowSamples(splits.test, dtype);
  const trainSet = splits.train ? borrowSamples(splits.train, dtype) : null;
  try {
    const measure = (tau: number, s: { x: DeviceArray; y: Int32Array }) => {
      const z = steppedLogitsHost(model, params, state, direction, s.x, tau, {
        dtype,
        temperature: opts.temperature,
        chunk,
      });
      const ev = evaluateLogits(z, s.y, k);
      const loss = Number.isFinite(ev.loss) ? ev.loss : Number.POSITIVE_INFINITY;
      return { metrics: { loss, accuracy: ev.accuracy }, predictions: ev.predictions };
    };
    const preTest = measure(0, test);
    const preTrain = trainSet ? measure(0, trainSet).metrics : undefined;
    const points = taus.map((tau): SweepPoint => {
      const post = measure(tau, test);
      let flips = 0;
      for (let i = 0; i < post.predictions.length; i++) {
        if (post.predictions[i] !== preTest.predictions[i]) flips++;
      }
      const point: SweepPoint = {
        tau,
        test: post.metrics,
        testLossRatio: post.metrics.loss / preTest.metrics.loss,
        retainedAccuracy: post.metrics.accuracy / preTest.metrics.accuracy,
        flipFraction: flips / post.predictions.length,
      };
      if (trainSet && preTrain) {
        const tr = measure(tau, trainSet).metrics;
        point.train = tr;
        point.trainLossRatio = tr.loss / preTrain.loss;
      }
      return point;
    });
    const pre: Sweep["pre"] = { test: preTest.metrics };
    if (preTrain) pre.train = preTrain;
    return { pre, points };
  } finally {
    test.release();
    trainSet?.release();
  }
}

// ---------------------------------------------------------------------------------------------
// Grids and onsets

/**
 * `points` values spaced evenly in log10 from `min` to `max` inclusive. With a whole number
 * of points per decade (e.g. 0.01…100 in 41 points) the powers of ten are hit exactly
 * (values are rounded to 12 significant digits so that `1` is exactly 1).
 *
 * @throws {OneStepError} unless 0 < min < max and points ≥ 2.
 */
export function logGrid(min: number, max: number, points: number): number[] {
  if (!(min > 0 && max > min && Number.isFinite(max))) {
    throw new OneStepError(`logGrid: need 0 < min < max, got ${min}, ${max}`);
  }
  if (!Number.isInteger(points) || points < 2) {
    throw new OneStepError(`logGrid: need at least 2 points, got ${points}`);
  }
  const a = Math.log10(min);
  const b = Math.log10(max);
  return Array.from({ length: points }, (_, i) =>
    Number((10 ** (a + ((b - a) * i) / (points - 1))).toPrecision(12)),
  );
}

/**
 * `points` values spaced evenly from `min` to `max` inclusive (numpy's `linspace`), rounded
 * to 12 significant digits like {@link logGrid}.
 *
 * @throws {OneStepError} unless min < max (both finite) and points ≥ 2.
 */
export function linGrid(min: number, max: number, points: number): number[] {
  if (!(Number.isFinite(min) && Number.isFinite(max) && max > min)) {
    throw new OneStepError(`linGrid: need finite min < max, got ${min}, ${max}`);
  }
  if (!Number.isInteger(points) || points < 2) {
    throw new OneStepError(`linGrid: need at least 2 points, got ${points}`);
  }
  return Array.from({ length: points }, (_, i) =>
    Number((min + ((max - min) * i) / (points - 1)).toPrecision(12)),
  );
}

/**
 * The first `xs[i]` (in the order given) at which `fails(i)` holds; +∞ if it never does —
 * the "onset" of a sweep (e.g. first r with loss ratio ≥ 2).
 */
export function firstWhere(xs: readonly number[], fails: (i: number) => boolean): number {
  for (let i = 0; i < xs.length; i++) if (fails(i)) return xs[i]!;
  return Number.POSITIVE_INFINITY;
}
