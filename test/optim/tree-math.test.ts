import { defaultDevice, init, numpy as np, tree } from "@jax-js/jax";
import { beforeAll, describe, expect, test } from "vitest";
import {
  applyUpdates,
  applyUpdatesCompiled,
  readScalarAsync,
  treeAdd,
  treeAddScaled,
  treeGlobalNorm,
  treeGlobalNormHost,
  treeMul,
  treeNumel,
  treeScale,
  treeScaleByHost,
  treeSub,
  treeSumOfSquares,
  treeVdot,
  treeZerosLike,
} from "../../src/optim/index.js";
import { expectClose, fromJax, leafAt, randomRef, rng, SPEC, toJax } from "./helpers.js";
import { refMap, refNorm } from "./reference.js";

beforeAll(async () => {
  await init("wasm");
  defaultDevice("wasm");
});

describe("tree math", () => {
  const u = rng(1);
  const a = randomRef(u);
  const b = randomRef(u);

  test("leafwise add, sub, mul, scale, axpy match float64", () => {
    expectClose(
      fromJax(treeAdd(toJax(a), toJax(b))),
      refMap((x, y) => x + y, a, b),
    );
    expectClose(
      fromJax(treeSub(toJax(a), toJax(b))),
      refMap((x, y) => x - y, a, b),
    );
    expectClose(
      fromJax(treeMul(toJax(a), toJax(b))),
      refMap((x, y) => x * y, a, b),
    );
    expectClose(
      fromJax(treeScale(toJax(a), -0.25)),
      refMap((x) => -0.25 * x, a),
    );
    expectClose(
      fromJax(treeScale(toJax(a), np.array(3))),
      refMap((x) => 3 * x, a),
    );
    expectClose(
      fromJax(treeAddScaled(toJax(a), toJax(b), 0.5)),
      refMap((x, y) => x + 0.5 * y, a, b),
    );
    expectClose(
      fromJax(treeAddScaled(toJax(a), toJax(b), np.array(-2))),
      refMap((x, y) => x - 2 * y, a, b),
    );
  });

  test("compiled host-factor scale and apply equal the eager ops bit for bit", () => {
    // A new factor per call (as a controller's per-step scale) must not change the arithmetic:
    // the correctly rounded float32 product, as the eager kernels compute it for every leaf of
    // more than one element (jax-js folds one-element leaves on the host in float64 instead).
    for (const s of [0.3, -1 / 3, 1e-7, 2.5e6, Math.PI]) {
      const f32 = refMap((x) => Math.fround(x * Math.fround(s)), a);
      expect(fromJax(treeScaleByHost(toJax(a), s))).toEqual(f32);
      const eager = fromJax(treeScale(toJax(a), s));
      SPEC.forEach(({ shape }, i) => {
        if (shape.reduce((p, q) => p * q, 1) > 1) expect(eager[i]).toEqual(f32[i]);
      });
    }
    const wide = (t: ReturnType<typeof toJax>) =>
      tree.map((x: np.Array) => x.astype(np.float64), t);
    const a64 = fromJax(wide(toJax(a)));
    const scaled64 = treeScaleByHost(wide(toJax(a)), -1 / 3);
    const expected = refMap((x) => x * (-1 / 3), a64);
    const got = SPEC.map(({ path }) => Float64Array.from(leafAt(scaled64, path).ref.dataSync()));
    expect(got).toEqual(expected);
    tree.dispose(scaled64);
    expect(fromJax(applyUpdatesCompiled(toJax(a), toJax(b)))).toEqual(
      fromJax(applyUpdates(toJax(a), toJax(b))),
    );
  });

  test("zerosLike keeps shapes and dtypes", () => {
    const z = treeZerosLike(toJax(a));
    expectClose(
      fromJax(z),
      refMap(() => 0, a),
    );
    expect(leafAt(z, ["dense", "w"]).dtype).toBe(np.float32);
    tree.dispose(z);
  });

  test("reductions: sum of squares, global norm (device and host), vdot, numel", async () => {
    const n = refNorm(a);
    expect(treeSumOfSquares(toJax(a)).item()).toBeCloseTo(n * n, 4);
    expect(treeGlobalNorm(toJax(a)).item()).toBeCloseTo(n, 5);
    expect(treeGlobalNormHost(toJax(a))).toBeCloseTo(n, 5);
    expect(await readScalarAsync(treeGlobalNorm(toJax(a)))).toBeCloseTo(n, 5);
    let dot = 0;
    for (let i = 0; i < a.length; i++)
      for (let j = 0; j < a[i].length; j++) dot += a[i][j] * b[i][j];
    expect(treeVdot(toJax(a), toJax(b)).item()).toBeCloseTo(dot, 4);
    const t = toJax(a);
    expect(treeNumel(t)).toBe(SPEC.reduce((s, l) => s + l.shape.reduce((p, q) => p * q, 1), 0));
    tree.dispose(t);
    expect(treeGlobalNormHost({})).toBe(0);
  });

  test("ownership: arguments are borrowed and stay usable, results are owned", () => {
    const ta = toJax(a);
    const tb = toJax(b);
    const out = treeAdd(ta, tb);
    for (const leaf of [...tree.leaves(ta), ...tree.leaves(tb)]) expect(leaf.refCount).toBe(1);
    const n = treeGlobalNorm(out);
    n.dispose();
    for (const leaf of tree.leaves(out)) expect(leaf.refCount).toBe(1);
    const s = np.array(2);
    const doubled = treeScale(ta, s);
    const scaled = treeScaleByHost(doubled, 0.5);
    expect(s.refCount).toBe(1);
    for (const leaf of tree.leaves(doubled)) expect(leaf.refCount).toBe(1);
    // The borrowed inputs still read back: 2·a·0.5 = a.
    expect(fromJax(scaled)).toEqual(fromJax(ta));
    tree.dispose([ta, tb, out, doubled, scaled, s]);
  });
});
