// bfloat16 kernels that ResNet-34 and the Xception fine-tune need beyond the Fashion-MNIST
// CNN's (issue 21): depthwise convolution (SeparableConv2D), mean / sum reading bf16, the
// 2-byte movement kernels (transpose, concat, slice, pad; bfloat16 and float16), dropout on
// a bf16 x, and a whole training step of both models with every activation in bfloat16.
// References: TensorFlow's own bf16 kernels (test/fixtures/keras/bf16.json, recorded by
// `scripts/keras_reference.py bf16`), tfjs-node's float32 kernels on the same bf16-rounded
// inputs, and our float32 kernels (movement: bit for bit).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { ENGINE } from '../lib/engine.js';
import { resnet34 } from '../lib/applications/resnet34.js';
import { xception } from '../lib/applications/xception.js';
import type * as TF from '@tensorflow/tfjs-node';
import { describeBackends } from './helpers.js';
import { ROOT } from './keras.js';
import { loadTfjs } from './tfjs.js';

type Encoded = { shape: number[]; values: Array<number | string> };
const fixture = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'keras', 'bf16.json'), 'utf8')) as {
  cases: Record<string, Record<string, Encoded> & { attrs?: { strides: number; pad: 'same' | 'valid' } }>;
};
const decode = (e: Encoded): Float32Array => Float32Array.from(e.values.map((v) => (typeof v === 'string' ? Number(v) : v)));
const ref = (c: string, k: string) => decode(fixture.cases[c][k]);
const shape = (c: string, k: string) => fixture.cases[c][k].shape;
const input = (c: string, k: string, dtype: cn.DType = 'bfloat16') => cn.tensor(ref(c, k), shape(c, k), dtype);
const rpOf = (backend: string) => cn.backends().find((b) => b.name === backend)?.reducedPrecision;

/** Exact equality, NaN equal to NaN and -0 distinct from 0. */
function expectExact(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++)
    if (!Object.is(actual[i], expected[i]) && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) bad.push(`[${i}] ${actual[i]} vs ${expected[i]}`);
  expect(bad.slice(0, 8), `${what}: ${bad.length} mismatches`).toEqual([]);
}

/** |a - e| <= rtol |e| + atol * max|e| elementwise. */
function expectClose(actual: Float32Array, expected: Float32Array, what: string, rtol = 1e-2, atol = 1e-2): void {
  expect(actual.length, what).toBe(expected.length);
  let max = 0;
  for (const v of expected) max = Math.max(max, Math.abs(v));
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] === expected[i]) continue;
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= rtol * Math.abs(expected[i]) + atol * max)) bad.push(`[${i}] ${actual[i]} vs ${expected[i]}`);
  }
  expect(bad.slice(0, 8), `${what}: ${bad.length} of ${expected.length} outside tolerance`).toEqual([]);
}

function expectNotSupported(f: () => unknown, ...patterns: RegExp[]): void {
  let err: (Error & { code?: string }) | undefined;
  try {
    cn.tidy(() => {
      f();
    });
  } catch (e) {
    err = e as Error & { code?: string };
  }
  expect(err, 'expected an error').toBeInstanceOf(cn.NotSupportedError);
  for (const p of patterns) expect(err!.message).toMatch(p);
}

/** A Sum / Mean kernel run on x itself (the public sum / mean cast to float32 first). */
function reduceKernel(name: 'Sum' | 'Mean', x: cn.Tensor, axes: number[], keepDims: boolean, outDtype?: string): cn.Tensor {
  const out = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  const attrs = outDtype ? { axes, keepDims, outDtype } : { axes, keepDims };
  return ENGINE.runKernel(name as never, [x] as never, attrs as never, [{ shape: out, dtype: 'float32' }])[0];
}

// Bit patterns a move must keep: NaN, infinities, -0, subnormals, ties.
const SPECIAL = [0, -0, 1, -2.5, NaN, Infinity, -Infinity, 1e-40, -3e-39, 6e-8, 65504, 3.140625, 1.00390625];
const values = (n: number) => Float32Array.from({ length: n }, (_, i) => (i < SPECIAL.length ? SPECIAL[i] : Math.sin(i * 2.3) * 50));

