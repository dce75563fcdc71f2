// Pooling layers (NHWC): MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D.
import { InvalidArgumentError, check } from '../errors.js';
import * as ops from '../ops/index.js';
import { Tensor } from '../tensor.js';
import { Layer, LayerArgs, Shape, formatShape, singleInput, singleShape } from './base.js';
import { Padding, convOutSize, normPadding, normPair } from './convolutional.js';
import { checkInputRank } from './core.js';

/** Arguments of MaxPooling2D / AveragePooling2D (tfjs layers.maxPooling2d, averagePooling2d); input NHWC. */
export interface Pooling2DLayerArgs extends LayerArgs {
  /** Window size (default 2). */
  poolSize?: number | number[];
  /** Step (default poolSize). */
  strides?: number | number[];
  /** 'valid' (default) or 'same'. */
  padding?: Padding;
  /** Only 'channelsLast' (NHWC) is supported. */
  dataFormat?: 'channelsLast';
}

abstract class Pooling2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  protected abstract readonly op: string;

  constructor(args: Pooling2DLayerArgs, op: string) {
    super(args);
    this.poolSize = normPair(args.poolSize, 2, 'poolSize', op);
    this.strides = args.strides === undefined || args.strides === null ? this.poolSize : normPair(args.strides, 1, 'strides', op);
    this.padding = normPadding(args.padding, op);
    if (args.dataFormat !== undefined && args.dataFormat !== 'channelsLast')
      throw new InvalidArgumentError(`${op}: expected dataFormat 'channelsLast' (NHWC) but received '${args.dataFormat}'`);
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    checkInputRank(s, 4, this.name, this.op, 'NHWC');
    const h = convOutSize(s[1], this.poolSize[0], this.strides[0], 1, this.padding);
    const w = convOutSize(s[2], this.poolSize[1], this.strides[1], 1, this.padding);
    if ((h !== null && h <= 0) || (w !== null && w <= 0))
      throw new InvalidArgumentError(`${this.op}: expected an input at least as large as poolSize [${this.poolSize}] but received shape ${formatShape(s)} (layer '${this.name}')`);
    return [s[0], h, w, s[3]];
  }

  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides, padding: this.padding, dataFormat: 'channelsLast' };
  }
}

/** Max over poolSize windows. */
export class MaxPooling2D extends Pooling2D {
  static className = 'MaxPooling2D';
  protected readonly op = 'maxPooling2d';
  constructor(args: Pooling2DLayerArgs = {}) {
    super(args, 'maxPooling2d');
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    return ops.maxPool(singleInput(inputs, this.name), this.poolSize, this.strides, this.padding);
  }
}

/** Mean over poolSize windows (padding excluded from the count, as TensorFlow). */
export class AveragePooling2D extends Pooling2D {
  static className = 'AveragePooling2D';
  protected readonly op = 'averagePooling2d';
  constructor(args: Pooling2DLayerArgs = {}) {
    super(args, 'averagePooling2d');
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    return ops.avgPool(singleInput(inputs, this.name), this.poolSize, this.strides, this.padding);
  }
}

/** Arguments of GlobalAveragePooling2D / GlobalMaxPooling2D: [b, h, w, c] -> [b, c]. */
export interface GlobalPooling2DLayerArgs extends LayerArgs {
  /** Only 'channelsLast' (NHWC) is supported. */
  dataFormat?: 'channelsLast';
  /** Keep the spatial dimensions as size 1 (Keras keepdims). */
  keepDims?: boolean;
}

abstract class GlobalPooling2D extends Layer {
  readonly keepDims: boolean;
  protected abstract readonly op: string;
  constructor(args: GlobalPooling2DLayerArgs) {
    super(args);
    this.keepDims = args.keepDims ?? false;
    check(args.dataFormat === undefined || args.dataFormat === 'channelsLast', 'globalPooling2d', "dataFormat 'channelsLast'", args.dataFormat);
  }
  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    checkInputRank(s, 4, this.name, this.op, 'NHWC');
    return this.keepDims ? [s[0], 1, 1, s[3]] : [s[0], s[3]];
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), dataFormat: 'channelsLast', keepDims: this.keepDims };
  }
}

/** Mean over height and width: [b, h, w, c] -> [b, c]. */
export class GlobalAveragePooling2D extends GlobalPooling2D {
  static className = 'GlobalAveragePooling2D';
  protected readonly op = 'globalAveragePooling2d';
  constructor(args: GlobalPooling2DLayerArgs = {}) {
    super(args);
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    return ops.mean(singleInput(inputs, this.name), [1, 2], this.keepDims);
  }
}

/** Max over height and width: [b, h, w, c] -> [b, c]. */
export class GlobalMaxPooling2D extends GlobalPooling2D {
  static className = 'GlobalMaxPooling2D';
  protected readonly op = 'globalMaxPooling2d';
  constructor(args: GlobalPooling2DLayerArgs = {}) {
    super(args);
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    return ops.max(singleInput(inputs, this.name), [1, 2], this.keepDims);
  }
}
