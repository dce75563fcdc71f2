// bfloat16 / float16 (issue 21, phase 1) against TensorFlow's own bf16 kernels: the
// references in test/fixtures/keras/bf16.json come from `scripts/keras_reference.py bf16`
// (TensorFlow 2.21; tfjs-node has no bf16). Inputs are the fixture's float32 values cast
// to bfloat16 here, so the cast itself is checked first, exactly. Results of accumulating
// ops agree within bf16 rounding (TensorFlow rounds its outputs, and its weight gradients,
// to bf16; the order of the sums differs). On a backend without bf16 kernels (cuda, for
// now) every op must refuse with ERR_NOT_SUPPORTED naming the op and the dtype.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import * as native from '../lib/native.js';
import type * as TF from '@tensorflow/tfjs-node';
import { describeBackends } from './helpers.js';
import { ROOT } from './keras.js';
import { loadTfjs } from './tfjs.js';

type Encoded = { shape: number[]; values: Array<number | string> };
const fixture = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'keras', 'bf16.json'), 'utf8')) as {
  tensorflowVersion: string;
  cases: Record<string, Record<string, Encoded> & { attrs?: { strides: number; pad: 'same' | 'valid' } }>;
};

const decode = (e: Encoded): Float32Array => Float32Array.from(e.values.map((v) => (typeof v === 'string' ? Number(v) : v)));
const ref = (c: string, k: string) => decode(fixture.cases[c][k]);
const shape = (c: string, k: string) => fixture.cases[c][k].shape;
/** The fixture's float32 input as a tensor of dtype. */
const input = (c: string, k: string, dtype: cn.DType = 'bfloat16') => cn.tensor(ref(c, k), shape(c, k), dtype);

/** Exact equality, NaN equal to NaN and -0 to 0's sign. */
function expectExact(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++)
    if (!Object.is(actual[i], expected[i]) && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i])))
      bad.push(`[${i}] ${actual[i]} vs ${expected[i]}`);
  expect(bad.slice(0, 8), `${what}: ${bad.length} mismatches`).toEqual([]);
}

/** |a - e| <= rtol |e| + atol * max|e| elementwise (bf16 rounding of results and of sums). */
function expectClose(actual: Float32Array, expected: Float32Array, what: string, rtol = 1e-2, atol = 1e-2): void {
  expect(actual.length, what).toBe(expected.length);
  let max = 0;
  for (const v of expected) max = Math.max(max, Math.abs(v));
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] === expected[i]) continue; // equal infinities too
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= rtol * Math.abs(expected[i]) + atol * max)) bad.push(`[${i}] ${actual[i]} vs ${expected[i]}`);
  }
  expect(bad.slice(0, 8), `${what}: ${bad.length} of ${expected.length} outside tolerance`).toEqual([]);
}

/** Runs f expecting a NotSupportedError whose message names every pattern. */
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
  expect(err!.code).toBe('ERR_NOT_SUPPORTED');
  for (const p of patterns) expect(err!.message).toMatch(p);
}

const rpOf = (backend: string) => cn.backends().find((b) => b.name === backend)?.reducedPrecision;

