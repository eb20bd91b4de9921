/**
 * (5) CNN+BN: the input features as a 1-D signal: Conv1d(1→32, k3, same) → BatchNorm → ReLU,
 * Conv1d(32→32, k3, same) → BatchNorm → ReLU, global average pool, head. Convs keep PyTorch's
 * default bias (redundant in train mode, but it does move eval-mode logits).
 */
import * as op from "../engine/ops.js";
import { ModelConfigError, makeModel, resolveConfig } from "./common.js";
import {
  batchNorm1d,
  conv1dSame,
  dense,
  initBatchNormState,
  initConv,
  initDense,
  initNormAffine,
  isTreeNode,
  paramGroup,
  relu,
} from "./layers.js";
import type { Model, ModelConfig, ModelState } from "./types.js";

function stateGroup(s: ModelState, key: string): ModelState {
  const v = s[key];
  if (v === undefined || !isTreeNode(v)) {
    throw new ModelConfigError(`cnn-bn: missing BatchNorm running statistics "${key}" in state`);
  }
  return v as ModelState;
}

/**
 * Parameters: conv1 {w [32,1,3], b}, bn1 {gamma, beta}, conv2 {w [32,32,3], b}, bn2, head.
 * State: bn1 {mean, var}, bn2 {mean, var}.
 */
export function buildCnnBn(config: ModelConfig): Model {
  const cfg = resolveConfig(config);
  const ch = 32;
  const init = (seed: number) => ({
    params: {
      conv1: initConv(seed, "conv1", 1, ch, [3], cfg.dtype),
      bn1: initNormAffine(ch, cfg.dtype),
      conv2: initConv(seed, "conv2", ch, ch, [3], cfg.dtype),
      bn2: initNormAffine(ch, cfg.dtype),
      head: initDense(seed, "head", ch, cfg.numClasses, cfg.dtype),
    },
    state: { bn1: initBatchNormState(ch, cfg.dtype), bn2: initBatchNormState(ch, cfg.dtype) },
  });
  return makeModel("cnn-bn", cfg, init, (params, x, state, mode) => {
    const b = x.shape[0]!;
    const s1 = stateGroup(state, "bn1");
    const s2 = stateGroup(state, "bn2");
    let h = conv1dSame(paramGroup(params, "conv1"), op.reshape(x, [b, 1, cfg.inputDim]));
    const r1 = batchNorm1d(paramGroup(params, "bn1"), s1, h, mode);
    h = conv1dSame(paramGroup(params, "conv2"), relu(r1.y));
    const r2 = batchNorm1d(paramGroup(params, "bn2"), s2, h, mode);
    const pooled = op.meanOver(relu(r2.y), 2);
    const logits = dense(paramGroup(params, "head"), pooled);
    if (mode === "train") return { logits, state: { bn1: r1.state!, bn2: r2.state! } };
    return { logits };
  });
}
