// Losses and metrics: Keras 3 (TensorFlow backend) semantics, checked by hand on small
// cases (clipping included), against tfjs-node (tf.metrics / tf.losses) on random
// batches, values and gradients, inside compile(), and name resolution.
import { describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { describeBackends, expectClose, seededRandom } from './helpers.js';
import { loadTfjs } from './tfjs.js';

const { losses, metrics } = cn;
const B = 6, C = 4;

/** Seeded softmax probabilities [B, C] and the logits they came from. */
function probs(seed: number): { logits: Float32Array; p: Float32Array } {
  const logits = seededRandom(B * C, seed, -3, 3);
  const p = new Float32Array(B * C);
  for (let r = 0; r < B; r++) {
    let m = -Infinity, s = 0;
    for (let c = 0; c < C; c++) m = Math.max(m, logits[r * C + c]);
    for (let c = 0; c < C; c++) s += Math.exp(logits[r * C + c] - m);
    for (let c = 0; c < C; c++) p[r * C + c] = Math.exp(logits[r * C + c] - m) / s;
  }
  return { logits, p };
}
const labels = Int32Array.from([0, 3, 1, 1, 2, 3]);
const oneHot = (ls: Int32Array) => {
  const out = new Float32Array(ls.length * C);
  ls.forEach((l, i) => (out[i * C + l] = 1));
  return out;
};
const scalarOf = (t: cn.Tensor) => {
  expect(t.shape).toEqual([]);
  expect(t.dtype).toBe('float32');
  return t.dataSync()[0];
};

describeBackends('losses by hand (Keras clipping)', () => {
  it('sparseCategoricalCrossentropy: -log p[label], mean over the batch; labels [N] or [N,1], int32 or float', () => {
    const p = cn.tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]]);
    const want = (-Math.log(0.7) - Math.log(0.8)) / 2;
    expect(scalarOf(losses.sparseCategoricalCrossentropy(cn.tensor([0, 1], [2], 'int32'), p))).toBeCloseTo(want, 6);
    expect(scalarOf(losses.sparseCategoricalCrossentropy(cn.tensor([[0], [1]], [2, 1], 'int32'), p))).toBeCloseTo(want, 6);
    expect(scalarOf(losses.sparseCategoricalCrossentropy(cn.tensor([0, 1]), p))).toBeCloseTo(want, 6);
  });

  it('probabilities are clipped to [1e-7, 1 - 1e-7] before the log', () => {
    const sce = losses.sparseCategoricalCrossentropy(cn.tensor([0], [1], 'int32'), cn.tensor([[0, 1]]));
    expect(scalarOf(sce)).toBeCloseTo(-Math.log(1e-7), 4); // 16.118
    const cce = losses.categoricalCrossentropy(cn.tensor([[1, 0]]), cn.tensor([[0, 1]]));
    expect(scalarOf(cce)).toBeCloseTo(-Math.log(1e-7), 4);
    // Keras TF backend BCE: -(z log(p + eps) + (1 - z) log(1 - p + eps)) with p clipped.
    const bce = losses.binaryCrossentropy(cn.tensor([[1], [0]]), cn.tensor([[0], [0]]));
    expect(scalarOf(bce)).toBeCloseTo((-Math.log(2e-7) - Math.log(1 - 1e-7 + 1e-7)) / 2, 4);
  });

  it('categoricalCrossentropy renormalizes yPred over the last axis', () => {
    const l = losses.categoricalCrossentropy(cn.tensor([[0, 1]]), cn.tensor([[1, 3]]));
    expect(scalarOf(l)).toBeCloseTo(-Math.log(0.75), 6);
  });

  it('binaryCrossentropy, meanSquaredError, meanAbsoluteError by hand; yTrue [N] against yPred [N,1]', () => {
    const yt = cn.tensor([1, 0, 1]);
    const yp = cn.tensor([[0.9], [0.2], [0.4]]);
    const bce = (-Math.log(0.9 + 1e-7) - Math.log(0.8 + 1e-7) - Math.log(0.4 + 1e-7)) / 3;
    expect(scalarOf(losses.binaryCrossentropy(yt, yp))).toBeCloseTo(bce, 5);
    expect(scalarOf(losses.meanSquaredError(yt, yp))).toBeCloseTo((0.01 + 0.04 + 0.36) / 3, 6);
    expect(scalarOf(losses.meanAbsoluteError(yt, yp))).toBeCloseTo((0.1 + 0.2 + 0.6) / 3, 6);
    expect(scalarOf(losses.mse(cn.tensor([[1, 2], [3, 4]]), cn.tensor([[1, 1], [1, 1]])))).toBeCloseTo((0 + 1 + 4 + 9) / 4, 6);
  });

  it('fromLogits variants equal the probability forms on softmax / sigmoid outputs', () => {
    const { logits, p } = probs(7);
    const [z, pr, y] = [cn.tensor(logits, [B, C]), cn.tensor(p, [B, C]), cn.tensor(labels, [B], 'int32')];
    expectClose([scalarOf(losses.sparseCategoricalCrossentropyFromLogits(y, z))], [scalarOf(losses.sparseCategoricalCrossentropy(y, pr))], { rtol: 1e-5 });
    const oh = cn.tensor(oneHot(labels), [B, C]);
    expectClose([scalarOf(losses.categoricalCrossentropy(oh, z, true))], [scalarOf(losses.categoricalCrossentropy(oh, pr))], { rtol: 1e-5 });
    const bz = cn.tensor(seededRandom(B, 8, -4, 4), [B, 1]);
    const bt = cn.tensor([1, 0, 0, 1, 1, 0], [B, 1]);
    expectClose([scalarOf(losses.binaryCrossentropyFromLogits(bt, bz))], [scalarOf(losses.binaryCrossentropy(bt, cn.sigmoid(bz)))], { rtol: 1e-5 });
  });

  it('shape errors name the loss and both shapes', () => {
    const p = cn.tensor([[0.5, 0.5], [0.5, 0.5]]);
    expect(() => losses.sparseCategoricalCrossentropy(cn.tensor([0, 1, 1], [3], 'int32'), p)).toThrow(
      'sparseCategoricalCrossentropy: expected yTrue of shape [2] or [2,1] (class ids for yPred [2,2]) but received [3]',
    );
    expect(() => losses.meanSquaredError(cn.tensor([1, 2, 3]), p)).toThrow('meanSquaredError: expected yTrue of shape [2,2] (the shape of yPred) but received [3]');
    expect(() => metrics.categoricalAccuracy(cn.tensor([1, 0]), p)).toThrow('categoricalAccuracy: expected yTrue of shape [2,2] (one-hot, like yPred) but received [2]');
  });
});

