// Shared argument handling for ops: tensor conversion, shape arithmetic and checks.
import { isFloatDType, isReducedPrecision, uploadAs } from '../dtypes.js';
import { ENGINE } from '../engine.js';
import { DTypeError, InvalidArgumentError, check, describe, wrapNativeError } from '../errors.js';
import * as native from '../native.js';
import { DType, NestedArray, Tensor } from '../tensor.js';
import { checkDType, checkOutputShape, checkShape, checkedSize, MAX_ELEMENTS } from '../validate.js';

/** What an op accepts as a tensor argument: a Tensor, or plain (nested) numbers or a typed array, converted on the current backend. */
export type TensorLike = Tensor | number | number[] | NestedArray | Float32Array | Int32Array | Uint8Array;

// Note [op scopes]: an op that converts numbers or arrays into tensors, or that is built
// from other ops, frees those tensors before it returns (tfjs' op() does the same), so
// `add(t, 2)` or `oneHot(3, 10)` outside tidy() leaves only its result behind. While a
// gradient tape records, the recorded ops still need them for backprop, and while compile()
// traces they are the plan's constants: then the enclosing tidy() (grad, minimize, compile)
// frees them instead.
/** Runs an op's body so that the tensors it creates and does not return are freed (Note [op scopes]). */
export function opScope<T>(body: () => T): T {
  if (ENGINE.recording || ENGINE.trace) return body();
  // tidy() inlined: one stack frame fewer between a native error and the caller, whose
  // frame must stay within the default 10-frame stack (errors.test.ts checks it does).
  ENGINE.startScope();
  let result: T;
  try {
    result = body();
  } catch (e) {
    ENGINE.endScope(undefined);
    throw e;
  }
  ENGINE.endScope(result);
  return result;
}

/** Accepts a Tensor or plain values; checks it is live and, if given, of dtype. */
export function convertToTensor(x: TensorLike, arg: string, op: string, dtype?: DType): Tensor {
  if (x instanceof Tensor) {
    if (x.isDisposed) x.liveHandle(op);
    // A float32 argument may also be bfloat16 / float16: the native kernel table decides (dtypes.ts).
    if (dtype && x.dtype !== dtype && !(dtype === 'float32' && (x.dtype === 'bool' || isReducedPrecision(x.dtype))))
      throw new DTypeError(`${op}: expected ${arg} of dtype ${dtype} but received ${x.dtype}`);
    return x;
  }
  if (typeof x === 'number' || Array.isArray(x) || isNumericView(x)) return makeTensor(x as NestedArray, undefined, dtype ?? inferDType(x), op, arg);
  throw new InvalidArgumentError(`${op}: expected ${arg} to be a Tensor or numbers but received ${describe(x)}`);
}

/** A typed array of numbers (Float64Array, Uint8ClampedArray, a Buffer ...), not a DataView
 * or a BigInt64Array. */
function isNumericView(v: unknown): v is Float32Array {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array);
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

/** Flattens nested numbers/booleans into out; false (nothing pushed for the bad one) on any
 * other value (a string, an object), which the caller reports. */
function flatten(v: unknown, out: number[]): boolean {
  if (Array.isArray(v)) return v.every((x) => flatten(x, out));
  if (isNumericView(v)) {
    for (const x of v) out.push(x);
    return true;
  }
  if (typeof v === 'boolean') out.push(v ? 1 : 0);
  else if (typeof v === 'number') out.push(v);
  else return false;
  return true;
}

