// Layers (exported as `layers`): tfjs-layers factory functions (layers.conv2d({...})),
// the classes, the Layer base class for user layers, and initializers.
import { Activation, ActivationLayerArgs, Dense, DenseLayerArgs, Dropout, DropoutLayerArgs, Flatten, InputLayer, InputLayerArgs, Reshape, ReshapeLayerArgs, input } from './core.js';
import { Conv2D, Conv2DLayerArgs, DepthwiseConv2D, DepthwiseConv2DLayerArgs, SeparableConv2D, SeparableConv2DLayerArgs } from './convolutional.js';
import { Add, Average, Concatenate, ConcatenateLayerArgs, Dot, DotLayerArgs, Maximum, Minimum, Multiply, Subtract } from './merge.js';
import { BatchNormalization, BatchNormalizationLayerArgs } from './normalization.js';
import { AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, GlobalPooling2DLayerArgs, MaxPooling2D, Pooling2DLayerArgs } from './pooling.js';
import { Layer, LayerArgs, SymbolicTensor } from './base.js';
import { Tensor } from '../tensor.js';
import { registerLayer } from './serialization.js';

export { Layer, SymbolicTensor, Node, inferOutputShape } from './base.js';
export type { CallArgs, LayerArgs, Shape } from './base.js';
export { registerLayer, serializeLayer, deserializeLayer } from './serialization.js';
export { InputLayer, Dense, Dropout, Flatten, Activation, Reshape } from './core.js';
export type { InputConfig, InputLayerArgs, DenseLayerArgs, DropoutLayerArgs, ActivationLayerArgs, ReshapeLayerArgs } from './core.js';
export { Conv2D, DepthwiseConv2D, SeparableConv2D } from './convolutional.js';
export type { Conv2DLayerArgs, DepthwiseConv2DLayerArgs, SeparableConv2DLayerArgs } from './convolutional.js';
export { MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D } from './pooling.js';
export type { Pooling2DLayerArgs, GlobalPooling2DLayerArgs } from './pooling.js';
export { Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot } from './merge.js';
export type { ConcatenateLayerArgs, DotLayerArgs } from './merge.js';
export { BatchNormalization } from './normalization.js';
export type { BatchNormalizationLayerArgs } from './normalization.js';
export * as initializers from './initializers.js';
export { setRandomSeed } from './initializers.js';
export type { ActivationIdentifier } from './activations.js';

for (const cls of [
  InputLayer, Dense, Dropout, Flatten, Activation, Reshape, Conv2D, DepthwiseConv2D, SeparableConv2D,
  MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, Add, Multiply, Average,
  Maximum, Minimum, Subtract, Concatenate, Dot, BatchNormalization,
])
  registerLayer(cls as never);

