// The tfjs-layers layers that tfjs-node programs use, against tfjs-node's own layers (issue
// 22 item 4): each layer of a config is built in both libraries, given the same seeded
// weights, and compared on the forward value, the gradients of sum(y * dy) with respect to
// the float inputs and to every trainable weight, the symbolic output shape, and the config
// (ours must be tfjs' getConfig() less only options tfjs leaves null, and ours must load
// tfjs' config). Then the layers inside Sequential and functional models that predict and
// fit like tfjs-node's, and what Sequential accepts. The TensorFlow side goes through
// reference() (test/reference.ts), so it can be replayed where tfjs-node is absent.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs-node';
import * as cn from '../lib/index.js';
import { describeBackends, expectClose, seededRandom } from './helpers.js';
import { TFModule, Tol, convTol, loadReference, requireTf } from './parity-common.js';
import { RefTensor, digest, fromTf, reference, referenceAsync, saveRecording } from './reference.js';

let tf: TFModule;
beforeAll(async () => {
  tf = await loadReference(); // a missing reference fails every test
});
afterAll(saveRecording);

// The two libraries' layer factories, as untyped tables (each case calls one of them).
type AnyLayer = { apply: (x: unknown, kw?: unknown) => unknown; getWeights: () => unknown[]; setWeights: (w: unknown[]) => void; trainableWeights: unknown[]; getConfig: () => Record<string, unknown>; getClassName: () => string };
type Factories = Record<string, (args?: unknown) => AnyLayer>;

interface In {
  shape: number[];
  dtype?: 'float32' | 'int32';
  /** Integer values in [0, max) (int32, or float32 holding integers); else uniform in [-1, 1). */
  max?: number;
  /** Differentiate with respect to this input (default: float32 inputs without max). */
  grad?: boolean;
}
const wantsGrad = (inp: In) => inp.grad ?? ((inp.dtype ?? 'float32') === 'float32' && inp.max === undefined);

interface LayerCase {
  name: string;
  /** Builds the layer from a library's `layers` table. */
  make: (L: Factories) => AnyLayer;
  /** TensorFlow's side when tfjs has no such layer (Keras' Subtract): a function of the inputs. */
  tfFn?: (tf: TFModule, xs: TF.Tensor[]) => TF.Tensor;
  /** The same function for the input gradients where tfjs' own gradient is missing or wrong. */
  gradRef?: (tf: TFModule, xs: TF.Tensor[]) => TF.Tensor;
  inputs: In[];
  tol?: Tol;
  gradTol?: Tol;
}

const T: Tol = { rtol: 1e-5, atol: 1e-6 };
const seedOf = (name: string) => {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return 1000 + (h % 1_000_000);
};
function inputValues(inp: In, seed: number): Float32Array | Int32Array {
  const n = inp.shape.reduce((a, b) => a * b, 1);
  const r = seededRandom(n, seed, 0, 1);
  if (inp.dtype === 'int32') return Int32Array.from(r, (v) => Math.floor(v * (inp.max ?? 10)));
  if (inp.max !== undefined) return Float32Array.from(r, (v) => Math.floor(v * inp.max!));
  return Float32Array.from(r, (v) => 2 * v - 1);
}
const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);

