/**
 * One regression test per row of the reliability issue's table: each input that used to
 * hang, crash with "internal error" or print a wrong number now gives the correct result or
 * one clear line and exit status 2.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ghosts } from "../cli/helpers.js";
import "../experiments/framework.fixture.js";

const root = mkdtempSync(join(tmpdir(), "ghosts-regress-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => {
  const dir = join(root, String(n++));
  mkdirSync(dir);
  return join(dir, name);
};

/** Exit 2 and exactly one stderr line starting "ghosts: " and matching `re`. */
function expectOneLine(r: { code: number; err: string }, re: RegExp): void {
  expect(r.code).toBe(2);
  const lines = r.err.split("\n").filter((l) => l.startsWith("ghosts: "));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(re);
  expect(r.err).not.toMatch(/internal error|\n\s+at /);
}

describe("--out that cannot be a results folder: one line, exit 2, at once", () => {
  it("/proc/nope (Node's recursive mkdir loops forever on procfs)", async () => {
    const t0 = Date.now();
    const r = await ghosts(["run", "fake-sum", "--quick", "--out", "/proc/nope"]);
    expectOneLine(r, /--out \/proc\/nope: cannot create \/proc\/nope/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it("under an existing file, a dangling symlink, /sys/x", async () => {
    const file = fresh("plain-file");
    writeFileSync(file, "x");
    expectOneLine(
      await ghosts(["run", "fake-sum", "--quick", "--out", join(file, "sub")]),
      /is a file, not a directory/,
    );
    const link = fresh("dangling");
    symlinkSync(join(root, "does-not-exist"), link);
    expectOneLine(
      await ghosts(["run", "fake-sum", "--quick", "--out", link]),
      /symbolic link to nothing/,
    );
    expectOneLine(await ghosts(["run", "fake-sum", "--quick", "--out", "/sys/x"]), /\/sys\/x/);
  });
});

describe("ghosts radius", () => {
  it("a valid record of 125,000 rows (Math.min(...xs) overflowed the stack)", async () => {
    const rows = 125_000;
    const logits = Array.from({ length: rows }, (_, i) => [(i % 7) / 10, 0, 1]);
    const slopes = Array.from({ length: rows }, (_, i) => [0.5, -0.2, (i % 5) / 10]);
    const r = await ghosts(["radius"], JSON.stringify({ logits, slopes }));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const out = r.lines[0] as { samples: { rhoStar: number }[]; rhoStar: number; rhoA: number };
    expect(out.samples).toHaveLength(rows);
    let min = Number.POSITIVE_INFINITY;
    for (const s of out.samples) min = Math.min(min, s.rhoStar);
    expect(out.rhoStar).toBe(min);
    expect(out.rhoA).toBeCloseTo(Math.PI / 0.7, 12); // largest spread: 0.5 − (−0.2)
  });

  it("slopes of ±1.5e308: the radii are rescaled, never a bogus 0", async () => {
    const r = await ghosts(
      ["radius"],
      JSON.stringify({ logits: [0, 1], slopes: [1.5e308, -1.5e308] }),
    );
    expect(r.code).toBe(0);
    const s = (r.lines[0] as { samples: Record<string, unknown>[] }).samples[0];
    expect(s.spread).toBe("Infinity");
    expect(s.rhoA as number).toBeGreaterThan(0);
    expect((s.rhoA as number) * 1.5e308).toBeCloseTo(Math.PI / 2, 12);
    expect(s.rhoTop2 as number).toBeGreaterThan(0);
    expect(s.rhoStar as number).toBeGreaterThanOrEqual((s.rhoA as number) * (1 - 1e-12));
  });

  it('a subnormal spread says the ghost is beyond float64 range, not "no zero"', async () => {
    const far = await ghosts(["radius"], JSON.stringify({ logits: [0, 1], slopes: [0, 5e-324] }));
    const none = await ghosts(["radius"], JSON.stringify({ logits: [0, 1], slopes: [2, 2] }));
    const f = (far.lines[0] as { samples: Record<string, unknown>[] }).samples[0];
    const z = (none.lines[0] as { samples: Record<string, unknown>[] }).samples[0];
    expect(f).toMatchObject({ spread: 5e-324, ghost: null, beyondRange: true });
    expect(z).toMatchObject({ spread: 0, ghost: null });
    expect(z.beyondRange).toBeUndefined();
  });
});

describe("CSV data that cannot be split, or too big", () => {
  it("3 rows, and 40 rows with 40 labels: a data error naming the classes and counts", async () => {
    const three = fresh("three.csv");
    writeFileSync(three, "1,2,0\n3,4,1\n5,6,2\n");
    const r = await ghosts(["run", "fake-sum", "--quick", "--out", fresh("o"), "--data", three]);
    expectOneLine(
      r,
      /test split of 3 rows is empty: every class has fewer than 3 rows \(class "0": 1/,
    );
    expect(r.err).toMatch(/warning: .*three\.csv: class "0" has 1 row/);

    const forty = fresh("forty.csv");
    writeFileSync(forty, Array.from({ length: 40 }, (_, i) => `${i},${i * 2},c${i}`).join("\n"));
    const f = await ghosts(["run", "fake-sum", "--quick", "--out", fresh("o"), "--data", forty]);
    expectOneLine(f, /test split of 40 rows is empty.*class "c0": 1/);
  });

  it("a 600 MB file gets a size error, not a crash in the string builder", async () => {
    const big = fresh("big.csv");
    writeFileSync(big, "1,2,0\n");
    truncateSync(big, 600 * 1024 * 1024); // sparse: no disk space used
    const r = await ghosts(["run", "fake-sum", "--quick", "--out", fresh("o"), "--data", big]);
    expectOneLine(r, /big\.csv: file is 600 MiB, more than the 256 MiB/);
  });

  it("the summary line on load reports rows, features and classes with counts", async () => {
    const csv = fresh("iris.csv");
    const rows = ["sepal,petal,species"];
    for (let i = 0; i < 30; i++)
      rows.push(`${i / 10},${(i * 7) % 5},${["setosa", "versicolor"][i % 2]}`);
    writeFileSync(csv, rows.join("\r\n"));
    const r = await ghosts(["run", "fake-sum", "--quick", "--out", fresh("o"), "--data", csv]);
    expect(r.code).toBe(0);
    expect(r.err).toContain(
      `data: ${csv}: 30 rows, 2 features, 2 classes: setosa→0 (15), versicolor→1 (15)`,
    );
  });
});

describe("arch-grid on data the transformer cannot take", () => {
  it("13 features: exit 2, naming the architectures that fit", async () => {
    const csv = fresh("wine.csv");
    const rows: string[] = [];
    for (let i = 0; i < 60; i++) {
      rows.push(
        [...Array.from({ length: 13 }, (_, j) => ((i * (j + 3)) % 11) / 10), i % 3].join(","),
      );
    }
    writeFileSync(csv, rows.join("\n"));
    const r = await ghosts(["run", "arch-grid", "--quick", "--out", fresh("o"), "--data", csv]);
    expectOneLine(
      r,
      /transformer needs a square number of features.*has 13\. Architectures that fit this data: mlp-ln, cnn-bn/,
    );
  });
});

describe("ghosts help", () => {
  it("help nosuch: one line naming the commands; a typo gets a suggestion", async () => {
    const r = await ghosts(["help", "nosuch"]);
    expect(r).toMatchObject({
      code: 2,
      out: "",
      err: 'ghosts: unknown command "nosuch"; commands: radius, explain, run, report, demo, explore\n',
    });
    const t = await ghosts(["help", "radus"]);
    expect(t.err).toBe(`ghosts: unknown command "radus"; did you mean 'radius'?\n`);
    expect((await ghosts(["help", "radius"])).code).toBe(0);
  });
});
