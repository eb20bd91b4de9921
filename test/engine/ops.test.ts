import { beforeAll, describe, expect, it } from "vitest";
import { toDevice, toHost } from "../../src/engine/arrays.js";
import { type JaxArray, jit, jvp, numpy as np, valueAndGrad } from "../../src/engine/jax.js";
import { meanOver } from "../../src/engine/numerics.js";
import * as op from "../../src/engine/ops.js";
import { initEngine, liveBufferCount } from "../../src/engine/runtime.js";
import { disposeTree, refTree } from "../../src/engine/tree.js";
import { expectNoLeak } from "./leak.js";

beforeAll(async () => {
  await initEngine();
});

const xs = [0.5, -1.25, 2, 3.5, -0.75, 1];
const dev = (data: number[] = xs, dtype: "float32" | "float64" = "float64") =>
  toDevice(data, [2, 3], dtype);

/** A borrowing body that uses its input three times and drops intermediates. */
function body(x: JaxArray): JaxArray {
  const centred = op.sub(x, op.meanOver(x, 1, true));
  const sq = op.mul(centred, centred);
  op.sum(sq); // dropped: the tidy releases it
  return op.add(op.mul(sq, x), 1);
}

/** The same arithmetic with jax-js's consuming methods (the reference). */
function moved(x: JaxArray): JaxArray {
  const mean = meanOver(x.ref, 1, true);
  const centred = x.ref.sub(mean);
  const sq = centred.ref.mul(centred);
  return sq.mul(x).add(1);
}

