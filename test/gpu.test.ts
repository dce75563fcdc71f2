// The GPU suite: cuda-only tests. Every op family on cuda against cpu on the same seeded
// inputs (strict fp32, per-op tolerances), asynchronous correctness (queued work, async
// reads, compiled plans), device memory accounting, out-of-memory as a coded error, the
// TF32 / strict-fp32 switch, and every conv case again on cuDNN's graph API (convApi: 'graph'). Without a usable device every cuda block is skipped with
// "skipped: no CUDA device" in its title; one test always runs and checks that backends()
// and setBackend('cuda') say why cuda cannot run.
//
// On a GPU machine: `npm run gpu:check` (scripts/gpu-check.sh) builds, runs this file, the
// op suites on cuda and the GPU benchmark.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import * as fused from '../lib/kernels/fused.js';
import { native } from '../lib/native.js';
import { expectClose, seededRandom } from './helpers.js';
import { BackendReference, Program, Tol, checkParity, runOn, withGrads } from './parity-driver.js';

const SKIP = 'skipped: no CUDA device';
const cudaInfo = cn.backends().find((b) => b.name === 'cuda');
const hasCuda = !!cudaInfo?.available;
/** Suite title: says it is skipped when there is no usable device (the always-running test
 * below prints the reason). */
const title = (name: string) => (hasCuda ? `${name} [cuda]` : `${name} [cuda] (${SKIP})`);
const describeCuda = describe.skipIf(!hasCuda);

// ------------------------------------------------------------------ helpers
type Fn = Program;

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
/** A seeded random float tensor on the current backend. */
const rnd = (shape: number[], seed: number, lo = -1, hi = 1) => cn.tensor(seededRandom(size(shape), seed, lo, hi), shape);
/** Seeded random int32 labels in [0, depth). */
const labels = (n: number, depth: number, seed: number) =>
  cn.tensor(Int32Array.from(seededRandom(n, seed, 0, depth), (v) => Math.min(depth - 1, Math.floor(v))), [n], 'int32');

/** fn on cuda against fn on cpu, through the parity driver (test/parity-driver.ts): the
 * number of outputs, each output's shape, dtype and values, and no leaked tensor. */
function parity(what: string, fn: Fn, tol: Partial<Tol> = {}): void {
  checkParity(new BackendReference('cpu'), { name: what, program: fn, tol: { rtol: 1e-4, atol: 1e-5, ...tol } }, { backend: 'cuda' });
}

/** max |a - b| / max |b|: one number for a whole result. */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / (den || 1);
}

const strictFp32 = () => cn.setCudaOptions({ allowTF32: false, autotune: false });
const defaults = () => cn.setCudaOptions({ allowTF32: true, autotune: false, convApi: 'legacy' });

