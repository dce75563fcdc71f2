// Layers: symbolic shape inference and its error messages, values against the ops they
// wrap, training vs inference behaviour (dropout, batch norm with Keras 3 moving
// statistics), initializers, trainable flags, configs, and no leaked tensors.
import { beforeEach, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { movingAverageUpdate } from '../lib/layers/base.js';
import { describeBackends, expectClose, seededRandom } from './helpers.js';

const { layers } = cn;
const rand = (shape: number[], seed: number, lo = -1, hi = 1) => cn.tensor(seededRandom(shape.reduce((a, b) => a * b, 1), seed, lo, hi), shape);

describe('symbolic shape inference', () => {
  const x = cn.input({ shape: [28, 28, 3] });
  const cases: Array<[string, cn.layers.Layer, Array<number | null>]> = [
    ['conv2d same', layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same' }), [null, 28, 28, 8]],
    ['conv2d valid stride 2', layers.conv2d({ filters: 8, kernelSize: 5, strides: 2 }), [null, 12, 12, 8]],
    ['conv2d dilated', layers.conv2d({ filters: 4, kernelSize: 3, dilationRate: 2 }), [null, 24, 24, 4]],
    ['depthwiseConv2d', layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same' }), [null, 28, 28, 6]],
    ['separableConv2d', layers.separableConv2d({ filters: 5, kernelSize: 3, strides: 2, padding: 'same' }), [null, 14, 14, 5]],
    ['maxPooling2d', layers.maxPooling2d({ poolSize: 2 }), [null, 14, 14, 3]],
    ['maxPooling2d 3/2 same', layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }), [null, 14, 14, 3]],
    ['averagePooling2d', layers.averagePooling2d({ poolSize: [4, 2] }), [null, 7, 14, 3]],
    ['globalAveragePooling2d', layers.globalAveragePooling2d(), [null, 3]],
    ['globalMaxPooling2d keepDims', layers.globalMaxPooling2d({ keepDims: true }), [null, 1, 1, 3]],
    ['flatten', layers.flatten(), [null, 2352]],
    ['reshape', layers.reshape({ targetShape: [-1, 3] }), [null, 784, 3]],
    ['dense on rank 4', layers.dense({ units: 7 }), [null, 28, 28, 7]],
    ['batchNormalization', layers.batchNormalization(), [null, 28, 28, 3]],
    ['dropout', layers.dropout({ rate: 0.3 }), [null, 28, 28, 3]],
    ['activation', layers.activation({ activation: 'softmax' }), [null, 28, 28, 3]],
  ];
  for (const [name, layer, want] of cases)
    it(name, () => {
      const y = layer.apply(x);
      expect(y).toBeInstanceOf(cn.SymbolicTensor);
      expect(y.shape).toEqual(want);
      expect(y.sourceLayer).toBe(layer);
    });

  it('add and concatenate over several inputs', () => {
    const a = cn.input({ shape: [4, 4, 2] });
    const b = cn.input({ shape: [4, 4, 3] });
    expect(layers.concatenate().apply([a, b]).shape).toEqual([null, 4, 4, 5]);
    expect(layers.concatenate({ axis: 1 }).apply([a, a]).shape).toEqual([null, 8, 4, 2]);
    expect(layers.add().apply([a, a, a]).shape).toEqual([null, 4, 4, 2]);
  });

  it('layer names follow Keras (snake_case class name, then _1, _2, ...)', () => {
    const c = layers.conv2d({ filters: 1, kernelSize: 1 });
    expect(c.name).toMatch(/^conv2d(_\d+)?$/);
    expect(layers.batchNormalization().name).toMatch(/^batch_normalization(_\d+)?$/);
    expect(layers.maxPooling2d().name).toMatch(/^max_pooling2d(_\d+)?$/);
    expect(layers.dense({ units: 1, name: 'head' }).name).toBe('head');
  });

  it('errors say what was expected and what was received', () => {
    expect(() => layers.conv2d({ filters: 4, kernelSize: 3 }).apply(cn.input({ shape: [28, 28] }))).toThrow(
      /conv2d: expected input of rank 4 \(NHWC\) but received shape \[null,28,28\]/,
    );
    expect(() => layers.conv2d({ filters: 0, kernelSize: 3 })).toThrow(/conv2d: expected filters as a positive integer but received 0/);
    expect(() => layers.conv2d({ filters: 2, kernelSize: 3, padding: 'full' as never })).toThrow(/conv2d: expected padding 'valid' or 'same' but received 'full'/);
    expect(() => layers.dense({ units: 3, activation: 'nope' })).toThrow(/dense: expected an activation .* but received 'nope'/);
    expect(() => layers.maxPooling2d({ poolSize: 5 }).apply(cn.input({ shape: [3, 3, 1] }))).toThrow(/maxPooling2d: expected an input at least as large as poolSize/);
    expect(() => layers.add().apply([cn.input({ shape: [2, 3] }), cn.input({ shape: [2, 4] })])).toThrow(/add: expected inputs of compatible shapes/);
    expect(() => layers.flatten().apply(cn.input({ batchShape: [null, null, 3] }))).toThrow(/flatten: expected an input with known non-batch dimensions/);
    expect(() => layers.reshape({ targetShape: [5, -1] }).apply(cn.input({ shape: [12] }))).toThrow(/reshape: expected a targetShape with 12 elements per sample/);
    expect(() => layers.dropout({ rate: 1 })).toThrow(/dropout: expected rate in \[0, 1\) but received 1/);
    expect(() => layers.batchNormalization({ axis: 1 }).apply(cn.input({ shape: [4, 4, 2] }))).toThrow(/batchNormalization: expected axis -1/);
  });

  it('a layer applied to mixed symbolic and concrete inputs fails clearly', () => {
    const t = cn.zeros([1, 2]);
    expect(() => layers.add().apply([cn.input({ shape: [2] }), t] as never)).toThrow(/expected inputs that are all SymbolicTensors or all Tensors/);
    t.dispose();
  });
});

describeBackends('layers on tensors', (backend) => {
  beforeEach(() => cn.setBackend(backend));

  it('conv2d (relu, bias) equals the fused op and keeps weights HWIO', () => {
    const layer = layers.conv2d({ filters: 5, kernelSize: [3, 2], strides: [2, 1], padding: 'same', activation: 'relu', biasInitializer: 'ones' });
    const x = rand([2, 7, 6, 3], 1);
    const before = cn.memory().numTensors;
    const y = layer.apply(x);
    const [k, b] = layer.getWeights();
    expect(k.shape).toEqual([3, 2, 3, 5]);
    expect(b.shape).toEqual([5]);
    const ref = cn.tidy(() => cn.relu(cn.add(cn.conv2d(x, k, [2, 1], 'same'), b)));
    expect(y.shape).toEqual([2, 4, 6, 5]);
    expectClose(y.dataSync(), ref.dataSync(), { rtol: 1e-5, atol: 1e-6 });
    cn.dispose([y, k, b, ref]);
    expect(cn.memory().numTensors).toBe(before + 2); // the two weights
    layer.dispose();
    x.dispose();
  });

  it('dense applies to the last axis of any rank', () => {
    const layer = layers.dense({ units: 4, activation: 'sigmoid' });
    const x = rand([2, 3, 5], 2);
    const y = layer.apply(x);
    const [k, b] = layer.getWeights();
    const ref = cn.sigmoid(cn.add(cn.reshape(cn.matMul(cn.reshape(x, [6, 5]), k), [2, 3, 4]), b));
    expectClose(y.dataSync(), ref.dataSync(), { rtol: 1e-5, atol: 1e-6, actualShape: y.shape, expectedShape: [2, 3, 4] });
    cn.dispose([x, y, k, b, ref]);
    layer.dispose();
  });

  it('pooling, global pooling, flatten, reshape, merge layers', () => {
    const x = rand([2, 6, 6, 3], 3);
    const checks: Array<[cn.Tensor, cn.Tensor]> = cn.tidy(() => [
      [layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(x), cn.maxPool(x, 3, 2, 'same')],
      [layers.averagePooling2d({ poolSize: 2 }).apply(x), cn.avgPool(x, 2, 2, 'valid')],
      [layers.globalAveragePooling2d().apply(x), cn.mean(x, [1, 2])],
      [layers.globalMaxPooling2d().apply(x), cn.max(x, [1, 2])],
      [layers.flatten().apply(x), cn.reshape(x, [2, 108])],
      [layers.reshape({ targetShape: [36, -1] }).apply(x), cn.reshape(x, [2, 36, 3])],
      [layers.add().apply([x, x, x]), cn.mul(x, 3)],
      [layers.average().apply([x, cn.neg(x)]), cn.zerosLike(x)],
      [layers.maximum().apply([x, cn.neg(x)]), cn.abs(x)],
      [layers.multiply().apply([x, x]), cn.square(x)],
      [layers.concatenate().apply([x, x]), cn.concat([x, x], 3)],
      [layers.activation({ activation: 'relu6' }).apply(x), cn.relu6(x)],
    ]);
    checks.forEach(([a, e], i) => expectClose(a.dataSync(), e.dataSync(), { rtol: 1e-6, atol: 1e-6, what: `case ${i}`, actualShape: a.shape, expectedShape: e.shape }));
    cn.dispose([checks, x]);
  });

  it('dropout: identity in inference; in training zeroes about rate and scales the rest', () => {
    const layer = layers.dropout({ rate: 0.4, seed: 3 });
    const x = cn.ones([100, 100]);
    const inf = layer.apply(x);
    expectClose(inf.dataSync(), x.dataSync());
    const tr = layer.apply(x, { training: true });
    const v = tr.dataSync();
    const zeros = v.filter((a) => a === 0).length / v.length;
    expect(zeros).toBeGreaterThan(0.37);
    expect(zeros).toBeLessThan(0.43);
    expect(v.filter((a) => a !== 0).every((a) => Math.abs(a - 1 / 0.6) < 1e-5)).toBe(true);
    // A second training call draws a new mask.
    const tr2 = layer.apply(x, { training: true });
    expect(Array.from(tr2.dataSync())).not.toEqual(Array.from(v));
    cn.dispose([x, inf, tr, tr2]);
  });

  it('MovingAverageUpdate (batch norm\'s moving statistics): bit for bit the unfused mul, mul, add; bad input named', () => {
    for (const [n, momentum] of [[5, 0.99], [3001, 0.9], [64, 0], [64, 1]] as const) {
      const v = cn.variable(rand([n], 40 + n, -3, 3));
      const x = rand([n], 50 + n, -2, 2);
      const want = cn.tidy(() => cn.add(cn.mul(v, momentum), cn.mul(x, 1 - momentum)));
      movingAverageUpdate(v, x, momentum);
      expect(Array.from(v.dataSync()), `n=${n} momentum=${momentum}`).toEqual(Array.from(want.dataSync()));
      cn.dispose([v, x, want]);
    }
    const v = cn.variable(cn.zeros([4]));
    const bad = cn.zeros([5]);
    expect(() => movingAverageUpdate(v, bad, 0.9)).toThrow(/movingAverageUpdate: expected value of shape \[4\] but received \[5\]/);
    const x = cn.ones([4]);
    expect(() => movingAverageUpdate(v, x, 1.5)).toThrow(/movingAverageUpdate: expected momentum in \[0, 1\] but received 1\.5/);
    expect(Array.from(v.dataSync())).toEqual([0, 0, 0, 0]); // a refused update writes nothing
    cn.dispose([v, bad, x]);
  });

  it('batchNormalization: batch statistics and Keras 3 moving averages in training, moving statistics in inference', () => {
    const bn = layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 });
    const x = rand([4, 3, 3, 2], 4, -2, 3);
    const xv = x.dataSync();
    const n = 36;
    const mean = [0, 1].map((c) => { let s = 0; for (let i = c; i < xv.length; i += 2) s += xv[i]; return s / n; });
    const varb = [0, 1].map((c) => { let s = 0; for (let i = c; i < xv.length; i += 2) s += (xv[i] - mean[c]) ** 2; return s / n; });
    const y = bn.apply(x, { training: true });
    const yv = y.dataSync();
    const ref = Float32Array.from(xv, (v, i) => (v - mean[i % 2]) / Math.sqrt(varb[i % 2] + 1e-3));
    expectClose(yv, ref, { rtol: 1e-4, atol: 1e-5, what: 'training output' });
    const [gamma, beta, mm, mv] = bn.getWeights();
    expect([gamma, beta, mm, mv].map((t) => t.shape)).toEqual([[2], [2], [2], [2]]);
    expect(bn.weights.map((w) => w.name)).toEqual([`${bn.name}/gamma`, `${bn.name}/beta`, `${bn.name}/moving_mean`, `${bn.name}/moving_variance`]);
    // moving = moving * momentum + batch * (1 - momentum), biased batch variance.
    expectClose(mm.dataSync(), mean.map((m) => 0.1 * m), { rtol: 1e-4, atol: 1e-6, what: 'moving_mean' });
    expectClose(mv.dataSync(), varb.map((v) => 0.9 + 0.1 * v), { rtol: 1e-4, atol: 1e-6, what: 'moving_variance' });
    // Inference uses the moving statistics and leaves them alone.
    const yi = bn.apply(x);
    const mmv = mm.dataSync(), mvv = mv.dataSync();
    expectClose(yi.dataSync(), Float32Array.from(xv, (v, i) => (v - mmv[i % 2]) / Math.sqrt(mvv[i % 2] + 1e-3)), { rtol: 1e-4, atol: 1e-5, what: 'inference output' });
    const [, , mm2] = bn.getWeights();
    expectClose(mm2.dataSync(), mmv);
    // Frozen: training=true runs in inference mode (Keras 3).
    bn.trainable = false;
    const yf = bn.apply(x, { training: true });
    expectClose(yf.dataSync(), yi.dataSync(), { what: 'frozen layer in training mode' });
    expect(bn.trainableWeights).toEqual([]);
    expect(bn.nonTrainableWeights.length).toBe(4);
    cn.dispose([x, y, yi, yf, gamma, beta, mm, mv, mm2]);
    bn.dispose();
  });

  it('initializers: heNormal and glorotUniform scales, seeds reproduce', () => {
    const he = layers.initializers.heNormal({ seed: 1 }).values([3, 3, 64, 128]);
    const std = Math.sqrt(he.reduce((a, v) => a + v * v, 0) / he.length);
    expect(Math.abs(std - Math.sqrt(2 / (9 * 64))) / Math.sqrt(2 / (9 * 64))).toBeLessThan(0.03);
    expect(Math.max(...he.map(Math.abs))).toBeLessThanOrEqual((2 * Math.sqrt(2 / 576)) / 0.8796256610342398 + 1e-6);
    const gu = layers.initializers.glorotUniform({ seed: 2 }).values([100, 50]);
    const limit = Math.sqrt(6 / 150);
    expect(Math.max(...gu.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...gu.map(Math.abs))).toBeGreaterThan(limit * 0.98);
    expect(Array.from(layers.initializers.heNormal({ seed: 7 }).values([10]))).toEqual(Array.from(layers.initializers.heNormal({ seed: 7 }).values([10])));
    const a = layers.conv2d({ filters: 2, kernelSize: 3, kernelInitializer: 'he_normal' });
    const b = layers.conv2d({ filters: 2, kernelSize: 3, kernelInitializer: layers.initializers.heNormal({ seed: 5 }) });
    a.apply(cn.input({ shape: [5, 5, 1] }));
    b.apply(cn.input({ shape: [5, 5, 1] }));
    expect(a.getConfig().kernelInitializer).toEqual({ className: 'HeNormal', config: {} });
    expect(b.getConfig().kernelInitializer).toEqual({ className: 'HeNormal', config: { seed: 5 } });
    expect(() => layers.conv2d({ filters: 2, kernelSize: 3, kernelInitializer: 'magic' })).toThrow(/expected an initializer name/);
    a.dispose();
    b.dispose();
  });

  it('configs recreate equivalent layers', () => {
    const specs: cn.layers.Layer[] = [
      layers.conv2d({ filters: 3, kernelSize: [3, 1], strides: 2, padding: 'same', activation: 'elu', useBias: false, dilationRate: 1 }),
      layers.dense({ units: 4, activation: 'softmax', kernelInitializer: 'heUniform' }),
      layers.batchNormalization({ momentum: 0.8, epsilon: 1e-5, center: false }),
      layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' }),
      layers.dropout({ rate: 0.25, noiseShape: [null, 1, 1, null] }),
      layers.concatenate({ axis: 2 }),
      layers.reshape({ targetShape: [2, -1] }),
      layers.separableConv2d({ filters: 2, kernelSize: 3, depthMultiplier: 2 }),
    ];
    for (const l of specs) {
      const c = cn.layers.serializeLayer(l);
      const copy = cn.layers.deserializeLayer(JSON.parse(JSON.stringify(c)));
      expect(copy.getClassName()).toBe(l.getClassName());
      expect(cn.layers.serializeLayer(copy)).toEqual(c);
    }
  });

  it('getWeights / setWeights check counts and shapes', () => {
    const d = layers.dense({ units: 2 });
    d.apply(cn.input({ shape: [3] }));
    expect(() => d.setWeights([cn.zeros([3, 2])])).toThrow(/setWeights: expected 2 weights but received '1'/);
    expect(() => d.setWeights([cn.zeros([2, 3]), cn.zeros([2])])).toThrow(/expected weight 0 \('dense(_\d+)?\/kernel'\) of shape \[3,2\] but received \[2,3\]/);
    d.setWeights([cn.ones([3, 2]), cn.fill([2], 0.5)]);
    const y = d.apply(cn.ones([1, 3]));
    expectClose(y.dataSync(), [3.5, 3.5]);
    y.dispose();
    d.dispose();
  });
});
