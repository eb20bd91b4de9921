import { describe, expect, it, vi } from "vitest";
import { ghosts, jsonl } from "./helpers.js";

vi.mock("../../src/theory/ghost.js", () => ({
  nearestGhost: () => {
    throw new Error("solver exploded");
  },
}));

describe("ghosts: internal errors", () => {
  it("exit 1 with one line naming the record, no stack trace", async () => {
    const r = await ghosts(
      ["radius"],
      jsonl({ logits: [1, 2], slopes: [3, 3] }, { logits: [1, 2], slopes: [0, 1] }),
    );
    expect(r.code).toBe(1);
    // line 1 needs no solver (equal slopes), line 2 does
    expect(r.lines).toHaveLength(1);
    expect(r.err).toBe("ghosts: line 2: internal error: solver exploded\n");
  });
});
