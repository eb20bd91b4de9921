/**
 * (6) TinyTransformer: the input cut into `tokens` equal pieces (8 rows of 8 pixels for
 * digits), a linear embedding to d = 32, a learned CLS token and learned positions (tokens+1),
 * 2 pre-norm encoder blocks (4 heads, FFN 4d with exact GELU), final LayerNorm, head on CLS.
 *
 * Initialisation: every Linear (embedding, q/k/v/o projections, FFN, head) uses the PyTorch
 * nn.Linear default U(±1/√fan_in) for weight and bias; CLS and positions ~ N(0, 0.02²)
 * (the ViT/BERT convention); LayerNorm γ = 1, β = 0. With `attentionBias: false` the q/k/v/o
 * projections have weights only (the published reference's attention); their weights are
 * drawn exactly as with biases, so the two variants share every other parameter.
 */
import type { DeviceArray as JaxArray } from "../engine/arrays.js";
import * as op from "../engine/ops.js";
import { exactSqrt, ModelConfigError, makeModel, resolveConfig } from "./common.js";
import {
  dense,
  gelu,
  initDense,
  initNormAffine,
  initNormal,
  layerNorm,
  paramGroup,
  paramLeaf,
  selfAttention,
} from "./layers.js";
import type { Model, ModelConfig, Params } from "./types.js";

/** Shape of the transformer (defaults: docs/science.md's TinyTransformer). */
export interface TransformerOptions {
  /** Number of tokens the input is cut into (default √inputDim when inputDim is square). */
  tokens?: number;
  /** Model width d (default 32). */
  dModel?: number;
  /** Attention heads (default 4). */
  heads?: number;
  /** Encoder blocks (default 2). */
  blocks?: number;
  /** FFN hidden width as a multiple of d (default 4). */
  ffnMult?: number;
  /**
   * Whether the q/k/v/o projections have biases (default true). `false` is the published
   * reference's attention (`nn.Linear(…, bias=False)`).
   */
  attentionBias?: boolean;
}

/**
 * Parameters: embed {w [f, d], b}, cls [d], pos [tokens+1, d], block1 … blockN each
 * {ln1, attn {q, k, v, o} (each {w, b}, or {w} without attention biases), ln2, fc1 {w [d, 4d]},
 * fc2 {w [4d, d]}}, lnf, head {w [d, classes]}.
 */
export function buildTransformer(config: ModelConfig, options: TransformerOptions = {}): Model {
  const cfg = resolveConfig(config);
  let tokens = options.tokens;
  if (tokens === undefined) {
    const side = exactSqrt(cfg.inputDim);
    if (side === null) {
      throw new ModelConfigError(
        `transformer: inputDim ${cfg.inputDim} is not a perfect square, so the default token ` +
          `count (√inputDim rows) is undefined; pass the "tokens" option (a divisor of inputDim)`,
      );
    }
    tokens = side;
  }
  if (!Number.isInteger(tokens) || tokens < 1 || cfg.inputDim % tokens !== 0) {
    throw new ModelConfigError(
      `transformer: inputDim ${cfg.inputDim} cannot be cut into ${tokens} equal tokens`,
    );
  }
  const t = tokens;
  const feat = cfg.inputDim / t;
  const d = options.dModel ?? 32;
  const heads = options.heads ?? 4;
  const nBlocks = options.blocks ?? 2;
  const ffn = (options.ffnMult ?? 4) * d;
  const attentionBias = options.attentionBias ?? true;
  const projection = (seed: number, path: string): Params =>
    initDense(seed, path, d, d, cfg.dtype, { bias: attentionBias });
  if (d % heads !== 0)
    throw new ModelConfigError(`transformer: d = ${d} not divisible by ${heads} heads`);

  const init = (seed: number) => {
    const params: Params = {
      embed: initDense(seed, "embed", feat, d, cfg.dtype),
      cls: initNormal(seed, "cls", [d], 0.02, cfg.dtype),
      pos: initNormal(seed, "pos", [t + 1, d], 0.02, cfg.dtype),
    };
    for (let i = 1; i <= nBlocks; i++) {
      const p = `block${i}`;
      params[p] = {
        ln1: initNormAffine(d, cfg.dtype),
        attn: {
          q: projection(seed, `${p}.attn.q`),
          k: projection(seed, `${p}.attn.k`),
          v: projection(seed, `${p}.attn.v`),
          o: projection(seed, `${p}.attn.o`),
        },
        ln2: initNormAffine(d, cfg.dtype),
        fc1: initDense(seed, `${p}.fc1`, d, ffn, cfg.dtype),
        fc2: initDense(seed, `${p}.fc2`, ffn, d, cfg.dtype),
      };
    }
    params["lnf"] = initNormAffine(d, cfg.dtype);
    params["head"] = initDense(seed, "head", d, cfg.numClasses, cfg.dtype);
    return { params, state: {} };
  };

  return makeModel("transformer", cfg, init, (params, x, _state, _mode, collect) => {
    const b = x.shape[0]!;
    const emb = dense(paramGroup(params, "embed"), op.reshape(x, [b, t, feat]));
    const cls = op.broadcastTo(op.reshape(paramLeaf(params, "cls"), [1, 1, d]), [b, 1, d]);
    let h: JaxArray = op.add(
      op.concatenate([cls, emb], 1),
      op.reshape(paramLeaf(params, "pos"), [1, t + 1, d]),
    );
    const scores: JaxArray[] = [];
    const pre: JaxArray[] = [];
    for (let i = 1; i <= nBlocks; i++) {
      const blk = paramGroup(params, `block${i}`);
      const att = selfAttention(
        paramGroup(blk, "attn"),
        layerNorm(paramGroup(blk, "ln1"), h),
        heads,
      );
      if (collect) scores.push(att.scores);
      h = op.add(h, att.y);
      const u = dense(paramGroup(blk, "fc1"), layerNorm(paramGroup(blk, "ln2"), h));
      if (collect) pre.push(u);
      h = op.add(h, dense(paramGroup(blk, "fc2"), gelu(u)));
    }
    h = layerNorm(paramGroup(params, "lnf"), h);
    const logits = dense(paramGroup(params, "head"), op.slice(h, [], 0));
    if (!collect) return { logits };
    return { logits, internals: { attentionScores: scores, ffnPreActivations: pre } };
  });
}
