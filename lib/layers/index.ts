// Layers (exported as `layers`): tfjs-layers factory functions (layers.conv2d({...})),
// the classes, the Layer base class for user layers, and initializers.
import { Activation, ActivationLayerArgs, Dense, DenseLayerArgs, Dropout, DropoutLayerArgs, Flatten, InputLayer, InputLayerArgs, Reshape, ReshapeLayerArgs, input } from './core.js';
import { Conv2D, Conv2DLayerArgs, DepthwiseConv2D, DepthwiseConv2DLayerArgs, SeparableConv2D, SeparableConv2DLayerArgs } from './convolutional.js';
import { Add, Average, Concatenate, ConcatenateLayerArgs, Maximum, Multiply } from './merge.js';
import { BatchNormalization, BatchNormalizationLayerArgs } from './normalization.js';
import { AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, GlobalPooling2DLayerArgs, MaxPooling2D, Pooling2DLayerArgs } from './pooling.js';
import { LayerArgs } from './base.js';
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
export { Add, Multiply, Average, Maximum, Concatenate } from './merge.js';
export type { ConcatenateLayerArgs } from './merge.js';
export { BatchNormalization } from './normalization.js';
export type { BatchNormalizationLayerArgs } from './normalization.js';
export * as initializers from './initializers.js';
export { setRandomSeed } from './initializers.js';
export type { ActivationIdentifier } from './activations.js';

for (const cls of [
  InputLayer, Dense, Dropout, Flatten, Activation, Reshape, Conv2D, DepthwiseConv2D, SeparableConv2D,
  MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, Add, Multiply, Average,
  Maximum, Concatenate, BatchNormalization,
])
  registerLayer(cls as never);

/** A symbolic model input: layers.input({shape: [28, 28, 1]}). */
export { input };
export const inputLayer = (args: InputLayerArgs) => new InputLayer(args);
export const dense = (args: DenseLayerArgs) => new Dense(args);
export const dropout = (args: DropoutLayerArgs) => new Dropout(args);
export const flatten = (args?: LayerArgs) => new Flatten(args);
export const activation = (args: ActivationLayerArgs) => new Activation(args);
export const reshape = (args: ReshapeLayerArgs) => new Reshape(args);
export const conv2d = (args: Conv2DLayerArgs) => new Conv2D(args);
export const depthwiseConv2d = (args: DepthwiseConv2DLayerArgs) => new DepthwiseConv2D(args);
export const separableConv2d = (args: SeparableConv2DLayerArgs) => new SeparableConv2D(args);
export const maxPooling2d = (args?: Pooling2DLayerArgs) => new MaxPooling2D(args);
export const maxPool2d = maxPooling2d;
export const averagePooling2d = (args?: Pooling2DLayerArgs) => new AveragePooling2D(args);
export const avgPool2d = averagePooling2d;
export const globalAveragePooling2d = (args?: GlobalPooling2DLayerArgs) => new GlobalAveragePooling2D(args);
export const globalMaxPooling2d = (args?: GlobalPooling2DLayerArgs) => new GlobalMaxPooling2D(args);
export const add = (args?: LayerArgs) => new Add(args);
export const multiply = (args?: LayerArgs) => new Multiply(args);
export const average = (args?: LayerArgs) => new Average(args);
export const maximum = (args?: LayerArgs) => new Maximum(args);
export const concatenate = (args?: ConcatenateLayerArgs) => new Concatenate(args);
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
