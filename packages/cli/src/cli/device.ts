/**
 * `--device wasm|webgpu` of the commands that train or probe (`run`, `demo`): parses the
 * option and starts the engine on that device before anything else touches it, turning an
 * unavailable device into one line and exit 2.
 *
 * WebGPU in Node comes from the optional `webgpu` package (Dawn). Before Dawn is loaded into
 * this process, a child process asks it for an adapter: where there is none, Dawn prints its
 * own diagnostics (e.g. "Couldn't load Vulkan", with a native source location) straight to
 * the process's stderr, which no JavaScript can intercept, and the user should see only our
 * one line.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { EngineDeviceError, initEngine, releaseEngineDevice } from "softmax-ghosts/engine";
import { UsageError } from "./errors.js";

/** Devices the CLI offers. */
export type CliDevice = "wasm" | "webgpu";

/** The `--device` option's help text. */
export const DEVICE_HELP =
  "compute device: wasm (default; WebAssembly on the CPU) or webgpu (the GPU, through the " +
  "optional 'webgpu' package; float32 only)";

/** Parses `--device` (undefined: the default, wasm, started lazily as before). */
export function parseDevice(text: string | undefined): CliDevice | undefined {
  if (text === undefined) return undefined;
  if (text === "wasm" || text === "webgpu") return text;
  throw new UsageError(`--device must be 'wasm' or 'webgpu', got '${text}'`);
}

/** The file URL of the `webgpu` package's entry, or null when it is not installed. */
function webgpuEntry(): string | null {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve("webgpu")).href;
  } catch {
    return null;
  }
}

const ADAPTER_CHECK =
  "const m = await import(process.env.GHOSTS_WEBGPU_ENTRY);" +
  "const a = await m.create([]).requestAdapter({ powerPreference: 'high-performance' });" +
  "process.stdout.write(a ? 'adapter' : 'none'); process.exit(0);";

/** Whether Dawn finds a WebGPU adapter, asked in a child process whose stderr is dropped. */
function dawnHasAdapter(entry: string): boolean {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", ADAPTER_CHECK], {
    env: { ...process.env, GHOSTS_WEBGPU_ENTRY: entry },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000,
  });
  return r.status === 0 && r.stdout === "adapter";
}

/**
 * Starts the engine on `device` (no-op for undefined). Throws a {@link UsageError} (exit 2)
 * when the device is not available here.
 */
export async function startDevice(device: CliDevice | undefined): Promise<void> {
  if (device === undefined) return;
  if (
    device === "webgpu" &&
    (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu === undefined
  ) {
    const entry = webgpuEntry();
    if (entry === null) {
      throw new UsageError(
        "--device webgpu needs the optional package 'webgpu' (npm install webgpu); or use --device wasm",
      );
    }
    if (!dawnHasAdapter(entry)) {
      throw new UsageError(
        "--device webgpu: no WebGPU adapter found (no GPU, or no driver WebGPU can use); use --device wasm",
      );
    }
  }
  try {
    await initEngine(device);
  } catch (err) {
    if (err instanceof EngineDeviceError)
      throw new UsageError(`--device ${device}: ${err.message}`);
    throw err;
  }
}

/**
 * After a command: lets the process exit when it ran on WebGPU in Node (Dawn's GPU object
 * keeps the event loop alive while referenced). A no-op otherwise.
 */
export function releaseDevice(): void {
  releaseEngineDevice();
}
