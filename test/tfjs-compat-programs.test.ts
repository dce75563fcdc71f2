// tfjs-style programs written for this suite (issue 22 item 9): a CNN written with chained
// tensor methods, a small GAN trained by a custom optimizer.minimize loop, and a tf.data.csv
// regression through fitDataset. Each program is one function typed against tfjs-node's API
// that receives the library as `tf`: it runs once with tfjs-node and once with cudnn-node,
// the same source with only the module differing. Both start from the same seeded weights
// and see the same data in the same order, so their losses must be close step by step and
// their accuracies within noise.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs-node';
import * as cn from '../lib/index.js';
import { expectClose, seededRandom } from './helpers.js';
import { loadTfjs } from './tfjs.js';

let tfjs: typeof TF;
beforeAll(async () => {
  tfjs = await loadTfjs();
});
/** cudnn-node, used through tfjs-node's types: the programs below are tfjs programs. */
const ours = cn as unknown as typeof TF;

const seeded = (n: number, seed: number, lo = -1, hi = 1) => Array.from(seededRandom(n, seed, lo, hi));

/** Gives every weight of a model the same seeded values in both libraries. */
function seedWeights(tf: typeof TF, model: TF.LayersModel, seed: number, scale = 0.3): void {
  const ws = model.getWeights();
  model.setWeights(ws.map((w, i) => tf.tensor(seeded(w.size, seed + i, -scale, scale), w.shape)));
}

// ---- program 1: a CNN on 8x8 bar images, preprocessing in chained methods

async function cnnProgram(tf: typeof TF) {
  const n = 240;
  const pixels: number[] = [];
  const labels: number[] = [];
  const noise = seeded(n * 64, 11, 0, 0.3);
  for (let i = 0; i < n; i++) {
    const cls = i % 3; // horizontal, vertical or diagonal bar
    const at = (i * 7) % 6 + 1;
    for (let r = 0; r < 8; r++)
      for (let c = 0; c < 8; c++) {
        const on = cls === 0 ? r === at : cls === 1 ? c === at : r === c;
        pixels.push(Math.round(255 * Math.min(1, (on ? 0.8 : 0) + noise[i * 64 + r * 8 + c])));
      }
    labels.push(cls);
  }
  const xs = tf.tensor(pixels, [n, 64]).reshape([n, 8, 8, 1]).toInt().toFloat().div(255);
  const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 3).toFloat();

  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 6, kernelSize: 3, activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  seedWeights(tf, model, 100);
  model.compile({ optimizer: tf.train.sgd(0.2), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const history = await model.fit(xs, ys, { epochs: 6, batchSize: 24, shuffle: false, validationSplit: 0.2, verbose: 0 });

  const predicted = (model.predict(xs) as TF.Tensor).argMax(-1);
  const accuracy = predicted.equal(ys.argMax(-1)).toFloat().mean().dataSync()[0];
  const result = {
    loss: history.history.loss as number[],
    valAcc: history.history.val_acc as number[],
    tfjsKeys: Object.keys(history.history).filter((k) => !k.includes('accuracy')),
    accuracy,
    predictedShape: predicted.shape,
  };
  tf.dispose([xs, ys, predicted]);
  model.dispose();
  return result;
}

// ---- program 2: a 1-D GAN trained with two optimizers' minimize()

async function ganProgram(tf: typeof TF) {
  const batch = 32;
  const generator = tf.sequential({ layers: [tf.layers.dense({ units: 8, inputShape: [2], activation: 'relu' }), tf.layers.dense({ units: 1 })] });
  const discriminator = tf.sequential({
    layers: [tf.layers.dense({ units: 8, inputShape: [1], activation: 'relu' }), tf.layers.dense({ units: 1, activation: 'sigmoid' })],
  });
  seedWeights(tf, generator, 200, 0.5);
  seedWeights(tf, discriminator, 300, 0.5);
  const gVars = generator.trainableWeights.map((w) => w.read()) as TF.Variable[];
  const dVars = discriminator.trainableWeights.map((w) => w.read()) as TF.Variable[];
  const gOpt = tf.train.adam(0.01);
  const dOpt = tf.train.adam(0.01);
  const bce = (p: TF.Tensor, target: number): TF.Scalar => {
    const q = p.clipByValue(1e-6, 1 - 1e-6);
    const y = tf.fill(q.shape, target);
    return y.mul(q.log()).add(tf.scalar(1).sub(y).mul(tf.scalar(1).sub(q).log())).mean().neg() as TF.Scalar;
  };
  const dLosses: number[] = [];
  const gLosses: number[] = [];
  for (let step = 0; step < 60; step++) {
    // Real samples ~ 3 + 0.5 * (sum of 3 uniforms - 1.5), noise uniform in [-1, 1).
    const u = seeded(batch * 3, 1000 + step, 0, 1);
    const real = tf.tensor2d(Array.from({ length: batch }, (_, i) => 3 + 0.5 * (u[3 * i] + u[3 * i + 1] + u[3 * i + 2] - 1.5)), [batch, 1]);
    const z = tf.tensor2d(seeded(batch * 2, 5000 + step), [batch, 2]);
    const dLoss = dOpt.minimize(() => {
      const fake = generator.apply(z) as TF.Tensor;
      return bce(discriminator.apply(real) as TF.Tensor, 1).add(bce(discriminator.apply(fake) as TF.Tensor, 0)) as TF.Scalar;
    }, true, dVars)!;
    const gLoss = gOpt.minimize(() => bce(discriminator.apply(generator.apply(z)) as TF.Tensor, 1), true, gVars)!;
    dLosses.push(dLoss.dataSync()[0]);
    gLosses.push(gLoss.dataSync()[0]);
    tf.dispose([real, z, dLoss, gLoss]);
  }
  const zEval = tf.tensor2d(seeded(256 * 2, 9), [256, 2]);
  const samples = generator.predict(zEval) as TF.Tensor;
  const fakeMean = samples.mean().dataSync()[0];
  tf.dispose([zEval, samples]);
  generator.dispose();
  discriminator.dispose();
  gOpt.dispose();
  dOpt.dispose();
  return { dLosses, gLosses, fakeMean };
}

// ---- program 3: linear regression from a CSV file through tf.data.csv and fitDataset

function writeRegressionCsv(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cn-compat-csv-'));
  const x = seeded(400, 21, -2, 2);
  const noise = seeded(200, 22, -0.05, 0.05);
  const lines = ['x1,x2,y'];
  for (let i = 0; i < 200; i++) lines.push(`${x[2 * i].toFixed(4)},${x[2 * i + 1].toFixed(4)},${(2 * x[2 * i] - 3 * x[2 * i + 1] + 0.5 + noise[i]).toFixed(4)}`);
  const file = join(dir, 'regression.csv');
  writeFileSync(file, lines.join('\n') + '\n');
  return pathToFileURL(file).href;
}

async function csvRegressionProgram(tf: typeof TF, csvUrl: string) {
  const dataset = tf.data
    .csv(csvUrl, { columnConfigs: { y: { isLabel: true } } })
    .map((row) => {
      const { xs, ys } = row as unknown as { xs: Record<string, number>; ys: Record<string, number> };
      return { xs: Object.values(xs), ys: Object.values(ys) };
    })
    .batch(20);
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
  model.setWeights([tf.zeros([2, 1]), tf.zeros([1])]);
  model.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });
  const history = await model.fitDataset(dataset, { epochs: 8, verbose: 0 });
  const [kernel, bias] = model.getWeights().map((w) => Array.from(w.dataSync()));
  model.dispose();
  return { loss: history.history.loss as number[], kernel, bias };
}

