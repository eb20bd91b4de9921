/**
 * Borrow-semantics entry points for host code: loss and gradient, logits, predictions,
 * evaluation. None of them consumes its arguments; every array or tree they return is new and
 * owned by the caller.
 *
 * The traced functions are wrapped in `jit` and cached per (model object, kind, mode,
 * temperature); jax-js itself re-specialises a jitted function per argument shapes/dtypes, so
 * one cache entry serves every batch size (the first call at a new shape pays a compile).
 */
import { type Array as JaxArray, jit, lax, numpy as np, valueAndGrad } from "@jax-js/jax";
import type { Model, ModelState, Params } from "../models/types.js";
import { type FloatDType, takeScalar, takeToHost, toDevice } from "./arrays.js";
import { logSoftmax, meanOver } from "./numerics.js";
import { type ArrayTree, refTree, sortedLeaves } from "./tree.js";

/** A jitted function as `jit` returns it (jax-js's own constraint on the traced function). */
type Traceable = Parameters<typeof jit>[0];
type AnyJitted = ReturnType<typeof jit<Traceable>>;

const jitCache = new WeakMap<Model, Map<string, AnyJitted>>();

/**
 * A compiled function may hold device constants; free them when its model is garbage
 * collected, so short-lived models (one per seed or per sweep point) do not leak buffers.
 */
const releaseOnCollect = new FinalizationRegistry<Map<string, AnyJitted>>((perModel) => {
  for (const fn of perModel.values()) fn.dispose();
});

/**
 * Fetch or create a cached jitted function for a model. `key` must capture everything the
 * traced function closes over besides the model itself.
 */
export function cachedJit<F extends Traceable>(
  model: Model,
  key: string,
  make: () => F,
): ReturnType<typeof jit<F>> {
  let perModel = jitCache.get(model);
  if (!perModel) {
    perModel = new Map();
    jitCache.set(model, perModel);
    releaseOnCollect.register(model, perModel, model);
  }
  let fn = perModel.get(key);
  if (!fn) {
    fn = jit(make()) as unknown as AnyJitted;
    perModel.set(key, fn);
  }
  return fn as unknown as ReturnType<typeof jit<F>>;
}

/** Drop a model's compiled functions (frees their captured constants). */
export function clearJitCache(model: Model): void {
  const perModel = jitCache.get(model);
  if (!perModel) return;
  for (const fn of perModel.values()) fn.dispose();
  jitCache.delete(model);
  releaseOnCollect.unregister(model);
}

/**
 * Mean softmax cross-entropy of logits [batch, K] against int32 labels [batch].
 * Traceable; CONSUMES both arguments.
 */
export function crossEntropy(logits: JaxArray, labels: JaxArray): JaxArray {
  const k = logits.shape[logits.ndim - 1]!;
  const logp = logSoftmax(logits, -1);
  // A comparison against arange instead of nn.oneHot: inside jit, jax-js 0.1.25 builds
  // oneHot from a K×K identity, which exhausts wasm memory at vocabulary-sized K.
  const classes = np.arange(k, undefined, undefined, { dtype: np.int32 }).reshape([1, k]);
  const onehot = np.equal(labels.reshape([-1, 1]), classes).astype(logp.dtype);
  return meanOver(logp.mul(onehot).sum(-1), 0).neg();
}

/** Options of `lossAndGrad`. */
export interface LossOptions {
  /** "train" (default) uses batch statistics and updates BatchNorm running statistics. */
  mode?: "train" | "eval";
  /** Overrides the model's configured temperature. */
  temperature?: number;
}

/** Result of `lossAndGrad` (all arrays owned by the caller). */
export interface LossAndGrad {
  /** Mean cross-entropy over the batch. */
  loss: number;
  /** Fraction of the batch whose argmax logit is the label (from the same forward pass). */
  accuracy: number;
  /** Global L2 norm of the gradient (non-finite when the loss or gradient is). */
  gradNorm: number;
  /** Gradient with respect to every parameter (caller owns it). */
  grads: Params;
  /**
   * State after the step (caller owns it): updated running statistics for BatchNorm models in
   * train mode, otherwise new references to the input state. Dispose the old state when
   * adopting this one.
   */
  state: ModelState;
}

