/**
 * The benchmark suite (never part of `npm test`):
 *
 *     npx tsx bench/run.ts [--quick] [--only radius,scaling] [--repeats N] [--seeds 0,1]
 *                          [--out DIR] [--python PATH] [--torch-script PATH] [--torch-data PATH]
 *
 * Cases, in order: peak (engine matmul floor), radius (probe overhead per step), scaling
 * (batch / width / classes / probed rows), ghosts (nearestGhost throughput), lrspike (end to
 * end vs PyTorch), archgrid (--jobs 1 vs 2). Writes `<out>/results.json` (merged with the
 * cases already there, so `--only` refreshes part of it), `<out>/RESULTS.md` and the
 * figures `<out>/*.svg`. Default out: `bench/`, or `bench/quick/` with `--quick`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { renderSvg } from "../packages/cli/src/report/vega.js";
import { archGridCase } from "./cases/archgrid.js";
import { ghostsCase } from "./cases/ghosts.js";
import { lrSpikeCase } from "./cases/lrspike.js";
import { peakCase } from "./cases/peak.js";
import { radiusCase } from "./cases/radius.js";
import { scalingCase } from "./cases/scaling.js";
import { machineInfo } from "./lib/machine.js";
import { type ResultsFile, renderConsole, renderMarkdown } from "./lib/markdown.js";
import { findTorch } from "./lib/torch.js";
import type { BenchCase, BenchContext, CaseResult } from "./lib/types.js";

const CASES: BenchCase[] = [
  peakCase,
  radiusCase,
  scalingCase,
  ghostsCase,
  lrSpikeCase,
  archGridCase,
];
/** Cases whose rows report '% peak' and so need the peak measured first. */
const NEEDS_PEAK = new Set(["radius", "scaling", "ghosts", "lrspike"]);

class UsageError extends Error {
  override name = "UsageError";
}

interface Args {
  quick: boolean;
  only: string[] | null;
  repeats?: number;
  seeds?: number[];
  match?: RegExp;
  out: string;
  python: string | null;
  torchScript: string;
  torchData: string;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const HELP = `usage: tsx bench/run.ts [options]
  --quick               tiny sizes (smoke test, < 2 min); writes to bench/quick/ by default
  --only a,b            run only these cases: ${CASES.map((c) => c.id).join(", ")}
  --repeats N           override every case's number of repeats
  --match REGEX         only grid points whose label matches (radius 'mlp b64', scaling
                        'width=512', ghosts 'K=1000', archgrid 'mlp-ln')
  --seeds 0,1           seeds of the end-to-end cases (lrspike, archgrid); default: the protocol's
  --out DIR             output folder (default bench/, or bench/quick/ with --quick)
  --python PATH         interpreter of the reference PyTorch (default: the 2.13 wheel of
                        /opt/wheels, installed in /tmp/torch213; else Debian's)
  --torch-script PATH   default /work/shared/baselines/torch_lrspike.py
  --torch-data PATH     default /work/shared/data/digits.csv.gz`;

function parseArgs(argv: string[]): Args {
  const a: Args = {
    quick: false,
    only: null,
    out: "",
    python: null,
    torchScript: "/work/shared/baselines/torch_lrspike.py",
    torchData: "/work/shared/data/digits.csv.gz",
  };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    switch (flag) {
      case "--quick":
        a.quick = true;
        break;
      case "--only": {
        a.only = value(i++, flag)
          .split(",")
          .filter((s) => s.length > 0);
        const unknown = a.only.filter((id) => !CASES.some((c) => c.id === id));
        if (unknown.length > 0) {
          throw new UsageError(
            `unknown case(s) ${unknown.join(", ")}; known: ${CASES.map((c) => c.id).join(", ")}`,
          );
        }
        break;
      }
      case "--repeats": {
        const n = Number(value(i++, flag));
        if (!Number.isInteger(n) || n < 1) throw new UsageError("--repeats must be an integer ≥ 1");
        a.repeats = n;
        break;
      }
      case "--seeds": {
        const seeds = value(i++, flag).split(",").map(Number);
        if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s))) {
          throw new UsageError("--seeds must be a comma-separated list of integers");
        }
        a.seeds = seeds;
        break;
      }
      case "--match": {
        const text = value(i++, flag);
        try {
          a.match = new RegExp(text);
        } catch {
          throw new UsageError(`--match: invalid regular expression '${text}'`);
        }
        break;
      }
      case "--out":
        a.out = value(i++, flag);
        break;
      case "--python":
        a.python = value(i++, flag);
        break;
      case "--torch-script":
        a.torchScript = value(i++, flag);
        break;
      case "--torch-data":
        a.torchData = value(i++, flag);
        break;
      case "--help":
      case "-h":
        console.log(HELP);
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown option ${flag}\n${HELP}`);
    }
  }
  if (a.out === "") a.out = a.quick ? join(HERE, "quick") : HERE;
  a.out = resolve(a.out);
  return a;
}

function loadExisting(path: string): ResultsFile | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as ResultsFile;
  } catch {
    return null;
  }
}

/** JSON with NaN/±Infinity as null (results.json is read by people and other tools). */
function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2)}\n`;
}

