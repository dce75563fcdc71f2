// The tfjs-layers model format both ways, against tfjs-node itself (issue 22 item 3): models
// that tfjs-node saves with model.save('file://...') load here and predict what tfjs-node
// predicts; models we save load in tfjs-node's loadLayersModel and predict what we predict;
// the tfjs-converter form of Keras models (model_config wrapper, several weight shards)
// loads in both, with the same predictions.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as cn from '../lib/index.js';
import { toCamelCase, toSnakeCase } from '../lib/io/tfjs_layers_format.js';
import { expectClose, seededRandom } from './helpers.js';
import { loadTfjs } from './tfjs.js';

type TF = Awaited<ReturnType<typeof loadTfjs>>;
let tf: TF;
const dir = mkdtempSync(join(tmpdir(), 'cn-tfjs-format-'));
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const data = (shape: number[], seed: number) => seededRandom(size(shape), seed);

beforeAll(async () => {
  tf = await loadTfjs();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** tfjs' prediction and ours for the same inputs, compared. */
async function comparePredictions(tfModel: import('@tensorflow/tfjs-node').LayersModel, ours: cn.LayersModel, shapes: number[][], seed: number) {
  const xs = shapes.map((s, i) => data(s, seed + i));
  const tfOut = tfModel.predict(xs.length === 1 ? tf.tensor(xs[0], shapes[0]) : xs.map((x, i) => tf.tensor(x, shapes[i]))) as import('@tensorflow/tfjs-node').Tensor;
  const cnIn = xs.map((x, i) => cn.tensor(x, shapes[i]));
  const cnOut = ours.predict(cnIn.length === 1 ? cnIn[0] : cnIn) as cn.Tensor;
  expect(cnOut.shape).toEqual(tfOut.shape);
  expectClose(cnOut.dataSync(), tfOut.dataSync() as Float32Array, { rtol: 1e-4, atol: 1e-5 });
  tfOut.dispose();
  cn.dispose([...cnIn, cnOut]);
}

/** The tfjs Sequential CNN of the issue, with nested configs: initializers, a regularizer, a constraint, activations. */
async function tfjsCnn(): Promise<import('@tensorflow/tfjs-node').Sequential> {
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      inputShape: [8, 8, 2], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu',
      kernelInitializer: tf.initializers.heNormal({ seed: 1 }), biasInitializer: tf.initializers.constant({ value: 0.1 }),
      kernelRegularizer: tf.regularizers.l2({ l2: 0.01 }), kernelConstraint: tf.constraints.maxNorm({ maxValue: 2 }),
    }),
  );
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.dropout({ rate: 0.25 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.3, seed: 2 }) }));
  m.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  // A little training, so that batch normalization's moving statistics are not the initial ones.
  const x = tf.tensor(data([16, 8, 8, 2], 5), [16, 8, 8, 2]);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 5), 'int32'), 5);
  await m.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
  tf.dispose([x, y]);
  return m;
}

function tfjsFunctional(): import('@tensorflow/tfjs-node').LayersModel {
  const a = tf.input({ shape: [6] });
  const b = tf.input({ shape: [6] });
  const d1 = tf.layers.dense({ units: 4, activation: 'tanh' }).apply(a) as import('@tensorflow/tfjs-node').SymbolicTensor;
  const d2 = tf.layers.dense({ units: 4, useBias: false }).apply(b) as import('@tensorflow/tfjs-node').SymbolicTensor;
  const s = tf.layers.add().apply([d1, d2]) as import('@tensorflow/tfjs-node').SymbolicTensor;
  const c = tf.layers.concatenate().apply([s, d1]) as import('@tensorflow/tfjs-node').SymbolicTensor;
  const o = tf.layers.dense({ units: 3, activation: 'sigmoid' }).apply(c) as import('@tensorflow/tfjs-node').SymbolicTensor;
  return tf.model({ inputs: [a, b], outputs: o });
}