describe('bfloat16 / float16 storage', () => {
  it('casts float32 to bfloat16 and float16 exactly as TensorFlow rounds (nearest even; NaN, infinities, ties)', () => {
    cn.tidy(() => {
      const x = input('cast', 'x', 'float32');
      const b = cn.cast(x, 'bfloat16');
      const h = cn.cast(x, 'float16');
      expect(b.dtype).toBe('bfloat16');
      expect(h.dtype).toBe('float16');
      expectExact(b.dataSync(), ref('cast', 'bfloat16'), 'bfloat16');
      expectExact(h.dataSync(), ref('cast', 'float16'), 'float16');
      // cn.tensor(values, shape, dtype) rounds the same way, and widening back is exact.
      expectExact(input('cast', 'x', 'bfloat16').dataSync(), ref('cast', 'bfloat16'), 'tensor(..., bfloat16)');
      expectExact(cn.cast(b, 'float32').dataSync(), ref('cast', 'bfloat16'), 'bfloat16 -> float32');
      // bfloat16 -> float16: exact where float16's normal range holds the value (8 <= 11 significant bits).
      const inRange = (v: number) => Math.abs(v) >= 2 ** -14 && Math.abs(v) <= 65504;
      const wide = b.dataSync();
      const viaHalf = cn.cast(b, 'float16').dataSync();
      for (let i = 0; i < wide.length; i++) if (inRange(wide[i])) expect(viaHalf[i], `element ${i}`).toBe(wide[i]);
    });
  });

  it('reads values widened to float32 from data(), dataSync() and array()', async () => {
    const t = cn.tensor([1.00390625, -2.5, 3.14159265], [3], 'bfloat16');
    expect(t.dataSync()).toBeInstanceOf(Float32Array);
    expect(Array.from(await t.data())).toEqual([1, -2.5, 3.140625]);
    expect(await t.array()).toEqual([1, -2.5, 3.140625]);
    t.dispose();
  });

  it('counts 2 bytes per element in memory()', () => {
    const before = cn.memory().numBytes;
    const b = cn.zeros([1000], 'bfloat16');
    const h = cn.ones([500], 'float16');
    expect(cn.memory().numBytes - before).toBe(2000 + 1000);
    expect(Array.from(h.dataSync().slice(0, 2))).toEqual([1, 1]);
    cn.dispose([b, h]);
    expect(cn.memory().numBytes).toBe(before);
  });

  it('refuses assign() on a bfloat16 variable with ERR_NOT_SUPPORTED', () => {
    const t = cn.tensor([1, 2], [2], 'bfloat16');
    const v = cn.variable(t);
    expect(v.dtype).toBe('bfloat16');
    expect(Array.from(v.dataSync())).toEqual([1, 2]);
    expectNotSupported(() => v.assign(new Float32Array([3, 4])), /assign: dtype bfloat16 is not supported/);
    cn.dispose([t, v]);
  });

  it('casts between bfloat16 / float16 and int32 / bool', () => {
    cn.tidy(() => {
      const b = cn.tensor([0, 1.5, -2.75, 300.7], [4], 'bfloat16');
      expect(Array.from(cn.cast(b, 'int32').dataSync())).toEqual([0, 1, -2, 300]);
      // bool as float32 -> bool casts it (the dtype only changes the source's precision).
      expect(Array.from(cn.cast(b, 'bool').dataSync())).toEqual(Array.from(cn.cast(cn.cast(b, 'float32'), 'bool').dataSync()));
      expect(Array.from(cn.cast(cn.tensor([7, -3], [2], 'int32'), 'float16').dataSync())).toEqual([7, -3]);
    });
  });

  it('compiles bfloat16 ops into a plan whose outputs have the kernels dtypes and the eager values', () => {
    const x = cn.tensor([1, -2, 3.3, 4], [2, 2], 'bfloat16');
    const f = (a: cn.Tensor) => [cn.relu(a), cn.cast(a, 'float32'), cn.matMul(a, a)];
    const plan = cn.compile(f, [{ shape: [2, 2], dtype: 'bfloat16' }]);
    const outs = plan.runSync([x]);
    const eager = f(x);
    expect(outs.map((t) => t.dtype)).toEqual(['bfloat16', 'float32', 'bfloat16']);
    outs.forEach((t, i) => expect(Array.from(t.dataSync())).toEqual(Array.from(eager[i].dataSync())));
    plan.dispose();
    cn.dispose([x, outs, eager]);
  });

  it('applies the supported-dtype table at the kernel dispatch: every other kernel refuses bfloat16 by name', () => {
    const cpu = rpOf('cpu')!;
    // Compute kernels with a typed variant, and the storage ones (test/bf16-models.test.ts).
    const supported = new Set([...cpu.kernels!, 'Cast', 'Copy', 'Reshape', 'Fill', 'Transpose', 'Concat', 'Slice', 'Pad', 'DropoutMask']);
    const x = cn.tensor([1, 2, 3, 4], [2, 2], 'bfloat16');
    let refused = 0;
    for (const [name, id] of Object.entries(native.kernelIds)) {
      if (supported.has(name)) continue;
      let err: (Error & { code?: string }) | undefined;
      try {
        const out = native.run(id, [x.liveHandle()], {});
        for (const h of Array.isArray(out) ? out : out ? [out] : []) if (h) native.release(h);
      } catch (e) {
        err = e as Error & { code?: string };
      }
      expect(err?.code, `${name} with a bfloat16 input`).toBe('ERR_NOT_SUPPORTED');
      expect(err!.message).toContain(`${name}: dtype bfloat16 is not supported`);
      refused++;
    }
    expect(refused).toBeGreaterThan(20);
    x.dispose();
  });

  it('reports the CPU ISA and native bf16 support in backends() and doctor()', () => {
    const cpu = rpOf('cpu')!;
    expect(cpu.isa).toMatch(/^(sse41|avx|avx2|avx2_vnni|avx512_\w+)$/);
    expect(cpu.bfloat16).toBe(/bf16|amx/.test(cpu.isa!) ? 'native' : /avx512_core/.test(cpu.isa!) ? 'emulated' : 'storage only');
    expect(cpu.float16).toBe('storage only');
    expect(cn.doctor()).toContain(`bfloat16: ${cpu.bfloat16}, float16: storage only (ISA ${cpu.isa})`);
    expect(rpOf('cuda')!.bfloat16).toBe('not supported');
  });
});

