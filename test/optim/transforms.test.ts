import { defaultDevice, init, type Array as JaxArray, numpy as np, tree } from "@jax-js/jax";
import { beforeAll, describe, expect, test } from "vitest";
import {
  type ArrayTree,
  addDecayedWeights,
  chain,
  clipByGlobalNorm,
  type ExtraArg,
  findState,
  type GradientTransformation,
  identity,
  type OptState,
  scale,
  scaleByAdam,
  scaleByExtra,
  scaleByLearningRate,
  scaleBySchedule,
  setToZero,
  spikeSchedule,
  trace,
  type UpdateExtra,
} from "../../src/optim/index.js";
import {
  expectClose,
  fromJax,
  leafAt,
  type RefTree,
  randomRef,
  rng,
  SPEC,
  toJax,
} from "./helpers.js";
import { refClip, refMap, refNorm } from "./reference.js";

beforeAll(async () => {
  await init("wasm");
  defaultDevice("wasm");
});

/** Run a link over a sequence of gradients (and params), returning each step's output. */
function run<E extends UpdateExtra = UpdateExtra>(
  link: GradientTransformation<E>,
  grads: RefTree[],
  params?: RefTree[],
  extra?: E,
): RefTree[] {
  let state: OptState = link.init(toJax(params?.[0] ?? grads[0]));
  const outs: RefTree[] = [];
  grads.forEach((g, i) => {
    const p = params ? toJax(params[i]) : undefined;
    const [u, s] = link.update(toJax(g), state, p, ...([extra] as ExtraArg<E>));
    outs.push(fromJax(u));
    tree.dispose(u);
    state = s;
  });
  tree.dispose(state);
  return outs;
}

const u = rng(7);
const grads = Array.from({ length: 5 }, () => randomRef(u));
const params = Array.from({ length: 5 }, () => randomRef(u));

describe("stateless links", () => {
  test("identity and setToZero", () => {
    run(identity(), grads).forEach((o, i) => {
      expectClose(o, grads[i], 0, 0);
    });
    run(setToZero(), grads).forEach((o) => {
      expectClose(
        o,
        refMap(() => 0, grads[0]),
        0,
        0,
      );
    });
  });

  test("scale and scaleByLearningRate (negative sign)", () => {
    run(scale(0.3), grads).forEach((o, i) => {
      expectClose(
        o,
        refMap((x) => 0.3 * x, grads[i]),
      );
    });
    run(scaleByLearningRate(0.1), grads).forEach((o, i) => {
      expectClose(
        o,
        refMap((x) => -0.1 * x, grads[i]),
      );
    });
    run(scaleByLearningRate(0.1, false), grads).forEach((o, i) => {
      expectClose(
        o,
        refMap((x) => 0.1 * x, grads[i]),
      );
    });
  });

  test("scaleByExtra reads a number or a borrowed device scalar", () => {
    run(scaleByExtra("lr", { flipSign: true }), grads, undefined, { lr: 0.5 }).forEach((o, i) => {
      expectClose(
        o,
        refMap((x) => -0.5 * x, grads[i]),
      );
    });
    const lr = np.array(2);
    run(scaleByExtra("lr"), grads, undefined, { lr }).forEach((o, i) => {
      expectClose(
        o,
        refMap((x) => 2 * x, grads[i]),
      );
    });
    expect(lr.refCount).toBe(1);
    lr.dispose();
    expect(() => run(scaleByExtra("missing"), grads)).toThrow(/extra.missing/);
  });
});

describe("scheduled links", () => {
  test("scaleBySchedule starts at step 0 and counts on", () => {
    const sched = (t: number) => 1 + t; // a plain host function: no device twin
    run(scaleBySchedule(sched), grads).forEach((o, i) => {
      expectClose(
        o,
        refMap((x) => (1 + i) * x, grads[i]),
      );
    });
  });

  test("scaleByLearningRate with a spike schedule hits the right steps", () => {
    const lr = spikeSchedule({ base: 0.1, multiplier: 10, at: 2 });
    run(scaleByLearningRate(lr), grads).forEach((o, i) => {
      expectClose(
        o,
        refMap((x) => -(i >= 2 ? 1 : 0.1) * x, grads[i]),
      );
    });
    const once = spikeSchedule({ base: 0.1, multiplier: 10, at: 3, once: true });
    run(scaleByLearningRate(once), grads).forEach((o, i) => {
      expectClose(
        o,
        refMap((x) => -(i === 3 ? 1 : 0.1) * x, grads[i]),
      );
    });
  });
});