describe('tfjs-node saves, cudnn-node loads', () => {
  it('a Sequential CNN (conv2d, batchNormalization, maxPooling2d, dropout, flatten, dense) predicts what tfjs-node predicts', async () => {
    const m = await tfjsCnn();
    const path = join(dir, 'tfjs-cnn');
    await m.save(`file://${path}`);
    const json = JSON.parse(readFileSync(join(path, 'model.json'), 'utf8'));
    expect(json.modelTopology.class_name).toBe('Sequential');
    expect(json.modelTopology.config.layers[0].config.kernel_regularizer.class_name).toBe('L1L2');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const ours = await cn.loadLayersModel(`file://${path}`);
    // The regularizer and constraint are named in a warning, not dropped silently.
    expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(/kernelRegularizer = L1L2.*kernelConstraint = MaxNorm/);
    warn.mockRestore();
    expect(ours.layers.map((l) => l.getClassName())).toEqual(['Conv2D', 'BatchNormalization', 'MaxPooling2D', 'Dropout', 'Flatten', 'Dense']);
    expect(ours.layers.map((l) => l.name)).toEqual(m.layers.map((l) => l.name));
    await comparePredictions(m, ours, [[3, 8, 8, 2]], 11);
    ours.dispose();
    m.dispose();
  });

  it('a functional model with merge layers (add, concatenate) and two inputs predicts what tfjs-node predicts', async () => {
    const m = tfjsFunctional();
    const path = join(dir, 'tfjs-fn');
    await m.save(`file://${path}`);
    const ours = await cn.loadLayersModel(join(path, 'model.json'));
    expect(ours.inputs.length).toBe(2);
    await comparePredictions(m, ours, [[4, 6], [4, 6]], 21);
    ours.dispose();
    m.dispose();
  });
});

describe('cudnn-node saves, tfjs-node loads', () => {
  it('a Sequential CNN saved here loads in tfjs-node (with its compile config) and predicts the same', async () => {
    const { layers } = cn;
    const m = cn.sequential();
    m.add(layers.conv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: 'heNormal' }));
    m.add(layers.batchNormalization({}));
    m.add(layers.maxPooling2d({ poolSize: 2 }));
    m.add(layers.dropout({ rate: 0.25 }));
    m.add(layers.flatten());
    m.add(layers.dense({ units: 5, activation: 'softmax' }));
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const x = cn.tensor(data([16, 8, 8, 2], 6), [16, 8, 8, 2]);
    const y = cn.oneHot(cn.tensor(Int32Array.from({ length: 16 }, (_, i) => i % 5), [16], 'int32'), 5);
    await m.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
    cn.dispose([x, y]);
    const path = join(dir, 'cn-cnn');
    await m.save(path);
    const theirs = await tf.loadLayersModel(`file://${join(path, 'model.json')}`);
    expect(theirs.layers.map((l) => l.getClassName())).toEqual(['Conv2D', 'BatchNormalization', 'MaxPooling2D', 'Dropout', 'Flatten', 'Dense']);
    expect(theirs.optimizer?.getClassName()).toBe('Adam');
    await comparePredictions(theirs, m, [[3, 8, 8, 2]], 31);
    theirs.dispose();
    m.dispose();
  });

  it('a functional model with merge layers saved here loads in tfjs-node and predicts the same', async () => {
    const { layers } = cn;
    const a = cn.input({ shape: [6] });
    const b = cn.input({ shape: [6] });
    const d1 = layers.dense({ units: 4, activation: 'tanh' }).apply(a) as cn.SymbolicTensor;
    const d2 = layers.dense({ units: 4, useBias: false, kernelInitializer: 'leCunUniform' }).apply(b) as cn.SymbolicTensor;
    const s = layers.add().apply([d1, d2]) as cn.SymbolicTensor;
    const c = layers.concatenate().apply([s, d1]) as cn.SymbolicTensor;
    const o = layers.dense({ units: 3, activation: 'sigmoid' }).apply(c) as cn.SymbolicTensor;
    const m = cn.model({ inputs: [a, b], outputs: o });
    const path = join(dir, 'cn-fn');
    await m.save(path);
    const theirs = await tf.loadLayersModel(`file://${join(path, 'model.json')}`);
    expect(theirs.inputs.length).toBe(2);
    await comparePredictions(theirs, m, [[4, 6], [4, 6]], 41);
    // And back: the tfjs format is also what we read, so our own save round-trips.
    const again = await cn.loadLayersModel(path);
    await comparePredictions(theirs, again, [[4, 6], [4, 6]], 42);
    again.dispose();
    theirs.dispose();
    m.dispose();
  });
});

