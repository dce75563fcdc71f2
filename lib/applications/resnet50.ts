// ResNet-50 (He et al. 2015), layer for layer Keras 3's keras.applications.ResNet50:
// the same layer names, output shapes, parameter counts and layer order, so Keras' weight
// files load into it. Preprocessing is 'caffe' (RGB -> BGR, ImageNet mean subtracted).
import { Tensor } from '../tensor.js';
import { LayersModel } from '../models/functional.js';
import { ApplicationArgs } from './common.js';
import { DecodeOptions, DecodedPrediction, decodePredictions as decode, preprocessImagenet } from './imagenet.js';
import { RESNET50_FILES, resnetV1 } from './resnet.js';

export { RESNET50_FILES };

/**
 * keras.applications.ResNet50: await resnet50({includeTop, weights, inputShape, pooling,
 * classes}). Default input 224x224x3, at least 32x32. Images go through preprocessInput first.
 * 25,636,712 parameters with the top, as Keras (the stacks live in resnet.ts).
 */
export function resnet50(args: ApplicationArgs = {}): Promise<LayersModel> {
  return resnetV1('resnet50', [3, 4, 6, 3], args, RESNET50_FILES);
}

/** keras.applications.resnet50.preprocess_input: RGB [0, 255] -> BGR minus the ImageNet mean. */
export function preprocessInput(x: Tensor): Tensor {
  return preprocessImagenet(x, 'caffe');
}

/** keras.applications.resnet50.decode_predictions. */
export function decodePredictions(preds: Parameters<typeof decode>[0], opts?: DecodeOptions): DecodedPrediction[][] {
  return decode(preds, opts);
}
