import { describe, expect, it } from "vitest";
import { EXPLAIN_SEED, tenClassExample } from "../../packages/cli/src/cli/commands/explain.js";
import { nearestGhost, rhoA } from "../../src/theory/index.js";
import { ghosts } from "./helpers.js";

describe("ghosts explain", () => {
  it("walks through the binary example with its closed-form numbers", async () => {
    const r = await ghosts(["explain"]);
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    // binary: δ = 3, Δ = 1.2 → ρ_a = π/1.2, ρ* = √(9 + π²)/1.2, ghost −2.5 + 2.618i
    expect(r.out).toMatch(/spread Δ_a\s+│ 1\.2\s/);
    expect(r.out).toMatch(/lower bound ρ_a\s+│ 2\.618\s/);
    expect(r.out).toMatch(/exact radius ρ\*\s+│ 3\.62\s/);
    expect(r.out).toMatch(/ghost t\*\s+│ -2\.5 \+ 2\.618i\s/);
    expect(r.out).toMatch(/conservatism ρ\*\/ρ_a\s+│ 1\.383\s/);
    expect(r.out).toMatch(/top-2 estimate\s+│ 3\.62\s/);
  });

  it("shows the ten-class example's exact radius from the solver and the ratio ρ*/ρ_a ≥ 1", async () => {
    const r = await ghosts(["explain"]);
    const m = tenClassExample(EXPLAIN_SEED);
    const g = nearestGhost(m.logits, m.slopes);
    const ratio = g.modulus / rhoA(m.slopes);
    expect(ratio).toBeGreaterThanOrEqual(1);
    expect(r.out).toContain(`│ ${String(Number(g.modulus.toPrecision(4)))} `);
    expect(r.out).toContain(`│ ${String(Number(ratio.toPrecision(4)))} `);
    expect(r.out).toContain("Example 2: ten classes");
  });

  it("is deterministic, has no colour codes, and takes --seed", async () => {
    const a = await ghosts(["explain"]);
    const b = await ghosts(["explain", "--seed", String(EXPLAIN_SEED)]);
    expect(a.out).toBe(b.out);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for ANSI escapes
    expect(a.out).not.toMatch(/\u001b\[/);
    const c = await ghosts(["explain", "--seed", "3"]);
    expect(c.code).toBe(0);
    expect(c.out).not.toBe(a.out);
    const bad = await ghosts(["explain", "--seed", "x"]);
    expect(bad).toMatchObject({ code: 2, err: "ghosts: --seed must be an integer, got 'x'\n" });
  });
});