describe("tfjs-converter's Keras form", () => {
  it('model_config wrapper, Keras class names and several weight shards: tfjs-node and cudnn-node load it and agree', async () => {
    // A functional model saved by tfjs-node, rewritten the way tfjs-converter writes a Keras
    // model: modelTopology {keras_version, backend, model_config}, class_name 'Functional',
    // Keras' InputLayer fields, initializers with seed null, the weights in two shard files.
    const m = tfjsFunctional();
    const src = join(dir, 'keras-src');
    await m.save(`file://${src}`);
    const json = JSON.parse(readFileSync(join(src, 'model.json'), 'utf8'));
    const bin = readFileSync(join(src, json.weightsManifest[0].paths[0]));
    const topo = json.modelTopology;
    topo.class_name = 'Functional';
    for (const l of topo.config.layers) if (l.class_name === 'InputLayer') l.config.ragged = false;
    const converted = {
      format: 'layers-model',
      generatedBy: 'keras v2.15.0',
      convertedBy: 'TensorFlow.js Converter v4.22.0',
      modelTopology: { keras_version: '2.15.0', backend: 'tensorflow', model_config: { class_name: topo.class_name, config: topo.config } },
      weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: json.weightsManifest[0].weights }],
    };
    const path = join(dir, 'keras-converted');
    rmSync(path, { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(path);
    writeFileSync(join(path, 'model.json'), JSON.stringify(converted));
    const cut = 40; // shards split mid-weight, as tfjs-converter's 4 MB shards do
    writeFileSync(join(path, 'group1-shard1of2.bin'), bin.subarray(0, cut));
    writeFileSync(join(path, 'group1-shard2of2.bin'), bin.subarray(cut));
    const theirs = await tf.loadLayersModel(`file://${join(path, 'model.json')}`);
    const ours = await cn.loadLayersModel(path);
    await comparePredictions(theirs, ours, [[5, 6], [5, 6]], 51);
    await comparePredictions(m, ours, [[5, 6], [5, 6]], 52);
    ours.dispose();
    theirs.dispose();
    m.dispose();
  });

  it("a Keras 3 model in tfjs-converter's form (Keras 3 inbound nodes, DTypePolicy, regularizer, constraint, two shards) predicts what Keras predicts", async () => {
    // Made by scripts/keras_tfjs_layers_fixture.py from Keras itself: model.to_json() inside
    // the converter's model_config wrapper; input.bin / output.bin are Keras' input and output.
    const fx = new URL('./fixtures/keras/tfjs-layers/', import.meta.url).pathname;
    const meta = JSON.parse(readFileSync(join(fx, 'meta.json'), 'utf8'));
    const read = (f: string) => {
      const b = readFileSync(join(fx, f));
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const ours = await cn.loadLayersModel(fx);
    expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(/conv\.kernelRegularizer = L2, conv\.kernelConstraint = MaxNorm/);
    warn.mockRestore();
    expect(ours.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Conv2D', 'BatchNormalization', 'MaxPooling2D', 'AveragePooling2D', 'Add', 'Concatenate', 'Flatten', 'Dropout', 'Dense']);
    const x = cn.tensor(read('input.bin'), meta.input);
    const y = ours.predict(x) as cn.Tensor;
    expect(y.shape).toEqual(meta.output);
    expectClose(y.dataSync(), read('output.bin'), { rtol: 1e-4, atol: 1e-6 });
    cn.dispose([x, y]);
    ours.dispose();
  });

  it("names convert as tfjs converts them", () => {
    for (const [camel, snake] of [['kernelSize', 'kernel_size'], ['channelsLast', 'channels_last'], ['batchInputShape', 'batch_input_shape'], ['fanAvg', 'fan_avg'], ['truncatedNormal', 'truncated_normal']]) {
      expect(toSnakeCase(camel)).toBe(snake);
      expect(toCamelCase(snake)).toBe(camel);
    }
  });

  it('a config value tfjs would change in conversion (a custom layer\'s "NHWC") round-trips exactly through our own copy', async () => {
    class Tagged extends cn.layers.Layer {
      static className = 'TaggedForFormatTest';
      readonly tag: string;
      constructor(args: { tag: string; name?: string }) {
        super(args);
        this.tag = args.tag;
      }
      getConfig() {
        return { ...super.getConfig(), tag: this.tag };
      }
    }
    cn.layers.registerLayer(Tagged as never);
    const m = cn.sequential();
    m.add(cn.layers.dense({ inputShape: [3], units: 2 }));
    m.add(new Tagged({ tag: 'NHWC_layout' }));
    const path = join(dir, 'lossy');
    await m.save(path);
    const json = JSON.parse(readFileSync(join(path, 'model.json'), 'utf8'));
    // tfjs' form has it snake_cased (what tfjs itself would write) ...
    expect(json.modelTopology.config.layers[1].config.tag).toBe('nhwc_layout');
    // ... and our copy keeps it exact, so loading gives the layer back unchanged.
    const loaded = await cn.loadLayersModel(path);
    expect((loaded.layers[1] as Tagged).tag).toBe('NHWC_layout');
    m.dispose();
    loaded.dispose();
  });
});
