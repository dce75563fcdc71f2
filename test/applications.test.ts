// Applications (lib/applications) against Keras 3: layer names, classes, output shapes,
// parameter counts, weight shapes and graph edges of resnet50 / xception / the notebook's
// resnet34 (test/fixtures/keras/applications.json, made by scripts/keras_reference.py arch);
// preprocessInput and decodePredictions (fixtures/keras/small.json); argument errors and
// the 'imagenet' file lookup.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as cn from '../lib/index.js';
import * as applications from '../lib/applications/index.js';
import { IMAGENET_CLASS_INDEX_JSON } from '../lib/applications/imagenet_class_index.js';
import { expectClose } from './helpers.js';

interface RefLayer {
  name: string;
  className: string;
  outputShape: Array<number | null>;
  params: number;
  weights: Array<[string, number[]]>;
  inbound: string[];
}
interface RefModel {
  application: string;
  args: Record<string, unknown>;
  modelName: string;
  totalParams: number;
  trainableParams: number;
  layers: RefLayer[];
}
const REF = JSON.parse(readFileSync(new URL('./fixtures/keras/applications.json', import.meta.url), 'utf8')) as { kerasVersion: string; models: RefModel[] };
const SMALL = JSON.parse(readFileSync(new URL('./fixtures/keras/small.json', import.meta.url), 'utf8')) as {
  input: number[];
  inputShape: number[];
  resnet50: number[];
  xception: number[];
  probs: number[];
  decoded: Array<Array<[string, string, number]>>;
};

const AUTO = /^(input_layer|conv2d|batch_normalization|add|activation|max_pooling2d|global_average_pooling2d|global_max_pooling2d|flatten|dense|residual_unit)(?:_(\d+))?$/;

/**
 * Keras' automatic names come from session-wide counters ('conv2d', 'conv2d_1', ...), so a
 * model built after others gets higher suffixes. Compare auto names up to one offset per
 * prefix (the first model built in this process gets Keras' names exactly).
 */
function nameMatcher() {
  const offsets = new Map<string, number>();
  return (ours: string, keras: string): boolean => {
    const k = AUTO.exec(keras);
    const o = AUTO.exec(ours);
    if (!k || !o) return ours === keras;
    if (k[1] !== o[1]) return false;
    const diff = Number(o[2] ?? 0) - Number(k[2] ?? 0);
    if (!offsets.has(k[1])) offsets.set(k[1], diff);
    return offsets.get(k[1]) === diff;
  };
}

function compareToKeras(model: cn.LayersModel, ref: RefModel, exactNames: boolean): void {
  const same = nameMatcher();
  const layers = model.layers;
  const what = `${ref.application} ${JSON.stringify(ref.args)}`;
  expect(layers.length, what).toBe(ref.layers.length);
  const rename = new Map<string, string>();
  layers.forEach((l, i) => {
    const r = ref.layers[i];
    const at = `${what} layer ${i} (${r.name})`;
    if (exactNames) expect(l.name, at).toBe(r.name);
    else expect(same(l.name, r.name), `${at}: name '${l.name}'`).toBe(true);
    rename.set(l.name, r.name);
    expect(l.getClassName(), at).toBe(r.className);
    expect(l.outputShape, at).toEqual(r.outputShape);
    expect(l.countParams(), at).toBe(r.params);
    expect(l.weights.map((w) => w.shape), at).toEqual(r.weights.map((w) => w[1]));
    const inbound = l.inboundNodes[0]?.inputTensors.map((t) => t.sourceLayer.name) ?? [];
    expect(inbound.length, at).toBe(r.inbound.length);
    inbound.forEach((n, j) => expect(same(rename.get(n) ?? n, r.inbound[j]) || rename.get(n) === r.inbound[j], `${at}: inbound '${n}'`).toBe(true));
  });
  expect(model.countParams(), what).toBe(ref.totalParams);
  expect(model.trainableWeights.reduce((a, w) => a + w.size, 0), what).toBe(ref.trainableParams);
}

function refFor(app: string, pred: (args: Record<string, unknown>) => boolean): RefModel {
  const m = REF.models.find((x) => x.application === app && pred(x.args));
  if (!m) throw new Error(`no Keras reference for ${app}`);
  return m;
}

describe('applications: architecture parity with Keras 3 (' + REF.kerasVersion + ')', () => {
  // Built first in this process, so Keras' automatic names are matched exactly.
  it('xception, includeTop (299x299): names, classes, shapes, params, edges, layer order', async () => {
    const m = await applications.xception();
    expect(m.name).toBe('xception');
    compareToKeras(m, refFor('xception', (a) => a.include_top === true), true);
    expect(m.layers[56].name).toBe('block7_sepconv1_act');
    m.dispose();
  });

  it("xception, no top, 71x71, pooling 'max'", async () => {
    const m = await applications.xception({ includeTop: false, inputShape: [71, 71, 3], pooling: 'max' });
    compareToKeras(m, refFor('xception', (a) => a.include_top === false), false);
    m.dispose();
  });

  it('resnet50, includeTop (224x224)', async () => {
    const m = await applications.resnet50();
    expect(m.name).toBe('resnet50');
    compareToKeras(m, refFor('resnet50', (a) => a.include_top === true), false);
    m.dispose();
  });

  it("resnet50, no top, 32x32, pooling 'avg'; runs on a batch", async () => {
    const m = await applications.resnet50({ includeTop: false, inputShape: [32, 32, 3], pooling: 'avg' });
    compareToKeras(m, refFor('resnet50', (a) => a.include_top === false), false);
    const x = cn.randomUniform([1, 32, 32, 3], 0, 255, 'float32', 1);
    const y = m.predict(applications.resnet50.preprocessInput(x)) as cn.Tensor;
    expect(y.shape).toEqual([1, 2048]);
    expect(y.dataSync().every(Number.isFinite)).toBe(true);
    cn.dispose([x, y]);
    m.dispose();
  });

  it("resnet34 (the notebook's Sequential of ResidualUnits)", () => {
    const m = applications.resnet34();
    compareToKeras(m, refFor('resnet34', () => true), false);
    m.dispose();
  });

  it('unknown spatial size without top: outputs [null, null, null, 2048]', async () => {
    const m = await applications.xception({ includeTop: false });
    expect(m.outputs[0].shape).toEqual([null, null, null, 2048]);
    m.dispose();
  });
});

