/**
 * Layers as pure functions plus their standard (PyTorch-default) initialisers.
 *
 * Forward functions BORROW their arguments and compute with the engine's borrowing ops, so they
 * run inside a tidy (`tidy`/`consuming` of `src/engine/ops.ts`), which owns what they return
 * until the model's `forward` hands it over. They are dtype-agnostic: they compute in the dtype of their inputs,
 * so the same model runs in float32 or float64 (the probe casts params and inputs to float64
 * when asked to).
 *
 * Initialisers draw on the host from a stream keyed by (seed, parameter path) — see
 * `src/util/random.ts` (one stream per tensor name) — and upload in the requested dtype.
 */
import {
  type FloatDType,
  type DeviceArray as JaxArray,
  jaxDtype,
  toDevice,
} from "../engine/arrays.js";
import * as op from "../engine/ops.js";
import { Rng } from "../util/random.js";
import { ModelConfigError } from "./errors.js";
import type { ModelState, Params } from "./types.js";

// ---------------------------------------------------------------------------------------------
// Activations

const SQRT1_2 = Math.SQRT1_2;

/**
 * Exact (erf-based) GELU: x·Φ(x) = ½x(1 + erf(x/√2)), not the tanh approximation; erf is
 * float64-accurate for float64 inputs (see engine/numerics.ts).
 */
export function gelu(x: JaxArray): JaxArray {
  const phi = op.mul(op.add(op.erf(op.mul(x, op.constLike(x, SQRT1_2))), 1), 0.5);
  return op.mul(x, phi);
}

/** max(x, 0). */
export function relu(x: JaxArray): JaxArray {
  return op.relu(x);
}

/** Hidden-layer activations the builders offer. */
export type Activation = "gelu" | "relu";

/** Apply the named activation. */
export function activate(kind: Activation, x: JaxArray): JaxArray {
  return kind === "gelu" ? gelu(x) : relu(x);
}

// ---------------------------------------------------------------------------------------------
// Parameter access helpers (borrowed, like every argument)

/** A tree node is a plain object (jax-js's own rule); anything else is a leaf (array or tracer). */
export function isTreeNode(v: unknown): v is Params {
  return typeof v === "object" && v !== null && (v as object).constructor === Object;
}

function leaf(p: Params, key: string): JaxArray {
  const v = p[key];
  if (v === undefined || isTreeNode(v))
    throw new ModelConfigError(`missing parameter array "${key}"`);
  return v;
}

function sub(p: Params, key: string): Params {
  const v = p[key];
  if (v === undefined || !isTreeNode(v))
    throw new ModelConfigError(`missing parameter group "${key}"`);
  return v;
}

/** Parameter accessors (`paramLeaf(p, "w")`, `paramGroup(p, "fc1")`) that throw clearly. */
export { leaf as paramLeaf, sub as paramGroup };

// ---------------------------------------------------------------------------------------------
// Dense / convolution

const F32 = jaxDtype("float32");

/** y = x·W + b for x [..., in], W [in, out], b [out]. */
export function dense(p: Params, x: JaxArray): JaxArray {
  const w = leaf(p, "w");
  const out = w.shape[1]!;
  // a layer without bias (only the transformer's optional bias-free projections) has no "b"
  const hasBias = p["b"] !== undefined;
  const plus = (y: JaxArray) => (hasBias ? op.add(y, leaf(p, "b")) : y);
  if (out % 4 === 0 || w.dtype !== F32) return plus(op.matmul(x, w));
  // jax-js 0.1.25 vectorises a float32 matmul only when the output width is a multiple of 4;
  // a 10-class head otherwise runs ~8× slower (1437×128 @ 128×10: 2.1 ms against 0.26 ms
  // at width 12). Widen W with zero columns by a matmul against [I | 0] (exact, and a
  // separate kernel, so the wide product sees a materialised operand), then drop them.
  const wide = Math.ceil(out / 4) * 4;
  const widened = op.matmul(w, op.eye(out, wide, F32));
  return plus(op.slice(op.matmul(x, widened), [], [0, out]));
}

/**
 * Stride-1 convolution with "same" zero padding (PyTorch's padding="same": left pad
 * ⌊(k−1)/2⌋) over any number of spatial axes, as cross-correlation like PyTorch/lax.conv.
 * x [B, Cin, ...spatial], w [Cout, Cin, ...kernel], b [Cout].
 *
 * Implemented as im2col + one batched matmul rather than `lax.conv`: on jax-js 0.1.25's wasm
 * backend `lax.conv` is 5–10× slower in the forward pass and its input gradient 15–50× slower
 * (e.g. 320 ms vs 19 ms for one grad of a 32→32, k = 3 conv on [64, 32, 64]); the results agree
 * exactly (see test/models/layers.test.ts).
 */
