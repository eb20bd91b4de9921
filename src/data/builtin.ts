/**
 * The data sets shipped in the package's `data/` folder.
 *
 * Paths are resolved relative to this module: it lives at `src/data/builtin.ts` when run
 * from source (tsx, vitest) and at `dist/data/builtin.js` when compiled, and in both cases
 * `../../data/` is the package root's `data/` folder.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { parseCsv, readTextFile } from "./csv.js";
import { DataError, type Dataset } from "./dataset.js";

/** URL of a file in the package's `data/` folder. */
export function dataFileUrl(name: string): URL {
  return new URL(`../../data/${name}`, import.meta.url);
}

/** Number of images in the digits set. */
export const DIGITS_N = 1797;
/** Side of a digits image (8×8 pixels). */
export const DIGITS_SIDE = 8;

/**
 * The 8×8 handwritten digits (UCI "Optical Recognition of Handwritten Digits", test part;
 * E. Alpaydin and C. Kaynak, 1998, CC BY 4.0): 1,797 samples, 64 features — the pixels in
 * row-major order, divided by 16 so they lie in [0, 1] — and labels 0..9.
 * Feature names are `"r{row}c{col}"`; class names `"0"`..`"9"`.
 *
 * @param opts.path read another copy of the file instead of the shipped one.
 * @throws {DataError} if the file is missing or not the expected 1797 × (64 + 1) table.
 */
export function loadDigits(opts: { path?: string | URL } = {}): Dataset {
  const path = opts.path ?? dataFileUrl("digits.csv.gz");
  const name = path instanceof URL ? fileURLToPath(path) : path;
  return parseDigits(readTextFile(path), name);
}

/**
 * The digits set from the text of `digits.csv` (already decompressed), as {@link loadDigits}
 * returns it. Needs no file system: the browser explorer calls it on fetched text.
 *
 * @param name the file name used in error messages.
 * @throws {DataError} if the text is not the expected 1797 × (64 + 1) table.
 */
export function parseDigits(text: string, name = "digits.csv"): Dataset {
  const featureNames: string[] = [];
  for (let r = 0; r < DIGITS_SIDE; r++) {
    for (let c = 0; c < DIGITS_SIDE; c++) featureNames.push(`r${r}c${c}`);
  }
  const ds = parseCsv(text, {
    name,
    header: false,
    labelColumn: -1,
    numClasses: 10,
    featureNames,
  });
  if (ds.d !== DIGITS_SIDE * DIGITS_SIDE) {
    throw new DataError(`expected 64 pixel columns, found ${ds.d}`, { file: name });
  }
  for (let i = 0; i < ds.x.length; i++) {
    const v = ds.x[i];
    if (v < 0 || v > 16) {
      throw new DataError(`pixel value ${v} outside 0..16 (sample ${Math.floor(i / 64)})`, {
        file: name,
      });
    }
    ds.x[i] = v / 16;
  }
  return ds;
}

/** Feature names of the iris set. */
export const IRIS_FEATURES = [
  "sepal length (cm)",
  "sepal width (cm)",
  "petal length (cm)",
  "petal width (cm)",
];

/**
 * Fisher's iris data (public domain): 150 samples, 4 features in cm (unscaled), 3 classes
 * named from the file's first line (`150,4,setosa,versicolor,virginica`). Small; meant for
 * fast tests.
 *
 * @param opts.path read another copy of the file instead of the shipped one.
 * @throws {DataError} if the file is missing or disagrees with its own first line.
 */
export function loadIris(opts: { path?: string | URL } = {}): Dataset {
  const path = opts.path ?? dataFileUrl("iris.csv");
  const name = path instanceof URL ? fileURLToPath(path) : path;
  const text = readTextFile(path);
  const firstLine = text.split(/\r?\n/, 1)[0] ?? "";
  const head = firstLine.split(",").map((c) => c.trim());
  const n = Number(head[0]);
  const d = Number(head[1]);
  const classNames = head.slice(2);
  if (!Number.isInteger(n) || !Number.isInteger(d) || classNames.length < 2) {
    throw new DataError(`first line should be "count,features,class names…", got "${firstLine}"`, {
      file: name,
      line: 1,
    });
  }
  const ds = parseCsv(text, {
    name,
    header: true,
    numClasses: classNames.length,
    classNames,
    featureNames: d === IRIS_FEATURES.length ? IRIS_FEATURES.slice() : undefined,
  });
  if (ds.n !== n || ds.d !== d) {
    throw new DataError(`first line announces ${n}×${d}, file holds ${ds.n}×${ds.d}`, {
      file: name,
    });
  }
  return ds;
}
