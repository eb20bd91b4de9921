/**
 * Host ⇄ device conversions and dtype choice.
 *
 * Ownership: `toDevice`/`labelsToDevice` return a NEW array the caller owns (dispose it, or
 * pass it into a consuming call). `toHost` BORROWS its argument (the caller still owns it);
 * `takeToHost` CONSUMES it. Everything comes back as a `Float64Array` whatever the dtype.
 */
import { type DType, type Array as JaxArray, numpy as np } from "@jax-js/jax";

/** A device array (jax-js's `Array`), named so that layers above the engine need not import jax-js. */
export type DeviceArray = JaxArray;

/** Floating dtypes the engine supports. float32 is the default for training. */
export type FloatDType = "float32" | "float64";

/** The dtype models and uploads use unless told otherwise. */
export const DEFAULT_DTYPE: FloatDType = "float32";

/** The jax-js dtype value for a float dtype name. */
export function jaxDtype(dtype: FloatDType): DType {
  return dtype === "float64" ? np.float64 : np.float32;
}

/** Narrow a jax-js dtype to a `FloatDType`, or throw. */
export function floatDtypeOf(a: JaxArray): FloatDType {
  const d = a.dtype as string;
  if (d === "float32" || d === "float64") return d;
  throw new Error(`expected a float32 or float64 array, got ${d}`);
}

/** Machine epsilon of a float dtype. */
export function machineEps(dtype: FloatDType): number {
  return dtype === "float64" ? 2 ** -52 : 2 ** -23;
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** Upload host numbers as a new device array of the given shape and float dtype (caller owns it). */
export function toDevice(
  data: ArrayLike<number>,
  shape: readonly number[],
  dtype: FloatDType = DEFAULT_DTYPE,
): JaxArray {
  const n = product(shape);
  if (data.length !== n) {
    throw new Error(`toDevice: ${data.length} values do not fill shape [${shape.join(", ")}]`);
  }
  const typed =
    dtype === "float64"
      ? data instanceof Float64Array
        ? data
        : Float64Array.from(data)
      : data instanceof Float32Array
        ? data
        : Float32Array.from(data);
  return np.array(typed, { shape: [...shape], dtype: jaxDtype(dtype) });
}

/** Upload integer class labels as a new int32 device array of shape [n] (caller owns it). */
export function labelsToDevice(labels: ArrayLike<number>): JaxArray {
  const typed = labels instanceof Int32Array ? labels : Int32Array.from(labels);
  return np.array(typed, { shape: [typed.length], dtype: np.int32 });
}

/** Read an array back as float64 values, BORROWING it (the caller still owns `a`). */
export function toHost(a: JaxArray): Float64Array {
  return takeToHost(a.ref);
}

/** Read an array back as float64 values, CONSUMING it. */
export function takeToHost(a: JaxArray): Float64Array {
  const data = a.dataSync();
  return data instanceof Float64Array ? data : Float64Array.from(data as ArrayLike<number>);
}

/** Read a one-element array as a number, CONSUMING it. */
export function takeScalar(a: JaxArray): number {
  const data = a.dataSync();
  if (data.length !== 1) throw new Error(`takeScalar: array has ${data.length} elements`);
  return Number(data[0]);
}
