// Layers under the mixed_bfloat16 policy against Keras' own layers under mixed_bfloat16
// (issue 21, items 7 and 9). The references in test/fixtures/keras/mixed_bfloat16.json come
// from `scripts/keras_reference.py mixed` (Keras 3 on TensorFlow 2.21): for each layer, its
// float32 inputs and weights, Keras' output dtype and values, and the gradients of the float32
// loss sum(cast(out, float32) * r) with respect to each input and each trainable weight, plus
// the layers' compute and variable dtypes. Here the same layers are built with
// cn.mixedPrecision.setGlobalPolicy('mixed_bfloat16'), given the same weights, and run on the
// same inputs. A small CNN's mixed_bfloat16.weights.h5 (saved by Keras under the policy) is
// loaded into our model built under the policy and its predictions compared with Keras'.
//
// Tolerances (never loosened to hide a disagreement):
//   exact  layers that only move, select or add bf16 values (max pooling, relu, flatten,
//          padding, dropout at inference, add): bit-for-bit.
//   ulp    one bf16 rounding of a float32-accumulated result (global average pooling, which
//          Keras computes in float32; average pooling's gradient dy/4): |a - e| <= 2^-7 |e|
//          (one bf16 unit in the last place).
//   bf16   accumulating layers (dense, conv, batch norm, softmax, average pooling) and weight
//          gradients, where the order of sums and where TensorFlow rounds to bf16 differ:
//          |a - e| <= 1e-2 |e| + 1e-2 max|e|. (TensorFlow's bf16 AvgPool sums in bf16: 5 of
//          its 54 outputs here are more than one ulp off the once-rounded mean, by up to
//          2.5e-4 on a mean of -0.0017.)
//   f32    a layer given dtype 'float32' (the softmax head): float32 rounding.
//   chain  the Sequential CNN's gradients (six bf16 roundings in a row). Two valid bf16
//          computations of a chain this long differ by more than one layer's rounding, so
//          both are judged against the same network computed exactly (float64, from the
//          bf16-rounded input and weights; recorded beside Keras' values): per array, ours
//          must be no further from exact than twice Keras' own distance (or 1% of the
//          largest exact value, whichever is more). Measured here: Keras' gradients are
//          0.9-5% of their largest value off exact (TensorFlow sums some in bf16: the conv
//          bias gradient over 256 positions is 5% off), ours 0.2-2%, at most 1.4 times
//          Keras' distance; elementwise, ours and Keras differ by up to 3.4% of the
//          largest value (the batch norm gamma gradient in training mode).
// A layer whose bf16 kernels the backend does not list (cn.backends()[i].reducedPrecision.kernels)
// must refuse with ERR_NOT_SUPPORTED; its comparison is an explicit it.skip naming the kernel
// (on the cpu backend today: DepthwiseConv2D and SeparableConv2D). A disagreement with Keras
// is never hidden by a tolerance: it is named in the test's title ([KNOWN MISMATCH ...]).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { loadKerasWeights } from '../lib/io/h5weights.js';
import { describeBackends } from './helpers.js';
import { ROOT } from './keras.js';

const L = cn.layers;
type Encoded = { shape: number[]; values: Array<number | string> };
type Named = Encoded & { name: string; dtype: string };
interface Case {
  layer: string;
  policy: string;
  computeDtype: string;
  variableDtype: string;
  training?: boolean;
  inputs: Encoded[];
  weights: Array<Named & { trainable: boolean }>;
  output: Encoded & { dtype: string };
  r: Encoded;
  loss: number;
  dInputs: Array<Encoded & { dtype: string }>;
  dWeights: Named[];
  movingAfter?: { moving_mean: Encoded; moving_variance: Encoded };
  layerDtypes?: Array<[string, string, string, string]>;
  layerOutputDtypes?: Array<[string, string]>;
  exact?: { output: Encoded; dInputs: Encoded[]; dWeights: Encoded[] };
}
const FIXTURE_DIR = join(ROOT, 'test', 'fixtures', 'keras');
const fixture = JSON.parse(readFileSync(join(FIXTURE_DIR, 'mixed_bfloat16.json'), 'utf8')) as {
  kerasVersion: string;
  policy: string;
  cases: Record<string, Case>;
  h5: { files: string[]; policy: string; weightDtypes: Array<[string, string]>; input: Encoded; output: Encoded & { dtype: string } };
};

