import { batchIterator, loadDigits, stratifiedSplit } from "softmax-ghosts/data";
import {
  Holder,
  initEngine,
  labelsToDevice,
  lossAndGrad,
  scoped,
  toDevice,
} from "softmax-ghosts/engine";
import { buildModel } from "softmax-ghosts/models";
import {
  applyBorrowed,
  type ControlReport,
  chain,
  initBorrowed,
  rhoClip,
  scaleByAdam,
  scaleByLearningRate,
  updateBorrowed,
} from "softmax-ghosts/optim";
import { RadiusProbe } from "softmax-ghosts/probe";

await initEngine();
const { train: trainSet } = stratifiedSplit(loadDigits(), { testFraction: 0.2, seed: 0 });
const model = buildModel("mlp", { inputDim: 64, numClasses: 10 });
const init = model.init(0);
// A holder owns a value that every step replaces: `set` releases the previous one.
const params = new Holder(init.params);
const state = new Holder(init.state);

// Any chain ending in a ρ-controller; the ×1000 learning rate is what ρ-clip is for.
const optimizer = chain(scaleByAdam(), scaleByLearningRate(1), rhoClip({ rMax: 1 }));
const optState = new Holder(initBorrowed(optimizer, params.get()));
const probe = new RadiusProbe(model, trainSet, { sampleSet: "train" }); // same vocabulary as train()
const batches = batchIterator(trainSet, { batchSize: 64, seed: 1 });

for (let step = 0; step < 30; step++) {
  const batch = batches.next().value!;
  // The scope owns the step's arrays and releases them together when the step returns.
  scoped((scope) => {
    const x = scope.own(toDevice(batch.x, [batch.size, 64]));
    const y = scope.own(labelsToDevice(batch.y));
    const { loss, grads, state: next } = lossAndGrad(model, params.get(), state.get(), x, y);
    scope.own(grads);
    state.set(next);

    let control: ControlReport | undefined;
    const [updates, nextOptState] = updateBorrowed(optimizer, grads, optState.get(), params.get(), {
      radius: probe.at(params.get(), state.get(), batch.indices), // the one line a ρ-controller needs
      onControl: (c: ControlReport) => {
        control = c;
      },
    });
    optState.set(nextOptState);
    params.set(applyBorrowed(params.get(), scope.own(updates)));
    if (step % 10 === 0 && control) {
      const r = control.tau / control.rho;
      console.log(
        `step ${step} loss ${loss.toFixed(3)} proposed ${control.proposedNorm.toFixed(1)} τ ${control.tau.toFixed(3)} r ${r.toFixed(3)}`,
      );
    }
  });
}
probe.release();
for (const held of [params, state, optState]) held.release();