/** A symbolic model input: layers.input({shape: [28, 28, 1]}). */
export { input };
/** tfjs layers.inputLayer(): an InputLayer; input() is the usual way to start a functional model. */
export const inputLayer = (args: InputLayerArgs) => new InputLayer(args);
/** tfjs layers.dense(): a Dense layer, activation(x @ kernel + bias) on the last axis. */
export const dense = (args: DenseLayerArgs) => new Dense(args);
/** tfjs layers.dropout(): a Dropout layer (active in training only). */
export const dropout = (args: DropoutLayerArgs) => new Dropout(args);
/** tfjs layers.flatten(): a Flatten layer, [b, ...] -> [b, product of the rest]. */
export const flatten = (args?: LayerArgs) => new Flatten(args);
/** tfjs layers.activation(): an Activation layer applying a named activation. */
export const activation = (args: ActivationLayerArgs) => new Activation(args);
/** tfjs layers.reshape(): a Reshape layer to targetShape (batch dimension kept). */
export const reshape = (args: ReshapeLayerArgs) => new Reshape(args);
/** tfjs layers.conv2d(): a Conv2D layer (NHWC input, kernel [kh, kw, in, filters]). */
export const conv2d = (args: Conv2DLayerArgs) => new Conv2D(args);
/** tfjs layers.depthwiseConv2d(): a DepthwiseConv2D layer (per-channel convolution). */
export const depthwiseConv2d = (args: DepthwiseConv2DLayerArgs) => new DepthwiseConv2D(args);
/** tfjs layers.separableConv2d(): a SeparableConv2D layer (depthwise, then 1x1 to filters). */
export const separableConv2d = (args: SeparableConv2DLayerArgs) => new SeparableConv2D(args);
/** tfjs layers.maxPooling2d(): a MaxPooling2D layer (default 2x2 windows, stride poolSize). */
export const maxPooling2d = (args?: Pooling2DLayerArgs) => new MaxPooling2D(args);
/** Alias of maxPooling2d (tfjs layers.maxPool2d). */
export const maxPool2d = maxPooling2d;
/** tfjs layers.averagePooling2d(): an AveragePooling2D layer (default 2x2 windows, stride poolSize). */
export const averagePooling2d = (args?: Pooling2DLayerArgs) => new AveragePooling2D(args);
/** Alias of averagePooling2d (tfjs layers.avgPool2d). */
export const avgPool2d = averagePooling2d;
/** tfjs layers.globalAveragePooling2d(): mean over height and width, [b, h, w, c] -> [b, c]. */
export const globalAveragePooling2d = (args?: GlobalPooling2DLayerArgs) => new GlobalAveragePooling2D(args);
/** tfjs layers.globalMaxPooling2d(): max over height and width, [b, h, w, c] -> [b, c]. */
export const globalMaxPooling2d = (args?: GlobalPooling2DLayerArgs) => new GlobalMaxPooling2D(args);
/**
 * A merge layer factory as tfjs has it: called with options it returns the layer; called with
 * an array of inputs (SymbolicTensors or Tensors) it returns the layer applied to them.
 */
export interface MergeFactory<L extends Layer, A> {
  (args?: A): L;
  (inputs: SymbolicTensor[]): SymbolicTensor;
  (inputs: Tensor[]): Tensor;
}
function mergeFactory<L extends Layer, A>(make: (args?: A) => L): MergeFactory<L, A> {
  return ((x?: A | SymbolicTensor[] | Tensor[]) => (Array.isArray(x) ? make().apply(x as never) : make(x))) as MergeFactory<L, A>;
}
/** tfjs layers.add(): an Add layer, the elementwise sum of its inputs (broadcast as tfjs: Note [merge broadcasting]). */
export const add = mergeFactory((args?: LayerArgs) => new Add(args));
/** Keras layers.Subtract: a Subtract layer, inputs[0] - inputs[1] (exactly two inputs). */
export const subtract = mergeFactory((args?: LayerArgs) => new Subtract(args));
/** tfjs layers.multiply(): a Multiply layer, the elementwise product of its inputs. */
export const multiply = mergeFactory((args?: LayerArgs) => new Multiply(args));
/** tfjs layers.average(): an Average layer, the elementwise mean of its inputs. */
export const average = mergeFactory((args?: LayerArgs) => new Average(args));
/** tfjs layers.maximum(): a Maximum layer, the elementwise maximum of its inputs. */
export const maximum = mergeFactory((args?: LayerArgs) => new Maximum(args));
/** tfjs layers.minimum(): a Minimum layer, the elementwise minimum of its inputs. */
export const minimum = mergeFactory((args?: LayerArgs) => new Minimum(args));
/** tfjs layers.concatenate(): a Concatenate layer joining its inputs on axis (default -1). */
export const concatenate = mergeFactory((args?: ConcatenateLayerArgs) => new Concatenate(args));
/** tfjs layers.dot(): a Dot layer, the dot product of two inputs along axes (optionally normalized: cosine). */
export const dot = (args: DotLayerArgs) => new Dot(args);
/** tfjs layers.batchNormalization(): a BatchNormalization layer over the channels (last axis). */
export const batchNormalization = (args?: BatchNormalizationLayerArgs) => new BatchNormalization(args);