// Kernel initializers are named in each case: tfjs' default is glorotNormal where ours is
// Keras' glorotUniform (docs/layers.md), and the configs are compared.
const cases: LayerCase[] = [
  // advanced activations
  { name: 'leakyReLU default alpha', make: (L) => L.leakyReLU(), inputs: [{ shape: [3, 4, 5] }] },
  { name: 'leakyReLU alpha 0.1', make: (L) => L.leakyReLU({ alpha: 0.1 }), inputs: [{ shape: [4, 6] }] },
  { name: 'prelu per element', make: (L) => L.prelu({}), inputs: [{ shape: [3, 6] }] },
  { name: 'prelu sharedAxes [1, 2]', make: (L) => L.prelu({ sharedAxes: [1, 2], alphaInitializer: 'ones' }), inputs: [{ shape: [2, 4, 4, 3] }] },
  { name: 'elu', make: (L) => L.elu(), inputs: [{ shape: [3, 7] }] },
  {
    name: 'elu alpha 0.5 (tfjs refuses alpha != 1: its formula)',
    make: (L) => L.elu({ alpha: 0.5 }),
    tfFn: (tf, [x]) => tf.add(tf.relu(x), tf.mul(tf.sub(tf.exp(tf.minimum(x, 0)), 1), 0.5)),
    inputs: [{ shape: [3, 7] }],
  },
  { name: 'reLU maxValue', make: (L) => L.reLU({ maxValue: 0.5 }), inputs: [{ shape: [3, 7] }] },
  // tfjs has no gradient for Greater: its gradient reference is the same function as relu(x - t) + t * step(x - t).
  { name: 'thresholdedReLU', make: (L) => L.thresholdedReLU({ theta: 0.3 }), gradRef: (tf, [x]) => tf.add(tf.relu(tf.sub(x, 0.3)), tf.mul(tf.step(tf.sub(x, 0.3)), 0.3)), inputs: [{ shape: [3, 7] }] },
  { name: 'softmax layer default axis (1, as tfjs)', make: (L) => L.softmax(), inputs: [{ shape: [3, 5] }] },
  { name: 'softmax layer axis -1', make: (L) => L.softmax({ axis: -1 }), inputs: [{ shape: [2, 3, 4] }] },
  { name: 'softmax layer axes [1, 2]', make: (L) => L.softmax({ axis: [1, 2] }), inputs: [{ shape: [2, 3, 4] }] },
  // transposed convolution and resampling
  { name: 'conv2dTranspose same stride 2 relu', make: (L) => L.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: 'glorotUniform' }), inputs: [{ shape: [2, 4, 5, 2] }], tol: convTol(18) },
  { name: 'conv2dTranspose valid [3,2] strides [2,1] no bias', make: (L) => L.conv2dTranspose({ filters: 2, kernelSize: [3, 2], strides: [2, 1], useBias: false, kernelInitializer: 'heNormal' }), inputs: [{ shape: [2, 3, 4, 3] }], tol: convTol(18) },
  { name: 'conv2dTranspose valid kernel 1 stride 3', make: (L) => L.conv2dTranspose({ filters: 4, kernelSize: 1, strides: 3, activation: 'tanh', kernelInitializer: 'glorotNormal' }), inputs: [{ shape: [1, 3, 2, 2] }], tol: convTol(2) },
  { name: 'upSampling2d nearest default', make: (L) => L.upSampling2d({}), inputs: [{ shape: [2, 3, 4, 2] }] },
  { name: 'upSampling2d nearest [2, 3]', make: (L) => L.upSampling2d({ size: [2, 3] }), inputs: [{ shape: [2, 3, 2, 3] }] },
  { name: 'upSampling2d bilinear', make: (L) => L.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }), inputs: [{ shape: [2, 3, 4, 2] }] },
  // embedding (int indices, gradient into the table)
  { name: 'embedding', make: (L) => L.embedding({ inputDim: 7, outputDim: 4 }), inputs: [{ shape: [3, 5], dtype: 'int32', max: 7 }] },
  { name: 'embedding of float32 indices (truncated to int32, as tfjs)', make: (L) => L.embedding({ inputDim: 6, outputDim: 2 }), inputs: [{ shape: [4, 3], max: 6 }] },
  { name: 'embedding with inputLength', make: (L) => L.embedding({ inputDim: 5, outputDim: 3, inputLength: 4 }), inputs: [{ shape: [6, 4], dtype: 'int32', max: 5 }] },
  // wrapper
  { name: 'timeDistributed dense', make: (L) => L.timeDistributed({ layer: L.dense({ units: 3, activation: 'tanh', kernelInitializer: 'glorotUniform' }) }), inputs: [{ shape: [2, 4, 5] }] },
  { name: 'timeDistributed conv2d', make: (L) => L.timeDistributed({ layer: L.conv2d({ filters: 2, kernelSize: 3, padding: 'same', kernelInitializer: 'heUniform' }) }), inputs: [{ shape: [2, 3, 5, 5, 1] }], tol: convTol(9) },
  // dot
  { name: 'dot axes 1 of [b, n]', make: (L) => L.dot({ axes: 1 }), inputs: [{ shape: [4, 5] }, { shape: [4, 5] }] },
  { name: 'dot axes [2, 2] of rank 3', make: (L) => L.dot({ axes: [2, 2] }), inputs: [{ shape: [2, 3, 4] }, { shape: [2, 5, 4] }] },
  { name: 'dot axes [1, 1] normalized', make: (L) => L.dot({ axes: [1, 1], normalize: true }), inputs: [{ shape: [2, 3, 4] }, { shape: [2, 3, 5] }] },
  { name: 'dot ranks 3 and 2', make: (L) => L.dot({ axes: [2, 1] }), inputs: [{ shape: [2, 3, 4] }, { shape: [2, 4] }] },
  { name: 'dot axes -1 of [b, n] normalized', make: (L) => L.dot({ axes: -1, normalize: true }), inputs: [{ shape: [3, 6] }, { shape: [3, 6] }] },
  // reshaping
  { name: 'repeatVector', make: (L) => L.repeatVector({ n: 3 }), inputs: [{ shape: [2, 5] }] },
  { name: 'permute [2, 1]', make: (L) => L.permute({ dims: [2, 1] }), inputs: [{ shape: [2, 3, 4] }] },
  { name: 'permute [3, 1, 2]', make: (L) => L.permute({ dims: [3, 1, 2] }), inputs: [{ shape: [2, 3, 4, 5] }] },
  { name: 'reshape with -1', make: (L) => L.reshape({ targetShape: [-1, 2] }), inputs: [{ shape: [2, 3, 4] }] },
  { name: 'zeroPadding2d [[1, 2], [0, 3]]', make: (L) => L.zeroPadding2d({ padding: [[1, 2], [0, 3]] }), inputs: [{ shape: [2, 3, 3, 2] }] },
  { name: 'zeroPadding2d default', make: (L) => L.zeroPadding2d(), inputs: [{ shape: [1, 2, 3, 2] }] },
  { name: 'cropping2d [[1, 0], [2, 1]]', make: (L) => L.cropping2D({ cropping: [[1, 0], [2, 1]] }), inputs: [{ shape: [2, 5, 6, 2] }] },
  { name: 'cropping2d 1', make: (L) => L.cropping2D({ cropping: 1 }), inputs: [{ shape: [2, 4, 4, 3] }] },
  // merges broadcasting as tfjs (Note [merge broadcasting])
  { name: 'add [N, 10] + [N, 1, 10]', make: (L) => L.add(), inputs: [{ shape: [3, 10] }, { shape: [3, 1, 10] }] },
  { name: 'multiply [N, 10] * [N, 1, 10]', make: (L) => L.multiply(), inputs: [{ shape: [3, 10] }, { shape: [3, 1, 10] }] },
  { name: 'multiply [N, 4, 1] * [N, 5]', make: (L) => L.multiply(), inputs: [{ shape: [3, 4, 1] }, { shape: [3, 5] }] },
  { name: 'average of three, one [N, 1]', make: (L) => L.average(), inputs: [{ shape: [3, 4] }, { shape: [3, 1] }, { shape: [3, 4] }] },
  // tfjs' Maximum / Minimum gradients do not sum over broadcast axes (they fail): the gradient
  // reference broadcasts first (tf.broadcastTo sums them back).
  { name: 'maximum [N, 3, 4] and [N, 4]', make: (L) => L.maximum(), gradRef: (tf, [a, b]) => tf.maximum(a, tf.broadcastTo(tf.expandDims(b, 1), a.shape)), inputs: [{ shape: [2, 3, 4] }, { shape: [2, 4] }] },
  { name: 'minimum [N, 3, 4] and [N, 4]', make: (L) => L.minimum(), gradRef: (tf, [a, b]) => tf.minimum(a, tf.broadcastTo(tf.expandDims(b, 1), a.shape)), inputs: [{ shape: [2, 3, 4] }, { shape: [2, 4] }] },
  { name: 'concatenate axis 1', make: (L) => L.concatenate({ axis: 1 }), inputs: [{ shape: [2, 3, 4] }, { shape: [2, 2, 4] }] },
  {
    name: 'subtract [N, 1, 5] - [N, 4, 5] (tf.sub: tfjs has no Subtract layer)',
    make: (L) => L.subtract(),
    tfFn: (tf, [a, b]) => tf.sub(a, b),
    inputs: [{ shape: [3, 1, 5] }, { shape: [3, 4, 5] }],
  },
  {
    name: 'subtract [N, 5] - [N, 4, 5] (tf.sub after tfjs merge expansion)',
    make: (L) => L.subtract(),
    tfFn: (tf, [a, b]) => tf.sub(tf.expandDims(a, 1), b),
    inputs: [{ shape: [3, 5] }, { shape: [3, 4, 5] }],
  },
];

