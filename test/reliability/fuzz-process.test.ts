/**
 * Fuzzing through the real `ghosts` process (the library and the CLI package built once, then
 * `node packages/cli/dist/cli/main.js`): 400 generated inputs over every surface — radius JSON/JSONL on stdin,
 * `.npy`/`.npz` files given to `radius`, CSV files given to `run --data`, command lines,
 * `summary.json` files read by `report`, and edited run files in a real cache. Each process
 * must exit 0, or 2 with exactly one `ghosts:` line and no stack trace, within a hard time
 * limit (a hang is killed and fails). One input per process; slow on a shared machine (node
 * start-up and module loading dominate).
 */
import { spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decodeJson,
  encodeJson,
  type JsonObject,
} from "../../packages/cli/src/experiments/framework/index.js";
import { runRecordSchema } from "../../packages/cli/src/experiments/framework/run-file.js";
import { ghosts } from "../cli/helpers.js";
import { type Case, damagedNpyArb, KINDS, writeNpy, writeZip } from "../data/npy.helpers.js";
import { csvCase, FLAGS, FUZZ_SEED, flagValue, radiusInput } from "./fuzz.arbitraries.js";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const main = join(repo, "packages", "cli", "dist", "cli", "main.js");
/** Hard limit of one process (a hang is killed and fails the test). */
const PROCESS_LIMIT_MS = 60_000;
const PARALLEL = 4;

const root = mkdtempSync(join(tmpdir(), "ghosts-fuzz-proc-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const fresh = () => {
  const d = join(root, String(counter++));
  mkdirSync(d);
  return d;
};

type Outcome = { code: number | null; signal: string | null; out: string; err: string; ms: number };

function ghostsProcess(args: string[], stdin = ""): Promise<Outcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [main, ...args], { cwd: root, stdio: "pipe" });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), PROCESS_LIMIT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err, ms: performance.now() - t0 });
    });
    child.stdin.on("error", () => {}); // the process may exit before reading it all
    child.stdin.end(stdin);
  });
}

