import { beforeAll, describe, expect, it } from "vitest";
import { toDevice } from "../../src/engine/arrays.js";
import { initEngine } from "../../src/engine/runtime.js";
import { type ArrayTree, disposeTree, flattenToHost } from "../../src/engine/tree.js";
import { armijo } from "../../src/optim/armijo.js";
import { jitChain } from "../../src/optim/fuse.js";
import {
  adam,
  addDecayedWeights,
  allRadii,
  applyBorrowed,
  chain,
  clipByGlobalNorm,
  type GradientTransformation,
  identity,
  initBorrowed,
  rhoClip,
  rhoClipGrad,
  rhoSet,
  scale,
  scaleByAdam,
  scaleByExtra,
  scaleByLearningRate,
  scaleBySchedule,
  setToZero,
  sgd,
  spikeSchedule,
  type TrainingExtra,
  trace,
  updateBorrowed,
} from "../../src/optim/index.js";
import { polyak } from "../../src/optim/polyak.js";
import { expectNoLeak } from "../engine/leak.js";

beforeAll(async () => {
  await initEngine();
});

const values = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(seed + 0.37 * i));
const tree = (seed: number): ArrayTree => ({
  w: toDevice(values(48, seed), [6, 8]),
  b: toDevice(values(8, seed + 1), [8]),
});

/** Everything the training loop would pass, with a radius that makes the controllers scale. */
let gradient: ArrayTree = {};
beforeAll(() => {
  gradient = tree(5);
});
const extra: TrainingExtra = {
  radius: (_p, norm) => ({ rho: norm / 3, binding: "output" }),
  loss: 1,
  gradNorm: 1,
  get grad() {
    return gradient;
  },
  // large enough that rhoClipGrad's τ_g = lr·‖g‖ = 10 exceeds ρ = 1/3, so it scales
  learningRate: 10,
  lossAt: () => 0.5,
  gradDot: () => -1,
  gain: 0.5,
};

const links: [string, () => GradientTransformation<TrainingExtra>][] = [
  ["identity", () => identity()],
  ["setToZero", () => setToZero()],
  ["scale", () => scale(0.3)],
  ["scaleBySchedule", () => scaleBySchedule(spikeSchedule({ base: 1, multiplier: 3, at: 1 }))],
  ["scaleByExtra", () => scaleByExtra("gain")],
  ["scaleByLearningRate", () => scaleByLearningRate(0.1)],
  ["trace", () => trace({ decay: 0.9, nesterov: true })],
  ["scaleByAdam", () => scaleByAdam({ nesterov: true })],
  ["addDecayedWeights", () => addDecayedWeights({ weightDecay: 0.1, mask: { w: true, b: false } })],
  ["clipByGlobalNorm", () => clipByGlobalNorm(0.1)],
  ["rhoClip", () => rhoClip({ rMax: 1 })],
  ["rhoClipGrad", () => rhoClipGrad({ rMax: 1 })],
  ["jitChain(adam, rhoClipGrad)", () => jitChain(chain(scaleByAdam(), scale(-0.1)), rhoClipGrad())],
  ["rhoSet", () => rhoSet({ rTarget: 0.5 })],
  ["allRadii", () => allRadii({ mode: "set", rTarget: 0.5 })],
  ["armijo", () => armijo()],
  ["polyak", () => polyak()],
  ["chain(sgd, rhoClip)", () => chain(sgd(0.1), rhoClip())],
  ["adam", () => adam(1e-2)],
  ["jitChain(adam, rhoSet)", () => jitChain(scaleByAdam(), rhoSet({ rTarget: 1 }))],
];

describe("every link: no buffer growth over repeated updates, borrowed arguments intact", () => {
  for (const [name, make] of links) {
    it(name, async () => {
      const link = make();
      const params = tree(1);
      const grads = tree(2);
      const paramsBefore = flattenToHost(params);
      const gradsBefore = flattenToHost(grads);
      let state = initBorrowed(link, params);
      await expectNoLeak(() => {
        const [updates, next] = updateBorrowed(link, grads, state, params, extra);
        disposeTree(state);
        state = next;
        // jax-js evaluates lazily: until read, a new state keeps the old one's buffers alive
        // through its pending graph, which would look like (and hide) a leak.
        flattenToHost(updates);
        flattenToHost(state);
        disposeTree(applyBorrowed(params, updates));
        disposeTree(updates);
      });
      expect(flattenToHost(params)).toEqual(paramsBefore);
      expect(flattenToHost(grads)).toEqual(gradsBefore);
      disposeTree(state);
      disposeTree(params);
      disposeTree(grads);
      (link as { dispose?: () => void }).dispose?.();
    });
  }
});