describe("tidy", () => {
  it("releases every intermediate and leaves the borrowed argument usable", async () => {
    const x = dev();
    const before = liveBufferCount();
    const y = op.tidy(() => body(x));
    toHost(y); // runs the pending kernels, whose buffers live until then
    expect(liveBufferCount() - before).toBe(1); // only the result
    expect(x.refCount).toBe(1);
    expect([...toHost(x)]).toEqual(xs);
    y.dispose();
    await expectNoLeak(() => op.tidy(() => body(x)).dispose());
    x.dispose();
  });

  it("computes what the consuming version computes, bit for bit", () => {
    const x = dev();
    const got = op.tidy(() => body(x));
    const want = moved(x.ref);
    expect([...toHost(got)]).toEqual([...toHost(want)]);
    got.dispose();
    want.dispose();
    x.dispose();
  });

  it("returns a passed-through argument as a new reference", () => {
    const x = dev();
    const out = op.tidy(() => ({ same: x, twice: [x, x] }));
    expect(x.refCount).toBe(4);
    disposeTree(out);
    expect(x.refCount).toBe(1);
    x.dispose();
  });

  it("a nested tidy hands its result to the enclosing one, which releases it unless returned", () => {
    const x = dev();
    const before = liveBufferCount();
    const kept = op.tidy(() => {
      const inner = op.tidy(() => op.mul(op.add(x, 1), 2));
      op.tidy(() => op.neg(x)); // dropped by the outer tidy
      return op.sub(inner, x);
    });
    toHost(kept);
    expect(liveBufferCount() - before).toBe(1);
    kept.dispose();
    expect(liveBufferCount()).toBe(before);
    x.dispose();
  });

  it("releases everything when the body throws, and the argument survives", () => {
    const x = dev();
    const before = liveBufferCount();
    expect(() =>
      op.tidy(() => {
        op.mul(x, x);
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(liveBufferCount()).toBe(before);
    expect(x.refCount).toBe(1);
    x.dispose();
  });

  it("outside any tidy an op's result is simply the caller's", () => {
    const x = dev();
    const before = liveBufferCount();
    const y = op.add(x, 1);
    expect(liveBufferCount() - before).toBe(1);
    expect(y.refCount).toBe(1);
    y.dispose();
    x.dispose();
  });
});

describe("consuming", () => {
  it("gives a borrowing body move semantics eagerly, without leaks", async () => {
    const f = op.consumingFn(body);
    await expectNoLeak(() => f(dev()).dispose());
    const x = dev();
    const y = f(x);
    expect(x.refCount).toBe(0);
    y.dispose();
  });

  it("works under jit, valueAndGrad and jvp, with the consuming version's numbers", async () => {
    const f = op.consumingFn(body);
    const loss = (g: (x: JaxArray) => JaxArray) => (x: JaxArray) => g(x).sum();
    const cases: [string, (g: (x: JaxArray) => JaxArray, x: JaxArray) => JaxArray[]][] = [
      ["jit", (g, x) => [jit(g)(x)]],
      ["valueAndGrad", (g, x) => valueAndGrad(loss(g))(x) as JaxArray[]],
      ["jvp", (g, x) => jvp(g, [x], [np.onesLike(x.ref)]) as JaxArray[]],
    ];
    for (const [, run] of cases) {
      const got = run(f, dev());
      const want = run(moved, dev());
      expect(got.map((a) => [...toHost(a)])).toEqual(want.map((a) => [...toHost(a)]));
      disposeTree(got);
      disposeTree(want);
      await expectNoLeak(() => disposeTree(run(f, dev())));
    }
  });

  it("releases its inputs when the body throws", () => {
    const x = dev();
    expect(() =>
      op.consuming([x], () => {
        op.mul(x, x);
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(x.refCount).toBe(0);
  });

  it("is an ownership boundary: its result is the caller's, not the enclosing tidy's", () => {
    const x = dev();
    let inner: JaxArray | null = null;
    op.tidy(() => {
      inner = op.consuming([], () => op.add(x, 1));
      return null;
    });
    expect((inner as unknown as JaxArray).refCount).toBe(1);
    (inner as unknown as JaxArray).dispose();
    x.dispose();
  });
});

describe("withBody links", () => {
  type S = { n: JaxArray };
  const lk = op.withBody({
    init: (p: JaxArray): S => ({ n: op.zerosLike(p) }),
    update: (u: JaxArray, s: S): [JaxArray, S] => [op.mul(u, 2), { n: op.add(s.n, u) }],
  });

  it("initLink/updateLink run the borrowing body; the consuming form gives the same", async () => {
    const x = dev();
    const s0 = op.tidy(() => op.initLink<S>(lk, x));
    const viaBody = op.tidy(() => op.updateLink<JaxArray, S>(lk, x, s0, undefined));
    const viaMove = lk.update(refTree(x) as never, refTree(s0) as never) as [JaxArray, S];
    expect(disposeAndRead(viaBody)).toEqual(disposeAndRead(viaMove));
    expect(x.refCount).toBe(1);
    await expectNoLeak(() =>
      disposeTree(op.tidy(() => op.updateLink<JaxArray, S>(lk, x, s0, undefined))),
    );
    await expectNoLeak(() => disposeTree(lk.update(refTree(x) as never, refTree(s0) as never)));
    disposeTree(s0);
    x.dispose();
  });
});

/** Host values of a [JaxArray, S] pair, released. */
function disposeAndRead([u, s]: [JaxArray, { n: JaxArray }]): number[][] {
  const out = [[...toHost(u)], [...toHost(s.n)]];
  disposeTree([u, s]);
  return out;
}

describe("detached", () => {
  it("hands what the ops make to the caller even inside a tidy", () => {
    const x = dev();
    let kept: JaxArray[] = [];
    op.tidy(() => {
      kept = op.detached(() => [op.add(x, 1)]);
      return null;
    });
    expect(kept[0]!.refCount).toBe(1);
    expect([...toHost(kept[0]!)]).toEqual(xs.map((v) => v + 1));
    disposeTree(kept);
    x.dispose();
  });
});

describe("tree ops", () => {
  const tree = () => ({ a: dev(), b: { c: toDevice([1, 2], [2], "float64") } });

  it("map, mapLeaves, scaleTree, zerosLikeTree and globalNorm leak nothing and borrow", async () => {
    const t = tree();
    const u = tree();
    const run = () =>
      op.tidy(() => {
        const m = op.map((x, y) => op.add(op.mul(x, 2), y), t, u);
        const l = op.mapLeaves((x, i) => (i === 0 ? x : op.neg(x)), m);
        const z = op.zerosLikeTree(l);
        const n = op.globalNorm(op.scaleTree(l, 3));
        return [l, z, n];
      });
    const [l, z, n] = run() as [typeof t, typeof t, JaxArray];
    expect([...toHost(l.b.c)]).toEqual([-3, -6]);
    expect([...toHost(z.a)]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(toHost(n)[0]).toBeGreaterThan(0);
    disposeTree([l, z, n]);
    await expectNoLeak(() => disposeTree(run()));
    expect([...toHost(t.a)]).toEqual(xs);
    disposeTree(t);
    disposeTree(u);
  });

  it("call and updateLink hand new references to consuming code and track its results", async () => {
    const x = dev();
    const y = op.tidy(() => op.call((a: JaxArray, b: JaxArray) => a.mul(b), x, x));
    expect([...toHost(y)]).toEqual(xs.map((v) => v * v));
    y.dispose();
    expect(x.refCount).toBe(1);
    await expectNoLeak(() => op.tidy(() => op.call((a: JaxArray) => a.neg(), x)).dispose());
    x.dispose();
  });
});