/** Convolution shapes every cuDNN path is checked on (legacy and graph API). */
const CONV_CASES: Array<{ name: string; x: number[]; f: number[]; s: number; pad: cn.PadSpec; d?: number }> = [
    { name: '3x3 stride 1 same', x: [2, 9, 9, 3], f: [3, 3, 3, 8], s: 1, pad: 'same' },
    { name: '3x3 stride 2 same (odd input: extra pad bottom/right)', x: [2, 9, 9, 4], f: [3, 3, 4, 8], s: 2, pad: 'same' },
    { name: '4x4 stride 2 same (even kernel)', x: [2, 10, 10, 3], f: [4, 4, 3, 5], s: 2, pad: 'same' },
    { name: '5x5 stride 2 valid', x: [2, 11, 11, 3], f: [5, 5, 3, 6], s: 2, pad: 'valid' },
    { name: '7x7 from one channel (Fashion-MNIST conv1)', x: [4, 28, 28, 1], f: [7, 7, 1, 16], s: 1, pad: 'same' },
    { name: '7x7 stride 2 same (ResNet conv1)', x: [2, 32, 32, 3], f: [7, 7, 3, 8], s: 2, pad: 'same' },
    { name: '1x1 stride 2 (ResNet shortcut)', x: [2, 8, 8, 16], f: [1, 1, 16, 32], s: 2, pad: 'valid' },
    { name: '3x3 dilation 2', x: [2, 12, 12, 3], f: [3, 3, 3, 4], s: 1, pad: 'same', d: 2 },
    { name: 'explicit asymmetric pads', x: [2, 8, 9, 3], f: [3, 3, 3, 4], s: 1, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
    { name: '3x3 wide channels', x: [2, 14, 14, 64], f: [3, 3, 64, 32], s: 1, pad: 'same' },
    // The input is smaller than the window until SAME's extra bottom/right row is added.
    { name: '3x3 stride 2 same on a 2x2 input (ResNet at 32x32, stage 4)', x: [2, 2, 2, 8], f: [3, 3, 8, 4], s: 2, pad: 'same' },
    { name: '3x3 stride 2 same on a 1x1 input', x: [2, 1, 1, 4], f: [3, 3, 4, 4], s: 2, pad: 'same' },
    // Even input, stride 2, SAME: pads 0 before and 1 after (ResNet's stage transitions), on
    // the asymmetric-padding path (Note [asymmetric padding] in native/cuda/conv.cc).
    { name: '3x3 stride 2 same on an even input (pads 0/1, ResNet stage transition)', x: [2, 14, 14, 16], f: [3, 3, 16, 32], s: 2, pad: 'same' },
    { name: '3x3 stride 2 same on an even 56x56 input, 64 -> 128 (pads 0/1)', x: [1, 56, 56, 64], f: [3, 3, 64, 128], s: 2, pad: 'same' },
  ];
const convTol = { rtol: 1e-3, atol: 2e-4 };
/** conv2d forward and both gradients for one case, as parity() runs it. */
const convCase = (c: (typeof CONV_CASES)[number]) =>
  withGrads((x, f) => cn.conv2d(x, f, c.s, c.pad, 'NHWC', c.d ?? 1), () => [rnd(c.x, 1), rnd(c.f, 2, -0.5, 0.5)]);

// ------------------------------------------------------------------ always runs
describe('cuda backend availability', () => {
  it(hasCuda ? 'cuda is available: device, cuDNN 9 and cuBLAS reported; setBackend works' : `cuda is not available here (${SKIP}): backends() and setBackend say why`, () => {
    expect(cudaInfo, 'backends() lists cuda').toBeDefined();
    const info = cudaInfo!;
    const compiled = native.buildInfo().cudaCompiled;
    expect(info.compiled).toBe(compiled);
    const prev = cn.getBackend();
    if (info.available) {
      expect(info.deviceName, 'deviceName').toBeTruthy();
      expect(Number(info.computeCapability), 'computeCapability').toBeGreaterThanOrEqual(7);
      expect(info.cudnnVersion, 'cuDNN version').toBeGreaterThanOrEqual(90000);
      expect(info.cudnnVersion!, 'cuDNN major 9').toBeLessThan(100000);
      expect(info.cublasVersion, 'cuBLAS version').toBeGreaterThan(0);
      cn.setBackend('cuda');
      expect(cn.getBackend()).toBe('cuda');
      cn.setBackend(prev);
      console.info(`gpu.test.ts: ${info.deviceName} (cc ${info.computeCapability}), cuDNN ${info.cudnnVersion}, cuBLAS ${info.cublasVersion}, CUDA runtime ${info.runtimeVersion}, driver ${info.driverVersion}`);
      return;
    }
    expect(info.reason, 'a reason is given').toBeTruthy();
    const reason = info.reason!;
    if (!compiled) expect(reason).toMatch(/not compiled in/);
    else if (/cuDNN|cuBLAS|compute capability/i.test(reason)) expect(reason.length).toBeGreaterThan(10); // a device, but unusable
    else expect(reason).toMatch(/driver|device/i);
    let err: unknown;
    try {
      cn.setBackend('cuda');
    } catch (e) {
      err = e;
    }
    expect(err, "setBackend('cuda') throws").toBeInstanceOf(cn.BackendUnavailableError);
    expect((err as cn.BackendUnavailableError).code).toBe('ERR_BACKEND_UNAVAILABLE');
    expect((err as Error).message).toContain(reason);
    expect(cn.getBackend(), 'the backend is unchanged').toBe(prev);
    console.info(`gpu.test.ts: ${SKIP} (${reason}); the cuda suites are skipped`);
  });
});

// ------------------------------------------------------------------ op parity
describeCuda(title('op parity with cpu (strict fp32)'), () => {
  beforeAll(strictFp32);
  afterAll(defaults);

  describe('conv2d', () => {
    for (const c of CONV_CASES)
      it(`${c.name}: forward, backward data and backward filter`, () => {
        parity(`conv2d ${c.name}`, convCase(c), convTol);
      });

    it('bias + relu fused (fused.conv2d): forward and gradients of x, filter and bias', () => {
      parity(
        'fused.conv2d bias+relu',
        withGrads(
          (x, f, b) => cn.fused.conv2d({ x, filter: f, bias: b, strides: 1, pad: 'same', activation: 'relu' }),
          () => [rnd([2, 9, 9, 3], 3), rnd([3, 3, 3, 8], 4, -0.5, 0.5), rnd([8], 5, -0.2, 0.2)],
        ),
        convTol,
      );
      parity(
        'fused.conv2d stride 2 bias+relu',
        withGrads(
          (x, f, b) => cn.fused.conv2d({ x, filter: f, bias: b, strides: 2, pad: 'same', activation: 'relu' }),
          () => [rnd([2, 10, 10, 4], 6), rnd([3, 3, 4, 8], 7, -0.5, 0.5), rnd([8], 8, -0.2, 0.2)],
        ),
        convTol,
      );
    });

    // Note [conv + bias + relu] (native/cuda/conv.cc): on the legacy API a conv with bias and
    // ReLU is one cudnnConvolutionBiasActivationForward; cuDNN declining it would silently
    // cost the extra pass, so the profiler's note must say it ran fused. A bias alone is not
    // fused (the call takes identity activation only with one algorithm).
    it('bias + relu run in the same cuDNN call (legacy API), a bias alone does not', async () => {
      const prev = cn.getBackend();
      cn.setBackend('cuda');
      cn.setCudaOptions({ convApi: 'legacy' });
      try {
        const [x, f, b] = [rnd([2, 9, 9, 3], 3), rnd([3, 3, 3, 8], 4, -0.5, 0.5), rnd([8], 5, -0.2, 0.2)];
        const convNotes = async (activation: 'relu' | 'linear') => {
          const info = await cn.profile(() => cn.fused.conv2d({ x, filter: f, bias: b, strides: 1, pad: 'same', activation }).dispose());
          return info.kernels.filter((k) => k.name === 'Conv2D').map((k) => k.extraInfo);
        };
        const relu = await convNotes('relu');
        expect(relu.length, 'one Conv2D kernel').toBe(1);
        // z = y with alpha2 = 0: the output block's old contents must not leak in. A block
        // full of NaN is freed just before, so the caching allocator hands it to the conv.
        const want = runOn('cpu', () => cn.fused.conv2d({ x: rnd([2, 9, 9, 3], 3), filter: rnd([3, 3, 3, 8], 4, -0.5, 0.5), bias: rnd([8], 5, -0.2, 0.2), strides: 1, pad: 'same', activation: 'relu' }))[0];
        for (let i = 0; i < 3; i++) {
          const poison = cn.fill([2, 9, 9, 8], NaN);
          poison.dataSync();
          poison.dispose();
          const y = cn.fused.conv2d({ x, filter: f, bias: b, strides: 1, pad: 'same', activation: 'relu' });
          expectClose(y.dataSync(), want.values, { ...convTol, what: `fused conv over a recycled NaN block, try ${i}` });
          y.dispose();
        }
        expect(relu[0]).toMatch(/^cuDNN legacy \S+ (tensor ops|fma), bias \+ relu fused$/);
        const linear = await convNotes('linear');
        expect(linear.length).toBe(1);
        expect(linear[0]).not.toMatch(/fused/);
        cn.dispose([x, f, b]);
      } finally {
        cn.setBackend(prev);
      }
    });

    for (const [s, m] of [[1, 1], [2, 2]] as const)
      it(`depthwise 3x3 stride ${s} same, channel multiplier ${m}: forward and gradients`, () => {
        parity(
          `depthwiseConv2d s${s} m${m}`,
          withGrads((x, f) => cn.depthwiseConv2d(x, f, s, 'same'), () => [rnd([2, 9, 9, 6], 9), rnd([3, 3, 6, m], 10, -0.5, 0.5)]),
          convTol,
        );
      });

    it('depthwise bias + relu fused (fused.depthwiseConv2d)', () => {
      parity(
        'fused.depthwiseConv2d',
        withGrads(
          (x, f, b) => cn.fused.depthwiseConv2d({ x, filter: f, bias: b, strides: 1, pad: 'same', activation: 'relu' }),
          () => [rnd([2, 8, 8, 4], 11), rnd([3, 3, 4, 1], 12, -0.5, 0.5), rnd([4], 13, -0.2, 0.2)],
        ),
        convTol,
      );
    });

    it('conv2dTranspose and separableConv2d', () => {
      parity('conv2dTranspose', () => cn.conv2dTranspose(rnd([2, 5, 5, 8], 14), rnd([3, 3, 4, 8], 15, -0.5, 0.5), [2, 10, 10, 4], 2, 'same'), convTol);
      parity('separableConv2d', () => cn.separableConv2d(rnd([2, 8, 8, 3], 16), rnd([3, 3, 3, 2], 17), rnd([1, 1, 6, 5], 18), 1, 'same'), convTol);
    });
  });

  describe('pooling', () => {
    const cases: Array<{ name: string; kind: 'max' | 'avg'; k: number; s: number; pad: 'same' | 'valid' }> = [
      { name: 'max 2x2 stride 2 valid', kind: 'max', k: 2, s: 2, pad: 'valid' },
      { name: 'max 3x3 stride 2 same', kind: 'max', k: 3, s: 2, pad: 'same' },
      { name: 'avg 2x2 stride 2 valid', kind: 'avg', k: 2, s: 2, pad: 'valid' },
      { name: 'avg 3x3 stride 1 same (padding excluded from the count)', kind: 'avg', k: 3, s: 1, pad: 'same' },
      { name: 'avg 3x3 stride 2 same', kind: 'avg', k: 3, s: 2, pad: 'same' },
    ];
    // Even input, stride 2, SAME: pads 0 before and 1 after, as ResNet's 112 -> 56 max pool;
    // and windows larger than the input, cut to their in-bounds part before either backend
    // sees them (Note [pooling window trimming] in native/core/params.cc).
    const asym: Array<{ name: string; kind: 'max' | 'avg'; k: number; s: number; x: number[] }> = [
      { name: 'max 3x3 stride 2 same on an even input (pads 0/1, ResNet 112 -> 56)', kind: 'max', k: 3, s: 2, x: [2, 16, 16, 8] },
      { name: 'avg 3x3 stride 2 same on an even input (pads 0/1)', kind: 'avg', k: 3, s: 2, x: [2, 16, 16, 5] },
      { name: 'max 7x7 stride 2 same on a 5x6 input (window trimmed)', kind: 'max', k: 7, s: 2, x: [2, 5, 6, 8] },
      { name: 'avg 7x7 stride 2 same on a 5x6 input (window trimmed)', kind: 'avg', k: 7, s: 2, x: [2, 5, 6, 5] },
    ];
    for (const c of asym)
      it(`${c.name}: forward and backward`, () => {
        const pool = c.kind === 'max' ? cn.maxPool : cn.avgPool;
        parity(c.name, withGrads((x) => pool(x, c.k, c.s, 'same'), () => [rnd(c.x, 25)]));
      });
    // 5 channels: one per thread; 8: four per thread (Note [pooling index arithmetic]).
    for (const c of cases)
      it(`${c.name}: forward and backward, 5 and 8 channels`, () => {
        const pool = c.kind === 'max' ? cn.maxPool : cn.avgPool;
        for (const ch of [5, 8]) parity(`${c.name} c=${ch}`, withGrads((x) => pool(x, c.k, c.s, c.pad), () => [rnd([2, 9, 9, ch], 20)]));
      });
    it('globalAvgPool and a whole-image max pool: forward and backward', () => {
      parity('globalAvgPool', withGrads((x) => cn.globalAvgPool(x), () => [rnd([3, 7, 7, 16], 21)]));
      parity('max 7x7 over 7x7', withGrads((x) => cn.maxPool(x, 7, 1, 'valid'), () => [rnd([3, 7, 7, 16], 24)]));
    });
    it('second derivatives through max and average pooling (MaxPoolGradGrad, AvgPoolGrad)', () => {
      for (const pool of [cn.maxPool, cn.avgPool])
        parity(`${pool.name} grad of grad`, () => {
          const x = rnd([2, 9, 9, 5], 22), w = rnd([2, 5, 5, 5], 23);
          return cn.grad((t) => cn.sum(cn.square(cn.grad((u) => cn.sum(cn.mul(pool(cn.square(u), 3, 2, 'same'), w)))(t))))(x);
        });
    });
  });

  describe('batch normalization', () => {
    const bnTol = { rtol: 1e-3, atol: 1e-4 };
    it('training (batch statistics): y, mean, variance', () => {
      parity('batchNormTraining', () => {
        const r = cn.batchNormTraining(rnd([4, 6, 6, 8], 30, -2, 3), rnd([8], 31, 0.5, 1.5), rnd([8], 32), 1e-3);
        return [r.y, r.mean, r.variance];
      }, bnTol);
    });
    it('training backward: gradients of x, gamma and beta (rank 4 and rank 2)', () => {
      parity(
        'batchNormTraining grads NHWC',
        withGrads((x, g, b) => cn.batchNormTraining(x, g, b, 1e-3).y, () => [rnd([4, 6, 6, 8], 33, -2, 3), rnd([8], 34, 0.5, 1.5), rnd([8], 35)]),
        bnTol,
      );
      parity(
        'batchNormTraining grads [N, C]',
        withGrads((x, g, b) => cn.batchNormTraining(x, g, b, 1e-3).y, () => [rnd([32, 16], 36), rnd([16], 37, 0.5, 1.5), rnd([16], 38)]),
        bnTol,
      );
    });
    // Four channels per thread where c % 4 == 0 (8, 64, 2052, 8192: the last has more
    // channel groups than a block holds), one otherwise (6, 1030); rows across many splits;
    // data far from zero (the one-pass moments are shifted sums).
    it('training forward and backward at every kernel width and block shape', () => {
      for (const [rows, c, center] of [[300, 6, 0], [2000, 64, 0], [3000, 64, 500], [9, 2052, 0], [5, 1030, 0], [3, 8192, 0]] as const) {
        parity(
          `batchNormTraining [${rows}, ${c}] around ${center}`,
          withGrads((x, g, b) => {
            const r = cn.batchNormTraining(x, g, b, 1e-3);
            return cn.concat([cn.reshape(r.y, [-1]), r.mean, r.variance]);
          }, () => [rnd([rows, c], 44 + c, center - 2, center + 3), rnd([c], 45, 0.5, 1.5), rnd([c], 46)]),
          bnTol,
        );
      }
    });
    // The plan-fusion kernels (lib/compiler/fusion.ts) at each width: + ReLU, + a residual and
    // ReLU (Note [batch norm + add + relu]), training and inference forms.
    it('fused forms: + relu, + residual + relu, at every kernel width', () => {
      for (const [rows, c] of [[300, 6], [2000, 64], [9, 2052], [3, 8192]] as const) {
        parity(`batchNorm + add + relu [${rows}, ${c}]`, () => {
          const x = rnd([rows, c], 60 + c, -2, 3), g = rnd([c], 61, 0.5, 1.5), b = rnd([c], 62), z = rnd([rows, c], 63);
          const m = rnd([c], 64), v = rnd([c], 65, 0.2, 2);
          return [
            ...fused.batchNormTrain(x, g, b, { epsilon: 1e-3, relu: true }),
            ...fused.batchNormTrain(x, g, b, { epsilon: 1e-3, relu: true, residual: z }),
            fused.batchNormInfer(x, g, b, m, v, { epsilon: 1e-3, relu: true, residual: z }),
            fused.batchNormInfer(x, g, b, m, v, { epsilon: 1e-3, residual: z }),
          ];
        }, bnTol);
      }
    });
    it('inference (given statistics): forward and gradients', () => {
      parity(
        'batchNorm inference',
        withGrads(
          (x, m, v, o, s) => cn.batchNorm(x, m, v, o, s, 1e-3),
          () => [rnd([3, 5, 5, 8], 39), rnd([8], 40), rnd([8], 41, 0.2, 2), rnd([8], 42), rnd([8], 43, 0.5, 1.5)],
        ),
        bnTol,
      );
    });
  });

  describe('matmul', () => {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const)
      it(`[37,53]x[53,29] transposeA=${ta} transposeB=${tb}: forward and gradients`, () => {
        const aShape = ta ? [53, 37] : [37, 53], bShape = tb ? [29, 53] : [53, 29];
        parity(`matMul ${ta} ${tb}`, withGrads((a, b) => cn.matMul(a, b, ta, tb), () => [rnd(aShape, 50), rnd(bShape, 51)]));
      });
    it('batched [3,17,19]x[3,19,11] and a large [256,512]x[512,384]', () => {
      parity('batched matMul', withGrads((a, b) => cn.matMul(a, b), () => [rnd([3, 17, 19], 52), rnd([3, 19, 11], 53)]));
      parity('large matMul', () => cn.matMul(rnd([256, 512], 54), rnd([512, 384], 55)), { rtol: 1e-3, atol: 1e-4 });
    });
    it('fused.matMul bias + relu: forward and gradients', () => {
      parity(
        'fused.matMul',
        withGrads((a, b, c) => cn.fused.matMul({ a, b, bias: c, activation: 'relu' }), () => [rnd([16, 32], 56), rnd([32, 24], 57), rnd([24], 58)]),
      );
    });
  });

  describe('elementwise and broadcasting', () => {
    const pairs: Array<[number[], number[]]> = [
      [[4, 5, 6], [4, 5, 6]],
      [[4, 1, 6], [5, 1]],
      [[6], [3, 4, 6]],
      [[], [3, 4]],
      [[2, 3, 1, 5], [1, 3, 4, 1]],
    ];
    const binary: Array<[string, (a: cn.Tensor, b: cn.Tensor) => cn.Tensor, [number, number]?]> = [
      ['add', cn.add],
      ['sub', cn.sub],
      ['mul', cn.mul],
      ['div', cn.div, [0.5, 2]],
      ['maximum', cn.maximum],
      ['minimum', cn.minimum],
      ['pow', cn.pow, [0.5, 2]],
      ['squaredDifference', cn.squaredDifference],
    ];
    for (const [sa, sb] of pairs)
      it(`binary ops on [${sa}] and [${sb}]: forward and gradients`, () => {
        for (const [name, op, range] of binary) {
          const [lo, hi] = range ?? [-1, 1];
          parity(`${name} [${sa}] [${sb}]`, withGrads((a, b) => op(a, b), () => [rnd(sa, 60, lo, hi), rnd(sb, 61, lo, hi)]), { rtol: 1e-4, atol: 1e-5 });
        }
      });
    it('comparisons, where, floorDiv and mod', () => {
      parity('comparisons', () => {
        const a = cn.round(rnd([4, 5], 62, -3, 3)), b = cn.round(rnd([5], 63, -3, 3));
        return [cn.equal(a, b), cn.notEqual(a, b), cn.greater(a, b), cn.greaterEqual(a, b), cn.less(a, b), cn.lessEqual(a, b)];
      });
      parity('where', () => cn.where(cn.greater(rnd([4, 5], 64), 0), rnd([4, 5], 65), rnd([5], 66)));
      parity('floorDiv / mod', () => [cn.floorDiv(rnd([4, 5], 67, 1, 20), rnd([5], 68, 1, 4)), cn.mod(rnd([4, 5], 69, 1, 20), rnd([5], 70, 1, 4))]);
    });
    it('int32 arithmetic and casts', () => {
      parity('int32', () => {
        const a = cn.cast(rnd([3, 4], 71, -50, 50), 'int32'), b = cn.cast(rnd([4], 72, 1, 9), 'int32');
        return [a, cn.add(a, b), cn.mul(a, b), cn.sub(a, b), cn.cast(cn.greater(a, b), 'float32'), cn.oneHot(cn.cast(rnd([6], 73, 0, 5), 'int32'), 5)];
      });
    });
    const unary: Array<[string, (x: cn.Tensor) => cn.Tensor, [number, number]?]> = [
      ['relu', cn.relu], ['relu6', (x) => cn.relu6(cn.mul(x, 8))], ['elu', cn.elu], ['selu', cn.selu], ['sigmoid', cn.sigmoid],
      ['tanh', cn.tanh], ['softplus', cn.softplus], ['exp', cn.exp], ['log', cn.log, [0.1, 3]], ['log1p', cn.log1p, [0, 3]],
      ['sqrt', cn.sqrt, [0.1, 3]], ['rsqrt', cn.rsqrt, [0.1, 3]], ['square', cn.square], ['abs', cn.abs], ['neg', cn.neg],
      ['reciprocal', cn.reciprocal, [0.5, 2]], ['sin', cn.sin], ['cos', cn.cos], ['leakyRelu', (x) => cn.leakyRelu(x, 0.1)],
      ['clipByValue', (x) => cn.clipByValue(x, -0.3, 0.4)],
    ];
    it('unary ops: forward and gradients', () => {
      for (const [name, op, range] of unary) {
        const [lo, hi] = range ?? [-2, 2];
        parity(name, withGrads((x) => op(x), () => [rnd([3, 7, 11], 80, lo, hi)]), { rtol: 1e-4, atol: 1e-5 });
      }
      parity('sign / floor / ceil / round', () => {
        const x = rnd([50], 81, -3, 3);
        return [cn.sign(x), cn.floor(x), cn.ceil(x), cn.round(x)];
      });
      parity('prelu', withGrads((x, a) => cn.prelu(x, a), () => [rnd([2, 4, 4, 3], 82), rnd([3], 83, 0, 0.5)]));
    });
    // Note [float4 elementwise]: four floats per thread plus a scalar tail; sizes below 4,
    // at 4, and with tails of 1 to 3; a scalar operand on either side.
    it('float4 paths and their tails: unary, unary gradients, binary, scalar operands, bias + relu', () => {
      for (const n of [1, 3, 4, 5, 6, 7, 1027]) {
        parity(`relu / tanh / sigmoid grads, n = ${n}`, withGrads((x) => cn.add(cn.relu(x), cn.mul(cn.tanh(x), cn.sigmoid(x))), () => [rnd([n], 84 + n, -2, 2)]));
        parity(`binary n = ${n}`, withGrads((a, b) => cn.add(cn.mul(a, b), cn.sub(cn.div(a, 3), cn.mul(2, b))), () => [rnd([n], 85, -1, 1), rnd([n], 86, -1, 1)]));
      }
      for (const [rows, cols] of [[5, 8], [3, 6], [7, 4], [2, 3]])
        parity(`bias + relu [${rows}, ${cols}]`, withGrads((x, w, b) => cn.fused.matMul({ a: x, b: w, bias: b, activation: 'relu' }), () => [rnd([rows, 5], 87), rnd([5, cols], 88), rnd([cols], 89)]));
    });
  });

  describe('reductions', () => {
    const axes: Array<number | number[] | null> = [null, 0, 1, -1, [0, 2], [1, 2]];
    for (const [name, op] of [['sum', cn.sum], ['mean', cn.mean], ['max', cn.max], ['min', cn.min], ['prod', cn.prod]] as const)
      it(`${name} over several axes, keepDims: forward and gradients`, () => {
        for (const axis of axes)
          for (const keep of [false, true]) {
            const range: [number, number] = name === 'prod' ? [0.8, 1.2] : [-1, 1];
            parity(`${name} axis ${JSON.stringify(axis)} keepDims ${keep}`, withGrads((x) => op(x, axis, keep), () => [rnd([4, 6, 10], 90, ...range)]), { rtol: 1e-4, atol: 1e-5 });
          }
      });
    it('argMax and large reductions (2^20 elements, bias-gradient shape)', () => {
      parity('argMax', () => [cn.argMax(rnd([7, 9, 11], 91), 0), cn.argMax(rnd([7, 9, 11], 92), 2)]);
      parity('sum of 2^20', () => [cn.sum(rnd([1 << 20], 93, 0, 1)), cn.mean(rnd([1024, 1024], 94), 1)], { rtol: 1e-4, atol: 1e-3 });
      parity('column sums [100000, 16]', () => cn.sum(rnd([100000, 16], 95), 0), { rtol: 1e-4, atol: 1e-3 });
    });
  });

  describe('softmax and cross-entropy', () => {
    it('softmax / logSoftmax on [8, 10] and [2, 3, 1000]: forward and gradients', () => {
      for (const shape of [[8, 10], [2, 3, 1000]]) {
        parity(`softmax [${shape}]`, withGrads((x) => cn.softmax(x), () => [rnd(shape, 100, -5, 5)]));
        parity(`logSoftmax [${shape}]`, withGrads((x) => cn.logSoftmax(x), () => [rnd(shape, 101, -5, 5)]));
      }
    });
    it('sparse and dense softmax cross-entropy: loss and logits gradient', () => {
      parity('sparseSoftmaxCrossEntropy', () => {
        const y = labels(64, 10, 102);
        const logits = rnd([64, 10], 103, -4, 4);
        const f = (z: cn.Tensor) => cn.mean(cn.sparseSoftmaxCrossEntropy(y, z));
        const { value, grad } = cn.valueAndGrad(f)(logits);
        return [cn.sparseSoftmaxCrossEntropy(y, logits), value, grad];
      });
      parity('softmaxCrossEntropy', () => {
        const y = cn.oneHot(labels(32, 7, 104), 7);
        const logits = rnd([32, 7], 105, -4, 4);
        const { value, grad } = cn.valueAndGrad((z: cn.Tensor) => cn.sum(cn.softmaxCrossEntropy(y, z)))(logits);
        return [value, grad];
      });
    });
  });

  describe('resize and data movement', () => {
    const modes: Array<[boolean, boolean]> = [[false, false], [true, false], [false, true]];
    for (const [ac, hp] of modes)
      it(`resizeBilinear alignCorners=${ac} halfPixelCenters=${hp}: up, down, gradients`, () => {
        parity(`resize up`, withGrads((x) => cn.image.resizeBilinear(x, [10, 14], ac, hp), () => [rnd([2, 5, 7, 3], 110)]));
        parity(`resize down`, withGrads((x) => cn.image.resizeBilinear(x, [3, 4], ac, hp), () => [rnd([2, 9, 8, 3], 111)]));
      });
    it('localResponseNormalization (AlexNet settings and a wide window), with gradients', () => {
      parity('lrn alexnet', withGrads((x) => cn.localResponseNormalization(x, 2, 2, 1e-4, 0.75), () => [rnd([2, 6, 5, 16], 117)]), { rtol: 1e-5, atol: 1e-6 });
      parity('lrn wide', withGrads((x) => cn.localResponseNormalization(x, 5, 1, 0.5, 0.5), () => [rnd([2, 3, 4, 20], 118)]), { rtol: 1e-5, atol: 1e-6 });
      parity('lrn radius 0', withGrads((x) => cn.localResponseNormalization(x, 0, 1, 1, 0.5), () => [rnd([1, 3, 3, 4], 119)]), { rtol: 1e-5, atol: 1e-6 });
    });
    it('image.transform (ImageProjectiveTransformV3), every fill mode and interpolation', () => {
      const rows = [
        [0.93, -0.37, 1.3, 0.37, 0.93, -0.7, 0, 0],
        [1.1, 0.21, -0.9, -0.13, 0.87, 1.7, 0.013, -0.021],
      ];
      for (const fillMode of ['constant', 'reflect', 'wrap', 'nearest'] as const)
        for (const interpolation of ['nearest', 'bilinear'] as const)
          parity(`transform ${fillMode} ${interpolation}`, () => [cn.image.transform(rnd([2, 7, 9, 3], 116), rows, interpolation, fillMode, 0.25, [8, 6])], { rtol: 1e-5, atol: 1e-5 });
    });
    it('transpose, concat, slice, pad, tile, broadcastTo, stack', () => {
      parity('movement', () => {
        const x = rnd([2, 3, 4, 5], 112);
        return [
          cn.transpose(x, [0, 3, 1, 2]),
          cn.transpose(x),
          cn.concat([x, rnd([2, 3, 4, 2], 113)], 3),
          cn.concat([x, rnd([2, 1, 4, 5], 114)], 1),
          cn.slice(x, [0, 1, 1, 2], [2, 2, 3, 2]),
          cn.pad(x, [[0, 0], [1, 2], [0, 1], [0, 0]], 0.5),
          cn.tile(rnd([2, 3], 115), [2, 3]),
          cn.broadcastTo(rnd([1, 5], 116), [4, 5]),
          cn.stack([rnd([3, 4], 117), rnd([3, 4], 118)], 1),
        ];
      });
      parity('movement gradients', withGrads((a, b) => cn.slice(cn.concat([cn.transpose(a, [0, 2, 1]), b], 2), [0, 1, 1], [2, 3, 4]), () => [rnd([2, 5, 4], 119), rnd([2, 4, 3], 120)]));
    });
  });

  describe('optimizer updates', () => {
    const opts: Array<[string, () => cn.train.Optimizer]> = [
      ['sgd', () => cn.train.sgd(0.1)],
      ['momentum (nesterov)', () => cn.train.momentum(0.05, 0.9, true)],
      ['adam', () => cn.train.adam(0.01)],
      ['nadam', () => cn.train.nadam(0.01)],
      ['rmsprop (centered, momentum)', () => cn.train.rmsprop(0.01, 0.9, 0.5, 1e-7, true)],
    ];
    for (const [name, make] of opts)
      it(`${name}: weights and slots after 5 steps`, () => {
        parity(`${name}`, () => {
          const opt = make();
          const w = cn.variable(rnd([64, 33], 130), true, 'gpu_test_w');
          const b = cn.variable(rnd([33], 131), true, 'gpu_test_b');
          for (let t = 1; t <= 5; t++) {
            const gw = rnd([64, 33], 140 + t, -2, 2), gb = rnd([33], 150 + t, -2, 2);
            opt.applyGradients([{ variable: w, grad: gw }, { variable: b, grad: gb }]);
          }
          const out = [cn.clone(w), cn.clone(b), ...opt.getSlots(w)!.map((s) => cn.clone(s))];
          opt.dispose();
          w.dispose();
          b.dispose();
          return out;
        }, { rtol: 1e-5, atol: 1e-6 });
      });
  });
});

