/**
 * The model contract every architecture implements.
 *
 * Arrays here are jax-js arrays (the engine's `DeviceArray`). `apply` and `forward` follow
 * jax-js's own ownership convention (every array argument is consumed) because they run
 * inside `jit`/`grad`/`jvp` traces; the engine's `consuming` adapter gives them that contract around bodies written
 * with borrowing ops, so no model counts references itself. Host-side code (training loop,
 * probe) never calls them directly: it goes through the borrowing entry points of `src/engine`.
 */
import type { DeviceArray as JaxArray } from "../engine/arrays.js";

/** A tree of parameter arrays, keyed by layer name. */
export type Params = { [name: string]: JaxArray | Params };

/** Non-trainable state (BatchNorm running statistics); `{}` for models without any. */
export type ModelState = { [name: string]: JaxArray | ModelState };

/** Options of one forward pass. */
export interface ApplyOptions {
  /** "train" uses batch statistics in BatchNorm and updates running statistics; "eval" never does. */
  mode: "train" | "eval";
  /** Non-trainable state to read (BatchNorm running statistics). Consumed like any array argument. */
  state?: ModelState;
  /** Softmax temperature: logits are divided by it (default 1). */
  temperature?: number;
  /** Also return transformer internals (attention scores, FFN pre-activations). */
  collectInternals?: boolean;
}

/** Intermediate tensors the all-radii controller probes (transformer only). */
export interface ModelInternals {
  /** Pre-softmax attention scores per block, each [batch, heads, queries, keys]. */
  attentionScores: JaxArray[];
  /** FFN pre-activations (the GELU inputs) per block, each [batch, tokens, hidden]. */
  ffnPreActivations: JaxArray[];
}

/** Everything one forward pass produces. */
export interface ForwardResult {
  /** [batch, classes] logits, already divided by the temperature. */
  logits: JaxArray;
  /** Updated state (train mode with BatchNorm); otherwise absent. */
  state?: ModelState;
  /** Present when `collectInternals` was asked for and the model has them. */
  internals?: ModelInternals;
}

/** Shape facts a model is built for. */
export interface ModelConfig {
  /** Number of input features per sample (64 for digits). */
  inputDim: number;
  /** Number of classes (10 for digits). */
  numClasses: number;
  /** Softmax temperature (default 1). */
  temperature?: number;
  /** Dtype of the parameters `init` creates (default "float32"). */
  dtype?: "float32" | "float64";
}

/** One architecture, built for a given input width and class count. */
export interface Model {
  /** Registry name: "linear" | "mlp" | "cnn" | "mlp-ln" | "cnn-bn" | "transformer" | … */
  readonly name: string;
  readonly config: Required<ModelConfig>;
  /** Fresh parameters and state with the layers' standard initialisation, seeded. */
  init(seed: number): { params: Params; state: ModelState };
  /** Logits for a batch x of shape [batch, inputDim]. */
  apply(params: Params, x: JaxArray, opts: ApplyOptions): JaxArray;
  /** Logits plus updated state and (optionally) internals. */
  forward(params: Params, x: JaxArray, opts: ApplyOptions): ForwardResult;
}
