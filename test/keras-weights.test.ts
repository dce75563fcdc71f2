// Keras weight files (lib/io/h5weights.ts): the legacy HDF5 layout and the Keras 3
// .weights.h5 layout, written by Keras itself (scripts/keras_reference.py), plus the legacy
// layout as Keras 2 wrote it (byte strings, chunked attributes, ':0' names; the ImageNet
// files' format). A tiny model's files are committed (test/fixtures/keras/tiny); ResNet-50 and Xception files (~400 MB)
// are made at test time when a Python with Keras is at hand (test/keras.ts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import { loadKerasWeights, readKerasWeights } from '../lib/io/h5weights.js';
import { describeBackends, expectClose } from './helpers.js';

const L = cn.layers;
const dir = new URL('./fixtures/keras/tiny/', import.meta.url);

function bin(name: string, shape: number[]): cn.Tensor {
  const b = readFileSync(new URL(name, dir));
  return cn.tensor(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), shape);
}

/** The model of keras_reference.py's tiny(), same names and layer order. */
function tinyModel(): cn.LayersModel {
  const inp = cn.input({ shape: [9, 9, 3], name: 'image' });
  let x = L.zeroPadding2d({ padding: [[1, 0], [0, 1]], name: 'pad' }).apply(inp);
  x = L.conv2d({ filters: 4, kernelSize: 3, strides: 2, name: 'conv' }).apply(x);
  x = L.batchNormalization({ name: 'bn' }).apply(x);
  x = L.activation({ activation: 'relu', name: 'relu' }).apply(x);
  let y = L.separableConv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'sep' }).apply(x);
  y = L.depthwiseConv2d({ kernelSize: 3, padding: 'same', name: 'dw' }).apply(y);
  x = L.add({ name: 'add' }).apply([x, y]);
  x = L.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(x);
  x = L.globalAveragePooling2d({ name: 'gap' }).apply(x);
  const out = L.dense({ units: 3, activation: 'softmax', name: 'probs' }).apply(x);
  return cn.model({ inputs: inp, outputs: out, name: 'tiny' });
}

describe('Keras weight files: reading', () => {
  it('reads both layouts: layer names, weight names and shapes in Keras order', async () => {
    const legacy = await readKerasWeights(new URL('tiny.h5', dir).pathname);
    expect(legacy.format).toBe('legacy');
    expect(legacy.layers.map((l) => l.name)).toEqual(['image', 'pad', 'conv', 'bn', 'relu', 'sep', 'dw', 'add', 'pool', 'gap', 'probs']);
    expect(legacy.layers.find((l) => l.name === 'bn')!.weights.map((w) => w.name)).toEqual(['bn/gamma', 'bn/beta', 'bn/moving_mean', 'bn/moving_variance']);
    expect(legacy.layers.find((l) => l.name === 'sep')!.weights.map((w) => w.shape)).toEqual([[3, 3, 4, 1], [1, 1, 4, 4], [4]]);
    const k3 = await readKerasWeights(new URL('tiny.weights.h5', dir).pathname);
    expect(k3.format).toBe('keras3');
    const sep = k3.layers.find((l) => l.key === 'separable_conv2d')!;
    expect(sep.name).toBe('sep');
    expect(sep.weights.map((w) => w.shape)).toEqual([[3, 3, 4, 1], [1, 1, 4, 4], [4]]);
    expect(k3.layers.find((l) => l.key === 'depthwise_conv2d')!.weights.map((w) => w.shape)).toEqual([[3, 3, 4, 1], [4]]);
  });

  it('errors name the file and what is wrong', async () => {
    await expect(readKerasWeights('/nonexistent/x.h5')).rejects.toThrow(/loadKerasWeights: expected an existing HDF5 file but received '\/nonexistent\/x.h5'/);
    await expect(readKerasWeights(new URL('tiny.input.bin', dir).pathname)).rejects.toThrow(/could not be opened/);
    const m = cn.sequential({ layers: [L.dense({ units: 2, inputShape: [3] })] });
    await expect(loadKerasWeights(m, new URL('tiny.h5', dir).pathname)).rejects.toThrow(/expected a file with 1 layers with weights \(the model's\) but .* has 5/);
    await expect(loadKerasWeights(m, new URL('tiny.weights.h5', dir).pathname)).rejects.toThrow(/expected weight '.*kernel' of shape \[3,2\] but .* has .* of shape \[4,3\]/);
    m.dispose();
  });
});

describeBackends('Keras weight files: loading', () => {
  for (const file of ['tiny.h5', 'tiny.weights.h5', 'tiny_keras2.h5']) {
    it(`${file}: Keras' predictions (separable, depthwise, batch norm, zero padding in Keras order)`, async () => {
      const model = tinyModel();
      const res = await loadKerasWeights(model, new URL(file, dir).pathname);
      expect(res).toEqual({ format: file.endsWith('.weights.h5') ? 'keras3' : 'legacy', weights: 13 });
      if (file === 'tiny_keras2.h5') {
        // Keras 2's byte-string attributes, chunked layer_names and ':0' weight names.
        const f = await readKerasWeights(new URL(file, dir).pathname);
        expect(f.layers.map((l) => l.name)).toEqual(['image', 'pad', 'conv', 'bn', 'relu', 'sep', 'dw', 'add', 'pool', 'gap', 'probs']);
        expect(f.layers[2].weights.map((w) => w.name)).toEqual(['conv/kernel:0', 'conv/bias:0']);
      }
      const x = bin('tiny.input.bin', [2, 9, 9, 3]);
      const want = bin('tiny.output.bin', [2, 3]);
      const y = model.predict(x) as cn.Tensor;
      expectClose(y.dataSync(), want.dataSync(), { rtol: 1e-4, atol: 1e-6, what: file });
      cn.dispose([x, want, y]);
      model.dispose();
    });
  }

  it('byName matches legacy layers by name, skipping layers the file lacks', async () => {
    const inp = cn.input({ shape: [9, 9, 3] });
    const out = L.conv2d({ filters: 4, kernelSize: 3, strides: 2, name: 'conv' }).apply(L.zeroPadding2d({ padding: [[1, 0], [0, 1]] }).apply(inp));
    const m = cn.model({ inputs: inp, outputs: L.dense({ units: 2, name: 'other' }).apply(out) });
    const res = await loadKerasWeights(m, new URL('tiny.h5', dir).pathname, { byName: true });
    expect(res.weights).toBe(2);
    const file = await readKerasWeights(new URL('tiny.h5', dir).pathname);
    const kernel = file.layers.find((l) => l.name === 'conv')!.weights[0].values;
    expect(Array.from(m.getLayer('conv').getWeights()[0].dataSync())).toEqual(Array.from(kernel));
    m.dispose();
  });
});
