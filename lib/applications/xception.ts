// Xception (Chollet 2017), layer for layer Keras 3's keras.applications.Xception (names,
// shapes, parameter counts, layer order), so Keras' weight files load into it. Its unnamed
// layers (shortcut convolutions, their batch norms, the adds) get Keras' automatic names
// from the session-wide counters ('conv2d', 'conv2d_1', ...), as in Keras. Preprocessing is
// 'tf' (x / 127.5 - 1).
import { Tensor } from '../tensor.js';
import { SymbolicTensor } from '../layers/base.js';
import { Activation, Dense, input } from '../layers/core.js';
import { Conv2D, SeparableConv2D } from '../layers/convolutional.js';
import { Add } from '../layers/merge.js';
import { BatchNormalization } from '../layers/normalization.js';
import { GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D } from '../layers/pooling.js';
import { LayersModel } from '../models/functional.js';
import { ApplicationArgs, ImagenetFiles, loadApplicationWeights, resolveArgs } from './common.js';
import { DecodeOptions, DecodedPrediction, decodePredictions as decode, preprocessImagenet } from './imagenet.js';

const BASE = 'https://storage.googleapis.com/tensorflow/keras-applications/xception/';
export const XCEPTION_FILES: ImagenetFiles = {
  top: { file: 'xception_weights_tf_dim_ordering_tf_kernels.h5', url: `${BASE}xception_weights_tf_dim_ordering_tf_kernels.h5`, md5: '0a58e3b7378bc2990ea3b43d5981f1f6' },
  notop: { file: 'xception_weights_tf_dim_ordering_tf_kernels_notop.h5', url: `${BASE}xception_weights_tf_dim_ordering_tf_kernels_notop.h5`, md5: 'b0042744bf5b25fce3cb969f33bebb97' },
};

const relu = (x: SymbolicTensor, name: string) => new Activation({ activation: 'relu', name }).apply(x);
const bn = (x: SymbolicTensor, name?: string) => new BatchNormalization({ name }).apply(x);
const sep = (x: SymbolicTensor, filters: number, name: string) => new SeparableConv2D({ filters, kernelSize: 3, padding: 'same', useBias: false, name }).apply(x);
const pool = (x: SymbolicTensor, name: string) => new MaxPooling2D({ poolSize: 3, strides: 2, padding: 'same', name }).apply(x);
const shortcut = (x: SymbolicTensor, filters: number) => bn(new Conv2D({ filters, kernelSize: 1, strides: 2, padding: 'same', useBias: false }).apply(x));

/**
 * keras.applications.Xception: await xception({includeTop, weights, inputShape, pooling,
 * classes}). Default input 299x299x3, at least 71x71. Images go through preprocessInput first.
 */
export async function xception(args: ApplicationArgs = {}): Promise<LayersModel> {
  const r = resolveArgs('xception', args, 299, 71);
  const img = input({ shape: r.inputShape });
  let x = new Conv2D({ filters: 32, kernelSize: 3, strides: 2, useBias: false, name: 'block1_conv1' }).apply(img);
  x = relu(bn(x, 'block1_conv1_bn'), 'block1_conv1_act');
  x = new Conv2D({ filters: 64, kernelSize: 3, useBias: false, name: 'block1_conv2' }).apply(x);
  x = relu(bn(x, 'block1_conv2_bn'), 'block1_conv2_act');

  let residual = shortcut(x, 128);
  x = bn(sep(x, 128, 'block2_sepconv1'), 'block2_sepconv1_bn');
  x = relu(x, 'block2_sepconv2_act');
  x = bn(sep(x, 128, 'block2_sepconv2'), 'block2_sepconv2_bn');
  x = pool(x, 'block2_pool');
  x = new Add().apply([x, residual]);

  for (const [b, filters] of [[3, 256], [4, 728]] as const) {
    residual = shortcut(x, filters);
    x = relu(x, `block${b}_sepconv1_act`);
    x = bn(sep(x, filters, `block${b}_sepconv1`), `block${b}_sepconv1_bn`);
    x = relu(x, `block${b}_sepconv2_act`);
    x = bn(sep(x, filters, `block${b}_sepconv2`), `block${b}_sepconv2_bn`);
    x = pool(x, `block${b}_pool`);
    x = new Add().apply([x, residual]);
  }

  for (let i = 0; i < 8; i++) {
    residual = x;
    const p = `block${i + 5}`;
    for (const k of [1, 2, 3]) {
      x = relu(x, `${p}_sepconv${k}_act`);
      x = bn(sep(x, 728, `${p}_sepconv${k}`), `${p}_sepconv${k}_bn`);
    }
    x = new Add().apply([x, residual]);
  }

  residual = shortcut(x, 1024);
  x = relu(x, 'block13_sepconv1_act');
  x = bn(sep(x, 728, 'block13_sepconv1'), 'block13_sepconv1_bn');
  x = relu(x, 'block13_sepconv2_act');
  x = bn(sep(x, 1024, 'block13_sepconv2'), 'block13_sepconv2_bn');
  x = pool(x, 'block13_pool');
  x = new Add().apply([x, residual]);

  x = relu(bn(sep(x, 1536, 'block14_sepconv1'), 'block14_sepconv1_bn'), 'block14_sepconv1_act');
  x = relu(bn(sep(x, 2048, 'block14_sepconv2'), 'block14_sepconv2_bn'), 'block14_sepconv2_act');

  if (r.includeTop) {
    x = new GlobalAveragePooling2D({ name: 'avg_pool' }).apply(x);
    x = new Dense({ units: r.classes, activation: r.classifierActivation, name: 'predictions' }).apply(x);
  } else if (r.pooling === 'avg') x = new GlobalAveragePooling2D().apply(x);
  else if (r.pooling === 'max') x = new GlobalMaxPooling2D().apply(x);
  const model = new LayersModel({ inputs: img, outputs: x, name: r.name });
  await loadApplicationWeights(model, 'xception', r, XCEPTION_FILES, args.download ?? true);
  return model;
}

/** keras.applications.xception.preprocess_input: RGB [0, 255] -> [-1, 1]. */
export function preprocessInput(x: Tensor): Tensor {
  return preprocessImagenet(x, 'tf');
}

/** keras.applications.xception.decode_predictions. */
export function decodePredictions(preds: Parameters<typeof decode>[0], opts?: DecodeOptions): DecodedPrediction[][] {
  return decode(preds, opts);
}