describeBackends('metrics by hand', () => {
  it('sparseCategoricalAccuracy, categoricalAccuracy, binaryAccuracy (threshold 0.5), mse, mae', () => {
    const p = cn.tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.4, 0.1]]);
    expect(scalarOf(metrics.sparseCategoricalAccuracy(cn.tensor([0, 2, 2, 0], [4], 'int32'), p))).toBeCloseTo(0.75, 6);
    expect(scalarOf(metrics.sparseCategoricalAccuracy(cn.tensor([[0], [1], [2], [1]]), p))).toBeCloseTo(0.75, 6);
    expect(scalarOf(metrics.categoricalAccuracy(cn.tensor([[1, 0, 0], [0, 0, 1], [0, 0, 1], [1, 0, 0]]), p))).toBeCloseTo(0.75, 6);
    expect(scalarOf(metrics.binaryAccuracy(cn.tensor([1, 0, 1, 0]), cn.tensor([[0.6], [0.5], [0.2], [0.4]])))).toBeCloseTo(0.75, 6);
    expect(scalarOf(metrics.binaryAccuracy(cn.tensor([1, 0]), cn.tensor([0.3, 0.1]), 0.25))).toBeCloseTo(1, 6);
    expect(scalarOf(metrics.mse(cn.tensor([1, 2]), cn.tensor([2, 4])))).toBeCloseTo(2.5, 6);
    expect(scalarOf(metrics.mae(cn.tensor([1, 2]), cn.tensor([2, 4])))).toBeCloseTo(1.5, 6);
  });
});

