// GoogLeNet (Szegedy et al. 2014, "Going Deeper with Convolutions"; Inception v1): a stem of
// 7x7 and 3x3 convolutions with local response normalization, nine Inception modules (1x1,
// 1x1 -> 3x3, 1x1 -> 5x5 and 3x3 max pool -> 1x1 branches, concatenated), global average
// pooling, dropout 0.4 and a softmax; optionally the two auxiliary classifiers on 4a and 4d.
import { SymbolicTensor } from '../layers/base.js';
import { Dense, Dropout, Flatten, input } from '../layers/core.js';
import { Conv2D } from '../layers/convolutional.js';
import { LocalResponseNormalization } from '../layers/lrn.js';
import { Concatenate } from '../layers/merge.js';
import { AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D } from '../layers/pooling.js';
import { InvalidArgumentError, check } from '../errors.js';
import { LayersModel } from '../models/functional.js';
import { ApplicationArgs, loadApplicationWeights, resolveArgs } from './common.js';

/** Options of googlenet(): the application options and the auxiliary classifiers. */
export interface GoogLeNetArgs extends ApplicationArgs {
  /**
   * Add the paper's two auxiliary classifiers (on inception 4a and 4d; training only in the
   * paper, loss weight 0.3): the model then has three outputs [main, aux1, aux2]. Default false.
   * Needs includeTop and an input of at least 65x65.
   */
  auxiliaryClassifiers?: boolean;
}

// The paper's Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
const MODULES: Record<string, [number, number, number, number, number, number]> = {
  '3a': [64, 96, 128, 16, 32, 32],
  '3b': [128, 128, 192, 32, 96, 64],
  '4a': [192, 96, 208, 16, 48, 64],
  '4b': [160, 112, 224, 24, 64, 64],
  '4c': [128, 128, 256, 24, 64, 64],
  '4d': [112, 144, 288, 32, 64, 64],
  '4e': [256, 160, 320, 32, 128, 128],
  '5a': [256, 160, 320, 32, 128, 128],
  '5b': [384, 192, 384, 48, 128, 128],
};

const conv = (x: SymbolicTensor, filters: number, k: number, name: string, strides = 1) =>
  new Conv2D({ filters, kernelSize: k, strides, padding: 'same', activation: 'relu', name }).apply(x);
const maxPool = (x: SymbolicTensor, strides: number, name: string) => new MaxPooling2D({ poolSize: 3, strides, padding: 'same', name }).apply(x);
// Caffe's bvlc_googlenet LRN (local_size 5, alpha 1e-4 divided by the window, beta 0.75, k 1).
const lrn = (x: SymbolicTensor, name: string) => new LocalResponseNormalization({ depthRadius: 2, bias: 1, alpha: 1e-4 / 5, beta: 0.75, name }).apply(x);

/** One Inception module (the paper's Figure 2b, "with dimension reductions"). */
function inception(x: SymbolicTensor, id: string): SymbolicTensor {
  const [n1, r3, n3, r5, n5, pp] = MODULES[id];
  const p = `inception_${id}`;
  const b1 = conv(x, n1, 1, `${p}_1x1`);
  const b3 = conv(conv(x, r3, 1, `${p}_3x3_reduce`), n3, 3, `${p}_3x3`);
  const b5 = conv(conv(x, r5, 1, `${p}_5x5_reduce`), n5, 5, `${p}_5x5`);
  const bp = conv(maxPool(x, 1, `${p}_pool`), pp, 1, `${p}_pool_proj`);
  return new Concatenate({ axis: -1, name: `${p}_output` }).apply([b1, b3, b5, bp]);
}

/** An auxiliary classifier: 5x5/3 average pool, 1x1 conv 128, fc 1024, dropout 0.7, softmax. */
function auxiliary(x: SymbolicTensor, p: string, classes: number, activation: string): SymbolicTensor {
  let y = new AveragePooling2D({ poolSize: 5, strides: 3, padding: 'valid', name: `${p}_ave_pool` }).apply(x);
  y = conv(y, 128, 1, `${p}_conv`);
  y = new Flatten({ name: `${p}_flatten` }).apply(y);
  y = new Dense({ units: 1024, activation: 'relu', name: `${p}_fc` }).apply(y);
  y = new Dropout({ rate: 0.7, name: `${p}_drop_fc` }).apply(y);
  return new Dense({ units: classes, activation, name: `${p}_classifier` }).apply(y);
}

