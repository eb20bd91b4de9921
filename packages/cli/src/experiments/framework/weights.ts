/**
 * `--save DIR`: the final weights of every run an invocation computes, as
 * `DIR/<experiment>/<runKey>.safetensors` (params and model state; see `saveWeights`).
 *
 * @module
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { saveWeights, type Weights } from "softmax-ghosts/engine";

/** The `ctx.saveWeights` of one run: writes its weights, tagged with the run's identity. */
export function runWeightSaver(
  dir: string,
  experiment: string,
  runKey: string,
): (weights: Weights) => Promise<void> {
  return async (weights) => {
    const folder = join(dir, experiment);
    await mkdir(folder, { recursive: true });
    await saveWeights(join(folder, `${runKey}.safetensors`), weights, { experiment, run: runKey });
  };
}