/** Creates a tensor on the current backend from values and an optional shape. */
export function makeTensor(values: NestedArray | Float32Array | Int32Array | Uint8Array, shape: number[] | undefined, dtype: DType, op = 'tensor', arg = 'values'): Tensor {
  let flat: Float32Array | Int32Array | Uint8Array;
  dtype = checkDType(dtype, op);
  const Ctor = dtype === 'int32' ? Int32Array : dtype === 'bool' ? Uint8Array : Float32Array;
  if (values instanceof Ctor) flat = values;
  else if (isNumericView(values)) flat = Ctor.from(values);
  else {
    const out: number[] = [];
    check(flatten(values, out), op, `${arg} as numbers, booleans, (nested) arrays of them or a typed array`, values);
    flat = Ctor.from(out);
  }
  const inferred = inferShape(values);
  const s = shape === undefined ? (ArrayBuffer.isView(values) ? [flat.length] : inferred) : checkShape(shape, op);
  const size = checkedSize(s);
  check(size <= MAX_ELEMENTS, op, `a shape of at most ${MAX_ELEMENTS} elements`, s);
  if (flat.length === 1 && size !== 1 && !Array.isArray(values)) {
    const v = flat[0];
    flat = new Ctor(size).fill(v);
  }
  check(flat.length === size, op, `${size} values for shape ${describe(s)}`, `${flat.length} values`);
  // Note [constants in compile]: while tracing, new values become concrete constants that
  // the plan binds (e.g. the 2 in a gradient's mul(2, x)).
  const h = uploadAs(ENGINE.backend, flat, s, dtype); // bfloat16 / float16: rounded from float32
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
  // Note [rank-0 axis]: a scalar has no axis, so (as in tfjs) any axis is refused; the
  // native reductions are never handed an axis the tensor does not have.
  if (rank === 0 && list.length) check(false, op, 'no axis for a scalar (rank 0)', axis);
  return [...new Set(list.map((a) => {
    check(Number.isInteger(a) && a >= -rank && a < rank, op, `axis in [${-rank}, ${rank})`, a);
    return a < 0 ? a + rank : a;
  }))].sort((x, y) => x - y);
}

export function checkRank(t: Tensor, rank: number | number[], arg: string, op: string, layout = ''): void {
  const ranks = Array.isArray(rank) ? rank : [rank];
  if (!ranks.includes(t.rank))
    throw new InvalidArgumentError(`${op}: expected ${arg} of rank ${ranks.join(' or ')}${layout ? ` (${layout})` : ''} but received shape ${describe(t.shape)}`);
}

export function checkFloat(t: Tensor, arg: string, op: string): void {
  // bfloat16 / float16 pass here; the native kernel table refuses them where an op has no kernel.
  if (!isFloatDType(t.dtype)) throw new DTypeError(`${op}: expected ${arg} of dtype float32, bfloat16 or float16 but received ${t.dtype}`);
}

/** Returns a pair from a number or a pair (each at most MAX_ELEMENTS). */
export function pair(v: number | [number, number] | number[], arg: string, op: string): [number, number] {
  const p = typeof v === 'number' ? [v, v] : v;
  check(Array.isArray(p) && p.length === 2 && p.every((x) => Number.isInteger(x) && x >= 1 && x <= MAX_ELEMENTS), op, `${arg} as a positive integer or a pair of them`, v);
  return [p[0], p[1]];
}

// ---- helpers shared by the op families (conv, pool, transforms, ...)

/** Normalizes a possibly negative axis for a tensor of rank, or throws naming op. */
export function normAxis(axis: number, rank: number, op: string, arg = 'axis'): number {
  check(Number.isInteger(axis) && axis >= -rank && axis < rank, op, `${arg} in [${-rank}, ${rank})`, axis);
  return axis < 0 ? axis + rank : axis;
}

/** A list of integers checked against a predicate, for attributes like perm or begin. */
export function intList(v: unknown, arg: string, op: string, length?: number): number[] {
  check(
    Array.isArray(v) && v.every((x) => Number.isInteger(x)) && (length === undefined || v.length === length),
    op,
    `${arg} as ${length === undefined ? 'an array' : `an array of ${length}`} integers`,
    v,
  );
  return (v as number[]).slice();
}

/** 'same' | 'valid' | explicit paddings, as the native kernels take them. */
export interface PadAttrs {
  pad: 'same' | 'valid' | 'explicit';
  pads?: [number, number, number, number];
}

/** tfjs' pad argument: 'same', 'valid', a non-negative integer (all sides) or [[0,0],[top,bottom],[left,right],[0,0]] (NHWC). */
export type PadSpec = 'same' | 'valid' | number | number[][];

/** Parses tfjs' pad argument: 'same', 'valid', a number (all sides) or
 * [[0,0],[top,bottom],[left,right],[0,0]] (NHWC explicit paddings). */