/**
 * GoogLeNet: await googlenet({includeTop, weights, inputShape, pooling, classes,
 * auxiliaryClassifiers}); default input 224x224x3 (at least 32x32). Layer names follow Caffe's
 * bvlc_googlenet with '_' for '/'. Reading of the paper: 'same' padding throughout (Caffe's
 * ceil-mode pooling gives the same 112/56/28/14/7 sizes at 224), ReLU after every convolution
 * including the reductions and pool projections, LRN as Caffe's model, global average pooling
 * in place of the 7x7 average pool (the same at 224). Parameters at 224 with 1000 classes:
 * 6,998,552 without the auxiliary classifiers, biases included (Caffe's bvlc_googlenet has the
 * same; the paper's Table 1 rounds its per-layer counts to "about 6.8M"), and 13,378,280 with
 * them. 1.58 G multiply-adds per image (the paper: "1.5 billion"). No ImageNet weights.
 */
export async function googlenet(args: GoogLeNetArgs = {}): Promise<LayersModel> {
  const aux = args?.auxiliaryClassifiers ?? false;
  check(typeof aux === 'boolean', 'googlenet', 'auxiliaryClassifiers as a boolean', args?.auxiliaryClassifiers);
  const r = resolveArgs('googlenet', args, 224, 32);
  if (aux && !r.includeTop) throw new InvalidArgumentError('googlenet: expected includeTop true with auxiliaryClassifiers but received includeTop false');
  if (aux && (r.inputShape[0]! < 65 || r.inputShape[1]! < 65))
    throw new InvalidArgumentError(`googlenet: expected an input of at least 65x65 with auxiliaryClassifiers but received inputShape [${r.inputShape}]`);
  const img = input({ shape: r.inputShape });
  let x = conv(img, 64, 7, 'conv1_7x7_s2', 2);
  x = lrn(maxPool(x, 2, 'pool1_3x3_s2'), 'pool1_norm1');
  x = conv(x, 64, 1, 'conv2_3x3_reduce');
  x = conv(x, 192, 3, 'conv2_3x3');
  x = maxPool(lrn(x, 'conv2_norm2'), 2, 'pool2_3x3_s2');
  x = inception(inception(x, '3a'), '3b');
  x = maxPool(x, 2, 'pool3_3x3_s2');
  x = inception(x, '4a');
  const a1 = x;
  x = inception(inception(inception(x, '4b'), '4c'), '4d');
  const a2 = x;
  x = inception(x, '4e');
  x = maxPool(x, 2, 'pool4_3x3_s2');
  x = inception(inception(x, '5a'), '5b');
  const outputs: SymbolicTensor[] = [];
  if (r.includeTop) {
    x = new GlobalAveragePooling2D({ name: 'pool5_7x7_s1' }).apply(x);
    x = new Dropout({ rate: 0.4, name: 'pool5_drop_7x7_s1' }).apply(x);
    outputs.push(new Dense({ units: r.classes, activation: r.classifierActivation, name: 'loss3_classifier' }).apply(x));
    if (aux) outputs.push(auxiliary(a1, 'loss1', r.classes, r.classifierActivation), auxiliary(a2, 'loss2', r.classes, r.classifierActivation));
  } else if (r.pooling === 'avg') outputs.push(new GlobalAveragePooling2D({ name: 'avg_pool' }).apply(x));
  else if (r.pooling === 'max') outputs.push(new GlobalMaxPooling2D({ name: 'max_pool' }).apply(x));
  else outputs.push(x);
  const model = new LayersModel({ inputs: img, outputs: outputs.length === 1 ? outputs[0] : outputs, name: r.name });
  await loadApplicationWeights(model, 'googlenet', r, null, false);
  return model;
}