/** What tfjs-node computes for a case (strings travel through the recording as they are). */
interface LayerRef {
  weights: RefTensor[];
  y: RefTensor;
  xGrads: RefTensor[];
  wGrads: RefTensor[];
  /** JSON of the symbolic output shape, of getConfig(), and the class name. */
  symbolic: string;
  config: string;
  className: string;
}

/** What tfjs-node computes for a case: weights, forward value, gradients, shapes and config. */
function tfSide(c: LayerCase, data: Array<Float32Array | Int32Array>, seed: number): LayerRef {
  const t = requireTf(tf);
  let out!: LayerRef;
  const made: TF.layers.Layer[] = [];
  t.tidy(() => {
    const xs = c.inputs.map((inp, i) => t.tensor(data[i], inp.shape, inp.dtype ?? 'float32'));
    const arg = (v: TF.Tensor[]) => (v.length === 1 ? v[0] : v);
    const layer = c.tfFn ? null : (c.make(t.layers as never) as unknown as TF.layers.Layer);
    if (layer) made.push(layer);
    if (layer) layer.apply(arg(xs)); // builds
    const w0 = layer ? layer.getWeights() : [];
    const weights = w0.map((w, i) => t.tensor(seededRandom(w.size, seed * 7 + i, -0.5, 0.5), w.shape));
    if (layer) layer.setWeights(weights);
    const run = (v: TF.Tensor[]) => (layer ? (layer.apply(arg(v)) as TF.Tensor) : c.tfFn!(t, v));
    const y = run(xs);
    const dy = t.tensor(seededRandom(y.size, seed * 31 + 97, -1, 1), y.shape);
    const floatIdx = c.inputs.map((inp, i) => (wantsGrad(inp) ? i : -1)).filter((i) => i >= 0);
    const loss = (v: TF.Tensor[]) => t.sum(t.mul(run(v), dy)) as TF.Scalar;
    const gradLoss = c.gradRef ? (v: TF.Tensor[]) => t.sum(t.mul(c.gradRef!(t, v), dy)) as TF.Scalar : loss;
    const xGrads = floatIdx.length ? t.grads((...gs: TF.Tensor[]) => gradLoss(xs.map((x, i) => (floatIdx.includes(i) ? gs[floatIdx.indexOf(i)] : x))))(floatIdx.map((i) => xs[i])) : [];
    const vars = layer ? layer.trainableWeights.map((w) => w.read() as TF.Variable) : [];
    const wGrads = vars.length ? vars.map((v) => t.variableGrads(() => loss(xs), [v]).grads[v.name]) : [];
    // Symbolic shape on an input with an unknown batch, and the config.
    let symbolic = '';
    let config = '{}';
    let className = '';
    if (layer) {
      const fresh = c.make(t.layers as never) as unknown as TF.layers.Layer;
      made.push(fresh);
      const ins = c.inputs.map((inp) => t.input({ shape: inp.shape.slice(1), dtype: inp.dtype ?? 'float32' }));
      symbolic = JSON.stringify((fresh.apply(arg(ins as never) as never) as unknown as TF.SymbolicTensor).shape);
      config = JSON.stringify(layer.getConfig());
      className = layer.getClassName();
    }
    out = { weights: weights.map(fromTf), y: fromTf(y), xGrads: xGrads.map(fromTf), wGrads: wGrads.map(fromTf), symbolic, config, className };
  });
  made.forEach((l) => l.dispose());
  return out;
}