export function parsePad(pad: unknown, op: string, allowExplicit = true): PadAttrs {
  if (pad === 'same' || pad === 'valid') return { pad };
  const expected = allowExplicit
    ? "pad 'same', 'valid', a non-negative integer or [[0,0],[top,bottom],[left,right],[0,0]]"
    : "pad 'same' or 'valid'";
  if (allowExplicit && typeof pad === 'number') {
    check(Number.isInteger(pad) && pad >= 0, op, expected, pad);
    return { pad: 'explicit', pads: [pad, pad, pad, pad] };
  }
  if (allowExplicit && Array.isArray(pad)) {
    const ok =
      pad.length === 4 &&
      pad.every((p) => Array.isArray(p) && p.length === 2 && p.every((x) => Number.isInteger(x) && x >= 0)) &&
      pad[0][0] === 0 && pad[0][1] === 0 && pad[3][0] === 0 && pad[3][1] === 0;
    check(ok, op, expected, pad);
    return { pad: 'explicit', pads: [pad[1][0], pad[1][1], pad[2][0], pad[2][1]] };
  }
  throw new InvalidArgumentError(`${op}: expected ${expected} but received ${describe(pad)}`);
}

/** Output extent and padding of one spatial axis (TensorFlow's rules; Note [SAME padding]
 * in native/core/params.cc: the odd extra row/column goes bottom/right). */
export function convAxis(inSize: number, k: number, stride: number, dilation: number, pad: PadAttrs, axis: 0 | 1): { out: number; before: number; after: number } {
  const kEff = (k - 1) * dilation + 1;
  if (pad.pad === 'same') {
    const out = Math.ceil(inSize / stride);
    const total = Math.max((out - 1) * stride + kEff - inSize, 0);
    const before = Math.floor(total / 2);
    return { out, before, after: total - before };
  }
  const before = pad.pad === 'explicit' ? pad.pads![axis * 2] : 0;
  const after = pad.pad === 'explicit' ? pad.pads![axis * 2 + 1] : 0;
  const padded = inSize + before + after;
  return { out: padded < kEff ? 0 : Math.floor((padded - kEff) / stride) + 1, before, after };
}

/** The NHWC output shape of a 2D window op (conv, depthwise conv, pooling), or an
 * InvalidArgumentError naming op when the window does not fit. */
export function windowOutputShape(
  xShape: number[],
  window: [number, number],
  outC: number,
  strides: [number, number],
  dilations: [number, number],
  pad: PadAttrs,
  op: string,
): number[] {
  const h = convAxis(xShape[1], window[0], strides[0], dilations[0], pad, 0);
  const w = convAxis(xShape[2], window[1], strides[1], dilations[1], pad, 1);
  const eff = [(window[0] - 1) * dilations[0] + 1, (window[1] - 1) * dilations[1] + 1];
  if (h.out <= 0 || w.out <= 0) {
    throw new InvalidArgumentError(
      `${op}: expected an input at least as large as the ${pad.pad === 'explicit' ? 'padded ' : ''}window [${eff}] but received shape ${describe(xShape)}`,
    );
  }
  const out = [xShape[0], h.out, w.out, outC];
  checkOutputShape(out, op);
  return out;
}

/** Checks a tensor is float32 and of one of the given ranks; shorthand for op entry points. */
export function floatArg(x: TensorLike, arg: string, op: string, rank?: number | number[], layout = ''): Tensor {
  const t = convertToTensor(x, arg, op, 'float32');
  checkFloat(t, arg, op);
  if (rank !== undefined) checkRank(t, rank, arg, op, layout);
  return t;
}

/** A positive pair that may also be given as [1, h, w, 1] (tfjs accepts both for strides). */
export function pairOrNHWC(v: unknown, arg: string, op: string): [number, number] {
  if (Array.isArray(v) && v.length === 4 && v[0] === 1 && v[3] === 1) return pair([v[1], v[2]], arg, op);
  return pair(v as number, arg, op);
}

/** The inverse of a permutation. */
export function inversePerm(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}