describeCuda(title('random ops on the device'), () => {
  it('randomUniform / randomNormal / dropout statistics', () => {
    const prev = cn.getBackend();
    cn.setBackend('cuda');
    try {
      cn.tidy(() => {
        const u = cn.randomUniform([1 << 16], -1, 3, 'float32', 7).dataSync();
        expect(u.reduce((m, v) => Math.min(m, v), Infinity)).toBeGreaterThanOrEqual(-1);
        expect(u.reduce((m, v) => Math.max(m, v), -Infinity)).toBeLessThan(3);
        const meanU = u.reduce((a, b) => a + b, 0) / u.length;
        expect(Math.abs(meanU - 1)).toBeLessThan(0.05);
        const n = cn.randomNormal([1 << 16], 2, 0.5, 'float32', 8).dataSync();
        const meanN = n.reduce((a, b) => a + b, 0) / n.length;
        const sdN = Math.sqrt(n.reduce((a, b) => a + (b - meanN) ** 2, 0) / n.length);
        expect(Math.abs(meanN - 2)).toBeLessThan(0.02);
        expect(Math.abs(sdN - 0.5)).toBeLessThan(0.02);
        const d = cn.dropout(cn.ones([1 << 16]), 0.25, undefined, 9).dataSync();
        let kept = 0;
        for (const v of d) {
          if (v !== 0) {
            expect(v).toBeCloseTo(1 / 0.75, 5);
            kept++;
          }
        }
        expect(Math.abs(kept / d.length - 0.75)).toBeLessThan(0.02);
      });
    } finally {
      cn.setBackend(prev);
    }
  });
});