function temperatureKey(model: Model, t: number | undefined): string {
  return String(t ?? model.config.temperature);
}

/**
 * Loss and gradient on one batch. Borrows `params`, `state`, `x` [batch, inputDim] and `y`
 * (int32 labels [batch]).
 */
export function lossAndGrad(
  model: Model,
  params: Params,
  state: ModelState,
  x: JaxArray,
  y: JaxArray,
  opts: LossOptions = {},
): LossAndGrad {
  const mode = opts.mode ?? "train";
  const temperature = opts.temperature;
  const fn = cachedJit(model, `lossAndGrad:${mode}:${temperatureKey(model, temperature)}`, () => {
    const lossFn = (p: Params, s: ModelState, xb: JaxArray, yb: JaxArray) => {
      const out = model.forward(p, xb, { mode, state: s, temperature });
      const correct = lax.stopGradient(
        np.argmax(out.logits.ref, -1).equal(yb.ref).astype(np.int32).sum(),
      );
      const loss = crossEntropy(out.logits, yb);
      const aux = { state: (out.state ?? {}) as ArrayTree, correct };
      return [loss, aux] as [JaxArray, { state: ArrayTree; correct: JaxArray }];
    };
    const vg = valueAndGrad(lossFn, { hasAux: true });
    return (p: Params, s: ModelState, xb: JaxArray, yb: JaxArray) => {
      const [[loss, aux], grads] = vg(p, s, xb, yb);
      // Loss, correct count and ‖g‖² leave the device in one read instead of three.
      let gradSq: JaxArray | null = null;
      for (const g of sortedLeaves(grads as ArrayTree)) {
        const sq = g.ref.mul(g.ref).sum().astype(loss.dtype);
        gradSq = gradSq === null ? sq : gradSq.add(sq);
      }
      const stats = np.stack([loss, aux.correct.astype(loss.dtype), gradSq ?? np.zerosLike(loss)]);
      return [stats, aux.state, grads];
    };
  });
  const [stats, auxState, grads] = fn(refTree(params), refTree(state), x.ref, y.ref) as [
    JaxArray,
    ArrayTree,
    Params,
  ];
  const [loss, correct, gradSq] = takeToHost(stats);
  const accuracy = correct / x.shape[0]!;
  const newState = Object.keys(auxState).length > 0 ? (auxState as ModelState) : refTree(state);
  return { loss, accuracy, gradNorm: Math.sqrt(gradSq), grads, state: newState };
}

/**
 * Mean cross-entropy of one batch in train mode, like the step's own loss (BatchNorm on batch
 * statistics; new running statistics are dropped). Borrows everything. Line searches use it
 * to evaluate trial points.
 */
export function batchLoss(
  model: Model,
  params: Params,
  state: ModelState,
  x: JaxArray,
  y: JaxArray,
): number {
  const fn = cachedJit(model, "trialLoss", () => {
    return (p: Params, s: ModelState, xb: JaxArray, yb: JaxArray) =>
      crossEntropy(model.apply(p, xb, { mode: "train", state: s }), yb);
  });
  return takeScalar(fn(refTree(params), refTree(state), x.ref, y.ref) as JaxArray);
}

/**
 * The model state after one train-mode forward pass over `x` (BatchNorm's updated running
 * statistics), eagerly; the logits are dropped. Borrows everything; the caller owns the result.
 */
export function trainModeState(
  model: Model,
  params: Params,
  state: ModelState,
  x: JaxArray,
): ModelState {
  const out = model.forward(refTree(params), x.ref, { mode: "train", state: refTree(state) });
  out.logits.dispose();
  return out.state ?? {};
}

/** Options of the eval-mode logit functions. */
export interface LogitOptions {
  /** Overrides the model's configured temperature. */
  temperature?: number;
}

