/**
 * Engine instrumentation: live and peak bytes of jax-js buffers on the wasm backend, by
 * mirroring `malloc`/`incRef`/`decRef`, and counts of kernel launches and host reads (where
 * per-step overhead comes from). It uses the internal hook `src/engine/runtime.ts` uses for
 * its buffer count (that helper is private, so the lookup is repeated here). When the
 * internal cannot be found the memory figures read NaN, the counters zero, and the bench
 * still runs.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { initEngine } from "../../src/engine/runtime.js";

interface BackendLike {
  malloc(size: number, initialData?: Uint8Array): number;
  incRef(slot: number): void;
  decRef(slot: number): void;
  dispatch(exe: unknown, inputs: number[], outputs: number[]): void;
  readSync(slot: number, start?: number, count?: number): Uint8Array;
  read(slot: number, start?: number, count?: number): Promise<Uint8Array>;
}

/** Backend calls counted since start-up (see {@link engineCounters}). */
export interface EngineCounters {
  /** Kernel and routine launches. */
  dispatches: number;
  /** Of those, synchronous ones (run on this thread; the wasm backend instantiates each). */
  syncDispatches: number;
  /** Reads of device buffers back to the host (dataSync, data, blockUntilReady). */
  reads: number;
  /** Buffer allocations. */
  allocations: number;
}

const counters: EngineCounters = { dispatches: 0, syncDispatches: 0, reads: 0, allocations: 0 };

const slots = new Map<number, { size: number; rc: number }>();
let live = 0;
let peak = 0;
let installed = false;

async function findBackend(): Promise<BackendLike | null> {
  try {
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve("@jax-js/jax"));
    const index = readFileSync(join(dist, "index.js"), "utf8").slice(0, 20_000);
    const m = /import\s*\{([^}]*)\}\s*from\s*"\.\/(backend-[\w-]+\.js)"/.exec(index);
    if (!m) return null;
    const alias = /(\w+)\s+as\s+getBackend\b/.exec(m[1]!);
    if (!alias) return null;
    const chunk = (await import(pathToFileURL(join(dist, m[2]!)).href)) as Record<string, unknown>;
    const get = chunk[alias[1]!];
    return typeof get === "function" ? (get as (d?: string) => BackendLike)("wasm") : null;
  } catch {
    return null;
  }
}

/** Starts the engine and hooks the byte accounting (idempotent). */
export async function installMemoryTracking(): Promise<boolean> {
  await initEngine();
  if (installed) return true;
  const backend = await findBackend();
  if (backend === null) return false;
  const malloc = backend.malloc.bind(backend);
  const incRef = backend.incRef.bind(backend);
  const decRef = backend.decRef.bind(backend);
  const dispatch = backend.dispatch.bind(backend);
  const readSync = backend.readSync.bind(backend);
  const read = backend.read.bind(backend);
  backend.dispatch = (exe: unknown, inputs: number[], outputs: number[]) => {
    counters.dispatches++;
    const data = (exe as { data?: { sync?: boolean } } | null)?.data;
    if (data?.sync === true) counters.syncDispatches++;
    dispatch(exe, inputs, outputs);
  };
  backend.readSync = (slot: number, start?: number, count?: number) => {
    counters.reads++;
    return readSync(slot, start, count);
  };
  backend.read = (slot: number, start?: number, count?: number) => {
    counters.reads++;
    return read(slot, start, count);
  };
  backend.malloc = (size: number, initialData?: Uint8Array) => {
    counters.allocations++;
    const slot = malloc(size, initialData);
    slots.set(slot, { size, rc: 1 });
    live += size;
    if (live > peak) peak = live;
    return slot;
  };
  backend.incRef = (slot: number) => {
    incRef(slot);
    const s = slots.get(slot);
    if (s !== undefined) s.rc++;
  };
  backend.decRef = (slot: number) => {
    decRef(slot);
    const s = slots.get(slot);
    if (s === undefined) return;
    if (--s.rc <= 0) {
      live -= s.size;
      slots.delete(slot);
    }
  };
  installed = true;
  return true;
}

/** A copy of the backend call counters (zeros without tracking). */
export function engineCounters(): EngineCounters {
  return { ...counters };
}

/** Bytes held by live device buffers now (NaN without tracking). */
export function deviceLiveBytes(): number {
  return installed ? live : Number.NaN;
}

/** Highest {@link deviceLiveBytes} since the last {@link resetDevicePeak}. */
export function devicePeakBytes(): number {
  return installed ? peak : Number.NaN;
}

/** Starts a new peak window at the current live bytes. */
export function resetDevicePeak(): void {
  peak = live;
}
