/**
 * (3) CNN on a square single-channel image: conv3×3 (1→16, same) GELU maxpool2,
 * conv3×3 (16→32, same) GELU maxpool2, flatten → 64 GELU → classes.
 * For 8×8 digits the flattened width is 32·2·2 = 128.
 */
import * as op from "../engine/ops.js";
import { exactSqrt, ModelConfigError, makeModel, resolveConfig } from "./common.js";
import { conv2dSame, dense, gelu, initConv, initDense, maxPool2, paramGroup } from "./layers.js";
import type { Model, ModelConfig } from "./types.js";

/** Parameters: conv1 {w [16,1,3,3], b}, conv2 {w [32,16,3,3], b}, fc1 {w [flat, 64], b}, head. */
export function buildCnn(config: ModelConfig): Model {
  const cfg = resolveConfig(config);
  const side = exactSqrt(cfg.inputDim);
  if (side === null) {
    throw new ModelConfigError(
      `cnn: inputDim ${cfg.inputDim} is not a perfect square; the 2-D CNN needs a square ` +
        `single-channel image (e.g. 64 = 8×8). Use "cnn-bn" (1-D) or "mlp" for other widths.`,
    );
  }
  if (side % 4 !== 0) {
    throw new ModelConfigError(
      `cnn: image side ${side} (inputDim ${cfg.inputDim}) must be divisible by 4 for the two ` +
        `2×2 max-pools`,
    );
  }
  const c1 = 16;
  const c2 = 32;
  const flat = c2 * (side / 4) * (side / 4);
  const init = (seed: number) => ({
    params: {
      conv1: initConv(seed, "conv1", 1, c1, [3, 3], cfg.dtype),
      conv2: initConv(seed, "conv2", c1, c2, [3, 3], cfg.dtype),
      fc1: initDense(seed, "fc1", flat, 64, cfg.dtype),
      head: initDense(seed, "head", 64, cfg.numClasses, cfg.dtype),
    },
    state: {},
  });
  return makeModel("cnn", cfg, init, (params, x) => {
    const b = x.shape[0]!;
    let h = op.reshape(x, [b, 1, side, side]);
    h = maxPool2(gelu(conv2dSame(paramGroup(params, "conv1"), h)));
    h = maxPool2(gelu(conv2dSame(paramGroup(params, "conv2"), h)));
    h = gelu(dense(paramGroup(params, "fc1"), op.reshape(h, [b, flat])));
    return { logits: dense(paramGroup(params, "head"), h) };
  });
}
