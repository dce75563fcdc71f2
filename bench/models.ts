// What bench/run.ts and bench/child.ts share: deterministic data, and the models the
// benchmark trains, built with cudnn-node's API (and tfjs-layers' where it has them). The
// Python peers build the same models in bench/peers.py; run.ts asserts that the parameter
// counts agree.
import type { Precision, Spec } from './types.js';

/** Deterministic normal-ish floats (sum of uniforms), shared by the in-process runners so
 * that their results can be compared. */
export function randomData(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() + next() + next() - 1.5) * 2 * scale;
  return out;
}

export const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** The reference notebook's Fashion-MNIST CNN, in tfjs-layers spelling (ours and tfjs-node).
 * head: extra options of the last (softmax) Dense, e.g. { dtype: 'float32' } under a
 * mixed-precision policy. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function fashionCnnLayers(L: any, head: object = {}): unknown[] {
  const conv = (filters: number, kernelSize: number, extra: object = {}) =>
    L.conv2d({ filters, kernelSize, activation: 'relu', padding: 'same', ...extra });
  return [
    conv(64, 7, { inputShape: [28, 28, 1] }),
    L.maxPooling2d({ poolSize: 2 }),
    conv(128, 3), conv(128, 3),
    L.maxPooling2d({ poolSize: 2 }),
    conv(256, 3), conv(256, 3),
    L.maxPooling2d({ poolSize: 2 }),
    L.flatten(),
    L.dense({ units: 128, activation: 'relu' }),
    L.dropout({ rate: 0.5 }),
    L.dense({ units: 64, activation: 'relu' }),
    L.dropout({ rate: 0.5 }),
    L.dense({ units: 10, activation: 'softmax', ...head }),
  ];
}

type ModelSpec = Extract<Spec, { kind: 'train' | 'infer' }>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** The image shape a model spec trains on. */
export function inputShapeOf(s: ModelSpec): [number, number, number] {
  if (s.model === 'fashion_cnn') return [28, 28, 1];
  const size = s.size ?? (s.model === 'xception' ? 299 : 224);
  return [size, size, 3];
}

/** Runs `build` under our global dtype policy for `precision` (Keras semantics: the policy
 * applies to the layers built meanwhile), then restores float32, so that the models a worker
 * builds later are not affected. Throws, naming what is missing, where cudnn-node has no
 * mixed-precision API. */
export async function underPolicy<T>(api: Any, precision: Precision, build: () => Promise<T>): Promise<T> {
  if (precision === 'fp32') return build();
  const policy = precision === 'mixed_bf16' ? 'mixed_bfloat16' : 'mixed_float16';
  const mp = api.mixedPrecision;
  if (typeof mp?.setGlobalPolicy !== 'function')
    throw new Error(`cudnn-node has no mixed precision API: cn.mixedPrecision.setGlobalPolicy is ${mp ? 'missing' : 'undefined (cn.mixedPrecision is undefined)'}, so '${policy}' cannot be set`);
  mp.setGlobalPolicy(policy);
  try {
    return await build();
  } finally {
    mp.setGlobalPolicy('float32');
  }
}

/**
 * A model of cudnn-node (api: lib/index.js), compiled for the spec: the Fashion-MNIST CNN
 * (tfjs-layers style Sequential), the notebook's ResNet-34 (lib/applications resnet34), or
 * Xception without its top plus global average pooling and a dense softmax head, as
 * lib/applications/pipelines.ts builds it (freeze: every base layer trainable false).
 * precision mixed_bf16: built and compiled under the 'mixed_bfloat16' policy, the last
 * (softmax) Dense in float32 as in Keras's mixed-precision guide, as bench/peers.py does for
 * Keras (Note [mixed precision variants] in bench/runners/variants.ts).
 */
export async function buildOurs(api: Any, s: ModelSpec, precision: Precision = 'fp32'): Promise<{ model: Any; how: string }> {
  const r = await underPolicy(api, precision, () => buildModel(api, s, precision === 'fp32' ? {} : { dtype: 'float32' }));
  if (precision !== 'fp32') r.how += `, mixedPrecision.setGlobalPolicy('${precision === 'mixed_bf16' ? 'mixed_bfloat16' : 'mixed_float16'}'), softmax Dense dtype float32`;
  return r;
}

async function buildModel(api: Any, s: ModelSpec, head: object): Promise<{ model: Any; how: string }> {
  const L = api.layers;
  if (typeof L?.setRandomSeed === 'function') L.setRandomSeed(0);
  const classes = s.classes ?? 10;
  let model: Any;
  let how: string;
  if (s.model === 'fashion_cnn') {
    model = api.sequential({ layers: fashionCnnLayers(L, head) });
    how = 'Sequential';
  } else if (s.model === 'resnet34') {
    model = api.applications.resnet34({ inputShape: inputShapeOf(s), classes });
    how = 'applications.resnet34 (the notebook\'s ResidualUnit Sequential)';
    if (Object.keys(head).length) {
      // The application's last layer is Dense(classes, softmax): the same layer, with the head's options.
      model.pop();
      model.add(L.dense({ units: classes, activation: 'softmax', ...head }));
    }
  } else {
    const base = await api.applications.xception({ weights: null, includeTop: false, inputShape: inputShapeOf(s) });
    const avg = L.globalAveragePooling2d().apply(base.outputs[0]);
    const out = L.dense({ units: classes, activation: 'softmax', ...head }).apply(avg);
    model = api.model({ inputs: base.inputs, outputs: out });
    if (s.kind === 'train' && s.freeze) for (const l of base.layers) l.trainable = false;
    how = `applications.xception (no top, random weights) + GlobalAveragePooling2D + Dense(${classes}, softmax)${s.kind === 'train' ? (s.freeze ? ', base frozen' : ', all trainable') : ''}`;
  }
  if (s.kind === 'train') {
    const optimizer = s.optimizer === 'sgd' ? new api.train.SGD({ learningRate: 0.01, momentum: 0.9 }) : s.optimizer;
    model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  }
  return { model, how };
}

/** Parameter counts as Keras counts them: every weight (BN moving statistics included), and
 * the trainable ones. */
export function paramCounts(model: Any): { total: number; trainable: number } {
  const size = (w: Any) => (typeof w.size === 'number' ? w.size : prod(w.shape));
  const total = typeof model.countParams === 'function' ? model.countParams() : model.weights.reduce((a: number, w: Any) => a + size(w), 0);
  const trainable = (model.trainableWeights ?? []).reduce((a: number, w: Any) => a + size(w), 0);
  return { total, trainable };
}

/** A batch of random images (|N(0, 0.5)|-ish) and integer labels for a model spec. */
export function batchData(s: ModelSpec): { x: Float32Array; shape: number[]; labels: Int32Array } {
  const shape = [s.batch, ...inputShapeOf(s)];
  const x = randomData(prod(shape), 7, 0.5).map((v) => Math.abs(v));
  const classes = s.classes ?? 10;
  const labels = Int32Array.from({ length: s.batch }, (_, i) => (i * 7) % classes);
  return { x, shape, labels };
}
