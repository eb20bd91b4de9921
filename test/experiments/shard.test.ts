/**
 * `ghosts run <id> --shard k/N`: N processes, each running its share of the grid into one
 * `--out`, end with the same summary as one process running everything.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  IncompleteGridError,
  runExperiment,
  SUMMARY_TIMING_KEYS,
} from "../../packages/cli/src/experiments/framework/index.js";
import { ghosts } from "../cli/helpers.js";
import { fakeSum } from "./framework.fixture.js";

const ROOT = join(import.meta.dirname, "..", "..");
const roots: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), "ghosts-shard-"));
  roots.push(d);
  return d;
};
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** summary.json without the keys that depend on timing or on what was cached. */
function summaryOf(out: string, id: string): Record<string, unknown> {
  const file = JSON.parse(readFileSync(join(out, id, "summary.json"), "utf8"));
  for (const k of SUMMARY_TIMING_KEYS) delete file[k];
  return file;
}

/** `ghosts <args>` as a real process, with the fake experiments registered. */
function ghostsProcess(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--import",
        "./test/experiments/framework.fixture.ts",
        "packages/cli/src/cli/main.ts",
        ...args,
      ],
      { cwd: ROOT },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

describe("--shard k/N", () => {
  it("3 processes with --shard k/3 and 'ghosts report' give the summary of one process", async () => {
    const single = temp();
    const one = await ghosts(["run", "fake-sum", "--out", single]);
    expect(one.code).toBe(0);

    const sharded = temp();
    const shards = await Promise.all(
      [1, 2, 3].map((k) =>
        ghostsProcess(["run", "fake-sum", "--out", sharded, "--shard", `${k}/3`]),
      ),
    );
    for (const s of shards) {
      expect(s.err, s.err).not.toContain("ghosts:");
      expect(s.code).toBe(0);
      expect(s.err).toMatch(/fake-sum: 9 runs, \d on disk, 3 to run/);
    }
    // whichever shard finished last may have summarised already; the report always does
    const report = await ghosts(["report", "--out", sharded]);
    expect(report.code).toBe(0);
    expect(summaryOf(sharded, "fake-sum")).toEqual(summaryOf(single, "fake-sum"));
  });

  it("a shard that leaves runs missing writes no summary; the last one does", async () => {
    const out = temp();
    const ids = (dir: string) => readFileSync(join(dir, "fake-sum", "plan.json"), "utf8");
    await expect(
      runExperiment(fakeSum, { out, quick: true, shard: { index: 2, count: 2 } }),
    ).rejects.toThrow(IncompleteGridError);
    expect(existsSync(join(out, "fake-sum", "summary.json"))).toBe(false);
    expect(JSON.parse(ids(out))).toEqual({ quick: true, seeds: null, data: { kind: "digits" } });
    const partial = await ghosts(["report", "--out", out]);
    expect(partial.code).toBe(2);
    expect(partial.err).toContain(
      "report: fake-sum: 3 of 6 runs on disk; the other shards have not finished",
    );
    const first = await ghosts(["run", "fake-sum", "--quick", "--out", out, "--shard", "1/2"]);
    expect(first.code).toBe(0);
    expect(first.err).toContain("fake-sum: 6 runs, 3 on disk, 3 to run");
    expect(first.out).toContain("verdict:");
    const whole = temp();
    await runExperiment(fakeSum, { out: whole, quick: true });
    expect(summaryOf(out, "fake-sum")).toEqual(summaryOf(whole, "fake-sum"));
  });

  it("'partial' summarises the runs on disk of an unfinished grid, in plan order", async () => {
    const out = temp();
    await expect(
      runExperiment(fakeSum, { out, quick: true, shard: { index: 1, count: 2 } }),
    ).rejects.toThrow(IncompleteGridError);
    const done = await runExperiment(fakeSum, {
      out,
      quick: true,
      onlyCached: true,
      partial: true,
    });
    const order = (done.summary as { order: string[] }).order;
    expect(order.length).toBe(3);
    const whole = temp();
    const all = await runExperiment(fakeSum, { out: whole, quick: true });
    const allOrder = (all.summary as { order: string[] }).order;
    expect(allOrder.filter((k) => order.includes(k))).toEqual(order);
    expect(done.file.runs).toBe(6);
    expect(done.file.computedRuns).toBe(0);
  });

  it("reports a shard that is not k/N in one line, exit 2", async () => {
    for (const [arg, message] of [
      ["3/2", "--shard 3/2: k must be between 1 and 2"],
      ["0/4", "--shard 0/4: k must be between 1 and 4"],
      ["1/0", "--shard must be k/N with integers 1 ≤ k ≤ N, e.g. 2/8, got '1/0'"],
      ["half", "--shard must be k/N with integers 1 ≤ k ≤ N, e.g. 2/8, got 'half'"],
    ]) {
      const r = await ghosts(["run", "fake-sum", "--out", temp(), "--shard", arg!]);
      expect(r).toMatchObject({ code: 2, out: "", err: `ghosts: ${message}\n` });
    }
  });
});
