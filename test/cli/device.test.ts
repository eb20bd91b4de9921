/**
 * `--device wasm|webgpu` on the commands that train (`run`, `demo`). This machine class has
 * no WebGPU adapter: `--device webgpu` must exit 2 with exactly one stderr line — none of
 * Dawn's own native diagnostics, no stack trace — before any output folder is made.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { webgpuAdapterPresent } from "./device.helpers.js";
import { ghosts as inProcess } from "./helpers.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const tsxCli = join(
  dirname(createRequire(import.meta.url).resolve("tsx/package.json")),
  "dist",
  "cli.mjs",
);
const tmp = mkdtempSync(join(tmpdir(), "ghosts-device-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function ghosts(args: string[]) {
  const r = spawnSync(process.execPath, [tsxCli, "packages/cli/src/cli/main.ts", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const NO_ADAPTER =
  "ghosts: --device webgpu: no WebGPU adapter found (no GPU, or no driver WebGPU can use); use --device wasm\n";

describe.skipIf(webgpuAdapterPresent())("--device webgpu without a WebGPU adapter", () => {
  it("run: exit 2, one stderr line, nothing written", () => {
    const out = join(tmp, "run");
    const r = ghosts(["run", "lr-spike", "--quick", "--device", "webgpu", "--out", out]);
    expect(r).toMatchObject({ code: 2, out: "", err: NO_ADAPTER });
    expect(existsSync(out)).toBe(false);
  });

  it("demo: the same line", async () => {
    const out = join(tmp, "demo");
    const r = await inProcess(["demo", "--device", "webgpu", "--out", out]);
    expect(r).toMatchObject({ code: 2, out: "", err: NO_ADAPTER });
    expect(existsSync(out)).toBe(false);
  });
});

describe("--device", () => {
  it("names the choices for an unknown device", async () => {
    for (const cmd of ["run", "demo"]) {
      const args =
        cmd === "run" ? ["run", "lr-spike", "--device", "tpu"] : ["demo", "--device", "tpu"];
      const r = await inProcess([...args, "--out", join(tmp, "never")]);
      expect(r).toMatchObject({
        code: 2,
        err: "ghosts: --device must be 'wasm' or 'webgpu', got 'tpu'\n",
      });
    }
    expect(existsSync(join(tmp, "never"))).toBe(false);
  });

  it("is listed in the help of run and demo", async () => {
    for (const cmd of ["run", "demo"]) {
      const r = await inProcess([cmd, "--help"]);
      expect(r.out).toMatch(/--device <name>\s+compute device: wasm \(default/);
    }
  });
});