/** Runs `cases` with at most PARALLEL processes at once. */
async function pool<T>(cases: T[], run: (c: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < cases.length) await run(cases[next++]);
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

/** Exit 0, or 2 with exactly one "ghosts: " line; never a crash, a stack trace or a hang. */
function expectClean(r: Outcome, what: string): void {
  expect(r.signal, `${what}: killed (hang?)`).toBeNull();
  expect([0, 2], `${what}: ${r.err}`).toContain(r.code);
  expect(r.err, what).not.toMatch(/internal error|\n\s+at /);
  const errors = r.err.split("\n").filter((l) => l.startsWith("ghosts: "));
  expect(errors, `${what}: ${r.err}`).toHaveLength(r.code === 0 ? 0 : 1);
}

const tally = new Map<string, number>();
const count = (surface: string) => tally.set(surface, (tally.get(surface) ?? 0) + 1);

beforeAll(() => {
  // the library first: the built CLI imports it by name (node_modules/softmax-ghosts → root dist)
  for (const project of ["tsconfig.build.json", "packages/cli/tsconfig.build.json"]) {
    const build = spawnSync(
      process.execPath,
      [join(repo, "node_modules", "typescript", "bin", "tsc"), "-p", project],
      { cwd: repo, encoding: "utf8" },
    );
    if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
  }
}, 300_000);

afterAll(() => {
  console.log(`fuzz process: ${[...tally].map(([k, v]) => `${k} ${v}`).join(", ")}`);
});

describe("fuzz through the real ghosts process", () => {
  it("60 radius inputs on stdin", { timeout: 600_000 }, async () => {
    const inputs = fc.sample(radiusInput, { numRuns: 60, seed: FUZZ_SEED });
    await pool(inputs, async (text) => {
      const r = await ghostsProcess(["radius"], text);
      expectClean(r, `radius ${JSON.stringify(text).slice(0, 200)}`);
      for (const line of r.out.split("\n").filter(Boolean))
        expect(() => JSON.parse(line)).not.toThrow();
      count("radius");
    });
  });

  it("200 .npy / .npz inputs through radius", { timeout: 600_000 }, async () => {
    const cases = fc.sample(npyCase, { numRuns: 200, seed: FUZZ_SEED });
    const valid = cases.filter((c) => c.json !== null).length;
    expect(valid).toBeGreaterThanOrEqual(40); // the correct path is exercised, not only errors
    await pool(cases, async (c) => {
      const dir = fresh();
      const argv = ["radius"];
      c.files.forEach(([flag, name, bytes]) => {
        const path = join(dir, name);
        writeFileSync(path, bytes);
        argv.push(...(flag === null ? [path] : [flag, path]));
      });
      argv.push(...c.extra.map((a) => (a === "DIR" ? dir : a)));
      const r = await ghostsProcess(argv);
      const what = `npy ${c.what} ${argv.join(" ")}`;
      expectClean(r, what);
      if (r.code === 2) expect(r.out, what).toBe("");
      for (const line of r.out.split("\n").filter(Boolean))
        expect(() => JSON.parse(line)).not.toThrow();
      // the real process says exactly what main() says in-process (tested there against JSON)
      const inProcess = await ghosts(argv);
      expect({ code: r.code, out: r.out, err: r.err }, what).toEqual({
        code: inProcess.code,
        out: inProcess.out,
        err: inProcess.err,
      });
      if (c.json !== null) {
        // valid arrays: exactly the radii of the same numbers given as JSON
        expect(r.code, `${what}: ${r.err}`).toBe(0);
        expect(r.out, what).toBe((await ghosts(["radius"], c.json)).out);
      }
      count("npy");
    });
  });

  it("50 CSV files through run --data", { timeout: 600_000 }, async () => {
    const cases = fc.sample(csvCase, { numRuns: 50, seed: FUZZ_SEED });
    await pool(cases, async (c) => {
      const file = join(fresh(), "data.csv");
      writeFileSync(file, c.bytes);
      const args = ["run", "theory", "--quick", "--data", file];
      if (c.labelColumn !== undefined) args.push("--label-column", String(c.labelColumn));
      if (c.delimiter !== undefined) args.push("--delimiter", c.delimiter);
      // an --out that cannot be created stops the command right after the data is checked
      const r = await ghostsProcess([...args, "--out", "/proc/nope"]);
      expectClean(r, `csv ${args.join(" ")}`);
      expect(r.code).toBe(2);
      count("csv");
    });
  });

  it("50 command lines", { timeout: 600_000 }, async () => {
    const value = fc.oneof(flagValue, fc.constantFrom(join(repo, "package.json"), root));
    const argv = fc
      .tuple(
        fc.constantFrom("radius", "explain", "run", "report", "help", "nosuch", "--help"),
        fc.array(fc.tuple(fc.constantFrom(...FLAGS), fc.option(value)), { maxLength: 4 }),
      )
      .map(([cmd, pairs]) => {
        const rest = pairs.flatMap(([f, v]) => (v === null ? [f] : [f, v]));
        // run always ends with an --out that cannot be created, so nothing trains
        return cmd === "run" ? [cmd, "theory", ...rest, "--out", "/proc/nope"] : [cmd, ...rest];
      });
    const cases = fc.sample(argv, { numRuns: 50, seed: FUZZ_SEED });
    await pool(cases, async (args) => {
      const r = await ghostsProcess(args, '{"logits":[1,2],"slopes":[0,1]}');
      expectClean(r, `argv ${JSON.stringify(args)}`);
      count("cli");
    });
  });

  it("30 damaged summary.json files read by report", { timeout: 600_000 }, async () => {
    const results = join(repo, "docs", "results");
    const ids = readdirSync(results).filter((id) => !id.includes("."));
    const cases = fc.sample(
      fc.record({
        id: fc.constantFrom(...ids),
        path: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
        value: fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.constantFrom(null, -1, "x", [], {})),
        torn: fc.option(fc.nat()),
      }),
      { numRuns: 30, seed: FUZZ_SEED },
    );
    await pool(cases, async (c) => {
      const out = fresh();
      const dir = join(out, c.id);
      mkdirSync(dir);
      for (const f of readdirSync(join(results, c.id)).filter((n) => n.endsWith(".svg"))) {
        cpSync(join(results, c.id, f), join(dir, f));
      }
      const base = decodeJson(
        readFileSync(join(results, c.id, "summary.json"), "utf8"),
      ) as JsonObject;
      const keys = Object.keys(base);
      const k = keys[c.path[0] % keys.length];
      const text = encodeJson({ ...base, [k]: c.value });
      writeFileSync(
        join(dir, "summary.json"),
        c.torn === null ? text : text.slice(0, c.torn % text.length),
      );
      const r = await ghostsProcess(["report", "--out", out]);
      expectClean(r, `report ${c.id}.${k}`);
      count("summary.json");
    });
  });

  it("10 edited run files in a real cache are healed", { timeout: 600_000 }, async () => {
    const reference = fresh();
    const first = await ghostsProcess(["run", "theory", "--quick", "--out", reference]);
    expectClean(first, "reference run");
    expect(first.code).toBe(0);
    const runFiles = readdirSync(join(reference, "theory", "runs")).sort();
    const cases = fc.sample(
      fc.record({
        file: fc.nat({ max: runFiles.length - 1 }),
        how: fc.constantFrom("torn", "field", "result", "delete", "directory"),
        at: fc.nat(),
        value: fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.constantFrom(-1, 7.5, "NaN", null)),
      }),
      { numRuns: 10, seed: FUZZ_SEED },
    );
    await pool(cases, async (c) => {
      const out = fresh();
      cpSync(reference, out, { recursive: true });
      const path = join(out, "theory", "runs", runFiles[c.file]);
      const text = readFileSync(path, "utf8");
      const rec = decodeJson(text) as JsonObject;
      if (c.how === "torn") writeFileSync(path, text.slice(0, c.at % text.length));
      else if (c.how === "directory") {
        rmSync(path);
        mkdirSync(path);
      } else if (c.how === "delete") {
        const keys = Object.keys(rec);
        delete rec[keys[c.at % keys.length]];
        writeFileSync(path, encodeJson(rec));
      } else {
        const target =
          c.how === "result" && typeof rec.result === "object" && rec.result !== null
            ? (rec.result as JsonObject)
            : rec;
        const keys = Object.keys(target);
        target[keys[c.at % keys.length]] = c.value as JsonObject;
        writeFileSync(path, encodeJson(rec));
      }
      const r = await ghostsProcess(["run", "theory", "--quick", "--out", out]);
      expectClean(r, `run file ${c.how}`);
      expect(r.code, r.err).toBe(0);
      // healed: every run file of the cache is valid again (the summary's equality after a
      // heal is asserted in run-files.test.ts, whose experiment is timing-free)
      for (const f of readdirSync(join(out, "theory", "runs"))) {
        const value = decodeJson(readFileSync(join(out, "theory", "runs", f), "utf8"));
        expect(runRecordSchema.safeParse(value).success).toBe(true);
      }
      count("run files");
    });
  });
});

