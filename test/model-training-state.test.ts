// Training calls on a model in the wrong state say what the user did (issue 19): a model
// disposed before or during fit ("fit: model 'm' is disposed"), and a second fit,
// fitDataset or trainOnBatch while one runs ("fit: fit is already running on this model"),
// each a CudnnNodeError with a code; the failed call leaks no tensor and the model trains
// again once the running call is over.
import { beforeEach, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { describeBackends, seededRandom } from './helpers.js';

const { layers } = cn;

function data(n: number): { x: cn.Tensor; y: cn.Tensor } {
  const x = cn.tensor(seededRandom(n * 4, 7, -1, 1), [n, 4]);
  const y = cn.tensor(Int32Array.from({ length: n }, (_, i) => i % 3), [n], 'int32');
  return { x, y };
}

function mlp(name: string): cn.LayersModel {
  const m = cn.sequential({
    name,
    layers: [
      layers.dense({ units: 8, activation: 'relu', inputShape: [4], kernelInitializer: layers.initializers.glorotUniform({ seed: 1 }) }),
      layers.dense({ units: 3, activation: 'softmax', kernelInitializer: layers.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

/** The error a promise rejects with (or the value it resolves to). */
const settle = (p: Promise<unknown>) => p.then((v) => v, (e: unknown) => e);
/** The error fn throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describeBackends('training calls on a model in the wrong state', (backend) => {
  beforeEach(() => cn.setBackend(backend));

  it('dispose() during fit (in a callback) ends fit with "fit: model is disposed" and leaks nothing', async () => {
    const before = cn.memory().numTensors;
    const { x, y } = data(32);
    const m = mlp('disposed_in_callback');
    const err = await settle(m.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0, callbacks: { onBatchEnd: (b) => void (b === 1 && m.dispose()) } }));
    expect(err).toBeInstanceOf(cn.CudnnNodeError);
    expect((err as cn.CudnnNodeError).code).toBe('ERR_MODEL_DISPOSED');
    expect((err as Error).message).toMatch(/^fit: model 'disposed_in_callback' is disposed/);
    cn.dispose([x, y]);
    expect(cn.memory().numTensors).toBe(before);
  });

  it('dispose() right after fit() starts, or while its step runs on the worker thread, is the same clean error', async () => {
    const { x, y } = data(64);
    const early = mlp('disposed_at_once');
    const p = early.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0 });
    early.dispose();
    await expect(p).rejects.toMatchObject({ code: 'ERR_MODEL_DISPOSED', message: expect.stringMatching(/^fit: model 'disposed_at_once' is disposed/) });

    const during = mlp('disposed_while_running');
    const q = during.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, callbacks: { onBatchBegin: (b) => void (b === 2 && setImmediate(() => during.dispose())) } });
    await expect(q).rejects.toMatchObject({ code: 'ERR_MODEL_DISPOSED', message: expect.stringMatching(/^fit: model 'disposed_while_running' is disposed/) });
    cn.dispose([x, y]);
  });

  it('fit, fitDataset, evaluate, predict and trainOnBatch on a disposed model name themselves', async () => {
    const { x, y } = data(8);
    const m = mlp('gone');
    m.dispose();
    const msg = (op: string) => ({ code: 'ERR_MODEL_DISPOSED', message: expect.stringMatching(new RegExp(`^${op}: model 'gone' is disposed`)) });
    await expect(m.fit(x, y, { verbose: 0 })).rejects.toMatchObject(msg('fit'));
    await expect(m.fitDataset(cn.data.array([{ xs: x, ys: y }]), { verbose: 0 })).rejects.toMatchObject(msg('fitDataset'));
    await expect(m.trainOnBatch(x, y)).rejects.toMatchObject(msg('trainOnBatch'));
    expect(thrown(() => m.evaluate(x, y))).toMatchObject(msg('evaluate'));
    await expect(m.evaluateAsync(x, y)).rejects.toMatchObject(msg('evaluate'));
    expect(thrown(() => m.predict(x))).toMatchObject(msg('predict'));
    await expect(m.predictAsync(x)).rejects.toMatchObject(msg('predict'));
    cn.dispose([x, y]);
  });

  it('a second fit (or trainOnBatch, fitDataset) while fit runs says "fit is already running on this model"; afterwards training works', async () => {
    const { x, y } = data(64);
    const m = mlp('busy');
    try {
      const first = m.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0 });
      const busy = (op: string) => ({ code: 'ERR_MODEL_BUSY', message: expect.stringMatching(new RegExp(`^${op}: fit is already running on this model \\('busy'\\)`)) });
      await expect(m.fit(x, y, { verbose: 0 })).rejects.toMatchObject(busy('fit'));
      await expect(m.trainOnBatch(x, y)).rejects.toMatchObject(busy('trainOnBatch'));
      await expect(m.fitDataset(cn.data.array([{ xs: x, ys: y }]), { verbose: 0 })).rejects.toMatchObject(busy('fitDataset'));
      const h = await first;
      expect(h.history.loss).toHaveLength(2);
      // The refused calls left the model usable: a fit and a trainOnBatch run now.
      const again = await m.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0 });
      expect(Number.isFinite(again.history.loss[0] as number)).toBe(true);
      const during = m.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0 });
      await expect(m.fit(x, y, { verbose: 0 })).rejects.toBeInstanceOf(cn.CudnnNodeError);
      await during;
      expect(typeof (await m.trainOnBatch(x, y))).not.toBe('undefined');
    } finally {
      m.dispose();
      cn.dispose([x, y]);
    }
  });

  it('evaluate and predict stay allowed inside fit\'s callbacks', async () => {
    const { x, y } = data(16);
    const m = mlp('inside');
    const seen: number[] = [];
    try {
      await m.fit(x, y, {
        epochs: 2,
        batchSize: 8,
        verbose: 0,
        callbacks: {
          onEpochEnd: () => {
            const p = m.predict(x) as cn.Tensor;
            const e = m.evaluate(x, y) as cn.Tensor[];
            seen.push(p.shape[0], e.length);
            cn.dispose([p, e]);
          },
        },
      });
      expect(seen).toEqual([16, 2, 16, 2]);
    } finally {
      m.dispose();
      cn.dispose([x, y]);
    }
  });
});
