// VGG-16 and VGG-19 (Simonyan & Zisserman 2014, "Very Deep Convolutional Networks for
// Large-Scale Image Recognition", configurations D and E), layer for layer Keras 3's
// keras.applications.VGG16 / VGG19: the same layer names (block1_conv1 ... fc1, fc2,
// predictions), output shapes, parameter counts and layer order, so Keras' weight files load.
// Preprocessing is 'caffe' (RGB -> BGR, ImageNet mean subtracted), as Keras.
import { Tensor } from '../tensor.js';
import { Dense, Flatten, input } from '../layers/core.js';
import { Conv2D } from '../layers/convolutional.js';
import { GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D } from '../layers/pooling.js';
import { LayersModel } from '../models/functional.js';
import { ApplicationArgs, ImagenetFiles, loadApplicationWeights, resolveArgs } from './common.js';
import { preprocessImagenet } from './imagenet.js';

const BASE = 'https://storage.googleapis.com/tensorflow/keras-applications/';
const files = (name: string, top: string, notop: string): ImagenetFiles => ({
  top: { file: `${name}_weights_tf_dim_ordering_tf_kernels.h5`, url: `${BASE}${name}/${name}_weights_tf_dim_ordering_tf_kernels.h5`, md5: top },
  notop: { file: `${name}_weights_tf_dim_ordering_tf_kernels_notop.h5`, url: `${BASE}${name}/${name}_weights_tf_dim_ordering_tf_kernels_notop.h5`, md5: notop },
});
/** Keras' VGG-16 ImageNet weight files. */
export const VGG16_FILES = files('vgg16', '64373286793e3c8b2b4e3219cbf3544b', '6d6bbae143d832006294945121d1f1fc');
/** Keras' VGG-19 ImageNet weight files. */
export const VGG19_FILES = files('vgg19', 'cbe5617147190e668d6c5d5026f83318', '253f8cb515780f3b799900260a226db6');

async function vgg(app: string, convs: number[], args: ApplicationArgs, files: ImagenetFiles): Promise<LayersModel> {
  const r = resolveArgs(app, args, 224, 32);
  const img = input({ shape: r.inputShape });
  let x = img;
  [64, 128, 256, 512, 512].forEach((filters, b) => {
    for (let i = 1; i <= convs[b]; i++)
      x = new Conv2D({ filters, kernelSize: 3, activation: 'relu', padding: 'same', name: `block${b + 1}_conv${i}` }).apply(x);
    x = new MaxPooling2D({ poolSize: 2, strides: 2, name: `block${b + 1}_pool` }).apply(x);
  });
  if (r.includeTop) {
    x = new Flatten({ name: 'flatten' }).apply(x);
    x = new Dense({ units: 4096, activation: 'relu', name: 'fc1' }).apply(x);
    x = new Dense({ units: 4096, activation: 'relu', name: 'fc2' }).apply(x);
    x = new Dense({ units: r.classes, activation: r.classifierActivation, name: 'predictions' }).apply(x);
  } else if (r.pooling === 'avg') x = new GlobalAveragePooling2D().apply(x);
  else if (r.pooling === 'max') x = new GlobalMaxPooling2D().apply(x);
  const model = new LayersModel({ inputs: img, outputs: x, name: r.name });
  await loadApplicationWeights(model, app, r, files, args.download ?? true);
  return model;
}

/**
 * keras.applications.VGG16 (configuration D: 13 3x3 convolutions in 5 blocks, 3 dense layers):
 * await vgg16({includeTop, weights, inputShape, pooling, classes}). 138,357,544 parameters
 * with the top at 224x224 (the paper's 138M); 14,714,688 without. Default input 224x224x3,
 * at least 32x32.
 */
export function vgg16(args: ApplicationArgs = {}): Promise<LayersModel> {
  return vgg('vgg16', [2, 2, 3, 3, 3], args, VGG16_FILES);
}

/**
 * keras.applications.VGG19 (configuration E: 16 3x3 convolutions): await vgg19({...}).
 * 143,667,240 parameters with the top at 224x224 (the paper's 144M); 20,024,384 without.
 */
export function vgg19(args: ApplicationArgs = {}): Promise<LayersModel> {
  return vgg('vgg19', [2, 2, 4, 4, 4], args, VGG19_FILES);
}

/** keras.applications.vgg16/vgg19.preprocess_input: RGB [0, 255] -> BGR minus the ImageNet mean. */
export function preprocessInput(x: Tensor): Tensor {
  return preprocessImagenet(x, 'caffe');
}