describeBackends('bfloat16 / float16 movement kernels (storage)', (backend) => {
  const rp = rpOf(backend);
  if (!rp || rp.bfloat16 === 'not supported') {
    it(`refuses 2-byte movement on ${backend} with ERR_NOT_SUPPORTED naming the op`, () => {
      expectNotSupported(() => cn.tensor([1, 2], [2], 'bfloat16'), /Cast/, /bfloat16/);
    });
    return;
  }

  for (const dtype of ['bfloat16', 'float16'] as const) {
    it(`transpose, concat, slice and pad move ${dtype} bit for bit as the float32 kernels move the same values`, () => {
      const before = cn.memory();
      cn.tidy(() => {
        const x = cn.tensor(values(2 * 3 * 4 * 5), [2, 3, 4, 5], dtype);
        const xf = cn.cast(x, 'float32');
        const y = cn.tensor(values(2 * 3 * 2 * 5).reverse(), [2, 3, 2, 5], dtype);
        const yf = cn.cast(y, 'float32');
        const cases: Array<[string, (t: cn.Tensor, u: cn.Tensor) => cn.Tensor]> = [
          ['transpose NHWC->NCHW', (t) => cn.transpose(t, [0, 3, 1, 2])],
          ['transpose (tiled 2-D)', (t) => cn.transpose(cn.reshape(t, [24, 5]), [1, 0])],
          ['transpose reversed', (t) => cn.transpose(t)],
          ['concat axis 2', (t, u) => cn.concat([t, u, t], 2)],
          ['concat axis 3', (t) => cn.concat([t, t], 3)],
          ['slice', (t) => cn.slice(t, [1, 0, 1, 2], [1, 3, 2, 3])],
          ['slice whole rows', (t) => cn.slice(t, [0, 1, 0, 0], [2, 2, 4, 5])],
          ['pad H and W (ZeroPadding2D)', (t) => cn.pad(t, [[0, 0], [1, 2], [3, 0], [0, 0]])],
          ['pad every axis with a value', (t) => cn.pad(t, [[1, 0], [0, 1], [1, 1], [2, 0]], -1.5)],
        ];
        for (const [what, f] of cases) {
          const r = f(x, y);
          expect(r.dtype, what).toBe(dtype);
          expectExact(r.dataSync(), f(xf, yf).dataSync(), `${dtype} ${what}`);
        }
        // A padding value rounds to the dtype as a cast would.
        expectExact(cn.pad(x, [[0, 0], [0, 0], [0, 0], [0, 1]], 0.1).dataSync().slice(5, 6), cn.tensor([0.1], [1], dtype).dataSync(), 'pad value');
      });
      const after = cn.memory();
      expect([after.numTensors, after.numBytes]).toEqual([before.numTensors, before.numBytes]);
    });
  }

  it('refuses concat of a bfloat16 and a float32 tensor, naming the dtypes rule', () => {
    expect(() => cn.tidy(() => cn.concat([cn.tensor([1], [1], 'bfloat16'), cn.tensor([1], [1])], 0))).toThrow(/dtype/);
  });
});

