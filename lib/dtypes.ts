// Element types: the floating dtypes (float32 and the reduced-precision storage types
// bfloat16 and float16), and the seam that moves reduced-precision values in and out of
// JS: they are created from float32 values and read back widened to float32, both through
// the native Cast kernel (round to nearest even; NaN and infinities preserved).
//
// Note [reduced precision in JS]: JS has no bfloat16 / float16 typed arrays that every
// supported Node has, so data(), dataSync() and array() of a bfloat16 / float16 tensor
// return Float32Array / numbers holding the exact widened values. Which op runs on which
// dtype is decided natively, in one place (native/ops/typed_kernels.h): an op without a
// bfloat16 / float16 kernel on the tensor's backend throws ERR_NOT_SUPPORTED naming the
// op, the dtype and the backend.
import { NotSupportedError } from './errors.js';
import type { Handle, TypedArray } from './native.js';
import * as native from './native.js';

/** The reduced-precision storage types. */
export type ReducedDType = 'bfloat16' | 'float16';
/** The floating dtypes an op with floating inputs may accept. */
export type FloatDType = 'float32' | ReducedDType;

/** float32, bfloat16 and float16, in that order (as error messages list them). */
export const FLOAT_DTYPES: readonly FloatDType[] = ['float32', 'bfloat16', 'float16'];

/** Whether dtype is bfloat16 or float16. */
export function isReducedPrecision(dtype: string): dtype is ReducedDType {
  return dtype === 'bfloat16' || dtype === 'float16';
}
/** Whether dtype is float32, bfloat16 or float16. */
export function isFloatDType(dtype: string): dtype is FloatDType {
  return dtype === 'float32' || isReducedPrecision(dtype);
}
/** Bytes per element as the native buffers store them. */
export function bytesPerElement(dtype: string): number {
  return dtype === 'bool' ? 1 : isReducedPrecision(dtype) ? 2 : 4;
}

function castHandle(h: Handle, dtype: string): Handle {
  return native.run(native.kernelIds.Cast, [h], { dtype }) as Handle;
}

/** A new native buffer of dtype holding float32 values rounded to it (the float32 upload is freed). */
export function uploadAs(backend: string, values: TypedArray, shape: number[], dtype: string): Handle {
  const h = native.fromTypedArray(backend, values, shape);
  if (!isReducedPrecision(dtype)) return h;
  try {
    return castHandle(h, dtype);
  } finally {
    native.release(h);
  }
}

/** A reduced-precision buffer's values widened to float32 (Note [reduced precision in JS]). */
export function readWidenedSync(h: Handle): Float32Array {
  const wide = castHandle(h, 'float32');
  try {
    return native.readSync(wide) as Float32Array;
  } finally {
    native.release(wide);
  }
}
/** As readWidenedSync, reading on a worker thread. */
export async function readWidened(h: Handle): Promise<Float32Array> {
  const wide = castHandle(h, 'float32');
  try {
    return (await native.read(wide)) as Float32Array;
  } finally {
    native.release(wide);
  }
}

/** The dtype of a native buffer (the native kernel decided it). */
export function handleDType(h: Handle): string {
  return native.native.dtype(h);
}

/** Refuses reduced-precision tensors where a feature does not take them yet. */
export function refuseReduced(op: string, dtype: string, why: string): void {
  if (isReducedPrecision(dtype)) throw new NotSupportedError(`${op}: dtype ${dtype} is not supported ${why}`);
}
