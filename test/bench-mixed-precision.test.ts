// The benchmark's bf16 mixed-precision section (issue 21, item 10): which workloads a run
// selects (--precision, --only), which configurations each runner is offered per precision
// (a bf16 peer is never set against our fp32 as the same thing), the ratios and targets the
// report computes from measured medians, and what the Markdown says when our bf16 step fails
// or when we are slower. Pure logic; the measurements themselves come from `npm run bench`.
import { describe, expect, it } from 'vitest';
import { fmtRatio, mixedPrecisionSection, mixedTargets } from '../bench/mixed-precision.js';
import { parseArgs, selects } from '../bench/options.js';
import { toMarkdown } from '../bench/report.js';
import { BASELINE_RUNNER, variantsOf } from '../bench/runners/variants.js';
import { stats } from '../bench/shared.js';
import type { BenchResult, MemoryReport, Report, RunResult } from '../bench/types.js';
import { derive, selfCheck } from '../bench/verdict.js';
import { MIXED_SELF_CHECK_WORKLOAD, precisionOf, workloads } from '../bench/workloads.js';

const OURS = 'cudnn-node';
const run = (times: number[], extra: Partial<RunResult> = {}): RunResult => ({ ok: true, times, stats: stats(times), ...extra });
const failed = (note: string): RunResult => ({ ok: false, times: [], note });

/** The quick suite's bf16 steps, with the given runs. */
function bf16(id: string, runs: Record<string, RunResult>): BenchResult {
  const w = workloads('quick').find((x) => x.id === id);
  if (!w) throw new Error(`no workload ${id}`);
  return { ...w, runs };
}

describe('bf16 workloads and their selection', () => {
  const ws = workloads('quick');
  it('are the CNN at batch 128, ResNet-34 and the Xception fine-tune, with the fp32 steps\' FLOPs', () => {
    const ids = ws.filter((w) => precisionOf(w) === 'mixed_bf16').map((w) => w.id);
    expect(ids).toEqual(['train_fashion_cnn_b128_bf16', 'train_resnet34_224_b8_bf16', 'train_xception_150_b8_finetune_bf16']);
    for (const id of ids) expect(ws.find((w) => w.id === id)!.flops).toBe(ws.find((w) => w.id === id.replace(/_bf16$/, ''))!.flops);
    expect(ids).toContain(MIXED_SELF_CHECK_WORKLOAD);
  });
  it('run with --precision bf16 or an --only that names them, never in the default fp32 suite', () => {
    const bf = ws.find((w) => w.id === 'train_resnet34_224_b8_bf16')!, fp = ws.find((w) => w.id === 'train_resnet34_224_b8')!;
    const sel = (argv: string[], w: typeof bf) => selects(parseArgs(argv, '/r'), w);
    expect(sel([], bf)).toBe(false);
    expect(sel([], fp)).toBe(true);
    expect(sel(['--precision', 'bf16'], bf)).toBe(true);
    expect(sel(['--precision', 'bf16'], fp)).toBe(false);
    expect(sel(['--only', 'train_.*_bf16'], bf)).toBe(true);
    expect(sel(['--only', 'train_.*_bf16'], fp)).toBe(false);
    expect(sel(['--only', 'resnet'], bf)).toBe(true);
    expect(sel(['--precision', 'fp32', '--only', 'resnet'], bf)).toBe(false);
    expect(sel(['--precision', 'fp32,bf16'], bf) && sel(['--precision', 'fp32,bf16'], fp)).toBe(true);
  });
  it('a bf16-only run leaves tfjs-node (no mixed precision) out unless --peers names it', () => {
    expect(parseArgs(['--precision', 'bf16'], '/r').peers).toEqual(['keras', 'torch']);
    expect(parseArgs(['--precision', 'bf16', '--peers', 'tfjs,torch'], '/r').peers).toEqual(['tfjs-node', 'torch']);
    expect(parseArgs(['--precision', 'fp32,bf16'], '/r').peers).toEqual(['tfjs-node', 'keras', 'torch']);
  });
  it('--precision refuses what it does not know, naming it', () => {
    expect(() => parseArgs(['--precision', 'fp8'], '/r')).toThrow(/--precision expects fp32, bf16 or fp32,bf16 but received 'fp8'/);
    expect(() => parseArgs(['--precision', 'fp16'], '/r')).toThrow(/float16 steps are not benchmarked yet/);
  });
});