const decode = (e: Encoded): Float32Array => Float32Array.from(e.values.map((v) => (typeof v === 'string' ? Number(v) : v)));
const toTensor = (e: Encoded): cn.Tensor => cn.tensor(decode(e), e.shape, 'float32');

type Tolerance = 'exact' | 'ulp' | 'bf16' | 'f32';

/** Elementwise check at a tolerance class (see the header); prints the first mismatches. */
function expectMatch(actual: Float32Array, expected: Float32Array, tol: Tolerance, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let max = 0;
  for (const v of expected) max = Math.max(max, Math.abs(v));
  const bound = (e: number): number => {
    switch (tol) {
      case 'exact':
        return 0;
      case 'ulp':
        return 2 ** -7 * Math.abs(e);
      case 'bf16':
        return 1e-2 * Math.abs(e) + 1e-2 * max;
      case 'f32':
        return 1e-5 * Math.abs(e) + 1e-6 * max;
    }
  };
  const bad: string[] = [];
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (a === e) continue;
    const err = Math.abs(a - e);
    if (!(err <= bound(e))) {
      bad.push(`[${i}] ${a} vs ${e}`);
      worst = Math.max(worst, err);
    }
  }
  expect(bad.slice(0, 6), `${what}: ${bad.length} of ${expected.length} outside '${tol}' (worst |error| ${worst}, max |expected| ${max})`).toEqual([]);
}

/** The 'chain' class (see the header): max|a - exact| <= max(2 max|keras - exact|, 1e-2 max|exact|). */
function expectMatchChain(actual: Float32Array, keras: Float32Array, exact: Float32Array, what: string): void {
  expect(actual.length, `${what}: length`).toBe(keras.length);
  expect(exact.length, `${what}: exact length`).toBe(keras.length);
  let maxExact = 0, kerasError = 0, ourError = 0, worst = -1;
  for (let i = 0; i < keras.length; i++) {
    maxExact = Math.max(maxExact, Math.abs(exact[i]));
    kerasError = Math.max(kerasError, Math.abs(keras[i] - exact[i]));
    const e = Math.abs(actual[i] - exact[i]);
    if (!(e <= ourError)) [ourError, worst] = [e, i];
  }
  const bound = Math.max(2 * kerasError, 1e-2 * maxExact);
  expect(
    ourError,
    `${what}: ours ${ourError} from exact at [${worst}] (${actual[worst]} vs exact ${exact[worst]}, Keras ${keras[worst]}); Keras' own max error ${kerasError}, max |exact| ${maxExact}`,
  ).toBeLessThanOrEqual(bound);
}

// The bf16 kernels (as cn.backends() lists them) each comparison needs; layers that only move
// data (flatten, padding, dropout at inference) and global average pooling (a float32 mean)
// need none.
const CONV = ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'];
const DEPTHWISE = ['DepthwiseConv2D', 'DepthwiseConv2DBackpropInput', 'DepthwiseConv2DBackpropFilter'];
const CNN_KERNELS = [...CONV, 'BatchNormTrain', 'BatchNormGrad', 'BatchNormInfer', 'Relu', 'ReluGrad', 'MaxPool', 'MaxPoolGrad', 'MatMul'];