export function convSame(p: Params, x: JaxArray): JaxArray {
  const w = leaf(p, "w");
  const bias = leaf(p, "b");
  const [b, c, ...sp] = x.shape as number[];
  const [co, ci, ...ks] = w.shape as number[];
  if (ci !== c || ks.length !== sp.length) {
    throw new ModelConfigError(`conv: kernel [${w.shape}] does not fit input [${x.shape}]`);
  }
  const pads = ks.map((k) => [Math.floor((k - 1) / 2), k - 1 - Math.floor((k - 1) / 2)]) as [
    number,
    number,
  ][];
  const xp = op.pad(x, [[0, 0], [0, 0], ...pads]);
  let offsets: number[][] = [[]];
  for (const k of ks) {
    const next: number[][] = [];
    for (const o of offsets) for (let i = 0; i < k; i++) next.push([...o, i]);
    offsets = next;
  }
  const cols = offsets.map((o) =>
    op.slice(xp, [], [], ...o.map((oi, d) => [oi, oi + sp[d]!] as [number, number])),
  );
  const kk = offsets.length;
  const spatial = sp.reduce((a, v) => a * v, 1);
  const patches = op.reshape(op.stack(cols, 2), [b!, c! * kk, spatial]); // [B, Cin·K, S]
  // (a 2-D lhs against a 3-D rhs hits a jax-js matmul bug, so the weight gets a batch axis)
  const y = op.matmul(op.reshape(w, [1, co!, c! * kk]), patches); // [B, Cout, S]
  return op.reshape(op.add(y, op.reshape(bias, [1, co!, 1])), [b!, co!, ...sp]);
}

/** 2-D "same" convolution; x [B, Cin, H, W], w [Cout, Cin, kh, kw]. */
export function conv2dSame(p: Params, x: JaxArray): JaxArray {
  if (x.ndim !== 4) throw new ModelConfigError(`conv2d expects [B, C, H, W], got [${x.shape}]`);
  return convSame(p, x);
}

/** 1-D "same" convolution; x [B, Cin, L], w [Cout, Cin, k]. */
export function conv1dSame(p: Params, x: JaxArray): JaxArray {
  if (x.ndim !== 3) throw new ModelConfigError(`conv1d expects [B, C, L], got [${x.shape}]`);
  return convSame(p, x);
}

/** 2×2 max pooling with stride 2 on [B, C, H, W] (H and W even). */
export function maxPool2(x: JaxArray): JaxArray {
  const [b, c, h, w] = x.shape as [number, number, number, number];
  if (h % 2 !== 0 || w % 2 !== 0)
    throw new ModelConfigError(`maxPool2 needs even sides, got ${h}×${w}`);
  return op.max(op.reshape(x, [b, c, h / 2, 2, w / 2, 2]), [3, 5]);
}

// ---------------------------------------------------------------------------------------------
// Normalisation

/** ε of LayerNorm and BatchNorm (PyTorch default). */
export const NORM_EPS = 1e-5;
/** BatchNorm running-statistics momentum (PyTorch default). */
export const BN_MOMENTUM = 0.1;

/** LayerNorm over the last axis (biased variance, eps 1e-5), with γ, β. */
export function layerNorm(p: Params, x: JaxArray, eps = NORM_EPS): JaxArray {
  const axis = x.ndim - 1;
  const mean = op.meanOver(x, axis, true);
  const xc = op.sub(x, mean);
  const variance = op.meanOver(op.mul(xc, xc), axis, true);
  const y = op.div(xc, op.sqrt(op.add(variance, op.constLike(xc, eps))));
  return op.add(op.mul(y, leaf(p, "gamma")), leaf(p, "beta"));
}

/**
 * BatchNorm over channels of x [B, C, L] (statistics over batch and length), PyTorch semantics:
 * train mode normalises with the batch statistics (biased variance) and returns running
 * statistics updated with momentum 0.1 (unbiased variance); eval mode normalises with the
 * running statistics and returns no state.
 */
export function batchNorm1d(
  p: Params,
  s: ModelState,
  x: JaxArray,
  mode: "train" | "eval",
  eps = NORM_EPS,
  momentum = BN_MOMENTUM,
): { y: JaxArray; state?: ModelState } {
  const [b, c, l] = x.shape as [number, number, number];
  const gamma = op.reshape(leaf(p, "gamma"), [1, c, 1]);
  const beta = op.reshape(leaf(p, "beta"), [1, c, 1]);
  const runMean = leaf(s, "mean");
  const runVar = leaf(s, "var");
  if (mode === "eval") {
    const centred = op.sub(x, op.reshape(runMean, [1, c, 1]));
    const std = op.sqrt(op.add(op.reshape(runVar, [1, c, 1]), op.constLike(runVar, eps)));
    return { y: op.add(op.mul(op.div(centred, std), gamma), beta) };
  }
  const mean = op.meanOver(x, [0, 2], true);
  const xc = op.sub(x, mean);
  const variance = op.meanOver(op.mul(xc, xc), [0, 2], true);
  const n = b * l;
  const unbiased = op.mul(
    op.mul(op.stopGradient(op.reshape(variance, [c])), n),
    op.constLike(variance, 1 / Math.max(n - 1, 1)),
  );
  const batchMean = op.stopGradient(op.reshape(mean, [c]));
  const keep = op.constLike(runMean, 1 - momentum);
  const newMean = op.add(op.mul(runMean, keep), op.mul(batchMean, op.constLike(runMean, momentum)));
  const keepV = op.constLike(runVar, 1 - momentum);
  const newVar = op.add(op.mul(runVar, keepV), op.mul(unbiased, op.constLike(runVar, momentum)));
  const std = op.sqrt(op.add(variance, op.constLike(xc, eps)));
  const y = op.add(op.mul(op.div(xc, std), gamma), beta);
  return { y, state: { mean: newMean, var: newVar } };
}