// ------------------------------------------------------------------ asynchronous execution
describeCuda(title('asynchronous execution'), () => {
  let prev = 'cpu';
  beforeAll(() => {
    prev = cn.getBackend();
    strictFp32();
  });
  afterAll(() => {
    cn.setBackend(prev);
    defaults();
  });

  /** 300 queued ops (conv, matmul, elementwise) with no read in between. */
  const chain = () => {
    let x = rnd([8, 16, 16, 8], 200);
    const f = rnd([3, 3, 8, 8], 201, -0.2, 0.2);
    for (let i = 0; i < 100; i++) {
      const y = cn.add(cn.mul(cn.conv2d(x, f, 1, 'same'), 0.5), cn.mul(x, 0.5));
      const z = cn.tanh(y);
      x.dispose();
      y.dispose();
      x = z;
    }
    const m = cn.matMul(cn.reshape(x, [8 * 16 * 16, 8]), cn.slice(cn.reshape(f, [72, 8]), [0, 0], [8, 8]));
    return [x, m];
  };

  it('await data() after hundreds of queued ops equals the cpu result', async () => {
    const cpu = runOn('cpu', chain);
    cn.setBackend('cuda');
    const outs = cn.tidy(() => chain());
    const vals = await Promise.all(outs.map((t) => t.data()));
    vals.forEach((v, i) => expectClose(v, cpu[i].values, { rtol: 1e-3, atol: 1e-4, what: `queued chain output ${i}` }));
    cn.dispose(outs);
  });

  it('many concurrent data() reads resolve with the right values, also when disposed at once', async () => {
    cn.setBackend('cuda');
    const n = 32;
    const host = Array.from({ length: n }, (_, i) => seededRandom(1000 + i * 517, 300 + i));
    const ts = host.map((h) => cn.mul(cn.tensor(h), 3));
    const reads = ts.map((t) => t.data());
    ts.forEach((t, i) => {
      if (i % 2) t.dispose(); // the pending read keeps its buffer alive
    });
    const vals = await Promise.all(reads);
    vals.forEach((v, i) => expectClose(v, host[i].map((x) => x * 3), { what: `read ${i}` }));
    cn.dispose(ts);
  });

  it('a compiled train step: run() equals runSync(), eager cuda and eager cpu; eager work interleaves', async () => {
    const build = () => {
      const w1 = rnd([3, 3, 1, 8], 400, -0.5, 0.5), b1 = rnd([8], 401, -0.1, 0.1);
      const gamma = cn.ones([8]), beta = cn.zeros([8]), w2 = rnd([8, 10], 402, -0.5, 0.5);
      const step = (xx: cn.Tensor, yy: cn.Tensor) => {
        const loss = (a: cn.Tensor, b: cn.Tensor, c: cn.Tensor) => {
          let h = cn.fused.conv2d({ x: xx, filter: a, bias: b, strides: 1, pad: 'same', activation: 'relu' });
          h = cn.batchNormTraining(h, gamma, beta).y;
          h = cn.maxPool(h, 2, 2, 'valid');
          return cn.mean(cn.sparseSoftmaxCrossEntropy(yy, cn.matMul(cn.globalAvgPool(h), c)));
        };
        const { value, grads } = cn.valueAndGrads(loss)([w1, b1, w2]);
        return [value, ...grads];
      };
      return { step, params: [w1, b1, gamma, beta, w2] };
    };
    const inputs = () => [rnd([16, 12, 12, 1], 403), labels(16, 10, 404)];
    const cpu = runOn('cpu', () => {
      const { step } = build();
      const [x, y] = inputs();
      return step(x, y);
    });
    cn.setBackend('cuda');
    const { step, params } = build();
    const [x, y] = inputs();
    const f = cn.compile(step, [{ shape: [16, 12, 12, 1] }, { shape: [16], dtype: 'int32' }]);
    try {
      const eager = cn.tidy(() => step(x, y));
      const sync = f.runSync([x, y]);
      // Eager work on the main thread while the plan runs on a worker (one run of a plan at
      // a time: a second run() before the first settles is rejected by design).
      const pending = f.run([x, y]);
      const side = cn.tidy(() => cn.sum(cn.matMul(rnd([64, 64], 405), rnd([64, 64], 406))));
      const sideCpu = runOn('cpu', () => cn.sum(cn.matMul(rnd([64, 64], 405), rnd([64, 64], 406))));
      cn.setBackend('cuda');
      const asyncs = [await pending];
      for (let k = 0; k < 3; k++) asyncs.push(await f.run([x, y]));
      expectClose(await side.data(), sideCpu[0].values, { rtol: 1e-4, atol: 1e-3, what: 'eager work interleaved with run()' });
      const eagerVals = eager.map((t) => t.dataSync());
      const syncVals = sync.map((t) => t.dataSync());
      syncVals.forEach((v, i) => expectClose(v, eagerVals[i], { rtol: 1e-5, atol: 1e-6, what: `runSync output ${i} vs eager cuda` }));
      for (const [k, outs] of asyncs.entries())
        outs.forEach((t, i) => expectClose(t.dataSync(), syncVals[i], { rtol: 1e-5, atol: 1e-6, what: `run() #${k} output ${i} vs runSync` }));
      eagerVals.forEach((v, i) => expectClose(v, cpu[i].values, { rtol: 1e-3, atol: 1e-4, what: `cuda output ${i} vs cpu` }));
      cn.dispose([eager, sync, asyncs, side]);
    } finally {
      f.dispose();
      cn.dispose([params, x, y]);
    }
  });
});

