// The configurations each runner is tried in, per workload (issue 18: every peer in its best
// configuration, as an expert would run it). Where a runner has more than one, bench/measure.ts
// probes each and times the fastest; the report names it and the others' probe medians.
//
// Note [mixed precision variants]: a workload carries its precision (spec.precision; float32
// when absent) and a runner is offered only the variants of that precision, so that a bf16
// peer is never compared with our fp32 as if they were the same thing. The bf16 workloads
// (issue 21) offer each runner its own mixed-precision recipe, as its documentation gives it:
//   - Keras: keras.mixed_precision.set_global_policy('mixed_bfloat16') before the model is
//     built, the last (softmax) Dense given dtype float32 as Keras's guide does; jit_compile
//     off and on, the faster timed (as for fp32).
//   - PyTorch: the forward and the loss under torch.autocast('cpu', dtype=torch.bfloat16),
//     channels_last; eager and torch.compile, the faster timed.
//   - cudnn-node: cn.mixedPrecision.setGlobalPolicy('mixed_bfloat16') before the model is
//     built, the last Dense given dtype 'float32' as in Keras.
//   - tfjs-node: none (it has no mixed precision).
// Our own fp32 step is measured in the same run, in the same alternating turns, by a second
// worker of ours (BASELINE_RUNNER, its own process): its one variant is float32 on a bf16
// workload, and its ratio to our bf16 step is bf16's speed-up. Every worker sets the policy
// for the one model it builds and resets it to float32 after compile, so that the fp32
// workloads it serves are untouched.
import type { Precision, Spec } from '../types.js';

export interface Variant {
  /** Sent to the worker in the spec (spec.variant). */
  key: string;
  label: string;
  precision: Precision;
  /** Compiles at setup (XLA, torch.compile): its setup is bounded by --compile-limit. */
  compiles?: boolean;
}

/** The worker of ours that runs our float32 step on the bf16 workloads, for the comparison
 * with our own bf16 step (Note [mixed precision variants]). */
export const BASELINE_RUNNER = 'cudnn-node-fp32';

const DEFAULT: Variant = { key: 'default', label: 'as it comes', precision: 'fp32' };

const precisionOfSpec = (spec: Spec): Precision => (spec.kind === 'train' && spec.precision) || 'fp32';

/** The variants of `runner` for a workload spec, in the spec's precision (none: the runner
 * cannot run it). */
export function variantsOf(runner: string, spec: Spec): Variant[] {
  const model = spec.kind === 'train' || spec.kind === 'infer';
  const precision = precisionOfSpec(spec);
  if (runner === BASELINE_RUNNER) return precision === 'fp32' ? [] : [{ key: 'fp32', label: 'float32 (our fp32 step)', precision: 'fp32' }];
  if (precision === 'mixed_bf16') {
    if (runner === 'keras')
      return [
        { key: 'bf16_graph', label: 'mixed_bfloat16, jit_compile=False', precision },
        { key: 'bf16_xla', label: 'mixed_bfloat16, jit_compile=True (XLA)', precision, compiles: true },
      ];
    if (runner === 'torch')
      return [
        { key: 'bf16_eager', label: 'autocast(bfloat16), eager, channels_last', precision },
        { key: 'bf16_compile', label: 'autocast(bfloat16), torch.compile, channels_last', precision, compiles: true },
      ];
    if (runner === 'cudnn-node') return [{ key: 'bf16', label: 'mixed_bfloat16', precision }];
    return [];
  }
  if (precision !== 'fp32') return [];
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
