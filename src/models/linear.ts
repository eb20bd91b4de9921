/** (1) Linear: the fully connected builder with no hidden layer. */
import { buildMlp } from "./mlp.js";
import type { Model, ModelConfig } from "./types.js";

/** (1) Linear: inputDim → classes (parameters: `head` {w [inputDim, classes], b}). */
export function buildLinear(config: ModelConfig): Model {
  return buildMlp(config, { name: "linear", hidden: [] });
}