describeBackends('losses and metrics vs tfjs-node', () => {
  it('values: categorical / sparse cross-entropy (probs and logits), BCE, MSE, MAE and the accuracies', async () => {
    const tf = await loadTfjs();
    const { logits, p } = probs(11);
    const oh = oneHot(labels);
    const [z, pr, y, yoh] = [cn.tensor(logits, [B, C]), cn.tensor(p, [B, C]), cn.tensor(labels, [B], 'int32'), cn.tensor(oh, [B, C])];
    const [tz, tp, toh] = [tf.tensor2d(logits, [B, C]), tf.tensor2d(p, [B, C]), tf.tensor2d(oh, [B, C])];
    const tval = (t: { dataSync(): ArrayLike<number> }) => t.dataSync()[0];
    const pairs: Array<[string, number, number]> = [
      ['categoricalCrossentropy', scalarOf(losses.categoricalCrossentropy(yoh, pr)), tval(tf.metrics.categoricalCrossentropy(toh, tp).mean())],
      ['sparseCategoricalCrossentropy', scalarOf(losses.sparseCategoricalCrossentropy(y, pr)), tval(tf.metrics.categoricalCrossentropy(toh, tp).mean())],
      ['sparse from logits', scalarOf(losses.sparseCategoricalCrossentropy(y, z, true)), tval(tf.losses.softmaxCrossEntropy(toh, tz))],
      ['categorical from logits', scalarOf(losses.categoricalCrossentropy(yoh, z, true)), tval(tf.losses.softmaxCrossEntropy(toh, tz))],
      ['sparseCategoricalAccuracy', scalarOf(metrics.sparseCategoricalAccuracy(y, pr)), tval(tf.metrics.sparseCategoricalAccuracy(tf.tensor1d(labels, 'float32'), tp).mean())],
      ['categoricalAccuracy', scalarOf(metrics.categoricalAccuracy(yoh, pr)), tval(tf.metrics.categoricalAccuracy(toh, tp).mean())],
    ];
    const bt = seededRandom(B * 3, 12, 0, 1).map((v) => (v > 0.5 ? 1 : 0));
    const bp = seededRandom(B * 3, 13, 0.01, 0.99);
    const bz = seededRandom(B * 3, 14, -5, 5);
    const [cbt, cbp, cbz] = [cn.tensor(bt, [B, 3]), cn.tensor(bp, [B, 3]), cn.tensor(bz, [B, 3])];
    const [tbt, tbp, tbz] = [tf.tensor2d(bt, [B, 3]), tf.tensor2d(bp, [B, 3]), tf.tensor2d(bz, [B, 3])];
    const reg = [cn.tensor(seededRandom(B * 3, 15), [B, 3]), tf.tensor2d(seededRandom(B * 3, 15), [B, 3])] as const;
    pairs.push(
      // tf.losses.logLoss is exactly Keras' TF-backend form (eps inside the log); no clipping is hit here.
      ['binaryCrossentropy', scalarOf(losses.binaryCrossentropy(cbt, cbp)), tval(tf.losses.logLoss(tbt, tbp, undefined, 1e-7))],
      ['binaryCrossentropy vs tf.metrics', scalarOf(losses.binaryCrossentropy(cbt, cbp)), tval(tf.metrics.binaryCrossentropy(tbt, tbp).mean())],
      ['binary from logits', scalarOf(losses.binaryCrossentropy(cbt, cbz, true)), tval(tf.losses.sigmoidCrossEntropy(tbt, tbz))],
      ['binaryAccuracy', scalarOf(metrics.binaryAccuracy(cbt, cbp)), tval(tf.metrics.binaryAccuracy(tbt, tbp).mean())],
      ['meanSquaredError', scalarOf(losses.meanSquaredError(reg[0], cbp)), tval(tf.metrics.meanSquaredError(reg[1], tbp).mean())],
      ['meanAbsoluteError', scalarOf(losses.meanAbsoluteError(reg[0], cbp)), tval(tf.metrics.meanAbsoluteError(reg[1], tbp).mean())],
    );
    for (const [what, ours, theirs] of pairs) expectClose([ours], [theirs], { rtol: 1e-5, atol: 1e-6, what });
  });

  it('gradients with respect to yPred / logits', async () => {
    const tf = await loadTfjs();
    const { logits, p } = probs(21);
    const oh = oneHot(labels);
    const y = cn.tensor(labels, [B], 'int32');
    const toh = tf.tensor2d(oh, [B, C]);
    const check = (what: string, ours: cn.Tensor, theirs: { dataSync(): ArrayLike<number> }, rtol = 1e-4) =>
      expectClose(ours.dataSync(), Array.from(theirs.dataSync()), { rtol, atol: 1e-6, what });

    check('sparse CE from logits', cn.grad((z) => losses.sparseCategoricalCrossentropy(y, z, true))(cn.tensor(logits, [B, C])),
      tf.grad((z) => tf.losses.softmaxCrossEntropy(toh, z))(tf.tensor2d(logits, [B, C])));
    check('categorical CE from logits', cn.grad((z) => losses.categoricalCrossentropy(cn.tensor(oh, [B, C]), z, true))(cn.tensor(logits, [B, C])),
      tf.grad((z) => tf.losses.softmaxCrossEntropy(toh, z))(tf.tensor2d(logits, [B, C])));
    // Through softmax, the probability form has the logits gradient of the fused form.
    check('sparse CE on softmax(logits)', cn.grad((z) => losses.sparseCategoricalCrossentropy(y, cn.softmax(z)))(cn.tensor(logits, [B, C])),
      tf.grad((z) => tf.losses.softmaxCrossEntropy(toh, z))(tf.tensor2d(logits, [B, C])));
    check('categorical CE on probabilities', cn.grad((q) => losses.categoricalCrossentropy(cn.tensor(oh, [B, C]), q))(cn.tensor(p, [B, C])),
      tf.grad((q) => tf.metrics.categoricalCrossentropy(toh, q).mean())(tf.tensor2d(p, [B, C])));
    const bt = seededRandom(B, 22, 0, 1).map((v) => (v > 0.5 ? 1 : 0));
    const bz = seededRandom(B, 23, -3, 3);
    check('binary CE from logits', cn.grad((z) => losses.binaryCrossentropy(cn.tensor(bt, [B, 1]), z, true))(cn.tensor(bz, [B, 1])),
      tf.grad((z) => tf.losses.sigmoidCrossEntropy(tf.tensor2d(bt, [B, 1]), z))(tf.tensor2d(bz, [B, 1])));
    const bp = seededRandom(B, 24, 0.05, 0.95);
    check('binary CE on probabilities', cn.grad((q) => losses.binaryCrossentropy(cn.tensor(bt, [B, 1]), q))(cn.tensor(bp, [B, 1])),
      tf.grad((q) => tf.losses.logLoss(tf.tensor2d(bt, [B, 1]), q, undefined, 1e-7))(tf.tensor2d(bp, [B, 1])));
    const r = seededRandom(B * 2, 25);
    const q = seededRandom(B * 2, 26);
    check('mse', cn.grad((x) => losses.meanSquaredError(cn.tensor(r, [B, 2]), x))(cn.tensor(q, [B, 2])),
      tf.grad((x) => tf.losses.meanSquaredError(tf.tensor2d(r, [B, 2]), x))(tf.tensor2d(q, [B, 2])));
    check('mae', cn.grad((x) => losses.meanAbsoluteError(cn.tensor(r, [B, 2]), x))(cn.tensor(q, [B, 2])),
      tf.grad((x) => tf.losses.absoluteDifference(tf.tensor2d(r, [B, 2]), x))(tf.tensor2d(q, [B, 2])));
  });
});