describe('applications: preprocessInput and decodePredictions (Keras reference)', () => {
  it("resnet50 'caffe' (BGR, mean subtracted) and xception 'tf' ([-1, 1])", () => {
    const x = cn.tensor(Float32Array.from(SMALL.input), SMALL.inputShape);
    const a = applications.resnet50.preprocessInput(x);
    const b = applications.xception.preprocessInput(x);
    expectClose(a.dataSync(), SMALL.resnet50, { rtol: 1e-6, atol: 1e-4, what: 'caffe' });
    expectClose(b.dataSync(), SMALL.xception, { rtol: 1e-6, atol: 1e-6, what: 'tf' });
    cn.dispose([x, a, b]);
  });

  it("decodePredictions: top-k [id, name, score] as Keras' decode_predictions", () => {
    const probs = cn.tensor(Float32Array.from(SMALL.probs), [2, 1000]);
    const got = applications.xception.decodePredictions(probs, { top: 5 });
    expect(got.map((r) => r.map((p) => [p[0], p[1]]))).toEqual(SMALL.decoded.map((r) => r.map((p) => [p[0], p[1]])));
    got.flat().forEach((p, i) => expect(p[2]).toBeCloseTo(SMALL.decoded.flat()[i][2], 6));
    expect(applications.decodePredictions(Array.from(probs.dataSync().subarray(0, 1000)), { top: 1 })).toEqual([got[0].slice(0, 1)]);
    expect(() => applications.decodePredictions(cn.zeros([2, 10]))).toThrow(/decodePredictions: expected a batch of predictions \(a 2D array of shape \[samples, 1000\]\) but received shape \[2,10\]/);
    probs.dispose();
  });

  it("the shipped class index is Keras' file byte for byte", () => {
    expect(createHash('md5').update(IMAGENET_CLASS_INDEX_JSON).digest('hex')).toBe('c2c37ea517e94d9795004a39431a14cb');
    expect(readFileSync(new URL('../lib/applications/imagenet_class_index.json', import.meta.url), 'utf8')).toBe(IMAGENET_CLASS_INDEX_JSON);
    const idx = applications.imagenetClassIndex();
    expect(Object.keys(idx).length).toBe(1000);
    expect(idx['0']).toEqual(['n01440764', 'tench']);
  });
});

describe('applications: arguments and imagenet weights', () => {
  it("Keras' argument errors", async () => {
    await expect(applications.resnet50({ weights: 'imagenet', classes: 10 })).rejects.toThrow(/resnet50: expected classes 1000 when using weights 'imagenet' with includeTop true but received 10/);
    await expect(applications.xception({ includeTop: false, inputShape: [64, 64, 3] })).rejects.toThrow(/xception: expected an input size of at least 71x71 but received inputShape \[64,64,3\]/);
    await expect(applications.resnet50({ weights: '/no/such/file.h5' })).rejects.toThrow(/resnet50: expected weights null \(random initialization\), 'imagenet'.*received "\/no\/such\/file.h5"/);
    await expect(applications.resnet50({ weights: 'imagenet', inputShape: [128, 128, 3] })).rejects.toThrow(/expected inputShape \[224,224,3\] when includeTop is true with weights 'imagenet'/);
    await expect(applications.resnet50({ pooling: 'mean' as never })).rejects.toThrow(/resnet50: expected pooling 'avg', 'max' or null/);
  });

  it("'imagenet' without the file (no network): an error naming the file, Keras' address and where to put it", async () => {
    const home = mkdtempSync(join(tmpdir(), 'keras-home-'));
    const prev = process.env.KERAS_HOME;
    process.env.KERAS_HOME = home;
    try {
      await expect(applications.xception({ weights: 'imagenet', includeTop: false, inputShape: [71, 71, 3], download: false })).rejects.toThrow(
        new RegExp(
          `xception: expected ImageNet weights 'xception_weights_tf_dim_ordering_tf_kernels_notop.h5' in ${join(home, 'models')} but it is not there and downloads are off.*` +
            'Download https://storage.googleapis.com/tensorflow/keras-applications/xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5 \\(MD5 b0042744bf5b25fce3cb969f33bebb97\\)',
        ),
      );
      expect(existsSync(join(home, 'models'))).toBe(false);
    } finally {
      if (prev === undefined) delete process.env.KERAS_HOME;
      else process.env.KERAS_HOME = prev;
      rmSync(home, { recursive: true, force: true });
    }
  });
});
