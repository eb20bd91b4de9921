import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = fileURLToPath(new URL("./src/", import.meta.url));

export default defineConfig({
  resolve: {
    // The README examples import the package by name, as a user would; tests run them
    // against the sources.
    alias: [
      { find: /^softmax-ghosts$/, replacement: `${src}index.ts` },
      { find: /^softmax-ghosts\/(.*)$/, replacement: `${src}$1/index.ts` },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