/** The layers of scripts/keras_reference_mixed.py's layer_cases(), argument for argument, and how exact each is. */
const LAYERS: Record<string, { make: () => cn.layers.Layer; values: Tolerance; grads: Tolerance; kernels?: string[]; mismatch?: string }> = {
  dense: { make: () => L.dense({ units: 6 }), values: 'bf16', grads: 'bf16', kernels: ['MatMul'] },
  dense_relu: { make: () => L.dense({ units: 6, activation: 'relu' }), values: 'bf16', grads: 'bf16', kernels: ['MatMul', 'Relu', 'ReluGrad'] },
  conv2d_same: { make: () => L.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }), values: 'bf16', grads: 'bf16', kernels: CONV },
  conv2d_valid_s2_relu: {
    make: () => L.conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: 'valid', activation: 'relu' }),
    values: 'bf16',
    grads: 'bf16',
    kernels: [...CONV, 'Relu', 'ReluGrad'],
  },
  depthwise_conv2d: {
    make: () => L.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 2 }),
    values: 'bf16',
    grads: 'bf16',
    kernels: DEPTHWISE,
  },
  separable_conv2d: {
    make: () => L.separableConv2d({ filters: 4, kernelSize: 3, padding: 'valid' }),
    values: 'bf16',
    grads: 'bf16',
    kernels: [...DEPTHWISE, ...CONV],
  },
  batchnorm_train: { make: () => L.batchNormalization({ momentum: 0.8 }), values: 'bf16', grads: 'bf16', kernels: ['BatchNormTrain', 'BatchNormGrad'] },
  batchnorm_infer: { make: () => L.batchNormalization({ momentum: 0.8 }), values: 'bf16', grads: 'bf16', kernels: ['BatchNormInfer'] },
  maxpool: { make: () => L.maxPooling2d({ poolSize: 2 }), values: 'exact', grads: 'exact', kernels: ['MaxPool', 'MaxPoolGrad'] },
  avgpool: { make: () => L.averagePooling2d({ poolSize: 2 }), values: 'bf16', grads: 'ulp', kernels: ['AvgPool', 'AvgPoolGrad'] },
  global_avgpool: {
    make: () => L.globalAveragePooling2d({}),
    values: 'ulp',
    grads: 'ulp',
    // ops.mean sums in float32; the layer casts its output back to bfloat16, as Keras returns it.
  },
  relu: { make: () => L.activation({ activation: 'relu' }), values: 'exact', grads: 'exact', kernels: ['Relu', 'ReluGrad'] },
  softmax: { make: () => L.activation({ activation: 'softmax' }), values: 'bf16', grads: 'bf16', kernels: ['Softmax', 'SoftmaxGrad'] },
  dense_float32_softmax: { make: () => L.dense({ units: 5, activation: 'softmax', dtype: 'float32' }), values: 'f32', grads: 'f32' },
  flatten: { make: () => L.flatten(), values: 'exact', grads: 'exact' },
  add: { make: () => L.add(), values: 'exact', grads: 'exact', kernels: ['Add'] },
  zero_padding2d: { make: () => L.zeroPadding2d({ padding: [[1, 2], [0, 1]] }), values: 'exact', grads: 'exact' },
  dropout_infer: { make: () => L.dropout({ rate: 0.5 }), values: 'exact', grads: 'exact' },
};

/** scripts/keras_reference_mixed.py's small_cnn(): conv-bn-relu-pool-flatten-dense, softmax in float32. */
function smallCnn(): cn.Sequential {
  return cn.sequential({
    layers: [
      L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', inputShape: [8, 8, 2], name: 'conv' }),
      L.batchNormalization({ momentum: 0.8, name: 'bn' }),
      L.activation({ activation: 'relu', name: 'relu' }),
      L.maxPooling2d({ poolSize: 2, name: 'pool' }),
      L.flatten({ name: 'flatten' }),
      L.dense({ units: 5, name: 'dense' }),
      L.activation({ activation: 'softmax', dtype: 'float32', name: 'probs' }),
    ],
  });
}

const rpKernels = (backend: string): string[] => cn.backends().find((b) => b.name === backend)?.reducedPrecision?.kernels ?? [];
/** The kernels of `needed` that backend has no bf16 variant of. */
const missingKernels = (backend: string, needed: string[] = []): string[] => needed.filter((k) => !rpKernels(backend).includes(k));

/**
 * Runs layer on the case's inputs the way the recorder did (once, with the case's training
 * flag): the output, and the gradients of sum(cast(out, float32) * r) with respect to the
 * float32 inputs and the trainable weights. The caller disposes out and the gradients.
 */
