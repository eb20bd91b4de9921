import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadDigits, stratifiedSplit } from "softmax-ghosts/data";
import { evaluate, loadWeights, Scope, saveWeights, toDevice } from "softmax-ghosts/engine";
import { buildModel } from "softmax-ghosts/models";
import { train } from "softmax-ghosts/train";

const { train: trainSet, test } = stratifiedSplit(loadDigits(), { testFraction: 0.2, seed: 0 });
const model = buildModel("mlp", { inputDim: 64, numClasses: 10 }); // state {} (BatchNorm models: running statistics)
const result = await train({
  model,
  data: { train: trainSet, test },
  optimizer: { name: "adam", learningRate: 1e-3 },
  steps: 60,
  probe: { every: 0 },
});

const path = join(mkdtempSync(join(tmpdir(), "weights-")), "mlp.safetensors");
await saveWeights(path, result, { model: "mlp", steps: "60" }); // params + state, borrowed

// A fresh init is the template: names, shapes and dtypes must match it exactly. The scope
// owns what this part makes and frees it all at once.
const scope = new Scope();
const template = scope.own(model.init(0));
const loaded = await loadWeights(path, template);
scope.own(loaded.params);
scope.own(loaded.state);
const x = scope.own(toDevice(test.x, [test.n, test.d]));
const accuracy = evaluate(model, loaded.params, loaded.state, x, test.y).accuracy;
console.log(`trained ${result.finalTestAccuracy.toFixed(4)}, reloaded ${accuracy.toFixed(4)}`);
console.log(JSON.stringify(loaded.metadata));
scope.release();
result.release();