// Preprocessing / augmentation layers and ZeroPadding2D (lib/layers/preprocessing.ts, padding.ts).
import { CenterCrop, CenterCropLayerArgs, RandomContrast, RandomContrastLayerArgs, RandomFlip, RandomFlipLayerArgs, RandomRotation, RandomRotationLayerArgs, Rescaling, RescalingLayerArgs, Resizing, ResizingLayerArgs } from './preprocessing.js';
import { ZeroPadding2D, ZeroPadding2DLayerArgs } from './padding.js';
export { CenterCrop, RandomContrast, RandomFlip, RandomRotation, Rescaling, Resizing, ZeroPadding2D };
export type { CenterCropLayerArgs, RandomContrastLayerArgs, RandomFlipLayerArgs, RandomRotationLayerArgs, RescalingLayerArgs, ResizingLayerArgs, ZeroPadding2DLayerArgs };
export type { FillMode, FlipMode, Interpolation } from './preprocessing.js';
for (const cls of [CenterCrop, RandomContrast, RandomFlip, RandomRotation, Rescaling, Resizing, ZeroPadding2D]) registerLayer(cls as never);
/** Rescaling: x * scale + offset (layers.rescaling({scale: 1 / 255})). */
export const rescaling = (args: RescalingLayerArgs) => new Rescaling(args);
/** CenterCrop: the central height x width window (smart-resized when the image is smaller). */
export const centerCrop = (args: CenterCropLayerArgs) => new CenterCrop(args);
/** Resizing to height x width (bilinear or nearest, optionally cropping to the aspect ratio first). */
export const resizing = (args: ResizingLayerArgs) => new Resizing(args);
/** RandomFlip (training only): 'horizontal', 'vertical' or 'horizontal_and_vertical', seeded. */
export const randomFlip = (args?: RandomFlipLayerArgs) => new RandomFlip(args);
/** RandomRotation (training only): by factor * 360 degrees at most, with a fill mode, seeded. */
export const randomRotation = (args: RandomRotationLayerArgs) => new RandomRotation(args);
/** RandomContrast (training only): (x - mean) * f + mean with f drawn per image, seeded. */
export const randomContrast = (args: RandomContrastLayerArgs) => new RandomContrast(args);
/** ZeroPadding2D: rows and columns of zeros around each image. */
export const zeroPadding2d = (args?: ZeroPadding2DLayerArgs) => new ZeroPadding2D(args);

// Local response normalization across channels (lib/layers/lrn.ts).
import { LocalResponseNormalization, LocalResponseNormalizationLayerArgs } from './lrn.js';
export { LocalResponseNormalization };
export type { LocalResponseNormalizationLayerArgs };
registerLayer(LocalResponseNormalization as never);
/** LocalResponseNormalization: cross-channel LRN (depthRadius, bias, alpha, beta as tf.nn.local_response_normalization). */
export const localResponseNormalization = (args?: LocalResponseNormalizationLayerArgs) => new LocalResponseNormalization(args);

