// Models as graphs: sequential() with add(), functional model() with several inputs and
// outputs, nested models, summary(), getWeights / setWeights in Keras order, trainable
// freezing at the next compile, save and load, and the errors of each.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { describeBackends, expectClose, seededRandom } from './helpers.js';

const { layers } = cn;
const rand = (shape: number[], seed: number, lo = -1, hi = 1) => cn.tensor(seededRandom(shape.reduce((a, b) => a * b, 1), seed, lo, hi), shape);
const dir = mkdtempSync(join(tmpdir(), 'cn-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('graphs', () => {
  it('sequential: add() builds the graph once the input shape is known', () => {
    const m = cn.sequential();
    m.add(layers.dense({ units: 4, inputShape: [3], activation: 'relu' }));
    m.add(layers.dense({ units: 2 }));
    expect(m.layers.length).toBe(2);
    expect(m.inputs[0].shape).toEqual([null, 3]);
    expect(m.outputs[0].shape).toEqual([null, 2]);
    m.pop();
    expect(m.outputs[0].shape).toEqual([null, 4]);
    m.dispose();
  });

  it('sequential without an input shape builds from the first data (or build())', () => {
    const m = cn.sequential({ layers: [layers.dense({ units: 2 })] });
    expect(() => m.summary({ printFn: () => {} })).toThrow(/summary: expected a built model/);
    const x = cn.ones([5, 7]);
    const y = m.predict(x) as cn.Tensor;
    expect(y.shape).toEqual([5, 2]);
    expect(m.inputs[0].shape).toEqual([null, 7]);
    cn.dispose([x, y]);
    const m2 = cn.sequential({ layers: [layers.dense({ units: 2 })] });
    m2.build([null, 4]);
    expect(m2.countParams()).toBe(10);
    m.dispose();
    m2.dispose();
  });

  it('functional: several inputs and outputs, shared layers, nested models', () => {
    const a = cn.input({ shape: [4], name: 'a' });
    const b = cn.input({ shape: [6], name: 'b' });
    const shared = layers.dense({ units: 3, name: 'shared' });
    const ha = shared.apply(a);
    const hb = shared.apply(layers.dense({ units: 4 }).apply(b));
    const joined = layers.concatenate().apply([ha, hb]);
    const out1 = layers.dense({ units: 2, activation: 'softmax', name: 'cls' }).apply(joined);
    const out2 = layers.dense({ units: 1, name: 'reg' }).apply(ha);
    const m = cn.model({ inputs: [a, b], outputs: [out1, out2] });
    expect(m.inputNames).toEqual(['a', 'b']);
    expect(m.outputNames).toEqual(['cls', 'reg']);
    expect(m.layers.map((l) => l.name).slice(0, 2).sort()).toEqual(['a', 'b']);
    expect(m.nodesOf(shared).length).toBe(2);
    const xa = cn.ones([2, 4]), xb = cn.ones([2, 6]);
    const [y1, y2] = m.predict([xa, xb]) as cn.Tensor[];
    expect(y1.shape).toEqual([2, 2]);
    expect(y2.shape).toEqual([2, 1]);
    // Records by input name work too.
    const [z1] = m.predict({ a: xa, b: xb }) as cn.Tensor[];
    expectClose(z1.dataSync(), y1.dataSync());

    // A model used as a layer in another model.
    const outer = cn.sequential({ layers: [layers.dense({ units: 4, inputShape: [4] })] });
    const inner = cn.sequential({ layers: [layers.dense({ units: 3, inputShape: [4], activation: 'relu' }), layers.dense({ units: 1 })] });
    outer.add(inner);
    expect(outer.outputs[0].shape).toEqual([null, 1]);
    expect(outer.countParams()).toBe(20 + 15 + 4);
    const o = outer.predict(xa) as cn.Tensor;
    expect(o.shape).toEqual([2, 1]);
    cn.dispose([xa, xb, y1, y2, z1, o]);
    m.dispose();
    outer.dispose();
  });

  it('graph errors', () => {
    const a = cn.input({ shape: [3] });
    const b = cn.input({ shape: [3] });
    const s = layers.add().apply([a, b]);
    expect(() => cn.model({ inputs: a, outputs: s })).toThrow(/graph disconnected/);
    expect(() => cn.model({ inputs: s, outputs: s })).toThrow(/model: expected inputs made by input\(\)/);
    const d = layers.dense({ units: 2, name: 'dup' }).apply(a);
    const d2 = layers.dense({ units: 2, name: 'dup' }).apply(d);
    expect(() => cn.model({ inputs: a, outputs: d2 })).toThrow(/unique layer names but 'dup'/);
    const m = cn.model({ inputs: a, outputs: layers.dense({ units: 2 }).apply(a) });
    const bad = cn.ones([2, 4]);
    expect(() => m.predict(bad)).toThrow(/expected input 0 .* of shape \[null,3\] but received shape \[2,4\]/);
    expect(() => m.predict([bad, bad])).toThrow(/expected 1 x tensor\(s\)/);
    bad.dispose();
    m.dispose();
  });
});

