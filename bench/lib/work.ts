/**
 * Work models: floating-point operations and bytes moved per training step, per radius
 * probe and per forward pass, so each timing can be set against a floor (achieved GFLOP/s
 * against the engine's measured matmul peak).
 *
 * FLOPs count the matrix products only (2·m·k·n each; bias adds, activations, softmax,
 * LayerNorm and the optimizer's elementwise work are a few percent at these shapes and are
 * left out, so achieved GFLOP/s is slightly understated):
 *
 * - forward F = Σ 2·m·k·n over the model's products (m = tokens per sample);
 * - training step = forward + backward ≈ 3F: each product also needs dW and dX (not dX
 *   for the first layer, whose input is the data);
 * - exact JVP probe = primal F + tangent: x·dW for every weight product plus dx·W where x
 *   carries a tangent (not the first layer); activation × activation products (attention)
 *   take two tangent terms;
 * - finite differences = three forward passes (θ + εv, θ − εv, θ), in float64.
 *
 * Bytes are a floor for an unfused implementation: each parameter read once per pass that
 * uses it, activations written once and read once per pass, the optimizer reading
 * θ, g, m, v and writing θ, m, v (Adam), probe outputs (z and a, [n, K]) written and copied
 * to the host as float64.
 */
import type { Params } from "../../src/models/types.js";

/** One matrix product inside a forward pass, per sample. */
interface Product {
  /** Rows per sample (tokens; 1 for a dense layer on a vector). */
  m: number;
  k: number;
  n: number;
  /** Right operand is a parameter (dense layer) rather than an activation. */
  weight: boolean;
  /** Left operand depends on the parameters (false for the first layer: the data). */
  tangentIn: boolean;
}

/** The work model of one architecture at one input width and class count. */
export interface WorkModel {
  /** Parameter count. */
  params: number;
  /** Input features per sample. */
  inputDim: number;
  /** Output classes. */
  classes: number;
  /** Activation elements written per sample in one forward pass (product outputs). */
  activations: number;
  /** Forward FLOPs per sample. */
  forward: number;
  /** Backward FLOPs per sample. */
  backward: number;
  /** Tangent FLOPs per sample (the JVP's extra work beyond the primal). */
  tangent: number;
}

function model(products: Product[], params: number, inputDim: number, classes: number): WorkModel {
  let forward = 0;
  let backward = 0;
  let tangent = 0;
  let activations = 0;
  for (const p of products) {
    const f = 2 * p.m * p.k * p.n;
    forward += f;
    activations += p.m * p.n;
    if (p.weight) {
      backward += f + (p.tangentIn ? f : 0);
      tangent += f + (p.tangentIn ? f : 0);
    } else {
      backward += 2 * f;
      tangent += 2 * f;
    }
  }
  return { params, inputDim, classes, activations, forward, backward, tangent };
}

/** Number of scalars in a parameter tree. */
export function countParams(params: Params): number {
  let n = 0;
  for (const v of Object.values(params)) {
    if (v === undefined) continue;
    if (typeof v === "object" && (v as object).constructor === Object)
      n += countParams(v as Params);
    else n += (v as { size: number }).size;
  }
  return n;
}

/** Fully connected net `inputDim → hidden… → classes`. */
export function mlpWork(inputDim: number, hidden: readonly number[], classes: number): WorkModel {
  const dims = [inputDim, ...hidden, classes];
  const products: Product[] = [];
  let params = 0;
  for (let i = 0; i + 1 < dims.length; i++) {
    products.push({ m: 1, k: dims[i]!, n: dims[i + 1]!, weight: true, tangentIn: i > 0 });
    params += dims[i]! * dims[i + 1]! + dims[i + 1]!;
  }
  return model(products, params, inputDim, classes);
}

/** The TinyTransformer of `src/models/transformer.ts` (defaults: d 32, 4 heads, 2 blocks). */
export function transformerWork(
  inputDim: number,
  classes: number,
  o: { tokens?: number; dModel?: number; blocks?: number; ffnMult?: number; params: number },
): WorkModel {
  const tokens = o.tokens ?? Math.round(Math.sqrt(inputDim));
  const d = o.dModel ?? 32;
  const blocks = o.blocks ?? 2;
  const ffn = (o.ffnMult ?? 4) * d;
  const s = tokens + 1; // + CLS
  const products: Product[] = [
    { m: tokens, k: inputDim / tokens, n: d, weight: true, tangentIn: false },
  ];
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < 3; i++) products.push({ m: s, k: d, n: d, weight: true, tangentIn: true });
    // scores q·kᵀ and weights·v over all heads together: s × s × d each
    products.push({ m: s, k: d, n: s, weight: false, tangentIn: true });
    products.push({ m: s, k: s, n: d, weight: false, tangentIn: true });
    products.push({ m: s, k: d, n: d, weight: true, tangentIn: true });
    products.push({ m: s, k: d, n: ffn, weight: true, tangentIn: true });
    products.push({ m: s, k: ffn, n: d, weight: true, tangentIn: true });
  }
  products.push({ m: 1, k: d, n: classes, weight: true, tangentIn: true });
  return model(products, o.params, inputDim, classes);
}

/** FLOPs of one training step on a batch of `b` (forward + backward). */
export function stepFlops(w: WorkModel, b: number): number {
  return b * (w.forward + w.backward);
}

/** Bytes of one training step with Adam (see the module comment). */
export function stepBytes(w: WorkModel, b: number, bytesPerScalar = 4): number {
  const paramTraffic = w.params * (2 + 7); // forward + backward reads, Adam 4 reads + 3 writes
  const act = b * (2 * w.activations + 2 * w.inputDim);
  return bytesPerScalar * (paramTraffic + act);
}

/** FLOPs of one radius probe over `n` samples (FD for ρ_a: two forward passes, θ ± εv). */
export function probeFlops(w: WorkModel, n: number, method: "jvp" | "fd"): number {
  return method === "jvp" ? n * (w.forward + w.tangent) : 2 * n * w.forward;
}

/** Bytes of one radius probe over `n` samples (float32; FD returns the slopes only). */
export function probeBytes(w: WorkModel, n: number, method: "jvp" | "fd"): number {
  if (method === "jvp") {
    const host = n * w.classes * 2 * 8; // z and a copied out as float64
    return 4 * (2 * w.params + n * w.inputDim + 4 * n * w.activations + 2 * n * w.classes) + host;
  }
  const host = n * w.classes * 8; // a copied out as float64
  // params, direction and the two shifted copies; two passes over inputs and activations
  return 4 * (5 * w.params + 2 * (n * w.inputDim + 2 * n * w.activations)) + host;
}

/** FLOPs of an evaluation forward pass over `n` samples. */
export function forwardFlops(w: WorkModel, n: number): number {
  return n * w.forward;
}

/** Bytes of an evaluation forward pass over `n` samples (logits copied to the host). */
export function forwardBytes(w: WorkModel, n: number): number {
  return 4 * (w.params + n * w.inputDim + 2 * n * w.activations) + 8 * n * w.classes;
}
