// tf.util: the helpers tfjs programs call (assert, sizeFromShape, shuffle, now, flatten,
// arraysEqual, createShuffledIndices, ...), with tfjs' names, arguments and results.
import { InvalidArgumentError, check } from './errors.js';
import { computeStrides } from './buffer.js';
import type { DType } from './tensor.js';

export { computeStrides };

type TypedArray = Float32Array | Int32Array | Uint8Array;

/** Throws InvalidArgumentError(msg()) unless expr is truthy (tfjs util.assert). */
export function assert(expr: boolean, msg: string | (() => string)): asserts expr {
  if (!expr) throw new InvalidArgumentError(typeof msg === 'function' ? msg() : msg);
}

/** Throws unless shapes a and b are equal, prefixing errorMessagePrefix. */
export function assertShapesMatch(shapeA: number[], shapeB: number[], errorMessagePrefix = ''): void {
  assert(arraysEqual(shapeA, shapeB), () => `${errorMessagePrefix} Shapes ${shapeA} and ${shapeB} must match`);
}

/** Throws unless a is neither null nor undefined. */
export function assertNonNull(a: unknown): void {
  assert(a != null, () => 'The input to the tensor constructor must be a non-null value.');
}

/** The number of elements of a shape (1 for []). */
export function sizeFromShape(shape: number[]): number {
  check(Array.isArray(shape), 'util.sizeFromShape', 'a shape array', shape);
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/** Whether a shape is a scalar's ([]). */
export function isScalarShape(shape: number[]): boolean {
  return shape.length === 0;
}

/** Shuffles an array in place (Fisher-Yates with Math.random, as tfjs). */
export function shuffle<T>(array: T[] | TypedArray): void {
  let counter = array.length;
  while (counter > 0) {
    const index = (Math.random() * counter) | 0;
    counter--;
    swap(array as T[], counter, index);
  }
}

/** Shuffles two arrays of the same length in place with the same permutation. */
export function shuffleCombo<T, U>(array: T[] | TypedArray, array2: U[] | TypedArray): void {
  check(array.length === array2.length, 'util.shuffleCombo', `a second array of length ${array.length}`, array2.length);
  let counter = array.length;
  while (counter > 0) {
    const index = (Math.random() * counter) | 0;
    counter--;
    swap(array as T[], counter, index);
    swap(array2 as U[], counter, index);
  }
}

/** A random permutation of 0 .. n-1. */
export function createShuffledIndices(n: number): Uint32Array {
  const shuffled = new Uint32Array(n);
  for (let i = 0; i < n; ++i) shuffled[i] = i;
  shuffle(shuffled as unknown as number[]);
  return shuffled;
}

/** Swaps two elements of an array in place. */
export function swap<T>(object: { [index: number]: T }, left: number, right: number): void {
  const temp = object[left];
  object[left] = object[right];
  object[right] = temp;
}

/** Milliseconds since an arbitrary origin, sub-millisecond (performance.now()). */
export function now(): number {
  return performance.now();
}

/** Flattens nested arrays (and, unless skipTypedArray, typed arrays) into result. */
export function flatten<T extends number | boolean | string | Promise<number>>(arr: T | unknown[] | TypedArray, result: T[] = [], skipTypedArray = false): T[] {
  if (Array.isArray(arr) || (ArrayBuffer.isView(arr) && !skipTypedArray)) {
    for (let i = 0; i < (arr as unknown[]).length; ++i) flatten((arr as unknown[])[i] as T, result, skipTypedArray);
  } else result.push(arr as T);
  return result;
}

/** Whether two arrays (or typed arrays) hold the same values in the same order. */
export function arraysEqual(n1: ArrayLike<unknown>, n2: ArrayLike<unknown>): boolean {
  if (n1 === n2) return true;
  if (n1 == null || n2 == null || n1.length !== n2.length) return false;
  for (let i = 0; i < n1.length; i++) if (n1[i] !== n2[i]) return false;
  return true;
}

/** x clamped to [min, max]. */
export function clamp(min: number, x: number, max: number): number {
  return Math.max(min, Math.min(x, max));
}

/** The even number at or above val. */
export function nearestLargerEven(val: number): number {
  return val % 2 === 0 ? val : val + 1;
}

/** The sum of an array of numbers. */
export function sum(arr: number[] | TypedArray): number {
  let s = 0;
  for (let i = 0; i < arr.length; i++) s += arr[i];
  return s;
}

/** A uniform random number in [a, b). */
export function randUniform(a: number, b: number): number {
  const r = Math.random();
  return b * r + (1 - r) * a;
}

/** The squared Euclidean distance between two vectors of one length. */
export function distSquared(a: ArrayLike<number>, b: ArrayLike<number>): number {
  check(a.length === b.length, 'util.distSquared', `vectors of one length (${a.length})`, b.length);
  let result = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Number(a[i]) - Number(b[i]);
    result += diff * diff;
  }
  return result;
}

