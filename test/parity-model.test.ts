// Whole-model parity with tfjs-node's layers (TensorFlow's own kernels): the same small
// CNNs (conv-pool-conv-flatten-dense-softmax, a batch-norm variant, and a functional graph
// with add/concatenate) with the same weights give the same predictions, the same loss,
// and the same weights (and batch-norm moving statistics) after one SGD training step.
// Tolerances: predictions and loss rtol 1e-4; updated weights rtol 1e-4; the implied
// gradients (w_before - w_after) / lr rtol 1e-3 (they are differences of close numbers).
// TensorFlow's side runs in referenceAsync() (test/reference.ts), so it can be replayed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs-node';
import * as cn from '../lib/index.js';
import { describeBackends, expectClose, seededRandom } from './helpers.js';
import { RefTensor, digest, fromTf, loadTf, referenceAsync, saveRecording } from './reference.js';

let tf: typeof TF;
beforeAll(async () => {
  tf = (await loadTf()) as typeof TF; // undefined while replaying recorded references
});
afterAll(saveRecording);

const N = 16;
const H = 12;
const C = 2;
const CLASSES = 5;
const LR = 0.1;

function data(seed: number) {
  const xv = seededRandom(N * H * H * C, seed, -1, 1);
  const yv = Int32Array.from({ length: N }, (_, i) => (i * 7 + seed) % CLASSES);
  return { xv, yv };
}

type Builder = { tf: () => TF.LayersModel; cn: () => cn.LayersModel };

const cnnSpec = (bn: boolean) => [
  { kind: 'conv2d', args: { filters: 4, kernelSize: 3, padding: 'same', activation: bn ? 'linear' : 'relu', inputShape: [H, H, C] } },
  ...(bn ? [{ kind: 'batchNormalization', args: {} }, { kind: 'activation', args: { activation: 'relu' } }] : []),
  { kind: 'maxPooling2d', args: { poolSize: 2 } },
  { kind: 'conv2d', args: { filters: 6, kernelSize: 3, padding: 'valid', activation: 'relu', strides: 1 } },
  ...(bn ? [{ kind: 'batchNormalization', args: { momentum: 0.9, epsilon: 1e-3 } }] : []),
  { kind: 'averagePooling2d', args: { poolSize: 2 } },
  { kind: 'flatten', args: {} },
  { kind: 'dense', args: { units: 8, activation: 'tanh' } },
  { kind: 'dense', args: { units: CLASSES, activation: 'softmax' } },
];

function sequentialBuilder(bn: boolean): Builder {
  const spec = cnnSpec(bn);
  return {
    tf: () => tf.sequential({ layers: spec.map((s) => (tf.layers as never as Record<string, (a: unknown) => TF.layers.Layer>)[s.kind](s.args)) }),
    cn: () => cn.sequential({ layers: spec.map((s) => (cn.layers as never as Record<string, (a: unknown) => cn.layers.Layer>)[s.kind](s.args)) }),
  };
}

/** Two branches from one input joined by add and concatenate, with a global pool head. */
function functionalBuilder(): Builder {
  const build = (L: Record<string, (a: unknown) => { apply: (x: unknown) => unknown }>, input: (a: unknown) => unknown, model: (a: unknown) => unknown) => {
    const inp = input({ shape: [H, H, C] });
    const a = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(inp);
    const b = L.conv2d({ filters: 4, kernelSize: 1, padding: 'same' }).apply(inp);
    const s = L.add({}).apply([a, b]);
    const c = L.concatenate({}).apply([s, a]);
    const p = L.globalAveragePooling2d({}).apply(c);
    const out = L.dense({ units: CLASSES, activation: 'softmax' }).apply(p);
    return model({ inputs: inp, outputs: out });
  };
  return {
    tf: () => build(tf.layers as never, tf.input as never, tf.model as never) as TF.LayersModel,
    cn: () => build(cn.layers as never, cn.input as never, cn.model as never) as cn.LayersModel,
  };
}

/** tfjs weights in per-layer Keras order (gamma, beta, moving_mean, moving_variance). */
function tfWeights(m: TF.LayersModel): TF.Tensor[] {
  return m.layers.flatMap((l) => l.getWeights());
}

function checkWeights(a: cn.Tensor[], b: RefTensor[], what: string, rtol = 1e-4): void {
  expect(a.length).toBe(b.length);
  a.forEach((w, i) => expectClose(w.dataSync(), b[i].values, { rtol, atol: 1e-5, what: `${what} ${i}`, actualShape: w.shape, expectedShape: b[i].shape }));
}