describe("trace (momentum)", () => {
  for (const nesterov of [false, true]) {
    test(`matches PyTorch SGD momentum (nesterov=${nesterov})`, () => {
      const mu = 0.8;
      let buf = refMap(() => 0, grads[0]);
      const expected = grads.map((g) => {
        buf = refMap((b, x) => mu * b + x, buf, g);
        return nesterov ? refMap((x, b) => x + mu * b, g, buf) : buf;
      });
      run(trace({ decay: mu, nesterov }), grads).forEach((o, i) => {
        expectClose(o, expected[i]);
      });
    });
  }

  test("the state's trace is the momentum buffer and survives the output's disposal", () => {
    const link = trace({ decay: 0.5 });
    let state = link.init(toJax(grads[0]));
    let out: ArrayTree;
    [out, state] = link.update(toJax(grads[0]), state);
    tree.dispose(out);
    [out, state] = link.update(toJax(grads[1]), state);
    tree.dispose(out);
    const buf = findState(state, "trace") as ArrayTree;
    expectClose(
      fromJax(buf),
      refMap((a, b) => 0.5 * a + b, grads[0], grads[1]),
    );
    tree.dispose(state);
  });
});

describe("scaleByAdam", () => {
  test("matches the bias-corrected PyTorch/optax direction over several steps", () => {
    const [b1, b2, eps] = [0.8, 0.95, 1e-6];
    let m = refMap(() => 0, grads[0]);
    let v = refMap(() => 0, grads[0]);
    const expected = grads.map((g, i) => {
      const t = i + 1;
      m = refMap((a, x) => b1 * a + (1 - b1) * x, m, g);
      v = refMap((a, x) => b2 * a + (1 - b2) * x * x, v, g);
      return refMap((a, b) => a / (1 - b1 ** t) / (Math.sqrt(b / (1 - b2 ** t)) + eps), m, v);
    });
    run(scaleByAdam({ b1, b2, eps }), grads).forEach((o, i) => {
      expectClose(o, expected[i], 1e-4);
    });
  });

  test("default hyperparameters, first step is g/(|g|+eps) up to rounding", () => {
    const [o] = run(scaleByAdam(), grads.slice(0, 1));
    expectClose(
      o,
      refMap((x) => x / (Math.abs(x) + 1e-8), grads[0]),
      1e-4,
    );
  });

  test("nesterov follows optax's NAdam-style first moment", () => {
    const [b1, b2, eps] = [0.9, 0.999, 1e-8];
    let m = refMap(() => 0, grads[0]);
    let v = refMap(() => 0, grads[0]);
    const expected = grads.map((g, i) => {
      const t = i + 1;
      m = refMap((a, x) => b1 * a + (1 - b1) * x, m, g);
      v = refMap((a, x) => b2 * a + (1 - b2) * x * x, v, g);
      const mHat = refMap(
        (a, x) => (b1 * a) / (1 - b1 ** (t + 1)) + ((1 - b1) * x) / (1 - b1 ** t),
        m,
        g,
      );
      return refMap((a, b) => a / (Math.sqrt(b / (1 - b2 ** t)) + eps), mHat, v);
    });
    run(scaleByAdam({ nesterov: true }), grads).forEach((o, i) => {
      expectClose(o, expected[i], 1e-4);
    });
  });

  test("state holds count and moments", () => {
    const link = scaleByAdam();
    let state = link.init(toJax(grads[0]));
    for (const g of grads.slice(0, 3)) {
      const [o, s] = link.update(toJax(g), state);
      tree.dispose(o);
      state = s;
    }
    expect((findState(state, "count") as JaxArray).ref.item()).toBe(3);
    expect(leafAt(findState(state, "mu") as ArrayTree, ["dense", "w"]).shape).toEqual([3, 4]);
    tree.dispose(state);
  });
});

describe("addDecayedWeights", () => {
  test("adds wd·params (number or options form)", () => {
    for (const link of [addDecayedWeights(0.1), addDecayedWeights({ weightDecay: 0.1 })]) {
      run(link, grads, params).forEach((o, i) => {
        expectClose(
          o,
          refMap((g, p) => g + 0.1 * p, grads[i], params[i]),
        );
      });
    }
  });

  test("mask leaves selected leaves alone (tree or function)", () => {
    const maskTree = {
      dense: { w: true, b: false },
      head: { w: true, scale: false },
      temperature: false,
    };
    const decayed = [true, false, true, false, false];
    const expected = grads.map((g, i) =>
      g.map((leaf, k) => leaf.map((x, j) => x + (decayed[k] ? 0.1 * params[i][k][j] : 0))),
    );
    run(addDecayedWeights({ weightDecay: 0.1, mask: maskTree }), grads, params).forEach((o, i) => {
      expectClose(o, expected[i]);
    });
    const byRank = (p: ArrayTree) => tree.map((x: JaxArray) => x.ndim >= 2, p);
    run(addDecayedWeights({ weightDecay: 0.1, mask: byRank }), grads, params).forEach((o, i) => {
      expectClose(o, expected[i]);
    });
  });

  test("scheduled decay and zero decay", () => {
    const wd = spikeSchedule({ base: 0.01, multiplier: 100, at: 1, once: true });
    run(addDecayedWeights({ weightDecay: wd }), grads, params).forEach((o, i) => {
      expectClose(
        o,
        refMap((g, p) => g + (i === 1 ? 1 : 0.01) * p, grads[i], params[i]),
      );
    });
    run(addDecayedWeights(0), grads, params).forEach((o, i) => {
      expectClose(o, grads[i], 0, 0);
    });
  });

  test("requires params", () => {
    expect(() => run(addDecayedWeights(0.1), grads)).toThrow(/requires params/);
  });
});

