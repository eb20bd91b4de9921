/**
 * `node bench/mutation/summary.mjs [report.json ...]`: mutation score per file and in total
 * from Stryker JSON reports (default: every bench/mutation/<folder>/report.json), and the
 * surviving and uncovered mutants with their replacement, for the equivalence review.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const here = new URL(".", import.meta.url).pathname;
const reports =
  process.argv.length > 2
    ? process.argv.slice(2)
    : readdirSync(here)
        .map((d) => join(here, d, "report.json"))
        .filter((f) => existsSync(f));

const DETECTED = new Set(["Killed", "Timeout"]);
const UNDETECTED = new Set(["Survived", "NoCoverage"]);

for (const file of reports) {
  const report = JSON.parse(readFileSync(file, "utf8"));
  let detected = 0;
  let undetected = 0;
  console.log(`\n${file}`);
  console.log("file | killed+timeout | survived | no coverage | invalid | score");
  const left = [];
  for (const [path, f] of Object.entries(report.files)) {
    const count = (s) => f.mutants.filter((m) => s.has(m.status)).length;
    const d = count(DETECTED);
    const survived = f.mutants.filter((m) => m.status === "Survived").length;
    const none = f.mutants.filter((m) => m.status === "NoCoverage").length;
    const invalid = f.mutants.length - d - survived - none;
    detected += d;
    undetected += survived + none;
    const score = d + survived + none > 0 ? (100 * d) / (d + survived + none) : Number.NaN;
    console.log(`${path} | ${d} | ${survived} | ${none} | ${invalid} | ${score.toFixed(1)}%`);
    for (const m of f.mutants) {
      if (!UNDETECTED.has(m.status)) continue;
      const line = m.location.start.line;
      const code = f.source.split("\n")[line - 1]?.trim() ?? "";
      left.push(
        `${path}:${line} ${m.status} ${m.mutatorName} → ${JSON.stringify(m.replacement)}  [${code}]`,
      );
    }
  }
  const total = detected + undetected;
  console.log(
    `total | ${detected} of ${total} detected | score ${((100 * detected) / total).toFixed(1)}%`,
  );
  for (const l of left) console.log(`  ${l}`);
}