/** tfjs writes the Glorot / He / LeCun initializers as the VarianceScaling they are (and ours keeps a
 * VarianceScaling loaded from tfjs as such): name them, so equal initializers compare equal. */
function namedInitializer(v: unknown): unknown {
  const o = v as { className?: string; config?: Record<string, unknown> };
  if (!o || typeof o !== 'object' || o.className !== 'VarianceScaling' || !o.config) return v;
  const { scale, mode, distribution, ...rest } = o.config;
  const names: Record<string, string> = {
    '1 fanAvg uniform': 'GlorotUniform', '1 fanAvg normal': 'GlorotNormal', '2 fanIn normal': 'HeNormal',
    '2 fanIn uniform': 'HeUniform', '1 fanIn normal': 'LeCunNormal', '1 fanIn uniform': 'LeCunUniform',
  };
  const name = names[`${scale} ${mode} ${distribution}`];
  return name ? { className: name, config: rest } : v;
}

/** Our config must be tfjs' less only keys tfjs sets to null (options we do not have), recursively; names aside. */
function compareConfig(ours: unknown, theirs: unknown, path: string): void {
  theirs = namedInitializer(theirs);
  ours = namedInitializer(ours);
  if (theirs !== null && typeof theirs === 'object' && !Array.isArray(theirs)) {
    expect(ours !== null && typeof ours === 'object' && !Array.isArray(ours), `${path}: an object`).toBe(true);
    const o = ours as Record<string, unknown>, t = theirs as Record<string, unknown>;
    // (Our base config always writes dtype; tfjs writes it when given.)
    for (const k of Object.keys(o)) if (k !== 'name' && !(k === 'dtype' && o[k] === 'float32')) expect(k in t, `${path}.${k}: a key tfjs' config has`).toBe(true);
    for (const k of Object.keys(t)) {
      if (k === 'name') continue;
      if (!(k in o)) expect(t[k] ?? null, `${path}.${k}: missing in ours, so tfjs must leave it null`).toBe(null);
      else compareConfig(o[k], t[k], `${path}.${k}`);
    }
    return;
  }
  expect(ours, path).toEqual(theirs);
}