describeBackends('bfloat16 ops against TensorFlow', (backend) => {
  const computes = rpOf(backend)?.bfloat16 === 'native' || rpOf(backend)?.bfloat16 === 'emulated';

  if (!computes) {
    // cuda for now (not even storage), or a CPU without AVX-512 (storage and casts only).
    it(`refuses bfloat16 compute on ${backend} with ERR_NOT_SUPPORTED naming the op`, () => {
      if (rpOf(backend)?.bfloat16 === 'storage only') {
        const x = cn.tensor([1, 2, 3, 4], [1, 2, 2, 1], 'bfloat16');
        expectNotSupported(() => cn.conv2d(x, cn.tensor([1], [1, 1, 1, 1], 'bfloat16'), 1, 'same'), /Conv2D/, /bfloat16/, new RegExp(backend));
        expectNotSupported(() => cn.relu(x), /Relu/, /bfloat16/);
        x.dispose();
      } else {
        expectNotSupported(() => cn.tensor([1, 2], [2], 'bfloat16'), /Cast/, /bfloat16/, new RegExp(backend));
      }
    });
    return;
  }

  // Two references per result: TensorFlow's bf16 kernels (the fixture), and tfjs-node's
  // float32 kernels on the same bf16-rounded inputs (exact arithmetic but for float32
  // sums). Ours sits within one bf16 output rounding of the float32 result (the float32
  // weight gradient within float32 summation error); TensorFlow's CPU bf16 backward-filter
  // drifts further, by up to ~1.5% of the largest gradient, so the comparison with it allows
  // 3% of the largest value.
  for (const name of ['conv2d_same', 'conv2d_valid_s2']) {
    it(`${name}: forward, backward-data (bf16) and backward-weights (float32), against TensorFlow and tfjs-node`, async () => {
      const tf = await loadTfjs();
      const before = cn.memory();
      cn.tidy(() => {
        const { strides, pad } = fixture.cases[name].attrs!;
        const x = input(name, 'x');
        const w = input(name, 'w');
        const dy = input(name, 'dy');
        const f = (a: cn.Tensor, b: cn.Tensor) => cn.conv2d(a, b, strides, pad);
        const y = f(x, w);
        expect(y.dtype).toBe('bfloat16');
        const [dx, dw] = cn.grads(f)([x, w], dy);
        expect(dx.dtype).toBe('bfloat16');
        expect(dw.dtype).toBe('float32');
        const r = tf.tidy(() => {
          const X = tf.tensor4d(x.dataSync(), x.shape as [number, number, number, number]);
          const W = tf.tensor4d(w.dataSync(), w.shape as [number, number, number, number]);
          const g = (a: TF.Tensor4D, b: TF.Tensor4D) => tf.conv2d(a, b, strides, pad);
          const [gx, gw] = tf.grads(g as (...a: TF.Tensor[]) => TF.Tensor)([X, W], tf.tensor(dy.dataSync(), dy.shape));
          return { y: g(X, W).dataSync() as Float32Array, dx: gx.dataSync() as Float32Array, dw: gw.dataSync() as Float32Array };
        });
        expectClose(y.dataSync(), r.y, 'y vs float32', 2 ** -8, 1e-3);
        expectClose(dx.dataSync(), r.dx, 'dx vs float32', 2 ** -8, 1e-3);
        expectClose(dw.dataSync(), r.dw, 'dw vs float32', 1e-4, 1e-4);
        expectClose(y.dataSync(), ref(name, 'y'), 'y vs TensorFlow bf16');
        expectClose(dx.dataSync(), ref(name, 'dx'), 'dx vs TensorFlow bf16');
        expectClose(dw.dataSync(), ref(name, 'dw'), 'dw vs TensorFlow bf16', 1e-2, 3e-2);
      });
      // Nothing leaks: the temporaries of casts, uploads and widened reads are freed.
      const after = cn.memory();
      expect([after.numTensors, after.numBytes]).toEqual([before.numTensors, before.numBytes]);
    });
  }

  it('conv2d with a float32 bias and fused relu writes bf16, and the bias gradient in float32', () => {
    cn.tidy(() => {
      const name = 'conv2d_same';
      const x = input(name, 'x');
      const w = input(name, 'w');
      const bias = cn.tensor(Float32Array.from({ length: 32 }, (_, i) => (i - 16) / 8));
      const y = cn.fusedConv2d({ x, filter: w, strides: 1, pad: 'same', bias, activation: 'relu' });
      expect(y.dtype).toBe('bfloat16');
      // Reference: TensorFlow's bf16 y plus the bias, rounded to bf16, then relu.
      const yt = ref(name, 'y');
      const expected = cn.relu(cn.add(cn.tensor(yt, shape(name, 'y'), 'bfloat16'), bias)).dataSync();
      expectClose(y.dataSync(), expected, 'relu(conv + bias)');
      const [, , db] = cn.grads((a: cn.Tensor, b: cn.Tensor, c: cn.Tensor) => cn.add(cn.conv2d(a, b, 1, 'same'), c))([x, w, bias], input(name, 'dy'));
      expect(db.dtype).toBe('float32');
    });
  });

  it('matMul', () => {
    cn.tidy(() => {
      const c = cn.matMul(input('matmul', 'a'), input('matmul', 'b'));
      expect(c.dtype).toBe('bfloat16');
      expectClose(c.dataSync(), ref('matmul', 'c'), 'c');
    });
  });

  for (const kind of ['maxpool', 'avgpool'] as const) {
    it(`${kind} forward and gradient`, () => {
      cn.tidy(() => {
        const f = (a: cn.Tensor) => (kind === 'maxpool' ? cn.maxPool(a, 2, 2, 'valid') : cn.avgPool(a, 2, 2, 'valid'));
        const x = input(kind, 'x');
        const y = f(x);
        expect(y.dtype).toBe('bfloat16');
        const dx = cn.grad(f)(x, input(kind, 'dy'));
        expect(dx.dtype).toBe('bfloat16');
        if (kind === 'maxpool') {
          expectExact(y.dataSync(), ref(kind, 'y'), 'y');
          expectExact(dx.dataSync(), ref(kind, 'dx'), 'dx');
        } else {
          // Ours is within one bf16 ulp of the exact mean of the bf16 inputs. TensorFlow's CPU
          // kernel rounds its running sum to bf16, an error relative to the partial sums, so
          // it is compared with the usual accumulation tolerance.
          const xv = x.dataSync(), yv = y.dataSync();
          const [n, h, w, c] = x.shape;
          for (let i = 0; i < yv.length; i++) {
            const ch = i % c, ox = Math.floor(i / c) % (w / 2), oy = Math.floor(i / c / (w / 2)) % (h / 2), b = Math.floor(i / c / (w / 2) / (h / 2));
            let sum = 0;
            for (const [dh, dw] of [[0, 0], [0, 1], [1, 0], [1, 1]]) sum += xv[((b * h + 2 * oy + dh) * w + 2 * ox + dw) * c + ch];
            expect(Math.abs(yv[i] - sum / 4), `y[${i}] vs exact mean`).toBeLessThanOrEqual(2 ** -8 * Math.abs(sum / 4) + 1e-30);
            expect(n).toBe(2);
          }
          expectClose(yv, ref(kind, 'y'), 'y');
          expectClose(dx.dataSync(), ref(kind, 'dx'), 'dx');
        }
      });
    });
  }

  it('relu forward and gradient (exact)', () => {
    cn.tidy(() => {
      const x = input('relu', 'x');
      const y = cn.relu(x);
      expectExact(y.dataSync(), ref('relu', 'y'), 'y');
      const dx = cn.grad((a: cn.Tensor) => cn.relu(a))(x, input('relu', 'dy'));
      expect(dx.dtype).toBe('bfloat16');
      expectExact(dx.dataSync(), ref('relu', 'dx'), 'dx');
    });
  });

  it('softmax forward and gradient', () => {
    cn.tidy(() => {
      const x = input('softmax', 'x');
      const y = cn.softmax(x);
      expect(y.dtype).toBe('bfloat16');
      expectClose(y.dataSync(), ref('softmax', 'y'), 'y');
      const dx = cn.grad((a: cn.Tensor) => cn.softmax(a))(x, input('softmax', 'dy'));
      expectClose(dx.dataSync(), ref('softmax', 'dx'), 'dx', 2e-2, 2e-2);
    });
  });

  it('batch norm: bf16 x / y with float32 scale, offset, statistics and their gradients', () => {
    cn.tidy(() => {
      const x = input('batchnorm', 'x');
      const gamma = input('batchnorm', 'gamma', 'float32');
      const beta = input('batchnorm', 'beta', 'float32');
      const { y, mean, variance } = cn.batchNormTraining(x, gamma, beta, 1e-3);
      expect([y.dtype, mean.dtype, variance.dtype]).toEqual(['bfloat16', 'float32', 'float32']);
      expectClose(y.dataSync(), ref('batchnorm', 'y'), 'y');
      expectClose(mean.dataSync(), ref('batchnorm', 'mean'), 'mean', 1e-4, 1e-4);
      expectClose(variance.dataSync(), ref('batchnorm', 'var'), 'variance', 1e-4, 1e-4);
      const [dx, dg, db] = cn.grads((a: cn.Tensor, g: cn.Tensor, b: cn.Tensor) => cn.batchNormTraining(a, g, b, 1e-3).y)(
        [x, gamma, beta],
        input('batchnorm', 'dy'),
      );
      expect([dx.dtype, dg.dtype, db.dtype]).toEqual(['bfloat16', 'float32', 'float32']);
      expectClose(dx.dataSync(), ref('batchnorm', 'dx'), 'dx', 2e-2, 2e-2);
      expectClose(dg.dataSync(), ref('batchnorm', 'dgamma'), 'dgamma');
      expectClose(db.dataSync(), ref('batchnorm', 'dbeta'), 'dbeta');
    });
  });

  it('elementwise arithmetic on bf16, with a float32 operand read by the same primitive', () => {
    cn.tidy(() => {
      const a = cn.tensor([1, 2.5, -3, 4], [2, 2], 'bfloat16');
      const s = cn.add(a, cn.tensor([0.5, 0.25]));
      expect(s.dtype).toBe('bfloat16');
      expect(Array.from(s.dataSync())).toEqual([1.5, 2.75, -2.5, 4.25]);
      expect(Array.from(cn.mul(cn.reshape(cn.tensor([2, 2], [2], 'float32'), [1, 2]), a).dataSync())).toEqual([2, 5, -6, 8]);
    });
  });

  // The remaining bf16 kernels against tfjs-node's float32 kernels on the same bf16 inputs:
  // one bf16 rounding of the result (and of intermediate bf16 tensors in composite gradients).
  it('unary ops, their gradients and logSoftmax against tfjs-node float32 on the same bf16 inputs', async () => {
    const tf = await loadTfjs();
    const xs = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 1.7) * 3);
    const ops: Array<[string, (t: cn.Tensor) => cn.Tensor, (t: TF.Tensor) => TF.Tensor, boolean]> = [
      ['sigmoid', cn.sigmoid, tf.sigmoid, true],
      ['tanh', cn.tanh, tf.tanh, true],
      ['elu', cn.elu, tf.elu, true],
      ['relu6', cn.relu6, tf.relu6, true],
      ['exp', cn.exp, tf.exp, true],
      ['softplus', cn.softplus, tf.softplus, true],
      ['square', cn.square, tf.square, true],
      ['sqrt', (t) => cn.sqrt(cn.abs(t)), (t) => tf.sqrt(tf.abs(t)), false],
      ['log', (t) => cn.log(cn.abs(t)), (t) => tf.log(tf.abs(t)), false],
      ['neg', cn.neg, tf.neg, true],
      ['logSoftmax', (t) => cn.logSoftmax(cn.reshape(t, [4, 16])), (t) => tf.logSoftmax(tf.reshape(t, [4, 16])), true],
    ];
    for (const [name, ours, theirs, withGrad] of ops) {
      cn.tidy(() => {
        const x = cn.tensor(xs, [64], 'bfloat16');
        const xw = x.dataSync();
        const y = ours(x);
        expect(y.dtype, name).toBe('bfloat16');
        const r = tf.tidy(() => theirs(tf.tensor(xw)).dataSync() as Float32Array);
        expectClose(y.dataSync(), r, name, 2 ** -7, 1e-3);
        if (withGrad) {
          const dy = cn.tensor(Float32Array.from({ length: y.size }, (_, i) => Math.cos(i)), y.shape, 'bfloat16');
          const dx = cn.grad(ours)(x, dy);
          expect(dx.dtype, `${name} gradient`).toBe('bfloat16');
          const rg = tf.tidy(() => tf.grad(theirs)(tf.tensor(xw), tf.tensor(dy.dataSync(), dy.shape)).dataSync() as Float32Array);
          expectClose(dx.dataSync(), rg, `${name} gradient`, 2 ** -6, 1e-2);
        }
      });
    }
  });

  it('batchNorm inference, and the float32 outputs the conv and matmul kernels can write (outDtype), against tfjs-node', async () => {
    const tf = await loadTfjs();
    cn.tidy(() => {
      const x = input('batchnorm', 'x');
      const [mean, variance, offset, scale] = [[0.3, 0.9], [2, 0.5], [0.1, -0.2], [1.5, 0.7]].map((v) => cn.tensor(Array.from({ length: 8 }, (_, i) => v[i % 2])));
      const y = cn.batchNorm(x, mean, variance, offset, scale, 1e-3);
      expect(y.dtype).toBe('bfloat16');
      const r = tf.tidy(() =>
        tf.batchNorm(tf.tensor(x.dataSync(), x.shape), ...([mean, variance, offset, scale].map((t) => tf.tensor1d(t.dataSync())) as [TF.Tensor1D, TF.Tensor1D, TF.Tensor1D, TF.Tensor1D]), 1e-3).dataSync(),
      ) as Float32Array;
      expectClose(y.dataSync(), r, 'batchNorm', 2 ** -7, 1e-3);

      // outDtype 'float32': the primitive writes float32 directly, no rounding to bf16.
      const a = input('matmul', 'a'), b = input('matmul', 'b');
      const bias = cn.tensor(Float32Array.from({ length: 24 }, (_, i) => i / 10));
      const h = native.run(native.kernelIds.MatMul, [a.liveHandle(), b.liveHandle(), bias.liveHandle()], { outDtype: 'float32' }) as native.Handle;
      const c = native.readSync(h) as Float32Array;
      expect(native.native.dtype(h)).toBe('float32');
      native.release(h);
      const rc = tf.tidy(() => tf.add(tf.matMul(tf.tensor2d(a.dataSync(), [16, 96]), tf.tensor2d(b.dataSync(), [96, 24])), tf.tensor1d(bias.dataSync())).dataSync()) as Float32Array;
      expectClose(c, rc, 'matMul + f32 bias, f32 out', 1e-5, 1e-5);
      const name = 'conv2d_same';
      const cx = input(name, 'x'), cw = input(name, 'w');
      const hy = native.run(native.kernelIds.Conv2D, [cx.liveHandle(), cw.liveHandle()], { strides: [1, 1], pad: 'same', outDtype: 'float32' }) as native.Handle;
      expect(native.native.dtype(hy)).toBe('float32');
      const cy = native.readSync(hy) as Float32Array;
      native.release(hy);
      const ry = tf.tidy(() => tf.conv2d(tf.tensor4d(cx.dataSync(), cx.shape as [number, number, number, number]), tf.tensor4d(cw.dataSync(), cw.shape as [number, number, number, number]), 1, 'same').dataSync()) as Float32Array;
      expectClose(cy, ry, 'conv2d f32 out', 1e-5, 1e-5);
    });
  });

  // The cpu stores and casts float16 only; cuda computes in it (native/cuda/half_backend.h).
  const fp16Computes = rpOf(backend)?.float16 === 'native' || rpOf(backend)?.float16 === 'emulated';
  it(fp16Computes ? 'float16 compute runs (matMul, conv2d) where the backend has float16 kernels' : 'float16 compute refuses with ERR_NOT_SUPPORTED naming the op, the dtype and the backend', () => {
    const a = cn.tensor([1, 2, 3, 4], [2, 2], 'float16');
    if (fp16Computes) {
      cn.tidy(() => {
        const c = cn.matMul(a, a);
        expect(c.dtype).toBe('float16');
        expect(Array.from(c.dataSync())).toEqual([7, 10, 15, 22]);
        expect(Array.from(cn.conv2d(cn.reshape(a, [1, 2, 2, 1]), cn.tensor([2], [1, 1, 1, 1], 'float16'), 1, 'same').dataSync())).toEqual([2, 4, 6, 8]);
      });
    } else {
      expectNotSupported(() => cn.matMul(a, a), /MatMul/, /float16/, new RegExp(backend));
      expectNotSupported(() => cn.conv2d(cn.reshape(a, [1, 2, 2, 1]), cn.tensor([1], [1, 1, 1, 1], 'float16'), 1, 'same'), /Conv2D/, /float16/);
    }
    a.dispose();
  });

  it('an op without a bf16 kernel refuses with ERR_NOT_SUPPORTED naming the op', () => {
    const a = cn.tensor([1, 2, 3, 4], [2, 2], 'bfloat16');
    expectNotSupported(() => cn.prod(a, 1), /Prod: dtype bfloat16 is not supported/);
    expectNotSupported(() => cn.image.resizeBilinear(cn.reshape(a, [1, 2, 2, 1]), [4, 4]), /ResizeBilinear/, /bfloat16/);
    a.dispose();
  });
});
