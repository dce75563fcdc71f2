// Training: compile / fit / fitDataset / evaluate / predict, History, validation, the
// last partial batch, seeded shuffles, several outputs with loss weights, the fused
// logits path, callbacks (custom, early stopping, checkpoints), progress output, the
// event loop staying free, and memory() staying flat across epochs.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { ProgressLogger } from '../lib/models/progress.js';
import { describeBackends, expectClose, seededRandom } from './helpers.js';

const { layers } = cn;
const dir = mkdtempSync(join(tmpdir(), 'cn-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Two Gaussian-ish blobs per class in 4-D: learnable in a few epochs. */
function blobs(n: number, seed: number, classes = 3): { x: cn.Tensor; y: cn.Tensor; xv: Float32Array; yv: Int32Array } {
  const noise = seededRandom(n * 4, seed, -0.5, 0.5);
  const xv = new Float32Array(n * 4);
  const yv = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    yv[i] = c;
    for (let k = 0; k < 4; k++) xv[i * 4 + k] = (k === c ? 2 : 0) + noise[i * 4 + k];
  }
  return { x: cn.tensor(xv, [n, 4]), y: cn.tensor(yv, [n], 'int32'), xv, yv };
}

const mlp = (seed = 1, classes = 3) =>
  cn.sequential({
    layers: [
      layers.dense({ units: 16, activation: 'relu', inputShape: [4], kernelInitializer: layers.initializers.glorotUniform({ seed }) }),
      layers.dense({ units: classes, activation: 'softmax', kernelInitializer: layers.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });

describeBackends('fit / evaluate / predict', (backend) => {
  beforeEach(() => cn.setBackend(backend));

  // First in its block: earlier tests leave undisposed tensors (their optimizers) that the
  // garbage collector may free while this test runs, which would lower numBytes below start.
  it('memory() does not grow across epochs, and dispose() frees everything', async () => {
    const start = cn.memory();
    const x = cn.tensor(seededRandom(40 * 6 * 6 * 1, 8), [40, 6, 6, 1]);
    const y = cn.tensor(Int32Array.from({ length: 40 }, (_, i) => i % 2), [40], 'int32');
    const m = cn.sequential({
      layers: [
        layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [6, 6, 1], activation: 'relu' }),
        layers.batchNormalization(),
        layers.flatten(),
        layers.dropout({ rate: 0.3 }),
        layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    m.compile({ optimizer: 'nadam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const seen: Array<{ tensors: number; bytes: number; buffers: number }> = [];
    await m.fit(x, y, {
      epochs: 6,
      batchSize: 16,
      validationSplit: 0.2,
      verbose: 0,
      callbacks: { onEpochEnd: () => void seen.push({ tensors: cn.memory().numTensors, bytes: cn.memory().numBytes, buffers: cn.memory().numDataBuffers }) },
    });
    // After the first epoch every plan exists; later epochs allocate nothing that stays.
    for (const s of seen.slice(2)) expect(s).toEqual(seen[1]);
    m.dispose();
    cn.dispose([x, y]);
    const end = cn.memory();
    expect(end.numTensors).toBe(start.numTensors);
    expect(end.numBytes).toBe(start.numBytes);
  });

  it('learns, and returns a Keras-like History', async () => {
    const { x, y } = blobs(120, 1);
    const m = mlp();
    m.compile({ optimizer: cn.train.adam(0.02), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const h = await m.fit(x, y, { epochs: 8, batchSize: 16, validationSplit: 0.25, verbose: 0, seed: 3 });
    expect(h).toBeInstanceOf(cn.History);
    expect(h.epoch).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Object.keys(h.history).sort()).toEqual(['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    expect(h.history.loss[7]).toBeLessThan(h.history.loss[0]);
    expect(h.history.val_accuracy[7]).toBeGreaterThan(0.9);
    expect(m.history).toBe(h);
    const [loss, acc] = m.evaluate(x, y, { batchSize: 50 }) as cn.Tensor[];
    expect(acc.dataSync()[0]).toBeGreaterThan(0.9);
    // evaluate's loss equals Keras' formula on the predictions: mean -log(clip(p[y])).
    const p = m.predict(x, { batchSize: 7 }) as cn.Tensor;
    const pv = p.dataSync();
    const yv = y.dataSync();
    let ce = 0;
    for (let i = 0; i < 120; i++) ce -= Math.log(Math.min(Math.max(pv[i * 3 + yv[i]], 1e-7), 1 - 1e-7));
    expectClose([loss.dataSync()[0]], [ce / 120], { rtol: 1e-4, what: 'evaluate loss' });
    // predict in one batch or several gives the same values.
    const p1 = m.predict(x, { batchSize: 500 }) as cn.Tensor;
    expectClose(p1.dataSync(), pv, { rtol: 1e-6, atol: 1e-7 });
    const ev = (await m.evaluateAsync(x, y)) as cn.Tensor[];
    expectClose([ev[0].dataSync()[0]], [loss.dataSync()[0]], { rtol: 1e-5 });
    const pa = (await m.predictAsync(x)) as cn.Tensor;
    expectClose(pa.dataSync(), pv, { rtol: 1e-6, atol: 1e-7 });
    cn.dispose([x, y, loss, acc, p, p1, ev, pa]);
    m.dispose();
  });

  it('is reproducible with the same seeds; the last partial batch gets its own step', async () => {
    const { x, y } = blobs(50, 2);
    const run = async () => {
      const m = mlp(5);
      m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
      const sizes: number[] = [];
      const h = await m.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, seed: 9, callbacks: { onBatchBegin: (_b, logs) => void sizes.push(logs!.size) } });
      m.dispose();
      return { loss: h.history.loss, sizes };
    };
    const a = await run();
    const b = await run();
    expect(a.loss).toEqual(b.loss);
    expect(a.sizes).toEqual([16, 16, 16, 2, 16, 16, 16, 2]);
    cn.dispose([x, y]);
  });

  it('validationData, shuffle off, and trainOnBatch', async () => {
    const { x, y } = blobs(60, 3);
    const v = blobs(30, 4);
    const m = mlp();
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['acc'] });
    const h = await m.fit(x, y, { epochs: 2, batchSize: 60, shuffle: false, validationData: [v.x, v.y], verbose: 0 });
    expect(Object.keys(h.history).sort()).toEqual(['acc', 'loss', 'val_acc', 'val_loss']);
    const [vl] = m.evaluate(v.x, v.y) as cn.Tensor[];
    expectClose([h.history.val_loss[1]], [vl.dataSync()[0]], { rtol: 1e-5, what: 'val_loss equals evaluate' });
    const r = (await m.trainOnBatch(x, y)) as number[];
    expect(r.length).toBe(2);
    cn.dispose([x, y, v.x, v.y, vl]);
    m.dispose();
  });

  it('several outputs: losses by output name, lossWeights, per-output metrics and History keys', async () => {
    const { x, y, xv } = blobs(64, 5);
    const target = cn.tensor(Float32Array.from({ length: 64 }, (_, i) => xv[i * 4] + xv[i * 4 + 1]), [64, 1]);
    const inp = cn.input({ shape: [4] });
    const h1 = layers.dense({ units: 8, activation: 'relu' }).apply(inp);
    const cls = layers.dense({ units: 3, activation: 'softmax', name: 'cls' }).apply(h1);
    const reg = layers.dense({ units: 1, name: 'reg' }).apply(h1);
    const m = cn.model({ inputs: inp, outputs: [cls, reg] });
    m.compile({
      optimizer: cn.train.adam(0.01),
      loss: { cls: 'sparseCategoricalCrossentropy', reg: 'mse' },
      lossWeights: { cls: 1, reg: 0.5 },
      metrics: { cls: ['accuracy'], reg: ['mae'] },
    });
    const hist = await m.fit(x, { cls: y, reg: target }, { epochs: 3, batchSize: 64, verbose: 0, shuffle: false });
    expect(Object.keys(hist.history).sort()).toEqual(['cls_accuracy', 'cls_loss', 'loss', 'reg_loss', 'reg_mae']);
    const hh = hist.history;
    for (let e = 0; e < 3; e++) expectClose([hh.loss[e]], [hh.cls_loss[e] + 0.5 * hh.reg_loss[e]], { rtol: 1e-5, what: 'weighted total loss' });
    const ev = m.evaluate(x, [y, target]) as cn.Tensor[];
    expect(ev.length).toBe(5);
    expect(() => m.compile({ optimizer: 'adam', loss: { cls: 'mse', nope: 'mse' } as never })).toThrow(/keyed by output names \(cls, reg\) but received key 'nope'/);
    cn.dispose([x, y, target, ev]);
    m.dispose();
  });

  it('other losses: categorical (one-hot), binary (sigmoid, fused logits path), mse', async () => {
    const { x, y, yv } = blobs(48, 6);
    const oneHot = cn.oneHot(y, 3);
    const m = mlp(7);
    m.compile({ optimizer: cn.train.adam(0.05), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const h = await m.fit(x, oneHot, { epochs: 6, batchSize: 16, verbose: 0 });
    expect(h.history.accuracy[5]).toBeGreaterThan(0.8);

    const yb = cn.tensor(Float32Array.from(yv, (c) => (c === 0 ? 1 : 0)), [48, 1]);
    const b = cn.sequential({ layers: [layers.dense({ units: 8, activation: 'tanh', inputShape: [4] }), layers.dense({ units: 1, activation: 'sigmoid' })] });
    b.compile({ optimizer: cn.train.adam(0.05), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const hb = await b.fit(x, yb, { epochs: 6, batchSize: 16, verbose: 0 });
    expect(hb.history.accuracy[5]).toBeGreaterThan(0.9);
    // The fused (logits) loss equals Keras' clipped formula on the probabilities.
    const [bl] = b.evaluate(x, yb) as cn.Tensor[];
    const p = (b.predict(x) as cn.Tensor).dataSync();
    const t = yb.dataSync();
    let ref = 0;
    for (let i = 0; i < 48; i++) {
      const q = Math.min(Math.max(p[i], 1e-7), 1 - 1e-7);
      ref -= t[i] * Math.log(q + 1e-7) + (1 - t[i]) * Math.log(1 - q + 1e-7);
    }
    expectClose([bl.dataSync()[0]], [ref / 48], { rtol: 1e-3, what: 'binary cross-entropy' });

    const r = cn.sequential({ layers: [layers.dense({ units: 1, inputShape: [4] })] });
    r.compile({ optimizer: cn.train.sgd(0.05), loss: 'meanSquaredError', metrics: ['mae'] });
    const hr = await r.fit(x, yb, { epochs: 5, batchSize: 8, verbose: 0 });
    expect(hr.history.loss[4]).toBeLessThan(hr.history.loss[0]);
    expect(Object.keys(hr.history).sort()).toEqual(['loss', 'mae']);
    cn.dispose([x, y, oneHot, yb, bl]);
    m.dispose();
    b.dispose();
    r.dispose();
  });

  it('fitDataset and evaluateDataset over a data.Dataset of {xs, ys} batches', async () => {
    const { x, y } = blobs(96, 7);
    const ds = cn.data.fromTensors({ xs: x, ys: y }).shuffle(96, 1).batch(32);
    const val = cn.data.fromTensors({ xs: x, ys: y }).batch(48);
    const m = mlp();
    m.compile({ optimizer: cn.train.adam(0.02), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const h = await m.fitDataset(ds, { epochs: 5, validationData: val, verbose: 0 });
    expect(h.history.loss.length).toBe(5);
    expect(h.history.loss[4]).toBeLessThan(h.history.loss[0]);
    expect(Object.keys(h.history).sort()).toEqual(['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    const [l] = (await m.evaluateDataset(val)) as cn.Tensor[];
    expectClose([l.dataSync()[0]], [h.history.val_loss[4]], { rtol: 1e-5 });
    const before = cn.memory().numTensors;
    await m.fitDataset(ds, { epochs: 2, batchesPerEpoch: 2, verbose: 0 });
    expect(cn.memory().numTensors).toBe(before);
    cn.dispose([x, y, l]);
    m.dispose();
  });

  it('keeps the event loop free while a step runs', async () => {
    const x = cn.tensor(seededRandom(64 * 16 * 16 * 3, 9), [64, 16, 16, 3]);
    const y = cn.tensor(Int32Array.from({ length: 64 }, (_, i) => i % 4), [64], 'int32');
    const m = cn.sequential({
      layers: [
        layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [16, 16, 3] }),
        layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }),
        layers.globalAveragePooling2d(),
        layers.dense({ units: 4, activation: 'softmax' }),
      ],
    });
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    await m.fit(x, y, { epochs: 1, batchSize: 64, verbose: 0 }); // trace the plans first
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const t0 = performance.now();
    await m.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0 });
    const ms = performance.now() - t0;
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(Math.min(10, ms / 20));
    cn.dispose([x, y]);
    m.dispose();
  });

  it('errors', async () => {
    const { x, y } = blobs(10, 10);
    const m = mlp();
    await expect(m.fit(x, y)).rejects.toThrow(/fit: expected a compiled model but received '.*' \(call model.compile/);
    expect(() => m.evaluate(x, y)).toThrow(/evaluate: expected a compiled model/);
    expect(() => m.compile({ optimizer: 'adam', loss: 'hinge' })).toThrow(/getLoss: expected .* but received 'hinge'/);
    expect(() => m.compile({ optimizer: 'adamw', loss: 'mse' })).toThrow(/getOptimizer: expected .* but received 'adamw'/);
    expect(() => m.compile({ optimizer: 'adam', loss: 'mse', metrics: ['f1'] })).toThrow(/getMetric: expected .* but received 'f1'/);
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    const y5 = cn.zeros([5], 'int32');
    await expect(m.fit(x, y5, { verbose: 0 })).rejects.toThrow(/fit: expected every x and y to have the same number of samples \(10\)/);
    await expect(m.fit(x, y, { batchSize: 0, verbose: 0 })).rejects.toThrow(/fit: expected batchSize as a positive integer but received 0/);
    await expect(m.fit(x, y, { validationSplit: 1.5, verbose: 0 })).rejects.toThrow(/validationSplit in \[0, 1\)/);
    cn.dispose([x, y, y5]);
    m.dispose();
  });
});

describeBackends('callbacks', (backend) => {
  beforeEach(() => cn.setBackend(backend));

  it('custom hooks run in Keras order with logs', async () => {
    const { x, y } = blobs(20, 11);
    const m = mlp();
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const events: string[] = [];
    class Recorder extends cn.Callback {
      async onTrainBegin() {
        events.push(`trainBegin epochs=${this.params.epochs} steps=${this.params.steps}`);
      }
      async onEpochBegin(e: number) {
        events.push(`epochBegin ${e}`);
      }
      async onBatchEnd(b: number, logs?: cn.Logs) {
        events.push(`batchEnd ${b} ${Object.keys(logs!).join(',')}`);
      }
      async onEpochEnd(e: number, logs?: cn.Logs) {
        events.push(`epochEnd ${e} ${Object.keys(logs!).sort().join(',')}`);
      }
      async onTrainEnd() {
        events.push('trainEnd');
      }
    }
    await m.fit(x, y, { epochs: 2, batchSize: 10, verbose: 0, validationSplit: 0.5, callbacks: [new Recorder()] });
    expect(events).toEqual([
      'trainBegin epochs=2 steps=1',
      'epochBegin 0',
      'batchEnd 0 loss,accuracy',
      'epochEnd 0 accuracy,loss,val_accuracy,val_loss',
      'epochBegin 1',
      'batchEnd 0 loss,accuracy',
      'epochEnd 1 accuracy,loss,val_accuracy,val_loss',
      'trainEnd',
    ]);
    // stopTraining from a batch hook ends fit at once.
    let batches = 0;
    const h = await m.fit(x, y, { epochs: 5, batchSize: 5, verbose: 0, callbacks: { onBatchEnd: () => void (++batches === 2 && (m.stopTraining = true)) } });
    expect(batches).toBe(2);
    expect(h.epoch).toEqual([0]);
    cn.dispose([x, y]);
    m.dispose();
  });

  it('earlyStopping stops after patience epochs without improvement and restores the best weights', async () => {
    const { x, y } = blobs(30, 12);
    const m = mlp();
    m.compile({ optimizer: cn.train.sgd(0), loss: 'sparseCategoricalCrossentropy' });
    // With a zero learning rate the loss never improves after the first epoch (minDelta: on
    // cuda the same batch's loss was seen to differ in the last bits between epochs).
    const es = cn.callbacks.earlyStopping({ monitor: 'loss', patience: 2, restoreBestWeights: true, minDelta: 1e-5 });
    const h = await m.fit(x, y, { epochs: 10, batchSize: 30, verbose: 0, callbacks: [es] });
    expect(h.epoch).toEqual([0, 1, 2]);
    expect(es.stoppedEpoch).toBe(2);
    expect(es.bestEpoch).toBe(0);
    // Improvement keeps it going.
    m.compile({ optimizer: cn.train.adam(0.05), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const es2 = new cn.EarlyStopping({ monitor: 'accuracy', patience: 100 });
    expect(es2.mode).toBe('max');
    const h2 = await m.fit(x, y, { epochs: 4, batchSize: 30, verbose: 0, callbacks: [es2] });
    expect(h2.epoch.length).toBe(4);
    cn.dispose([x, y]);
    m.dispose();
  });

  it('learningRateScheduler and reduceLROnPlateau change the rate between epochs (plans retraced)', async () => {
    const { x, y } = blobs(30, 14);
    const m = mlp();
    m.compile({ optimizer: cn.train.sgd(0.1), loss: 'sparseCategoricalCrossentropy' });
    let w1: cn.Tensor[] = [];
    const h = await m.fit(x, y, {
      epochs: 3,
      batchSize: 10,
      verbose: 0,
      callbacks: [cn.callbacks.learningRateScheduler((epoch) => (epoch === 0 ? 0.1 : 0)), { onEpochEnd: (e) => void (e === 0 && (w1 = m.getWeights())) }],
    });
    expect(h.history.learning_rate).toEqual([0.1, 0, 0]);
    const w3 = m.getWeights();
    w3.forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(w1[i].dataSync())));
    // A plateau: no improvement for `patience` epochs multiplies the rate by `factor`.
    m.compile({ optimizer: cn.train.sgd(0.08), loss: 'sparseCategoricalCrossentropy' });
    const r = new cn.ReduceLROnPlateau({ monitor: 'loss', patience: 1, factor: 0.5, minLr: 0.015 });
    r.setModel(m);
    await r.onTrainBegin();
    const rates: number[] = [];
    for (const [e, loss] of [[0, 1], [1, 0.5], [2, 0.5], [3, 0.5], [4, 0.5], [5, 0.5]]) {
      const logs: cn.Logs = { loss };
      await r.onEpochEnd(e, logs);
      rates.push(m.compiled!.optimizer.learningRate);
    }
    expect(rates).toEqual([0.08, 0.08, 0.04, 0.02, 0.015, 0.015]);
    const h2 = await m.fit(x, y, { epochs: 1, batchSize: 30, verbose: 0 });
    expect(h2.history.loss.length).toBe(1);
    cn.dispose([x, y, w1, w3]);
    m.dispose();
  });

  it('modelCheckpoint saves each epoch (or only improvements) to a formatted path', async () => {
    const { x, y } = blobs(30, 13);
    const m = mlp();
    m.compile({ optimizer: cn.train.adam(0.05), loss: 'sparseCategoricalCrossentropy' });
    const path = join(dir, `ckpt-${backend}`, 'epoch-{epoch:02d}');
    await m.fit(x, y, { epochs: 2, batchSize: 10, verbose: 0, callbacks: [cn.callbacks.modelCheckpoint(path)] });
    expect(existsSync(join(dir, `ckpt-${backend}`, 'epoch-01', 'model.json'))).toBe(true);
    const epoch2 = join(dir, `ckpt-${backend}`, 'epoch-02');
    expect(existsSync(join(epoch2, JSON.parse(readFileSync(join(epoch2, 'model.json'), 'utf8')).weightsManifest[0].paths[0]))).toBe(true);
    const best = join(dir, `best-${backend}`);
    const ck = new cn.ModelCheckpoint(best, { monitor: 'val_loss', saveBestOnly: true });
    await m.fit(x, y, { epochs: 3, batchSize: 10, verbose: 0, validationSplit: 0.3, callbacks: [ck] });
    expect(existsSync(join(best, 'model.json'))).toBe(true);
    expect(Number.isFinite(ck.best)).toBe(true);
    const loaded = await cn.loadLayersModel(best);
    expect(loaded.countParams()).toBe(m.countParams());
    cn.dispose([x, y]);
    m.dispose();
    loaded.dispose();
  });
});

describe('progress output', () => {
  const stream = (tty: boolean) => {
    const out: string[] = [];
    return { out, s: { isTTY: tty, columns: 200, write: (t: string) => out.push(t) > 0 } };
  };

  it('on a terminal: a Keras-style bar per epoch, redrawn in place', async () => {
    const { out, s } = stream(true);
    const p = new ProgressLogger(1, s);
    p.setParams({ epochs: 2, steps: 4 });
    await p.onTrainBegin();
    await p.onEpochBegin(0);
    for (let b = 0; b < 4; b++) await p.onBatchEnd(b, { loss: 1 / (b + 1), accuracy: 0.5 });
    await p.onEpochEnd(0, { loss: 0.25, accuracy: 0.5, val_loss: 0.3, val_accuracy: 0.6 });
    const text = out.join('').replace(/\x1b\[[0-9;]*[mK]/g, '');
    expect(text).toContain('Epoch 1/2\n');
    expect(text).toMatch(/\r1\/4 ━{5}━{15} \d+s \(ETA \d+s\) \d+(us|ms)\/step - loss: 1\.0000 - accuracy: 0\.5000/);
    expect(text).toMatch(/\r4\/4 ━{20} \d+s \(ETA 0s\) \d+(us|ms)\/step - loss: 0\.2500 - accuracy: 0\.5000/);
    expect(text).toMatch(/4\/4 ━{20} \d+s \d+(us|ms)\/step - loss: 0\.2500 - accuracy: 0\.5000 - val_loss: 0\.3000 - val_accuracy: 0\.6000\n$/);
  });

  it('elsewhere: one line per epoch', async () => {
    const { out, s } = stream(false);
    const p = new ProgressLogger(1, s);
    p.setParams({ epochs: 3, steps: 10 });
    await p.onTrainBegin();
    await p.onEpochBegin(1);
    for (let b = 0; b < 10; b++) await p.onBatchEnd(b, { loss: 1 });
    await p.onEpochEnd(1, { loss: 0.5 });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^Epoch 2\/3 - 10\/10 - \d+s \d+(us|ms)\/step - loss: 0\.5000\n$/);
  });
});
