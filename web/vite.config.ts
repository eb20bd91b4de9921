/**
 * Vite build of the ghost explorer. The page imports the library straight from `src/`; a few
 * library modules import Node built-ins for file access (data loading, the report writer,
 * experiment workers) that the page never calls, so those imports resolve to stubs that throw
 * when used (see `src/node-stub.ts`).
 */
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const STUB_PREFIX = "\0ghosts-node-stub:";
const NODE_BUILTINS = new Set([
  "fs",
  "fs/promises",
  "path",
  "url",
  "zlib",
  "module",
  "crypto",
  "worker_threads",
  "perf_hooks",
  "os",
  "process",
  "child_process",
  "util",
  "events",
  "stream",
]);

/** Resolves `node:*` imports to a stub module that re-exports the stub's names. */
function nodeStubs(): Plugin {
  const stub = fileURLToPath(new URL("./src/node-stub.ts", import.meta.url));
  const events = fileURLToPath(new URL("./src/events-stub.cjs", import.meta.url));
  return {
    name: "ghosts-node-stubs",
    enforce: "pre",
    resolveId(id) {
      const bare = id.startsWith("node:") ? id.slice(5) : id;
      // CommonJS subclasses EventEmitter, so `require("events")` must return a class.
      if (bare === "events") return events;
      if (NODE_BUILTINS.has(bare) && (id.startsWith("node:") || !id.includes("/"))) {
        return STUB_PREFIX + bare;
      }
      return null;
    },
    load(id) {
      if (!id.startsWith(STUB_PREFIX)) return null;
      return `export * from ${JSON.stringify(stub)}; export { default } from ${JSON.stringify(stub)};`;
    },
  };
}

const librarySrc = fileURLToPath(new URL("../src/", import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  // The CLI package's experiments and report (packages/cli/src) import the library by name;
  // the page takes it from the same sources as its own imports, so one copy is bundled.
  resolve: {
    alias: [
      { find: /^softmax-ghosts$/, replacement: `${librarySrc}index.ts` },
      { find: /^softmax-ghosts\/(.*)$/, replacement: `${librarySrc}$1/index.ts` },
      // csv-parse's Node entry builds Buffers at load time; its browser build carries its own.
      { find: /^csv-parse\/sync$/, replacement: "csv-parse/browser/esm/sync" },
    ],
  },
  plugins: [nodeStubs()],
  // The development server pre-bundles CommonJS dependencies on its own; give it the stubs too.
  optimizeDeps: { rolldownOptions: { plugins: [nodeStubs()] } },
  worker: { format: "es", plugins: () => [nodeStubs()] },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 4096,
    assetsInlineLimit: 0,
  },
  server: { fs: { allow: [fileURLToPath(new URL("..", import.meta.url))] } },
  preview: { host: "127.0.0.1" },
});
