// The benchmark's judgements (bench/verdict.ts), its report head (bench/report-summary.ts),
// its FLOP counts (bench/flops.ts, against the published figures), its ONEDNN_VERBOSE parser
// (bench/machine.ts, on oneDNN's real output) and its option parsing: the pure logic the
// README's numbers depend on.
import { describe, expect, it } from 'vitest';
import { modelFlops, TRAIN_FLOPS_PER_IMAGE } from '../bench/flops.js';
import { parseOnednnVerbose } from '../bench/machine.js';
import { parseArgs } from '../bench/options.js';
import { toMarkdown } from '../bench/report.js';
import type { BenchResult, Report, RunResult } from '../bench/types.js';
import { ceilingOf, classify, derive, selfCheck } from '../bench/verdict.js';
import { stats } from '../bench/shared.js';

const run = (times: number[]): RunResult => ({ ok: true, times, stats: stats(times) });
const result = (id: string, group: BenchResult['group'], flops: number | undefined, runs: Record<string, RunResult>, extra: Partial<BenchResult> = {}): BenchResult => ({
  id, group, label: id, spec: { kind: 'tiny_add' }, flops, inner: 1, warmup: 1, samples: 3, perTurn: 1, runs, ...extra,
});

describe('classify: where cudnn-node stands against a peer', () => {
  it('is level within ±10%, lead above, behind below', () => {
    expect(classify(1)).toBe('level');
    expect(classify(1.1)).toBe('level');
    expect(classify(0.9)).toBe('level');
    expect(classify(1.11)).toBe('lead');
    expect(classify(1.76)).toBe('lead');
    expect(classify(0.89)).toBe('behind');
    expect(classify(0.5)).toBe('behind');
  });
  it('judges the ratio as printed (two decimals): "0.90x" is level, "1.10x" too', () => {
    expect(classify(0.8999)).toBe('level');
    expect(classify(0.8949)).toBe('behind');
    expect(classify(1.1049)).toBe('level');
    expect(classify(1.1051)).toBe('lead');
  });
  it('refuses a ratio that is not a positive number', () => {
    expect(() => classify(0)).toThrow(/expected a positive ratio but received 0/);
    expect(() => classify(Number.NaN)).toThrow(RangeError);
  });
});

describe('selfCheck: suite against alone', () => {
  const alone = { 'cudnn-node': { medianS: 0.3 }, keras: { medianS: 0.325, variant: 'jit_compile=False' } };
  it('passes when every runner is within 10% (either way)', () => {
    const c = selfCheck('train_fashion_cnn_b128', alone, { 'cudnn-node': { medianS: 0.31 }, keras: { medianS: 0.3 } }, 'm');
    expect(c.passed).toBe(true);
    expect(c.rows.map((r) => r.runner)).toEqual(['cudnn-node', 'keras']);
    expect(c.rows[1].deviation).toBeCloseTo((0.3 - 0.325) / 0.325, 12);
    expect(c.rows[1].variant).toBe('jit_compile=False');
  });
  it('fails when one runner deviates by more than 10%: Keras 560 ms in the suite, 325 alone (issue 18)', () => {
    const c = selfCheck('train_fashion_cnn_b128', alone, { 'cudnn-node': { medianS: 0.3 }, keras: { medianS: 0.56 } }, 'm');
    expect(c.passed).toBe(false);
    expect(c.rows.find((r) => r.runner === 'keras')!.ok).toBe(false);
    expect(c.rows.find((r) => r.runner === 'cudnn-node')!.ok).toBe(true);
  });
  it('fails when a runner was faster in the suite by more than 10%', () => {
    expect(selfCheck('w', { a: { medianS: 1 } }, { a: { medianS: 0.85 } }, 'm').passed).toBe(false);
  });
  it('fails when a runner could not be measured in one of the phases, and says which', () => {
    const c = selfCheck('w', alone, { 'cudnn-node': { medianS: 0.3 }, keras: { note: 'worker exited' } }, 'm');
    expect(c.passed).toBe(false);
    expect(c.rows[1].note).toBe('not measured in the suite: worker exited');
  });
  it('fails with nothing measured', () => {
    expect(selfCheck('w', {}, {}, 'm').passed).toBe(false);
  });
});

