import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ghosts } from "../cli/helpers.js";
import { ROOT, readmeCliExamples, readmeExamples, runExample } from "./examples.js";

/** What each example must print (the examples are run exactly as the README shows them). */
const CHECKS: Record<string, (out: string) => void> = {
  "examples/own-loop.ts": (out) => {
    const rs = [...out.matchAll(/ r (\d+\.\d+)/g)].map((m) => Number(m[1]));
    expect(rs).toHaveLength(3);
    // Adam at learning rate 1 proposes steps far outside the radius; ρ-clip holds r at 1.
    for (const r of rs) expect(r).toBeLessThanOrEqual(1 + 1e-9);
    const proposed = [...out.matchAll(/proposed (\d+\.\d+)/g)].map((m) => Number(m[1]));
    const taus = [...out.matchAll(/τ (\d+\.\d+)/g)].map((m) => Number(m[1]));
    expect(proposed[0]).toBeGreaterThan(taus[0]!);
  },
  "examples/own-model.ts": (out) => {
    const m = /test accuracy (\d\.\d+), largest r (\d+\.\d+)/.exec(out);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0.85);
    expect(Number(m![2])).toBeLessThanOrEqual(1 + 1e-9);
  },
  "examples/tfjs.ts": (out) => {
    const fit = /fit: 8 batches, r from (\d+\.\d+) to (\d+\.\d+)/.exec(out);
    expect(fit).not.toBeNull();
    expect(Number(fit![2])).toBeGreaterThan(0);
    const steps = [...out.matchAll(/proposed (\d+\.\d+), applied (\d+\.\d+), r (\d+\.\d+)/g)];
    expect(steps).toHaveLength(5);
    for (const m of steps) {
      expect(Number(m[2])).toBeLessThan(Number(m[1]));
      expect(Number(m[3])).toBeLessThanOrEqual(1);
    }
  },
  "examples/save-load.ts": (out) => {
    const m = /trained (\d\.\d+), reloaded (\d\.\d+)/.exec(out);
    expect(m).not.toBeNull();
    expect(m![2]).toBe(m![1]);
    expect(Number(m![1])).toBeGreaterThan(0.5);
    expect(out).toContain('{"model":"mlp","steps":"60"}');
  },
};

describe("README examples", () => {
  const examples = readmeExamples();

  it("every example file is shown verbatim and every shown example has a check", () => {
    expect(examples.map((e) => e.path).sort()).toEqual(Object.keys(CHECKS).sort());
    for (const e of examples) {
      expect(e.shown, e.path).toBe(readFileSync(join(ROOT, e.path), "utf8"));
    }
  });

  for (const [path, check] of Object.entries(CHECKS)) {
    it(`${path} runs as printed`, async () => {
      check(await runExample(path));
    });
  }
});

describe("README command-line examples", () => {
  const blocks = readmeCliExamples();

  it("there are some", () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  for (const { command, expected } of blocks) {
    it(`$ ${command.join(" ")} prints what the README shows`, async () => {
      const r = await ghosts(command.slice(1));
      expect(r.out + r.err).toBe(expected);
    });
  }
});
