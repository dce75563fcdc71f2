// Convolution layers (NHWC, kernels HWIO): Conv2D, DepthwiseConv2D, SeparableConv2D.
import { InvalidArgumentError, check } from '../errors.js';
import { MAX_ELEMENTS, checkBoolean } from '../validate.js';
import * as ops from '../ops/index.js';
import { Tensor, Variable } from '../tensor.js';
import { ActivationIdentifier, activationName } from './activations.js';
import { CallArgs, Layer, LayerArgs, Shape, formatShape, singleInput, singleShape } from './base.js';
import { InitializerIdentifier, applyActivation, checkInputRank, lastDim, splitActivation } from './core.js';
import { Initializer, getInitializer, serializeInitializer } from './initializers.js';

export type Padding = 'valid' | 'same';

/** A positive integer or a pair of them, as a pair. */
export function normPair(v: number | number[] | undefined, def: number, arg: string, op: string): [number, number] {
  const p = v === undefined ? [def, def] : typeof v === 'number' ? [v, v] : v;
  check(Array.isArray(p) && p.length === 2 && p.every((x) => Number.isInteger(x) && x >= 1 && x <= MAX_ELEMENTS), op, `${arg} as a positive integer or a pair of them`, v);
  return [p[0], p[1]];
}

export function normPadding(p: string | undefined, op: string): Padding {
  const v = p ?? 'valid';
  check(v === 'valid' || v === 'same', op, "padding 'valid' or 'same'", p);
  return v;
}

function checkDataFormat(f: string | undefined, op: string): void {
  if (f !== undefined && f !== 'channelsLast' && f !== 'channels_last')
    throw new InvalidArgumentError(`${op}: expected dataFormat 'channelsLast' (NHWC) but received '${f}'`);
}

/** Output size of one spatial dimension (TensorFlow's rule). */
export function convOutSize(n: number | null, k: number, stride: number, dilation: number, padding: Padding): number | null {
  if (n === null) return null;
  const ek = (k - 1) * dilation + 1;
  return padding === 'same' ? Math.ceil(n / stride) : Math.floor((n - ek) / stride) + 1;
}

function outSpatial(s: Shape, kernel: [number, number], strides: [number, number], dil: [number, number], padding: Padding, layer: string, op: string): [number | null, number | null] {
  const h = convOutSize(s[1], kernel[0], strides[0], dil[0], padding);
  const w = convOutSize(s[2], kernel[1], strides[1], dil[1], padding);
  if ((h !== null && h <= 0) || (w !== null && w <= 0))
    throw new InvalidArgumentError(`${op}: expected an input at least as large as the kernel [${kernel}] but received shape ${formatShape(s)} (layer '${layer}')`);
  return [h, w];
}

interface BaseConvArgs extends LayerArgs {
  /** Kernel height and width: n or [kh, kw]. */
  kernelSize: number | number[];
  /** n or [sh, sw]; default 1. Must be 1 when dilationRate > 1. */
  strides?: number | number[];
  /** 'valid' (default) or 'same' (TensorFlow's rule). */
  padding?: Padding;
  /** Only 'channelsLast' (NHWC) is supported. */
  dataFormat?: 'channelsLast';
  /** n or [dh, dw]; default 1. */
  dilationRate?: number | number[];
  /** Default 'linear' (none). */
  activation?: ActivationIdentifier | string;
  /** Default true. */
  useBias?: boolean;
  /** Default 'zeros'. */
  biasInitializer?: InitializerIdentifier;
}

/** Arguments of Conv2D / layers.conv2d() (tfjs layers.conv2d); input NHWC. */
export interface Conv2DLayerArgs extends BaseConvArgs {
  /** Output channels (a positive integer). */
  filters: number;
  /** Default 'glorotUniform'. */
  kernelInitializer?: InitializerIdentifier;
}

abstract class BaseConv extends Layer {
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  readonly dilationRate: [number, number];
  readonly activation: string;
  readonly useBias: boolean;
  readonly biasInitializer: Initializer;
  bias: Variable | null = null;
  protected abstract readonly op: string;

  constructor(args: BaseConvArgs, op: string) {
    super(args);
    check(args && args.kernelSize !== undefined, op, 'kernelSize', args?.kernelSize);
    checkDataFormat(args.dataFormat, op);
    this.kernelSize = normPair(args.kernelSize, 1, 'kernelSize', op);
    this.strides = normPair(args.strides, 1, 'strides', op);
    this.padding = normPadding(args.padding, op);
    this.dilationRate = normPair(args.dilationRate, 1, 'dilationRate', op);
    if ((this.strides[0] > 1 || this.strides[1] > 1) && (this.dilationRate[0] > 1 || this.dilationRate[1] > 1))
      throw new InvalidArgumentError(`${op}: expected strides of 1 when dilationRate > 1 but received strides [${this.strides}] and dilationRate [${this.dilationRate}]`);
    this.activation = activationName(args.activation, op);
    this.useBias = checkBoolean(args.useBias, op, 'useBias', true);
    this.biasInitializer = getInitializer(args.biasInitializer, 'zeros', op);
  }

