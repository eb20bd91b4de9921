/**
 * Times an experiment of the framework in a fresh child process (so `--jobs 1` and
 * `--jobs 2` start equally cold, as `ghosts run` does), and brings its per-run results back
 * for comparison between invocations. The child (`experiment-child.ts`) loads the compiled
 * CLI package from `packages/cli/dist/` when that build is newer than every source file, so
 * worker threads start from JavaScript as they do for the CLI; otherwise it loads
 * `packages/cli/src/` through tsx, whose
 * worker threads transpile TypeScript at start-up (slower: noted in the results).
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ArchGridSettings } from "../../packages/cli/src/experiments/arch-grid.js";
import { decodeJson } from "../../packages/cli/src/experiments/framework/json.js";
import type { JsonObject, JsonValue } from "../../packages/cli/src/experiments/framework/types.js";

/** Repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Sizes of an lr-spike invocation (the protocol's other settings are kept). */
export interface LrSpikeSizes {
  lrs: number[];
  seeds: number[];
  steps: number;
  spikeAt: number;
}

/** What the child is asked to run. */
export type ChildRequest =
  | { experiment: "lr-spike"; sizes: LrSpikeSizes; jobs: number; dist: string | null }
  | { experiment: "arch-grid"; settings: ArchGridSettings; jobs: number; dist: string | null };

/** What the child reports. */
export interface ChildResult {
  /** From the runExperiment call to the last finished run (summary and figures excluded), s. */
  runSeconds: number;
  /** The whole runExperiment call, s. */
  totalSeconds: number;
  runs: number;
  /** Per-run results by run key, timing fields removed. */
  results: Record<string, JsonValue>;
  /** The experiment's summary. */
  summary: JsonObject;
  /** "dist" or "src". */
  implementation: string;
}

function newestMtime(dir: string, ext: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p, ext));
    else if (e.name.endsWith(ext)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * The compiled CLI package folder (`packages/cli/dist`, which imports the compiled library)
 * when it is present and newer than every `.ts` of the library and the CLI package
 * (`npm run bench` builds first), else null.
 */
export function freshDist(dist = join(ROOT, "packages", "cli", "dist")): string | null {
  const marker = join(dist, "experiments", "framework", "runner.js");
  if (!existsSync(marker)) return null;
  const newest = Math.max(
    newestMtime(join(ROOT, "src"), ".ts"),
    newestMtime(join(ROOT, "packages", "cli", "src"), ".ts"),
  );
  return statSync(marker).mtimeMs >= newest && existsSync(join(ROOT, "dist", "index.js"))
    ? dist
    : null;
}

/** Runs one invocation in a child process and returns its timing and results. */
export async function runExperimentChild(
  request: ChildRequest,
  log?: (m: string) => void,
): Promise<ChildResult> {
  const dir = await mkdtemp(join(os.tmpdir(), "ghosts-bench-"));
  const outFile = join(dir, "child.json");
  const child = join(dirname(fileURLToPath(import.meta.url)), "experiment-child.ts");
  try {
    await new Promise<void>((res, rej) => {
      const p = spawn(
        process.execPath,
        ["--import", "tsx", child, JSON.stringify(request), dir, outFile],
        { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
      );
      let err = "";
      p.stdout.on("data", (d: Buffer) => {
        for (const line of d.toString().split("\n")) if (line.trim()) log?.(line.trim());
      });
      p.stderr.on("data", (d: Buffer) => {
        err += d.toString();
      });
      p.on("error", rej);
      p.on("close", (code) =>
        code === 0
          ? res()
          : rej(
              new Error(
                `${request.experiment} child failed (exit ${code}): ${err.trim().slice(-500)}`,
              ),
            ),
      );
    });
    return decodeJson(await readFile(outFile, "utf8")) as unknown as ChildResult;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Drops timing fields (ms…, …Ms, seconds, wall) so results can be compared for equality. */
export function withoutTimings(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(withoutTimings);
  if (v !== null && typeof v === "object") {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) {
      if (/(^ms[A-Z]|^ms$|Ms[A-Z]|Ms$|seconds|Seconds|wall|Wall)/.test(k)) continue;
      out[k] = withoutTimings(x);
    }
    return out;
  }
  return v;
}
