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

/**
 * Devices the engine can run on (jax-js names). `webgpu` runs on a browser's WebGPU, or in
 * Node through the optional peer package `webgpu` (Google's Dawn, binaries in the package);
 * it has no float64, so float64 models and float64 probes need `wasm`.
 */
export type EngineDevice = "wasm" | "cpu" | "webgpu";

/** The engine cannot run on the requested device here (no adapter, a missing package). */
export class EngineDeviceError extends Error {
  override name = "EngineDeviceError";
}

/** The part of the `webgpu` package (Dawn for Node) used here. */
interface NodeWebGpu {
  create(options: string[]): unknown;
  globals: Record<string, unknown>;
}

/** Whether this is Node (not a browser or a Web Worker). */
function isNode(): boolean {
  return typeof process !== "undefined" && typeof process.versions?.node === "string";
}

/** `navigator.gpu` we installed from the `webgpu` package (null: none, or the browser's own). */
let installedGpu: unknown = null;

/**
 * Node has no `navigator.gpu` (Node 20 not even a `navigator`): load Dawn from the optional
 * `webgpu` package and install its GPU object and WebGPU globals where jax-js looks for them.
 */
async function installNodeWebGpu(): Promise<void> {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator?.gpu !== undefined || !isNode()) return;
  // A variable specifier: bundlers must not try to resolve this optional Node-only package.
  const name = "webgpu";
  let mod: NodeWebGpu;
  try {
    mod = (await import(/* @vite-ignore */ name)) as NodeWebGpu;
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new EngineDeviceError(
      `device "webgpu" in Node needs the optional package "webgpu" (npm install webgpu): ${why}`,
    );
  }
  Object.assign(globalThis, mod.globals);
  const gpu = mod.create([]);
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, "navigator", {
      value: { gpu },
      configurable: true,
      writable: true,
    });
  } else {
    Object.defineProperty(g.navigator, "gpu", { value: gpu, configurable: true, writable: true });
  }
  installedGpu = gpu;
}

/** Drops the Dawn GPU object we installed, which otherwise keeps a Node process alive. */
function removeNodeWebGpu(): void {
  if (installedGpu === null) return;
  const g = globalThis as { navigator?: { gpu?: unknown } };
  const nav = g.navigator;
  if (nav !== undefined && nav.gpu === installedGpu) delete nav.gpu;
  installedGpu = null;
}

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
 * the GPU, in a browser or, in Node, through the optional `webgpu` package. Without a device,
 * a later call keeps whatever the first one chose (so `train()` runs on the device a page or
 * the CLI initialised). Rejects with an {@link EngineDeviceError} when the device is not
 * available (e.g. `webgpu` without an adapter); the engine can then be started on another.
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
    if (device === "webgpu") await installNodeWebGpu();
    const available = await init(device);
    if (!available.includes(device)) {
      removeNodeWebGpu();
      const why =
        device === "webgpu"
          ? "no WebGPU adapter found (no GPU, or no driver that WebGPU can use)"
          : `jax-js found only ${available.join(", ") || "no device"}`;
      throw new EngineDeviceError(`device "${device}" is not available here: ${why}`);
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

/** The device the engine runs on (or was asked to start on); null before `initEngine`. */
export function currentEngineDevice(): EngineDevice | null {
  return engineDevice;
}

/**
 * Lets a Node process exit after work on `webgpu`: releases the GPU object installed from the
 * `webgpu` package (Dawn keeps the event loop alive while it is referenced). The engine is
 * unusable afterwards. A no-op on `wasm` or in a browser.
 */
export function releaseEngineDevice(): void {
  removeNodeWebGpu();
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
