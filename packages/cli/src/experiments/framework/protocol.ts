/**
 * Messages between the runner and its worker threads (internal to the framework).
 *
 * @module
 */
import type { EngineDevice } from "softmax-ghosts/engine";
import type { DataSpec, JsonObject } from "./types.js";

/** `workerData` of a worker thread. */
export type WorkerInit = {
  experimentId: string;
  /** Modules to import before looking the experiment up (they may register experiments). */
  imports: string[];
  data: DataSpec;
  /** `--save DIR`: where runs store their final weights. */
  saveDir?: string;
  /** `--device`: the engine device to start before any run (default: the engine's default). */
  device?: EngineDevice;
};

/** Runner → worker. */
export type ToWorker = { type: "run"; index: number; run: JsonObject; key: string };

/** Worker → runner. */
export type FromWorker =
  | { type: "progress"; index: number; fraction: number }
  /** `text` is the result encoded by `encodeJson`. */
  | { type: "result"; index: number; text: string; seconds: number }
  | { type: "error"; index: number; name: string; message: string };

/** Minimum time between two progress messages of one run, in milliseconds. */
export const PROGRESS_INTERVAL_MS = 100;

/**
 * Wraps a progress callback so that it fires at most every {@link PROGRESS_INTERVAL_MS}
 * (always for the final 1), with the fraction clamped to [0, 1].
 */
export function throttleProgress(send: (fraction: number) => void): (fraction: number) => void {
  let last = Number.NEGATIVE_INFINITY;
  return (fraction) => {
    if (!Number.isFinite(fraction)) return;
    const f = Math.min(1, Math.max(0, fraction));
    const now = Date.now();
    if (f < 1 && now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    send(f);
  };
}
