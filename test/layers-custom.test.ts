// User-defined layers, written as user code against the public Layer base class: the
// reference notebook's ResidualUnit (conv-bn-relu-conv-bn plus a skip path, 1x1 conv-bn
// when strides > 1) and DepthPool (max over groups of channels by reshape and max).
// They infer shapes, nest weights in Keras order, train (batch-norm statistics move),
// save and load (after registerLayer).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { describeBackends, expectClose, seededRandom } from './helpers.js';

const { layers } = cn;

interface ResidualUnitArgs extends cn.layers.LayerArgs {
  filters: number;
  strides?: number;
  activation?: 'relu' | 'elu';
}

/** He et al.'s residual unit, as in the notebook (no computeOutputShape: it is inferred). */
class ResidualUnit extends cn.layers.Layer {
  static className = 'ResidualUnit';
  readonly filters: number;
  readonly strides: number;
  readonly activation: 'relu' | 'elu';
  readonly mainLayers: cn.layers.Layer[];
  readonly skipLayers: cn.layers.Layer[];

  constructor(args: ResidualUnitArgs) {
    super(args);
    this.filters = args.filters;
    this.strides = args.strides ?? 1;
    this.activation = args.activation ?? 'relu';
    const conv = (filters: number, kernelSize = 3, strides = 1) =>
      layers.conv2d({ filters, kernelSize, strides, padding: 'same', kernelInitializer: 'heNormal', useBias: false });
    this.mainLayers = [
      conv(this.filters, 3, this.strides),
      layers.batchNormalization(),
      layers.activation({ activation: this.activation }),
      conv(this.filters),
      layers.batchNormalization(),
    ];
    this.skipLayers = this.strides > 1 ? [conv(this.filters, 1, this.strides), layers.batchNormalization()] : [];
  }

  call(inputs: cn.Tensor | cn.Tensor[]): cn.Tensor {
    const x = inputs as cn.Tensor;
    let z = x;
    for (const l of this.mainLayers) z = l.apply(z);
    let skip = x;
    for (const l of this.skipLayers) skip = l.apply(skip);
    return this.activation === 'relu' ? cn.relu(cn.add(z, skip)) : cn.elu(cn.add(z, skip));
  }

  getConfig() {
    return { ...super.getConfig(), filters: this.filters, strides: this.strides, activation: this.activation };
  }
}

/** Max over groups of poolSize consecutive channels. */
class DepthPool extends cn.layers.Layer {
  static className = 'DepthPool';
  readonly poolSize: number;
  constructor(args: cn.layers.LayerArgs & { poolSize?: number } = {}) {
    super(args);
    this.poolSize = args.poolSize ?? 2;
  }
  call(inputs: cn.Tensor | cn.Tensor[]): cn.Tensor {
    const x = inputs as cn.Tensor;
    const c = x.shape[x.rank - 1];
    const groups = c / this.poolSize;
    return cn.max(cn.reshape(x, [...x.shape.slice(0, -1), groups, this.poolSize]), -1);
  }
  computeOutputShape(s: cn.layers.Shape | cn.layers.Shape[]): cn.layers.Shape {
    const shape = s as cn.layers.Shape;
    const c = shape[shape.length - 1];
    return [...shape.slice(0, -1), c === null ? null : c / this.poolSize];
  }
  getConfig() {
    return { ...super.getConfig(), poolSize: this.poolSize };
  }
}

/** A layer with its own weight, made in build() by addWeight(). */
class Scale extends cn.layers.Layer {
  static className = 'Scale';
  scale: cn.Variable | null = null;
  build(inputShape: cn.layers.Shape | cn.layers.Shape[]): void {
    const s = inputShape as cn.layers.Shape;
    this.scale = this.addWeight('scale', [s[s.length - 1] as number], 'float32', 'ones');
  }
  call(inputs: cn.Tensor | cn.Tensor[]): cn.Tensor {
    return cn.mul(inputs as cn.Tensor, this.scale!);
  }
}

cn.registerLayer(ResidualUnit);
cn.registerLayer(DepthPool);
cn.registerLayer(Scale);

function smallResNet(): cn.LayersModel {
  const inp = cn.input({ shape: [8, 8, 3] });
  let x = layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false }).apply(inp);
  x = new ResidualUnit({ filters: 8 }).apply(x);
  x = new ResidualUnit({ filters: 16, strides: 2 }).apply(x);
  x = new DepthPool({ poolSize: 2 }).apply(x);
  x = layers.globalAveragePooling2d().apply(x);
  const out = layers.dense({ units: 3, activation: 'softmax' }).apply(x);
  return cn.model({ inputs: inp, outputs: out });
}

