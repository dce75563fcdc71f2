// The output dtypes of a kernel given bfloat16 / float16 inputs, known before it runs, so
// that a traced plan's slots have the dtypes its native typed kernels will write (Note
// [reduced precision] in native/ops/typed_kernels.h has the rules the kernels follow).
//
// Note [one dtype rule, checked eagerly]: the native typed kernel decides each output's
// dtype; this table says the same thing for the tracer. Eager calls compare the two
// (engine.ts) and throw ERR_INTERNAL naming the kernel on any disagreement, so every test
// that runs a reduced-precision kernel eagerly also checks its rule here.
import type { DType } from '../tensor.js';
import { isReducedPrecision } from '../dtypes.js';

/** How a kernel's outputs are typed when one of its inputs is bfloat16 / float16. */
type Rule =
  /** every output takes the reduced input dtype, or attr outDtype when given */
  | 'reduced'
  /** every output is float32 (weight gradients, masks) */
  | 'float32'
  /** the first output is reduced, the rest float32 (batch-norm statistics and parameter gradients) */
  | 'first reduced'
  /** every output takes attr `dtype` (Cast, Fill) */
  | 'attr dtype';

const RULES: Partial<Record<string, Rule>> = {
  Cast: 'attr dtype',
  Fill: 'attr dtype',
  Conv2DBackpropFilter: 'float32',
  DepthwiseConv2DBackpropFilter: 'float32',
  DropoutMask: 'float32',
  BatchNormTrain: 'first reduced',
  BatchNormGrad: 'first reduced',
};

/**
 * The output dtypes of kernel `name` on these input dtypes and attributes, or null when no
 * input (nor attr `dtype`) is bfloat16 / float16 (the op's own output specs hold then).
 */
export function reducedOutputDTypes(name: string, inputDTypes: readonly string[], attrs: object | undefined, nOutputs: number): DType[] | null {
  const a = (attrs ?? {}) as { dtype?: unknown; outDtype?: unknown };
  const reduced = inputDTypes.find(isReducedPrecision);
  const attrReduced = isReducedPrecision(String(a.dtype));
  if (!reduced && !attrReduced) return null;
  const rule = RULES[name] ?? 'reduced';
  const t = (reduced ?? a.dtype) as DType;
  const out = (i: number): DType => {
    switch (rule) {
      case 'attr dtype':
        return a.dtype as DType;
      case 'float32':
        return 'float32';
      case 'first reduced':
        return i === 0 ? t : 'float32';
      default:
        return typeof a.outDtype === 'string' && a.outDtype !== '' ? (a.outDtype as DType) : t;
    }
  };
  return Array.from({ length: nOutputs }, (_, i) => out(i));
}
