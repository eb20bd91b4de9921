import {
  blockUntilReady,
  defaultDevice,
  grad,
  init,
  type Array as JaxArray,
  jit,
  numpy as np,
  tree,
} from "@jax-js/jax";
import { beforeAll, describe, expect, test } from "vitest";
import {
  type ArrayTree,
  adam,
  adamDirection,
  adamw,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  type GradientTransformation,
  type OptState,
  sgd,
  sgdDirection,
  spikeSchedule,
  treeGlobalNormHost,
  treeMapArrays,
  treeSumOfSquares,
} from "../../src/optim/index.js";
import { copyRef, expectClose, fromJax, type RefTree, randomRef, rng, toJax } from "./helpers.js";
import { type RefOptimizer, refAdam, refApply, refClip, refMap, refSgd } from "./reference.js";

beforeAll(async () => {
  await init("wasm");
  defaultDevice("wasm");
});

/**
 * Run an optimizer and its float64 reference side by side for `steps` steps on random gradients,
 * applying updates to the parameters on both sides, and compare parameters after every step.
 */
function compare(
  opt: GradientTransformation,
  ref: RefOptimizer,
  { steps = 6, seed = 3, rtol = 1e-5, atol = 1e-6, clip = Infinity } = {},
): void {
  const u = rng(seed);
  let refParams = randomRef(u);
  let params = toJax(refParams);
  let state = opt.init(tree.ref(params));
  for (let t = 0; t < steps; t++) {
    const g = randomRef(u, undefined, 0.7);
    const [upd, next] = opt.update(toJax(g), state, tree.ref(params));
    state = next;
    params = applyUpdates(params, upd);
    refParams = refApply(refParams, ref.step(clip === Infinity ? g : refClip(g, clip), refParams));
    expectClose(fromJax(params), refParams, rtol, atol);
  }
  tree.dispose([params, state]);
}

describe("optimizers match float64 PyTorch-semantics references", () => {
  test("SGD", () => compare(sgd(0.1), refSgd(0.1)));
  test("heavy-ball momentum", () => compare(sgd(0.05, { momentum: 0.9 }), refSgd(0.05, 0.9)));
  test("Nesterov momentum", () =>
    compare(sgd(0.05, { momentum: 0.9, nesterov: true }), refSgd(0.05, 0.9, true)));
  test("momentum with coupled weight decay (PyTorch SGD weight_decay: inside the buffer)", () =>
    compare(sgd(0.05, { momentum: 0.9, weightDecay: 5e-2 }), refSgd(0.05, 0.9, false, 5e-2)));
  test("plain SGD with coupled weight decay", () =>
    compare(sgd(0.1, { weightDecay: 0.1 }), refSgd(0.1, 0, false, 0.1)));
  test("weight decay moves the result (the reference without it differs)", () => {
    expect(() =>
      compare(sgd(0.05, { momentum: 0.9, weightDecay: 5e-2 }), refSgd(0.05, 0.9)),
    ).toThrow();
  });
  test("SGD with a spike schedule", () => {
    const lr = spikeSchedule({ base: 0.01, multiplier: 20, at: 2, once: true });
    compare(sgd(lr, { momentum: 0.5 }), refSgd(lr, 0.5));
  });
  test("Adam", () => compare(adam(1e-2), refAdam({ lr: 1e-2 }), { rtol: 1e-4, atol: 1e-6 }));
  test("Adam, custom betas", () =>
    compare(
      adam(3e-2, { b1: 0.5, b2: 0.9, eps: 1e-4 }),
      refAdam({ lr: 3e-2, b1: 0.5, b2: 0.9, eps: 1e-4 }),
      {
        rtol: 1e-4,
      },
    ));
  test("AdamW", () =>
    compare(adamw(1e-2, { weightDecay: 0.1 }), refAdam({ lr: 1e-2, weightDecay: 0.1 }), {
      rtol: 1e-4,
    }));
  test("AdamW default weight decay is 1e-4", () =>
    compare(adamw(1e-2), refAdam({ lr: 1e-2, weightDecay: 1e-4 }), { rtol: 1e-4 }));
  test("AdamW with a mask", () =>
    compare(
      adamw(1e-2, {
        weightDecay: 0.5,
        mask: (p: ArrayTree) => tree.map((x: JaxArray) => x.ndim >= 2, p),
      }),
      refAdam({ lr: 1e-2, weightDecay: 0.5, mask: [true, false, true, false, false] }),
      { rtol: 1e-4 },
    ));
  test("gradient clipping then AdamW", () =>
    compare(
      chain(clipByGlobalNorm(1), adamw(1e-2, { weightDecay: 0.1 })),
      refAdam({ lr: 1e-2, weightDecay: 0.1 }),
      {
        rtol: 1e-4,
        clip: 1,
      },
    ));
  test("sgd rejects Nesterov without momentum", () => {
    expect(() => sgd(0.1, { nesterov: true })).toThrow(/momentum/);
  });
});

