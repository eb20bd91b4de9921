/**
 * Killed runs: SIGKILL at seeded random points (while runs compute and while their large
 * results are being written), with --jobs 1 and --jobs 2, then rerun until done. The final
 * summary equals an uninterrupted run's, no finished run is ever recomputed (its file keeps
 * its finishedAt), and no temporary file is left. SIGINT on the real CLI prints what was
 * saved and exits 130.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  decodeJson,
  type JsonObject,
  SUMMARY_TIMING_KEYS,
} from "../../packages/cli/src/experiments/framework/index.js";
import { Rng } from "../../src/util/random.js";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
const tsx = join(
  dirname(createRequire(import.meta.url).resolve("tsx/package.json")),
  "dist",
  "cli.mjs",
);
const roots: string[] = [];
const tempOut = () => {
  const d = mkdtempSync(join(tmpdir(), "ghosts-kill-"));
  roots.push(d);
  return d;
};
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function driver(out: string, jobs: number): ChildProcess {
  // node itself with tsx's loader: tsx's own CLI runs the script in a grandchild, which a
  // SIGKILL of the CLI would leave running
  return spawn(
    process.execPath,
    ["--import", "tsx", join(here, "kill.driver.ts"), out, String(jobs)],
    {
      cwd: repo,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
}

/** Runs the driver; kills it with SIGKILL `delayMs` after its `afterDone`-th finished run. */
function runOnce(out: string, jobs: number, kill: { afterDone: number; delayMs: number } | null) {
  return new Promise<{ code: number | null; signal: string | null; err: string }>((resolve) => {
    const child = driver(out, jobs);
    let done = 0;
    let err = "";
    let armed = false;
    const arm = () => {
      if (kill === null || armed) return;
      armed = true;
      setTimeout(() => child.kill("SIGKILL"), kill.delayMs);
    };
    if (kill !== null && kill.afterDone === 0) arm();
    child.stdout?.on("data", (d: Buffer) => {
      done += (d.toString().match(/^done /gm) ?? []).length;
      if (kill !== null && done >= kill.afterDone) arm();
    });
    child.stderr?.on("data", (d) => (err += d));
    child.on("close", (code, signal) => resolve({ code, signal, err }));
  });
}

function summaryOf(out: string): JsonObject {
  const s = decodeJson(readFileSync(join(out, "fake-slow", "summary.json"), "utf8")) as JsonObject;
  for (const k of SUMMARY_TIMING_KEYS) delete s[k];
  return s;
}

/** finishedAt of every run file on disk. */
function finished(out: string): Map<string, string> {
  const dir = join(out, "fake-slow", "runs");
  const m = new Map<string, string>();
  if (!existsSync(dir)) return m;
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".json"))) {
    m.set(f, (decodeJson(readFileSync(join(dir, f), "utf8")) as JsonObject).finishedAt as string);
  }
  return m;
}

let survived = 0;
afterAll(() => console.log(`kill points survived: ${survived}`));

describe("SIGKILL at random points, then resume", () => {
  let reference: JsonObject;

  it("an uninterrupted run gives the reference summary", { timeout: 300_000 }, async () => {
    const out = tempOut();
    const r = await runOnce(out, 1, null);
    expect(r.code, r.err).toBe(0);
    reference = summaryOf(out);
  });

  it.each([1, 2])(
    "--jobs %i: killed repeatedly, ends with the same summary, recomputes nothing finished",
    { timeout: 600_000 },
    async (jobs) => {
      const rng = new Rng(1234 + jobs);
      const out = tempOut();
      let kills = 0;
      for (let attempt = 0; attempt < 20; attempt++) {
        const before = finished(out);
        const last = attempt >= 8; // give up killing eventually: the run must then finish
        const r = await runOnce(
          out,
          jobs,
          last
            ? null
            : {
                afterDone: Math.floor(rng.uniform() * 3),
                delayMs: Math.floor(rng.uniform() * 200),
              },
        );
        const after = finished(out);
        for (const [f, at] of before) expect(after.get(f), `${f} was recomputed`).toBe(at);
        if (r.code === 0) break;
        expect(r.signal, r.err).toBe("SIGKILL");
        kills++;
      }
      expect(kills).toBeGreaterThanOrEqual(3);
      survived += kills;
      expect(summaryOf(out)).toEqual(reference);
      const leftovers = readdirSync(join(out, "fake-slow", "runs")).filter((n) =>
        n.startsWith(".tmp-"),
      );
      expect(leftovers).toEqual([]);
    },
  );
});

describe("SIGINT", () => {
  it("prints what was saved and exits 130", { timeout: 300_000 }, async () => {
    const out = tempOut();
    const child = spawn(
      process.execPath,
      [
        tsx,
        "packages/cli/src/cli/main.ts",
        "run",
        "theory",
        "--quick",
        "--jobs",
        "2",
        "--out",
        out,
      ],
      {
        cwd: repo,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let err = "";
    let sent = false;
    child.stderr?.on("data", (d) => {
      err += d;
      if (!sent && /theory: \[1\/3\]/.test(err)) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    const code = await new Promise<number | null>((resolve) =>
      child.on("close", (c) => resolve(c)),
    );
    expect(sent).toBe(true);
    expect(code).toBe(130);
    expect(err).toMatch(
      /ghosts: interrupted; [1-3] of 3 runs of theory are saved in .*runs; rerun the same command to continue/,
    );
    expect(
      readdirSync(join(out, "theory", "runs")).filter((n) => n.endsWith(".json")).length,
    ).toBeGreaterThanOrEqual(1);
  });
});