describe('the measured ceiling and the derived columns', () => {
  const mk = () => [
    result('sgemm_2048', 'matmul', 2e9, { 'cudnn-node': run([0.01]), torch: run([0.0125]) }), // 200 and 160 GFLOP/s
    result('conv_a', 'conv', 1e9, { 'cudnn-node': run([0.005]), keras: run([0.004]) }), // 200 and 250 GFLOP/s
    result('train', 'train', 5e8, { 'cudnn-node': run([0.01, 0.01, 0.01]), keras: run([0.0115, 0.012, 0.0125]) }),
  ];
  it('is the best of sgemm and the fastest convolution, whichever runner reached it', () => {
    const c = ceilingOf(mk(), 'cudnn-node');
    expect(c.sgemm).toBeCloseTo(200, 9);
    expect(c.conv).toBeCloseTo(250, 9);
    expect(c.gflops).toBeCloseTo(250, 9);
    expect(c.source).toBe('keras, conv_a');
    expect(c.ours).toBeCloseTo(200, 9);
  });
  it('gives every training step its fraction of that ceiling, and every peer a ratio and verdict', () => {
    const rs = mk();
    derive(rs, 'cudnn-node');
    const t = rs[2];
    expect(t.runs['cudnn-node'].fractionOfCeiling).toBeCloseTo(50 / 250, 9);
    expect(t.runs.keras.ratio).toBeCloseTo(1.2, 9);
    expect(t.runs.keras.verdict).toBe('lead');
    expect(rs[1].runs.keras.verdict).toBe('behind'); // 0.8x
    expect(t.runs['cudnn-node'].ratio).toBeUndefined();
  });
});

describe('the report says in its first line whether it can be quoted', () => {
  const report = (passed: boolean): Report => {
    const results = [
      result('train_fashion_cnn_b128', 'train', 6.8e10, { 'cudnn-node': run([0.3]), keras: run([passed ? 0.31 : 0.56]) }, {
        label: 'Fashion-MNIST CNN train step, batch 128', model: 'fashion_cnn', images: 128,
        spec: { kind: 'train', model: 'fashion_cnn', batch: 128, optimizer: 'adam' },
      }),
    ];
    const ceiling = derive(results, 'cudnn-node');
    return {
      trustworthy: passed,
      selfCheck: selfCheck('train_fashion_cnn_b128', { 'cudnn-node': { medianS: 0.3 }, keras: { medianS: 0.31 } }, { 'cudnn-node': { medianS: 0.3 }, keras: { medianS: passed ? 0.31 : 0.56 } }, 'alone first'),
      date: '2026-01-01', mode: 'quick', durationS: 1,
      machine: { cpu: 'AMD EPYC', cores: 2, simd: [], memoryGiB: 24, os: 'Linux', node: 'v20', gpu: 'none' },
      runners: [{ name: 'cudnn-node', available: true, info: {} }, { name: 'keras', available: true, info: {} }],
      ceiling, results, targets: [], notes: [],
    };
  };
  it('passed', () => {
    const md = toMarkdown(report(true));
    expect(md.split('\n')[0]).toMatch(/^\*\*Self-check: PASSED\.\*\*/);
    expect(md).toContain('| keras |  | 310 ms | 310 ms | +0.0% | yes |');
  });
  it('failed: untrustworthy, naming the runner and its deviation', () => {
    const md = toMarkdown(report(false));
    expect(md.split('\n')[0]).toMatch(/^\*\*Self-check: FAILED\. This report is untrustworthy/);
    expect(md.split('\n')[0]).toContain('keras +80.6%');
    expect(md).toContain('| Fashion-MNIST CNN train step, batch 128 | **1.87x** lead |');
  });
});