function runCase(layer: cn.layers.Layer, c: Case) {
  const xs = c.inputs.map(toTensor);
  const r = toTensor(c.r);
  const training = c.training ?? false;
  const apply = (inputs: cn.Tensor[]) => layer.apply(inputs.length > 1 ? inputs : inputs[0], { training }) as cn.Tensor;
  // Build on the inputs' shapes (in inference mode: BN's moving statistics stay), then set Keras' weights.
  if (!layer.built) cn.tidy(() => void layer.apply(xs.length > 1 ? xs : xs[0], { training: false }));
  layer.setWeights(c.weights.map((w) => decode(w)));
  const ws = layer.trainableWeights;
  let out: cn.Tensor | undefined;
  const { value, grads } = cn.valueAndGrads((...args: cn.Tensor[]) => {
    out = cn.keep(apply(args.slice(0, xs.length)));
    return cn.sum(cn.mul(cn.cast(out, 'float32'), r));
  })([...xs, ...ws]);
  const result = { out: out!, dInputs: grads.slice(0, xs.length), dWeights: grads.slice(xs.length), weights: layer.weights };
  // (An identity layer may return its input itself: that one is the caller's.)
  cn.dispose([...xs.filter((x) => x !== out), r, value]);
  return result;
}

describeBackends('mixed_bfloat16 layers against Keras 3 under mixed_bfloat16', (backend) => {
  beforeAll(() => cn.mixedPrecision.setGlobalPolicy('mixed_bfloat16'));
  afterAll(() => cn.mixedPrecision.setGlobalPolicy('float32'));

  it(`the fixture is Keras' (${fixture.kerasVersion}) under ${fixture.policy}, and our global policy matches it`, () => {
    expect(fixture.policy).toBe('mixed_bfloat16');
    const p = cn.mixedPrecision.globalPolicy();
    expect([p.name, p.computeDtype, p.variableDtype]).toEqual(['mixed_bfloat16', 'bfloat16', 'float32']);
  });

  for (const [name, spec] of Object.entries(LAYERS)) {
    const c = fixture.cases[name];
    const missing = missingKernels(backend, spec.kernels);
    if (missing.length > 0) {
      it.skip(`${name} (${c.layer}): not compared, the ${backend} backend has no bf16 ${missing.join(', ')} kernel`, () => {});
      it(`${name} (${c.layer}): without a bf16 ${missing.join(', ')} kernel the layer refuses with ERR_NOT_SUPPORTED naming the op and bfloat16`, () => {
        const layer = spec.make();
        let err: (Error & { code?: string }) | undefined;
        try {
          cn.tidy(() => runCase(layer, c));
        } catch (e) {
          err = e as Error & { code?: string };
        }
        expect(err, 'expected an error').toBeInstanceOf(cn.NotSupportedError);
        expect(err!.code).toBe('ERR_NOT_SUPPORTED');
        expect(err!.message).toMatch(/bfloat16/);
        expect(err!.message).toMatch(new RegExp(missing.map((k) => k.replace(/[A-Z]/g, (m) => `[${m}${m.toLowerCase()}]`)).join('|')));
        layer.dispose();
      });
      continue;
    }
    const mismatch = spec.mismatch ? ` [KNOWN MISMATCH with Keras: ${spec.mismatch}]` : '';
    it(`${name} (${c.layer}${c.training !== undefined ? `, training=${c.training}` : ''}): dtypes, values (${spec.values}) and gradients (${spec.grads}) as Keras${mismatch}`, () => {
      const layer = spec.make();
      const before = cn.memory().numTensors;
      // The layer's policy, as Keras reports it.
      expect([layer.dtypePolicy.name, layer.computeDtype, layer.variableDtype], 'policy / compute / variable dtype').toEqual([c.policy, c.computeDtype, c.variableDtype]);
      const res = runCase(layer, c);
      // Output dtype, shape and values.
      expect.soft(res.out.dtype, 'output dtype').toBe(c.output.dtype);
      expect(res.out.shape, 'output shape').toEqual(c.output.shape);
      expectMatch(res.out.dataSync(), decode(c.output), spec.values, `${name} output`);
      // Variables: float32, in Keras order.
      expect(res.weights.map((w) => w.dtype), 'variable dtypes').toEqual(c.weights.map((w) => w.dtype));
      expect(res.weights.map((w) => w.shape), 'variable shapes').toEqual(c.weights.map((w) => w.shape));
      // Gradients: dtypes (weight gradients float32, like the variables) and values.
      expect(res.dInputs.map((g) => g.dtype), 'input gradient dtypes').toEqual(c.dInputs.map((g) => g.dtype));
      expect(res.dWeights.map((g) => g.dtype), 'weight gradient dtypes').toEqual(c.dWeights.map((g) => g.dtype));
      expect(res.dWeights.map((g) => g.dtype).every((d) => d === 'float32'), 'weight gradients are float32').toBe(true);
      res.dInputs.forEach((g, i) => expectMatch(g.dataSync(), decode(c.dInputs[i]), spec.grads, `${name} d input ${i}`));
      res.dWeights.forEach((g, i) => {
        expect(g.shape, `${c.dWeights[i].name} gradient shape`).toEqual(c.dWeights[i].shape);
        expectMatch(g.dataSync(), decode(c.dWeights[i]), spec.grads === 'f32' ? 'f32' : 'bf16', `${name} d ${c.dWeights[i].name}`);
      });
      cn.dispose([res.out, ...res.dInputs, ...res.dWeights]);
      // BatchNormalization in training mode: float32 moving statistics, updated as Keras did
      // (from the bf16 input, in float32: tight).
      if (c.movingAfter) {
        const [mean, variance] = [layer.weights[2], layer.weights[3]];
        expect([mean.dtype, variance.dtype]).toEqual(['float32', 'float32']);
        expectMatch(mean.dataSync(), decode(c.movingAfter.moving_mean), 'f32', `${name} moving_mean`);
        expectMatch(variance.dataSync(), decode(c.movingAfter.moving_variance), 'f32', `${name} moving_variance`);
      }
      layer.dispose();
      expect(cn.memory().numTensors, 'tensors leaked').toBe(before);
    });
  }

  const denseMissing = missingKernels(backend, ['MatMul']);
  (denseMissing.length > 0 ? it.skip : it)(
    `a layer given dtype 'mixed_bfloat16' under the float32 global policy computes as Keras' Dense(dtype='mixed_bfloat16')${denseMissing.length > 0 ? ` (not run: the ${backend} backend has no bf16 MatMul kernel)` : ''}`,
    () => {
      const c = fixture.cases.dense;
      cn.mixedPrecision.setGlobalPolicy('float32');
      let layer: cn.layers.Layer;
      try {
        layer = L.dense({ units: 6, dtype: 'mixed_bfloat16' });
      } finally {
        cn.mixedPrecision.setGlobalPolicy('mixed_bfloat16');
      }
      expect([layer.dtypePolicy.name, layer.computeDtype, layer.variableDtype]).toEqual(['mixed_bfloat16', 'bfloat16', 'float32']);
      const res = runCase(layer, c);
      expect(res.out.dtype).toBe('bfloat16');
      expectMatch(res.out.dataSync(), decode(c.output), 'bf16', 'dense output');
      res.dWeights.forEach((g, i) => {
        expect(g.dtype).toBe('float32');
        expectMatch(g.dataSync(), decode(c.dWeights[i]), 'bf16', `d ${c.dWeights[i].name}`);
      });
      cn.dispose([res.out, ...res.dInputs, ...res.dWeights]);
      layer.dispose();
    },
  );

  const cnnMissing = missingKernels(backend, CNN_KERNELS);
  const cnnIt = cnnMissing.length > 0 ? it.skip : it;
  const cnnSkip = cnnMissing.length > 0 ? ` (not run: the ${backend} backend has no bf16 ${cnnMissing.join(', ')} kernel)` : '';
  for (const mode of ['train', 'infer'] as const) {
    const c = fixture.cases[`sequential_cnn_${mode}`];
    cnnIt(`Sequential CNN (conv-bn-relu-pool-flatten-dense-softmax float32), training=${c.training}: per-layer dtypes, output and every gradient as Keras${cnnSkip}`, () => {
      const model = smallCnn();
      expect(model.layers.map((l) => [l.name, l.dtypePolicy.name, l.computeDtype, l.variableDtype])).toEqual(c.layerDtypes);
      // Each layer's output dtype along the stack (bf16 through the dense layer, float32 after the head).
      cn.tidy(() => {
        let t = toTensor(c.inputs[0]);
        const got: Array<[string, string]> = [];
        for (const l of model.layers) {
          t = l.apply(t, { training: false }) as cn.Tensor;
          got.push([l.name, t.dtype]);
        }
        expect(got).toEqual(c.layerOutputDtypes);
      });
      const res = runCase(model, c);
      const exact = c.exact!;
      expect(res.out.dtype).toBe(c.output.dtype);
      // The probabilities: as Keras within the bf16 bound, and as close to exact as Keras' are.
      expectMatch(res.out.dataSync(), decode(c.output), 'bf16', 'cnn output');
      expectMatchChain(res.out.dataSync(), decode(c.output), decode(exact.output), 'cnn output');
      expect(res.weights.map((w) => w.dtype)).toEqual(c.weights.map((w) => w.dtype));
      expect(res.dWeights.map((g) => g.dtype)).toEqual(c.dWeights.map((g) => g.dtype));
      expect(res.dInputs.map((g) => g.dtype)).toEqual(c.dInputs.map((g) => g.dtype));
      res.dInputs.forEach((g, i) => expectMatchChain(g.dataSync(), decode(c.dInputs[i]), decode(exact.dInputs[i]), `cnn d input ${i}`));
      res.dWeights.forEach((g, i) => expectMatchChain(g.dataSync(), decode(c.dWeights[i]), decode(exact.dWeights[i]), `cnn d ${c.dWeights[i].name}`));
      cn.dispose([res.out, ...res.dInputs, ...res.dWeights]);
      if (c.movingAfter) {
        // bf16, not f32 as for the lone layer: the statistics are of the conv output, which
        // Keras rounds twice (after the convolution, after the bias add) and ours once.
        const bn = model.layers[1];
        expect([bn.weights[2].dtype, bn.weights[3].dtype]).toEqual(['float32', 'float32']);
        expectMatch(bn.weights[2].dataSync(), decode(c.movingAfter.moving_mean), 'bf16', 'cnn bn moving_mean');
        expectMatch(bn.weights[3].dataSync(), decode(c.movingAfter.moving_variance), 'bf16', 'cnn bn moving_variance');
      }
      model.dispose();
    });
  }

  for (const file of fixture.h5.files) {
    cnnIt(`Keras' ${file} (a CNN trained and saved under mixed_bfloat16) loads into our mixed_bfloat16 model: float32 variables, Keras' predictions${cnnSkip}`, async () => {
      expect(fixture.h5.policy).toBe('mixed_bfloat16');
      const model = smallCnn();
      const res = await loadKerasWeights(model, join(FIXTURE_DIR, file));
      expect(res).toEqual({ format: file.endsWith('.weights.h5') ? 'keras3' : 'legacy', weights: fixture.h5.weightDtypes.length });
      expect(model.weights.map((w) => w.dtype)).toEqual(fixture.h5.weightDtypes.map(([, d]) => d));
      // Loading keeps the model's policy: bf16 compute up to the float32 head.
      expect(model.layers.map((l) => l.computeDtype)).toEqual(['bfloat16', 'bfloat16', 'bfloat16', 'bfloat16', 'bfloat16', 'bfloat16', 'float32']);
      const x = toTensor(fixture.h5.input);
      const y = model.predict(x) as cn.Tensor;
      expect(y.dtype).toBe(fixture.h5.output.dtype);
      expect(y.shape).toEqual(fixture.h5.output.shape);
      expectMatch(y.dataSync(), decode(fixture.h5.output), 'bf16', 'predictions');
      cn.dispose([x, y]);
      model.dispose();
    });
  }
});

describe('mixed_bfloat16 fixture', () => {
  it('covers every layer this suite compares, with Keras float32 variables and float32 weight gradients', () => {
    for (const name of [...Object.keys(LAYERS), 'sequential_cnn_train', 'sequential_cnn_infer']) {
      const c = fixture.cases[name];
      expect(c, name).toBeDefined();
      expect(c.weights.every((w) => w.dtype === 'float32'), `${name} variables`).toBe(true);
      expect(c.dWeights.every((w) => w.dtype === 'float32'), `${name} weight gradients`).toBe(true);
    }
  });
});
