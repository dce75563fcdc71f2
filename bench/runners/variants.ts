// The configurations each runner is tried in, per workload (issue 18: every peer in its best
// configuration, as an expert would run it). Where a runner has more than one, bench/measure.ts
// probes each and times the fastest; the report names it and the others' probe medians.
//
// Note [mixed precision variants]: a variant carries its precision, and measure.ts chooses
// only among variants of the run's precision (fp32 today), so that a bf16 peer is never
// compared with our fp32. Mixed-precision variants (Keras's mixed_bfloat16 policy,
// torch.autocast(bfloat16), ours when the dtype lands) join by adding entries here with their
// precision and handling the key in the worker (bench/peers.py, bench/runners/*.ts).
import type { Precision, Spec } from '../types.js';

export interface Variant {
  /** Sent to the worker in the spec (spec.variant). */
  key: string;
  label: string;
  precision: Precision;
  /** Compiles at setup (XLA, torch.compile): its setup is bounded by --compile-limit. */
  compiles?: boolean;
}

const DEFAULT: Variant = { key: 'default', label: 'as it comes', precision: 'fp32' };

/** The variants of `runner` for a workload spec, all precisions. */
export function variantsOf(runner: string, spec: Spec): Variant[] {
  const model = spec.kind === 'train' || spec.kind === 'infer';
  if (runner === 'keras' && model)
    return [
      { key: 'eager_graph', label: 'jit_compile=False', precision: 'fp32' },
      { key: 'xla', label: 'jit_compile=True (XLA)', precision: 'fp32', compiles: true },
    ];
  if (runner === 'torch') {
    if (!model) return [{ key: 'default', label: 'eager, channels_last', precision: 'fp32' }];
    return [
      { key: 'eager', label: 'eager, channels_last', precision: 'fp32' },
      { key: 'compile', label: 'torch.compile, channels_last', precision: 'fp32', compiles: true },
    ];
  }
  if (runner === 'keras') return [{ key: 'default', label: 'tf.function', precision: 'fp32' }];
  return [DEFAULT];
}
