/**
 * Grids that span machines: `--shard k/N` executes only the runs whose plan index `i`
 * satisfies `i mod N = k − 1`, so N independent processes (a Slurm job array, a Kubernetes
 * indexed Job, a CI matrix) share one grid through one `--out` folder. Every run file is
 * written atomically and keyed by its spec, so shards never clash; whichever process finds
 * the whole grid on disk writes the summary, and `ghosts report` finishes any grid whose
 * shards ended together.
 *
 * A sharded invocation leaves `<out>/<id>/plan.json` (the plan options) so the report can
 * rebuild the summary without being told them again.
 *
 * @module
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeJson, encodeJson, writeFileAtomic } from "./json.js";
import type { DataSpec, JsonObject } from "./types.js";

/** The k-th (1-based `index`) of `count` shares of a grid. */
export type Shard = { index: number; count: number };

/** The plan options a sharded invocation ran with, stored as `<out>/<id>/plan.json`. */
export type ShardPlan = { quick: boolean; seeds: number[] | null; data: DataSpec };

/** Name of the stored plan options. */
export const SHARD_PLAN_FILE = "plan.json";

/**
 * Not every run of the grid is on disk yet (other shards are still running or have not
 * started): no summary was written. Not a failure of this invocation.
 */
export class IncompleteGridError extends Error {
  override name = "IncompleteGridError";
  constructor(
    readonly experiment: string,
    /** Runs of the plan found on disk. */
    readonly onDisk: number,
    /** Runs in the plan. */
    readonly total: number,
  ) {
    super(`${experiment}: ${onDisk} of ${total} runs on disk; the other shards have not finished`);
  }
}

/** Checks a shard: `1 ≤ index ≤ count`, both integers. */
export function checkShard(shard: Shard): void {
  const { index, count } = shard;
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(index)) {
    throw new RangeError(`shard must be k/N with integers 1 ≤ k ≤ N, got ${index}/${count}`);
  }
  if (index < 1 || index > count) {
    throw new RangeError(`shard ${index}/${count}: k must be between 1 and ${count}`);
  }
}

/** Whether plan index `i` belongs to `shard` (round robin, so every share gets a mix). */
export function inShard(i: number, shard: Shard): boolean {
  return i % shard.count === shard.index - 1;
}

/** Stores the plan options of a sharded invocation in `dir`. */
export async function writeShardPlan(dir: string, plan: ShardPlan): Promise<void> {
  await writeFileAtomic(join(dir, SHARD_PLAN_FILE), encodeJson(plan as JsonObject, "shard plan"));
}

/** The stored plans under `out`, by experiment id (unreadable ones are skipped). */
export async function readShardPlans(out: string): Promise<Map<string, ShardPlan>> {
  const found = new Map<string, ShardPlan>();
  const ids = await readdir(out).catch(() => [] as string[]);
  for (const id of ids.sort()) {
    try {
      const plan = decodeJson(await readFile(join(out, id, SHARD_PLAN_FILE), "utf8")) as ShardPlan;
      if (typeof plan === "object" && plan !== null && typeof plan.quick === "boolean") {
        found.set(id, plan);
      }
    } catch {
      // no plan: not a sharded experiment
    }
  }
  return found;
}