describe("directions (no learning rate) for the schedule-free controller", () => {
  test("adamDirection is the update of adam(lr) divided by −lr", () => {
    const u = rng(11);
    const gs = [randomRef(u), randomRef(u)];
    const run = (opt: GradientTransformation) => {
      let s = opt.init(toJax(gs[0]));
      const outs: RefTree[] = [];
      for (const g of gs) {
        const [o, n] = opt.update(toJax(g), s);
        outs.push(fromJax(o));
        tree.dispose(o);
        s = n;
      }
      tree.dispose(s);
      return outs;
    };
    const dir = run(adamDirection());
    const full = run(adam(0.5));
    dir.forEach((d, i) => {
      expectClose(
        refMap((x) => -0.5 * x, d),
        full[i],
        1e-6,
        1e-7,
      );
    });
    const mom = run(sgdDirection({ momentum: 0.9 }));
    expectClose(
      mom[1],
      refMap((a, b) => 0.9 * a + b, gs[0], gs[1]),
    );
  });
});

describe("convergence on a quadratic", () => {
  // f(θ) = ½ Σ a·(θ − c)², curvature a ∈ [0.5, 2]; minimum f = 0 at θ = c.
  const u = rng(5);
  const target = randomRef(u);
  const curvature = randomRef(u).map((leaf) => leaf.map((x) => 0.5 + 1.5 * Math.abs(Math.tanh(x))));

  const loss = (p: ArrayTree, c: ArrayTree, a: ArrayTree): JaxArray =>
    treeSumOfSquares(treeMapArrays((x, y, z) => x.sub(y).mul(np.sqrt(z)), p, c, a)).mul(0.5);

  const cases: [string, GradientTransformation, number][] = [
    ["SGD", sgd(0.5), 100],
    ["heavy ball", sgd(0.1, { momentum: 0.9 }), 300],
    ["Nesterov", sgd(0.1, { momentum: 0.9, nesterov: true }), 300],
    ["Adam", adam(spikeSchedule({ base: 0.05, multiplier: 0.1, at: 300 })), 500],
    [
      "AdamW (decay 1e-6)",
      adamw(spikeSchedule({ base: 0.05, multiplier: 0.1, at: 300 }), { weightDecay: 1e-6 }),
      500,
    ],
    ["clip + SGD", chain(clipByGlobalNorm(0.5), sgd(0.5)), 200],
  ];
  for (const [name, opt, steps] of cases) {
    test(name, async () => {
      const c = toJax(target);
      const a = toJax(curvature);
      const gradFn = grad((p: ArrayTree, cc: ArrayTree, aa: ArrayTree) => loss(p, cc, aa));
      const step = jit((p: ArrayTree, s: OptState, cc: ArrayTree, aa: ArrayTree) => {
        const g = gradFn(tree.ref(p), cc, aa) as ArrayTree;
        const [upd, next] = opt.update(g, s, tree.ref(p));
        return [applyUpdates(p, upd), next] as [ArrayTree, OptState];
      });
      let params = toJax(refMap(() => 0, target));
      let state = opt.init(tree.ref(params));
      const initial = loss(tree.ref(params), tree.ref(c), tree.ref(a)).item();
      for (let t = 0; t < steps; t++) {
        [params, state] = step(params, state, tree.ref(c), tree.ref(a));
        // jax-js queues work until something is read; letting the queue grow makes each step
        // slower (quadratic overall), so flush it regularly as jax-js recommends.
        if (t % 10 === 9) await blockUntilReady([params, state]);
      }
      const final = loss(tree.ref(params), tree.ref(c), tree.ref(a)).item();
      expect(initial).toBeGreaterThan(1);
      expect(final).toBeLessThan(1e-6 * initial);
      const err = treeGlobalNormHost(
        treeMapArrays((x, y) => x.sub(y), tree.ref(params), tree.ref(c)),
      );
      expect(err).toBeLessThan(1e-2);
      tree.dispose([params, state, c, a]);
      step.dispose();
    });
  }
});

describe("jit", () => {
  test("a jitted clip+AdamW+spike step matches the eager one", () => {
    const opt = chain(
      clipByGlobalNorm(2),
      adamw(spikeSchedule({ base: 1e-2, multiplier: 5, at: 3 }), { weightDecay: 0.05 }),
    );
    const u = rng(21);
    const p0 = randomRef(u);
    const gs = Array.from({ length: 6 }, () => randomRef(u));
    const step = jit((p: ArrayTree, s: OptState, g: ArrayTree) => {
      const [upd, next] = opt.update(g, s, tree.ref(p));
      return [applyUpdates(p, upd), next] as [ArrayTree, OptState];
    });
    let pe = toJax(p0);
    let se = opt.init(tree.ref(pe));
    let pj = toJax(p0);
    let sj = opt.init(tree.ref(pj));
    for (const g of gs) {
      const [upd, next] = opt.update(toJax(g), se, tree.ref(pe));
      pe = applyUpdates(pe, upd);
      se = next;
      [pj, sj] = step(pj, sj, toJax(g));
    }
    expectClose(fromJax(pj), fromJax(pe), 1e-5, 1e-6);
    expect(copyRef(fromJax(pj)).length).toBe(5);
    tree.dispose([pe, se, pj, sj]);
    step.dispose();
  });
});