describe('tfjs-style programs give the same results on cudnn-node and tfjs-node', () => {
  it('a CNN written with chained methods: same losses epoch by epoch, same accuracy', async () => {
    const before = cn.memory().numTensors;
    const a = await cnnProgram(ours);
    const b = await cnnProgram(tfjs);
    expect(a.predictedShape).toEqual(b.predictedShape);
    // tfjs-node's history keys (loss, val_loss, acc, val_acc) are readable on ours.
    expect(b.tfjsKeys.sort()).toEqual(['acc', 'loss', 'val_acc', 'val_loss']);
    expect(a.valAcc.length).toBe(b.valAcc.length);
    expectClose(a.loss, b.loss, { rtol: 2e-3, atol: 1e-4, what: 'training loss per epoch' });
    expect(a.loss[a.loss.length - 1]).toBeLessThan(a.loss[0]);
    expect(a.accuracy).toBeGreaterThan(0.9);
    expect(Math.abs(a.accuracy - b.accuracy)).toBeLessThanOrEqual(0.02);
    expect(cn.memory().numTensors).toBeLessThanOrEqual(before + 40); // the seeded-weight tensors are left to the GC
  }, 120_000);

  it('a GAN with a custom minimize() loop: same discriminator and generator losses', async () => {
    const a = await ganProgram(ours);
    const b = await ganProgram(tfjs);
    // Same start, same data: step-by-step agreement, looser as float differences compound.
    expectClose(a.dLosses.slice(0, 20), b.dLosses.slice(0, 20), { rtol: 1e-3, atol: 1e-4, what: 'discriminator loss, steps 0-19' });
    expectClose(a.gLosses.slice(0, 20), b.gLosses.slice(0, 20), { rtol: 1e-3, atol: 1e-4, what: 'generator loss, steps 0-19' });
    expectClose(a.dLosses, b.dLosses, { rtol: 2e-2, atol: 2e-3, what: 'discriminator loss, all steps' });
    expect(Math.abs(a.fakeMean - b.fakeMean)).toBeLessThan(0.05);
  }, 120_000);

  it('a tf.data.csv regression through fitDataset: same losses, the true coefficients', async () => {
    const file = writeRegressionCsv();
    const a = await csvRegressionProgram(ours, file);
    const b = await csvRegressionProgram(tfjs, file);
    expect(a.loss.length).toBe(8);
    expectClose(a.loss, b.loss, { rtol: 1e-3, atol: 1e-5, what: 'loss per epoch' });
    expectClose(a.kernel, b.kernel, { rtol: 1e-3, atol: 1e-4, what: 'learned kernel' });
    expectClose(a.kernel, [2, -3], { rtol: 0, atol: 0.05, what: 'kernel vs the generating coefficients' });
    expectClose(a.bias, [0.5], { rtol: 0, atol: 0.05, what: 'bias vs the generating intercept' });
  }, 120_000);
});
