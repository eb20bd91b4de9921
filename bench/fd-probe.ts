/**
 * The finite-difference probe against a plain step, side by side: per point (MLP b64/b512,
 * TinyTransformer b64 on digits, Adam 1e-3, no controller) and per repeat, a training run
 * without a probe and one with `probe: {sampleSet: "batch", method: "fd"}` — the `radius`
 * case's `off` and `fd-batch` — in this checkout and, with `--before DIR`, in another
 * checkout of the library (e.g. `git archive <commit> src | tar -x -C DIR`, with DIR's
 * node_modules a link to this one's, so both share one engine), all in one process,
 * interleaved with the order rotated per repeat. Prints per tree and point the median ms per
 * step and the median (IQR) over repeats of the per-repeat ratio FD step / plain step, in
 * wall time (StepRecord.wallMs) and in this process's CPU time per step (user + system
 * between `onStep` calls, which includes the step's bookkeeping; steadier than wall time on a
 * loaded machine), as JSON lines, and the load average before and after:
 *
 *     nice -n 10 npx tsx bench/fd-probe.ts [--before DIR] [--repeats 9] [--steps 20]
 */
import os from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { subset } from "../src/data/dataset.js";
import { digitsSplit } from "./lib/data.js";
import { summary } from "./lib/stats.js";

const { values } = parseArgs({
  options: {
    before: { type: "string" },
    repeats: { type: "string", default: "9" },
    steps: { type: "string", default: "20" },
    warmup: { type: "string", default: "3" },
    points: { type: "string", default: "mlp:64,mlp:512,transformer:64" },
  },
});
const repeats = Number(values.repeats);
const steps = Number(values.steps);
const warmup = Number(values.warmup);

/** What a checkout has to offer: its `train` and its model registry. */
interface Tree {
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: two checkouts' option types differ nominally
  train: (opts: any) => Promise<{ history: { wallMs: number }[]; params: unknown; state: unknown }>;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  buildModel: (arch: string, cfg: any) => unknown;
  disposeTree: (t: never) => void;
}

async function load(name: string, root: string): Promise<Tree> {
  const t = await import(resolve(root, "src/train/train.ts"));
  const m = await import(resolve(root, "src/models/registry.ts"));
  const e = await import(resolve(root, "src/engine/tree.ts"));
  return { name, train: t.train, buildModel: m.buildModel, disposeTree: e.disposeTree };
}

const here = resolve(import.meta.dirname, "..");
const trees: Tree[] = [await load("after", here)];
if (values.before !== undefined) trees.unshift(await load("before", values.before));

const digits = digitsSplit();
const points = values.points.split(",").map((p) => {
  const [arch, batch] = p.split(":");
  return { arch: arch!, batch: Number(batch) };
});
const loadBefore = os.loadavg();
const started = Date.now();
for (const { arch, batch } of points) {
  // Whole batches only (as the radius case): one shape, one compile.
  const nTrain = Math.floor(digits.train.n / batch) * batch;
  const data = {
    train: subset(
      digits.train,
      Int32Array.from({ length: nTrain }, (_, i) => i),
    ),
    test: digits.test,
  };
  const models = new Map(
    trees.map((t) => [t, t.buildModel(arch, { inputDim: 64, numClasses: 10 })]),
  );
  const arms = trees.flatMap((tree) => (["off", "fd"] as const).map((v) => ({ tree, v })));
  const medians = new Map<string, number[]>(arms.map((a) => [`${a.tree.name}:${a.v}`, []]));
  const cpuMedians = new Map<string, number[]>(arms.map((a) => [`${a.tree.name}:${a.v}`, []]));
  for (let r = 0; r < repeats; r++) {
    for (let i = 0; i < arms.length; i++) {
      const { tree, v } = arms[(i + r) % arms.length]!;
      const cpu: number[] = [];
      const res = await tree.train({
        model: models.get(tree),
        data,
        optimizer: { name: "adam", learningRate: 1e-3 },
        steps: warmup + steps,
        batchSize: batch,
        evalEvery: 0,
        seed: r,
        probe: v === "off" ? { every: 0 } : { every: 1, sampleSet: "batch", method: "fd" },
        onStep: () => {
          const u = process.cpuUsage();
          cpu.push((u.user + u.system) / 1000);
        },
      });
      tree.disposeTree(res.params as never);
      tree.disposeTree(res.state as never);
      const ms = res.history.slice(warmup).map((h) => h.wallMs);
      medians.get(`${tree.name}:${v}`)!.push(summary(ms).median);
      const cpuMs = cpu.slice(warmup).map((t, j) => t - cpu[warmup + j - 1]!);
      cpuMedians.get(`${tree.name}:${v}`)!.push(summary(cpuMs).median);
    }
  }
  for (const tree of trees) {
    const off = medians.get(`${tree.name}:off`)!;
    const fd = medians.get(`${tree.name}:fd`)!;
    const ratio = summary(fd.map((t, i) => t / off[i]!));
    const cpuOff = cpuMedians.get(`${tree.name}:off`)!;
    const cpuFd = cpuMedians.get(`${tree.name}:fd`)!;
    const cpuRatio = summary(cpuFd.map((t, i) => t / cpuOff[i]!));
    console.log(
      JSON.stringify({
        tree: tree.name,
        point: `${arch} b${batch}`,
        offMs: summary(off).median,
        fdMs: summary(fd).median,
        ratio: ratio.median,
        ratioIqr: [ratio.q25, ratio.q75],
        cpuOffMs: summary(cpuOff).median,
        cpuFdMs: summary(cpuFd).median,
        cpuRatio: cpuRatio.median,
        cpuRatioIqr: [cpuRatio.q25, cpuRatio.q75],
        repeats,
      }),
    );
  }
}
console.log(
  JSON.stringify({
    loadavgBefore: loadBefore.map((x) => Number(x.toFixed(2))),
    loadavgAfter: os.loadavg().map((x) => Number(x.toFixed(2))),
    cores: os.cpus().length,
    seconds: Math.round((Date.now() - started) / 1000),
  }),
);
