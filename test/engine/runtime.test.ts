import { numpy as np } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import {
  labelsToDevice,
  takeScalar,
  takeToHost,
  toDevice,
  toHost,
} from "../../src/engine/arrays.js";
import {
  bufferTrackingAvailable,
  engineReady,
  initEngine,
  liveBufferCount,
} from "../../src/engine/runtime.js";

beforeAll(async () => {
  await initEngine();
});

describe("initEngine", () => {
  it("is idempotent and leaves the engine ready on wasm", async () => {
    await initEngine();
    await initEngine("wasm");
    expect(engineReady()).toBe(true);
    expect(np.zeros([2]).device).toBe("wasm");
  });

  it("refuses to switch device once initialised", async () => {
    await expect(initEngine("cpu")).rejects.toThrow(/already initialised on wasm/);
  });
});

describe("host ⇄ device", () => {
  it("round-trips float64 values exactly and float32 values to float32 rounding", () => {
    const data = Float64Array.from({ length: 300 }, (_, i) => Math.PI * (i - 150) + 1 / 3);
    const a = toDevice(data, [3, 100], "float64");
    expect(a.dtype).toBe("float64");
    expect(a.shape).toEqual([3, 100]);
    expect(Array.from(takeToHost(a))).toEqual(Array.from(data));
    const b = toDevice(data, [300]);
    expect(b.dtype).toBe("float32");
    expect(Array.from(takeToHost(b))).toEqual(Array.from(data, Math.fround));
  });

  it("toHost borrows, takeToHost consumes", () => {
    const a = toDevice(new Float64Array(200).fill(2), [200], "float64");
    toHost(a);
    expect(a.refCount).toBe(1);
    takeToHost(a);
    expect(a.refCount).toBe(0);
  });

  it("labels upload as int32 and scalars read back", () => {
    const y = labelsToDevice([3, 1, 4, 1, 5]);
    expect(y.dtype).toBe("int32");
    expect(Array.from(takeToHost(y))).toEqual([3, 1, 4, 1, 5]);
    expect(takeScalar(toDevice([2.5], [], "float64"))).toBe(2.5);
  });

  it("rejects data that does not fill the shape", () => {
    expect(() => toDevice([1, 2, 3], [2, 2])).toThrow(/do not fill shape \[2, 2\]/);
  });
});

describe("liveBufferCount", () => {
  it("counts device buffers as they are allocated and freed", () => {
    expect(bufferTrackingAvailable()).toBe(true);
    const before = liveBufferCount();
    const a = toDevice(
      Float64Array.from({ length: 500 }, (_, i) => i),
      [500],
      "float64",
    );
    expect(liveBufferCount()).toBe(before + 1);
    const b = a.ref.mul(2);
    takeToHost(b);
    a.dispose();
    expect(liveBufferCount()).toBe(before);
  });
});
