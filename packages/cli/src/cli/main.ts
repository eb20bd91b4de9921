#!/usr/bin/env node
/**
 * The `ghosts` binary. All logic lives in `program.ts` (`main(argv, io)`); this file only
 * wires it to the process: exit status via `process.exitCode` (so buffered output is
 * flushed), a quiet exit when the reader of stdout goes away (EPIPE), and a one-line report
 * instead of a stack trace for anything unexpected.
 */
import { EXIT_INTERNAL, reportError } from "./errors.js";
import { nodeIO } from "./io.js";
import { main } from "./program.js";

process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  process.stderr.write(`ghosts: cannot write output: ${err.message}\n`);
  process.exit(EXIT_INTERNAL);
});
for (const event of ["uncaughtException", "unhandledRejection"] as const) {
  process.on(event, (err: unknown) => {
    process.exitCode = reportError(err, process.stderr);
    process.exit();
  });
}

process.exitCode = await main(process.argv.slice(2), nodeIO());
