// ResNet v1 with bottleneck blocks (He et al. 2015, "Deep Residual Learning for Image
// Recognition"), layer for layer Keras 3's keras.applications.resnet (ResNet50 / ResNet101 /
// ResNet152): the same layer names, output shapes, parameter counts and layer order, so
// Keras' weight files load into them. The block builder takes an optional hook on the residual
// branch, which seResNet50 (senet.ts) uses for its squeeze-and-excitation blocks.
import { SymbolicTensor } from '../layers/base.js';
import { Activation, Dense, input } from '../layers/core.js';
import { Conv2D } from '../layers/convolutional.js';
import { Add } from '../layers/merge.js';
import { BatchNormalization } from '../layers/normalization.js';
import { GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D } from '../layers/pooling.js';
import { ZeroPadding2D } from '../layers/padding.js';
import { LayersModel } from '../models/functional.js';
import { ApplicationArgs, ImagenetFiles, loadApplicationWeights, resolveArgs } from './common.js';

const BASE = 'https://storage.googleapis.com/tensorflow/keras-applications/resnet/';
const files = (name: string, top: string, notop: string): ImagenetFiles => ({
  top: { file: `${name}_weights_tf_dim_ordering_tf_kernels.h5`, url: `${BASE}${name}_weights_tf_dim_ordering_tf_kernels.h5`, md5: top },
  notop: { file: `${name}_weights_tf_dim_ordering_tf_kernels_notop.h5`, url: `${BASE}${name}_weights_tf_dim_ordering_tf_kernels_notop.h5`, md5: notop },
});
/** Keras' ResNet-50 ImageNet weight files. */
export const RESNET50_FILES = files('resnet50', '2cb95161c43110f7111970584f804107', '4d473c1dd8becc155b73f8504c6f6626');
/** Keras' ResNet-101 ImageNet weight files. */
export const RESNET101_FILES = files('resnet101', 'f1aeb4b969a6efcfb50fad2f0c20cfc5', '88cf7a10940856eca736dc7b7e228a21');
/** Keras' ResNet-152 ImageNet weight files. */
export const RESNET152_FILES = files('resnet152', '100835be76be38e30d865e96f2aaae62', 'ee4c566cf9a93f14d82f913c2dc6dd0c');

const EPS = 1.001e-5;

function bn(x: SymbolicTensor, name: string): SymbolicTensor {
  return new BatchNormalization({ epsilon: EPS, name }).apply(x);
}

/** A hook on a block's residual branch (after its last batch norm, before the add): (y, block name) -> y. */
export type BranchHook = (y: SymbolicTensor, name: string) => SymbolicTensor;

/** Keras' residual_block_v1: bottleneck 1x1 -> 3x3 -> 1x1 (4 * filters), shortcut conv when asked. */
function block(x: SymbolicTensor, filters: number, stride: number, convShortcut: boolean, name: string, hook?: BranchHook): SymbolicTensor {
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
  if (hook) y = hook(y, name);
  y = new Add({ name: `${name}_add` }).apply([shortcut, y]);
  return new Activation({ activation: 'relu', name: `${name}_out` }).apply(y);
}

function stack(x: SymbolicTensor, filters: number, blocks: number, stride1: number, name: string, hook?: BranchHook): SymbolicTensor {
  let y = block(x, filters, stride1, true, `${name}_block1`, hook);
  for (let i = 2; i <= blocks; i++) y = block(y, filters, 1, false, `${name}_block${i}`, hook);
  return y;
}

/**
 * Keras' ResNet(stack_fn, ...) for v1 bottleneck stacks of `blocks` (e.g. [3, 4, 6, 3] for
 * ResNet-50): stem, four stages (64, 128, 256, 512 filters; 4x wider outputs), then the top or
 * the pooling. Weights per `files` when asked; `hook` alters each block's residual branch.
 */
export async function resnetV1(app: string, blocks: [number, number, number, number], args: ApplicationArgs, files: ImagenetFiles | null, hook?: BranchHook): Promise<LayersModel> {
  const r = resolveArgs(app, args, 224, 32);
  const img = input({ shape: r.inputShape });
  let x = new ZeroPadding2D({ padding: [[3, 3], [3, 3]], name: 'conv1_pad' }).apply(img);
  x = new Conv2D({ filters: 64, kernelSize: 7, strides: 2, name: 'conv1_conv' }).apply(x);
  x = new Activation({ activation: 'relu', name: 'conv1_relu' }).apply(bn(x, 'conv1_bn'));
  x = new ZeroPadding2D({ padding: [[1, 1], [1, 1]], name: 'pool1_pad' }).apply(x);
  x = new MaxPooling2D({ poolSize: 3, strides: 2, name: 'pool1_pool' }).apply(x);
  x = stack(x, 64, blocks[0], 1, 'conv2', hook);
  x = stack(x, 128, blocks[1], 2, 'conv3', hook);
  x = stack(x, 256, blocks[2], 2, 'conv4', hook);
  x = stack(x, 512, blocks[3], 2, 'conv5', hook);
  if (r.includeTop) {
    x = new GlobalAveragePooling2D({ name: 'avg_pool' }).apply(x);
    x = new Dense({ units: r.classes, activation: r.classifierActivation, name: 'predictions' }).apply(x);
  } else if (r.pooling === 'avg') x = new GlobalAveragePooling2D({ name: 'avg_pool' }).apply(x);
  else if (r.pooling === 'max') x = new GlobalMaxPooling2D({ name: 'max_pool' }).apply(x);
  const model = new LayersModel({ inputs: img, outputs: x, name: r.name });
  await loadApplicationWeights(model, app, r, files, args.download ?? true);
  return model;
}

/**
 * keras.applications.ResNet101 (He et al. 2015, 101 layers: [3, 4, 23, 3] bottleneck blocks):
 * await resnet101({includeTop, weights, inputShape, pooling, classes}); 44,707,176 parameters
 * with the top at 224x224, as Keras. Preprocessing as resnet50 ('caffe').
 */
export function resnet101(args: ApplicationArgs = {}): Promise<LayersModel> {
  return resnetV1('resnet101', [3, 4, 23, 3], args, RESNET101_FILES);
}

/**
 * keras.applications.ResNet152 (He et al. 2015, 152 layers: [3, 8, 36, 3] bottleneck blocks):
 * await resnet152({...}); 60,419,944 parameters with the top at 224x224, as Keras.
 */
export function resnet152(args: ApplicationArgs = {}): Promise<LayersModel> {
  return resnetV1('resnet152', [3, 8, 36, 3], args, RESNET152_FILES);
}
