// tfjs names and behaviours (issue 22 item 7): serialization.registerClass, applyGradients
// taking variableGrads()'s {name: grad} map, and history / callback logs readable under tfjs'
// metric keys (acc, val_acc) as well as Keras' (accuracy, val_accuracy), checked against what
// tfjs-node logs for the same compile() arguments.
import { beforeAll, describe, expect, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs-node';
import * as cn from '../lib/index.js';
import { expectClose, seededRandom } from './helpers.js';
import { loadTfjs } from './tfjs.js';

let tf: typeof TF;
beforeAll(async () => {
  tf = await loadTfjs();
});

describe('serialization.registerClass', () => {
  it('registers a custom layer so a saved model loads it back', async () => {
    class Doubler extends cn.layers.Layer {
      static className = 'CompatDoubler';
      call(inputs: cn.Tensor | cn.Tensor[]): cn.Tensor {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        return cn.mul(x, 2);
      }
    }
    expect(cn.serialization.registerClass(Doubler)).toBe(Doubler);
    const m = cn.sequential({ layers: [cn.layers.dense({ units: 2, inputShape: [3] }), new Doubler({})] });
    const { mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'cn-regclass-'));
    await m.save(`file://${dir}`);
    const back = await cn.loadLayersModel(`file://${dir}/model.json`);
    const x = cn.ones([1, 3]);
    expect(Array.from((back.predict(x) as cn.Tensor).dataSync())).toEqual(Array.from((m.predict(x) as cn.Tensor).dataSync()));
    expect(back.layers[1].getClassName()).toBe('CompatDoubler');
    m.dispose();
    back.dispose();
  });
});

describe('optimizer.applyGradients with the {name: grad} map of variableGrads()', () => {
  it('takes the same steps as tfjs-node', () => {
    const w0 = Array.from(seededRandom(6, 1));
    const xv = Array.from(seededRandom(12, 2));
    const loss = <T extends cn.Tensor | TF.Tensor>(lib: typeof cn | typeof TF, w: T, x: T) =>
      (lib as typeof cn).mean((lib as typeof cn).square((lib as typeof cn).matMul(x as cn.Tensor, w as cn.Tensor)));

    const w = cn.variable(cn.tensor(w0, [3, 2]), true, 'compat_apply_w');
    const x = cn.tensor(xv, [4, 3]);
    const opt = cn.train.sgd(0.1);
    const tw = tf.variable(tf.tensor(w0, [3, 2]), true, 'compat_apply_w');
    const tx = tf.tensor(xv, [4, 3]);
    const topt = tf.train.sgd(0.1);
    for (let step = 0; step < 3; step++) {
      const { value, grads } = cn.variableGrads(() => loss(cn, w, x) as cn.Tensor);
      expect(Object.keys(grads)).toEqual(['compat_apply_w']);
      opt.applyGradients(grads);
      const r = tf.variableGrads(() => loss(tf, tw, tx) as unknown as TF.Scalar);
      topt.applyGradients(r.grads as TF.NamedTensorMap as never);
      expectClose(value.dataSync(), r.value.dataSync(), { rtol: 1e-5, atol: 1e-6, what: `loss at step ${step}` });
      cn.dispose([value, grads]);
      tf.dispose([r.value, r.grads]);
    }
    expectClose(w.dataSync(), tw.dataSync(), { rtol: 1e-5, atol: 1e-6, what: 'weights after 3 steps' });
    cn.dispose([w, x]);
    opt.dispose();
    tf.dispose([tw, tx]);
  });
  it('names an unknown variable', () => {
    const opt = cn.train.sgd(0.1);
    const g = cn.ones([2]);
    expect(() => opt.applyGradients({ no_such_variable: g })).toThrow(/SGD\.applyGradients: expected the name of a live variable but received 'no_such_variable'/);
    const v = cn.variable(cn.zeros([2]), true, 'compat_disposed_v');
    v.dispose();
    expect(() => opt.applyGradients({ compat_disposed_v: g })).toThrow(/received 'compat_disposed_v'/);
    g.dispose();
    opt.dispose();
  });
});