/** Eval-mode logits [batch, K] as a new device array. Borrows everything. */
export function logits(
  model: Model,
  params: Params,
  state: ModelState,
  x: JaxArray,
  opts: LogitOptions = {},
): JaxArray {
  const fn = cachedJit(model, `logits:${temperatureKey(model, opts.temperature)}`, () => {
    return (p: Params, s: ModelState, xb: JaxArray) =>
      model.apply(p, xb, { mode: "eval", state: s, temperature: opts.temperature });
  });
  return fn(refTree(params), refTree(state), x.ref) as JaxArray;
}

/** Eval-mode logits read back to the host, row-major [batch × K]. Borrows everything. */
export function logitsHost(
  model: Model,
  params: Params,
  state: ModelState,
  x: JaxArray,
  opts: LogitOptions = {},
): Float64Array {
  return takeToHost(logits(model, params, state, x, opts));
}

/** Rows [start, end) of `x` as a new array the caller owns (the whole of `x` when it is one chunk). Borrows `x`. */
export function sliceRows(x: JaxArray, start: number, end: number): JaxArray {
  return start === 0 && end === x.shape[0] ? x.ref : x.ref.slice([start, end]);
}

/** Leafwise p + τ·v. Traceable; consumes p and v, borrows tau. */
function stepTree(p: Params, v: Params, tau: JaxArray): Params {
  const out: Params = {};
  for (const key of Object.keys(p)) {
    const pv = p[key]!;
    const vv = v[key];
    if (vv === undefined) throw new Error(`direction lacks parameter "${key}"`);
    if (typeof pv === "object" && (pv as object).constructor === Object) {
      out[key] = stepTree(pv as Params, vv as Params, tau);
    } else {
      out[key] = (pv as JaxArray).add((vv as JaxArray).mul(tau.ref));
    }
  }
  return out;
}

/**
 * Eval-mode logits at θ + τ·v read back to the host, row-major [n × K], computed `chunk`
 * rows at a time by one compiled call each (no moved parameter tree is materialised).
 * `τ` travels as a device scalar of `dtype`, so every τ shares the compiled function.
 * Borrows everything.
 */
export function steppedLogitsHost(
  model: Model,
  params: Params,
  state: ModelState,
  direction: Params,
  x: JaxArray,
  tau: number,
  opts: { dtype: FloatDType; temperature?: number; chunk: number },
): Float64Array {
  const { temperature, chunk } = opts;
  const fn = cachedJit(model, `one-step:stepped-logits:${temperature ?? "cfg"}`, () => {
    return (p: Params, v: Params, s: ModelState, xb: JaxArray, t: JaxArray) => {
      const moved = stepTree(p, v, t);
      t.dispose();
      return model.apply(moved, xb, { mode: "eval", state: s, temperature });
    };
  });
  const n = x.shape[0]!;
  const k = model.config.numClasses;
  const z = new Float64Array(n * k);
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    const out = fn(
      refTree(params),
      refTree(direction),
      refTree(state),
      sliceRows(x, start, end),
      toDevice([tau], [], opts.dtype),
    ) as JaxArray;
    z.set(out.dataSync() as ArrayLike<number>, start * k);
  }
  return z;
}

