// Activation layers with their own options (tfjs-layers' advanced_activations): ReLU
// (maxValue), LeakyReLU, PReLU (a learned slope), ELU, ThresholdedReLU, Softmax (axis).
import { InvalidArgumentError, check } from '../errors.js';
import * as ops from '../ops/index.js';
import { Tensor, Variable } from '../tensor.js';
import { Layer, LayerArgs, Shape, formatShape, singleInput, singleShape } from './base.js';
import { InitializerIdentifier } from './core.js';
import { Initializer, getInitializer, serializeInitializer } from './initializers.js';

function finite(v: unknown, def: number, op: string, arg: string): number {
  const x = v ?? def;
  check(typeof x === 'number' && Number.isFinite(x), op, `${arg} as a finite number`, v);
  return x;
}

/** Arguments of ReLU / layers.reLU(). */
export interface ReLULayerArgs extends LayerArgs {
  /** Upper bound of the output (default: none). */
  maxValue?: number;
}

/** max(x, 0), optionally capped at maxValue. */
export class ReLU extends Layer {
  static className = 'ReLU';
  readonly maxValue?: number;
  constructor(args: ReLULayerArgs = {}) {
    super(args);
    if (args.maxValue !== undefined && args.maxValue !== null) this.maxValue = finite(args.maxValue, 0, 'reLU', 'maxValue');
  }
  computeOutputShape(s: Shape | Shape[]): Shape | Shape[] {
    return s;
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const y = ops.relu(singleInput(inputs, this.name));
    return this.maxValue === undefined ? y : ops.clipByValue(y, 0, this.maxValue);
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), maxValue: this.maxValue ?? null };
  }
}

/** Arguments of LeakyReLU / layers.leakyReLU(). */
export interface LeakyReLULayerArgs extends LayerArgs {
  /** Slope for x < 0 (default 0.3, as tfjs and Keras). */
  alpha?: number;
}

/** x for x > 0, alpha * x otherwise. */
export class LeakyReLU extends Layer {
  static className = 'LeakyReLU';
  readonly alpha: number;
  constructor(args: LeakyReLULayerArgs = {}) {
    super(args);
    this.alpha = finite(args.alpha, 0.3, 'leakyReLU', 'alpha');
  }
  computeOutputShape(s: Shape | Shape[]): Shape | Shape[] {
    return s;
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    return ops.leakyRelu(singleInput(inputs, this.name), this.alpha);
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), alpha: this.alpha };
  }
}

/** Arguments of PReLU / layers.prelu(). */
export interface PReLULayerArgs extends LayerArgs {
  /** Initializer of the learned slopes (default 'zeros'). */
  alphaInitializer?: InitializerIdentifier;
  /** Axes (1-based, the batch axis is 0) along which one slope is shared, e.g. [1, 2] for images. */
  sharedAxes?: number | number[];
}

/** x for x > 0, alpha * x otherwise, with a learned alpha per element (or per shared group). */
export class PReLU extends Layer {
  static className = 'PReLU';
  readonly alphaInitializer: Initializer;
  readonly sharedAxes: number[] | null;
  alpha: Variable | null = null;
  constructor(args: PReLULayerArgs = {}) {
    super(args);
    this.alphaInitializer = getInitializer(args.alphaInitializer, 'zeros', 'prelu');
    const s = args.sharedAxes;
    const axes = s === undefined || s === null ? null : typeof s === 'number' ? [s] : s;
    check(axes === null || (Array.isArray(axes) && axes.every((a) => Number.isInteger(a) && a >= 1)), 'prelu', 'sharedAxes as axes >= 1 (a number or an array)', s);
    this.sharedAxes = axes ? axes.slice() : null;
  }
  private paramShape(inputShape: Shape | Shape[]): number[] {
    const s = singleShape(inputShape, this.name);
    const p = s.slice(1);
    for (const a of this.sharedAxes ?? []) {
      if (a >= s.length) throw new InvalidArgumentError(`prelu: expected sharedAxes below the input rank ${s.length} but received [${this.sharedAxes}] (layer '${this.name}')`);
      p[a - 1] = 1;
    }
    if (p.some((d) => d === null))
      throw new InvalidArgumentError(`prelu: expected an input with known non-batch dimensions outside sharedAxes but received shape ${formatShape(s)} (layer '${this.name}')`);
    return p as number[];
  }
  build(inputShape: Shape | Shape[]): void {
    this.alpha = this.addWeight('alpha', this.paramShape(inputShape), 'float32', this.alphaInitializer);
  }
  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    this.paramShape(inputShape);
    return singleShape(inputShape, this.name);
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    return ops.prelu(singleInput(inputs, this.name), this.alpha!);
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), alphaInitializer: serializeInitializer(this.alphaInitializer), sharedAxes: this.sharedAxes };
  }
}