describe('configurations per precision (Note [mixed precision variants])', () => {
  const fp = workloads('quick').find((w) => w.id === 'train_fashion_cnn_b128')!.spec;
  const bf = workloads('quick').find((w) => w.id === 'train_fashion_cnn_b128_bf16')!.spec;
  it('a bf16 workload offers only bf16 configurations to the peers and to us', () => {
    expect(variantsOf('keras', bf).map((v) => [v.key, v.precision])).toEqual([['bf16_graph', 'mixed_bf16'], ['bf16_xla', 'mixed_bf16']]);
    expect(variantsOf('torch', bf).map((v) => [v.key, v.precision])).toEqual([['bf16_eager', 'mixed_bf16'], ['bf16_compile', 'mixed_bf16']]);
    expect(variantsOf(OURS, bf).map((v) => v.precision)).toEqual(['mixed_bf16']);
    expect(variantsOf('tfjs-node', bf)).toEqual([]);
  });
  it('our fp32 step on a bf16 workload comes only from the baseline worker, which has nothing to do on fp32 workloads', () => {
    expect(variantsOf(BASELINE_RUNNER, bf).map((v) => [v.key, v.precision])).toEqual([['fp32', 'fp32']]);
    expect(variantsOf(BASELINE_RUNNER, fp)).toEqual([]);
    expect(variantsOf('keras', fp).every((v) => v.precision === 'fp32')).toBe(true);
  });
});

describe('the mixed-precision section: ratios, memory and issue 21\'s targets', () => {
  // Issue 21's own measurements: PyTorch autocast 233 ms, Keras mixed_bfloat16 291 ms, our fp32 318 ms.
  const cnn = (ours: RunResult) =>
    bf16('train_fashion_cnn_b128_bf16', {
      [OURS]: ours,
      [BASELINE_RUNNER]: run([0.318], { variantKey: 'fp32', precision: 'fp32' }),
      torch: run([0.233], { variantKey: 'bf16_compile', precision: 'mixed_bf16', variant: 'autocast(bfloat16), torch.compile, channels_last' }),
      keras: run([0.291], { variantKey: 'bf16_graph', precision: 'mixed_bf16', variant: 'mixed_bfloat16, jit_compile=False' }),
    });
  const memory: MemoryReport[] = [{
    id: 'train_fashion_cnn_b128_bf16', label: 'x',
    runs: { [OURS]: { ok: true, peakRssMiB: 500, importRssMiB: 100, peakNativeMiB: 120 }, torch: { ok: true, peakRssMiB: 450, importRssMiB: 220 } },
  }];

  it('ratios are each runner\'s time over our bf16 step\'s, and over our fp32 step\'s', () => {
    const s = mixedPrecisionSection([cnn(run([0.2], { variantKey: 'bf16', precision: 'mixed_bf16' }))], memory, OURS, BASELINE_RUNNER);
    const rows = Object.fromEntries(s.workloads[0].rows.map((r) => [r.runner, r]));
    expect(s.workloads[0].rows.map((r) => r.runner)).toEqual([OURS, BASELINE_RUNNER, 'torch', 'keras']);
    expect(rows[BASELINE_RUNNER].vsOursBf16).toBeCloseTo(1.59, 9); // bf16's speed-up over our fp32
    expect(rows.torch.vsOursBf16).toBeCloseTo(1.165, 9);
    expect(rows.torch.verdict).toBe('lead');
    expect(rows.keras.vsOursFp32).toBeCloseTo(0.291 / 0.318, 9);
    expect(rows[OURS].vsOursBf16).toBeUndefined();
    expect(rows[OURS].memory?.peakNativeMiB).toBe(120);
    expect(rows.torch.configuration).toBe('autocast(bfloat16), torch.compile, channels_last');
    expect(rows[BASELINE_RUNNER].configuration).toBe('float32 (our fp32 step)');
    expect(s.oursFailed).toEqual([]);
  });
  it('targets: 1.598x over our fp32 misses 1.6x (three decimals, never rounded up to it); the peers\' are met', () => {
    const t = mixedTargets([cnn(run([0.199]))], OURS);
    expect(t.map((x) => x.met)).toEqual([false, true, true, false, false]);
    expect(t[0].detail).toBe('1.598x (our bf16 199 ms vs 318 ms [float32 (our fp32 step)]): missed by 0.1%');
    expect(t[1].detail).toBe('1.17x (our bf16 199 ms vs 233 ms [autocast(bfloat16), torch.compile, channels_last])');
    expect(t[2].detail).toMatch(/^1\.46x/); // against Keras: wanted 1.3x, met
    expect(t[3]).toMatchObject({ met: false, notMeasured: true, detail: 'not measured: the workload was not in this run' });
  });
  it('when we are slower than a peer, the ratio is below 1 and the verdict says behind', () => {
    const s = mixedPrecisionSection([cnn(run([0.3]))], [], OURS, BASELINE_RUNNER);
    const torch = s.workloads[0].rows.find((r) => r.runner === 'torch')!;
    expect(torch.vsOursBf16).toBeCloseTo(0.233 / 0.3, 9);
    expect(torch.verdict).toBe('behind');
    expect(mixedTargets([cnn(run([0.3]))], OURS)[1]).toMatchObject({ met: false });
  });
  it('our failed bf16 step is a failure of ours: listed, and every target that needs it is not measured', () => {
    const err = "cudnn-node has no mixed precision API: cn.mixedPrecision.setGlobalPolicy is undefined";
    const s = mixedPrecisionSection([cnn(failed(err))], [], OURS, BASELINE_RUNNER);
    expect(s.oursFailed).toEqual([{ id: 'train_fashion_cnn_b128_bf16', error: err }]);
    expect(s.targets.slice(0, 3).every((t) => t.notMeasured && t.detail === `not measured: our bf16 step failed: ${err}`)).toBe(true);
    // The peers' ratios to our fp32 step still stand: Keras bf16 is faster than our fp32.
    expect(s.workloads[0].rows.find((r) => r.runner === 'keras')!.vsOursFp32).toBeLessThan(1);
  });
});

