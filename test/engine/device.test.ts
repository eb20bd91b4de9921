/**
 * Device selection in Node: `initEngine("webgpu")` goes through the optional `webgpu` package
 * (Dawn). This machine class has no WebGPU adapter, so what is tested here is the failure:
 * a typed, one-line error, after which the engine still starts on wasm. (Dawn writes its
 * own diagnostics to the process's stderr; the CLI keeps those out of sight, see
 * test/cli/device.test.ts.) On a machine with an adapter the test is skipped.
 */
import { numpy as np } from "@jax-js/jax";
import { describe, expect, it } from "vitest";
import {
  currentEngineDevice,
  EngineDeviceError,
  initEngine,
  releaseEngineDevice,
} from "../../src/engine/runtime.js";
import { webgpuAdapterPresent } from "../cli/device.helpers.js";

describe.skipIf(webgpuAdapterPresent())("initEngine('webgpu') without an adapter", () => {
  it("rejects with a one-line EngineDeviceError, then starts on wasm", async () => {
    const err = await initEngine("webgpu").then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EngineDeviceError);
    expect((err as Error).message).toBe(
      'device "webgpu" is not available here: no WebGPU adapter found (no GPU, or no driver that WebGPU can use)',
    );
    // the GPU object installed for Dawn is gone again, so nothing keeps the process alive
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
    await initEngine();
    expect(currentEngineDevice()).toBe("wasm");
    expect(np.zeros([2]).device).toBe("wasm");
    releaseEngineDevice(); // a no-op on wasm
    expect(np.ones([1]).device).toBe("wasm");
  });
});