describeBackends('layers against tfjs-node', () => {
  for (const c of cases) {
    it(c.name, () => {
      const seed = seedOf(c.name);
      const data = c.inputs.map((inp, i) => inputValues(inp, seed * 31 + i));
      const key = `${c.name} #${digest(c.inputs.map((inp, i) => ({ shape: inp.shape, values: data[i] })))}`;
      const ref = reference(key, () => tfSide(c, data, seed) as never) as unknown as LayerRef;
      const tol = c.tol ?? T;
      const gtol = c.gradTol ?? tol;
      const before = cn.memory().numTensors;

      const xs = c.inputs.map((inp, i) => cn.tensor(data[i], inp.shape.slice(), inp.dtype ?? 'float32'));
      const arg = (v: cn.Tensor[]) => (v.length === 1 ? v[0] : v);
      const layer = c.make(cn.layers as never) as unknown as cn.layers.Layer;
      cn.dispose(layer.apply(arg(xs) as never) as unknown as cn.Tensor); // builds
      expect(layer.weights.map((w) => w.shape), 'weight shapes, in tfjs order').toEqual(ref.weights.map((w) => w.shape));
      const ws = ref.weights.map((w) => cn.tensor(w.values as Float32Array, w.shape));
      layer.setWeights(ws);
      cn.dispose(ws);

      const floatIdx = c.inputs.map((inp, i) => (wantsGrad(inp) ? i : -1)).filter((i) => i >= 0);
      cn.tidy(() => {
        const y = layer.apply(arg(xs) as never) as unknown as cn.Tensor;
        expectClose(y.dataSync(), ref.y.values, { ...tol, what: `${c.name} forward`, actualShape: y.shape, expectedShape: ref.y.shape });
        expect(y.dtype).toBe(ref.y.dtype);
        const dy = cn.tensor(seededRandom(y.size, seed * 31 + 97, -1, 1), y.shape.slice());
        const loss = (v: cn.Tensor[]) => cn.sum(cn.mul(layer.apply(arg(v) as never) as unknown as cn.Tensor, dy));
        if (floatIdx.length) {
          const gs = cn.grads((...g: cn.Tensor[]) => loss(xs.map((x, i) => (floatIdx.includes(i) ? g[floatIdx.indexOf(i)] : x))))(floatIdx.map((i) => xs[i]));
          gs.forEach((g, k) => expectClose(g.dataSync(), ref.xGrads[k].values, { ...gtol, what: `${c.name} grad of input ${floatIdx[k]}`, actualShape: g.shape, expectedShape: ref.xGrads[k].shape }));
          cn.dispose(gs);
        }
        const vars = layer.trainableWeights;
        expect(vars.length, 'trainable weights').toBe(ref.wGrads.length);
        if (vars.length) {
          const { grads } = cn.variableGrads(() => loss(xs), vars);
          vars.forEach((v, k) =>
            expectClose(grads[v.name].dataSync(), ref.wGrads[k].values, { ...gtol, what: `${c.name} grad of ${v.name}`, actualShape: grads[v.name].shape, expectedShape: ref.wGrads[k].shape }),
          );
        }
      });

      if (!c.tfFn) {
        // Symbolic shape (unknown batch) as tfjs infers it.
        const ins = c.inputs.map((inp) => cn.input({ shape: inp.shape.slice(1), dtype: inp.dtype ?? 'float32' }));
        const symLayer = c.make(cn.layers as never) as unknown as cn.layers.Layer;
        const sym = symLayer.apply(arg(ins as never) as never) as cn.SymbolicTensor;
        symLayer.dispose();
        // tfjs leaves a dimension unknown (null) where ours may know it (reshape's -1 on a known
        // input); every dimension tfjs knows must agree.
        const want = JSON.parse(ref.symbolic) as Array<number | null>;
        expect(sym.shape.length, 'symbolic output rank').toBe(want.length);
        want.forEach((d, i) => d !== null && expect(sym.shape[i], `symbolic output shape ${JSON.stringify(sym.shape)} vs tfjs ${JSON.stringify(want)}`).toBe(d));
        // Config: tfjs' keys and values; our layer loads tfjs' config; a round trip keeps it.
        const theirs = JSON.parse(ref.config);
        const ours = layer.getConfig();
        compareConfig(JSON.parse(JSON.stringify(ours)), theirs, c.name);
        expect(layer.getClassName()).toBe(ref.className);
        const fromTfjs = cn.layers.deserializeLayer({ className: ref.className, config: theirs });
        compareConfig(JSON.parse(JSON.stringify(fromTfjs.getConfig())), theirs, `${c.name} (loaded from tfjs' config)`);
        const round = cn.layers.deserializeLayer(cn.layers.serializeLayer(layer));
        expect(round.getConfig()).toEqual(ours);
        // The reloaded layer with the same weights computes the same values.
        cn.tidy(() => {
          const y1 = layer.apply(arg(xs) as never) as unknown as cn.Tensor;
          cn.dispose(round.apply(arg(xs) as never) as unknown as cn.Tensor);
          const w = layer.getWeights();
          round.setWeights(w);
          const y2 = round.apply(arg(xs) as never) as unknown as cn.Tensor;
          expectClose(y2.dataSync(), y1.dataSync(), { rtol: 0, atol: 0, what: `${c.name} after getConfig/fromConfig` });
          cn.dispose(w);
        });
        round.dispose();
        fromTfjs.dispose();
      }
      layer.dispose();
      cn.dispose(xs);
      expect(cn.memory().numTensors, `${c.name}: tensors leaked`).toBe(before);
    });
  }
});

// ---- the layers inside models that fit, against tfjs-node's models

const N = 8;
const CLASSES = 5;
const LR = 0.1;
type ModelBuilder = (L: Factories, input: (a: unknown) => unknown, model: (a: unknown) => unknown, sequential: (a: unknown) => unknown) => unknown;

interface ModelCase {
  name: string;
  build: ModelBuilder;
  inputs: In[];
}

