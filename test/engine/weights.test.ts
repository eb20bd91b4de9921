import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Array as JaxArray } from "@jax-js/jax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initEngine } from "../../src/engine/runtime.js";
import { decodeSafetensors, SafetensorsError } from "../../src/engine/safetensors.js";
import { disposeTree, flattenToHost, treeEntries } from "../../src/engine/tree.js";
import {
  decodeWeights,
  encodeWeights,
  loadWeights,
  saveWeights,
} from "../../src/engine/weights.js";
import { buildModel } from "../../src/models/index.js";

beforeAll(async () => {
  await initEngine();
});
const dir = mkdtempSync(join(tmpdir(), "ghosts-weights-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * An independent safetensors reader, straight from the format's description: u64 LE header
 * size, JSON header, raw little-endian data after it (Node Buffer reads, not DataView).
 */
function readSafetensors(
  buf: Buffer,
): Map<string, { dtype: string; shape: number[]; values: number[] }> {
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8")) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, { dtype: string; shape: number[]; values: number[] }>();
  for (const [name, e] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const bytes = buf.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]);
    const width = e.dtype === "F64" ? 8 : 4;
    const values: number[] = [];
    for (let i = 0; i < bytes.length; i += width) {
      values.push(
        e.dtype === "F64"
          ? bytes.readDoubleLE(i)
          : e.dtype === "F32"
            ? bytes.readFloatLE(i)
            : bytes.readInt32LE(i),
      );
    }
    out.set(name, { dtype: e.dtype, shape: e.shape, values });
  }
  return out;
}

describe("safetensors weights", () => {
  it("writes names, shapes, dtypes and values an independent reader recovers", async () => {
    const model = buildModel("cnn-bn", { inputDim: 64, numClasses: 10 });
    const { params, state } = model.init(3);
    const path = join(dir, "cnn-bn.safetensors");
    await saveWeights(path, { params, state }, { model: "cnn-bn" });
    const buf = readFileSync(path);
    expect(Number(buf.readBigUInt64LE(0)) % 8).toBe(0);
    const read = readSafetensors(buf);
    const expected = [
      ...treeEntries(params).map(([p, a]) => [`params.${p}`, a] as const),
      ...treeEntries(state).map(([p, a]) => [`state.${p}`, a] as const),
    ];
    expect(expected.some(([name]) => name.startsWith("state."))).toBe(true);
    expect([...read.keys()].sort()).toEqual(expected.map(([n]) => n).sort());
    for (const [name, a] of expected) {
      const t = read.get(name)!;
      expect(t.dtype).toBe("F32");
      expect(t.shape).toEqual([...a.shape]);
      expect(t.values).toEqual(Array.from(a.ref.dataSync() as Float32Array));
    }
    expect(
      JSON.parse(buf.subarray(8, 8 + Number(buf.readBigUInt64LE(0))).toString()).__metadata__,
    ).toEqual({
      model: "cnn-bn",
    });

    const template = model.init(0);
    const loaded = await loadWeights(path, template);
    expect(loaded.metadata).toEqual({ model: "cnn-bn" });
    expect(flattenToHost(loaded.params)).toEqual(flattenToHost(params));
    expect(flattenToHost(loaded.state)).toEqual(flattenToHost(state));
    for (const t of [params, state, template.params, template.state, loaded.params, loaded.state])
      disposeTree(t);
  });

  it("keeps float64 exactly and reads files written by another writer", () => {
    const model = buildModel("mlp", { inputDim: 4, numClasses: 3, dtype: "float64" });
    const { params, state } = model.init(1);
    const loaded = decodeWeights(encodeWeights({ params, state }));
    expect(flattenToHost(loaded.params)).toEqual(flattenToHost(params));
    // A hand-built file: header without padding, tensors out of order.
    const header = JSON.stringify({
      "params.b": { dtype: "I32", shape: [2], data_offsets: [8, 16] },
      "params.a": { dtype: "F64", shape: [1], data_offsets: [0, 8] },
    });
    const buf = Buffer.alloc(8 + header.length + 16);
    buf.writeBigUInt64LE(BigInt(header.length));
    buf.write(header, 8);
    buf.writeDoubleLE(Math.PI, 8 + header.length);
    buf.writeInt32LE(-7, 16 + header.length);
    buf.writeInt32LE(9, 20 + header.length);
    const w = decodeWeights(buf);
    expect(Array.from((w.params.a as JaxArray).ref.dataSync() as Float64Array)).toEqual([Math.PI]);
    const b = w.params.b as JaxArray;
    expect(b.dtype).toBe("int32");
    expect(Array.from(b.ref.dataSync() as Int32Array)).toEqual([-7, 9]);
    for (const t of [params, state, loaded.params, loaded.state, w.params]) disposeTree(t);
  });

  it("names the problem in one line for bad files and mismatched models", async () => {
    const bad = (parts: { header: unknown; data?: number; lengthOverride?: bigint }) => {
      const json = typeof parts.header === "string" ? parts.header : JSON.stringify(parts.header);
      const buf = Buffer.alloc(8 + Buffer.byteLength(json) + (parts.data ?? 0));
      buf.writeBigUInt64LE(parts.lengthOverride ?? BigInt(Buffer.byteLength(json)));
      buf.write(json, 8);
      return buf;
    };
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(3), /too short/],
      [bad({ header: {}, lengthOverride: 10n ** 12n }), /header length .* exceeds the file/],
      [bad({ header: "{nope" }), /not valid UTF-8 JSON/],
      [bad({ header: [] }), /not a JSON object/],
      [
        bad({ header: { x: { dtype: "BF16", shape: [1], data_offsets: [0, 2] } }, data: 2 }),
        /unsupported dtype "BF16"/,
      ],
      [
        bad({ header: { x: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, data: 4 }),
        /shape must be/,
      ],
      [
        bad({ header: { x: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }, data: 4 }),
        /4 bytes do not hold shape \[2\]/,
      ],
      [
        bad({ header: { x: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, data: 4 }),
        /within the 4 data bytes/,
      ],
      [
        bad({
          header: {
            x: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
            y: { dtype: "F32", shape: [1], data_offsets: [4, 8] },
          },
          data: 8,
        }),
        /tensors x and y overlap/,
      ],
      [bad({ header: { __metadata__: { a: 1 } } }), /__metadata__ must map strings/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => decodeSafetensors(bytes)).toThrow(SafetensorsError);
      expect(() => decodeSafetensors(bytes)).toThrow(message);
    }
    expect(() =>
      decodeWeights(
        bad({ header: { w: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, data: 4 }),
      ),
    ).toThrow(/names must be params.<path> or state.<path>/);

    const small = buildModel("mlp", { inputDim: 4, numClasses: 3 });
    const other = buildModel("mlp", { inputDim: 5, numClasses: 3 });
    const a = small.init(0);
    const b = other.init(0);
    const path = join(dir, "small.safetensors");
    await saveWeights(path, a);
    await expect(loadWeights(path, b)).rejects.toThrow(
      `${path}: tensor params.fc1.w has shape [4, 128], expected [5, 128]`,
    );
    writeFileSync(join(dir, "junk.safetensors"), "junk and more junk");
    await expect(loadWeights(join(dir, "junk.safetensors"))).rejects.toThrow(
      /junk.safetensors: header length/,
    );
    for (const t of [a.params, a.state, b.params, b.state]) disposeTree(t);
  });
});