describe('summary', () => {
  it('prints the Keras table for a sequential model', () => {
    const m = cn.sequential({
      name: 'seq',
      layers: [
        layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [8, 8, 1], name: 'c1' }),
        layers.batchNormalization({ name: 'bn' }),
        layers.flatten({ name: 'f' }),
        layers.dense({ units: 10, name: 'd' }),
      ],
    });
    const lines: string[] = [];
    const text = m.summary(undefined, undefined, (l) => lines.push(l));
    expect(lines.join('\n')).toBe(text);
    expect(lines[0]).toBe('Model: "seq"');
    expect(text).toContain('┃ Layer (type)');
    expect(text).toMatch(/│ c1 \(Conv2D\)\s+│ \(None, 6, 6, 4\)\s+│\s+40 │/);
    expect(text).toMatch(/│ bn \(BatchNormalization\)\s+│ \(None, 6, 6, 4\)\s+│\s+16 │/);
    expect(text).toMatch(/│ d \(Dense\)\s+│ \(None, 10\)\s+│\s+1,450 │/);
    expect(text).toContain(' Total params: 1,506 (5.88 KB)');
    expect(text).toContain(' Trainable params: 1,498 (5.85 KB)');
    expect(text).toContain(' Non-trainable params: 8 (32.00 B)');
    expect(text).not.toContain('InputLayer');
    m.dispose();
  });

  it('shows the input layer and the inbound layers of a functional model', () => {
    const a = cn.input({ shape: [4], name: 'in' });
    const h = layers.dense({ units: 2, name: 'h' }).apply(a);
    const o = layers.add({ name: 'sum' }).apply([h, h]);
    const m = cn.model({ inputs: a, outputs: o, name: 'fn' });
    const text = m.summary({ printFn: () => {} });
    expect(text).toMatch(/│ in \(InputLayer\)\s+│ \(None, 4\)\s+│\s+0 │ -/);
    expect(text).toMatch(/│ sum \(Add\)\s+│ \(None, 2\)\s+│\s+0 │ h\[0\]\[0\]/);
    expect(text).toContain('Connected to');
    m.dispose();
  });
});

