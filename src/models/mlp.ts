/**
 * Fully connected models from one builder: Linear (no hidden layer), MLP (GELU or ReLU),
 * and MLP+LN (Linear → LayerNorm → activation blocks).
 */
import { ModelConfigError, makeModel, resolveConfig } from "./common.js";
import {
  type Activation,
  activate,
  dense,
  initDense,
  initNormAffine,
  layerNorm,
  paramGroup,
} from "./layers.js";
import type { Model, ModelConfig, Params } from "./types.js";

/** Shape of a fully connected model. */
export interface MlpOptions {
  /** Registry name of the result. */
  name: string;
  /** Hidden widths, input side first; [] gives the linear model. */
  hidden: readonly number[];
  /** Activation after each hidden layer (default "gelu"). */
  activation?: Activation;
  /** Insert a LayerNorm between each hidden Linear and its activation (default false). */
  layerNorm?: boolean;
}

/**
 * Parameters: `fc1 … fcN` ({w [in, out], b}), `ln1 … lnN` ({gamma, beta}) when layerNorm is
 * set, and `head` ({w [hidden, classes], b}).
 */
export function buildMlp(config: ModelConfig, options: MlpOptions): Model {
  const cfg = resolveConfig(config);
  const activation = options.activation ?? "gelu";
  const useLn = options.layerNorm ?? false;
  const hidden = [...options.hidden];
  for (const h of hidden) {
    if (!Number.isInteger(h) || h < 1)
      throw new ModelConfigError(`${options.name}: bad hidden width ${h}`);
  }
  const init = (seed: number) => {
    const params: Params = {};
    let fanIn = cfg.inputDim;
    hidden.forEach((h, i) => {
      params[`fc${i + 1}`] = initDense(seed, `fc${i + 1}`, fanIn, h, cfg.dtype);
      if (useLn) params[`ln${i + 1}`] = initNormAffine(h, cfg.dtype);
      fanIn = h;
    });
    params["head"] = initDense(seed, "head", fanIn, cfg.numClasses, cfg.dtype);
    return { params, state: {} };
  };
  return makeModel(options.name, cfg, init, (params, x) => {
    let h = x;
    for (let i = 1; i <= hidden.length; i++) {
      h = dense(paramGroup(params, `fc${i}`), h);
      if (useLn) h = layerNorm(paramGroup(params, `ln${i}`), h);
      h = activate(activation, h);
    }
    return { logits: dense(paramGroup(params, "head"), h) };
  });
}

/** (2) MLP: inputDim → 128 → 128 → classes, exact GELU, no normalisation. */
export function buildMlpGelu(config: ModelConfig): Model {
  return buildMlp(config, { name: "mlp", hidden: [128, 128], activation: "gelu" });
}

/** The LR-spike protocol's model: inputDim → 128 → classes, ReLU. */
export function buildMlpRelu(config: ModelConfig): Model {
  return buildMlp(config, { name: "mlp-relu", hidden: [128], activation: "relu" });
}