const modelCases: ModelCase[] = [
  {
    name: 'sequential image model (leakyReLU, upSampling2d, zeroPadding2d, cropping2d, conv2dTranspose, prelu, elu, softmax layer)',
    inputs: [{ shape: [N, 6, 6, 2] }],
    build: (L, _i, _m, sequential) =>
      sequential({
        layers: [
          L.conv2d({ filters: 3, kernelSize: 3, padding: 'same', inputShape: [6, 6, 2] }),
          L.leakyReLU({ alpha: 0.2 }),
          L.upSampling2d({ size: [2, 2] }),
          L.zeroPadding2d({ padding: 1 }),
          L.cropping2D({ cropping: [[1, 1], [2, 0]] }),
          L.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }),
          L.prelu({ sharedAxes: [1, 2] }),
          L.maxPooling2d({ poolSize: 4 }),
          L.upSampling2d({ size: [1, 2], interpolation: 'bilinear' }),
          L.elu(),
          L.flatten(),
          L.dense({ units: CLASSES }),
          L.softmax({ axis: -1 }),
        ],
      }),
  },
  {
    name: 'sequential sequence model (embedding first, timeDistributed, permute, reshape, repeatVector)',
    inputs: [{ shape: [N, 6], dtype: 'int32', max: 12 }],
    build: (L, _i, _m, sequential) => {
      const m = sequential({}) as { add: (l: unknown) => void };
      m.add(L.embedding({ inputDim: 12, outputDim: 4, inputLength: 6 }));
      m.add(L.timeDistributed({ layer: L.dense({ units: 3, activation: 'tanh', kernelInitializer: 'glorotUniform' }) }));
      m.add(L.permute({ dims: [2, 1] }));
      m.add(L.reshape({ targetShape: [18] }));
      m.add(L.repeatVector({ n: 2 }));
      m.add(L.flatten());
      m.add(L.dense({ units: CLASSES, activation: 'softmax' }));
      return m;
    },
  },
  {
    name: 'functional model (merges broadcasting [N, 10] with [N, 1, 10], dot normalized, concatenate)',
    inputs: [{ shape: [N, 10] }, { shape: [N, 1, 10] }],
    build: (L, input, model) => {
      const ap = (l: AnyLayer, x: unknown) => l.apply(x);
      const a = input({ shape: [10] });
      const b = input({ shape: [1, 10] });
      const m = ap(L.multiply(), [a, b]);
      const mx = ap(L.maximum(), [m, b]);
      const mn = ap(L.minimum(), [a, mx]);
      const av = ap(L.average(), [m, mx, mn]);
      const f = ap(L.flatten(), ap(L.add(), [av, a]));
      const d1 = ap(L.dense({ units: 6, activation: 'tanh' }), a);
      const d2 = ap(L.dense({ units: 6 }), f);
      const dt = ap(L.dot({ axes: 1, normalize: true }), [d1, d2]);
      const c = ap(L.concatenate(), [d1, d2, dt]);
      const out = ap(L.dense({ units: CLASSES, activation: 'softmax' }), c);
      return model({ inputs: [a, b], outputs: out });
    },
  },
];