  skippableActivation(): string {
    return this.activation;
  }

  protected inputShape4(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    checkInputRank(s, 4, this.name, this.op, 'NHWC');
    lastDim(s, this.op);
    return s;
  }

  getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dataFormat: 'channelsLast',
      dilationRate: this.dilationRate,
      activation: this.activation,
      useBias: this.useBias,
      biasInitializer: serializeInitializer(this.biasInitializer),
    };
  }
}

/** 2-D convolution: activation(conv2d(x, kernel) + bias), kernel [kh, kw, in, filters]. */
export class Conv2D extends BaseConv {
  static className = 'Conv2D';
  protected readonly op = 'conv2d';
  readonly filters: number;
  readonly kernelInitializer: Initializer;
  kernel: Variable | null = null;

  constructor(args: Conv2DLayerArgs) {
    super(args, 'conv2d');
    check(Number.isInteger(args.filters) && args.filters > 0, 'conv2d', 'filters as a positive integer', args.filters);
    check(args.filters <= MAX_ELEMENTS, 'conv2d', `filters of at most ${MAX_ELEMENTS}`, args.filters);
    this.filters = args.filters;
    this.kernelInitializer = getInitializer(args.kernelInitializer, 'glorotUniform', 'conv2d');
  }

  build(inputShape: Shape | Shape[]): void {
    const s = this.inputShape4(inputShape);
    const inC = s[3] as number;
    this.kernel = this.addWeight('kernel', [...this.kernelSize, inC, this.filters], 'float32', this.kernelInitializer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', this.biasInitializer);
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = this.inputShape4(inputShape);
    if (this.kernel && this.kernel.shape[2] !== s[3])
      throw new InvalidArgumentError(`conv2d: expected input with ${this.kernel.shape[2]} channels but received shape ${formatShape(s)} (layer '${this.name}')`);
    return [s[0], ...outSpatial(s, this.kernelSize, this.strides, this.dilationRate, this.padding, this.name, 'conv2d'), this.filters];
  }

  call(inputs: Tensor | Tensor[], kwargs: CallArgs): Tensor {
    const x = singleInput(inputs, this.name);
    const { fused, after } = splitActivation(this.activation, kwargs);
    const y = ops.fused.conv2d({
      x,
      filter: this.computeValue(this.kernel!),
      bias: this.bias ?? undefined,
      activation: fused as never,
      strides: this.strides,
      pad: this.padding,
      dilations: this.dilationRate,
    });
    return applyActivation(y, after, {});
  }

  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), filters: this.filters, kernelInitializer: serializeInitializer(this.kernelInitializer) };
  }
}

/** Arguments of DepthwiseConv2D / layers.depthwiseConv2d() (tfjs layers.depthwiseConv2d). */
export interface DepthwiseConv2DLayerArgs extends BaseConvArgs {
  /** Output channels per input channel; default 1. */
  depthMultiplier?: number;
  /** Default 'glorotUniform'. */
  depthwiseInitializer?: InitializerIdentifier;
}

/** Per-channel convolution: kernel [kh, kw, in, depthMultiplier], output in*depthMultiplier channels. */
export class DepthwiseConv2D extends BaseConv {
  static className = 'DepthwiseConv2D';
  protected readonly op = 'depthwiseConv2d';
  readonly depthMultiplier: number;
  readonly depthwiseInitializer: Initializer;
  depthwiseKernel: Variable | null = null;

  constructor(args: DepthwiseConv2DLayerArgs) {
    super(args, 'depthwiseConv2d');
    this.depthMultiplier = args.depthMultiplier ?? 1;
    check(Number.isInteger(this.depthMultiplier) && this.depthMultiplier > 0 && this.depthMultiplier <= MAX_ELEMENTS, 'depthwiseConv2d', 'depthMultiplier as a positive integer', args.depthMultiplier);
    this.depthwiseInitializer = getInitializer(args.depthwiseInitializer, 'glorotUniform', 'depthwiseConv2d');
  }

