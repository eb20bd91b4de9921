/** (4) MLP+LN: the fully connected builder with LayerNorm blocks. */
import { buildMlp } from "./mlp.js";
import type { Model, ModelConfig } from "./types.js";

/** (4) MLP+LN: three blocks Linear(→64) → LayerNorm → GELU, then the head. */
export function buildMlpLn(config: ModelConfig): Model {
  return buildMlp(config, {
    name: "mlp-ln",
    hidden: [64, 64, 64],
    activation: "gelu",
    layerNorm: true,
  });
}
