// Ready-made architectures (exported as `applications`), as Keras' keras.applications:
//   await applications.resnet50({includeTop, weights, inputShape, pooling, classes})
//   applications.resnet50.preprocessInput(images), applications.resnet50.decodePredictions(probs, {top})
//   await applications.xception({...}), applications.xception.preprocessInput / decodePredictions
//   applications.resnet34({inputShape, classes}): the notebook's Sequential ResNet-34
import { decodePredictions as resnet50Decode, preprocessInput as resnet50Preprocess, resnet50 as resnet50Fn } from './resnet50.js';
import { decodePredictions as xceptionDecode, preprocessInput as xceptionPreprocess, xception as xceptionFn } from './xception.js';

/** keras.applications.ResNet50, with .preprocessInput ('caffe') and .decodePredictions. */
export const resnet50 = Object.assign(resnet50Fn, { preprocessInput: resnet50Preprocess, decodePredictions: resnet50Decode });
/** keras.applications.Xception, with .preprocessInput ('tf') and .decodePredictions. */
export const xception = Object.assign(xceptionFn, { preprocessInput: xceptionPreprocess, decodePredictions: xceptionDecode });
export { resnet34, ResidualUnit } from './resnet34.js';
export type { ResNet34Args, ResidualUnitArgs } from './resnet34.js';
export { decodePredictions, imagenetClassIndex, preprocessImagenet } from './imagenet.js';
export type { DecodeOptions, DecodedPrediction, PreprocessMode } from './imagenet.js';
export { kerasModelsDir } from './common.js';
export type { ApplicationArgs, Pooling } from './common.js';
export { loadKerasWeights, readKerasWeights } from '../io/h5weights.js';
export type { KerasWeightFile, LoadWeightsOptions, LoadWeightsResult } from '../io/h5weights.js';
