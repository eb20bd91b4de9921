/**
 * StrykerJS configuration for one folder of the core (`npm run mutate`, see README.md here).
 * The folder comes from MUTATE_FOLDER (theory | optim | probe | train); run.mjs sets it and
 * runs the folders one after the other, so each folder's report is usable on its own.
 */
import { fileURLToPath } from "node:url";
import { FOLDERS } from "./folders.mjs";

const folder = process.env.MUTATE_FOLDER ?? "";
if (!FOLDERS.includes(folder)) {
  throw new Error(`MUTATE_FOLDER must be one of ${FOLDERS.join(", ")} (got "${folder}")`);
}

// TypeScript 7 has no JS compiler API: the checker gets TypeScript 5.9 (typescript-5.mjs),
// here and in the checker child processes (which inherit the environment).
const hook = fileURLToPath(new URL("./typescript-5.mjs", import.meta.url));
await import(hook);
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --import ${JSON.stringify(hook)}`;

// MUTATE_TAG names a partial run (its own report, incremental file and sandbox), so two
// partial runs of one folder can run side by side
const tag = process.env.MUTATE_TAG ? `-${process.env.MUTATE_TAG}` : "";
const out = `bench/mutation/${folder}${tag}`;

export default {
  testRunner: "vitest",
  vitest: { configFile: "bench/mutation/vitest.config.ts", related: false },
  checkers: ["typescript"],
  tsconfigFile: "bench/mutation/tsconfig.json",
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  // MUTATE_FILES (comma list, e.g. "binary.ts,spread.ts") limits a run to part of the folder
  mutate: process.env.MUTATE_FILES
    ? process.env.MUTATE_FILES.split(",").map((f) => `src/${folder}/${f.trim()}`)
    : [`src/${folder}/**/*.ts`, `!src/${folder}/index.ts`],
  coverageAnalysis: "perTest",
  ignoreStatic: true,
  concurrency: Number(process.env.MUTATE_CONCURRENCY ?? 3),
  timeoutMS: 20_000,
  timeoutFactor: 2,
  incremental: true,
  incrementalFile: `${out}/incremental.json`,
  reporters: ["clear-text", "progress-append-only", "json", "html"],
  jsonReporter: { fileName: `${out}/report.json` },
  htmlReporter: { fileName: `${out}/report.html` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  ignorePatterns: [
    "dist",
    "docs",
    "results",
    "bench/quick",
    "bench/mutation/*/",
    ".whl",
    ".gl",
    ".stryker-tmp*",
  ],
  tempDirName: `.stryker-tmp-${folder}${tag}`,
  cleanTempDir: "always",
  disableTypeChecks: "{src,test,bench}/**/*.ts",
  thresholds: { high: 90, low: 85, break: null },
};