/**
 * One `radius` invocation on NumPy files: `files` as [flag (null: a lone .npz), name,
 * bytes], `extra` arguments (`DIR` → the case's folder), and for valid arrays the same
 * record as JSON (the expected output), else null.
 */
type NpyCase = {
  what: string;
  files: [string | null, string, Buffer][];
  extra: string[];
  json: string | null;
};

/** Valid logits and slopes of one shape ((K,) or (n, K)), float64 or float32, any layout. */
const validArrays = fc
  .record({
    n: fc.integer({ min: 1, max: 5 }),
    k: fc.integer({ min: 2, max: 7 }),
    oneD: fc.boolean(),
    f32: fc.boolean(),
    le: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    version: fc.constantFrom<1 | 2 | 3>(1, 2, 3),
    fortran: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    withLabels: fc.boolean(),
    labelKind: fc.constantFrom("i8", "i4", "u1", "i2"),
    seed: fc.integer(),
  })
  .chain((p) => {
    const count = (p.oneD ? 1 : p.n) * p.k;
    const kind = p.f32 ? KINDS[1] : KINDS[0];
    const values = fc.array(
      fc.oneof(
        { weight: 4, arbitrary: fc.double({ min: -30, max: 30, noNaN: true }).map(Math.fround) },
        { weight: 1, arbitrary: kind.gen },
      ),
      { minLength: count, maxLength: count },
    );
    const labels = fc.array(fc.nat({ max: p.k - 1 }), {
      minLength: p.oneD ? 1 : p.n,
      maxLength: p.oneD ? 1 : p.n,
    });
    return fc.tuple(fc.constant(p), values, values, labels);
  })
  .map(([p, logits, slopes, labels]) => {
    const shape = p.oneD ? [p.k] : [p.n, p.k];
    const kind = p.f32 ? 1 : 0;
    const arr = (values: number[], i: number): Case => ({
      kind,
      le: p.le[i],
      version: p.version,
      fortran: p.fortran[i] ?? false,
      shape,
      values,
    });
    const labelKind = KINDS.findIndex((k) => k.code === p.labelKind);
    const withLabels = p.withLabels && !p.oneD;
    const npy = {
      logits: writeNpy(arr(logits, 0)),
      slopes: writeNpy(arr(slopes, 1)),
      labels: writeNpy({
        kind: labelKind,
        le: p.le[2],
        version: 1,
        fortran: false,
        shape: [labels.length],
        values: labels,
      }),
    };
    const rows = (v: number[]) =>
      p.oneD ? v : Array.from({ length: p.n }, (_, i) => v.slice(i * p.k, (i + 1) * p.k));
    const json = JSON.stringify({
      logits: rows(logits),
      slopes: rows(slopes),
      ...(withLabels ? { labels } : {}),
    });
    return { p, npy, withLabels, json };
  });

