// BatchNormalization over the last axis (channels), Keras 3 semantics: training uses the
// batch statistics and moves moving_mean / moving_variance toward them (biased variance,
// moving = moving * momentum + batch * (1 - momentum)); inference uses the moving ones. A
// frozen layer (trainable = false) always runs in inference mode, as in Keras 3.
import { InvalidArgumentError, check } from '../errors.js';
import { keep } from '../engine.js';
import * as ops from '../ops/index.js';
import { Tensor, Variable } from '../tensor.js';
import { CallArgs, Layer, LayerArgs, Shape, formatShape, movingAverageUpdate, outsideTrace, singleInput, singleShape } from './base.js';
import { InitializerIdentifier, lastDim } from './core.js';
import { Initializer, getInitializer, serializeInitializer } from './initializers.js';

/** Arguments of BatchNormalization / layers.batchNormalization() (tfjs layers.batchNormalization). */
export interface BatchNormalizationLayerArgs extends LayerArgs {
  /** Only -1 (the last axis, channels in NHWC) is supported. */
  axis?: number;
  /** Moving-statistics momentum in [0, 1]; default 0.99. */
  momentum?: number;
  /** Added to the variance, > 0; default 1e-3. */
  epsilon?: number;
  /** Learn an offset beta; default true. */
  center?: boolean;
  /** Learn a scale gamma; default true. */
  scale?: boolean;
  /** Default 'zeros'. */
  betaInitializer?: InitializerIdentifier;
  /** Default 'ones'. */
  gammaInitializer?: InitializerIdentifier;
  /** Default 'zeros'. */
  movingMeanInitializer?: InitializerIdentifier;
  /** Default 'ones'. */
  movingVarianceInitializer?: InitializerIdentifier;
}

/** Normalizes each channel with batch statistics (training) or moving statistics (inference). */
export class BatchNormalization extends Layer {
  static className = 'BatchNormalization';
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly betaInitializer: Initializer;
  readonly gammaInitializer: Initializer;
  readonly movingMeanInitializer: Initializer;
  readonly movingVarianceInitializer: Initializer;
  gamma: Variable | null = null;
  beta: Variable | null = null;
  movingMean: Variable | null = null;
  movingVariance: Variable | null = null;
  /** Constant gamma / beta when scale / center is off. */
  private constants: Tensor[] = [];

  constructor(args: BatchNormalizationLayerArgs = {}) {
    super(args);
    this.axis = args.axis ?? -1;
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    check(typeof this.momentum === 'number' && this.momentum >= 0 && this.momentum <= 1, 'batchNormalization', 'momentum in [0, 1]', args.momentum);
    check(typeof this.epsilon === 'number' && this.epsilon > 0, 'batchNormalization', 'epsilon > 0', args.epsilon);
    this.betaInitializer = getInitializer(args.betaInitializer, 'zeros', 'batchNormalization');
    this.gammaInitializer = getInitializer(args.gammaInitializer, 'ones', 'batchNormalization');
    this.movingMeanInitializer = getInitializer(args.movingMeanInitializer, 'zeros', 'batchNormalization');
    this.movingVarianceInitializer = getInitializer(args.movingVarianceInitializer, 'ones', 'batchNormalization');
  }

  private checkAxis(s: Shape): void {
    if (this.axis !== -1 && this.axis !== s.length - 1)
      throw new InvalidArgumentError(`batchNormalization: expected axis -1 (channels last) but received ${this.axis} for input ${formatShape(s)} (layer '${this.name}')`);
    if (s.length < 2) throw new InvalidArgumentError(`batchNormalization: expected input of rank >= 2 but received shape ${formatShape(s)} (layer '${this.name}')`);
  }

  build(inputShape: Shape | Shape[]): void {
    const s = singleShape(inputShape, this.name);
    this.checkAxis(s);
    const c = lastDim(s, 'batchNormalization');
    if (this.scale) this.gamma = this.addWeight('gamma', [c], 'float32', this.gammaInitializer);
    else this.constants.push(outsideTrace(() => keep(ops.ones([c]))));
    if (this.center) this.beta = this.addWeight('beta', [c], 'float32', this.betaInitializer);
    else this.constants.push(outsideTrace(() => keep(ops.zeros([c]))));
    this.movingMean = this.addWeight('moving_mean', [c], 'float32', this.movingMeanInitializer, false);
    this.movingVariance = this.addWeight('moving_variance', [c], 'float32', this.movingVarianceInitializer, false);
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    this.checkAxis(s);
    return s;
  }

  private get gammaOrOne(): Tensor {
    return this.gamma ?? this.constants[0];
  }
  private get betaOrZero(): Tensor {
    return this.beta ?? this.constants[this.scale ? 0 : 1];
  }

  call(inputs: Tensor | Tensor[], kwargs: CallArgs): Tensor {
    const x = singleInput(inputs, this.name);
    if (kwargs.training && this.trainable) {
      const { y, mean, variance } = ops.batchNormTraining(x, this.gammaOrOne, this.betaOrZero, this.epsilon);
      movingAverageUpdate(this.movingMean!, mean, this.momentum);
      movingAverageUpdate(this.movingVariance!, variance, this.momentum);
      return y;
    }
    return ops.batchNorm(x, this.movingMean!, this.movingVariance!, this.betaOrZero, this.gammaOrOne, this.epsilon);
  }

  getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      betaInitializer: serializeInitializer(this.betaInitializer),
      gammaInitializer: serializeInitializer(this.gammaInitializer),
      movingMeanInitializer: serializeInitializer(this.movingMeanInitializer),
      movingVarianceInitializer: serializeInitializer(this.movingVarianceInitializer),
    };
  }

  dispose(): void {
    super.dispose();
    this.constants.forEach((t) => t.dispose());
    this.constants = [];
  }
}
