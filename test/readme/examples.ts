/**
 * The README's runnable examples: each is a file under `examples/` that the README shows
 * verbatim after a `<!-- example: examples/NAME -->` marker, so the code a user copies is the
 * code the tests typecheck, lint and run.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { vi } from "vitest";

export const ROOT = join(import.meta.dirname, "..", "..");

/** Every `<!-- example: PATH -->` block of the README: the path and the code shown. */
export function readmeExamples(): { path: string; shown: string }[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const re = /<!-- example: (\S+) -->\n```[a-z]*\n([\s\S]*?)```\n/g;
  return [...readme.matchAll(re)].map((m) => ({ path: m[1]!, shown: m[2]! }));
}

/** Runs an example module in this process and returns what it printed with `console.log`. */
export async function runExample(path: string): Promise<string> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  });
  try {
    await import(join(ROOT, path));
  } finally {
    spy.mockRestore();
  }
  return lines.join("\n");
}

/**
 * The `ghosts` sessions of the README's `<!-- cli-example -->` console blocks: each
 * `$ ghosts …` line and the output shown under it (stdout, then stderr).
 */
export function readmeCliExamples(): { command: string[]; expected: string }[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const out: { command: string[]; expected: string }[] = [];
  for (const m of readme.matchAll(/<!-- cli-example -->\n```console\n([\s\S]*?)```\n/g)) {
    for (const part of m[1]!.split(/^\$ /m).slice(1)) {
      const [first, ...rest] = part.split("\n");
      out.push({ command: first!.trim().split(/\s+/), expected: rest.join("\n") });
    }
  }
  return out;
}