describe('FLOPs per image, against the published figures', () => {
  it('Fashion-MNIST CNN: 532 MFLOP per training step (issue 4)', () => {
    expect(TRAIN_FLOPS_PER_IMAGE / 1e6).toBeCloseTo(531.9, 1);
  });
  it('ResNet-34 at 224: 3.6 G multiply-adds forward (He et al. 2015, table 1)', () => {
    expect(modelFlops('resnet34', { size: 224 }).forward / 2 / 1e9).toBeCloseTo(3.66, 2);
  });
  it('Xception at 299: 8.4 G multiply-adds forward; frozen base trains only its head', () => {
    const full = modelFlops('xception', { size: 299 }), frozen = modelFlops('xception', { size: 299, frozen: true });
    expect(full.forward / 2 / 1e9).toBeCloseTo(8.36, 2);
    expect(full.train / full.forward).toBeGreaterThan(2.9);
    expect(frozen.train - frozen.forward).toBe(2 * 2048 * 10); // the head's weight gradient only: nothing upstream trains
  });
});

describe('parseOnednnVerbose', () => {
  // What oneDNN 2.6 printed for bench/runners/onednn-probe.ts on an AMD EPYC (Zen 4).
  const out = [
    'onednn_verbose,info,oneDNN v2.6.3 (commit N/A)',
    'onednn_verbose,info,cpu,runtime:OpenMP,nthr:2',
    'onednn_verbose,info,cpu,isa:Intel AVX-512 with Intel DL Boost and bfloat16 support',
    'onednn_verbose,info,prim_template:operation,engine,primitive,implementation,prop_kind,memory_descriptors,attributes,auxiliary,problem_desc,exec_time',
    'onednn_verbose,exec,cpu,reorder,jit:uni,undef,src_f32::blocked:cdba:f0 dst_f32::blocked:Acdb32a:f0,,,128x64x3x3,2.54199',
    'onednn_verbose,exec,cpu,convolution,brgconv:avx512_core,forward_inference,src_f32::blocked:acdb:f0,,alg:convolution_direct,mb8_ic64oc128_ih14oh14kh3sh1dh0ph1_iw14ow14kw3sw1dw0pw1,27.908',
    'onednn_verbose,exec,cpu,matmul,brg:avx512_core,undef,src_f32::blocked:abc:f0,,,1x256x256:1x256x256:1x256x256,15.8269',
  ].join('\n');
  it('reads the version, runtime, ISA and the implementation per primitive kind', () => {
    expect(parseOnednnVerbose(out)).toEqual({
      version: 'v2.6.3',
      runtime: 'OpenMP',
      isa: 'Intel AVX-512 with Intel DL Boost and bfloat16 support',
      impl: { convolution: 'brgconv:avx512_core', matmul: 'brg:avx512_core' },
    });
  });
  it('reads oneDNN 3.x lines (v1,primitive,exec)', () => {
    const v3 = 'onednn_verbose,v1,info,cpu,isa:Intel AVX2\nonednn_verbose,v1,primitive,exec,cpu,convolution,brg_conv_fwd:avx2,forward_training,x,,,1.0';
    expect(parseOnednnVerbose(v3)).toEqual({ isa: 'Intel AVX2', impl: { convolution: 'brg_conv_fwd:avx2' } });
  });
});

describe('bench options', () => {
  it('--peers selects peers by name or alias; cudnn-node always runs', () => {
    expect(parseArgs(['--peers', 'keras,torch,tfjs'], '/r').peers).toEqual(['keras', 'torch', 'tfjs-node']);
    expect(parseArgs([], '/r').peers).toEqual(['tfjs-node', 'keras', 'torch']);
  });
  it('refuses an unknown peer and a bad number, naming them', () => {
    expect(() => parseArgs(['--peers', 'keras,jax'], '/r')).toThrow(/--peers expects names among tfjs, keras, torch but received 'jax'/);
    expect(() => parseArgs(['--samples', 'x'], '/r')).toThrow(/--samples expects a non-negative number but received 'x'/);
  });
});
