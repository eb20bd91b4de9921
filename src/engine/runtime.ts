/**
 * Engine start-up and device-buffer accounting.
 *
 * `initEngine()` must be awaited once before any array is created (it is idempotent and cheap
 * after the first call). In Node it initialises jax-js's WebAssembly backend and makes it the
 * default device.
 *
 * Two Node-specific facts about `@jax-js/jax` 0.1.25 this module deals with:
 *
 * - `np.array(Float64Array)` dereferences the global `Float16Array`, which Node 20 lacks (it
 *   arrived in Node 24): building any float64 array from a typed array throws
 *   `ReferenceError: Float16Array is not defined`. We install a stand-in class (nothing is an
 *   instance of it; constructing it throws) so the `instanceof` test simply fails.
 * - The wasm backend keeps its buffers in a private map, so there is no public way to count
 *   live device buffers. We wrap `malloc`/`incRef`/`decRef` on the backend instance (reached
 *   through the library's internal `getBackend`) and mirror the reference counts, which gives
 *   `liveBufferCount()` for leak tests. If the internal cannot be located the count reports
 *   `NaN` and `bufferTrackingAvailable()` is false; nothing else depends on it.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { defaultDevice, init } from "@jax-js/jax";

/** Devices the engine can run on (jax-js names; `webgpu` only in a browser that offers it). */
export type EngineDevice = "wasm" | "cpu" | "webgpu";

interface BackendLike {
  readonly type: string;
  malloc(size: number, initialData?: Uint8Array): number;
  incRef(slot: number): void;
  decRef(slot: number): void;
}

let ready: Promise<void> | null = null;
let engineDevice: EngineDevice | null = null;
const liveSlots = new Map<number, number>();
let tracking = false;
let initialised = false;

function installFloat16Shim(): void {
  const g = globalThis as { Float16Array?: unknown };
  if (typeof g.Float16Array === "undefined") {
    g.Float16Array = class Float16ArrayUnavailable {
      constructor() {
        throw new Error("float16 arrays are not available in this JavaScript runtime");
      }
    };
  }
}

/** Locate jax-js's internal `getBackend` (exported from its backend chunk under a short alias). */
async function findGetBackend(): Promise<((device?: string) => BackendLike) | null> {
  try {
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve("@jax-js/jax"));
    const indexSrc = readFileSync(join(dist, "index.js"), "utf8").slice(0, 20_000);
    const m = /import\s*\{([^}]*)\}\s*from\s*"\.\/(backend-[\w-]+\.js)"/.exec(indexSrc);
    if (!m) return null;
    const alias = /(\w+)\s+as\s+getBackend\b/.exec(m[1]!);
    if (!alias) return null;
    const chunk = (await import(pathToFileURL(join(dist, m[2]!)).href)) as Record<string, unknown>;
    const fn = chunk[alias[1]!];
    return typeof fn === "function" ? (fn as (device?: string) => BackendLike) : null;
  } catch {
    return null;
  }
}

function installTracking(backend: BackendLike): void {
  const b = backend as BackendLike & { __ghostsTracked?: boolean };
  if (b.__ghostsTracked) return;
  const malloc = backend.malloc.bind(backend);
  const incRef = backend.incRef.bind(backend);
  const decRef = backend.decRef.bind(backend);
  b.malloc = (size: number, initialData?: Uint8Array) => {
    const slot = malloc(size, initialData);
    liveSlots.set(slot, 1);
    return slot;
  };
  b.incRef = (slot: number) => {
    incRef(slot);
    const rc = liveSlots.get(slot);
    if (rc !== undefined) liveSlots.set(slot, rc + 1);
  };
  b.decRef = (slot: number) => {
    decRef(slot);
    const rc = liveSlots.get(slot);
    if (rc === undefined) return;
    if (rc <= 1) liveSlots.delete(slot);
    else liveSlots.set(slot, rc - 1);
  };
  b.__ghostsTracked = true;
}

/**
 * Initialise jax-js (idempotent). Default device: `wasm` (compiled WebAssembly kernels);
 * `cpu` is jax-js's slow reference interpreter, only useful for debugging; `webgpu` runs on
 * the GPU in a browser. Without a device, a later call keeps whatever the first one chose
 * (so `train()` runs on the device a page initialised).
 */
export function initEngine(requested?: EngineDevice): Promise<void> {
  if (ready) {
    const device = requested ?? engineDevice;
    if (engineDevice !== device) {
      return ready.then(() => {
        throw new Error(`engine already initialised on ${engineDevice}, not ${device}`);
      });
    }
    return ready;
  }
  const device = requested ?? "wasm";
  engineDevice = device;
  ready = (async () => {
    installFloat16Shim();
    const available = await init(device);
    if (!available.includes(device)) {
      throw new Error(
        `jax-js device "${device}" is not available here (got ${available.join(", ")})`,
      );
    }
    defaultDevice(device);
    const getBackend = await findGetBackend();
    if (getBackend) {
      try {
        installTracking(getBackend(device));
        tracking = true;
      } catch {
        tracking = false;
      }
    }
    initialised = true;
  })();
  ready.catch(() => {
    ready = null;
    engineDevice = null;
  });
  return ready;
}

/** True once `initEngine()` has finished. */
export function engineReady(): boolean {
  return initialised;
}

/** Whether `liveBufferCount()` is meaningful in this runtime. */
export function bufferTrackingAvailable(): boolean {
  return tracking;
}

/**
 * Number of device buffers currently allocated by jax-js on the engine's device (created after
 * `initEngine`). Small arrays that jax-js keeps inline as constants own no buffer and are not
 * counted. `NaN` when tracking is unavailable.
 */
export function liveBufferCount(): number {
  return tracking ? liveSlots.size : Number.NaN;
}

/** Alias of `liveBufferCount` (the name the brief uses). */
export const liveArrayCount = liveBufferCount;