// Advanced activations, embedding, wrappers, transposed convolution and the reshaping layers
// (lib/layers/advanced_activations.ts, embeddings.ts, wrappers.ts, conv_transpose.ts, reshaping.ts).
import { ELU, ELULayerArgs, LeakyReLU, LeakyReLULayerArgs, PReLU, PReLULayerArgs, ReLU, ReLULayerArgs, Softmax, SoftmaxLayerArgs, ThresholdedReLU, ThresholdedReLULayerArgs } from './advanced_activations.js';
import { Embedding, EmbeddingLayerArgs } from './embeddings.js';
import { TimeDistributed, TimeDistributedLayerArgs } from './wrappers.js';
import { Conv2DTranspose, Conv2DTransposeLayerArgs } from './conv_transpose.js';
import { Cropping2D, Cropping2DLayerArgs, Permute, PermuteLayerArgs, RepeatVector, RepeatVectorLayerArgs, UpSampling2D, UpSampling2DLayerArgs } from './reshaping.js';
export { ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU, Embedding, TimeDistributed, Conv2DTranspose, Cropping2D, Permute, RepeatVector, UpSampling2D };
export type {
  ELULayerArgs, LeakyReLULayerArgs, PReLULayerArgs, ReLULayerArgs, SoftmaxLayerArgs, ThresholdedReLULayerArgs, EmbeddingLayerArgs,
  TimeDistributedLayerArgs, Conv2DTransposeLayerArgs, Cropping2DLayerArgs, PermuteLayerArgs, RepeatVectorLayerArgs, UpSampling2DLayerArgs,
};
for (const cls of [ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU, Embedding, TimeDistributed, Conv2DTranspose, Cropping2D, Permute, RepeatVector, UpSampling2D])
  registerLayer(cls as never);
/** tfjs layers.reLU(): a ReLU layer, max(x, 0) capped at maxValue if given. */
export const reLU = (args?: ReLULayerArgs) => new ReLU(args);
/** tfjs layers.leakyReLU(): a LeakyReLU layer, x or alpha * x for x < 0 (alpha default 0.3). */
export const leakyReLU = (args?: LeakyReLULayerArgs) => new LeakyReLU(args);
/** tfjs layers.prelu(): a PReLU layer, leaky ReLU with a learned slope per element (or shared along sharedAxes). */
export const prelu = (args?: PReLULayerArgs) => new PReLU(args);
/** tfjs layers.elu(): an ELU layer, x or alpha * (exp(x) - 1) for x < 0. */
export const elu = (args?: ELULayerArgs) => new ELU(args);
/** tfjs layers.thresholdedReLU(): a ThresholdedReLU layer, x where x > theta, else 0. */
export const thresholdedReLU = (args?: ThresholdedReLULayerArgs) => new ThresholdedReLU(args);
/** tfjs layers.softmax(): a Softmax layer over axis (default 1, as tfjs: Note [softmax layer axis]). */
export const softmax = (args?: SoftmaxLayerArgs) => new Softmax(args);
/** tfjs layers.embedding(): an Embedding layer, int indices -> rows of a learned [inputDim, outputDim] table. */
export const embedding = (args: EmbeddingLayerArgs) => new Embedding(args);
/** tfjs layers.timeDistributed(): applies args.layer to every timestep of a [b, t, ...] input. */
export const timeDistributed = (args: TimeDistributedLayerArgs) => new TimeDistributed(args);
/** tfjs layers.conv2dTranspose(): a Conv2DTranspose layer (kernel [kh, kw, filters, inChannels]). */
export const conv2dTranspose = (args: Conv2DTransposeLayerArgs) => new Conv2DTranspose(args);
/** tfjs layers.upSampling2d(): an UpSampling2D layer, rows and columns repeated (or resized bilinearly) by size. */
export const upSampling2d = (args?: UpSampling2DLayerArgs) => new UpSampling2D(args);
/** tfjs layers.cropping2d(): a Cropping2D layer, rows and columns removed at the edges. */
export const cropping2d = (args: Cropping2DLayerArgs) => new Cropping2D(args);
/** tfjs' spelling of cropping2d (layers.cropping2D). */
export const cropping2D = cropping2d;
/** tfjs layers.repeatVector(): a RepeatVector layer, [b, f] -> [b, n, f]. */
export const repeatVector = (args: RepeatVectorLayerArgs) => new RepeatVector(args);
/** tfjs layers.permute(): a Permute layer, the non-batch axes reordered by dims (1-based). */
export const permute = (args: PermuteLayerArgs) => new Permute(args);