// ------------------------------------------------------------------ memory
describeCuda(title('device memory'), () => {
  let prev = 'cpu';
  beforeAll(() => {
    prev = cn.getBackend();
    cn.setBackend('cuda');
  });
  afterAll(() => cn.setBackend(prev));

  it('memory() on cuda: numBytes grows by the tensor size and returns after dispose', () => {
    cn.setBackend('cuda');
    const before = cn.memory();
    expect(before.backend).toBe('cuda');
    const t = cn.zeros([1000, 1000]);
    const during = cn.memory();
    expect(during.numBytes - before.numBytes).toBe(4e6);
    expect(during.numTensors - before.numTensors).toBe(1);
    expect(during.numDataBuffers - before.numDataBuffers).toBe(1);
    expect(during.peakBytes).toBeGreaterThanOrEqual(during.numBytes);
    const i = cn.zeros([10, 10], 'int32');
    expect(cn.memory().numBytes - during.numBytes).toBe(400);
    t.dispose();
    i.dispose();
    const after = cn.memory();
    expect(after.numBytes).toBe(before.numBytes);
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    // The cpu backend's accounting is separate.
    expect(native.memory('cpu').numBytes).toBeGreaterThanOrEqual(0);
  });

  it('conv, batch norm, pooling and matmul forward/backward in tidy() leave nothing behind', () => {
    cn.setBackend('cuda');
    const before = cn.memory();
    cn.tidy(() => {
      const x = rnd([8, 16, 16, 4], 500);
      const f = rnd([3, 3, 4, 8], 501);
      const w = rnd([8, 5], 502);
      const loss = (a: cn.Tensor, b: cn.Tensor) => {
        let h = cn.conv2d(x, a, 2, 'same');
        h = cn.batchNormTraining(h, cn.ones([8]), cn.zeros([8])).y;
        h = cn.maxPool(h, 2, 2, 'valid');
        return cn.mean(cn.matMul(cn.globalAvgPool(h), b));
      };
      const g = cn.grads(loss)([f, w]);
      g.forEach((t) => t.dataSync());
    });
    const after = cn.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
  });

  it('out of memory is a clear error with code ERR_OUT_OF_MEMORY, and the backend keeps working', () => {
    cn.setBackend('cuda');
    const before = cn.memory();
    let err: unknown;
    try {
      cn.zeros([1e6, 1e6]); // 4 TB
    } catch (e) {
      err = e;
    }
    expect(err, 'zeros([1e6, 1e6]) throws').toBeInstanceOf(cn.CudnnNodeError);
    expect((err as cn.CudnnNodeError).code).toBe('ERR_OUT_OF_MEMORY');
    expect((err as Error).message).toMatch(/out of (device )?memory/i);
    expect((err as Error).message).toMatch(/4000000000000 bytes|3\.6\d* TiB|3725|GiB/);
    const after = cn.memory();
    expect(after.numBytes).toBe(before.numBytes);
    expect(after.numTensors).toBe(before.numTensors);
    const ok = cn.tidy(() => cn.sum(cn.add(cn.ones([1000]), 1)).dataSync()[0]);
    expect(ok).toBe(2000);
  });
});

