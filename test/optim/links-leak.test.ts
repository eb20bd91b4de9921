import { beforeAll, describe, expect, it } from "vitest";
import { toDevice } from "../../src/engine/arrays.js";
import { initEngine, liveBufferCount } from "../../src/engine/runtime.js";
import { openCompiledFunctions } from "../../src/engine/scope.js";
import { type ArrayTree, disposeTree, flattenToHost } from "../../src/engine/tree.js";
import { armijo } from "../../src/optim/armijo.js";
import { jitChain } from "../../src/optim/fuse.js";
import {
  adam,
  adamDirection,
  adamw,
  adamwDirection,
  addDecayedWeights,
  allRadii,
  applyBorrowed,
  buildOptimizer,
  chain,
  clipByGlobalNorm,
  type GradientTransformation,
  identity,
  initBorrowed,
  rhoClip,
  rhoClipGrad,
  rhoSet,
  type ScaleByExtraArgs,
  scale,
  scaleByAdam,
  scaleByExtra,
  scaleByLearningRate,
  scaleBySchedule,
  setToZero,
  sgd,
  sgdDirection,
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
const extra: TrainingExtra & ScaleByExtraArgs<"gain"> = {
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

const links: [string, () => GradientTransformation<TrainingExtra & ScaleByExtraArgs<"gain">>][] = [
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
  ["sgdDirection (momentum)", () => sgdDirection({ momentum: 0.9 })],
  ["adamDirection", () => adamDirection()],
  ["adamwDirection", () => adamwDirection({ weightDecay: 0.1 })],
  ["adamw", () => adamw(1e-2)],
  ...(["sgd", "momentum", "nesterov", "adam", "adamw"] as const).map(
    (name): [string, () => GradientTransformation<TrainingExtra>] => [
      `buildOptimizer ${name} + spike + grad-clip, fused`,
      () => {
        const built = buildOptimizer(
          { name, learningRate: 0.1, spike: { multiplier: 10, at: 1 } },
          { name: "grad-clip", maxNorm: 0.5 },
        );
        return jitChain(built.prefix, built.suffix);
      },
    ],
  ),
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
      (link as { close?: () => void }).close?.();
    });
  }
});

describe("a fused chain holds its compiled code until close()", () => {
  it("close() frees it all; the closed chain runs on, eagerly, to the same numbers", async () => {
    const make = () => {
      const built = buildOptimizer(
        { name: "adamw", learningRate: 0.1, weightDecay: 0.1, spike: { multiplier: 10, at: 1 } },
        { name: "rho-clip", rMax: 1 },
      );
      return jitChain(built.prefix, built.suffix);
    };
    const params = tree(1);
    const grads = tree(2);
    const run = (fused: ReturnType<typeof make>, steps: number, closeAfter: number) => {
      let state = initBorrowed(fused, params);
      const out: Float64Array[] = [];
      for (let i = 0; i < steps; i++) {
        if (i === closeAfter) fused.close();
        const [updates, next] = updateBorrowed(fused, grads, state, params, extra);
        disposeTree(state);
        state = next;
        out.push(flattenToHost(updates));
        disposeTree(updates);
      }
      disposeTree(state);
      fused.close();
      return out;
    };
    run(make(), 3, 3); // warms what every compile shares
    const before = liveBufferCount();
    const open = openCompiledFunctions();
    const fused = make();
    expect(openCompiledFunctions()).toBe(open + 1);
    const compiled = run(fused, 3, 3);
    expect(openCompiledFunctions()).toBe(open);
    expect(liveBufferCount()).toBe(before);
    // Closed after the first update: the rest run op by op, with the same arithmetic.
    const eager = run(make(), 3, 1);
    expect(liveBufferCount()).toBe(before);
    expect(openCompiledFunctions()).toBe(open);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < compiled[i]!.length; j++) {
        expect(eager[i]![j]).toBeCloseTo(compiled[i]![j]!, 6);
      }
    }
    disposeTree(params);
    disposeTree(grads);
  });
});
