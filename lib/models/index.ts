// Models (exported at the top level): sequential(), model(), input(), loadLayersModel(),
// the model classes, callbacks and History.
import { registerLayer } from '../layers/serialization.js';
import { LayersModel, ModelArgs } from './functional.js';
import { Sequential, SequentialArgs } from './sequential.js';

export { LayersModel, Sequential };
export type { ModelArgs, SequentialArgs };
export { input } from '../layers/core.js';
export { SymbolicTensor, Layer } from '../layers/base.js';
export { registerLayer } from '../layers/serialization.js';
export { loadLayersModel } from './io.js';
export type { SaveResult } from './io.js';
export { Callback, CustomCallback, History, EarlyStopping, ModelCheckpoint, LearningRateScheduler, ReduceLROnPlateau, setLearningRate } from './callbacks.js';
export type { Logs, CustomCallbackArgs, EarlyStoppingArgs, ModelCheckpointArgs, ReduceLROnPlateauArgs } from './callbacks.js';
export * as callbacks from './callbacks.js';
export type { CompileArgs, FitArgs, FitDatasetArgs, EvaluateArgs, PredictArgs, TensorInputs } from './trainer.js';
export type { SummaryOptions } from './summary.js';

registerLayer(LayersModel as never, 'Functional');
registerLayer(LayersModel as never, 'Model');
registerLayer(Sequential as never, 'Sequential');

/** A stack of layers: sequential({layers: [layers.dense({units: 10, inputShape: [4]})]}). */
export function sequential(args: SequentialArgs = {}): Sequential {
  return new Sequential(args);
}

/** A functional model from symbolic inputs to outputs: model({inputs, outputs}). */
export function model(args: ModelArgs): LayersModel {
  return new LayersModel(args);
}

export { fashionMnistCnn, trainFashionMnist, pixelStats, standardize } from './fashion_mnist.js';
export type { FashionMnistOptions, FashionMnistResult } from './fashion_mnist.js';
