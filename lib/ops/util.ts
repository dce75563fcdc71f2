// Shared argument handling for ops: tensor conversion, shape arithmetic and checks.
import { ENGINE } from '../engine.js';
import { DTypeError, InvalidArgumentError, check, describe } from '../errors.js';
import { native } from '../native.js';
import { DType, NestedArray, Tensor } from '../tensor.js';

export type TensorLike = Tensor | number | number[] | NestedArray | Float32Array | Int32Array | Uint8Array;

/** Accepts a Tensor or plain values; checks it is live and, if given, of dtype. */
export function convertToTensor(x: TensorLike, arg: string, op: string, dtype?: DType): Tensor {
  if (x instanceof Tensor) {
    if (x.isDisposed) x.liveHandle(op);
    if (dtype && x.dtype !== dtype && !(dtype === 'float32' && x.dtype === 'bool'))
      throw new DTypeError(`${op}: expected ${arg} of dtype ${dtype} but received ${x.dtype}`);
    return x;
  }
  if (typeof x === 'number' || Array.isArray(x) || ArrayBuffer.isView(x)) return makeTensor(x as NestedArray, undefined, dtype ?? inferDType(x), op);
  throw new InvalidArgumentError(`${op}: expected ${arg} to be a Tensor or numbers but received ${describe(x)}`);
}

function inferDType(x: unknown): DType {
  if (x instanceof Int32Array) return 'int32';
  if (x instanceof Uint8Array) return 'bool';
  return 'float32';
}

export function inferShape(v: unknown): number[] {
  if (ArrayBuffer.isView(v)) return [(v as Float32Array).length];
  if (!Array.isArray(v)) return [];
  if (v.length === 0) return [0];
  return [v.length, ...inferShape(v[0])];
}

function flatten(v: unknown, out: number[]): void {
  if (Array.isArray(v)) for (const x of v) flatten(x, out);
  else if (ArrayBuffer.isView(v)) for (const x of v as Float32Array) out.push(x);
  else out.push(typeof v === 'boolean' ? (v ? 1 : 0) : (v as number));
}

/** Creates a tensor on the current backend from values and an optional shape. */
export function makeTensor(values: NestedArray | Float32Array | Int32Array | Uint8Array, shape: number[] | undefined, dtype: DType, op = 'tensor'): Tensor {
  let flat: Float32Array | Int32Array | Uint8Array;
  const Ctor = dtype === 'int32' ? Int32Array : dtype === 'bool' ? Uint8Array : Float32Array;
  if (values instanceof Ctor) flat = values;
  else if (ArrayBuffer.isView(values)) flat = Ctor.from(values as Float32Array);
  else {
    const out: number[] = [];
    flatten(values, out);
    flat = Ctor.from(out);
  }
  const inferred = inferShape(values);
  const s = shape ?? (ArrayBuffer.isView(values) ? [flat.length] : inferred);
  s.forEach((d) => check(Number.isInteger(d) && d >= 0, op, 'shape of non-negative integers', s));
  const size = s.reduce((a, b) => a * b, 1);
  if (flat.length === 1 && size !== 1 && !Array.isArray(values)) {
    const v = flat[0];
    flat = new Ctor(size).fill(v);
  }
  check(flat.length === size, op, `${size} values for shape ${describe(s)}`, `${flat.length} values`);
  // Note [constants in compile]: while tracing, new values become concrete constants that
  // the plan binds (e.g. the 2 in a gradient's mul(2, x)).
  const h = native.fromTypedArray(ENGINE.backend, flat, s);
  return ENGINE.makeTensor(h, s.slice(), dtype, ENGINE.backend);
}

export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Broadcast result shape of a and b (numpy rules), or an error naming op. */
export function broadcastShape(a: number[], b: number[], op: string): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new InvalidArgumentError(`${op}: expected shapes that broadcast but received ${describe(a)} and ${describe(b)}`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Normalizes axis (or axes) for a tensor of the given rank. */
export function parseAxes(axis: number | number[] | undefined | null, rank: number, op: string): number[] {
  if (axis === undefined || axis === null) return [...Array(rank).keys()];
  const list = Array.isArray(axis) ? axis : [axis];
  return [...new Set(list.map((a) => {
    check(Number.isInteger(a) && a >= -rank && a < Math.max(rank, 1), op, `axis in [${-rank}, ${rank})`, a);
    return a < 0 ? a + rank : a;
  }))].sort((x, y) => x - y);
}

export function checkRank(t: Tensor, rank: number | number[], arg: string, op: string, layout = ''): void {
  const ranks = Array.isArray(rank) ? rank : [rank];
  if (!ranks.includes(t.rank))
    throw new InvalidArgumentError(`${op}: expected ${arg} of rank ${ranks.join(' or ')}${layout ? ` (${layout})` : ''} but received shape ${describe(t.shape)}`);
}

export function checkFloat(t: Tensor, arg: string, op: string): void {
  if (t.dtype !== 'float32') throw new DTypeError(`${op}: expected ${arg} of dtype float32 but received ${t.dtype}`);
}

/** Returns a pair from a number or a pair. */
export function pair(v: number | [number, number] | number[], arg: string, op: string): [number, number] {
  const p = typeof v === 'number' ? [v, v] : v;
  check(Array.isArray(p) && p.length === 2 && p.every((x) => Number.isInteger(x) && x >= 1), op, `${arg} as a positive integer or a pair of them`, v);
  return [p[0], p[1]];
}
