/**
 * `ghosts radius` on NumPy input: the same radii as the JSON input, and one-line errors
 * (exit 2) for bad files — named cases, 200 seeded damaged files through the CLI's entry
 * point, and the real binary as a subprocess.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { damagedNpyArb, writeNpy, writeZip } from "../data/npy.helpers.js";
import { ghosts } from "./helpers.js";

const ROOT = join(import.meta.dirname, "..", "..");
const FIX = join(ROOT, "test", "fixtures", "numpy");
const f = (name: string) => join(FIX, name);
const dir = mkdtempSync(join(tmpdir(), "ghosts-npy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = (bytes: Uint8Array, ext = ".npy") => {
  const p = join(dir, `f${files++}${ext}`);
  writeFileSync(p, bytes);
  return p;
};

const JSON_RECORD = JSON.stringify({
  logits: [
    [1, 2, 3],
    [0.5, -1, 2],
    [3, 3, -2],
  ],
  slopes: [
    [0, 1, 0.5],
    [2, 0, -2],
    [1, -1, 0],
  ],
  labels: [2, 0, 1],
});

describe("ghosts radius with .npy / .npz input", () => {
  it("gives exactly the radii of the same arrays as JSON", async () => {
    const expected = (await ghosts(["radius"], JSON_RECORD)).out;
    const viaNpy = await ghosts([
      "radius",
      "--logits",
      f("logits.npy"),
      "--slopes",
      f("slopes.npy"),
      "--labels",
      f("labels.npy"),
    ]);
    expect(viaNpy).toMatchObject({ code: 0, err: "", out: expected });
    expect((await ghosts(["radius", f("batch.npz")])).out).toBe(expected);
    const keyed = await ghosts([
      "radius",
      "--logits",
      f("batch.npz"),
      "--slopes",
      f("batch.npz"),
      "--labels",
      f("batch.npz"),
    ]);
    expect(keyed.out).toBe(expected);
    // float64 big-endian, deflated, Fortran order: same numbers, no labels → argmax rivals
    const noLabels = (
      await ghosts(
        ["radius"],
        JSON.stringify({
          logits: JSON.parse(JSON_RECORD).logits,
          slopes: JSON.parse(JSON_RECORD).slopes,
        }),
      )
    ).out;
    expect((await ghosts(["radius", f("batch-compressed.npz")])).out).toBe(noLabels);
    expect(
      (await ghosts(["radius", "--logits", f("logits.npy"), "--slopes", f("slopes-fortran.npy")]))
        .out,
    ).toBe(noLabels);
  });

  it("treats shape (..., K) as rows of K and honours --quantile", async () => {
    const r = await ghosts([
      "radius",
      "--logits",
      f("tokens-logits.npy"),
      "--slopes",
      f("tokens-slopes.npy"),
      "-q",
      "0.5",
    ]);
    expect(r.code).toBe(0);
    expect((r.lines[0] as { samples: unknown[] }).samples).toHaveLength(4);
  });

  it("names the problem in one line, exit 2", async () => {
    const expectError = async (args: string[], message: string) => {
      const r = await ghosts(["radius", ...args]);
      expect(r).toMatchObject({ code: 2, out: "", err: `ghosts: ${message}\n` });
    };
    const scalar = file(
      writeNpy({ kind: 0, le: true, version: 1, fortran: false, shape: [], values: [1] }),
    );
    const oneClass = file(
      writeNpy({ kind: 0, le: true, version: 1, fortran: false, shape: [3, 1], values: [1, 2, 3] }),
    );
    const nan = file(
      writeNpy({
        kind: 0,
        le: true,
        version: 1,
        fortran: false,
        shape: [2, 2],
        values: [1, 2, Number.NaN, 4],
      }),
    );
    const good2x2 = file(
      writeNpy({
        kind: 0,
        le: true,
        version: 1,
        fortran: false,
        shape: [2, 2],
        values: [1, 2, 3, 4],
      }),
    );
    const badLabels = file(
      writeNpy({ kind: 2, le: true, version: 1, fortran: false, shape: [2], values: [0, 5] }),
    );
    const text = file(new TextEncoder().encode("1,2,3\n"));
    await expectError(
      ["--logits", f("logits.npy")],
      "--logits and --slopes go together: give both",
    );
    await expectError(
      ["x.json", "--logits", f("logits.npy"), "--slopes", f("slopes.npy")],
      "give either a FILE or --logits/--slopes, not both",
    );
    await expectError(
      [f("logits.npy")],
      `${f("logits.npy")}: a .npy file holds one array; use --logits FILE.npy --slopes FILE.npy`,
    );
    await expectError(
      ["--logits", "no/such.npy", "--slopes", f("slopes.npy")],
      "cannot read no/such.npy: no such file",
    );
    await expectError(
      ["--logits", text, "--slopes", f("slopes.npy")],
      `${text}: not a .npy file (no \\x93NUMPY magic)`,
    );
    await expectError(
      ["--logits", scalar, "--slopes", scalar],
      `${scalar}: is a scalar; expected shape (K,) or (N, K)`,
    );
    await expectError(
      ["--logits", oneClass, "--slopes", oneClass],
      `${oneClass}: shape (3, 1) has 1 class; a sample needs at least 2`,
    );
    await expectError(
      ["--logits", nan, "--slopes", nan],
      `${nan}: element [1, 0] is NaN, not a finite number`,
    );
    await expectError(
      ["--logits", f("logits.npy"), "--slopes", good2x2],
      `logits ${f("logits.npy")} has shape (3, 3) but slopes ${good2x2} has (2, 2)`,
    );
    await expectError(
      ["--logits", good2x2, "--slopes", good2x2, "--labels", badLabels],
      `${badLabels}: label [1] is 5, not a class index in 0..1`,
    );
    await expectError(
      ["--logits", good2x2, "--slopes", good2x2, "--labels", f("labels.npy")],
      `${f("labels.npy")}: shape (3,) gives 3 labels for 2 samples`,
    );
    await expectError(
      [f("batch-compressed.npz"), "-q", "0"],
      "--quantile must be a number in (0, 1], got '0'",
    );
    const onlyLogits = file(
      writeZip(
        [
          [
            "logits.npy",
            writeNpy({ kind: 0, le: true, version: 1, fortran: false, shape: [2], values: [1, 2] }),
          ],
          [
            "x.npy",
            writeNpy({ kind: 0, le: true, version: 1, fortran: false, shape: [2], values: [1, 2] }),
          ],
        ],
        false,
      ),
      ".npz",
    );
    await expectError([onlyLogits], `${onlyLogits}: no array named 'slopes' (has: logits, x)`);
  });

  it("200 seeded damaged files through the CLI: exit 0 or one line with exit 2", async () => {
    const samples = fc.sample(damagedNpyArb, { seed: 1405, numRuns: 200 });
    for (const s of samples) {
      const p = file(s.bytes, s.zip ? ".npz" : ".npy");
      const r = await ghosts(s.zip ? ["radius", p] : ["radius", "--logits", p, "--slopes", p]);
      if (r.code === 0) {
        expect(r.err).toBe("");
        continue;
      }
      expect(r.code, r.err).toBe(2);
      expect(r.out).toBe("");
      expect(r.err).toMatch(/^ghosts: [^\n]+\n$/);
      expect(r.err).not.toMatch(/internal error|at .*\.ts:\d+/);
    }
  });

  it("the real binary: radii on stdout, or one stderr line and exit 2", () => {
    const tsx = join(
      dirname(createRequire(import.meta.url).resolve("tsx/package.json")),
      "dist",
      "cli.mjs",
    );
    const run = (args: string[]) =>
      spawnSync(process.execPath, [tsx, "packages/cli/src/cli/main.ts", "radius", ...args], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 60_000,
      });
    const ok = run([f("batch.npz")]);
    expect(ok.status).toBe(0);
    expect(ok.stderr).toBe("");
    expect(JSON.parse(ok.stdout).samples).toHaveLength(3);
    const truncated = file(readFileSync(f("logits.npy")).subarray(0, 150));
    const bad = run(["--logits", truncated, "--slopes", f("slopes.npy")]);
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toBe(
      `ghosts: ${truncated}: data has 22 bytes but shape (3, 3) of '<f4' needs 36\n`,
    );
  });
});
