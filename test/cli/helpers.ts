/** In-process runner for the `ghosts` CLI. */
import { main } from "../../packages/cli/src/cli/program.js";

export interface RunResult {
  code: number;
  out: string;
  err: string;
  /** stdout split into parsed JSON lines. */
  lines: unknown[];
}

/** Runs `ghosts <argv>` in-process with `stdin` as standard input. */
export async function ghosts(argv: string[], stdin = ""): Promise<RunResult> {
  let out = "";
  let err = "";
  const code = await main(argv, {
    readStdin: async () => stdin,
    stdout: {
      write: (s: string) => {
        out += s;
        return true;
      },
    },
    stderr: {
      write: (s: string) => {
        err += s;
        return true;
      },
    },
  });
  const lines = out
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return l;
      }
    });
  return { code, out, err, lines };
}

/** One JSON Lines text from records. */
export const jsonl = (...records: unknown[]): string =>
  records.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join("\n") + "\n";
