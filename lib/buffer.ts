// TensorBuffer and buffer(): a mutable host-side array with a shape, filled element by element
// (buf.set(v, i, j)) and turned into a tensor with toTensor(), as in tfjs.
import { check, describe } from './errors.js';
import { makeTensor } from './ops/util.js';
import type { DType, Rank, Tensor } from './tensor.js';

type Values = Float32Array | Int32Array | Uint8Array;

function typedArrayFor(dtype: DType, size: number): Values {
  return dtype === 'int32' ? new Int32Array(size) : dtype === 'bool' ? new Uint8Array(size) : new Float32Array(size);
}

/** A mutable, host-side n-dimensional array (tfjs TensorBuffer); toTensor() copies it to the
 * backend. R and D are tfjs' rank and dtype type arguments, for documentation only. */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
export class TensorBuffer<R extends Rank = Rank, D extends DType = DType> {
  /** Dimensions, outermost first. */
  readonly shape: number[];
  /** Element type. */
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  /** Row-major strides of every axis but the last (tfjs' convention). */
  readonly strides: number[];
  /** The values, row-major; writes here show in get() and toTensor(). */
  values: Values;

  constructor(shape: number[], dtype: DType = 'float32', values?: Values) {
    check(Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0), 'buffer', 'a shape of non-negative integers', shape);
    check(['float32', 'int32', 'bool'].includes(dtype), 'buffer', "dtype 'float32', 'int32' or 'bool'", dtype);
    this.shape = shape.slice();
    this.dtype = dtype;
    this.size = shape.reduce((a, b) => a * b, 1);
    this.strides = computeStrides(shape);
    if (values !== undefined)
      check(ArrayBuffer.isView(values) && (values as Values).length === this.size, 'buffer', `${this.size} values for shape ${describe(shape)}`, values);
    this.values = values ?? typedArrayFor(dtype, this.size);
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** Writes value at the given coordinates (one per axis). */
  set(value: number | boolean, ...locs: number[]): void {
    this.values[this.locToIndex(locs.length ? locs : [0])] = Number(value);
  }

  /** The value at the given coordinates (one per axis). */
  get(...locs: number[]): number {
    return this.values[this.locToIndex(locs.length ? locs : [0])];
  }

  /** The flat index of coordinates. Throws InvalidArgumentError naming them when out of range. */
  locToIndex(locs: number[]): number {
    if (this.rank === 0) {
      check(locs.length <= 1 && (locs[0] ?? 0) === 0, 'TensorBuffer', 'no coordinates for a scalar', locs);
      return 0;
    }
    const ok = locs.length === this.rank && locs.every((l, i) => Number.isInteger(l) && l >= 0 && l < this.shape[i]);
    check(ok, 'TensorBuffer', `${this.rank} coordinates within shape ${describe(this.shape)}`, locs);
    let index = locs[locs.length - 1];
    for (let i = 0; i < locs.length - 1; i++) index += this.strides[i] * locs[i];
    return index;
  }

  /** The coordinates of a flat index. */
  indexToLoc(index: number): number[] {
    check(Number.isInteger(index) && index >= 0 && index < Math.max(this.size, 1), 'TensorBuffer', `an index in [0, ${this.size})`, index);
    if (this.rank === 0) return [];
    const locs: number[] = [];
    for (let i = 0; i < this.strides.length; i++) {
      locs.push(Math.floor(index / this.strides[i]));
      index -= locs[i] * this.strides[i];
    }
    locs.push(index);
    return locs;
  }

  /** A new tensor with these values on the current backend. */
  toTensor(): Tensor<R> {
    return makeTensor(this.values, this.shape.slice(), this.dtype, 'TensorBuffer.toTensor');
  }
}

/** Row-major strides of a shape, without the last axis's 1 (tfjs util.computeStrides). */
export function computeStrides(shape: number[]): number[] {
  const rank = shape.length;
  if (rank < 2) return [];
  const strides = new Array<number>(rank - 1);
  strides[rank - 2] = shape[rank - 1];
  for (let i = rank - 3; i >= 0; i--) strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/** tf.buffer(shape, dtype = 'float32', values?): a TensorBuffer to fill and turn into a tensor. */
export function buffer<R extends Rank = Rank, D extends DType = 'float32'>(shape: number[], dtype?: D, values?: Values): TensorBuffer<R, D> {
  return new TensorBuffer<R, D>(shape, dtype ?? 'float32', values);
}