describeBackends('models with these layers fit like tfjs-node', () => {
  for (const mc of modelCases) {
    it(mc.name, async () => {
      const seed = seedOf(mc.name);
      const data = mc.inputs.map((inp, i) => inputValues(inp, seed * 31 + i));
      const labels = Int32Array.from({ length: N }, (_, i) => (i * 3 + seed) % CLASSES);
      const key = `${mc.name} #${digest([...mc.inputs.map((inp, i) => ({ shape: inp.shape, values: data[i] })), { shape: [N], values: labels }])}`;
      const ref = await referenceAsync(key, async () => {
        const t = requireTf(tf);
        const tm = mc.build(t.layers as never, t.input as never, t.model as never, t.sequential as never) as TF.LayersModel;
        const xs = mc.inputs.map((inp, i) => t.tensor(data[i], inp.shape, inp.dtype ?? 'float32'));
        const ty = t.tensor(Array.from(labels), [N], 'float32');
        const shapes = tm.weights.map((w) => w.shape);
        const w0 = shapes.map((s, i) => t.tensor(seededRandom(sizeOf(s as number[]), seed + i, -0.5, 0.5), s as number[]));
        tm.setWeights(w0);
        const p0 = tm.predict(xs.length === 1 ? xs[0] : xs) as TF.Tensor;
        tm.compile({ optimizer: t.train.sgd(LR), loss: 'sparseCategoricalCrossentropy' });
        const h = await tm.fit(xs.length === 1 ? xs[0] : xs, ty, { epochs: 2, batchSize: N / 2, shuffle: false, verbose: 0 });
        const w1 = tm.getWeights().map(fromTf);
        const r = { w0: w0.map(fromTf), p0: fromTf(p0), losses: h.history.loss as number[], w1, outShape: JSON.stringify(tm.outputs[0].shape) as never as number };
        t.dispose([...xs, ty, p0, ...w0]);
        tm.dispose();
        return r;
      });
      const before = cn.memory().numTensors;
      const m = mc.build(cn.layers as never, cn.input as never, cn.model as never, cn.sequential as never) as cn.LayersModel;
      expect(JSON.stringify(m.outputs[0].shape), 'model output shape').toBe(ref.outShape as unknown as string);
      expect(m.weights.map((w) => w.shape)).toEqual(ref.w0.map((w) => w.shape));
      const w0 = ref.w0.map((w) => cn.tensor(w.values as Float32Array, w.shape));
      m.setWeights(w0);
      cn.dispose(w0);
      const xs = mc.inputs.map((inp, i) => cn.tensor(data[i], inp.shape.slice(), inp.dtype ?? 'float32'));
      const y = cn.tensor(labels, [N], 'int32');
      const p0 = m.predict(xs.length === 1 ? xs[0] : xs) as cn.Tensor;
      expectClose(p0.dataSync(), ref.p0.values, { rtol: 1e-4, atol: 1e-6, what: 'predictions', actualShape: p0.shape, expectedShape: ref.p0.shape });
      const opt = cn.train.sgd(LR);
      m.compile({ optimizer: opt, loss: 'sparseCategoricalCrossentropy' });
      const h = await m.fit(xs.length === 1 ? xs[0] : xs, y, { epochs: 2, batchSize: N / 2, shuffle: false, verbose: 0 });
      expectClose(h.history.loss, ref.losses, { rtol: 1e-4, what: 'losses per epoch' });
      const w1 = m.getWeights();
      w1.forEach((w, i) => expectClose(w.dataSync(), ref.w1[i].values, { rtol: 2e-4, atol: 2e-5, what: `weight ${i} after 4 SGD steps`, actualShape: w.shape, expectedShape: ref.w1[i].shape }));
      cn.dispose([...w1, ...xs, y, p0]);
      m.dispose();
      opt.dispose(); // (the optimizer is the caller's, as in tfjs)
      expect(cn.memory().numTensors, 'tensors leaked').toBe(before);
    });
  }

  it('a model of every new layer saves and loads (registered classes) and predicts the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cn-layers-tfjs-'));
    try {
      const before = cn.memory().numTensors;
      for (const mc of modelCases) {
        const m = mc.build(cn.layers as never, cn.input as never, cn.model as never, cn.sequential as never) as cn.LayersModel;
        const xs = mc.inputs.map((inp, i) => cn.tensor(inputValues(inp, 7 + i), inp.shape.slice(), inp.dtype ?? 'float32'));
        const p = m.predict(xs.length === 1 ? xs[0] : xs) as cn.Tensor;
        const path = join(dir, String(modelCases.indexOf(mc)));
        await m.save(path);
        const loaded = await cn.loadLayersModel(path);
        expect(loaded.layers.map((l) => l.getClassName()), mc.name).toEqual(m.layers.map((l) => l.getClassName()));
        const q = loaded.predict(xs.length === 1 ? xs[0] : xs) as cn.Tensor;
        expectClose(q.dataSync(), p.dataSync(), { rtol: 0, atol: 0, what: `${mc.name}: predictions after load` });
        cn.dispose([p, q, ...xs]);
        m.dispose();
        loaded.dispose();
      }
      expect(cn.memory().numTensors, 'tensors leaked').toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('eager layers and tidy', () => {
  it('apply() on tensors frees a layer\'s intermediates, and an input returned as is stays the caller\'s', () => {
    const x = cn.tensor(seededRandom(12, 3), [3, 4]);
    const before = cn.memory().numTensors;
    const prelu = cn.layers.prelu({ alphaInitializer: 'ones' });
    const y = prelu.apply(x) as cn.Tensor; // x * m + alpha * x * (1 - m): several intermediates
    expect(cn.memory().numTensors).toBe(before + 2); // alpha and y
    y.dispose();
    // A layer that returns its input (dropout in inference) inside the caller's tidy: the
    // input, made outside that tidy, must outlive it.
    const drop = cn.layers.dropout({ rate: 0.5 });
    cn.tidy(() => drop.apply(x));
    expect(x.isDisposed).toBe(false);
    expect(cn.tidy(() => x)).toBe(x);
    expect(x.isDisposed).toBe(false);
    prelu.dispose();
    drop.dispose();
    expect(cn.memory().numTensors).toBe(before);
    x.dispose();
  });
});

// ---- what Sequential accepts (as tfjs-node's): shapes of the same constructions

describe('Sequential accepts what tfjs accepts', () => {
  const constructions: Array<[string, (L: Factories, sequential: (a?: unknown) => { add: (l: unknown) => void; outputs: Array<{ shape: unknown }> }) => { outputs: Array<{ shape: unknown }> }]> = [
    ['sequential() then add(), inputShape on the first layer', (L, s) => {
      const m = s();
      m.add(L.dense({ units: 4, inputShape: [3] }));
      m.add(L.dense({ units: 2 }));
      return m;
    }],
    ['layers as an array, batchInputShape', (L, s) => s({ layers: [L.dense({ units: 4, batchInputShape: [5, 3] }), L.leakyReLU()] })],
    ['inputDim on the first layer', (L, s) => s({ layers: [L.dense({ units: 4, inputDim: 7 }), L.elu()] })],
    ['an inputLayer first', (L, s) => {
      const m = s();
      m.add(L.inputLayer({ inputShape: [4, 4, 1] }));
      m.add(L.conv2dTranspose({ filters: 2, kernelSize: 2, strides: 2 }));
      m.add(L.upSampling2d({}));
      return m;
    }],
    ['an embedding first, without inputLength (time unknown)', (L, s) => s({ layers: [L.embedding({ inputDim: 10, outputDim: 3 }), L.timeDistributed({ layer: L.dense({ units: 2 }) })] })],
    ['an embedding first, with inputLength', (L, s) => s({ layers: [L.embedding({ inputDim: 10, outputDim: 3, inputLength: 5 }), L.flatten()] })],
  ];
  for (const [name, make] of constructions) {
    it(name, () => {
      const ref = reference(`sequential: ${name}`, () => {
        const t = requireTf(tf);
        const m = make(t.layers as never, t.sequential as never);
        const shape = JSON.stringify(m.outputs[0].shape);
        (m as unknown as TF.LayersModel).dispose();
        return { shape: shape as never as number };
      });
      const m = make(cn.layers as never, cn.sequential as never);
      expect(JSON.stringify(m.outputs[0].shape)).toBe(ref.shape as unknown as string);
      (m as unknown as cn.LayersModel).dispose();
    });
  }

});

describe('clear errors', () => {
  const { layers } = cn;
  it('bad options and shapes name the layer, what was expected and what was received', () => {
    expect(() => layers.embedding({ inputDim: 0, outputDim: 3 })).toThrow(/embedding: expected inputDim as a positive integer but received 0/);
    expect(() => layers.upSampling2d({ interpolation: 'cubic' as never })).toThrow(/upSampling2d: expected interpolation 'nearest' or 'bilinear' but received 'cubic'/);
    expect(() => layers.upSampling2d().apply(cn.input({ shape: [4, 4] }))).toThrow(/upSampling2d: expected input of rank 4 \(NHWC\) but received shape \[null,4,4\]/);
    expect(() => layers.permute({ dims: [0, 1] })).toThrow(/permute: expected dims as a permutation of 1..n/);
    expect(() => layers.repeatVector({ n: 2 }).apply(cn.input({ shape: [3, 4] }))).toThrow(/repeatVector: expected input of rank 2/);
    expect(() => layers.cropping2d({ cropping: 2 }).apply(cn.input({ shape: [4, 4, 1] }))).toThrow(/cropping2d: expected an input larger than the cropping/);
    expect(() => layers.dot({ axes: 1 }).apply([cn.input({ shape: [3] }), cn.input({ shape: [4] })])).toThrow(/dot: expected inputs of equal size on axes \[1, 1\]/);
    expect(() => layers.dot({ axes: 1 }).apply([cn.input({ shape: [2, 2, 2] }), cn.input({ shape: [2, 2, 2] })])).toThrow(/dot: expected inputs of rank 2 or 3/);
    expect(() => layers.subtract().apply([cn.input({ shape: [3] }), cn.input({ shape: [3] }), cn.input({ shape: [3] })])).toThrow(/subtract: expected a list of 2 inputs but received 3/);
    expect(() => layers.multiply().apply([cn.input({ shape: [3] }), cn.input({ shape: [2, 4] })])).toThrow(/multiply: expected inputs of compatible shapes/);
    expect(() => layers.timeDistributed({ layer: layers.dense({ units: 2 }) }).apply(cn.input({ shape: [3] }))).toThrow(/timeDistributed: expected an input of rank >= 3/);
    expect(() => layers.timeDistributed({ layer: 'dense' as never })).toThrow(/timeDistributed: expected layer as a Layer/);
    expect(() => layers.conv2dTranspose({ filters: 2, kernelSize: 3, dilationRate: 2 } as never)).toThrow(/conv2dTranspose: expected no dilationRate/);
    expect(() => layers.softmax({ axis: 3 }).apply(cn.input({ shape: [4] }))).toThrow(/softmax: expected axis in \[-2, 2\) but received 3/);
    expect(() => layers.prelu({ sharedAxes: [0] })).toThrow(/prelu: expected sharedAxes as axes >= 1/);
  });

  it('merge factories given an array apply the layer, as tfjs', () => {
    const a = cn.input({ shape: [10] });
    const b = cn.input({ shape: [1, 10] });
    const y = layers.multiply([a, b]);
    expect(y).toBeInstanceOf(cn.SymbolicTensor);
    expect(y.shape).toEqual([null, 1, 10]);
    const t = cn.ones([2, 3]);
    const s = layers.add([t, t]);
    expect(Array.from(s.dataSync())).toEqual([2, 2, 2, 2, 2, 2]);
    cn.dispose([t, s]);
  });
});
