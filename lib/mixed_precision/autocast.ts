// The casts a layer makes at its boundary under a dtype policy (Keras' autocast): floating
// inputs to the compute dtype, variables to it when read, and floating outputs left in it.
import { isFloatDType } from '../dtypes.js';
import { cast } from '../ops/basic.js';
import type { DType, Tensor } from '../tensor.js';

/** t cast to dtype when both are floating and differ, else t itself (a differentiable cast). */
export function castFloatTo(t: Tensor, dtype: DType): Tensor {
  return t.dtype === dtype || !isFloatDType(dtype) || !isFloatDType(t.dtype) ? t : cast(t, dtype);
}

/** Every floating tensor of a layer's inputs or outputs cast to dtype. */
export function castAllFloatTo<T extends Tensor | Tensor[]>(ts: T, dtype: DType): T {
  return (Array.isArray(ts) ? ts.map((t) => castFloatTo(t, dtype)) : castFloatTo(ts, dtype)) as T;
}