  build(inputShape: Shape | Shape[]): void {
    const s = this.inputShape4(inputShape);
    this.depthwiseKernel = this.addWeight('depthwise_kernel', [...this.kernelSize, s[3] as number, this.depthMultiplier], 'float32', this.depthwiseInitializer);
    if (this.useBias) this.bias = this.addWeight('bias', [(s[3] as number) * this.depthMultiplier], 'float32', this.biasInitializer);
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = this.inputShape4(inputShape);
    return [s[0], ...outSpatial(s, this.kernelSize, this.strides, this.dilationRate, this.padding, this.name, 'depthwiseConv2d'), (s[3] as number) * this.depthMultiplier];
  }

  call(inputs: Tensor | Tensor[], kwargs: CallArgs): Tensor {
    const x = singleInput(inputs, this.name);
    let y = ops.depthwiseConv2d(x, this.computeValue(this.depthwiseKernel!), this.strides, this.padding, 'NHWC', this.dilationRate);
    if (this.bias) y = ops.add(y, this.bias);
    return applyActivation(y, this.activation, kwargs);
  }

  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), depthMultiplier: this.depthMultiplier, depthwiseInitializer: serializeInitializer(this.depthwiseInitializer) };
  }
}

/** Arguments of SeparableConv2D / layers.separableConv2d() (tfjs layers.separableConv2d). */
export interface SeparableConv2DLayerArgs extends BaseConvArgs {
  /** Output channels of the 1x1 convolution (a positive integer). */
  filters: number;
  /** Depthwise output channels per input channel; default 1. */
  depthMultiplier?: number;
  /** Default 'glorotUniform'. */
  depthwiseInitializer?: InitializerIdentifier;
  /** Default 'glorotUniform'. */
  pointwiseInitializer?: InitializerIdentifier;
}

/** Depthwise convolution followed by a 1x1 convolution to `filters` channels. */
export class SeparableConv2D extends BaseConv {
  static className = 'SeparableConv2D';
  protected readonly op = 'separableConv2d';
  readonly filters: number;
  readonly depthMultiplier: number;
  readonly depthwiseInitializer: Initializer;
  readonly pointwiseInitializer: Initializer;
  depthwiseKernel: Variable | null = null;
  pointwiseKernel: Variable | null = null;

  constructor(args: SeparableConv2DLayerArgs) {
    super(args, 'separableConv2d');
    check(Number.isInteger(args.filters) && args.filters > 0, 'separableConv2d', 'filters as a positive integer', args.filters);
    check(args.filters <= MAX_ELEMENTS, 'separableConv2d', `filters of at most ${MAX_ELEMENTS}`, args.filters);
    this.filters = args.filters;
    this.depthMultiplier = args.depthMultiplier ?? 1;
    check(Number.isInteger(this.depthMultiplier) && this.depthMultiplier > 0 && this.depthMultiplier <= MAX_ELEMENTS, 'separableConv2d', 'depthMultiplier as a positive integer', args.depthMultiplier);
    this.depthwiseInitializer = getInitializer(args.depthwiseInitializer, 'glorotUniform', 'separableConv2d');
    this.pointwiseInitializer = getInitializer(args.pointwiseInitializer, 'glorotUniform', 'separableConv2d');
  }

  build(inputShape: Shape | Shape[]): void {
    const s = this.inputShape4(inputShape);
    const c = s[3] as number;
    this.depthwiseKernel = this.addWeight('depthwise_kernel', [...this.kernelSize, c, this.depthMultiplier], 'float32', this.depthwiseInitializer);
    this.pointwiseKernel = this.addWeight('pointwise_kernel', [1, 1, c * this.depthMultiplier, this.filters], 'float32', this.pointwiseInitializer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', this.biasInitializer);
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = this.inputShape4(inputShape);
    return [s[0], ...outSpatial(s, this.kernelSize, this.strides, this.dilationRate, this.padding, this.name, 'separableConv2d'), this.filters];
  }

  call(inputs: Tensor | Tensor[], kwargs: CallArgs): Tensor {
    const x = singleInput(inputs, this.name);
    const d = ops.depthwiseConv2d(x, this.computeValue(this.depthwiseKernel!), this.strides, this.padding, 'NHWC', this.dilationRate);
    const { fused, after } = splitActivation(this.activation, kwargs);
    const y = ops.fused.conv2d({ x: d, filter: this.computeValue(this.pointwiseKernel!), bias: this.bias ?? undefined, activation: fused as never, strides: 1, pad: 'valid' });
    return applyActivation(y, after, {});
  }

  getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      depthMultiplier: this.depthMultiplier,
      depthwiseInitializer: serializeInitializer(this.depthwiseInitializer),
      pointwiseInitializer: serializeInitializer(this.pointwiseInitializer),
    };
  }
}
