// LocalResponseNormalization: the layer form of localResponseNormalization (cross-channel
// LRN of AlexNet and GoogLeNet), with TensorFlow's parameters (depthRadius, bias, alpha, beta).
import { check } from '../errors.js';
import { Tensor } from '../tensor.js';
import * as ops from '../ops/index.js';
import { CallArgs, Layer, LayerArgs, Shape, singleInput, singleShape } from './base.js';

/** Arguments of LocalResponseNormalization / layers.localResponseNormalization(). */
export interface LocalResponseNormalizationLayerArgs extends LayerArgs {
  /** Channels on each side of the window (default 5: a window of 11). */
  depthRadius?: number;
  /** Added to the scaled sum of squares (default 1). */
  bias?: number;
  /** Scale of the sum of squares, not divided by the window size (default 1). */
  alpha?: number;
  /** Exponent (default 0.5). */
  beta?: number;
}

/**
 * y = x / (bias + alpha * sum of x^2 over the channel window)^beta over the last axis of NHWC
 * input (no weights). Krizhevsky et al. 2012 use depthRadius 2, bias 2, alpha 1e-4 (their
 * alpha with the sum not divided by the window), beta 0.75.
 */
export class LocalResponseNormalization extends Layer {
  static className = 'LocalResponseNormalization';
  readonly depthRadius: number;
  readonly bias: number;
  readonly alpha: number;
  readonly beta: number;

  constructor(args: LocalResponseNormalizationLayerArgs = {}) {
    super(args);
    const op = 'localResponseNormalization';
    this.depthRadius = args.depthRadius ?? 5;
    this.bias = args.bias ?? 1;
    this.alpha = args.alpha ?? 1;
    this.beta = args.beta ?? 0.5;
    check(Number.isInteger(this.depthRadius) && this.depthRadius >= 0, op, 'depthRadius a non-negative integer', args.depthRadius);
    check(typeof this.bias === 'number' && this.bias > 0, op, 'bias > 0', args.bias);
    check(typeof this.alpha === 'number' && this.alpha >= 0, op, 'alpha >= 0', args.alpha);
    check(typeof this.beta === 'number' && Number.isFinite(this.beta), op, 'beta a finite number', args.beta);
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    check(s.length === 4, 'localResponseNormalization', `input of rank 4 (NHWC) (layer '${this.name}')`, s);
    return s;
  }

  call(inputs: Tensor | Tensor[], _kwargs: CallArgs): Tensor {
    return ops.localResponseNormalization(singleInput(inputs, this.name), this.depthRadius, this.bias, this.alpha, this.beta);
  }

  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), depthRadius: this.depthRadius, bias: this.bias, alpha: this.alpha, beta: this.beta };
  }
}
