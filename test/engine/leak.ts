/** Leak checks shared by the leak tests of every area. */
import { expect } from "vitest";
import { bufferTrackingAvailable, liveBufferCount } from "../../src/engine/runtime.js";
import { openCompiledFunctions } from "../../src/engine/scope.js";

/**
 * Runs `call` once to warm caches (compiled functions keep their constants), then `times`
 * more times, and fails when the live device-buffer count, or the number of open compiled
 * functions (`CompiledFunction`s not closed), grew over those calls. A leak of one buffer per
 * call shows as growth `times`; `call` must release what it gets back.
 */
export async function expectNoLeak(call: () => unknown, times = 3): Promise<void> {
  expect(bufferTrackingAvailable()).toBe(true);
  await call();
  const before = liveBufferCount();
  const compiled = openCompiledFunctions();
  for (let i = 0; i < times; i++) await call();
  expect(liveBufferCount() - before).toBe(0);
  expect(openCompiledFunctions() - compiled).toBe(0);
}
