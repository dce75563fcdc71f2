// bfloat16 and float16 on the cuda backend (native/cuda/half_backend.h): every op family with
// a typed kernel, run on cuda in bf16 / fp16 and compared with the cpu backend's float32
// kernels on the very same rounded inputs (the inputs are made in the reduced dtype, then
// widened exactly for the cpu). The result may differ by the rounding of each reduced-
// precision output (one bf16 / fp16 ulp relative: 2^-8 / 2^-11) plus float32 summation
// order; composite gradients that pass a reduced intermediate through a second kernel get
// two roundings. Casts are bit-exact. Each case also checks the output dtypes the kernels
// promise: y and dx in the reduced dtype, the filter and bias gradients and batch-norm
// statistics in float32.
//
// Without a usable device every block is skipped with "skipped: no CUDA device" in its title
// (the host-side checks of the same kernels are test/cuda-host-kernels.test.ts and
// test/cuda-graph-describe.test.ts). On a GPU: `npm run gpu:check` runs this file in its GPU
// tests phase.
import { describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { seededRandom } from './helpers.js';
import { runOn } from './parity-driver.js';

const SKIP = 'skipped: no CUDA device';
const hasCuda = !!cn.backends().find((b) => b.name === 'cuda')?.available;
const describeCuda = describe.skipIf(!hasCuda);
type Reduced = 'bfloat16' | 'float16';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * A program over inputs made by `mk` (values rounded to the reduced dtype; on the cpu then
 * widened to float32, exactly) and `f32` (float32 operands, the same on both sides).
 */
type Maker = { mk: (shape: number[], seed: number, lo?: number, hi?: number) => cn.Tensor; dt: Reduced; onCuda: boolean };
type Case = (m: Maker) => cn.Tensor[];

function maker(dt: Reduced, onCuda: boolean): Maker {
  return {
    dt,
    onCuda,
    mk: (shape, seed, lo = -1, hi = 1) => {
      const t = cn.tensor(seededRandom(size(shape), seed, lo, hi), shape, dt);
      return onCuda ? t : cn.cast(t, 'float32');
    },
  };
}

/** [y, ...gradients of sum(y * dy)] with dy made like the inputs. */
function withGrads(m: Maker, f: (...xs: cn.Tensor[]) => cn.Tensor, xs: cn.Tensor[]): cn.Tensor[] {
  const y = f(...xs);
  const dy = m.mk(y.shape.slice(), 99);
  return [y, ...cn.grads(f)(xs, dy)];
}

/**
 * The case on cuda in dt against cpu in float32 on the same rounded inputs: output count,
 * shapes, the dtypes `dtypes` (on cuda), and values within `roundings` reduced-precision
 * roundings of each value (relative) plus, times the output's largest magnitude, atol and
 * `spread` roundings (for gradients that reuse a rounded forward result: tanh's 1 - y^2,
 * softmax's y (dy - sum), where y's rounding is relative to y, not to the difference).
 */
function check(dt: Reduced, c: Case, dtypes: string[], opts: { roundings?: number; atol?: number; spread?: number } = {}): void {
  const eps = dt === 'bfloat16' ? 2 ** -8 : 2 ** -11;
  const { roundings = 1, atol = 1e-6, spread = 0 } = opts;
  const got = runOn('cuda', () => c(maker(dt, true)), `${dt} on cuda`);
  const want = runOn('cpu', () => c(maker(dt, false)), 'float32 on cpu');
  expect(got.length, 'outputs').toBe(want.length);
  got.forEach((g, i) => {
    expect(g.shape, `output ${i} shape`).toEqual(want[i].shape);
    expect(g.dtype, `output ${i} dtype`).toBe(dtypes[i]);
    let max = 0;
    for (const v of want[i].values) max = Math.max(max, Math.abs(v));
    let bad = 0, first = '';
    for (let j = 0; j < want[i].values.length; j++) {
      const a = g.values[j], b = want[i].values[j];
      const tol = roundings * eps * Math.abs(b) + (atol + spread * eps) * max + 1e-30;
      if (!(Math.abs(a - b) <= tol) && !(Number.isNaN(a) && Number.isNaN(b))) {
        if (!bad) first = `[${j}] ${a} vs ${b} (tol ${tol})`;
        bad++;
      }
    }
    expect(bad, `output ${i}: ${bad} of ${want[i].values.length} values off, first ${first}`).toBe(0);
  });
}

const CONV = [
  { name: '3x3 stride 1 same', x: [2, 9, 9, 8], f: [3, 3, 8, 16], s: 1, pad: 'same' as cn.PadSpec },
  { name: '3x3 stride 2 same on an even input (pads 0/1: explicit padding on the legacy API)', x: [2, 14, 14, 16], f: [3, 3, 16, 32], s: 2, pad: 'same' as cn.PadSpec },
  { name: '3x3 stride 2 same, odd channels (unaligned 16-bit rows)', x: [2, 9, 9, 3], f: [3, 3, 3, 5], s: 2, pad: 'same' as cn.PadSpec },
  { name: '7x7 from one channel (Fashion-MNIST conv1)', x: [4, 28, 28, 1], f: [7, 7, 1, 16], s: 1, pad: 'same' as cn.PadSpec },
  { name: '1x1 stride 2 (ResNet shortcut)', x: [2, 8, 8, 16], f: [1, 1, 16, 32], s: 2, pad: 'valid' as cn.PadSpec },
  { name: '3x3 dilation 2', x: [2, 12, 12, 8], f: [3, 3, 8, 8], s: 1, pad: 'same' as cn.PadSpec, d: 2 },
];

for (const dt of ['bfloat16', 'float16'] as const) {
  describeCuda(`${dt} on cuda against float32 on cpu [cuda]${hasCuda ? '' : ` (${SKIP})`}`, () => {
    it('casts to and from float32 bit for bit as the cpu rounds (nearest even, NaN, infinities, subnormals)', () => {
      const specials = [0, -0, 1, 1.00390625, 1.001953125, 3.14159265, 65504, 65519, 65520, 1e-8, 6e-8, -2.5e-8, 3.4e38, Infinity, -Infinity, NaN];
      const vals = Float32Array.from([...specials, ...seededRandom(4093, 5, -1000, 1000)]);
      const round = (backend: string) =>
        runOn(backend, () => {
          const r = cn.cast(cn.tensor(vals), dt);
          return [r, cn.cast(r, 'float32'), cn.cast(cn.cast(r, dt === 'bfloat16' ? 'float16' : 'bfloat16'), 'float32')];
        });
      const [g, w] = [round('cuda'), round('cpu')];
      for (let i = 0; i < 3; i++) {
        const a = g[i].values, b = w[i].values;
        let same = a.length === b.length;
        for (let j = 0; same && j < a.length; j++) same = Object.is(a[j], b[j]);
        expect(same, `cast ${i}`).toBe(true);
      }
      expect(g[0].dtype).toBe(dt);
    });

    for (const api of ['legacy', 'graph'] as const) {
      for (const c of CONV) {
        it(`conv2d ${c.name}, forward, backward-data and the float32 filter gradient (${api} API)`, () => {
          cn.setCudaOptions({ convApi: api });
          try {
            check(dt, (m) => withGrads(m, (x, f) => cn.conv2d(x, f, c.s, c.pad, 'NHWC', c.d ?? 1), [m.mk(c.x, 1), m.mk(c.f, 2, -0.5, 0.5)]),
              [dt, dt, 'float32'], { roundings: 1, atol: 2e-3 });
          } finally {
            cn.setCudaOptions({ convApi: 'legacy' });
          }
        });
      }
    }

    it('conv2d + float32 bias + relu in one kernel call, and the bias gradient in float32', () => {
      check(dt, (m) => {
        const bias = cn.tensor(seededRandom(16, 7, -0.5, 0.5));
        const f = (x: cn.Tensor, w: cn.Tensor, b: cn.Tensor) => cn.fused.conv2d({ x, filter: w, strides: 1, pad: 'same', bias: b, activation: 'relu' });
        return withGrads(m, f, [m.mk([2, 8, 8, 8], 1), m.mk([3, 3, 8, 16], 2, -0.5, 0.5), bias]);
      }, [dt, dt, 'float32', 'float32'], { roundings: 2, atol: 2e-3 });
    });

    it('depthwiseConv2d forward, backward-data and the float32 filter gradient (a grouped cuDNN convolution)', () => {
      check(dt, (m) => withGrads(m, (x, f) => cn.depthwiseConv2d(x, f, 1, 'same'), [m.mk([2, 9, 9, 8], 1), m.mk([3, 3, 8, 2], 2, -0.5, 0.5)]),
        [dt, dt, 'float32'], { roundings: 1, atol: 2e-3 });
      check(dt, (m) => withGrads(m, (x, f) => cn.depthwiseConv2d(x, f, 2, 'same'), [m.mk([2, 10, 10, 3], 1), m.mk([3, 3, 3, 1], 2, -0.5, 0.5)]),
        [dt, dt, 'float32'], { roundings: 1, atol: 2e-3 });
    });

    it('transpose, concat, slice and pad move 16-bit elements bit for bit (pad rounds its value once)', () => {
      check(dt, (m) => [cn.transpose(m.mk([2, 3, 4, 5], 1), [0, 3, 1, 2])], [dt], { roundings: 0, atol: 0 });
      check(dt, (m) => [cn.concat([m.mk([2, 3, 4], 1), m.mk([2, 2, 4], 2)], 1)], [dt], { roundings: 0, atol: 0 });
      check(dt, (m) => [cn.slice(m.mk([4, 6, 5], 1), [1, 2, 0], [2, 3, 5])], [dt], { roundings: 0, atol: 0 });
      check(dt, (m) => [cn.pad(m.mk([2, 3, 4], 1), [[1, 0], [0, 2], [1, 1]], 0.3)], [dt], { roundings: 1, atol: 0 });
    });

    it('sum and mean of a reduced tensor accumulate in float32 (adjacent and non-adjacent axes)', () => {
      // cn.sum / cn.mean return float32 (losses and metrics are float32 under a policy).
      check(dt, (m) => [cn.sum(m.mk([6, 5, 4, 3], 1), [0])], ['float32'], { roundings: 0, atol: 1e-6 });
      check(dt, (m) => [cn.mean(m.mk([6, 5, 4, 3], 1), [1, 2])], ['float32'], { roundings: 0, atol: 1e-6 });
      check(dt, (m) => [cn.sum(m.mk([6, 5, 4, 3], 1), [0, 2])], ['float32'], { roundings: 0, atol: 1e-6 });
    });

    it('matMul (plain, transposed, batched with broadcasting) and its gradients', () => {
      check(dt, (m) => withGrads(m, (a, b) => cn.matMul(a, b), [m.mk([33, 70], 1), m.mk([70, 24], 2)]), [dt, dt, dt], { atol: 2e-3 });
      check(dt, (m) => withGrads(m, (a, b) => cn.matMul(a, b, true, true), [m.mk([40, 17], 1), m.mk([9, 40], 2)]), [dt, dt, dt], { atol: 2e-3 });
      check(dt, (m) => [cn.matMul(m.mk([3, 5, 16], 1), m.mk([16, 8], 2))], [dt], { atol: 2e-3 });
    });

    it('fused matMul + float32 bias + relu (the product rounded once, after the bias)', () => {
      check(dt, (m) => [cn.fused.matMul({ a: m.mk([32, 64], 1), b: m.mk([64, 10], 2), bias: cn.tensor(seededRandom(10, 3)), activation: 'relu' })], [dt], { atol: 2e-3 });
    });

    for (const kind of ['max', 'avg'] as const) {
      it(`${kind} pooling forward and gradient (2x2/2 valid, 3x3/2 same; 1 and 4 channels per thread)`, () => {
        const pool = (x: cn.Tensor, k: number, s: number, pad: 'same' | 'valid') => (kind === 'max' ? cn.maxPool(x, k, s, pad) : cn.avgPool(x, k, s, pad));
        // Without overlap the max gradient is exact; overlapping windows add up in float.
        check(dt, (m) => withGrads(m, (x) => pool(x, 2, 2, 'valid'), [m.mk([2, 8, 8, 16], 1)]), [dt, dt], { roundings: kind === 'max' ? 0 : 1 });
        check(dt, (m) => withGrads(m, (x) => pool(x, 3, 2, 'same'), [m.mk([2, 9, 10, 3], 1)]), [dt, dt], { roundings: 1, spread: 1 });
      });
    }

    const unary: Array<[string, (x: cn.Tensor) => cn.Tensor, number, number]> = [
      ['relu', cn.relu, -2, 2], ['sigmoid', cn.sigmoid, -4, 4], ['tanh', cn.tanh, -3, 3], ['exp', cn.exp, -3, 3],
      ['log', cn.log, 0.05, 4], ['sqrt', cn.sqrt, 0, 4], ['square', cn.square, -3, 3], ['abs', cn.abs, -2, 2],
      ['neg', cn.neg, -2, 2], ['elu', cn.elu, -3, 3], ['relu6', cn.relu6, -2, 8], ['softplus', cn.softplus, -4, 4],
    ];
    for (const [name, f, lo, hi] of unary) {
      it(`${name} forward${['relu', 'sigmoid', 'tanh', 'elu', 'relu6'].includes(name) ? ' and gradient' : ''}`, () => {
        const grads = ['relu', 'sigmoid', 'tanh', 'elu', 'relu6'].includes(name);
        check(dt, (m) => (grads ? withGrads(m, f, [m.mk([1031], 1, lo, hi)]) : [f(m.mk([1031], 1, lo, hi))]), grads ? [dt, dt] : [dt], {
          roundings: grads ? 2 : 1,
          spread: grads ? 4 : 0,
        });
      });
    }

    it('add, sub, mul, div, maximum, minimum with broadcasting and a float32 operand', () => {
      const ops: Array<(a: cn.Tensor, b: cn.Tensor) => cn.Tensor> = [cn.add, cn.sub, cn.mul, cn.div, cn.maximum, cn.minimum];
      for (const op of ops) {
        check(dt, (m) => [op(m.mk([4, 6, 10], 1), m.mk([6, 1], 2, 0.25, 2))], [dt]);
        check(dt, (m) => [op(m.mk([1, 10], 1), m.mk([4, 6, 10], 2, 0.25, 2))], [dt]);
        check(dt, (m) => [op(m.mk([4, 6, 10], 1), cn.tensor(seededRandom(10, 3, 0.25, 2), [10]))], [dt]);
        check(dt, (m) => [op(cn.tensor(seededRandom(60, 3, 0.25, 2), [6, 10]), m.mk([4, 6, 10], 2, 0.25, 2))], [dt]);
      }
    });

    it('softmax and logSoftmax forward and gradient (computed in float32)', () => {
      for (const cols of [10, 33, 1000]) {
        check(dt, (m) => withGrads(m, (x) => cn.softmax(x), [m.mk([17, cols], 1, -5, 5)]), [dt, dt], { roundings: 2, spread: 4 });
        check(dt, (m) => withGrads(m, (x) => cn.logSoftmax(x), [m.mk([17, cols], 1, -5, 5)]), [dt, dt], { roundings: 2, spread: 4 });
      }
    });

    it('batch norm training and inference: reduced x / y, float32 statistics, gamma, beta and their gradients', () => {
      for (const shape of [[4, 6, 6, 16], [64, 3], [8, 5, 5, 1030]]) {
        const c = shape[shape.length - 1];
        check(dt, (m) => {
          const gamma = cn.tensor(seededRandom(c, 3, 0.5, 1.5)), beta = cn.tensor(seededRandom(c, 4));
          const x = m.mk(shape, 1, -2, 3);
          const r = cn.batchNormTraining(x, gamma, beta, 1e-3);
          const grads = cn.grads((a: cn.Tensor, g: cn.Tensor, b: cn.Tensor) => cn.batchNormTraining(a, g, b, 1e-3).y)([x, gamma, beta], m.mk(shape, 99));
          return [r.y, r.mean, r.variance, ...grads];
        }, [dt, 'float32', 'float32', dt, 'float32', 'float32'], { roundings: 2, atol: 5e-3 });
        check(dt, (m) => {
          const mean = cn.tensor(seededRandom(c, 5)), variance = cn.tensor(seededRandom(c, 6, 0.5, 2));
          return [cn.batchNorm(m.mk(shape, 1, -2, 3), mean, variance, cn.tensor(seededRandom(c, 4)), cn.tensor(seededRandom(c, 3, 0.5, 1.5)))];
        }, [dt], { roundings: 1, atol: 1e-5 });
      }
    });

    // Keras's mixed-precision policy (issue 21 phase 2, lib/mixed_precision) where this build
    // has it: a small CNN trains on cuda under the policy as the same CNN in float32 on the
    // cpu (same initial weights and batches): the losses within the bf16 / fp16 rounding of
    // the forward, the variables float32.
    const policyApi = (cn as unknown as { mixedPrecision?: { setGlobalPolicy?: (p: string) => void } }).mixedPrecision;
    it.skipIf(typeof policyApi?.setGlobalPolicy !== 'function')(
      `a small CNN trains under mixed_${dt} on cuda as in float32 on cpu${typeof policyApi?.setGlobalPolicy === 'function' ? '' : ' (skipped: no cn.mixedPrecision in this build)'}`,
      async () => {
        const build = (policy: string) => {
          policyApi!.setGlobalPolicy!(policy);
          try {
            let seed = 11;
            const init = () => cn.layers.initializers.glorotUniform({ seed: seed++ });
            return cn.sequential({
              layers: [
                cn.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [8, 8, 1], kernelInitializer: init() }),
                cn.layers.maxPooling2d({ poolSize: 2 }),
                cn.layers.batchNormalization(),
                cn.layers.flatten(),
                cn.layers.dense({ units: 16, activation: 'relu', kernelInitializer: init() }),
                cn.layers.dense({ units: 3, activation: 'softmax', dtype: 'float32', kernelInitializer: init() }),
              ],
            });
          } finally {
            policyApi!.setGlobalPolicy!('float32');
          }
        };
        const losses = async (backend: string, policy: string) => {
          const prev = cn.getBackend();
          cn.setBackend(backend);
          try {
            const m = build(policy);
            m.compile({ optimizer: cn.train.sgd(0.05), loss: 'sparseCategoricalCrossentropy' });
            const xs = cn.tensor(seededRandom(24 * 64, 7), [24, 8, 8, 1]);
            const ys = cn.tensor(Array.from({ length: 24 }, (_, i) => i % 3), [24], 'int32');
            const out: number[] = [];
            for (let i = 0; i < 4; i++) out.push((await m.trainOnBatch(xs, ys)) as number);
            const dtypes = m.getWeights().map((w) => w.dtype);
            cn.dispose([xs, ys]);
            m.dispose();
            return { out, dtypes };
          } finally {
            cn.setBackend(prev);
          }
        };
        const cuda = await losses('cuda', `mixed_${dt}`);
        const cpu = await losses('cpu', 'float32');
        expect(cuda.dtypes.every((d) => d === 'float32'), `variables ${cuda.dtypes}`).toBe(true);
        expect(cuda.out[3], `loss falls: ${cuda.out}`).toBeLessThan(cuda.out[0]);
        cuda.out.forEach((l, i) => expect(Math.abs(l - cpu.out[i]), `step ${i}: ${l} vs float32 ${cpu.out[i]}`).toBeLessThan(0.03 * Math.abs(cpu.out[i]) + 1e-3));
      },
    );

    it('reports bfloat16 and float16 as native in backends() with the device ISA', () => {
      const rp = cn.backends().find((b) => b.name === 'cuda')!.reducedPrecision!;
      expect(rp.isa).toMatch(/^sm_\d+$/);
      expect(rp.bfloat16).toBe('native');
      expect(rp.float16).toBe('native');
      expect(rp.kernels).toContain('Conv2DBackpropFilter');
    });
  });
}

// Always runs: with no device, says so (the file must not pass silently as empty).
it(hasCuda ? 'cuda is available for the bf16 / fp16 suites' : `bf16 / fp16 on cuda: ${SKIP} (host checks: cuda-host-kernels, cuda-graph-describe)`, () => {
  const cuda = cn.backends().find((b) => b.name === 'cuda');
  expect(cuda).toBeDefined();
  if (!hasCuda) expect(cuda!.reason).toBeTruthy();
});
