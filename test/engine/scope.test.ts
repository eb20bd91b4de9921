import { beforeAll, describe, expect, it } from "vitest";
import { labelsToDevice, toDevice, toHost } from "../../src/engine/arrays.js";
import {
  batchLoss,
  evaluate,
  lossAndGrad,
  sliceRows,
  steppedLogitsHost,
  trainModeState,
} from "../../src/engine/compute.js";
import * as op from "../../src/engine/ops.js";
import { initEngine, liveBufferCount } from "../../src/engine/runtime.js";
import {
  CompiledFunction,
  Holder,
  openCompiledFunctions,
  Resident,
  Scope,
  scoped,
} from "../../src/engine/scope.js";
import {
  disposeTree,
  flattenToHost,
  treeAdd,
  treeGlobalNormHost,
  treeScale,
  treeScaleByHost,
  treeVdot,
} from "../../src/engine/tree.js";
import { buildModel } from "../../src/models/index.js";
import { digitsLike } from "./helpers.js";
import { expectNoLeak } from "./leak.js";

beforeAll(async () => {
  await initEngine();
});

const n = 16;
const xs = digitsLike(n, 64, 5);
const labels = Int32Array.from({ length: n }, (_, i) => i % 10);

describe("Scope and Holder", () => {
  it("a scope releases what it owns, newest first, and can be reused", () => {
    const before = liveBufferCount();
    const scope = new Scope();
    const a = scope.own(toDevice(xs, [n, 64]));
    const b = scope.hold(a);
    expect(a.refCount).toBe(2);
    expect(b).toBe(a);
    scope.release();
    expect(liveBufferCount()).toBe(before);
    scope.own(toDevice(xs, [n, 64]));
    scope.release();
    expect(liveBufferCount()).toBe(before);
  });

  it("scoped releases on return and on throw", () => {
    const before = liveBufferCount();
    const sum = scoped((s) => toHost(s.own(toDevice([1, 2, 3], [3]))).reduce((p, q) => p + q));
    expect(sum).toBe(6);
    expect(() =>
      scoped((s) => {
        s.own(toDevice(xs, [n, 64]));
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(liveBufferCount()).toBe(before);
  });

  it("a holder releases the old value on set and hands it over on take", () => {
    const before = liveBufferCount();
    const h = new Holder({ w: toDevice(xs, [n, 64]) });
    const first = h.get();
    h.set({ w: toDevice(xs, [n, 64]) });
    expect(first.w!.refCount).toBe(0);
    const taken = h.take();
    expect(() => h.get()).toThrow("taken or released");
    disposeTree(taken);
    h.release();
    expect(liveBufferCount()).toBe(before);
  });
});

describe("Resident, CompiledFunction and Holder.hold", () => {
  it("a holder can start empty and hold a borrowed value, releasing the one it replaces", () => {
    const before = liveBufferCount();
    const h = new Holder<{ w: ReturnType<typeof toDevice> }>();
    expect(h.held).toBe(false);
    const a = { w: toDevice(xs, [n, 64]) };
    h.hold(a);
    expect(h.held).toBe(true);
    expect(a.w.refCount).toBe(2);
    const b = { w: toDevice(xs, [n, 64]) };
    h.hold(b);
    // the borrowed value is still the caller's, and still usable
    expect(a.w.refCount).toBe(1);
    expect(flattenToHost(a)).toEqual(flattenToHost(b));
    disposeTree(a);
    disposeTree(b);
    expect(liveBufferCount()).toBe(before + 1);
    h.release();
    expect(liveBufferCount()).toBe(before);
  });

  it("a resident value is made once, lent on every get, freed by release and made again", async () => {
    const before = liveBufferCount();
    let made = 0;
    const resident = new Resident(() => {
      made++;
      return toDevice(xs, [n, 64]);
    });
    expect(resident.held).toBe(false);
    expect(liveBufferCount()).toBe(before);
    await expectNoLeak(() => toHost(resident.get()));
    expect(made).toBe(1);
    expect(liveBufferCount()).toBe(before + 1);
    resident.release();
    expect(resident.held).toBe(false);
    expect(liveBufferCount()).toBe(before);
    expect(toHost(resident.get())).toEqual(Float64Array.from(Float32Array.from(xs)));
    expect(made).toBe(2);
    resident.release();
    resident.release();
    expect(liveBufferCount()).toBe(before);
  });

  it("a compiled function keeps its captured constants until close, then is gone", async () => {
    const before = liveBufferCount();
    const shift = toDevice([1, 2, 3], [3]);
    // The constant is captured by the trace: jax-js keeps its own copy with the compiled code.
    const f = new CompiledFunction((x: ReturnType<typeof toDevice>) =>
      op.consuming([x], () => op.add(x, shift)),
    );
    const x = toDevice([1, 1, 1], [3]);
    const call = () => scoped((s) => toHost(s.own(op.detached(() => op.call(f.fn!, x)))));
    expect(Array.from(call())).toEqual([2, 3, 4]);
    await expectNoLeak(call);
    disposeTree(shift);
    disposeTree(x);
    expect(f.fn).not.toBeNull();
    const open = openCompiledFunctions();
    f.close();
    expect(f.fn).toBeNull();
    expect(openCompiledFunctions()).toBe(open - 1);
    f.close();
    expect(openCompiledFunctions()).toBe(open - 1);
    expect(liveBufferCount()).toBe(before);
  });
});

describe("engine entry points borrow their arguments and do not leak", () => {
  const model = buildModel("cnn-bn", { inputDim: 64, numClasses: 10 });
  const make = () => {
    const { params, state } = model.init(0);
    return { params, state, x: toDevice(xs, [n, 64]), y: labelsToDevice(labels) };
  };
  const release = (t: ReturnType<typeof make>) => {
    disposeTree(t.params);
    disposeTree(t.state);
    disposeTree(t.x);
    disposeTree(t.y);
  };

  it("lossAndGrad, batchLoss, evaluate, trainModeState, steppedLogitsHost, sliceRows", async () => {
    const t = make();
    const before = flattenToHost(t.params);
    await expectNoLeak(() => {
      const lg = lossAndGrad(model, t.params, t.state, t.x, t.y);
      disposeTree(lg.grads);
      disposeTree(lg.state);
    });
    await expectNoLeak(() => batchLoss(model, t.params, t.state, t.x, t.y));
    await expectNoLeak(() => evaluate(model, t.params, t.state, t.x, labels, { chunk: 5 }));
    await expectNoLeak(() => disposeTree(trainModeState(model, t.params, t.state, t.x)));
    await expectNoLeak(() =>
      steppedLogitsHost(model, t.params, t.state, t.params, t.x, 0.5, {
        dtype: "float32",
        chunk: 6,
      }),
    );
    await expectNoLeak(() => disposeTree(sliceRows(t.x, 2, 9)));
    // Every borrowed argument is still usable and unchanged.
    expect(flattenToHost(t.params)).toEqual(before);
    expect(toHost(t.x).length).toBe(n * 64);
    const lg = lossAndGrad(model, t.params, t.state, t.x, t.y);
    expect(Number.isFinite(lg.loss)).toBe(true);
    disposeTree(lg.grads);
    disposeTree(lg.state);
    release(t);
  });

  it("tree arithmetic", async () => {
    const t = make();
    await expectNoLeak(() => disposeTree(treeAdd(t.params, t.params)));
    await expectNoLeak(() => disposeTree(treeScale(t.params, 0.5)));
    await expectNoLeak(() => disposeTree(treeScaleByHost(t.params, Math.random())));
    await expectNoLeak(() => treeGlobalNormHost(t.params));
    await expectNoLeak(() => disposeTree(treeVdot(t.params, t.params)));
    expect(treeGlobalNormHost(t.params)).toBeGreaterThan(0);
    release(t);
  });
});
