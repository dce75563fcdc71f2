// The model zoo (lib/applications: lenet5, alexnet, vgg16/19, googlenet, resnet18/34/50/101/152,
// seResNet50, seBlock, GroupedConv2D; zoo.ts): parameter counts against the papers at the
// default inputs (readings stated in each builder's docstring), one training step and a
// prediction per architecture family at reduced sizes on every backend, FLOP counts, the
// zoo table and the CLI's parsing. Keras' layer tables for vgg16/vgg19/resnet101/resnet152 are
// checked in applications-zoo-keras.test.ts.
import { describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import * as applications from '../lib/applications/index.js';
import { parseArgs } from '../lib/cli.js';
import { describeBackends, seededRandom } from './helpers.js';

const trainable = (m: cn.LayersModel) => m.trainableWeights.reduce((a, w) => a + w.size, 0);

describe('zoo: parameter counts at the default inputs', () => {
  it("lenet5: 61,706 (the paper's 60,000 with C3 fully connected, no S2/S4 coefficients, dense output)", async () => {
    const m = await applications.lenet5();
    expect(m.countParams()).toBe(61706);
    expect(m.layers.map((l) => l.countParams())).toEqual([0, 156, 0, 2416, 0, 48120, 0, 10164, 850]);
    expect(m.outputs[0].shape).toEqual([null, 10]);
    m.dispose();
  });
  it("googlenet: 6,998,552 (the paper's ~6.8M); 13,378,280 with the auxiliary classifiers", async () => {
    const m = await applications.googlenet();
    expect(m.countParams()).toBe(6998552);
    expect(m.getLayer('inception_3a_output').outputShape).toEqual([null, 28, 28, 256]);
    expect(m.getLayer('inception_4e_output').outputShape).toEqual([null, 14, 14, 832]);
    expect(m.getLayer('inception_5b_output').outputShape).toEqual([null, 7, 7, 1024]);
    m.dispose();
    const a = await applications.googlenet({ auxiliaryClassifiers: true });
    expect(a.countParams()).toBe(13378280);
    expect(a.outputs).toHaveLength(3);
    a.dispose();
  });
  it('resnet18 / resnet34 (classes 1000): 11,689,512 / 21,797,672 trainable, as torchvision', async () => {
    const r18 = applications.resnet18({ classes: 1000 });
    expect(trainable(r18)).toBe(11689512);
    expect(r18.countParams()).toBe(11699112);
    r18.dispose();
    const r34 = applications.resnet34({ classes: 1000 });
    expect(trainable(r34)).toBe(21797672);
    r34.dispose();
  });
  it("seResNet50: resnet50's 25,636,712 + 2,530,992 for the 16 SE blocks", async () => {
    const m = await applications.seResNet50();
    expect(m.countParams()).toBe(25636712 + 2530992);
    // torchvision's ResNet-50 (no conv biases, no moving statistics) + SE = the paper's 28.09M.
    expect(trainable(m) - 25583592 + 25557032).toBe(28088024);
    expect(m.layers.filter((l) => l instanceof applications.SEBlock)).toHaveLength(16);
    expect(m.getLayer('conv2_block1_se').countParams()).toBe(2 * 256 * 16 + 16 + 256);
    m.dispose();
  });
  it("alexnet: 60,965,224 with the paper's two-GPU grouping, 62,378,344 as one tower", async () => {
    const m = await applications.alexnet();
    expect(m.countParams()).toBe(60965224);
    expect(m.getLayer('conv1').outputShape).toEqual([null, 55, 55, 96]);
    expect(m.getLayer('pool5').outputShape).toEqual([null, 6, 6, 256]);
    expect(m.getLayer('conv2').countParams()).toBe(2 * (5 * 5 * 48 * 128 + 128));
    m.dispose();
    // One tower: the grouped layers' full-connectivity counts (the dense layers are unchanged).
    const full = 5 * 5 * 96 * 256 + 256 + (3 * 3 * 384 * 384 + 384) + (3 * 3 * 384 * 256 + 256);
    const grouped = 2 * (5 * 5 * 48 * 128 + 128) + 2 * (3 * 3 * 192 * 192 + 192) + 2 * (3 * 3 * 192 * 128 + 128);
    expect(60965224 - grouped + full).toBe(62378344);
  });
});

describe('zoo: argument errors', () => {
  it('names the argument, the expected and the received value', async () => {
    await expect(applications.alexnet({ groups: 3 as never })).rejects.toThrow(/alexnet: expected groups 1 or 2 but received 3/);
    await expect(applications.alexnet({ inputShape: [64, 64, 3] })).rejects.toThrow(/alexnet: expected an input size of at least 67x67/);
    await expect(applications.googlenet({ auxiliaryClassifiers: true, includeTop: false })).rejects.toThrow(/googlenet: expected includeTop true with auxiliaryClassifiers/);
    await expect(applications.lenet5({ weights: 'imagenet', classes: 1000, inputShape: [32, 32, 3] })).rejects.toThrow(/there are no ImageNet weights for lenet5/);
    expect(() => applications.seBlock({ ratio: 0 })).toThrow(/seBlock: expected ratio a positive integer but received 0/);
    expect(() => new applications.GroupedConv2D({ filters: 5, kernelSize: 3, groups: 2 })).toThrow(/groupedConv2d: expected filters a positive multiple of groups \(2\) but received 5/);
    await expect(applications.runZoo({ models: ['lenet6'] })).rejects.toThrow(/zoo: expected models among lenet5, alexnet/);
  });
});

/**
 * One SGD step on batch 2 (finite loss, weights moved) and a prediction of the right shape
 * (finite unless `finite` is false: a randomly initialized ResNet in inference mode, its batch
 * norms on the initial moving statistics, overflows float32 within its 16 blocks, as in Keras).
 */
async function trainOneStep(model: cn.LayersModel, classes: number, lossWeights?: number[], finite = true): Promise<void> {
  const shape = model.inputs[0].shape.slice(1) as number[];
  const n = 2;
  const x = cn.tensor(seededRandom(n * shape.reduce((a, b) => a * b, 1), 7, 0, 1), [n, ...shape]);
  const y = cn.tensor(Int32Array.from([0, classes - 1]), [n], 'int32');
  const outs = model.outputs.length;
  const optimizer = cn.train.sgd(0.01);
  model.compile({ optimizer, loss: Array(outs).fill('sparseCategoricalCrossentropy'), lossWeights });
  const w0 = model.trainableWeights[0].dataSync().slice();
  const h = await model.fit(x, outs > 1 ? Array(outs).fill(y) : y, { epochs: 1, batchSize: n, verbose: 0 });
  expect(Number.isFinite(h.history.loss[0] as number)).toBe(true);
  const w1 = model.trainableWeights[0].dataSync();
  expect(w1.some((v, i) => v !== w0[i])).toBe(true);
  const p = model.predict(x);
  for (const t of Array.isArray(p) ? p : [p]) {
    expect(t.shape).toEqual([n, classes]);
    if (finite) expect(Array.from(t.dataSync()).every(Number.isFinite)).toBe(true);
    t.dispose();
  }
  cn.dispose([x, y]);
  optimizer.dispose();
}

describeBackends('zoo: one training step and a prediction per family (reduced sizes)', () => {
  const leak = async (fn: () => Promise<void>) => {
    const before = cn.memory().numTensors;
    await fn();
    expect(cn.memory().numTensors).toBe(before);
  };
  it('lenet5 (32x32x1, 10 classes)', () =>
    leak(async () => {
      const m = await applications.lenet5();
      await trainOneStep(m, 10);
      m.dispose();
    }));
  it('alexnet with grouped layers and LRN (67x67x3, 4 classes)', () =>
    leak(async () => {
      const m = await applications.alexnet({ inputShape: [67, 67, 3], classes: 4 });
      await trainOneStep(m, 4);
      m.dispose();
    }));
  it('vgg16 (32x32x3, 3 classes)', () =>
    leak(async () => {
      const m = await applications.vgg16({ inputShape: [32, 32, 3], classes: 3 });
      await trainOneStep(m, 3);
      m.dispose();
    }));
  it('googlenet with the auxiliary classifiers (65x65x3, 5 classes, loss weights 1 / 0.3 / 0.3)', () =>
    leak(async () => {
      const m = await applications.googlenet({ inputShape: [65, 65, 3], classes: 5, auxiliaryClassifiers: true });
      await trainOneStep(m, 5, [1, 0.3, 0.3]);
      m.dispose();
    }));
  it('resnet18 (basic blocks; 32x32x3, 3 classes)', () =>
    leak(async () => {
      const m = applications.resnet18({ inputShape: [32, 32, 3], classes: 3 });
      await trainOneStep(m, 3, undefined, false);
      m.dispose();
    }));
  it('seResNet50 (bottlenecks with SE; 32x32x3, 3 classes)', () =>
    leak(async () => {
      const m = await applications.seResNet50({ inputShape: [32, 32, 3], classes: 3 });
      await trainOneStep(m, 3, undefined, false);
      m.dispose();
    }));
  it('seBlock on any model: y = x * sigmoid(dense(relu(dense(mean_hw x))))', () =>
    leak(async () => {
      const se = applications.seBlock({ ratio: 4 });
      const m = cn.sequential({
        layers: [cn.layers.conv2d({ inputShape: [6, 6, 2], filters: 8, kernelSize: 3, padding: 'same' }), se, cn.layers.globalAveragePooling2d(), cn.layers.dense({ units: 3, activation: 'softmax' })],
      });
      expect(se.countParams()).toBe(8 * 2 + 2 + 2 * 8 + 8);
      // Check the block against its formula on a concrete input.
      const x = cn.tensor(seededRandom(2 * 3 * 3 * 8, 3), [2, 3, 3, 8]);
      const [w1, b1, w2, b2] = se.weights;
      const want = cn.tidy(() => {
        const s = cn.sigmoid(cn.add(cn.matMul(cn.relu(cn.add(cn.matMul(cn.mean(x, [1, 2]), w1), b1)), w2), b2));
        return cn.mul(x, cn.reshape(s, [2, 1, 1, 8]));
      });
      const got = cn.tidy(() => se.apply(x) as cn.Tensor);
      expect(Array.from(got.dataSync()).map((v, i) => Math.abs(v - want.dataSync()[i]) < 1e-6).every(Boolean)).toBe(true);
      cn.dispose([x, want, got]);
      await trainOneStep(m, 3);
      m.dispose();
    }));
});

describe('zoo: FLOPs, the table and the CLI', () => {
  it("countFlops: LeNet-5's 833,040 (multiply-adds x 2 of its convolutions and dense layers)", async () => {
    const m = await applications.lenet5();
    const before = cn.memory().numTensors;
    expect(applications.countFlops(m)).toBe(2 * (25 * 6 * 28 * 28 + 25 * 6 * 16 * 10 * 10 + 25 * 16 * 120 + 120 * 84 + 84 * 10));
    expect(cn.memory().numTensors).toBe(before);
    m.dispose();
    const r = applications.resnet18({ classes: 1000 });
    expect(applications.countFlops(r) / 2 / 1e9).toBeCloseTo(1.81, 2); // the paper's 1.8 GFLOPs (multiply-adds)
    r.dispose();
  });
  it('runZoo measures and formats rows', async () => {
    const rows = await applications.runZoo({ models: ['lenet5'], batch: 2 });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: 'lenet5', params: 61706, flops: 833040, batch: 2 });
    expect(rows[0].imagesPerSecond).toBeGreaterThan(0);
    const table = applications.formatZooTable(rows);
    expect(table.split('\n')[0]).toMatch(/^architecture\s+paper\s+input\s+parameters\s+FLOPs\/image\s+images\/s$/);
    expect(table).toMatch(/lenet5\s+LeCun et al. 1998\s+32x32x1\s+61,706\s+0.83 M/);
  });
  it('parses `zoo` options', () => {
    expect(parseArgs(['zoo'])).toEqual({ command: 'zoo' });
    expect(parseArgs(['zoo', '--backend', 'cpu', '--batch', '4', '--models', 'lenet5,vgg16', '--repeats=2'])).toEqual({ command: 'zoo', backend: 'cpu', batch: 4, models: ['lenet5', 'vgg16'], repeats: 2 });
    expect(() => parseArgs(['zoo', '--models', 'lenet6'])).toThrow(/--models: expected names among lenet5, alexnet, vgg16/);
    expect(() => parseArgs(['zoo', '--epochs', '3'])).toThrow(/zoo: unknown option '--epochs'/);
  });
});