describeBackends('model parity with tfjs-node', () => {
  const cases: Array<[string, () => Builder]> = [
    ['sequential CNN', () => sequentialBuilder(false)],
    ['sequential CNN with batch norm', () => sequentialBuilder(true)],
    ['functional graph (add, concatenate, global pool)', () => functionalBuilder()],
  ];
  for (const [name, make] of cases) {
    describe(name, () => {
      it('predicts, evaluates and trains one SGD step like tfjs-node', async () => {
        const b = make();
        const m = b.cn();
        const { xv, yv } = data(3);
        // TensorFlow's side: initial weights, predictions, evaluation, one fit step.
        const ref = await referenceAsync(`${name} #${digest([{ shape: [N, H, H, C], values: xv }, { shape: [N], values: yv }])}`, async () => {
          const tm = b.tf();
          const tx = tf.tensor(xv, [N, H, H, C]);
          const ty = tf.tensor(Array.from(yv), [N], 'float32');
          const w0 = tfWeights(tm).map(fromTf);
          const tp = tm.predict(tx) as TF.Tensor;
          tm.compile({ optimizer: tf.train.sgd(LR), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
          const te = tm.evaluate(tx, ty) as TF.Scalar[];
          const th = await tm.fit(tx, ty, { epochs: 1, batchSize: N, shuffle: false, verbose: 0 });
          const w1 = tfWeights(tm).map(fromTf);
          const tp2 = tm.predict(tx) as TF.Tensor;
          const r = {
            w0, w1, params: tm.countParams(), tp: fromTf(tp), tp2: fromTf(tp2),
            evaluate: [te[0].dataSync()[0], te[1].dataSync()[0]],
            fit: [th.history.loss[0] as number, th.history.acc[0] as number],
          };
          // (tfjs' getWeights() returns the variables' own tensors: tm.dispose() frees them.)
          tf.dispose([tx, ty, tp, tp2, te]);
          tm.dispose();
          return r;
        });
        const x = cn.tensor(xv, [N, H, H, C]);
        const y = cn.tensor(yv, [N], 'int32');

        // Same weights, in the same (Keras) order and shapes.
        const w0 = ref.w0;
        expect(m.weights.map((w) => w.shape)).toEqual(w0.map((w) => w.shape));
        m.setWeights(w0.map((w) => cn.tensor(w.values as Float32Array, w.shape)));
        expect(m.countParams()).toBe(ref.params);

        // Predictions (inference mode).
        const p = m.predict(x) as cn.Tensor;
        expectClose(p.dataSync(), ref.tp.values, { rtol: 1e-4, atol: 1e-6, what: 'predictions', actualShape: p.shape, expectedShape: ref.tp.shape });

        // Loss (inference mode), then one SGD step on the whole batch.
        m.compile({ optimizer: cn.train.sgd(LR), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
        const e = m.evaluate(x, y) as cn.Tensor[];
        expectClose([e[0].dataSync()[0], e[1].dataSync()[0]], ref.evaluate, { rtol: 1e-4, what: 'evaluate [loss, accuracy]' });

        const h = await m.fit(x, y, { epochs: 1, batchSize: N, shuffle: false, verbose: 0 });
        expectClose([h.history.loss[0]], [ref.fit[0]], { rtol: 1e-4, what: 'training loss' });
        expectClose([h.history.accuracy[0]], [ref.fit[1]], { rtol: 1e-6, what: 'training accuracy' });

        const w1 = ref.w1;
        const ours = m.getWeights();
        checkWeights(ours, w1, 'updated weight');
        // Implied gradients: (before - after) / lr, trainable weights only.
        const trainable = new Set(m.trainableWeights.map((v) => v.name));
        m.weights.forEach((v, i) => {
          if (!trainable.has(v.name)) return;
          const before = w0[i].values;
          const g = Float32Array.from(ours[i].dataSync(), (a, k) => (before[k] - a) / LR);
          const tg = Float32Array.from(w1[i].values, (a, k) => (before[k] - a) / LR);
          expectClose(g, tg, { rtol: 1e-3, atol: 2e-5, what: `gradient of ${v.name}` });
        });

        // After the step, inference again agrees.
        const p2 = m.predict(x) as cn.Tensor;
        expectClose(p2.dataSync(), ref.tp2.values, { rtol: 1e-4, atol: 1e-6, what: 'predictions after the step' });

        cn.dispose([x, y, p, p2, e, ours]);
        m.dispose();
      });
    });
  }

  it('several momentum-SGD steps agree with tfjs-node (plans reused, updates in place)', async () => {
    const b = sequentialBuilder(true);
    const m = b.cn();
    const { xv, yv } = data(5);
    // tf.train.momentum (accum = m*accum + g; w -= lr*accum) equals Keras' SGD(momentum).
    const ref = await referenceAsync(`momentum SGD, 3 epochs of 2 batches #${digest([{ shape: [N, H, H, C], values: xv }, { shape: [N], values: yv }])}`, async () => {
      const tm = b.tf();
      const tx = tf.tensor(xv, [N, H, H, C]);
      const ty = tf.tensor(Array.from(yv), [N], 'float32');
      const w0 = tfWeights(tm).map(fromTf);
      tm.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: 'sparseCategoricalCrossentropy' });
      const th = await tm.fit(tx, ty, { epochs: 3, batchSize: 8, shuffle: false, verbose: 0 });
      const r = { w0, losses: th.history.loss as number[], w1: tfWeights(tm).map(fromTf) };
      tf.dispose([tx, ty]);
      tm.dispose();
      return r;
    });
    const x = cn.tensor(xv, [N, H, H, C]);
    const y = cn.tensor(yv, [N], 'int32');
    m.setWeights(ref.w0.map((w) => cn.tensor(w.values as Float32Array, w.shape)));
    m.compile({ optimizer: cn.train.sgd({ learningRate: 0.05, momentum: 0.9 }), loss: 'sparseCategoricalCrossentropy' });
    const h = await m.fit(x, y, { epochs: 3, batchSize: 8, shuffle: false, verbose: 0 });
    expectClose(h.history.loss, ref.losses, { rtol: 1e-4, what: 'losses per epoch' });
    const ours = m.getWeights();
    checkWeights(ours, ref.w1, 'weight after 6 momentum steps', 2e-4);
    cn.dispose([x, y, ours]);
    m.dispose();
  });
});
