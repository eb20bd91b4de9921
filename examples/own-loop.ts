import { batchIterator, loadDigits, stratifiedSplit } from "softmax-ghosts/data";
import {
  disposeTree,
  initEngine,
  labelsToDevice,
  lossAndGrad,
  refTree,
  toDevice,
  tree,
} from "softmax-ghosts/engine";
import { buildModel } from "softmax-ghosts/models";
import {
  applyUpdates,
  type ControlReport,
  chain,
  rhoClip,
  scaleByAdam,
  scaleByLearningRate,
} from "softmax-ghosts/optim";
import { RadiusProbe } from "softmax-ghosts/probe";

await initEngine();
const { train: trainSet } = stratifiedSplit(loadDigits(), { testFraction: 0.2, seed: 0 });
const model = buildModel("mlp", { inputDim: 64, numClasses: 10 });
let { params, state } = model.init(0);

// Any chain ending in a ρ-controller; the ×1000 learning rate is what ρ-clip is for.
const optimizer = chain(scaleByAdam(), scaleByLearningRate(1), rhoClip({ rMax: 1 }));
let optState = optimizer.init(refTree(params));
const probe = new RadiusProbe(model, trainSet, { sampleSet: "train" }); // same vocabulary as train()
const batches = batchIterator(trainSet, { batchSize: 64, seed: 1 });

for (let step = 0; step < 30; step++) {
  const batch = batches.next().value!;
  const x = toDevice(batch.x, [batch.size, 64]);
  const y = labelsToDevice(batch.y);
  const { loss, grads, state: nextState } = lossAndGrad(model, params, state, x, y);
  x.dispose();
  y.dispose();
  disposeTree(state);
  state = nextState;

  let control: ControlReport | undefined;
  const [updates, nextOptState] = optimizer.update(grads, optState, refTree(params), {
    radius: probe.at(params, state, batch.indices), // the one line a ρ-controller needs
    onControl: (c: ControlReport) => {
      control = c;
    },
  });
  optState = nextOptState;
  params = applyUpdates(params, updates);
  if (step % 10 === 0 && control) {
    const r = control.tau / control.rho;
    console.log(
      `step ${step} loss ${loss.toFixed(3)} proposed ${control.proposedNorm.toFixed(1)} τ ${control.tau.toFixed(3)} r ${r.toFixed(3)}`,
    );
  }
}
probe.dispose();
disposeTree(params);
disposeTree(state);
tree.dispose(optState);
