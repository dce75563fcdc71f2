// AlexNet (Krizhevsky, Sutskever & Hinton 2012, "ImageNet Classification with Deep
// Convolutional Neural Networks"): five convolutions with ReLU, local response normalization
// after the first two, overlapping 3x3 / stride 2 max pooling, and three dense layers with
// dropout 0.5.
import { Layer, SymbolicTensor } from '../layers/base.js';
import { Dense, Dropout, Flatten, input } from '../layers/core.js';
import { Conv2D } from '../layers/convolutional.js';
import { LocalResponseNormalization } from '../layers/lrn.js';
import { GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D } from '../layers/pooling.js';
import { check } from '../errors.js';
import { LayersModel } from '../models/functional.js';
import { ApplicationArgs, loadApplicationWeights, resolveArgs } from './common.js';
import { GroupedConv2D } from './grouped_conv2d.js';

/** Options of alexnet(): the application options and the paper's two-GPU grouping. */
export interface AlexNetArgs extends ApplicationArgs {
  /**
   * 2 (default): layers 2, 4 and 5 split into two groups as the paper's two GPUs (each half
   * sees only its GPU's half of the previous layer); 1: one tower, full connectivity.
   */
  groups?: 1 | 2;
}

/**
 * AlexNet: await alexnet({includeTop, weights, inputShape, pooling, classes, groups}).
 * Reading of the paper: input 227x227x3 (the paper's "224" does not divide with the 11x11 /
 * stride 4 first layer; 227 gives its 55x55x96); conv1 96 11x11/4 valid, conv2 256 5x5,
 * conv3 384 3x3, conv4 384 3x3, conv5 256 3x3 ('same'), each with ReLU; LRN (k = 2, n = 5,
 * alpha = 1e-4, beta = 0.75: depthRadius 2, bias 2) after the ReLU of conv1 and conv2, then
 * 3x3/2 max pooling after them and after conv5; fc6 and fc7 4096 ReLU with dropout 0.5, a
 * softmax over 1000 classes. With groups 2: 60,965,224 parameters (the paper's "60 million";
 * Caffe's reference CaffeNet count); with groups 1: 62,378,344. No ImageNet weights.
 */
export async function alexnet(args: AlexNetArgs = {}): Promise<LayersModel> {
  const groups = args?.groups ?? 2;
  check(groups === 1 || groups === 2, 'alexnet', 'groups 1 or 2', args?.groups);
  const r = resolveArgs('alexnet', args, 227, 67);
  const img = input({ shape: r.inputShape });
  const conv = (x: SymbolicTensor, filters: number, k: number, name: string, grouped: boolean): SymbolicTensor => {
    const layer: Layer =
      grouped && groups > 1
        ? new GroupedConv2D({ filters, kernelSize: k, padding: 'same', activation: 'relu', groups, name })
        : new Conv2D({ filters, kernelSize: k, padding: 'same', activation: 'relu', name });
    return layer.apply(x) as SymbolicTensor;
  };
  const lrn = (x: SymbolicTensor, name: string) => new LocalResponseNormalization({ depthRadius: 2, bias: 2, alpha: 1e-4, beta: 0.75, name }).apply(x);
  const pool = (x: SymbolicTensor, name: string) => new MaxPooling2D({ poolSize: 3, strides: 2, name }).apply(x);
  let x = new Conv2D({ filters: 96, kernelSize: 11, strides: 4, activation: 'relu', name: 'conv1' }).apply(img);
  x = pool(lrn(x, 'norm1'), 'pool1');
  x = pool(lrn(conv(x, 256, 5, 'conv2', true), 'norm2'), 'pool2');
  x = conv(x, 384, 3, 'conv3', false);
  x = conv(x, 384, 3, 'conv4', true);
  x = pool(conv(x, 256, 3, 'conv5', true), 'pool5');
  if (r.includeTop) {
    x = new Flatten({ name: 'flatten' }).apply(x);
    x = new Dense({ units: 4096, activation: 'relu', name: 'fc6' }).apply(x);
    x = new Dropout({ rate: 0.5, name: 'drop6' }).apply(x);
    x = new Dense({ units: 4096, activation: 'relu', name: 'fc7' }).apply(x);
    x = new Dropout({ rate: 0.5, name: 'drop7' }).apply(x);
    x = new Dense({ units: r.classes, activation: r.classifierActivation, name: 'predictions' }).apply(x);
  } else if (r.pooling === 'avg') x = new GlobalAveragePooling2D({ name: 'avg_pool' }).apply(x);
  else if (r.pooling === 'max') x = new GlobalMaxPooling2D({ name: 'max_pool' }).apply(x);
  const model = new LayersModel({ inputs: img, outputs: x, name: r.name });
  await loadApplicationWeights(model, 'alexnet', r, null, false);
  return model;
}
