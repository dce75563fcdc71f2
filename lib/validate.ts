// Argument checks shared by every public entry point: shapes (with checked arithmetic and
// the per-tensor element limit), dtypes, callbacks, booleans, numbers, integers and live
// tensors. Each throws a CudnnNodeError naming the function and the argument, with the
// expected and the received value, so that no raw TypeError/RangeError escapes and no
// string or object is silently coerced to a number or a boolean. docs/errors.md lists them.
import { DTypeError, DisposedError, InvalidArgumentError, check, describe } from './errors.js';
import { DType, Tensor } from './tensor.js';

/**
 * Note [element limit]: a tensor holds at most 2^31 - 1 elements. The native kernels index
 * with 32-bit integers in places (oneDNN dims, CUDA grid arithmetic), and a JS typed array
 * from dataSync() cannot be larger anyway. A shape whose element count exceeds it (or
 * overflows: [2**32, 2**32]) is refused before any native call, so a tensor's shape always
 * agrees with its buffer.
 */
export const MAX_ELEMENTS = elementLimit();

/** 2^31 - 1, or the lower CUDNN_NODE_MAX_ELEMENTS (a positive integer) when set: a service
 * that takes shapes from its users can refuse large tensors before they are allocated (the
 * fuzz sets it, so that valid calls do not allocate gigabytes). */
function elementLimit(): number {
  const hard = 2 ** 31 - 1;
  const env = typeof process === 'undefined' ? undefined : process.env.CUDNN_NODE_MAX_ELEMENTS;
  if (env === undefined || env === '') return hard;
  const n = Number(env);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError(`CUDNN_NODE_MAX_ELEMENTS: expected a positive integer but received ${describe(env)}`);
  return Math.min(n, hard);
}

/**
 * Note [output count limit]: ops that return one tensor per slice (unstack, split) return
 * at most 2^20 tensors; more would exhaust the JS heap (a fatal V8 error, not an exception).
 */
export const MAX_OUTPUTS = 2 ** 20;

/** The dtypes a tensor may have. */
export const DTYPES: readonly DType[] = ['float32', 'int32', 'bool', 'bfloat16', 'float16'];

/** Element count of a shape whose dimensions are already known to be non-negative safe
 * integers, or Infinity when it exceeds MAX_ELEMENTS (no wrap-around, no overflow). */
export function checkedSize(shape: readonly number[]): number {
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > MAX_ELEMENTS) return Infinity;
  }
  return n;
}

/**
 * A shape: an array of non-negative safe integers whose element count is at most
 * MAX_ELEMENTS. Returns a copy. `allowInfer` lets one dimension be -1 (reshape).
 */
export function checkShape(shape: unknown, op: string, arg = 'shape', allowInfer = false): number[] {
  const dims = allowInfer ? 'non-negative integers (one may be -1)' : 'non-negative integers';
  check(Array.isArray(shape), op, `${arg} as an array of ${dims}`, shape);
  const s = shape as unknown[];
  const ok = s.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && (d >= 0 || (allowInfer && d === -1)));
  check(ok, op, `${arg} as an array of ${dims}`, shape);
  if (allowInfer) check(s.filter((d) => d === -1).length <= 1, op, `${arg} with at most one -1`, shape);
  const known = (s as number[]).filter((d) => d !== -1);
  check(checkedSize(known) <= MAX_ELEMENTS && known.every((d) => d <= MAX_ELEMENTS), op, `${arg} of at most ${MAX_ELEMENTS} elements`, shape);
  return (s as number[]).slice();
}

/** An output shape an op computed: refused when it holds more than MAX_ELEMENTS elements. */
export function checkOutputShape(shape: readonly number[], op: string): void {
  if (checkedSize(shape) > MAX_ELEMENTS || !shape.every((d) => Number.isSafeInteger(d) && d >= 0 && d <= MAX_ELEMENTS))
    throw new InvalidArgumentError(`${op}: expected an output of at most ${MAX_ELEMENTS} elements but received shape ${describe(shape)}`);
}

/** A layer shape (inputShape, targetShape): an array of non-negative integers or null
 * (unknown, e.g. the batch), whose known dimensions hold at most MAX_ELEMENTS elements. */
export function checkLayerShape(shape: unknown, op: string, arg: string): Array<number | null> {
  const ok = Array.isArray(shape) && shape.every((d) => d === null || (typeof d === 'number' && Number.isSafeInteger(d) && d >= 0));
  check(ok, op, `${arg} as an array of non-negative integers or null`, shape);
  const known = (shape as Array<number | null>).filter((d): d is number => d !== null);
  check(checkedSize(known) <= MAX_ELEMENTS && known.every((d) => d <= MAX_ELEMENTS), op, `${arg} of at most ${MAX_ELEMENTS} elements`, shape);
  return (shape as Array<number | null>).slice();
}

/** A dtype from the documented set; undefined gives dflt. */
export function checkDType(dtype: unknown, op: string, dflt?: DType, arg = 'dtype'): DType {
  if (dtype === undefined && dflt !== undefined) return dflt;
  if (typeof dtype === 'string' && (DTYPES as readonly string[]).includes(dtype)) return dtype as DType;
  throw new DTypeError(`${op}: expected ${arg} 'float32', 'int32', 'bool', 'bfloat16' or 'float16' but received ${describe(dtype)}`);
}

/** A callback. */
export function checkFunction<F>(f: F, op: string, arg = 'f'): F {
  check(typeof f === 'function', op, `${arg} to be a function`, f);
  return f;
}

/** A boolean (no truthy coercion); undefined gives dflt. */
export function checkBoolean(v: unknown, op: string, arg: string, dflt?: boolean): boolean {
  if (v === undefined && dflt !== undefined) return dflt;
  check(typeof v === 'boolean', op, `${arg} as a boolean`, v);
  return v as boolean;
}

/** A number (not a numeric string or an object); finite unless allowNonFinite. */
export function checkNumber(v: unknown, op: string, arg: string, allowNonFinite = false): number {
  check(typeof v === 'number' && (allowNonFinite || Number.isFinite(v)), op, `${arg} as a ${allowNonFinite ? '' : 'finite '}number`, v);
  return v as number;
}

/** A safe integer in [min, max]. */
export function checkInt(v: unknown, op: string, arg: string, min = -Number.MAX_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  const range = max >= Number.MAX_SAFE_INTEGER ? (min === 0 ? 'non-negative ' : min === 1 ? 'positive ' : '') : '';
  const bounds = range || max >= Number.MAX_SAFE_INTEGER ? '' : ` in [${min}, ${max}]`;
  check(typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max, op, `${arg} as ${range ? `a ${range}` : 'an '}integer${bounds}`, v);
  return v as number;
}

/** A live (not disposed) Tensor. */
export function checkTensor(t: unknown, op: string, arg: string): Tensor {
  check(t instanceof Tensor, op, `${arg} to be a Tensor`, t);
  if (t.isDisposed) throw new DisposedError(`${op}: expected ${arg} to be a live tensor but received a disposed tensor (id ${t.id}, shape [${t.shape}])`);
  return t;
}
