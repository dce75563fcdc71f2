// The rest of tfjs' tensor creators: tensor3d, tensor5d, tensor6d (tensor1d/2d/4d live with
// tensor() in ops/basic.ts), range and linspace. Values are computed on the host.
import { check } from './errors.js';
import { tensor } from './ops/basic.js';
import type { DType, NestedArray, Tensor } from './tensor.js';

type Values = NestedArray | Float32Array | Int32Array | Uint8Array;

function ofRank(op: string, rank: number, values: Values, shape: number[] | undefined, dtype: DType | undefined): Tensor {
  if (shape !== undefined) check(Array.isArray(shape) && shape.length === rank, op, `a shape of ${rank} dimensions`, shape);
  const t = tensor(values, shape, dtype);
  if (t.rank !== rank) {
    const s = t.shape;
    t.dispose();
    check(false, op, `values of rank ${rank} (or a flat array and a shape)`, `shape [${s}]`);
  }
  return t;
}

/** tf.tensor3d(values, shape?, dtype?): a rank-3 tensor. */
export function tensor3d(values: Values, shape?: [number, number, number], dtype?: DType): Tensor {
  return ofRank('tensor3d', 3, values, shape, dtype);
}
/** tf.tensor5d(values, shape?, dtype?): a rank-5 tensor. */
export function tensor5d(values: Values, shape?: [number, number, number, number, number], dtype?: DType): Tensor {
  return ofRank('tensor5d', 5, values, shape, dtype);
}
/** tf.tensor6d(values, shape?, dtype?): a rank-6 tensor. */
export function tensor6d(values: Values, shape?: [number, number, number, number, number, number], dtype?: DType): Tensor {
  return ofRank('tensor6d', 6, values, shape, dtype);
}

/** tf.range(start, stop, step = 1, dtype = 'float32'): start, start + step, ... up to (not including) stop. */
export function range(start: number, stop: number, step = 1, dtype: 'float32' | 'int32' = 'float32'): Tensor {
  check(typeof start === 'number' && typeof stop === 'number', 'range', 'numbers start and stop', [start, stop]);
  check(typeof step === 'number' && step !== 0 && Number.isFinite(step), 'range', 'a non-zero step', step);
  if (stop < start && step === 1) step = -1; // tfjs counts down when only start > stop is given
  const n = Math.max(Math.ceil((stop - start) / step), 0);
  const Ctor = dtype === 'int32' ? Int32Array : Float32Array;
  const v = new Ctor(n);
  // start + i * step in the element type, as TensorFlow's Range kernel (tfjs-node) computes it.
  const f = dtype === 'int32' ? (x: number) => x : Math.fround;
  for (let i = 0; i < n; i++) v[i] = f(start) + f(i * f(step));
  return tensor(v, [n], dtype);
}

/** tf.linspace(start, stop, num): num evenly spaced float32 values from start to stop inclusive. */
export function linspace(start: number, stop: number, num: number): Tensor {
  check(Number.isInteger(num) && num >= 1, 'linspace', 'num >= 1', num);
  const v = new Float32Array(num);
  // In float32 arithmetic and ending exactly at stop, as TensorFlow's LinSpace (tfjs-node).
  const f = Math.fround;
  const step = num === 1 ? 0 : f(f(f(stop) - f(start)) / (num - 1));
  for (let i = 0; i < num - 1; i++) v[i] = f(start) + f(step * i);
  v[num - 1] = num === 1 ? start : stop;
  return tensor(v, [num], 'float32');
}
