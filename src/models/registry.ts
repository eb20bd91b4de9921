/** Architecture names → builders. */
import { buildCnn } from "./cnn.js";
import { buildCnnBn } from "./cnnBn.js";
import { ModelConfigError } from "./common.js";
import { buildLinear } from "./linear.js";
import { buildMlpGelu, buildMlpRelu } from "./mlp.js";
import { buildMlpLn } from "./mlpLn.js";
import { buildResNet18, buildResNetSmall } from "./resnet.js";
import { buildTransformer, type TransformerOptions } from "./transformer.js";
import type { Model, ModelConfig } from "./types.js";

/** Extra per-architecture options a registry build accepts (ignored where irrelevant). */
export interface ArchitectureOptions {
  /** Transformer only: number of equal tokens the input is cut into. */
  tokens?: TransformerOptions["tokens"];
  /** Transformer only: biases of the q/k/v/o projections (default true). */
  attentionBias?: TransformerOptions["attentionBias"];
}

/** Builds a model for a given input width and class count. */
export type ModelBuilder = (config: ModelConfig & ArchitectureOptions) => Model;

/**
 * The six architectures of docs/science.md §4, the LR-spike protocol's ReLU MLP, and the residual CNNs
 * of the natural-instability experiment.
 */
export const MODEL_REGISTRY = {
  linear: buildLinear,
  mlp: buildMlpGelu,
  "mlp-relu": buildMlpRelu,
  cnn: buildCnn,
  "mlp-ln": buildMlpLn,
  "cnn-bn": buildCnnBn,
  transformer: (config: ModelConfig & ArchitectureOptions) => {
    const options: TransformerOptions = {};
    if (config.tokens !== undefined) options.tokens = config.tokens;
    if (config.attentionBias !== undefined) options.attentionBias = config.attentionBias;
    return buildTransformer(config, options);
  },
  "resnet-small": buildResNetSmall,
  resnet18: buildResNet18,
} as const satisfies Record<string, ModelBuilder>;

/** A registered architecture name. */
export type ModelName = keyof typeof MODEL_REGISTRY;

/** The six paper architectures, in SPEC order. */
export const PAPER_ARCHITECTURES: readonly ModelName[] = [
  "linear",
  "mlp",
  "cnn",
  "mlp-ln",
  "cnn-bn",
  "transformer",
];

/** Every registered name. */
export const MODEL_NAMES = Object.keys(MODEL_REGISTRY) as ModelName[];

/** Whether `name` is a registered architecture. */
export function isModelName(name: string): name is ModelName {
  return Object.hasOwn(MODEL_REGISTRY, name);
}

/** Build a registered architecture; throws naming the known ones for an unknown name. */
export function buildModel(name: string, config: ModelConfig & ArchitectureOptions): Model {
  if (!isModelName(name)) {
    throw new ModelConfigError(`unknown model "${name}"; known: ${MODEL_NAMES.join(", ")}`);
  }
  const builder: ModelBuilder = MODEL_REGISTRY[name];
  return builder(config);
}