describeBackends('losses and metrics inside compile()', () => {
  it('traces with int32 label placeholders and gives the eager values', () => {
    const { p } = probs(31);
    const fn = (yp: cn.Tensor, yt: cn.Tensor) => [losses.sparseCategoricalCrossentropy(yt, yp), metrics.sparseCategoricalAccuracy(yt, yp)];
    const f = cn.compile(fn, [{ shape: [B, C] }, { shape: [B], dtype: 'int32' }]);
    const [pr, y] = [cn.tensor(p, [B, C]), cn.tensor(labels, [B], 'int32')];
    const got = f.runSync([pr, y]).map((t) => t.dataSync()[0]);
    const want = fn(pr, y).map((t) => t.dataSync()[0]);
    expectClose(got, want, { rtol: 1e-6, what: 'compiled loss and accuracy' });
    f.dispose();
  });
});

describe('getLoss / getMetric', () => {
  it('resolves Keras and tfjs names, and functions', () => {
    for (const n of ['sparseCategoricalCrossentropy', 'sparse_categorical_crossentropy']) {
      const l = losses.getLoss(n);
      expect([l.lossName, l.logitsActivation]).toEqual(['sparseCategoricalCrossentropy', 'softmax']);
    }
    expect(losses.getLoss('categorical_crossentropy').fromLogits).toBeTypeOf('function');
    expect(losses.getLoss('binaryCrossentropy').logitsActivation).toBe('sigmoid');
    expect(losses.getLoss('mse').lossName).toBe('meanSquaredError');
    expect(losses.getLoss('mean_absolute_error').fromLogits).toBeUndefined();
    function myLoss(a: cn.Tensor, b: cn.Tensor) {
      return cn.mean(cn.sub(a, b));
    }
    expect(losses.getLoss(myLoss).lossName).toBe('myLoss');
    expect(() => losses.getLoss('hinge')).toThrow(
      "getLoss: expected 'sparseCategoricalCrossentropy', 'categoricalCrossentropy', 'binaryCrossentropy', 'meanSquaredError', 'meanAbsoluteError' or a function but received 'hinge'",
    );
  });

  it("picks 'accuracy' to match the loss (or the shapes), keeping the name as given", () => {
    expect(metrics.chooseAccuracy('sparseCategoricalCrossentropy')).toBe(metrics.sparseCategoricalAccuracy);
    expect(metrics.chooseAccuracy(losses.getLoss('categorical_crossentropy'))).toBe(metrics.categoricalAccuracy);
    expect(metrics.chooseAccuracy('sparseCategoricalCrossentropy')).toBe(metrics.sparseCategoricalAccuracy);
    const acc = metrics.getMetric('accuracy', 'sparse_categorical_crossentropy');
    expect(acc.metricName).toBe('accuracy');
    expect(metrics.getMetric('acc', 'binaryCrossentropy').metricName).toBe('acc');
    expect(metrics.chooseAccuracy('mse', { yTrue: [8], yPred: [8, 10] })).toBe(metrics.sparseCategoricalAccuracy);
    expect(metrics.chooseAccuracy(undefined, { yTrue: [8, 10], yPred: [8, 10] })).toBe(metrics.categoricalAccuracy);
    expect(metrics.chooseAccuracy(undefined, { yTrue: [8, 1], yPred: [8, 1] })).not.toBe(metrics.sparseCategoricalAccuracy);
    expect(() => metrics.getMetric('accuracy', 'mse')).toThrow("getMetric: expected a cross-entropy loss (or the output shapes) to pick 'accuracy' but received loss 'mse'");
    expect(metrics.getMetric('mse').metricName).toBe('mse');
    expect(metrics.getMetric('mean_absolute_error').metricName).toBe('mean_absolute_error');
    expect(metrics.getMetric('sparse_categorical_crossentropy').metricName).toBe('sparse_categorical_crossentropy');
    expect(() => metrics.getMetric('f1')).toThrow("getMetric: expected 'accuracy', 'sparseCategoricalAccuracy', 'categoricalAccuracy', 'binaryAccuracy', 'mse', 'mae', a loss name or a function but received 'f1'");
  });
});
