/**
 * `npm run mutate [-- folder ...]`: StrykerJS over src/theory, src/optim, src/probe and
 * src/train (or the folders named), one Stryker run per folder so that each folder's report
 * and incremental file are complete on their own. Prints the wall time per folder.
 */
import { spawnSync } from "node:child_process";
import { FOLDERS } from "./folders.mjs";

const wanted = process.argv.slice(2);
for (const f of wanted) {
  if (!FOLDERS.includes(f)) {
    console.error(`mutate: unknown folder "${f}" (choose from ${FOLDERS.join(", ")})`);
    process.exit(2);
  }
}
const folders = wanted.length > 0 ? wanted : FOLDERS;
let failed = false;
for (const folder of folders) {
  const t0 = Date.now();
  const run = spawnSync("npx", ["stryker", "run", "bench/mutation/stryker.config.mjs"], {
    stdio: "inherit",
    env: { ...process.env, MUTATE_FOLDER: folder },
  });
  const seconds = ((Date.now() - t0) / 1000).toFixed(0);
  console.log(`mutate: src/${folder} finished in ${seconds} s (exit ${run.status})`);
  if (run.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