/** Arguments of ELU / layers.elu(). */
export interface ELULayerArgs extends LayerArgs {
  /** Scale of the negative part (default 1). */
  alpha?: number;
}

/** x for x > 0, alpha * (exp(x) - 1) otherwise. */
export class ELU extends Layer {
  static className = 'ELU';
  readonly alpha: number;
  constructor(args: ELULayerArgs = {}) {
    super(args);
    this.alpha = finite(args.alpha, 1, 'elu', 'alpha');
  }
  computeOutputShape(s: Shape | Shape[]): Shape | Shape[] {
    return s;
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = singleInput(inputs, this.name);
    if (this.alpha === 1) return ops.elu(x);
    // tfjs accepts only alpha 1; Keras' other alphas, composed: where(x > 0, x, alpha * elu(x)).
    const m = ops.greater(x, 0);
    const e = ops.elu(x);
    return ops.add(ops.mul(e, m), ops.mul(ops.mul(e, ops.sub(1, m)), this.alpha));
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), alpha: this.alpha };
  }
}

/** Arguments of ThresholdedReLU / layers.thresholdedReLU(). */
export interface ThresholdedReLULayerArgs extends LayerArgs {
  /** Threshold (default 1). */
  theta?: number;
}

/** x for x > theta, 0 otherwise. */
export class ThresholdedReLU extends Layer {
  static className = 'ThresholdedReLU';
  readonly theta: number;
  constructor(args: ThresholdedReLULayerArgs = {}) {
    super(args);
    this.theta = finite(args.theta, 1, 'thresholdedReLU', 'theta');
  }
  computeOutputShape(s: Shape | Shape[]): Shape | Shape[] {
    return s;
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = singleInput(inputs, this.name);
    return ops.mul(x, ops.greater(x, this.theta));
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), theta: this.theta };
  }
}

/** Arguments of Softmax / layers.softmax(). */
export interface SoftmaxLayerArgs extends LayerArgs {
  /**
   * Axis (or axes) to normalize over. Default 1, as tfjs-layers' code (its docs say -1;
   * Note [softmax layer axis]); pass -1 for the last axis of a rank > 2 input.
   */
  axis?: number | number[];
}

/** exp(x) / sum(exp(x)) over axis (or several axes). */
export class Softmax extends Layer {
  static className = 'Softmax';
  readonly axis: number | number[];
  constructor(args: SoftmaxLayerArgs = {}) {
    super(args);
    // Note [softmax layer axis]: tfjs-layers' Softmax sets DEFAULT_AXIS = 1.0, so a tfjs
    // program's softmax layer on [b, t, c] normalizes over t; we match it (Keras' default is -1,
    // and Keras configs always name their axis, so loaded models are unaffected).
    const a = args.axis ?? 1;
    check(Number.isInteger(a) || (Array.isArray(a) && a.length > 0 && a.every((v) => Number.isInteger(v))), 'softmax', 'axis as an integer or an array of integers', args.axis);
    this.axis = Array.isArray(a) ? a.slice() : a;
  }
  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    for (const a of Array.isArray(this.axis) ? this.axis : [this.axis])
      if (a >= s.length || a < -s.length) throw new InvalidArgumentError(`softmax: expected axis in [${-s.length}, ${s.length}) but received ${a} (layer '${this.name}')`);
    return s;
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = singleInput(inputs, this.name);
    this.computeOutputShape(x.shape);
    if (!Array.isArray(this.axis)) return ops.softmax(x, this.axis);
    if (this.axis.length === 1) return ops.softmax(x, this.axis[0]);
    // exp(x - logSumExp(x, axes)), with the max subtracted for stability (as tf.logSumExp).
    const axes = this.axis.map((a) => (a < 0 ? a + x.rank : a));
    const m = ops.max(x, axes, true);
    const z = ops.sub(x, m);
    return ops.exp(ops.sub(z, ops.log(ops.sum(ops.exp(z), axes, true))));
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }
}
