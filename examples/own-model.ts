import { loadDigits, stratifiedSplit } from "softmax-ghosts/data";
import { type JaxArray, op } from "softmax-ghosts/engine";
import {
  initDense,
  type Model,
  makeModel,
  type Params,
  resolveConfig,
} from "softmax-ghosts/models";
import { train } from "softmax-ghosts/train";

/** A two-layer tanh network: 64 → 32 → 10. */
function tanhNet(inputDim: number, numClasses: number): Model {
  const config = resolveConfig({ inputDim, numClasses }); // float32, temperature 1
  const init = (seed: number) => ({
    params: {
      hidden: initDense(seed, "hidden", inputDim, 32, config.dtype),
      out: initDense(seed, "out", 32, numClasses, config.dtype),
    },
    state: {}, // no BatchNorm statistics
  });
  // The body BORROWS params and x and computes with borrowing ops; the tidy it runs in
  // releases the intermediates (inside jit/grad/jvp traces too).
  const body = (params: Params, x: JaxArray) => {
    const { hidden, out } = params as {
      hidden: { w: JaxArray; b: JaxArray };
      out: { w: JaxArray; b: JaxArray };
    };
    const h = op.tanh(op.add(op.matmul(x, hidden.w), hidden.b));
    return { logits: op.add(op.matmul(h, out.w), out.b) }; // [batch, classes], before softmax
  };
  return makeModel("tanh-net", config, init, body);
}

const { train: trainSet, test } = stratifiedSplit(loadDigits(), { testFraction: 0.2, seed: 0 });
const result = await train({
  model: tanhNet(64, 10),
  data: { train: trainSet, test },
  optimizer: { name: "adam", learningRate: 1e-2 },
  controller: { name: "rho-clip", rMax: 1 },
  steps: 150,
  batchSize: 64,
  probe: { sampleSet: "batch" },
});
const maxR = Math.max(...result.history.map((s) => s.r));
console.log(`test accuracy ${result.finalTestAccuracy.toFixed(3)}, largest r ${maxR.toFixed(3)}`);
result.release(); // frees the final params and state