describeBackends('weights, freezing, save and load', (backend) => {
  beforeEach(() => cn.setBackend(backend));

  const build = () =>
    cn.sequential({
      layers: [
        layers.conv2d({ filters: 3, kernelSize: 3, inputShape: [6, 6, 2], activation: 'relu' }),
        layers.batchNormalization(),
        layers.maxPooling2d(),
        layers.flatten(),
        layers.dropout({ rate: 0.2 }),
        layers.dense({ units: 4, activation: 'softmax' }),
      ],
    });

  it('getWeights / setWeights use Keras order and shapes', () => {
    const m = build();
    const ws = m.getWeights();
    expect(ws.map((w) => w.shape)).toEqual([[3, 3, 2, 3], [3], [3], [3], [3], [3], [12, 4], [4]]);
    expect(m.weights.map((w) => w.name.split('/')[1])).toEqual(['kernel', 'bias', 'gamma', 'beta', 'moving_mean', 'moving_variance', 'kernel', 'bias']);
    const m2 = build();
    m2.setWeights(ws);
    const x = rand([2, 6, 6, 2], 1);
    const [p1, p2] = [m.predict(x) as cn.Tensor, m2.predict(x) as cn.Tensor];
    expectClose(p2.dataSync(), p1.dataSync());
    expect(() => m2.setWeights(ws.slice(1))).toThrow(/setWeights: expected 8 weights but received '7'/);
    cn.dispose([ws, x, p1, p2]);
    m.dispose();
    m2.dispose();
  });

  it('layer.trainable = false freezes weights from the next compile on', async () => {
    const m = build();
    const x = rand([8, 6, 6, 2], 2);
    const y = cn.tensor(Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3]), [8], 'int32');
    m.compile({ optimizer: cn.train.sgd(0.1), loss: 'sparseCategoricalCrossentropy' });
    const conv = m.layers[0];
    conv.trainable = false; // not yet effective: compile() took the trainable set
    const k0 = conv.getWeights()[0];
    await m.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    const k1 = conv.getWeights()[0];
    expect(Array.from(k1.dataSync())).not.toEqual(Array.from(k0.dataSync()));
    m.compile({ optimizer: cn.train.sgd(0.1), loss: 'sparseCategoricalCrossentropy' });
    expect(m.trainableWeights.length).toBe(6 - 2);
    await m.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    const k2 = conv.getWeights()[0];
    expect(Array.from(k2.dataSync())).toEqual(Array.from(k1.dataSync()));
    // The summary counts the frozen weights as non-trainable.
    expect(m.summary({ printFn: () => {} })).toContain(' Non-trainable params: 63 ');
    cn.dispose([x, y, k0, k1, k2]);
    m.dispose();
  });

  it('save() writes model.json + weights (tfjs-layers format); loadLayersModel() restores architecture, weights and compile config', async () => {
    const m = build();
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const x = rand([4, 6, 6, 2], 3);
    const p = m.predict(x) as cn.Tensor;
    const path = join(dir, `seq-${backend}`);
    const res = await m.save(`file://${path}`);
    expect(res.modelArtifactsInfo.weightDataBytes).toBe(m.countParams() * 4);
    const json = JSON.parse(readFileSync(join(path, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.modelTopology.class_name).toBe('Sequential');
    expect(json.weightsManifest[0].paths).toHaveLength(1);
    expect(json.weightsManifest[0].paths[0]).toMatch(/^weights\.[0-9a-f]{16}\.bin$/);
    expect(join(path, json.weightsManifest[0].paths[0])).toBe(res.paths.weights);
    expect(json.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toEqual(m.weights.map((w) => w.name));
    const loaded = await cn.loadLayersModel(join(path, 'model.json'));
    expect(loaded.getClassName()).toBe('Sequential');
    expect(loaded.layers.map((l) => l.name)).toEqual(m.layers.map((l) => l.name));
    const p2 = loaded.predict(x) as cn.Tensor;
    expectClose(p2.dataSync(), p.dataSync(), { rtol: 1e-6, atol: 1e-7 });
    expect(loaded.compiled).not.toBeNull();
    const e = loaded.evaluate(x, cn.tensor(Int32Array.from([0, 1, 2, 3]), [4], 'int32')) as cn.Tensor[];
    expect(e.length).toBe(2);
    cn.dispose([x, p, p2, e]);
    m.dispose();
    loaded.dispose();
  });

  it('functional models with several outputs round-trip too', async () => {
    const a = cn.input({ shape: [5] });
    const h = layers.dense({ units: 4, activation: 'tanh' }).apply(a);
    const o1 = layers.dense({ units: 3, activation: 'softmax' }).apply(h);
    const o2 = layers.dense({ units: 1 }).apply(layers.concatenate().apply([h, a]));
    const m = cn.model({ inputs: a, outputs: [o1, o2] });
    const path = join(dir, `fn-${backend}`);
    await m.save(path);
    const loaded = await cn.loadLayersModel(path);
    const x = rand([3, 5], 4);
    const [p1, p2] = m.predict(x) as cn.Tensor[];
    const [q1, q2] = loaded.predict(x) as cn.Tensor[];
    expectClose(q1.dataSync(), p1.dataSync());
    expectClose(q2.dataSync(), p2.dataSync());
    cn.dispose([x, p1, p2, q1, q2]);
    m.dispose();
    loaded.dispose();
  });

  it('load errors: missing file, truncated weights, unknown layer class', async () => {
    await expect(cn.loadLayersModel(join(dir, 'nope'))).rejects.toThrow(/loadLayersModel: expected a readable model.json at/);
    const m = build();
    const path = join(dir, `bad-${backend}`);
    await m.save(path);
    const json = JSON.parse(readFileSync(join(path, 'model.json'), 'utf8'));
    const weightsFile = join(path, json.weightsManifest[0].paths[0]);
    const bin = readFileSync(weightsFile);
    writeFileSync(weightsFile, bin.subarray(0, 100));
    await expect(cn.loadLayersModel(path)).rejects.toThrow(/truncated file/);
    json.modelTopology.config.layers[1].class_name = 'Mystery';
    writeFileSync(join(path, 'model.json'), JSON.stringify(json));
    await expect(cn.loadLayersModel(path)).rejects.toThrow(/expected a registered layer class but received 'Mystery'/);
    m.dispose();
  });
});
