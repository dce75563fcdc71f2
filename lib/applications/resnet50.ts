// ResNet-50 (He et al. 2015), layer for layer Keras 3's keras.applications.ResNet50:
// the same layer names, output shapes, parameter counts and layer order, so Keras' weight
// files load into it. Preprocessing is 'caffe' (RGB -> BGR, ImageNet mean subtracted).
import { Tensor } from '../tensor.js';
import { SymbolicTensor } from '../layers/base.js';
import { input } from '../layers/core.js';
import { Activation } from '../layers/core.js';
import { Conv2D } from '../layers/convolutional.js';
import { Add } from '../layers/merge.js';
import { BatchNormalization } from '../layers/normalization.js';
import { GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D } from '../layers/pooling.js';
import { Dense } from '../layers/core.js';
import { ZeroPadding2D } from '../layers/padding.js';
import { LayersModel } from '../models/functional.js';
import { ApplicationArgs, ImagenetFiles, loadApplicationWeights, resolveArgs } from './common.js';
import { DecodeOptions, DecodedPrediction, decodePredictions as decode, preprocessImagenet } from './imagenet.js';

const BASE = 'https://storage.googleapis.com/tensorflow/keras-applications/resnet/';
export const RESNET50_FILES: ImagenetFiles = {
  top: { file: 'resnet50_weights_tf_dim_ordering_tf_kernels.h5', url: `${BASE}resnet50_weights_tf_dim_ordering_tf_kernels.h5`, md5: '2cb95161c43110f7111970584f804107' },
  notop: { file: 'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5', url: `${BASE}resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5`, md5: '4d473c1dd8becc155b73f8504c6f6626' },
};

const EPS = 1.001e-5;

function bn(x: SymbolicTensor, name: string): SymbolicTensor {
  return new BatchNormalization({ epsilon: EPS, name }).apply(x);
}

/** Keras' residual_block_v1: bottleneck 1x1 -> 3x3 -> 1x1 (4 * filters), shortcut conv when asked. */
function block(x: SymbolicTensor, filters: number, stride: number, convShortcut: boolean, name: string): SymbolicTensor {
  let shortcut = x;
  if (convShortcut) {
    shortcut = new Conv2D({ filters: 4 * filters, kernelSize: 1, strides: stride, name: `${name}_0_conv` }).apply(x);
    shortcut = bn(shortcut, `${name}_0_bn`);
  }
  let y = new Conv2D({ filters, kernelSize: 1, strides: stride, name: `${name}_1_conv` }).apply(x);
  y = new Activation({ activation: 'relu', name: `${name}_1_relu` }).apply(bn(y, `${name}_1_bn`));
  y = new Conv2D({ filters, kernelSize: 3, padding: 'same', name: `${name}_2_conv` }).apply(y);
  y = new Activation({ activation: 'relu', name: `${name}_2_relu` }).apply(bn(y, `${name}_2_bn`));
  y = bn(new Conv2D({ filters: 4 * filters, kernelSize: 1, name: `${name}_3_conv` }).apply(y), `${name}_3_bn`);
  y = new Add({ name: `${name}_add` }).apply([shortcut, y]);
  return new Activation({ activation: 'relu', name: `${name}_out` }).apply(y);
}

function stack(x: SymbolicTensor, filters: number, blocks: number, stride1: number, name: string): SymbolicTensor {
  let y = block(x, filters, stride1, true, `${name}_block1`);
  for (let i = 2; i <= blocks; i++) y = block(y, filters, 1, false, `${name}_block${i}`);
  return y;
}

/**
 * keras.applications.ResNet50: await resnet50({includeTop, weights, inputShape, pooling,
 * classes}). Default input 224x224x3, at least 32x32. Images go through preprocessInput first.
 */
export async function resnet50(args: ApplicationArgs = {}): Promise<LayersModel> {
  const r = resolveArgs('resnet50', args, 224, 32);
  const img = input({ shape: r.inputShape });
  let x = new ZeroPadding2D({ padding: [[3, 3], [3, 3]], name: 'conv1_pad' }).apply(img);
  x = new Conv2D({ filters: 64, kernelSize: 7, strides: 2, name: 'conv1_conv' }).apply(x);
  x = new Activation({ activation: 'relu', name: 'conv1_relu' }).apply(bn(x, 'conv1_bn'));
  x = new ZeroPadding2D({ padding: [[1, 1], [1, 1]], name: 'pool1_pad' }).apply(x);
  x = new MaxPooling2D({ poolSize: 3, strides: 2, name: 'pool1_pool' }).apply(x);
  x = stack(x, 64, 3, 1, 'conv2');
  x = stack(x, 128, 4, 2, 'conv3');
  x = stack(x, 256, 6, 2, 'conv4');
  x = stack(x, 512, 3, 2, 'conv5');
  if (r.includeTop) {
    x = new GlobalAveragePooling2D({ name: 'avg_pool' }).apply(x);
    x = new Dense({ units: r.classes, activation: r.classifierActivation, name: 'predictions' }).apply(x);
  } else if (r.pooling === 'avg') x = new GlobalAveragePooling2D({ name: 'avg_pool' }).apply(x);
  else if (r.pooling === 'max') x = new GlobalMaxPooling2D({ name: 'max_pool' }).apply(x);
  const model = new LayersModel({ inputs: img, outputs: x, name: r.name });
  await loadApplicationWeights(model, 'resnet50', r, RESNET50_FILES, args.download ?? true);
  return model;
}

/** keras.applications.resnet50.preprocess_input: RGB [0, 255] -> BGR minus the ImageNet mean. */
export function preprocessInput(x: Tensor): Tensor {
  return preprocessImagenet(x, 'caffe');
}

/** keras.applications.resnet50.decode_predictions. */
export function decodePredictions(preds: Parameters<typeof decode>[0], opts?: DecodeOptions): DecodedPrediction[][] {
  return decode(preds, opts);
}
