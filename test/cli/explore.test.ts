import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  EXPLORER_CANDIDATES,
  findExplorerDir,
  serveStatic,
} from "../../packages/cli/src/cli/commands/explore.js";
import { main } from "../../packages/cli/src/cli/program.js";

function memoryIO() {
  let out = "";
  let err = "";
  return {
    io: {
      readStdin: async () => "",
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
    },
    out: () => out,
    err: () => err,
  };
}

describe("ghosts explore", () => {
  it("names the fix when the page is not built", async () => {
    const m = memoryIO();
    const dir = mkdtempSync(join(tmpdir(), "ghosts-explore-"));
    expect(await main(["explore", "--dir", dir, "--no-open"], m.io)).toBe(2);
    expect(m.err()).toMatch(/^ghosts: no explorer build in .*: run 'npm run web:build'/);
    expect(m.err().trim().split("\n")).toHaveLength(1);
  });

  it("rejects a bad port", async () => {
    const m = memoryIO();
    expect(await main(["explore", "--port", "http", "--no-open"], m.io)).toBe(2);
    expect(m.err()).toContain("--port must be an integer in 0..65535, got 'http'");
  });
});

describe("where explore finds the page", () => {
  const repo = fileURLToPath(new URL("../../", import.meta.url));

  it("looks in the packed CLI's copy first, then the repository's web/dist", () => {
    expect(EXPLORER_CANDIDATES.map((d) => resolve(d))).toEqual([
      resolve(repo, "packages/cli/web"),
      resolve(repo, "web/dist"),
    ]);
  });

  it("takes the first folder with an index.html, else names the repository's build", () => {
    const empty = mkdtempSync(join(tmpdir(), "ghosts-explore-empty-"));
    const built = mkdtempSync(join(tmpdir(), "ghosts-explore-built-"));
    const fallback = mkdtempSync(join(tmpdir(), "ghosts-explore-fallback-"));
    writeFileSync(join(built, "index.html"), "<!doctype html>");
    expect(findExplorerDir([empty, built, fallback])).toBe(built);
    expect(findExplorerDir([empty, fallback])).toBe(fallback);
  });
});

describe("serveStatic", () => {
  it("serves files with their types, index.html at /, and nothing outside the folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ghosts-static-"));
    writeFileSync(join(dir, "index.html"), "<!doctype html><title>t</title>");
    writeFileSync(join(dir, "data.csv.gz"), Buffer.from([0x1f, 0x8b, 0]));
    const server = await serveStatic(dir, { port: 0 });
    try {
      const index = await fetch(server.url);
      expect(index.status).toBe(200);
      expect(index.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await index.text()).toContain("<title>t</title>");
      const gz = await fetch(`${server.url}data.csv.gz`);
      expect(gz.headers.get("content-type")).toBe("application/gzip");
      expect(gz.headers.get("content-encoding")).toBeNull();
      expect((await fetch(`${server.url}missing.js`)).status).toBe(404);
      expect((await fetch(`${server.url}..%2F..%2Fetc%2Fpasswd`)).status).toBe(403);
      expect((await fetch(server.url, { method: "POST" })).status).toBe(405);
    } finally {
      await server.close();
    }
  });
});
