// Ready-made architectures (exported as `applications`), as Keras' keras.applications:
//   await applications.resnet50({includeTop, weights, inputShape, pooling, classes})
//   applications.resnet50.preprocessInput(images), applications.resnet50.decodePredictions(probs, {top})
//   await applications.xception({...}), applications.xception.preprocessInput / decodePredictions
//   applications.resnet34({inputShape, classes}): the notebook's Sequential ResNet-34 (and resnet18)
//   the model zoo (zoo.ts): lenet5, alexnet, vgg16, vgg19, googlenet, resnet101, resnet152,
//   seResNet50 and the seBlock layer; zooModels() / runZoo() behind `cudnn-node zoo`
import { decodePredictions as resnet50Decode, preprocessInput as resnet50Preprocess, resnet50 as resnet50Fn } from './resnet50.js';
import { decodePredictions as xceptionDecode, preprocessInput as xceptionPreprocess, xception as xceptionFn } from './xception.js';

/** keras.applications.ResNet50, with .preprocessInput ('caffe') and .decodePredictions. */
export const resnet50 = Object.assign(resnet50Fn, { preprocessInput: resnet50Preprocess, decodePredictions: resnet50Decode });
/** keras.applications.Xception, with .preprocessInput ('tf') and .decodePredictions. */
export const xception = Object.assign(xceptionFn, { preprocessInput: xceptionPreprocess, decodePredictions: xceptionDecode });
export { resnet18, resnet34, ResidualUnit } from './resnet34.js';
export type { ResNet34Args, ResidualUnitArgs } from './resnet34.js';
export { decodePredictions, imagenetClassIndex, preprocessImagenet } from './imagenet.js';
export type { DecodeOptions, DecodedPrediction, PreprocessMode } from './imagenet.js';
export { kerasModelsDir } from './common.js';
export type { ApplicationArgs, Pooling } from './common.js';
export { loadKerasWeights, readKerasWeights } from '../io/h5weights.js';
export type { KerasWeightFile, LoadWeightsOptions, LoadWeightsResult } from '../io/h5weights.js';

// The model zoo (GitHub issue 7): one file per family.
import { preprocessInput as vggPreprocess, vgg16 as vgg16Fn, vgg19 as vgg19Fn } from './vgg.js';
import { resnet101 as resnet101Fn, resnet152 as resnet152Fn } from './resnet.js';
/** keras.applications.VGG16, with .preprocessInput ('caffe') and .decodePredictions. */
export const vgg16 = Object.assign(vgg16Fn, { preprocessInput: vggPreprocess, decodePredictions: resnet50Decode });
/** keras.applications.VGG19, with .preprocessInput ('caffe') and .decodePredictions. */
export const vgg19 = Object.assign(vgg19Fn, { preprocessInput: vggPreprocess, decodePredictions: resnet50Decode });
/** keras.applications.ResNet101, with .preprocessInput ('caffe') and .decodePredictions. */
export const resnet101 = Object.assign(resnet101Fn, { preprocessInput: resnet50Preprocess, decodePredictions: resnet50Decode });
/** keras.applications.ResNet152, with .preprocessInput ('caffe') and .decodePredictions. */
export const resnet152 = Object.assign(resnet152Fn, { preprocessInput: resnet50Preprocess, decodePredictions: resnet50Decode });
export { lenet5 } from './lenet5.js';
export { alexnet } from './alexnet.js';
export type { AlexNetArgs } from './alexnet.js';
export { GroupedConv2D } from './grouped_conv2d.js';
export type { GroupedConv2DArgs } from './grouped_conv2d.js';
export { googlenet } from './googlenet.js';
export type { GoogLeNetArgs } from './googlenet.js';
export { SEBlock, seBlock, seResNet50 } from './senet.js';
export type { SEBlockArgs, SEResNet50Args } from './senet.js';
export { ZOO, countFlops, formatZooTable, runZoo } from './zoo.js';
export type { ZooEntry, ZooOptions, ZooRow } from './zoo.js';

// The notebook's image pipelines (GitHub issue 8), behind `cudnn-node train <pipeline>`.
export { IMAGE_PIPELINES, classifyAndLocalize, flowerDatasets, preprocessingDemo, resnet34Training, runImagePipeline, setTrainableFrom, transferLearning, xceptionWithHeads } from './pipelines.js';
export type {
  FlowerData,
  FlowerDataOptions,
  ImagePipeline,
  ImagePipelineOptions,
  LocalizationOptions,
  PreprocessingDemoResult,
  ResNet34TrainingOptions,
  TransferLearningOptions,
  TransferLearningResult,
} from './pipelines.js';
