/**
 * The real binary as a subprocess (tsx on packages/cli/src/cli/main.ts — what `npx tsx packages/cli/src/cli/main.ts`
 * runs, without npm's own warnings on stderr): exit codes, stdout flushed before a failing
 * exit, and exactly one stderr line with no stack trace.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const tsxCli = join(
  dirname(createRequire(import.meta.url).resolve("tsx/package.json")),
  "dist",
  "cli.mjs",
);

function ghosts(args: string[], input = "") {
  const r = spawnSync(process.execPath, [tsxCli, "packages/cli/src/cli/main.ts", ...args], {
    cwd: root,
    input,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const GOOD = JSON.stringify({ logits: [2, -1], slopes: [0.8, -0.4] });

describe("ghosts as a subprocess", () => {
  it("valid input: exit 0, one JSON line, empty stderr", () => {
    const r = ghosts(["radius"], `${GOOD}\n`);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(r.out).samples).toHaveLength(1);
  });

  it("bad record: exit 2, earlier records written, one stderr line, no stack trace", () => {
    const r = ghosts(["radius"], `${GOOD}\n${GOOD}\n{"logits":[1,2],"slopes":[1,2,3]}\n${GOOD}\n`);
    expect(r.code).toBe(2);
    expect(r.out.trim().split("\n")).toHaveLength(2);
    expect(r.err).toBe("ghosts: line 3: logits and slopes differ in shape (2 vs 3 entries)\n");
  });

  it("bad arguments and missing files: exit 2, one line", () => {
    const q = ghosts(["radius", "--quantile", "2"], GOOD);
    expect(q).toMatchObject({
      code: 2,
      out: "",
      err: "ghosts: --quantile must be a number in (0, 1], got '2'\n",
    });
    const f = ghosts(["radius", "no/such/file.json"]);
    expect(f).toMatchObject({
      code: 2,
      err: "ghosts: cannot read no/such/file.json: no such file\n",
    });
    const u = ghosts(["frobnicate"]);
    expect(u.code).toBe(2);
    expect(u.err).toMatch(/^ghosts: unknown command 'frobnicate'\n$/);
    for (const r of [q, f, u]) expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("explain: exit 0", () => {
    const r = ghosts(["explain"]);
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    expect(r.out).toContain("conservatism ρ*/ρ_a");
  });
});

describe("ghosts when the reader goes away (EPIPE)", () => {
  it("exits quietly with status 0 and nothing on stderr", async () => {
    const { spawn } = await import("node:child_process");
    const record = JSON.stringify({ logits: [[1, 2, 3]], slopes: [[1, 0, 1]] });
    const input = `${record}\n`.repeat(20_000);
    const child = spawn(process.execPath, [tsxCli, "packages/cli/src/cli/main.ts", "radius"], {
      cwd: root,
    });
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.stdin.on("error", () => {});
    child.stdin.end(input);
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(err).toBe("");
    expect(code).toBe(0);
  });
});
