/**
 * What a user should see when a data set is loaded: one summary line (rows, features,
 * classes with their counts and the label → index mapping) and warnings for classes too
 * small for a stratified train/test split.
 *
 * @module
 */
import { classCounts, type Dataset } from "./dataset.js";

function plural(n: number, word: string, words = `${word}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? word : words}`;
}

/**
 * One line, e.g. `150 rows, 4 features, 3 classes: setosa→0 (50), versicolor→1 (50),
 * virginica→2 (50)`. Classes beyond the first 12 are summarised by a count.
 */
export function describeDataset(ds: Dataset): string {
  const counts = classCounts(ds);
  const shown = Math.min(ds.numClasses, 12);
  const parts: string[] = [];
  for (let k = 0; k < shown; k++) {
    const name = ds.classNames?.[k] ?? String(k);
    parts.push(`${name === String(k) ? name : `${name}→${k}`} (${counts[k]})`);
  }
  if (ds.numClasses > shown) parts.push(`… ${ds.numClasses - shown} more`);
  const classes = plural(ds.numClasses, "class", "classes");
  return `${plural(ds.n, "row")}, ${plural(ds.d, "feature")}, ${classes}: ${parts.join(", ")}`;
}

/**
 * Fewest rows a class needs so that a stratified split with `testFraction` puts at least
 * one of them in each part: the smallest `n` with `round(n·f) ≥ 1` (3 for the default 0.2).
 */
export function minRowsPerClass(testFraction = 0.2): number {
  if (!(testFraction > 0 && testFraction < 1)) return 1;
  return Math.max(2, Math.ceil(0.5 / testFraction));
}

/**
 * A warning per class with fewer rows than {@link minRowsPerClass}: such a class gets no
 * test rows (its accuracy is not measured), e.g. `class "b" has 1 row; a 0.2 test split
 * needs at least 3 per class to put one in each part`.
 */
export function splitWarnings(ds: Dataset, testFraction = 0.2): string[] {
  const need = minRowsPerClass(testFraction);
  const counts = classCounts(ds);
  const out: string[] = [];
  for (let k = 0; k < ds.numClasses; k++) {
    if (counts[k] < need) {
      const name = ds.classNames?.[k] ?? String(k);
      out.push(
        `class "${name}" has ${plural(counts[k], "row")}; a ${testFraction} test split needs at least ${need} per class to put one in each part`,
      );
    }
  }
  return out;
}