describe("metric keys: tfjs' acc / val_acc and Keras' accuracy / val_accuracy", () => {
  const data = (lib: typeof cn | typeof TF) => {
    const l = lib as typeof cn;
    const x = l.tensor(Array.from(seededRandom(40, 3)), [20, 2]);
    const y = l.tensor(Array.from({ length: 20 }, (_, i) => (i % 2 ? 1 : 0)), [20, 1]);
    return { x, y };
  };
  const model = (lib: typeof cn | typeof TF) => {
    const l = lib as typeof cn;
    const m = l.sequential({ layers: [l.layers.dense({ units: 1, inputShape: [2], activation: 'sigmoid' })] });
    m.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    return m;
  };

  it('history answers to both spellings; tfjs-node logs acc', async () => {
    const { x, y } = data(cn);
    const m = model(cn);
    const seen: string[] = [];
    const h = await m.fit(x, y, {
      epochs: 2,
      verbose: 0,
      validationSplit: 0.25,
      callbacks: { onEpochEnd: (_e: number, logs?: cn.Logs) => void seen.push(`${logs?.acc === logs?.accuracy && logs?.acc !== undefined}:${logs?.val_acc === logs?.val_accuracy}`) },
    });
    const t = data(tf);
    const tm = model(tf);
    const th = await tm.fit(t.x, t.y, { epochs: 2, verbose: 0, validationSplit: 0.25 });
    // tfjs-node's keys are readable on ours, with the same number of epochs.
    for (const k of Object.keys(th.history)) expect((h.history as Record<string, number[]>)[k]?.length, k).toBe(2);
    expect(Object.keys(th.history)).toContain('acc');
    expect(h.history.acc).toBe(h.history.accuracy);
    expect(h.history.val_acc).toBe(h.history.val_accuracy);
    // Keras names stay the enumerable ones (no duplicate columns in logs, plots, JSON).
    expect(Object.keys(h.history).sort()).toEqual(['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    expect(JSON.stringify(h.history)).not.toMatch(/"acc"/);
    expect(seen).toEqual(['true:true', 'true:true']);
    cn.dispose([x, y]);
    m.dispose();
    tf.dispose([t.x, t.y] as never);
    tm.dispose();
  });

  it("EarlyStopping can monitor tfjs' val_acc", async () => {
    const { x, y } = data(cn);
    const m = model(cn);
    const es = new cn.EarlyStopping({ monitor: 'val_acc', patience: 0, mode: 'max' });
    const h = await m.fit(x, y, { epochs: 30, verbose: 0, validationSplit: 0.25, callbacks: [es] });
    expect(h.epoch.length).toBeLessThan(30);
    cn.dispose([x, y]);
    m.dispose();
  });
});

describe("tfjs-core's tf.losses names", () => {
  it('softmaxCrossEntropy, sigmoidCrossEntropy, absoluteDifference, meanSquaredError equal tfjs-node', () => {
    const labels = Array.from({ length: 12 }, (_, i) => (i % 4 === i % 3 ? 1 : 0));
    const onehot = Array.from({ length: 12 }, (_, i) => (i % 4 === 1 ? 1 : 0));
    const logits = Array.from(seededRandom(12, 4, -3, 3));
    for (const name of ['softmaxCrossEntropy', 'sigmoidCrossEntropy', 'absoluteDifference', 'meanSquaredError'] as const) {
      const y = name === 'softmaxCrossEntropy' ? onehot : labels;
      const ours = (cn.losses[name] as (a: cn.Tensor, b: cn.Tensor) => cn.Tensor)(cn.tensor(y, [3, 4]), cn.tensor(logits, [3, 4]));
      const ref = (tf.losses[name] as (a: TF.Tensor, b: TF.Tensor) => TF.Tensor)(tf.tensor(y, [3, 4]), tf.tensor(logits, [3, 4]));
      expect(ours.shape, name).toEqual(ref.shape);
      expectClose(ours.dataSync(), ref.dataSync(), { rtol: 1e-5, atol: 1e-6, what: name });
    }
    expect(() => cn.losses.softmaxCrossEntropy(cn.ones([1, 2]), cn.ones([1, 2]), cn.ones([1]))).toThrow(/losses\.softmaxCrossEntropy: expected no weights/);
  });
});