describe('the Markdown and JSON report of a bf16 run', () => {
  function report(ours: RunResult): Report {
    const ref = bf16('train_fashion_cnn_b128_bf16', {
      [OURS]: ours,
      [BASELINE_RUNNER]: run([0.318], { variantKey: 'fp32', precision: 'fp32' }),
      torch: run([0.233], { variantKey: 'bf16_eager', precision: 'mixed_bf16', variant: 'autocast(bfloat16), eager, channels_last' }),
      keras: run([0.291], { variantKey: 'bf16_graph', precision: 'mixed_bf16', variant: 'mixed_bfloat16, jit_compile=False' }),
    });
    const fp = { ...workloads('quick').find((w) => w.id === 'train_fashion_cnn_b128')!, runs: { [OURS]: run([0.318]), torch: run([0.47]) } };
    const results = [fp, ref];
    const ceiling = derive(results, OURS);
    const m = (s: number) => ({ medianS: s });
    return {
      trustworthy: true,
      selfCheck: selfCheck('train_fashion_cnn_b128', { [OURS]: m(0.318), torch: m(0.47) }, { [OURS]: m(0.318), torch: m(0.47) }, 'm'),
      mixedSelfCheck: selfCheck('train_fashion_cnn_b128_bf16', { torch: m(0.233) }, { torch: m(0.3) }, 'm'),
      date: '2026-01-01', mode: 'quick', durationS: 1,
      machine: { cpu: 'AMD EPYC', cores: 2, simd: [], memoryGiB: 24, os: 'Linux', node: 'v20', gpu: 'none' },
      runners: [OURS, 'torch', 'keras'].map((name) => ({ name, available: true, info: {} })),
      ceiling, results, targets: [],
      mixedPrecision: mixedPrecisionSection([ref], [], OURS, BASELINE_RUNNER),
      notes: [],
    };
  }
  it('has its own section and keeps bf16 steps out of the fp32 tables', () => {
    const md = toMarkdown(report(run([0.2])));
    expect(md).toContain('## bf16 mixed precision: training steps (issue 21)');
    expect(md).toContain('| cudnn-node | fp32 · float32 (our fp32 step) | 318 (318–318) | 403 | 214 | **1.59x** |  |');
    expect(md).toContain('| PyTorch | bf16 · autocast(bfloat16), eager, channels_last | 233 (233–233) | 549 | 292 | **1.17x** lead | **0.73x** |');
    expect(md).toContain('our bf16 step is 1.59x faster than our fp32 step');
    expect(md).toContain('- ❌ Fashion-MNIST CNN, batch 128: our bf16 step at least 1.6x as fast as our fp32 step: 1.59x');
    const standing = md.slice(md.indexOf('## Where cudnn-node stands'), md.indexOf('## bf16 mixed precision'));
    expect(standing).not.toContain('bf16 mixed precision');
  });
  it('says so in bold when our bf16 step failed, and where our fp32 step stands against the peers\' bf16', () => {
    const md = toMarkdown(report(failed('cudnn-node has no mixed precision API')));
    expect(md).toContain("**cudnn-node's bf16 step failed on 1 of 1 workloads**");
    expect(md).toContain('- train_fashion_cnn_b128_bf16: cudnn-node has no mixed precision API');
    expect(md).toContain('our fp32 step against PyTorch bf16: 0.73x (**we are slower**)');
    expect(md).toContain('- ⚠️ Fashion-MNIST CNN, batch 128: our bf16 step at least 1.0x as fast as PyTorch autocast bf16: **not measured**: our bf16 step failed');
  });
  it('says when our bf16 step is no faster than our fp32 step, and when a peer is ahead of it', () => {
    const md = toMarkdown(report(run([0.32])));
    expect(md).toContain('our bf16 step is level with our fp32 step (0.99x); **behind** PyTorch bf16 (0.73x); level with Keras bf16 (0.91x).');
    expect(toMarkdown(report(run([0.4])))).toContain('our bf16 step is **1.26x slower than** our fp32 step');
  });
  it('the bf16 self-check failing makes the first line say FAILED, naming the workload and runner', () => {
    const first = toMarkdown(report(run([0.2]))).split('\n')[0];
    expect(first).toMatch(/^\*\*Self-check: FAILED\. This report is untrustworthy/);
    expect(first).toContain('on train_fashion_cnn_b128_bf16: torch +28.8%');
  });
});

describe('fmtRatio', () => {
  it('never prints a missed target as met', () => {
    expect(fmtRatio(1.596, 1.6)).toBe('1.596x');
    expect(fmtRatio(1.596)).toBe('1.60x');
    expect(fmtRatio(1.61, 1.6)).toBe('1.61x');
  });
});