// ---------------------------------------------------------------------------------------------
// Attention

/**
 * Multi-head self-attention on x [B, T, D] with projections q, k, v, o (dense, D→D).
 * Returns the output [B, T, D] and the pre-softmax scores [B, H, T, T] (QKᵀ/√d_head).
 */
export function selfAttention(
  p: Params,
  x: JaxArray,
  heads: number,
): { y: JaxArray; scores: JaxArray } {
  const [bsz, t, d] = x.shape as [number, number, number];
  if (d % heads !== 0)
    throw new ModelConfigError(`attention: width ${d} not divisible by ${heads} heads`);
  const dh = d / heads;
  const split = (a: JaxArray) => op.transpose(op.reshape(a, [bsz, t, heads, dh]), [0, 2, 1, 3]);
  const q = split(dense(sub(p, "q"), x));
  const k = split(dense(sub(p, "k"), x));
  const v = split(dense(sub(p, "v"), x));
  const raw = op.matmul(q, op.transpose(k, [0, 1, 3, 2]));
  const scores = op.mul(raw, op.constLike(raw, 1 / Math.sqrt(dh)));
  const attn = op.softmax(scores, -1);
  const ctx = op.reshape(op.transpose(op.matmul(attn, v), [0, 2, 1, 3]), [bsz, t, d]);
  return { y: dense(sub(p, "o"), ctx), scores };
}

// ---------------------------------------------------------------------------------------------
// Initialisers (PyTorch defaults)

/**
 * Linear layer in→out: W [in, out] and b [out] ~ U(±1/√in) (kaiming-uniform with a = √5).
 * `bias: false` leaves b out (W is drawn from the same stream either way).
 */
export function initDense(
  seed: number,
  path: string,
  fanIn: number,
  fanOut: number,
  dtype: FloatDType,
  options: { bias?: boolean } = {},
): Params {
  const bound = 1 / Math.sqrt(fanIn);
  const w = toDevice(
    new Rng(seed).fork(`${path}.w`).uniformArray(fanIn * fanOut, -bound, bound),
    [fanIn, fanOut],
    dtype,
  );
  if (options.bias === false) return { w };
  return {
    w,
    b: toDevice(
      new Rng(seed).fork(`${path}.b`).uniformArray(fanOut, -bound, bound),
      [fanOut],
      dtype,
    ),
  };
}

/** Conv layer: w [out, in, ...kernel], b [out] ~ U(±1/√fan_in), fan_in = in·Πkernel. */
export function initConv(
  seed: number,
  path: string,
  inChannels: number,
  outChannels: number,
  kernel: readonly number[],
  dtype: FloatDType,
): Params {
  const fanIn = inChannels * kernel.reduce((a, b) => a * b, 1);
  const bound = 1 / Math.sqrt(fanIn);
  const shape = [outChannels, inChannels, ...kernel];
  const n = outChannels * fanIn;
  return {
    w: toDevice(new Rng(seed).fork(`${path}.w`).uniformArray(n, -bound, bound), shape, dtype),
    b: toDevice(
      new Rng(seed).fork(`${path}.b`).uniformArray(outChannels, -bound, bound),
      [outChannels],
      dtype,
    ),
  };
}

/** LayerNorm/BatchNorm affine parameters: γ = 1, β = 0. */
export function initNormAffine(width: number, dtype: FloatDType): Params {
  return {
    gamma: toDevice(new Float64Array(width).fill(1), [width], dtype),
    beta: toDevice(new Float64Array(width), [width], dtype),
  };
}

/** BatchNorm running statistics: mean 0, var 1. */
export function initBatchNormState(width: number, dtype: FloatDType): ModelState {
  return {
    mean: toDevice(new Float64Array(width), [width], dtype),
    var: toDevice(new Float64Array(width).fill(1), [width], dtype),
  };
}

/** A tensor ~ N(0, std²) (transformer embeddings, CLS token, positions: std 0.02). */
export function initNormal(
  seed: number,
  path: string,
  shape: readonly number[],
  std: number,
  dtype: FloatDType,
): JaxArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return toDevice(new Rng(seed).fork(path).normalArray(n, 0, std), shape, dtype);
}

/** Divide logits by the temperature (no-op at T = 1). */
export function applyTemperature(z: JaxArray, temperature: number): JaxArray {
  return temperature === 1 ? z : op.divConst(z, temperature);
}
