/**
 * Vitest configuration for the mutation runs (bench/mutation/stryker.config.mjs): the test
 * files of one folder, with property runs capped and the slow end-to-end protocols skipped,
 * so that one mutant costs seconds, not minutes. `npm test` does not use this file.
 */
import { defineConfig } from "vitest/config";

const folder = process.env["MUTATE_FOLDER"] ?? "theory";

export default defineConfig({
  test: {
    include: [`test/${folder}/**/*.test.ts`],
    setupFiles: ["bench/mutation/vitest.setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: {
      GHOSTS_PROPERTY_RUNS: process.env["GHOSTS_PROPERTY_RUNS"] ?? "20",
      GHOSTS_MUTATION: "1",
    },
  },
});
