/** Shared plumbing for the architectures: config defaults and the Model object. */
export { ModelConfigError } from "./errors.js";

import type { DeviceArray as JaxArray } from "../engine/arrays.js";
import { consuming } from "../engine/ops.js";
import { ModelConfigError } from "./errors.js";
import { applyTemperature } from "./layers.js";
import type {
  ApplyOptions,
  ForwardResult,
  Model,
  ModelConfig,
  ModelInternals,
  ModelState,
  Params,
} from "./types.js";

/** Fill in defaults and validate the shape facts. */
export function resolveConfig(config: ModelConfig): Required<ModelConfig> {
  const { inputDim, numClasses } = config;
  if (!Number.isInteger(inputDim) || inputDim < 1) {
    throw new ModelConfigError(`inputDim must be a positive integer, got ${inputDim}`);
  }
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new ModelConfigError(`numClasses must be an integer ≥ 2, got ${numClasses}`);
  }
  const temperature = config.temperature ?? 1;
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new ModelConfigError(`temperature must be a positive finite number, got ${temperature}`);
  }
  const dtype = config.dtype ?? "float32";
  if (dtype !== "float32" && dtype !== "float64") {
    throw new ModelConfigError(`dtype must be "float32" or "float64", got ${String(dtype)}`);
  }
  return { inputDim, numClasses, temperature, dtype };
}

/** What an architecture's body produces before the temperature is applied. */
export interface BodyResult {
  logits: JaxArray;
  state?: ModelState;
  internals?: ModelInternals;
}

/**
 * Build a `Model` from an initialiser and a body. The body borrows `params`, `x` and `state`
 * (the latter may be `{}`), computes with the engine's borrowing ops, and must only return
 * internals when asked to; `forward` and `apply` run it in a tidy and consume their
 * arguments (see `ModelInternals`' contract in `types.ts`).
 */
export function makeModel(
  name: string,
  config: Required<ModelConfig>,
  init: (seed: number) => { params: Params; state: ModelState },
  body: (
    params: Params,
    x: JaxArray,
    state: ModelState,
    mode: "train" | "eval",
    collectInternals: boolean,
  ) => BodyResult,
): Model {
  const run = (params: Params, x: JaxArray, opts: ApplyOptions): ForwardResult => {
    if (x.ndim !== 2 || x.shape[1] !== config.inputDim) {
      throw new ModelConfigError(
        `${name}: expected input of shape [batch, ${config.inputDim}], got [${x.shape.join(", ")}]`,
      );
    }
    const out = body(params, x, opts.state ?? {}, opts.mode, opts.collectInternals ?? false);
    const temperature = opts.temperature ?? config.temperature;
    const result: ForwardResult = { logits: applyTemperature(out.logits, temperature) };
    if (out.state) result.state = out.state;
    if (out.internals) result.internals = out.internals;
    return result;
  };
  const forward = (params: Params, x: JaxArray, opts: ApplyOptions): ForwardResult =>
    consuming([params, x, opts.state], () => run(params, x, opts));
  // The new state, made inside the tidy and not returned, is released with it.
  const apply = (params: Params, x: JaxArray, opts: ApplyOptions): JaxArray =>
    consuming(
      [params, x, opts.state],
      () => run(params, x, { ...opts, collectInternals: false }).logits,
    );
  return { name, config, init, apply, forward };
}

/** Integer square root, or null when n is not a perfect square. */
export function exactSqrt(n: number): number | null {
  const r = Math.round(Math.sqrt(n));
  return r * r === n ? r : null;
}
