// The report's mixed-precision section (issue 21, item 10), as a pure function of the
// measured results: per bf16 training step, one row per runner (our bf16 step, our fp32 step,
// PyTorch autocast bf16, Keras mixed_bfloat16) with its time, its ratio to our bf16 step and
// to our fp32 step, and its peak memory; which of our bf16 steps failed (a failure of ours is
// reported, never dropped); and issue 21's targets table, each met, missed or not measured.
import { fmtMs } from './shared.js';
import type { BenchResult, MemoryReport, MixedPrecisionSection, MixedRow, MixedWorkload, ModelName, Spec, Target } from './types.js';
import { variantsOf } from './runners/variants.js';
import { classify } from './verdict.js';
import { precisionOf } from './workloads.js';

/** Row order: ours (the workload's precision), ours fp32, then the peers. */
const ORDER = ['cudnn-node', 'cudnn-node-fp32', 'torch', 'keras'];

export const MEMORY_METHOD =
  'each runner\'s configuration as timed above, in a fresh process of its own that imports its library, builds and compiles the model and runs the steps; peak RSS is that process\'s VmHWM (the high-water mark of its resident memory, the library included: "after import" is its RSS before the model was built); for cudnn-node, "native peak" is the native allocator\'s memory().peakBytes (tensor memory only, the cpu backend\'s block cache included). Compile worker processes (torch.compile) are not counted.';

/** Issue 21's targets: the workload (by model), the runner compared, the ratio wanted
 * (that runner's time / our bf16 step's time). */
const TARGETS: Array<{ model: ModelName; what: string; against: string; want: number }> = [
  { model: 'fashion_cnn', what: 'Fashion-MNIST CNN, batch 128', against: 'cudnn-node-fp32', want: 1.6 },
  { model: 'fashion_cnn', what: 'Fashion-MNIST CNN, batch 128', against: 'torch', want: 1.0 },
  { model: 'fashion_cnn', what: 'Fashion-MNIST CNN, batch 128', against: 'keras', want: 1.3 },
  { model: 'resnet34', what: 'ResNet-34, batch 8', against: 'torch', want: 1.0 },
  { model: 'xception', what: 'Xception fine-tune, batch 8', against: 'torch', want: 1.0 },
];

const AGAINST: Record<string, string> = {
  'cudnn-node-fp32': 'our fp32 step',
  torch: 'PyTorch autocast bf16',
  keras: 'Keras mixed_bfloat16',
};

/** The ratio as a string: two decimals, or three where two would round up to the target. */
export function fmtRatio(r: number, want?: number): string {
  const two = r.toFixed(2);
  return want !== undefined && r < want && Number(two) >= want ? `${r.toFixed(3)}x` : `${two}x`;
}

/** How far short of the target, in percent of it (one decimal under 1%). */
const missedBy = (ratio: number, want: number) => {
  const p = (1 - ratio / want) * 100;
  return `${p.toFixed(p < 1 ? 1 : 0)}%`;
};

const isTargetWorkload = (model: ModelName, spec: Spec) =>
  spec.kind === 'train' && spec.model === model && (model !== 'fashion_cnn' || spec.batch === 128) && (model !== 'xception' || !spec.freeze);

function configurationOf(runner: string, r: BenchResult): string | undefined {
  const run = r.runs[runner];
  return run.variant ?? variantsOf(runner, r.spec).find((v) => v.key === run.variantKey)?.label;
}

export function mixedPrecisionSection(results: BenchResult[], memory: MemoryReport[], ours: string, baseline: string, noMemory = false): MixedPrecisionSection {
  const workloads: MixedWorkload[] = [];
  const oursFailed: MixedPrecisionSection['oursFailed'] = [];
  for (const r of results) {
    const precision = precisionOf(r);
    if (precision === 'fp32') continue;
    const bf16 = r.runs[ours]?.stats?.median, fp32 = r.runs[baseline]?.stats?.median;
    if (!r.runs[ours]?.stats) oursFailed.push({ id: r.id, error: r.runs[ours]?.note ?? 'cudnn-node did not run' });
    const mem = memory.find((m) => m.id === r.id);
    const rank = (n: string) => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
    const names = Object.keys(r.runs).sort((a, b) => rank(a) - rank(b));
    const rows: MixedRow[] = names.map((runner) => {
      const run = r.runs[runner];
      const row: MixedRow = { runner, precision: run.precision ?? (runner === baseline ? 'fp32' : precision), ok: !!run.stats, note: run.stats ? undefined : run.note };
      if (!run.stats) return row;
      const t = run.stats.median;
      Object.assign(row, {
        configuration: configurationOf(runner, r),
        medianS: t, q1S: run.stats.q1, q3S: run.stats.q3,
        imagesPerSec: r.images ? r.images / t : undefined,
        gflops: r.flops ? r.flops / t / 1e9 : undefined,
      });
      if (bf16 !== undefined && runner !== ours) {
        row.vsOursBf16 = t / bf16;
        row.verdict = classify(row.vsOursBf16);
      }
      if (fp32 !== undefined && runner !== baseline) row.vsOursFp32 = t / fp32;
      if (mem?.runs[runner]) row.memory = mem.runs[runner];
      return row;
    });
    workloads.push({ id: r.id, label: r.label, precision, rows });
  }
  return { workloads, targets: mixedTargets(results, ours), oursFailed, memoryMethod: noMemory ? 'not measured (--no-memory).' : MEMORY_METHOD };
}

/** Issue 21's targets table against the bf16 steps of this run. */
export function mixedTargets(results: BenchResult[], ours: string): Target[] {
  return TARGETS.map(({ model, what, against, want }) => {
    const name = `${what}: our bf16 step at least ${want.toFixed(1)}x as fast as ${AGAINST[against]}`;
    const r = results.find((x) => precisionOf(x) === 'mixed_bf16' && isTargetWorkload(model, x.spec));
    if (!r) return { name, met: false, notMeasured: true, detail: 'not measured: the workload was not in this run' };
    const o = r.runs[ours], p = r.runs[against];
    if (!o?.stats) return { name, met: false, notMeasured: true, detail: `not measured: our bf16 step failed: ${o?.note ?? 'cudnn-node did not run'}` };
    if (!p?.stats) return { name, met: false, notMeasured: true, detail: `not measured: ${against} did not run: ${p?.note ?? 'not in this run (--peers)'}` };
    const ratio = p.stats.median / o.stats.median;
    const cfg = configurationOf(against, r);
    return {
      name, met: ratio >= want,
      detail: `${fmtRatio(ratio, want)} (our bf16 ${fmtMs(o.stats.median)} vs ${fmtMs(p.stats.median)}${cfg ? ` [${cfg}]` : ''})${ratio < want ? `: missed by ${missedBy(ratio, want)}` : ''}`,
    };
  });
}
