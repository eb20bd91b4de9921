/**
 * Every `ghosts` sub-command, in help order. To add one (run, demo, train, …): write
 * `commands/<name>.ts` exporting a {@link CliCommand} and append it here.
 */
import { demoCommand } from "./demo.js";
import { explainCommand } from "./explain.js";
import { exploreCommand } from "./explore.js";
import { radiusCommand } from "./radius.js";
import { reportCommand, runCommand } from "./run.js";
import type { CliCommand } from "./types.js";

export type { CliCommand, CommandContext } from "./types.js";

/** The registered sub-commands, in the order `ghosts --help` lists them. */
export const COMMANDS: readonly CliCommand[] = [
  radiusCommand,
  explainCommand,
  runCommand,
  reportCommand,
  demoCommand,
  exploreCommand,
];