/** Pads the Markdown tables the way the repository's formatter (biome) wants them; best effort. */
function formatMarkdown(path: string): void {
  const biome = join(HERE, "..", "node_modules", ".bin", "biome");
  if (!existsSync(biome)) return;
  try {
    execFileSync(biome, ["format", "--write", path], { stdio: "ignore" });
  } catch {
    // unformatted Markdown is still Markdown
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  mkdirSync(args.out, { recursive: true });
  const t0 = performance.now();
  const log = (m: string) =>
    process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${m}\n`);
  const torch = findTorch(args.python, log);
  const machine = machineInfo(torch);
  log(
    `${machine.cpu}, ${machine.cpus} CPUs, load ${machine.loadAverageStart.toFixed(2)}; node ` +
      `${machine.node}, jax-js ${machine.jaxJs}, torch ${machine.torch ?? "—"}; out ${args.out}`,
  );

  let selected = args.only === null ? CASES : CASES.filter((c) => args.only!.includes(c.id));
  if (!selected.some((c) => c.id === "peak") && selected.some((c) => NEEDS_PEAK.has(c.id))) {
    selected = [peakCase, ...selected];
  }
  const ctx: BenchContext = {
    quick: args.quick,
    repeats: args.repeats,
    seeds: args.seeds,
    match: args.match,
    peakGflops: null,
    torch,
    torchScript: args.torchScript,
    torchData: args.torchData,
    outDir: args.out,
    log,
    async figure(name, title, spec) {
      const file = `${name}.svg`;
      writeFileSync(join(args.out, file), await renderSvg(spec));
      return { file, title };
    },
  };

  const resultsPath = join(args.out, "results.json");
  const previous = loadExisting(resultsPath);
  const file: ResultsFile = {
    machine,
    peakGflops: previous?.peakGflops ?? null,
    cases: { ...(previous?.cases ?? {}) },
    generatedAt: new Date().toISOString(),
  };
  const done: CaseResult[] = [];
  let failed = 0;
  for (const c of selected) {
    const started = performance.now();
    const result: CaseResult = {
      id: c.id,
      title: c.title,
      description: "",
      rows: [],
      comparisons: [],
      figures: [],
      notes: [],
      quick: args.quick,
      seconds: 0,
      finishedAt: "",
      loadAverage: [os.loadavg()[0]!, Number.NaN],
    };
    log(`case ${c.id}: ${c.title}`);
    try {
      await c.run(ctx, result);
    } catch (err) {
      failed++;
      result.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      log(`case ${c.id} FAILED: ${result.error}`);
      if (err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    }
    result.seconds = (performance.now() - started) / 1000;
    result.finishedAt = new Date().toISOString();
    result.loadAverage[1] = os.loadavg()[0]!;
    if (c.id === "peak" && ctx.peakGflops !== null) file.peakGflops = ctx.peakGflops;
    file.cases[c.id] = result;
    done.push(result);
    // write after every case, so an interrupted suite keeps what it measured
    writeFileSync(resultsPath, toJson(file));
    writeFileSync(
      join(args.out, "RESULTS.md"),
      renderMarkdown(
        file,
        CASES.map((x) => x.id),
      ),
    );
  }
  formatMarkdown(join(args.out, "RESULTS.md"));
  console.log(renderConsole(done));
  log(`wrote ${resultsPath} and ${join(args.out, "RESULTS.md")}`);
  if (failed > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
});