describe("clipByGlobalNorm", () => {
  test("unchanged below the bound, rescaled to it above", () => {
    const norms = grads.map(refNorm);
    const maxNorm = (Math.min(...norms) + Math.max(...norms)) / 2;
    expect(norms.some((n) => n < maxNorm) && norms.some((n) => n > maxNorm)).toBe(true);
    run(clipByGlobalNorm(maxNorm), grads).forEach((o, i) => {
      expectClose(o, refClip(grads[i], maxNorm));
      if (norms[i] < maxNorm) expectClose(o, grads[i], 0, 0);
      else expect(refNorm(o)).toBeCloseTo(maxNorm, 5);
    });
  });

  test("a zero update stays zero (no NaN)", () => {
    const zeros = refMap(() => 0, grads[0]);
    run(clipByGlobalNorm(1), [zeros]).forEach((o) => {
      expectClose(o, zeros, 0, 0);
    });
  });
});

describe("chain", () => {
  test("applies links in order (clip→scale differs from scale→clip)", () => {
    const g = grads.map((x) => refMap((y) => 2 * y, x));
    const maxNorm = 1;
    run(chain(clipByGlobalNorm(maxNorm), scale(3)), g).forEach((o, i) => {
      expectClose(
        o,
        refMap((x) => 3 * x, refClip(g[i], maxNorm)),
      );
    });
    run(chain(scale(3), clipByGlobalNorm(maxNorm)), g).forEach((o, i) => {
      expectClose(
        o,
        refClip(
          refMap((x) => 3 * x, g[i]),
          maxNorm,
        ),
      );
    });
  });

  test("state is the array of link states; empty chain is identity", () => {
    const link = chain(trace({ decay: 0.9 }), scaleByAdam(), scale(2));
    const state = link.init(toJax(params[0]));
    expect(Array.isArray(state) && state.length === 3).toBe(true);
    tree.dispose(state);
    run(chain(), grads, params).forEach((o, i) => {
      expectClose(o, grads[i], 0, 0);
    });
  });

  test("forwards params and the same borrowed extra to every link; consumes the caller's refs", () => {
    const seen: unknown[] = [];
    const spy = (tag: string): GradientTransformation => ({
      init(p) {
        tree.dispose(p);
        return {};
      },
      update(upd, state, p, extra) {
        seen.push([tag, p !== undefined, extra]);
        tree.dispose(p);
        return [upd, state];
      },
    });
    const extra = { onControl: () => {} };
    const link = chain(spy("a"), addDecayedWeights(0.5), spy("b"));
    const g = toJax(grads[0]);
    const p = toJax(params[0]);
    let state = link.init(tree.ref(p));
    const [out, next] = link.update(tree.ref(g), state, tree.ref(p), extra);
    state = next;
    expect(seen).toEqual([
      ["a", true, extra],
      ["b", true, extra],
    ]);
    for (const leaf of [...tree.leaves(g), ...tree.leaves(p)]) expect(leaf.refCount).toBe(1);
    expectClose(
      fromJax(out),
      refMap((x, y) => x + 0.5 * y, grads[0], params[0]),
    );
    tree.dispose([out, state, g, p]);
  });

  test("a controller link placed last sees exactly the step that will be applied", () => {
    let observed: RefTree | null = null;
    const observer: GradientTransformation = {
      init(p) {
        tree.dispose(p);
        return {};
      },
      update(upd, state, p) {
        tree.dispose(p);
        observed = fromJax(upd);
        return [upd, state];
      },
    };
    const [o] = run(
      chain(trace({ decay: 0.9 }), scaleByLearningRate(0.1), observer),
      grads.slice(0, 1),
    );
    expectClose(observed!, o, 0, 0);
    expect(SPEC.length).toBe(o.length);
  });
});
