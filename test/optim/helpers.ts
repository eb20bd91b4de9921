/**
 * Test helpers for the optimizer tests: seeded random pytrees mirrored as float64 JS data, reading
 * trees back, tolerance checks, and a live device-buffer counter for leak tests.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Array as JaxArray, numpy as np } from "@jax-js/jax";
import { expect } from "vitest";
import type { ArrayTree } from "../../src/optim/index.js";

/** One leaf of a test tree: its path of keys and its shape. */
export interface LeafSpec {
  path: string[];
  shape: number[];
}

/** A small nested parameter tree with matrices, vectors, a 1-element and a 0-d leaf. */
export const SPEC: LeafSpec[] = [
  { path: ["dense", "w"], shape: [3, 4] },
  { path: ["dense", "b"], shape: [4] },
  { path: ["head", "w"], shape: [4, 2] },
  { path: ["head", "scale"], shape: [1] },
  { path: ["temperature"], shape: [] },
];

/** Float64 mirror of a tree: one flat array per leaf, in `spec` order. */
export type RefTree = Float64Array[];

/** Deterministic PRNG (mulberry32) returning uniforms in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal sample (Box–Muller). */
export function randn(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Random float64 leaves (normal × `scale`), rounded to float32 so the device starts from exactly
 * the same numbers as the reference.
 */
export function randomRef(u: () => number, spec: LeafSpec[] = SPEC, scale = 1): RefTree {
  return spec.map(({ shape }) =>
    Float64Array.from(Float32Array.from({ length: numel(shape) }, () => randn(u) * scale)),
  );
}

/** Build the jax-js tree holding `ref` (float32). */
export function toJax(ref: RefTree, spec: LeafSpec[] = SPEC): ArrayTree {
  const root: Record<string, unknown> = {};
  spec.forEach(({ path, shape }, i) => {
    let node = root;
    for (const key of path.slice(0, -1)) {
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = np.array(Float32Array.from(ref[i]), { shape });
  });
  return root as ArrayTree;
}

/** The leaf at `path` (borrowed). */
export function leafAt(t: ArrayTree, path: string[]): JaxArray {
  let node: unknown = t;
  for (const key of path) node = (node as Record<string, unknown>)[key];
  return node as JaxArray;
}

/** Read a tree back to float64 leaves in `spec` order. Borrows `t` (takes its own references). */
export function fromJax(t: ArrayTree, spec: LeafSpec[] = SPEC): RefTree {
  return spec.map(({ path, shape }) => {
    const leaf = leafAt(t, path);
    expect(leaf.shape).toEqual(shape);
    return Float64Array.from(leaf.ref.dataSync() as Float32Array);
  });
}

/** Deep copy of a reference tree. */
export function copyRef(t: RefTree): RefTree {
  return t.map((x) => Float64Array.from(x));
}

/** Assert `|a − e| ≤ atol + rtol·|e|` elementwise. */
export function expectClose(actual: RefTree, expected: RefTree, rtol = 1e-5, atol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(actual[i].length).toBe(expected[i].length);
    for (let j = 0; j < expected[i].length; j++) {
      const a = actual[i][j];
      const e = expected[i][j];
      if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
        throw new Error(`leaf ${i}[${j}]: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
      }
    }
  }
}

/** Total number of device buffers a counter saw allocated and not yet freed. */
export interface LiveBufferCounter {
  /** Buffers allocated since install and still alive. */
  live(): number;
  /** Restore the backend's original methods. */
  uninstall(): void;
}

interface SlotBackend {
  malloc(size: number, initialData?: Uint8Array): number;
  incRef(slot: number): void;
  decRef(slot: number): void;
}

/**
 * Count live device buffers of a jax-js backend.
 *
 * jax-js 0.1.25 has no public counter: each backend keeps its buffers in a private `#buffers` map.
 * The backend *instance* is reachable through the internal `getBackend(device)`, exported by the
 * package's hashed `dist/backend-*.js` chunk (not by the package entry point). We find that chunk
 * and the export's minified name from `dist/index.js`'s import line, then wrap the instance's
 * `malloc`/`incRef`/`decRef` (jax-js calls them as `backend.malloc(…)`, so own properties win) and
 * track the slots allocated after installation with their reference counts. Every array, jit
 * intermediate and pending kernel output goes through `malloc`, so the count is exact for buffers
 * born after `install`. Scalars created from JS numbers are constant expressions with no buffer and
 * are not counted (they own no device memory).
 */
export async function installLiveBufferCounter(device = "wasm"): Promise<LiveBufferCounter> {
  const require = createRequire(import.meta.url);
  const indexPath = join(dirname(require.resolve("@jax-js/jax")), "index.js");
  const source = readFileSync(indexPath, "utf8");
  const match = source.match(/\b(\w+) as getBackend\b[^;]*?from "(\.\/backend-[\w-]+\.js)"/);
  if (!match) throw new Error("installLiveBufferCounter: getBackend not found in jax-js dist");
  const chunk = (await import(pathToFileURL(join(dirname(indexPath), match[2])).href)) as Record<
    string,
    (device: string) => SlotBackend
  >;
  const backend = chunk[match[1]](device);
  const original = { malloc: backend.malloc, incRef: backend.incRef, decRef: backend.decRef };
  if (Object.hasOwn(backend, "malloc"))
    throw new Error("installLiveBufferCounter: already installed");
  const refs = new Map<number, number>();
  backend.malloc = (size, initialData) => {
    const slot = original.malloc.call(backend, size, initialData);
    refs.set(slot, 1);
    return slot;
  };
  backend.incRef = (slot) => {
    original.incRef.call(backend, slot);
    const r = refs.get(slot);
    if (r !== undefined) refs.set(slot, r + 1);
  };
  backend.decRef = (slot) => {
    original.decRef.call(backend, slot);
    const r = refs.get(slot);
    if (r === undefined) return;
    if (r <= 1) refs.delete(slot);
    else refs.set(slot, r - 1);
  };
  return {
    live: () => refs.size,
    uninstall() {
      // Drop the own-property wrappers so the prototype's methods are used again.
      for (const key of ["malloc", "incRef", "decRef"] as const)
        Reflect.deleteProperty(backend, key);
    },
  };
}
