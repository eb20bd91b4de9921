/**
 * Throughput of the certified nearest-ghost solver (src/theory/ghost.ts).
 *
 *     npx tsx bench/ghost.ts [--quick]
 *
 * Realistic inputs: logits ~ N(0, 3²) with one dominant class (+6), slopes ~ N(0, 1);
 * fixed seed. For each K the same batch is solved `repeats` times after a warm-up; the
 * table shows the median samples/s over repeats, the mean number of F evaluations per
 * solve and the certified fraction. Results go to bench/ghost-results.json.
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { nearestGhost } from "../src/theory/ghost.js";

interface Row {
  K: number;
  samples: number;
  repeats: number;
  samplesPerSecond: number;
  msPerSample: number;
  evaluationsPerSolve: number;
  certifiedFraction: number;
}

function makeRng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
}

function makeBatch(K: number, n: number, seed: number): { z: Float64Array; a: Float64Array }[] {
  const rand = makeRng(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
  const out: { z: Float64Array; a: Float64Array }[] = [];
  for (let i = 0; i < n; i++) {
    const z = new Float64Array(K);
    const a = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      z[k] = 3 * gauss();
      a[k] = gauss();
    }
    z[Math.floor(rand() * K)] += 6;
    out.push({ z, a });
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

function run(K: number, n: number, repeats: number): Row {
  const batch = makeBatch(K, n, 1000 + K);
  // warm-up (JIT) on a slice of the batch
  for (let i = 0; i < Math.min(n, 200); i++) nearestGhost(batch[i].z, batch[i].a);
  const rates: number[] = [];
  let evals = 0;
  let certified = 0;
  for (let r = 0; r < repeats; r++) {
    evals = 0;
    certified = 0;
    const t0 = performance.now();
    for (const { z, a } of batch) {
      const g = nearestGhost(z, a);
      evals += g.evaluations;
      if (g.certified) certified++;
    }
    const s = (performance.now() - t0) / 1000;
    rates.push(n / s);
  }
  const rate = median(rates);
  return {
    K,
    samples: n,
    repeats,
    samplesPerSecond: rate,
    msPerSample: 1000 / rate,
    evaluationsPerSolve: evals / n,
    certifiedFraction: certified / n,
  };
}

const quick = process.argv.includes("--quick");
const plan: [number, number, number][] = quick
  ? [
      [10, 2000, 3],
      [1000, 50, 3],
      [50_000, 2, 3],
    ]
  : [
      [10, 20_000, 7],
      [1000, 400, 5],
      [50_000, 10, 5],
    ];

const rows = plan.map(([K, n, reps]) => run(K, n, reps));
console.log("nearestGhost, certified solves (median over repeats)");
console.log("      K   samples/s   ms/sample   evals/solve   certified");
for (const r of rows) {
  console.log(
    `${String(r.K).padStart(7)} ${r.samplesPerSecond.toFixed(1).padStart(11)} ${r.msPerSample
      .toFixed(4)
      .padStart(11)} ${r.evaluationsPerSolve.toFixed(1).padStart(13)} ${(100 * r.certifiedFraction)
      .toFixed(2)
      .padStart(10)}%`,
  );
}
const out = join(dirname(fileURLToPath(import.meta.url)), "ghost-results.json");
writeFileSync(
  out,
  `${JSON.stringify(
    {
      bench: "nearestGhost",
      inputs: "logits ~ N(0, 3^2) with one class +6, slopes ~ N(0, 1)",
      node: process.version,
      date: new Date().toISOString(),
      quick,
      rows,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${out}`);
