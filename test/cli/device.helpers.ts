/** Whether Dawn (the `webgpu` package) finds a WebGPU adapter here, asked in a child process. */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

let cached: boolean | undefined;

export function webgpuAdapterPresent(): boolean {
  if (cached !== undefined) return cached;
  let entry: string;
  try {
    entry = pathToFileURL(createRequire(import.meta.url).resolve("webgpu")).href;
  } catch {
    cached = false;
    return cached;
  }
  const code = `const m = await import(${JSON.stringify(entry)}); const a = await m.create([]).requestAdapter(); process.stdout.write(a ? "yes" : "no"); process.exit(0);`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], {
    encoding: "utf8",
    timeout: 60_000,
  });
  cached = r.stdout === "yes";
  return cached;
}
