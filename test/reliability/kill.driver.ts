/**
 * Child process of the kill tests: runs the slow fake experiment into OUT with JOBS threads,
 * printing each finished run's key on stdout, and exits 0 when the summary is written.
 * Usage: tsx kill.driver.ts OUT JOBS
 */
import { runExperiment } from "../../packages/cli/src/experiments/framework/index.js";
import { slowSum } from "./kill.fixture.js";

const [out, jobs] = process.argv.slice(2);
await runExperiment(slowSum, {
  out,
  jobs: Number(jobs),
  workerImports: [new URL("./kill.fixture.ts", import.meta.url)],
  onEvent: (e) => {
    if (e.type === "run-done") process.stdout.write(`done ${e.key}\n`);
  },
});
process.stdout.write("summary\n");
