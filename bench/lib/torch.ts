/**
 * Which PyTorch the benchmarks compare against. The reference is the PyTorch people actually
 * run: the 2.13 CPU wheel (MKL) that machines of this kind carry in `/opt/wheels`, installed
 * without the network into a private folder on first use. Debian's `python3-torch` (1.13,
 * built against a generic reference BLAS) is only ever an extra, labelled row.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** One PyTorch installation: how to start it and what it is. */
export type TorchBaseline = {
  /** Short label for rows: "PyTorch 2.13.0+cpu (MKL)". */
  label: string;
  python: string;
  /** Extra environment (PYTHONPATH of a private install). */
  env: Record<string, string>;
  version: string;
  /** `BLAS_INFO` of `torch.__config__.show()` (e.g. "mkl", "generic"). */
  blas: string;
  /** Where it came from, for RESULTS.md. */
  source: string;
};

const WHEELS = "/opt/wheels";
const TARGET = "/tmp/torch213";

function probe(
  python: string,
  env: Record<string, string>,
): { version: string; blas: string } | null {
  try {
    const out = execFileSync(
      python,
      [
        "-c",
        "import re, torch; s = torch.__config__.show(); m = re.search(r'BLAS_INFO=(\\w+)', s); " +
          "print(torch.__version__); print(m.group(1) if m else 'unknown')",
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], env: { ...process.env, ...env } },
    );
    const [version, blas] = out.trim().split("\n");
    return version === undefined ? null : { version, blas: blas ?? "unknown" };
  } catch {
    return null;
  }
}

/** The 2.13 wheel of `/opt/wheels`, installed into {@link TARGET} if it is not there yet. */
function wheelBaseline(log: (m: string) => void): TorchBaseline | null {
  if (!existsSync(WHEELS)) return null;
  const wheel = readdirSync(WHEELS).find((f) => /^torch-2\.13\..*\.whl$/.test(f));
  if (wheel === undefined) return null;
  const env = { PYTHONPATH: TARGET };
  let found = probe("python3", env);
  if (found === null) {
    log(`installing ${wheel} into ${TARGET} (no network needed)`);
    try {
      execFileSync(
        "python3",
        ["-m", "pip", "install", "--quiet", "--no-deps", "--target", TARGET, join(WHEELS, wheel)],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
    } catch (err) {
      log(`could not install ${wheel}: ${(err as Error).message.split("\n")[0]}`);
      return null;
    }
    found = probe("python3", env);
  }
  if (found === null) return null;
  return {
    label: `PyTorch ${found.version} (${found.blas.toUpperCase()})`,
    python: "python3",
    env,
    ...found,
    source: `${join(WHEELS, wheel)}, installed in ${TARGET}`,
  };
}

/**
 * The reference PyTorch and, where present, Debian's as an extra: `--python PATH` makes that
 * interpreter the reference instead. `note` says what was found (e.g. that `/opt/wheels` is
 * missing and the comparison is therefore not against PyTorch 2.13).
 */
export function findTorch(
  python: string | null,
  log: (m: string) => void,
): { reference: TorchBaseline | null; extra: TorchBaseline | null; note: string } {
  const debianFound = existsSync("/usr/bin/python3") ? probe("/usr/bin/python3", {}) : null;
  const debian: TorchBaseline | null =
    debianFound === null
      ? null
      : {
          label: `PyTorch ${debianFound.version} (Debian, ${debianFound.blas} BLAS)`,
          python: "/usr/bin/python3",
          env: {},
          ...debianFound,
          source: "Debian python3-torch",
        };
  if (python !== null) {
    const found = probe(python, {});
    const reference =
      found === null
        ? null
        : {
            label: `PyTorch ${found.version} (${found.blas.toUpperCase()})`,
            python,
            env: {},
            ...found,
            source: python,
          };
    return {
      reference,
      extra: null,
      note:
        reference === null ? `no torch importable by ${python}` : `reference: ${reference.source}`,
    };
  }
  const wheel = wheelBaseline(log);
  if (wheel !== null) {
    return { reference: wheel, extra: debian, note: `reference: ${wheel.source}` };
  }
  return {
    reference: debian,
    extra: null,
    note:
      `${WHEELS} has no PyTorch 2.13 wheel on this machine: ` +
      (debian === null
        ? "no PyTorch baseline at all"
        : `the comparison is against ${debian.label}, a generic-BLAS build nobody trains with`),
  };
}