/** Row-wise argmax of a row-major [n × k] matrix (first maximum wins). */
export function argmaxRows(values: ArrayLike<number>, k: number): Int32Array {
  const n = Math.floor(values.length / k);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestVal = values[i * k]!;
    for (let j = 1; j < k; j++) {
      const v = values[i * k + j]!;
      if (v > bestVal) {
        bestVal = v;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}

/** Eval-mode predicted classes. Borrows everything. */
export function predict(model: Model, params: Params, state: ModelState, x: JaxArray): Int32Array {
  return argmaxRows(logitsHost(model, params, state, x), model.config.numClasses);
}

/** Loss and accuracy of a model on a labelled sample set. */
export interface Evaluation {
  /** Mean cross-entropy (natural log) over the samples. */
  loss: number;
  /** Fraction of samples whose argmax logit is the label. */
  accuracy: number;
  /** Number of samples. */
  n: number;
  /** Predicted classes. */
  predictions: Int32Array;
}

/**
 * How an evaluation normalises BatchNorm layers (models without BatchNorm give the same
 * numbers either way):
 *
 * - `"running-stats"` (default): eval mode, through the running statistics training kept —
 *   per-sample, so the result does not depend on which rows are evaluated together;
 * - `"batch-stats"`: the evaluated rows as ONE batch in train mode, each BatchNorm normalising
 *   with that batch's own mean and variance — how a PyTorch script that never calls
 *   `model.eval()` measures test accuracy. The updated running statistics this forward pass
 *   computes are dropped: the evaluation never changes the state used for training.
 */
export type EvaluationMode = "running-stats" | "batch-stats";

/** Options of {@link evaluate}. */
export interface EvaluateOptions extends LogitOptions {
  /** Rows per compiled call for `"running-stats"` (default 1024; `"batch-stats"` is always one batch). */
  chunk?: number;
  /** BatchNorm's statistics: running (eval mode, default) or the evaluated batch's own. */
  evaluation?: EvaluationMode;
}

/**
 * Train-mode logits of `x` as one batch (BatchNorm on the batch's own statistics), the new
 * running statistics dropped. Borrows everything.
 */
function batchStatsLogits(
  model: Model,
  params: Params,
  state: ModelState,
  x: JaxArray,
  opts: LogitOptions,
): JaxArray {
  const fn = cachedJit(
    model,
    `logits:batch-stats:${temperatureKey(model, opts.temperature)}`,
    () => {
      return (p: Params, s: ModelState, xb: JaxArray) =>
        model.apply(p, xb, { mode: "train", state: s, temperature: opts.temperature });
    },
  );
  return fn(refTree(params), refTree(state), x.ref) as JaxArray;
}

/**
 * Loss and accuracy against host labels: in eval mode computed in chunks of `chunk` rows, or
 * with `evaluation: "batch-stats"` as one train-mode batch (see {@link EvaluationMode}).
 * Borrows `params`, `state` and `x`; never changes them.
 */
export function evaluate(
  model: Model,
  params: Params,
  state: ModelState,
  x: JaxArray,
  labels: ArrayLike<number>,
  opts: EvaluateOptions = {},
): Evaluation {
  const n = x.shape[0]!;
  if (labels.length !== n) throw new Error(`evaluate: ${labels.length} labels for ${n} samples`);
  const k = model.config.numClasses;
  const evaluation = opts.evaluation ?? "running-stats";
  if (evaluation === "batch-stats") {
    return evaluateLogits(takeToHost(batchStatsLogits(model, params, state, x, opts)), labels, k);
  }
  if (evaluation !== "running-stats") {
    throw new RangeError(
      `evaluate: evaluation must be "running-stats" or "batch-stats", got ${JSON.stringify(evaluation)}`,
    );
  }
  const chunk = Math.max(1, opts.chunk ?? 1024);
  const z = new Float64Array(n * k);
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    const xb = n <= chunk ? x.ref : x.ref.slice([start, end]);
    z.set(takeToHost(logits(model, params, state, xb, opts)), start * k);
    xb.dispose();
  }
  return evaluateLogits(z, labels, k);
}

/** Loss/accuracy from host logits (row-major [n × k]) and labels. */
export function evaluateLogits(
  z: ArrayLike<number>,
  labels: ArrayLike<number>,
  k: number,
): Evaluation {
  const n = labels.length;
  const predictions = argmaxRows(z, k);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, z[i * k + j]!);
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(z[i * k + j]! - m);
    const y = labels[i]!;
    loss += m + Math.log(s) - z[i * k + y]!;
    if (predictions[i] === y) correct++;
  }
  return {
    loss: n ? loss / n : Number.NaN,
    accuracy: n ? correct / n : Number.NaN,
    n,
    predictions,
  };
}