const dir = mkdtempSync(join(tmpdir(), 'cn-custom-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeBackends('user layers: ResidualUnit and DepthPool', (backend) => {
  beforeEach(() => cn.setBackend(backend));

  it('infer shapes, nest weights in Keras order and count parameters', () => {
    const m = smallResNet();
    const [, c0, r1, r2, dp] = m.layers;
    expect(r1.outputShape).toEqual([null, 8, 8, 8]);
    expect(r2.outputShape).toEqual([null, 4, 4, 16]);
    expect(dp.outputShape).toEqual([null, 4, 4, 8]);
    // conv 3x3x8x8 + bn(8) + conv 3x3x8x8 + bn(8)
    expect(r1.countParams()).toBe(576 + 32 + 576 + 32);
    // main: 3x3x8x16 + bn + 3x3x16x16 + bn; skip: 1x1x8x16 + bn
    expect(r2.countParams()).toBe(1152 + 64 + 2304 + 64 + 128 + 64);
    expect(r2.trainableWeights.length).toBe(3 + 3 * 2);
    expect(r2.nonTrainableWeights.length).toBe(3 * 2);
    const names = r2.weights.map((w) => w.name.split('/')[1]);
    expect(names).toEqual(['kernel', 'gamma', 'beta', 'moving_mean', 'moving_variance', 'kernel', 'gamma', 'beta', 'moving_mean', 'moving_variance', 'kernel', 'gamma', 'beta', 'moving_mean', 'moving_variance']);
    expect(m.countParams()).toBe(c0.countParams() + r1.countParams() + r2.countParams() + 8 * 3 + 3);
    const text = m.summary({ printFn: () => {} });
    expect(text).toMatch(/residual_unit(_\d+)? \(ResidualUnit\)\s+│ \(None, 8, 8, 8\)\s+│\s+1,216 │/);
    expect(text).toMatch(/depth_pool(_\d+)? \(DepthPool\)\s+│ \(None, 4, 4, 8\)/);
    m.dispose();
  });

  it('a user layer with addWeight() in build() trains and round-trips', async () => {
    const m = cn.sequential({ layers: [new Scale({ inputShape: [3] }), layers.dense({ units: 2, activation: 'softmax' })] });
    const scale = m.layers[0] as Scale;
    expect(scale.weights.map((w) => w.name)).toEqual([`${scale.name}/scale`]);
    expect(m.trainableWeights.length).toBe(3);
    const x = cn.tensor(seededRandom(30, 3), [10, 3]);
    const y = cn.tensor(Int32Array.from({ length: 10 }, (_, i) => i % 2), [10], 'int32');
    m.compile({ optimizer: cn.train.sgd(0.5), loss: 'sparseCategoricalCrossentropy' });
    await m.fit(x, y, { epochs: 2, batchSize: 5, verbose: 0 });
    expect(Array.from(scale.scale!.dataSync())).not.toEqual([1, 1, 1]);
    const path = join(dir, `scale-${backend}`);
    await m.save(path);
    const loaded = await cn.loadLayersModel(path);
    expectClose((loaded.layers[0].getWeights()[0]).dataSync(), scale.scale!.dataSync());
    cn.dispose([x, y]);
    m.dispose();
    loaded.dispose();
  });

  it('DepthPool takes the max over channel groups', () => {
    const dp = new DepthPool({ poolSize: 3 });
    const x = cn.tensor([1, 5, 2, 7, 0, 3, -1, -2, -3, 4, 4, 9], [1, 1, 2, 6]);
    const y = dp.apply(x);
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(y.dataSync())).toEqual([5, 7, -1, 9]);
    cn.dispose([x, y]);
  });

  it('train (training flag reaches nested batch norms), predict, save and load', async () => {
    cn.layers.setRandomSeed(11);
    const m = smallResNet();
    const n = 48;
    const x = cn.tensor(seededRandom(n * 8 * 8 * 3, 5, 0, 1), [n, 8, 8, 3]);
    const y = cn.tensor(Int32Array.from({ length: n }, (_, i) => i % 3), [n], 'int32');
    m.compile({ optimizer: cn.train.adam(0.01), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const r1 = m.layers[2] as ResidualUnit;
    const bn = r1.mainLayers[1] as cn.layers.BatchNormalization;
    const before = bn.movingMean!.dataSync().slice();
    const h = await m.fit(x, y, { epochs: 4, batchSize: 16, verbose: 0 });
    expect(h.history.loss.length).toBe(4);
    expect(h.history.loss[3]).toBeLessThan(h.history.loss[0]);
    const after = bn.movingMean!.dataSync();
    expect(Array.from(after)).not.toEqual(Array.from(before));

    const p = m.predict(x) as cn.Tensor;
    await m.save(join(dir, `resnet-${backend}`));
    const loaded = await cn.loadLayersModel(join(dir, `resnet-${backend}`));
    expect(loaded.layers.map((l) => l.getClassName())).toEqual(m.layers.map((l) => l.getClassName()));
    const p2 = loaded.predict(x) as cn.Tensor;
    expectClose(p2.dataSync(), p.dataSync(), { rtol: 1e-5, atol: 1e-6, what: 'predictions after load' });
    cn.dispose([x, y, p, p2]);
    m.dispose();
    loaded.dispose();
  });
});