/** Valid files, damaged files, mismatched pairs and missing or wrong paths. */
const npyCase: fc.Arbitrary<NpyCase> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(validArrays, fc.boolean(), fc.boolean())
      .map(([v, zip, deflate]): NpyCase => {
        const names: ("logits" | "slopes" | "labels")[] = ["logits", "slopes"];
        if (v.withLabels) names.push("labels");
        if (zip) {
          const members = names.map((n): [string, Buffer] => [`${n}.npy`, v.npy[n]]);
          return {
            what: "valid .npz",
            files: [[null, "batch.npz", writeZip(members, deflate)]],
            extra: [],
            json: v.json,
          };
        }
        return {
          what: "valid .npy",
          files: names.map((n): [string, string, Buffer] => [`--${n}`, `${n}.npy`, v.npy[n]]),
          extra: [],
          json: v.json,
        };
      }),
  },
  {
    weight: 4,
    arbitrary: damagedNpyArb.map(
      ({ bytes, zip }): NpyCase =>
        zip
          ? { what: "damaged .npz", files: [[null, "d.npz", bytes]], extra: [], json: null }
          : {
              what: "damaged .npy",
              files: [
                ["--logits", "d.npy", bytes],
                ["--slopes", "d.npy", bytes],
              ],
              extra: [],
              json: null,
            },
    ),
  },
  {
    weight: 2,
    // each file valid, the combination not: shapes that differ, labels of the wrong length,
    // a damaged one beside a good one, an array missing, a folder or no file at all
    arbitrary: fc
      .tuple(
        validArrays,
        validArrays,
        damagedNpyArb,
        fc.constantFrom("shapes", "labels", "one damaged", "no slopes", "folder", "missing"),
      )
      .map(([a, b, d, how]): NpyCase => {
        const base: [string, string, Buffer][] = [
          ["--logits", "logits.npy", a.npy.logits],
          ["--slopes", "slopes.npy", a.npy.slopes],
        ];
        switch (how) {
          case "shapes":
            base[1] = ["--slopes", "slopes.npy", b.npy.slopes];
            break;
          case "labels":
            base.push(["--labels", "labels.npy", b.npy.labels]);
            break;
          case "one damaged":
            base[1] = ["--slopes", "slopes.npy", d.bytes];
            break;
          case "no slopes":
            base.pop();
            break;
        }
        const extra =
          how === "folder"
            ? ["--labels", "DIR"]
            : how === "missing"
              ? ["--labels", "/nonexistent.npy"]
              : [];
        return { what: how, files: base, extra, json: null };
      }),
  },
);
