/** The machine and software a benchmark ran on, for the header of RESULTS.md. */

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import type { TorchBaseline } from "./torch.js";

/** What results.json records about the machine. */
export interface MachineInfo {
  cpu: string;
  /** Logical CPUs the OS reports, and how many this process may use. */
  cpus: number;
  availableParallelism: number;
  memoryGiB: number;
  platform: string;
  node: string;
  jaxJs: string;
  torch: string | null;
  python: string | null;
  /** 1-minute load average when the run started (a busy machine makes times noisy). */
  loadAverageStart: number;
  /** `git rev-parse HEAD` and whether the tree had uncommitted changes. */
  commit: string | null;
  dirty: boolean | null;
  date: string;
}

function packageVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    const entry = require.resolve(name);
    let dir = entry;
    for (let i = 0; i < 6; i++) {
      dir = dir.slice(0, dir.lastIndexOf("/"));
      try {
        const pkg = JSON.parse(readFileSync(`${dir}/package.json`, "utf8")) as {
          name?: string;
          version?: string;
        };
        if (pkg.name === name && pkg.version) return pkg.version;
      } catch {
        // not the package root yet: keep climbing
      }
    }
  } catch {
    // fall through
  }
  return "unknown";
}

function run(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

/** Collects {@link MachineInfo}, with the PyTorch baselines found (see `lib/torch.ts`). */
export function machineInfo(found: {
  reference: TorchBaseline | null;
  extra: TorchBaseline | null;
  note: string;
}): MachineInfo {
  const cpus = os.cpus();
  const ref = found.reference;
  const torch =
    ref === null
      ? null
      : `${ref.label} from ${ref.source}` +
        (found.extra === null ? "" : `; extra row: ${found.extra.label}`);
  const py =
    ref === null ? null : run(ref.python, ["-c", "import sys; print(sys.version.split()[0])"]);
  const commit = run("git", ["rev-parse", "HEAD"]);
  const status = run("git", ["status", "--porcelain"]);
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cpus: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    jaxJs: packageVersion("@jax-js/jax"),
    torch,
    python: py,
    loadAverageStart: os.loadavg()[0]!,
    commit,
    dirty: status === null ? null : status.length > 0,
    date: new Date().toISOString(),
  };
}