/** Whether a is a Float32Array, Int32Array or Uint8Array (tfjs' tensor value arrays). */
export function isTypedArray(a: unknown): a is TypedArray {
  return a instanceof Float32Array || a instanceof Int32Array || a instanceof Uint8Array || a instanceof Uint8ClampedArray;
}
/** Whether value is a number. */
export function isNumber(value: unknown): value is number {
  return typeof value === 'number';
}
/** Whether value is a string. */
export function isString(value: unknown): value is string {
  return typeof value === 'string' || value instanceof String;
}
/** Whether value is a boolean. */
export function isBoolean(value: unknown): value is boolean {
  return typeof value === 'boolean';
}
/** Whether f is a function. */
export function isFunction(f: unknown): f is (...args: unknown[]) => unknown {
  return typeof f === 'function';
}
/** Whether a is an integer. */
export function isInt(a: number): boolean {
  return a % 1 === 0;
}
/** Whether object is a Promise-like (has then()). */
export function isPromise(object: unknown): object is Promise<unknown> {
  return !!object && typeof (object as { then?: unknown }).then === 'function';
}

/** The dtype tensor() would infer for values: 'int32' for an Int32Array, 'bool' for booleans, else 'float32'. */
export function inferDtype(values: unknown): DType {
  if (Array.isArray(values)) return values.length ? inferDtype(values[0]) : 'float32';
  if (values instanceof Int32Array) return 'int32';
  if (values instanceof Uint8Array || typeof values === 'boolean') return 'bool';
  return 'float32';
}

/** The flat index of coordinates locs in a tensor of the given rank and strides. */
export function locToIndex(locs: number[], rank: number, strides: number[]): number {
  if (rank === 0) return 0;
  if (rank === 1) return locs[0];
  let index = locs[locs.length - 1];
  for (let i = 0; i < locs.length - 1; ++i) index += strides[i] * locs[i];
  return index;
}

/** The coordinates of a flat index in a tensor of the given rank and strides. */
export function indexToLoc(index: number, rank: number, strides: number[]): number[] {
  if (rank === 0) return [];
  if (rank === 1) return [index];
  const locs = new Array<number>(rank);
  for (let i = 0; i < locs.length - 1; ++i) {
    locs[i] = Math.floor(index / strides[i]);
    index -= locs[i] * strides[i];
  }
  locs[locs.length - 1] = index;
  return locs;
}

/** A typed array of zeros for dtype. */
export function makeZerosTypedArray(size: number, dtype: DType): TypedArray {
  return dtype === 'int32' ? new Int32Array(size) : dtype === 'bool' ? new Uint8Array(size) : new Float32Array(size);
}
/** A typed array of ones for dtype. */
export function makeOnesTypedArray(size: number, dtype: DType): TypedArray {
  return makeZerosTypedArray(size, dtype).fill(1);
}

/** Nested arrays of shape from flat values (tfjs util.toNestedArray). */
export function toNestedArray(shape: number[], a: ArrayLike<number>): number | unknown[] {
  if (shape.length === 0) return a[0];
  const size = shape.reduce((acc, c) => acc * c, 1);
  check(size === a.length, 'util.toNestedArray', `${size} values for shape [${shape}]`, a.length);
  const build = (offset: number, dim: number): unknown[] => {
    const n = shape[dim];
    const stride = shape.slice(dim + 1).reduce((x, y) => x * y, 1);
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(dim === shape.length - 1 ? a[offset + i] : build(offset + i * stride, dim + 1));
    return out;
  };
  return build(0, 0);
}

/** a padded on the right with spaces to size characters. */
export function rightPad(a: string, size: number): string {
  return size <= a.length ? a : a + ' '.repeat(size - a.length);
}

/** A [rows, columns] shape of size elements, as square as possible. */
export function sizeToSquarishShape(size: number): [number, number] {
  const width = Math.ceil(Math.sqrt(size));
  return [width, Math.ceil(size / width)];
}

/** The shape without its size-1 axes (or only those in axis) and the kept axes' indices. */
export function squeezeShape(shape: number[], axis?: number[]): { newShape: number[]; keptDims: number[] } {
  const newShape: number[] = [];
  const keptDims: number[] = [];
  const axes = axis == null ? null : axis.map((a) => (a < 0 ? a + shape.length : a));
  shape.forEach((d, i) => {
    const drop = axes ? axes.includes(i) && d === 1 : d === 1;
    if (axes && axes.includes(i)) check(d === 1, 'util.squeezeShape', `size 1 on axis ${i}`, shape);
    if (!drop) {
      newShape.push(d);
      keptDims.push(i);
    }
  });
  return { newShape, keptDims };
}

/** Bytes per element of dtype. */
export function bytesPerElement(dtype: DType): number {
  return dtype === 'bool' ? 1 : 4;
}

/** UTF-8 bytes of s (tfjs util.encodeString). */
export function encodeString(s: string, encoding = 'utf-8'): Uint8Array {
  check(encoding === 'utf-8' || encoding === 'utf8', 'util.encodeString', "encoding 'utf-8'", encoding);
  return new TextEncoder().encode(s);
}
/** The string of UTF-8 bytes (tfjs util.decodeString). */
export function decodeString(bytes: Uint8Array, encoding = 'utf-8'): string {
  return new TextDecoder(encoding).decode(bytes);
}

/** Calls checkFn until it returns true, waiting longer each time; rejects after maxCounter tries. */
export function repeatedTry(checkFn: () => boolean, delayFn = (counter: number) => 0, maxCounter?: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let tryCount = 0;
    const tryFn = () => {
      if (checkFn()) {
        resolve();
        return;
      }
      tryCount++;
      const nextBackoff = delayFn(tryCount);
      if (maxCounter != null && tryCount >= maxCounter) {
        reject(new InvalidArgumentError('util.repeatedTry: expected the check to pass within maxCounter tries but it did not'));
        return;
      }
      setTimeout(tryFn, nextBackoff);
    };
    tryFn();
  });
}
