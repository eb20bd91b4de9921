/**
 * `ghosts run` and `ghosts report` in-process, against the fake experiments: output,
 * report, and one-line errors with the right exit status.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  createProgressReporter,
  type RunnerEvent,
} from "../../packages/cli/src/experiments/framework/index.js";
import { EXPERIMENTS } from "../../packages/cli/src/experiments/registry.js";
import { ghosts } from "../cli/helpers.js";
import "./framework.fixture.js";

const roots: string[] = [];
function tempOut(): string {
  const dir = mkdtempSync(join(tmpdir(), "ghosts-cli-run-"));
  roots.push(dir);
  return dir;
}
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

describe("ghosts run", () => {
  it("runs an experiment, prints its main table and verdict, and writes the report", async () => {
    const out = tempOut();
    const r = await ghosts(["run", "fake-sum", "--quick", "--out", out]);
    expect(r.err).not.toContain("ghosts:");
    expect(r.code).toBe(0);
    expect(r.out).toContain("Fake sum <test> (fake-sum)");
    expect(r.out).toContain("Median value per scale");
    expect(r.out).toMatch(/scale\s*│\s*ours\s*│\s*published/);
    expect(r.out).toContain("verdict: partly — Our values beat the <paper> at every scale.");
    expect(r.out).toContain(`report: ${join(out, "index.html")}`);
    expect(existsSync(join(out, "index.html"))).toBe(true);
    const summary = JSON.parse(readFileSync(join(out, "fake-sum", "summary.json"), "utf8"));
    expect(summary).toMatchObject({ quick: true, seeds: [0, 1] });
    // progress: plain lines on a non-terminal stderr, one per run
    expect(r.err).toContain("fake-sum: 6 runs, 0 on disk, 6 to run");
    expect(r.err.match(/^fake-sum: \[\d\/6\]/gm)).toHaveLength(6);

    const again = await ghosts(["run", "fake-sum", "--quick", "--out", out, "--seeds", "0,1,5"]);
    expect(again.code).toBe(0);
    expect(again.err).toContain("fake-sum: 9 runs, 6 on disk, 3 to run");
  });

  it("runs every registered experiment with 'all', and 'report' rebuilds the page", async () => {
    // only the fakes: the real experiments registered beside them train models
    const saved = { ...EXPERIMENTS };
    for (const id of Object.keys(EXPERIMENTS)) if (!id.startsWith("fake-")) delete EXPERIMENTS[id];
    const out = tempOut();
    let r: Awaited<ReturnType<typeof ghosts>>;
    try {
      r = await ghosts(["run", "all", "--quick", "--out", out, "--seeds", "0,1"]);
    } finally {
      Object.assign(EXPERIMENTS, saved);
    }
    expect(r.code).toBe(0);
    expect(r.out.indexOf("(fake-sum)")).toBeLessThan(r.out.indexOf("(fake-fail)"));
    rmSync(join(out, "index.html"));
    const rep = await ghosts(["report", "--out", out]);
    expect(rep).toMatchObject({ code: 0, err: "" });
    expect(rep.out).toBe(`report: ${join(out, "index.html")} (2 experiments)\n`);
    expect(readFileSync(join(out, "index.html"), "utf8")).toContain("Nothing to compare.");
  });

  it("runs on a CSV file with --standardize and --label-column", async () => {
    const out = tempOut();
    const csv = join(out, "d.csv");
    const lines: string[] = [];
    for (let i = 0; i < 50; i++) lines.push(`${i % 2},${i},${(i * 7) % 5}`);
    writeFileSync(csv, lines.join("\n"));
    const r = await ghosts([
      "run",
      "fake-sum",
      "--quick",
      "--out",
      out,
      "--data",
      csv,
      "--standardize",
      "--label-column",
      "0",
    ]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, "fake-sum", "summary.json"), "utf8"));
    expect(summary.data).toEqual({ kind: "csv", path: csv, standardize: true, labelColumn: 0 });
    expect(summary.trainN).toBe(40);
  });

  it("rejects bad options with one line and exit status 2", async () => {
    const out = tempOut();
    const cases: [string[], string | RegExp][] = [
      [["run", "nope"], /^ghosts: unknown experiment 'nope'; valid: .*fake-sum.*, all\n$/],
      [
        ["run", "fake-sum", "--seeds", "1,x"],
        "ghosts: --seeds must be a comma-separated list of non-negative integers, got '1,x'\n",
      ],
      [["run", "fake-sum", "--seeds", "-1"], /^ghosts: --seeds must be/],
      [["run", "fake-sum", "--seeds", "1,1"], "ghosts: --seeds lists seed 1 twice\n"],
      [["run", "fake-sum", "--jobs", "0"], "ghosts: --jobs must be an integer ≥ 1, got '0'\n"],
      [["run", "fake-sum", "--jobs", "1.5"], /^ghosts: --jobs must be/],
      [
        ["run", "fake-sum", "--data", join(out, "missing.csv")],
        `ghosts: --data ${join(out, "missing.csv")}: no such file\n`,
      ],
      [
        ["run", "fake-sum", "--data", `cifar10:${join(out, "nodir")}`],
        /^ghosts: --data cifar10:.*: no such directory/,
      ],
      [["run", "fake-sum", "--standardize"], "ghosts: --standardize needs --data FILE.csv\n"],
      [
        ["run", "fake-sum", "--label-column", "2"],
        "ghosts: --label-column needs --data FILE.csv\n",
      ],
      [["run", "fake-fail", "--seeds", "4"], "ghosts: fake-fail: needs at least 2 seeds\n"],
      [["run"], /^ghosts: missing required argument 'experiment'\n$/],
      [
        ["report", "--out", join(out, "empty")],
        /^ghosts: no results in .*: run 'ghosts run <experiment>' first\n$/,
      ],
    ];
    for (const [argv, message] of cases) {
      const r = await ghosts([...argv, ...(argv[0] === "run" ? ["--out", out] : [])]);
      expect(r.code, argv.join(" ")).toBe(2);
      if (typeof message === "string") expect(r.err).toBe(message);
      else expect(r.err).toMatch(message);
      expect(r.err.split("\n")).toHaveLength(2); // exactly one line
    }
    const bad = join(out, "bad.csv");
    writeFileSync(bad, "1,2,0\n3,4\n");
    const r = await ghosts(["run", "fake-sum", "--data", bad, "--out", out]);
    expect(r).toMatchObject({
      code: 2,
      err: `ghosts: ${bad}: line 2: expected 3 columns, found 2\n`,
    });
  });

  it("a failing run exits 2 for bad input (1 for a bug), naming the run, keeping the others", async () => {
    const out = tempOut();
    const r = await ghosts(["run", "fake-fail", "--out", out]);
    expect(r.code).toBe(2);
    expect(r.err.split("\n").filter((l) => l.startsWith("ghosts:"))).toEqual([
      "ghosts: fake-fail: run s3 failed: seed 3 is cursed",
    ]);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(join(out, "fake-fail", "runs", "s2.json"))).toBe(true);
    expect(existsSync(join(out, "index.html"))).toBe(false);
  });
});

describe("progress display", () => {
  it("writes one line per finished run with an ETA when stderr is not a terminal", () => {
    let text = "";
    const p = createProgressReporter({ write: (s: string) => (text += s) });
    const ev: RunnerEvent[] = [
      {
        type: "plan",
        experiment: "x",
        total: 3,
        cached: 1,
        toRun: 2,
        jobs: 2,
        queue: [
          { index: 0, key: "a", cost: 1 },
          { index: 1, key: "b", cost: 1 },
        ],
      },
      { type: "run-done", experiment: "x", key: "a", index: 0, seconds: 1.25, done: 1, toRun: 2 },
      { type: "run-done", experiment: "x", key: "b", index: 1, seconds: 75, done: 2, toRun: 2 },
      { type: "summary", experiment: "x", path: "p", durationSeconds: 3725 },
    ];
    for (const e of ev) p.onEvent(e);
    p.stop();
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe("x: 3 runs, 1 on disk, 2 to run on 2 threads");
    expect(lines[1]).toMatch(/^x: \[1\/2\] a in 1\.3 s, ETA .+$/);
    expect(lines[2]).toBe("x: [2/2] b in 1 min 15 s");
    expect(lines[3]).toBe("x: finished in 1 h 02 min");
  });
});