describeBackends('bfloat16 kernels for ResNet-34 and Xception', (backend) => {
  const computes = rpOf(backend)?.bfloat16 === 'native' || rpOf(backend)?.bfloat16 === 'emulated';
  if (!computes) {
    it(`refuses bfloat16 depthwise convolution and reductions on ${backend} with ERR_NOT_SUPPORTED`, () => {
      if (rpOf(backend)?.bfloat16 !== 'storage only') return expectNotSupported(() => cn.tensor([1, 2], [2], 'bfloat16'), /Cast/);
      const x = cn.tensor([1, 2, 3, 4], [1, 2, 2, 1], 'bfloat16');
      expectNotSupported(() => cn.depthwiseConv2d(x, cn.tensor([1], [1, 1, 1, 1], 'bfloat16'), 1, 'same'), /DepthwiseConv2D/, /bfloat16/);
      expectNotSupported(() => reduceKernel('Mean', x, [1, 2], false), /Mean/, /bfloat16/);
      x.dispose();
    });
    return;
  }

  it('gradients of slice, pad and concat stay bfloat16 (pad, slice and slices; the sums need bf16 Add)', () => {
    cn.tidy(() => {
      const x = cn.tensor(values(2 * 4 * 4 * 3), [2, 4, 4, 3], 'bfloat16');
      const f = (a: cn.Tensor) => cn.concat([cn.pad(cn.slice(a, [0, 1, 1, 0], [2, 2, 3, 3]), [[0, 0], [1, 1], [0, 1], [0, 0]]), a], 3);
      const dy = cn.tensor(values(2 * 4 * 4 * 6).map((v, i) => (Number.isFinite(v) ? v : i)), [2, 4, 4, 6], 'bfloat16');
      const [g] = cn.grads(f)([x], dy);
      expect(g.dtype).toBe('bfloat16');
      const [gf] = cn.grads(f)([cn.cast(x, 'float32')], cn.cast(dy, 'float32'));
      // Each element receives at most two bf16 values summed (one rounding): compare to the
      // float32 gradient rounded to bf16.
      expectExact(g.dataSync(), cn.cast(gf, 'bfloat16').dataSync(), 'gradient');
    });
  });

  for (const name of ['depthwise_same', 'depthwise_valid_s2_m2']) {
    it(`${name}: forward, backward-data (bf16) and backward-weights (float32), against TensorFlow and tfjs-node`, async () => {
      const tf = await loadTfjs();
      const before = cn.memory();
      cn.tidy(() => {
        const { strides, pad } = fixture.cases[name].attrs!;
        const x = input(name, 'x');
        const w = input(name, 'w');
        const dy = input(name, 'dy');
        const f = (a: cn.Tensor, b: cn.Tensor) => cn.depthwiseConv2d(a, b, strides, pad);
        const y = f(x, w);
        const [dx, dw] = cn.grads(f)([x, w], dy);
        expect([y.dtype, dx.dtype, dw.dtype]).toEqual(['bfloat16', 'bfloat16', 'float32']);
        const r = tf.tidy(() => {
          const X = tf.tensor4d(x.dataSync(), x.shape as [number, number, number, number]);
          const W = tf.tensor4d(w.dataSync(), w.shape as [number, number, number, number]);
          const g = (a: TF.Tensor4D, b: TF.Tensor4D) => tf.depthwiseConv2d(a, b, strides, pad);
          const [gx, gw] = tf.grads(g as (...a: TF.Tensor[]) => TF.Tensor)([X, W], tf.tensor(dy.dataSync(), dy.shape));
          return { y: g(X, W).dataSync() as Float32Array, dx: gx.dataSync() as Float32Array, dw: gw.dataSync() as Float32Array };
        });
        // Within one bf16 rounding of the float32 results; the float32 weight gradient within
        // float32 summation error.
        expectClose(y.dataSync(), r.y, 'y vs float32', 2 ** -8, 1e-3);
        expectClose(dx.dataSync(), r.dx, 'dx vs float32', 2 ** -8, 1e-3);
        expectClose(dw.dataSync(), r.dw, 'dw vs float32', 1e-4, 1e-4);
        expectClose(y.dataSync(), ref(name, 'y'), 'y vs TensorFlow bf16');
        expectClose(dx.dataSync(), ref(name, 'dx'), 'dx vs TensorFlow bf16');
        // TensorFlow rounds its bf16 weight gradient (and partial sums) to bf16.
        expectClose(dw.dataSync(), ref(name, 'dw'), 'dw vs TensorFlow bf16', 1e-2, 3e-2);
      });
      const after = cn.memory();
      expect([after.numTensors, after.numBytes]).toEqual([before.numTensors, before.numBytes]);
    });
  }

  it('separableConv2d in bfloat16 (depthwise, then the pointwise conv2d) against tfjs-node float32', async () => {
    const tf = await loadTfjs();
    cn.tidy(() => {
      const x = input('depthwise_same', 'x');
      const dw = input('depthwise_same', 'w');
      const pw = cn.cast(cn.mul(cn.randomUniform([1, 1, 16, 8], -1, 1, 'float32', 5), 0.3), 'bfloat16');
      const y = cn.separableConv2d(x, dw, pw, 1, 'same');
      expect(y.dtype).toBe('bfloat16');
      const r = tf.tidy(() =>
        tf.separableConv2d(
          tf.tensor4d(x.dataSync(), x.shape as [number, number, number, number]),
          tf.tensor4d(dw.dataSync(), dw.shape as [number, number, number, number]),
          tf.tensor4d(pw.dataSync(), pw.shape as [number, number, number, number]),
          1,
          'same',
        ).dataSync(),
      ) as Float32Array;
      // Two bf16 roundings: the depthwise output, then y.
      expectClose(y.dataSync(), r, 'y vs float32', 2 ** -7, 4e-3);
    });
  });

  it('mean and sum read bfloat16 and write float32 (or bfloat16) in one oneDNN reduction, against TensorFlow and float64', () => {
    cn.tidy(() => {
      const x = input('reduce', 'x');
      const xs = x.dataSync();
      const [n, h, w, c] = x.shape;
      // float64 mean over H, W of the bf16 values.
      const exact = new Float64Array(n * c);
      for (let i = 0; i < xs.length; i++) exact[Math.floor(i / (h * w * c)) * c + (i % c)] += xs[i] / (h * w);
      const m = reduceKernel('Mean', x, [1, 2], false, 'float32');
      expect([m.dtype, m.shape]).toEqual(['float32', [n, c]]);
      expectClose(m.dataSync(), Float32Array.from(exact), 'mean vs float64', 1e-6, 1e-6);
      // TensorFlow's bf16 mean rounds its result to bf16.
      expectClose(m.dataSync(), ref('reduce', 'mean12'), 'mean vs TensorFlow bf16', 2 ** -8, 2 ** -8);
      const s = reduceKernel('Sum', x, [0, 2], true, 'float32');
      expect([s.dtype, s.shape]).toEqual(['float32', [1, h, 1, c]]);
      expectClose(s.dataSync(), cn.sum(cn.cast(x, 'float32'), [0, 2], true).dataSync(), 'sum vs float32', 1e-6, 1e-6);
      expectClose(s.dataSync(), ref('reduce', 'sum02'), 'sum vs TensorFlow bf16', 2 ** -8, 2 ** -8);
      // Without outDtype (or with 'bfloat16'): x's dtype, the same float32 sums rounded once.
      for (const od of [undefined, 'bfloat16']) {
        const sb = reduceKernel('Sum', x, [0, 2], true, od);
        expect(sb.dtype).toBe('bfloat16');
        expectExact(sb.dataSync(), cn.cast(s, 'bfloat16').dataSync(), `sum outDtype ${od}`);
      }
      expectExact(reduceKernel('Mean', x, [1, 2], false).dataSync(), cn.cast(m, 'bfloat16').dataSync(), 'mean in bfloat16');
      expect(() => reduceKernel('Sum', x, [1], false, 'int32')).toThrow(/expected outDtype 'float32' or 'bfloat16' but received 'int32'/);
      expectNotSupported(() => reduceKernel('Sum', cn.tensor([1, 2], [2], 'float16'), [0], false), /Sum: dtype float16/);
    });
  });

  it('dropout on a bfloat16 x: the float32 mask of a float32 x, and x * mask in bfloat16', () => {
    cn.tidy(() => {
      const x = cn.tensor(values(4 * 6 * 8).map((v, i) => (Number.isFinite(v) ? v : i)), [4, 6, 8], 'bfloat16');
      const f = (a: cn.Tensor) => cn.dropout(a, 0.4, [4, 1, 8], 1234);
      const y = f(x);
      expect(y.dtype).toBe('bfloat16');
      // Same seed, same mask; one rounding of x * mask to bf16.
      expectExact(y.dataSync(), cn.cast(f(cn.cast(x, 'float32')), 'bfloat16').dataSync(), 'dropout');
      const [g] = cn.grads(f)([x], cn.onesLike(x));
      expect(g.dtype).toBe('bfloat16');
    });
  });

  // Batch norm's fused forms and the residual join (made by the plan fusion pass; Note [bf16
  // batch norm + relu] in native/cpu/bf16_pool_norm.cc, Note [bf16 add + relu]) against the unfused bf16 kernels they replace, which the
  // batch-norm case of test/bf16.test.ts checks against TensorFlow.
  it('fused batch norm + relu and + residual (+ relu), and AddRelu / AddReluGrad, in bfloat16 equal the unfused BatchNorm, Add, Relu and ReluGrad kernels', () => {
    cn.tidy(() => {
      const x = input('batchnorm', 'x');
      const gamma = input('batchnorm', 'gamma', 'float32');
      const beta = input('batchnorm', 'beta', 'float32');
      const dy = input('batchnorm', 'dy');
      const r = cn.cast(cn.randomUniform(x.shape, -1, 1, 'float32', 8), 'bfloat16');
      const run = (name: string, inputs: cn.Tensor[], attrs: object, n: number) =>
        ENGINE.runKernel(name as never, inputs as never, { epsilon: 1e-3, ...attrs } as never, Array.from({ length: n }, () => ({ shape: [1], dtype: 'float32' as const })));
      const [y, mean, variance] = run('BatchNormTrain', [x, gamma, beta], {}, 3);
      const [yr, mr, vr] = run('BatchNormTrain', [x, gamma, beta], { relu: true }, 3);
      expect([yr.dtype, mr.dtype, vr.dtype]).toEqual(['bfloat16', 'float32', 'float32']);
      expectExact(yr.dataSync(), cn.relu(y).dataSync(), 'train relu');
      expectExact(mr.dataSync(), mean.dataSync(), 'train relu mean');
      expectExact(vr.dataSync(), variance.dataSync(), 'train relu variance');
      expectExact(run('BatchNormTrain', [x, gamma, beta, r], { relu: true }, 3)[0].dataSync(), cn.relu(cn.add(y, r)).dataSync(), 'train + residual + relu');
      expectExact(run('BatchNormTrain', [x, gamma, beta, r], {}, 3)[0].dataSync(), cn.add(y, r).dataSync(), 'train + residual');
      const r32 = cn.cast(r, 'float32');
      expectExact(run('BatchNormTrain', [x, gamma, beta, r32], {}, 3)[0].dataSync(), cn.add(y, r32).dataSync(), 'train + float32 residual');
      const yi = run('BatchNormInfer', [x, gamma, beta, mean, variance], {}, 1)[0];
      expectExact(run('BatchNormInfer', [x, gamma, beta, mean, variance], { relu: true }, 1)[0].dataSync(), cn.relu(yi).dataSync(), 'infer relu');
      expectExact(run('BatchNormInfer', [x, gamma, beta, mean, variance, r], { relu: true }, 1)[0].dataSync(), cn.relu(cn.add(yi, r)).dataSync(), 'infer + residual + relu');
      // The relu form's gradient: the plain gradient of dy masked where relu(y) is 0.
      const ys = y.dataSync();
      const masked = cn.tensor(dy.dataSync().map((v, i) => (ys[i] > 0 ? v : 0)), dy.shape, 'bfloat16');
      const [dx, dg, db] = run('BatchNormGrad', [masked, x, gamma, mean, variance], {}, 3);
      const [dxr, dgr, dbr] = run('BatchNormGrad', [dy, x, gamma, mean, variance, beta], { relu: true }, 3);
      expect([dxr.dtype, dgr.dtype, dbr.dtype]).toEqual(['bfloat16', 'float32', 'float32']);
      expectClose(dxr.dataSync(), dx.dataSync(), 'grad relu dx', 2 ** -8, 1e-3);
      expectClose(dgr.dataSync(), dg.dataSync(), 'grad relu dgamma', 1e-5, 1e-5);
      expectClose(dbr.dataSync(), db.dataSync(), 'grad relu dbeta', 1e-5, 1e-5);
      // The residual join (AddRelu, AddReluGrad) against Add, Relu and ReluGrad.
      const ref = run('AddRelu', [y, r], {}, 1)[0];
      expect(ref.dtype).toBe('bfloat16');
      expectExact(ref.dataSync(), cn.relu(cn.add(y, r)).dataSync(), 'AddRelu');
      const g = run('AddReluGrad', [dy, r, ref], {}, 1)[0];
      expect(g.dtype).toBe('bfloat16');
      expectExact(g.dataSync(), run('ReluGrad', [cn.add(dy, r), ref], {}, 1)[0].dataSync(), 'AddReluGrad');
      expect(() => run('AddRelu', [y, r32], {}, 1)).toThrow(/AddRelu: expected input 1 of shape \[4,5,5,8\] and dtype bfloat16/);
      expect(() => run('BatchNormGrad', [dy, x, gamma, mean, variance], { relu: true }, 3)).toThrow(/expected beta as input 5 exactly when relu is set/);
      expect(() => run('BatchNormTrain', [x, gamma, beta, cn.reshape(r, [-1])], {}, 3)).toThrow(/expected residual \(input 3\) of x's shape/);
    });
  });

  // Both models built twice from one seed, under 'float32' and under 'mixed_bfloat16' (Keras'
  // semantics: float32 variables, each layer casting its input and kernels to bfloat16; the
  // float32 softmax head computes in float32).
  for (const app of ['resnet34', 'xception'] as const) {
    it(`a ${app} training step under mixed_bfloat16 runs with every activation in bfloat16: no kernel refuses, float32 weight gradients close to the float32 step's`, async () => {
      const size = app === 'resnet34' ? 64 : 71;
      const batch = 4;
      const build = async (policy: 'float32' | 'mixed_bfloat16') => {
        cn.mixedPrecision.setGlobalPolicy(policy);
        cn.layers.setRandomSeed(21);
        try {
          return (app === 'resnet34'
            ? resnet34({ inputShape: [size, size, 3], classes: 4 })
            : await xception({ weights: null, includeTop: true, inputShape: [size, size, 3], classes: 4 } as never)) as unknown as {
            apply: (x: cn.Tensor, kw: object) => cn.Tensor;
            dispose: () => void;
          };
        } finally {
          cn.mixedPrecision.setGlobalPolicy('float32');
        }
      };
      const m32 = await build('float32');
      const mbf = await build('mixed_bfloat16');
      // The same (bf16-rounded) input for both.
      const x = cn.cast(cn.cast(cn.randomUniform([batch, size, size, 3], -1, 1, 'float32', 3), 'bfloat16'), 'float32');
      const target = cn.randomUniform([batch, 4], 0, 1, 'float32', 4);
      const loss = (m: typeof m32) => () => cn.sum(cn.mul(cn.cast(m.apply(x, { training: true }), 'float32'), target));
      const f32 = cn.variableGrads(loss(m32));
      const kernels = new Map<string, number>();
      const run = ENGINE.runKernel.bind(ENGINE);
      (ENGINE as unknown as { runKernel: unknown }).runKernel = (name: string, inputs: cn.Tensor[], ...rest: unknown[]) => {
        if (inputs.some((t) => t.dtype === 'bfloat16')) kernels.set(name, (kernels.get(name) ?? 0) + 1);
        return (run as (...a: unknown[]) => cn.Tensor[])(name, inputs, ...rest);
      };
      let bf: ReturnType<typeof cn.variableGrads>;
      try {
        bf = cn.variableGrads(loss(mbf));
      } finally {
        (ENGINE as unknown as { runKernel: unknown }).runKernel = run;
      }
      const expected = app === 'resnet34'
        ? ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BatchNormTrain', 'BatchNormGrad', 'MaxPool', 'MaxPoolGrad', 'ReluGrad', 'Add']
        : ['DepthwiseConv2D', 'DepthwiseConv2DBackpropInput', 'DepthwiseConv2DBackpropFilter', 'Conv2D', 'BatchNormTrain', 'BatchNormGrad', 'MaxPoolGrad'];
      for (const k of expected) expect(kernels.get(k), `${k} on bfloat16`).toBeGreaterThan(0);
      // Variables are named per model (conv2d_3 vs conv2d_40): pair them in creation order.
      const names32 = Object.keys(f32.grads);
      const namesBf = Object.keys(bf.grads);
      expect(namesBf.length).toBe(names32.length);
      // bf16 activations through 34 (Xception: 36) layers with batch statistics over few
      // values: the step is sensitive (the float32 step itself, on an input perturbed by
      // +-2e-3, gives per-variable gradient cosines down to 0.88 for ResNet-34 here). Each
      // variable's float32 gradient must point the float32 step's way (cosine above 0.6; a
      // wrong kernel gives ~0), be finite, and the loss agree within 1%.
      const cos: number[] = [];
      names32.forEach((n32, i) => {
        const n = namesBf[i];
        const g = bf.grads[n];
        expect(g.dtype, n).toBe('float32');
        expect(g.shape, n).toEqual(f32.grads[n32].shape);
        const a = g.dataSync();
        const e = f32.grads[n32].dataSync();
        expect(a.every(Number.isFinite), n).toBe(true);
        let dot = 0;
        let na = 0;
        let ne = 0;
        for (let i = 0; i < e.length; i++) {
          dot += a[i] * e[i];
          na += a[i] * a[i];
          ne += e[i] * e[i];
        }
        cos.push(dot / Math.sqrt(na * ne));
      });
      expect(Math.min(...cos)).toBeGreaterThan(0.6);
      const [lb, lf] = [bf.value.dataSync()[0], f32.value.dataSync()[0]];
      expect(Math.abs(lb - lf)).toBeLessThan(0.01 * Math.abs(lf));
      cn.dispose([x, target, f32.value, bf.value, ...Object.values(f32.grads), ...Object.values(bf.grads)]);
      m32.dispose();
      mbf.dispose();
    }, 120_000);
  }
});
