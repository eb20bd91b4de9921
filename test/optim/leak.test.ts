import { blockUntilReady, defaultDevice, init, jit, numpy as np, tree } from "@jax-js/jax";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type ArrayTree,
  addDecayedWeights,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  type GradientTransformation,
  type OptState,
  type ScaleByExtraArgs,
  scaleByAdam,
  scaleByExtra,
  scaleByLearningRate,
  sgd,
  spikeSchedule,
  treeGlobalNorm,
} from "../../src/optim/index.js";
import {
  installLiveBufferCounter,
  type LeafSpec,
  type LiveBufferCounter,
  randomRef,
  rng,
  toJax,
} from "./helpers.js";

let counter: LiveBufferCounter;

beforeAll(async () => {
  await init("wasm");
  defaultDevice("wasm");
  counter = await installLiveBufferCounter("wasm");
});

afterAll(() => counter.uninstall());

const STEPS = 1000;
const u = rng(99);
/**
 * Eager jax-js costs ~0.1 ms per op on wasm, so the eager runs use a two-leaf tree (a matrix and
 * a 0-d scalar) to keep 1,000 steps fast; the jitted run uses the same tree.
 */
const SMALL: LeafSpec[] = [
  { path: ["w"], shape: [3, 4] },
  { path: ["t"], shape: [] },
];
const gradsPool = Array.from({ length: 4 }, () => randomRef(u, SMALL, 3));

/** The most demanding chain: clipping, Adam, scheduled decoupled decay, spiked learning rate, extra-driven scale. */
function bigChain(): GradientTransformation<ScaleByExtraArgs<"gain">> {
  return chain(
    clipByGlobalNorm(1),
    scaleByAdam({ nesterov: true }),
    addDecayedWeights({ weightDecay: spikeSchedule({ base: 1e-4, multiplier: 10, at: 500 }) }),
    scaleByLearningRate(spikeSchedule({ base: 1e-3, multiplier: 5, at: 100, once: true })),
    scaleByExtra("gain"),
  );
}

/** The mutation runs (bench/mutation) leave these out: minutes per mutant. */
const describeSlow = process.env["GHOSTS_MUTATION"] === undefined ? describe : describe.skip;

describeSlow("no device-buffer leaks over 1,000 steps", () => {
  test("the counter sees a leaked buffer (positive control)", async () => {
    const before = counter.live();
    // Built from data (a constant like np.ones() would be a buffer-less expression).
    const leaked = np.array([1, 2, 3]).add(1);
    await blockUntilReady(leaked);
    expect(counter.live()).toBe(before + 1);
    leaked.dispose();
    expect(counter.live()).toBe(before);
  });

  const cases: [string, () => GradientTransformation<ScaleByExtraArgs<"gain">>][] = [
    ["eager clip+NAdam+scheduled decay+spike", bigChain],
    ["eager Nesterov SGD", () => sgd(0.01, { momentum: 0.9, nesterov: true })],
  ];
  for (const [name, make] of cases) {
    test(name, async () => {
      const opt = make();
      const gain = np.array(0.5);
      let params = toJax(randomRef(u, SMALL), SMALL);
      let state = opt.init(tree.ref(params));
      let afterWarmup = -1;
      for (let t = 0; t < STEPS; t++) {
        const [upd, next] = opt.update(toJax(gradsPool[t % 4], SMALL), state, tree.ref(params), {
          gain,
        });
        params = applyUpdates(params, upd);
        state = next;
        if (t % 10 === 9) await blockUntilReady([params, state]);
        if (t === 19) afterWarmup = counter.live();
      }
      await blockUntilReady([params, state]);
      expect(counter.live()).toBe(afterWarmup);
      expect(Number.isFinite(treeGlobalNorm(tree.ref(params)).item())).toBe(true);
      const live = counter.live();
      tree.dispose([params, state]);
      gain.dispose();
      expect(counter.live()).toBeLessThan(live);
    });
  }

  test("jitted clip+NAdam+scheduled decay+spike", async () => {
    const opt = bigChain();
    const step = jit((p: ArrayTree, s: OptState, g: ArrayTree, gain: np.Array) => {
      const [upd, next] = opt.update(g, s, tree.ref(p), { gain });
      gain.dispose();
      return [applyUpdates(p, upd), next] as [ArrayTree, OptState];
    });
    const gain = np.array(0.5);
    const start = counter.live();
    let params = toJax(randomRef(u, SMALL), SMALL);
    let state = opt.init(tree.ref(params));
    let afterWarmup = -1;
    for (let t = 0; t < STEPS; t++) {
      [params, state] = step(params, state, toJax(gradsPool[t % 4], SMALL), gain.ref);
      if (t % 10 === 9) await blockUntilReady([params, state]);
      if (t === 19) afterWarmup = counter.live();
    }
    await blockUntilReady([params, state]);
    expect(counter.live()).toBe(afterWarmup);
    tree.dispose([params, state]);
    gain.dispose();
    step.dispose();
    expect(counter.live()).toBe(start);
  });
});