// ------------------------------------------------------------------ TF32 vs strict fp32
describeCuda(title('TF32 and strict fp32'), () => {
  afterAll(defaults);

  /** Max relative error of f on cuda under the given setting, against f on cpu. */
  const errorWith = (allowTF32: boolean, f: Fn, autotune = false) => {
    cn.setCudaOptions({ allowTF32, autotune });
    const gpu = runOn('cuda', f);
    const cpu = runOn('cpu', f);
    return gpu.map((g, i) => relError(g.values, cpu[i].values));
  };

  it('matmul 1024^3: strict fp32 is exact to ~1e-6, TF32 (the default) is looser but within 1e-2', () => {
    const f = () => cn.matMul(rnd([1024, 1024], 600), rnd([1024, 1024], 601));
    const [strict] = errorWith(false, f);
    const [tf32] = errorWith(true, f);
    console.info(`gpu.test.ts: matmul 1024^3 max relative error: strict fp32 ${strict.toExponential(2)}, TF32 ${tf32.toExponential(2)}`);
    expect(strict).toBeLessThan(1e-5);
    expect(tf32).toBeLessThan(1e-2);
    // TF32 keeps 10 mantissa bits: if the two agree this closely, TF32 tensor cores were not used.
    expect(tf32, 'TF32 allowed but the result is as exact as strict fp32 (TF32 not used?)').toBeGreaterThan(strict * 4);
  });

  it('conv2d 3x3 256->256 forward and backward: strict fp32 close to cpu, TF32 within 1e-2', () => {
    const f = withGrads((x, w) => cn.conv2d(x, w, 1, 'same'), () => [rnd([4, 14, 14, 256], 610), rnd([3, 3, 256, 256], 611, -0.1, 0.1)]);
    const strict = errorWith(false, f);
    const tf32 = errorWith(true, f);
    const tuned = errorWith(false, f, true);
    console.info(`gpu.test.ts: conv 3x3 256->256 max relative error [y, dx, dw]: strict ${strict.map((e) => e.toExponential(2))}, TF32 ${tf32.map((e) => e.toExponential(2))}, strict+autotune ${tuned.map((e) => e.toExponential(2))}`);
    for (const e of strict) expect(e).toBeLessThan(1e-4);
    for (const e of tuned) expect(e).toBeLessThan(1e-4);
    for (const e of tf32) expect(e).toBeLessThan(1e-2);
  });

  it('the switch is read per call: turning TF32 off again restores strict results', () => {
    const f = () => cn.matMul(rnd([512, 768], 620), rnd([768, 256], 621));
    const [a] = errorWith(false, f);
    errorWith(true, f);
    const [b] = errorWith(false, f);
    expect(a).toBeLessThan(1e-5);
    expect(b).toBeLessThan(1e-5);
  });
});

