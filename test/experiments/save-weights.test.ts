/** `--save DIR`: every run computed now stores its final weights as safetensors. */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runExperiment } from "../../packages/cli/src/experiments/framework/index.js";
import { initEngine } from "../../src/engine/runtime.js";
import { disposeTree, flattenToHost } from "../../src/engine/tree.js";
import { loadWeights } from "../../src/engine/weights.js";
import { buildModel } from "../../src/models/index.js";
import { ghosts } from "../cli/helpers.js";
import { fakeWeights } from "./weights.fixture.js";

const FIXTURE = new URL("./weights.fixture.ts", import.meta.url);
const roots: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), "ghosts-save-"));
  roots.push(d);
  return d;
};
beforeAll(async () => {
  await initEngine();
});
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

async function expectSaved(dir: string, seeds: number[]): Promise<void> {
  expect(readdirSync(join(dir, "fake-weights")).sort()).toEqual(
    seeds.map((s) => `s${s}.safetensors`),
  );
  const model = buildModel("cnn-bn", { inputDim: 64, numClasses: 10 });
  for (const seed of seeds) {
    const fresh = model.init(seed);
    const loaded = await loadWeights(join(dir, "fake-weights", `s${seed}.safetensors`), fresh);
    expect(loaded.metadata).toEqual({ experiment: "fake-weights", run: `s${seed}` });
    expect(flattenToHost(loaded.params)).toEqual(flattenToHost(fresh.params));
    expect(flattenToHost(loaded.state)).toEqual(flattenToHost(fresh.state));
    for (const t of [fresh.params, fresh.state, loaded.params, loaded.state]) disposeTree(t);
  }
}

describe("--save DIR", () => {
  it("ghosts run --save writes DIR/<experiment>/<run>.safetensors for each run", async () => {
    const out = temp();
    const save = join(temp(), "weights");
    const r = await ghosts(["run", "fake-weights", "--out", out, "--save", save]);
    expect(r.err).not.toContain("ghosts:");
    expect(r.code).toBe(0);
    await expectSaved(save, [0, 1, 2]);
  });

  it("worker threads save too", async () => {
    const save = temp();
    await runExperiment(fakeWeights, {
      out: temp(),
      jobs: 2,
      seeds: [3, 4],
      saveDir: save,
      workerImports: [FIXTURE],
    });
    await expectSaved(save, [3, 4]);
  });

  it("refuses a file as DIR in one line, exit 2", async () => {
    const file = join(temp(), "f");
    writeFileSync(file, "x");
    const r = await ghosts(["run", "fake-weights", "--out", temp(), "--save", file]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`ghosts: --save ${file}: is a file, not a directory\n`);
    expect(existsSync(join(file, "fake-weights"))).toBe(false);
  });
});
