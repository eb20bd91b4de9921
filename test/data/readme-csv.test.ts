/**
 * The README's "Your own CSV data" example, run exactly as printed (with the package import
 * pointed at the sources) in a temporary folder: its output must equal the README's.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, expect, it } from "vitest";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dir = mkdtempSync(join(tmpdir(), "ghosts-readme-csv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("the README's CSV example prints what the README says", () => {
  const readme = readFileSync(join(repo, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### Your own CSV data"));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  const expected = /```text\n([\s\S]*?)```/.exec(section)?.[1];
  expect(code).toBeDefined();
  expect(expected).toBeDefined();
  const source = (code as string).replace(
    '"softmax-ghosts/data"',
    JSON.stringify(pathToFileURL(join(repo, "src", "data", "index.ts")).href),
  );
  const file = join(dir, "example.ts");
  writeFileSync(file, source);
  const loader = join(
    dirname(createRequire(import.meta.url).resolve("tsx/package.json")),
    "dist",
    "loader.mjs",
  );
  const r = spawnSync(process.execPath, ["--import", pathToFileURL(loader).href, file], {
    cwd: dir,
    encoding: "utf8",
  });
  expect(r.stderr).toBe("");
  expect(r.stdout).toBe(expected);
});