// ------------------------------------------------------------------ graph API convolutions
// convApi: 'graph' (native/cuda/conv_graph.cc): the same cases on the graph API's engines,
// chosen by heuristics and by autotuning, in strict fp32 against cpu; with TF32 within 1e-2.
// Last in the file: this path is the newest, and whatever it does the blocks above have run.
describeCuda(title('conv2d on the graph API (convApi: graph)'), () => {
  afterAll(defaults);
  for (const autotune of [false, true])
    describe(autotune ? 'autotuned' : 'heuristics', () => {
      beforeAll(() => cn.setCudaOptions({ allowTF32: false, autotune, convApi: 'graph' }));
      for (const c of CONV_CASES)
        it(`${c.name}: forward, backward data and backward filter`, () => {
          parity(`graph API conv2d ${c.name}`, convCase(c), convTol);
        });
    });

  it('TF32 on the graph API: within 1e-2 of cpu, and a ResNet-style block trains as on the legacy API', () => {
    cn.setCudaOptions({ allowTF32: true, autotune: false, convApi: 'graph' });
    const f = withGrads((x, w) => cn.conv2d(x, w, 1, 'same'), () => [rnd([4, 14, 14, 256], 630), rnd([3, 3, 256, 256], 631, -0.1, 0.1)]);
    const gpu = runOn('cuda', f), cpu = runOn('cpu', f);
    const errs = gpu.map((g, i) => relError(g.values, cpu[i].values));
    console.info(`gpu.test.ts: graph API conv 3x3 256->256 TF32 max relative error [y, dx, dw]: ${errs.map((e) => e.toExponential(2))}`);
    for (const e of errs) expect(e).toBeLessThan(1e-2);
    // A strided block with a 1x1 shortcut, both APIs in strict fp32: the same values.
    const block = withGrads(
      (x, w1, w2, ws) => cn.add(cn.conv2d(cn.relu(cn.conv2d(x, w1, 2, 'same')), w2, 1, 'same'), cn.conv2d(x, ws, 2, 'valid')),
      () => [rnd([4, 16, 16, 32], 640), rnd([3, 3, 32, 64], 641, -0.2, 0.2), rnd([3, 3, 64, 64], 642, -0.2, 0.2), rnd([1, 1, 32, 64], 643, -0.3, 0.3)],
    );
    cn.setCudaOptions({ allowTF32: false, convApi: 'graph' });
    const viaGraph = runOn('cuda', block);
    cn.setCudaOptions({ allowTF32: false, convApi: 'legacy' });
    const viaLegacy = runOn('cuda', block);
    viaGraph.forEach((g, i) => expectClose(g.values, viaLegacy[i].values, { ...convTol, what: `block output ${i}: graph vs legacy API` }));
  });

  // Note [graph API fallback] (native/cuda/conv.cc): a direction no engine builds runs on the
  // legacy API, so the parity above would pass even if the graph API never ran. The
  // profiler's notes say which ran: for these everyday shapes, all three directions must
  // be on graph engines, in strict fp32 and with TF32.
  it('everyday shapes run on graph engines, not the legacy fallback', async () => {
    const prev = cn.getBackend();
    cn.setBackend('cuda');
    try {
      for (const allowTF32 of [false, true]) {
        cn.setCudaOptions({ allowTF32, autotune: false, convApi: 'graph' });
        const x = rnd([4, 14, 14, 64], 650), w = rnd([3, 3, 64, 64], 651, -0.1, 0.1), ws = rnd([1, 1, 64, 128], 652, -0.1, 0.1);
        const info = await cn.profile(() => {
          const f = (a: cn.Tensor, b: cn.Tensor, c: cn.Tensor) => cn.add(cn.sum(cn.conv2d(a, b, 1, 'same')), cn.sum(cn.conv2d(a, c, 2, 'valid')));
          cn.dispose(cn.grads(f)([x, w, ws]));
        });
        const convs = info.kernels.filter((k) => k.name.startsWith('Conv2D'));
        expect(new Set(convs.map((k) => k.name)), `allowTF32 ${allowTF32}: every direction ran`).toEqual(new Set(['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']));
        for (const k of convs) expect(k.extraInfo, `${k.name} ${k.inputShapes.map((d) => d.join('x')).join(' ')} (allowTF32 ${allowTF32})`).toMatch(/^cuDNN graph engine \d+/);
        cn.dispose([x, w, ws]);
      }
    } finally {
      cn.setBackend(prev);
    }
  });
});
