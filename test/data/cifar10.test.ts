import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  CIFAR10_CLASSES,
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  loadCifar10,
  parseCifar10Batch,
} from "../../src/data/cifar10.js";
import { DataError } from "../../src/data/dataset.js";

const root = mkdtempSync(join(tmpdir(), "softmax-ghosts-cifar-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const PLANE = 32 * 32;
const RECORD = 1 + 3 * PLANE;

/**
 * Pixel byte of record `r` of file `f` at channel c, position p: a deterministic pattern
 * that differs between files, records, channels and positions.
 */
const pixel = (f: number, r: number, c: number, p: number) => (f * 31 + r * 7 + c * 50 + p) % 256;
const labelOf = (f: number, r: number) => (f * 5 + r) % 10;

/** A binary batch in the CIFAR-10 format: per record one label byte, then R, G, B planes. */
function batchBytes(f: number, records: number): Uint8Array {
  const out = new Uint8Array(records * RECORD);
  for (let r = 0; r < records; r++) {
    out[r * RECORD] = labelOf(f, r);
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < PLANE; p++) out[r * RECORD + 1 + c * PLANE + p] = pixel(f, r, c, p);
  }
  return out;
}

let counter = 0;
/** A folder with all six files of `records` records each (file 5 = test); `edit` can spoil one. */
function makeDir(
  records = 5,
  edit?: (name: string, bytes: Uint8Array) => Uint8Array | null,
): string {
  const dir = join(root, String(counter++));
  mkdirSync(dir);
  [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].forEach((name, f) => {
    let bytes: Uint8Array | null = batchBytes(f, records);
    if (edit) bytes = edit(name, bytes);
    if (bytes !== null) writeFileSync(join(dir, name), bytes);
  });
  return dir;
}

describe("loadCifar10 on a generated folder (5 records per file)", () => {
  const dir = makeDir();

  it("concatenates the five training files in order and keeps the test file apart", () => {
    const { train, test, channelStats } = loadCifar10(dir);
    expect(channelStats).toBeUndefined();
    expect([train.n, train.d, train.numClasses]).toEqual([25, 3072, 10]);
    expect([test.n, test.d]).toEqual([5, 3072]);
    expect(train.classNames).toEqual(CIFAR10_CLASSES);
    expect(Array.from(train.y)).toEqual(
      Array.from({ length: 25 }, (_, i) => labelOf(Math.floor(i / 5), i % 5)),
    );
    expect(Array.from(test.y)).toEqual([0, 1, 2, 3, 4].map((r) => labelOf(5, r)));
  });

  it("keeps the channel-first R, G, B layout and scales bytes to [0, 1]", () => {
    const { train, test } = loadCifar10(dir);
    // record 3 of data_batch_2 is training row 8
    for (const [c, p] of [
      [0, 0],
      [0, 1023],
      [1, 17],
      [2, 500],
    ]) {
      expect(train.x[8 * 3072 + c * PLANE + p]).toBe(pixel(1, 3, c, p) / 255);
    }
    expect(test.x[2 * 3072 + 2 * PLANE + 9]).toBe(pixel(5, 2, 2, 9) / 255);
    expect(Math.min(...train.x)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...train.x)).toBeLessThanOrEqual(1);
  });

  it("per-channel normalisation uses the training images' statistics for both splits", () => {
    const raw = loadCifar10(dir);
    const norm = loadCifar10(dir, { normalize: "per-channel" });
    const stats = norm.channelStats!;
    for (let c = 0; c < 3; c++) {
      const vals: number[] = [];
      for (let i = 0; i < raw.train.n; i++)
        for (let p = 0; p < PLANE; p++) vals.push(raw.train.x[i * 3072 + c * PLANE + p]!);
      const m = vals.reduce((s, v) => s + v, 0) / vals.length;
      const sd = Math.sqrt(vals.reduce((s, v) => s + (v - m) ** 2, 0) / vals.length);
      expect(stats.mean[c]).toBeCloseTo(m, 12);
      expect(stats.std[c]).toBeCloseTo(sd, 12);
      const i = 4 * 3072 + c * PLANE + 77;
      expect(norm.train.x[i]).toBeCloseTo((raw.train.x[i]! - m) / sd, 12);
      expect(norm.test.x[i]).toBeCloseTo((raw.test.x[i]! - m) / sd, 12);
    }
  });
});

describe("loadCifar10: bad input is a DataError naming the problem", () => {
  it("a missing folder", () => {
    const missing = join(root, "nope");
    expect(() => loadCifar10(missing)).toThrow(DataError);
    expect(() => loadCifar10(missing)).toThrow(`CIFAR-10 folder not found: ${missing}`);
  });

  it("missing files, all of them named", () => {
    const dir = makeDir(5, (name, b) =>
      name === "data_batch_3.bin" || name === CIFAR10_TEST_FILE ? null : b,
    );
    expect(() => loadCifar10(dir)).toThrow(/lacks data_batch_3\.bin, test_batch\.bin/);
  });

  it("a truncated file (size not a multiple of 3073)", () => {
    const dir = makeDir(5, (name, b) =>
      name === "data_batch_4.bin" ? b.subarray(0, 5 * RECORD - 100) : b,
    );
    expect(() => loadCifar10(dir)).toThrow(DataError);
    expect(() => loadCifar10(dir)).toThrow(
      /data_batch_4\.bin: size 15265 bytes is not a multiple of 3073/,
    );
  });

  it("an empty file", () => {
    const dir = makeDir(5, (name, b) => (name === CIFAR10_TEST_FILE ? new Uint8Array(0) : b));
    expect(() => loadCifar10(dir)).toThrow(/test_batch\.bin: empty file/);
  });

  it("a label byte above 9, with the record number", () => {
    const dir = makeDir(5, (name, b) => {
      if (name === "data_batch_1.bin") b[2 * RECORD] = 10;
      return b;
    });
    expect(() => loadCifar10(dir)).toThrow(
      /data_batch_1\.bin: record 2: label byte 10 is outside 0\.\.9/,
    );
  });

  it("parseCifar10Batch checks a single buffer the same way", () => {
    expect(() => parseCifar10Batch(new Uint8Array(RECORD + 1), "x.bin")).toThrow(
      /x\.bin: size 3074/,
    );
    const one = parseCifar10Batch(batchBytes(0, 1), "x.bin");
    expect([one.n, one.y[0], one.x[PLANE]]).toEqual([1, 0, pixel(0, 0, 1, 0) / 255]);
  });
});
