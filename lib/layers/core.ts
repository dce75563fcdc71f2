// Core layers: InputLayer / input(), Dense, Dropout, Flatten, Activation, Reshape.
import { check, InvalidArgumentError } from '../errors.js';
import { MAX_ELEMENTS, checkBoolean, checkLayerShape } from '../validate.js';
import * as ops from '../ops/index.js';
import { DType, Tensor, Variable } from '../tensor.js';
import { ActivationIdentifier, FUSABLE, activationName, getActivation } from './activations.js';
import { CallArgs, Layer, LayerArgs, Node, Shape, SymbolicTensor, formatShape, singleInput, singleShape, uniqueName } from './base.js';
import { Initializer, getInitializer, serializeInitializer, nextSeed } from './initializers.js';

export type InitializerIdentifier = string | Initializer | { className: string; config?: Record<string, unknown> };

// ---- Input

/** Arguments of InputLayer / layers.inputLayer(): give inputShape or batchInputShape. */
export interface InputLayerArgs {
  inputShape?: Shape;
  batchInputShape?: Shape;
  batchSize?: number;
  dtype?: DType;
  name?: string;
  sparse?: boolean;
}

/** The source of a functional graph: produces one SymbolicTensor of a fixed shape. */
export class InputLayer extends Layer {
  static className = 'InputLayer';
  constructor(args: InputLayerArgs) {
    // An input is float32 unless given a dtype, whatever the global policy (Keras' Input).
    super({ ...args, dtype: args.dtype ?? 'float32', name: args.name ?? uniqueName('input_layer') });
    this.autocast = false;
    if (!this.batchInputShape)
      throw new InvalidArgumentError(`input: expected shape or batchShape but received ${JSON.stringify(args)}`);
    this.built = true;
    const out = new SymbolicTensor(this.dtype, this.batchInputShape.slice(), this, 0, 0, this.name);
    this.inboundNodes.push(new Node(this, [], [out], {}, true));
  }
  /** The SymbolicTensor this input layer produces. */
  get output(): SymbolicTensor {
    return this.inboundNodes[0].outputTensors[0];
  }
  call(inputs: Tensor | Tensor[]): Tensor | Tensor[] {
    return inputs;
  }
  computeOutputShape(s: Shape | Shape[]): Shape | Shape[] {
    return s;
  }
  getConfig(): Record<string, unknown> {
    return { name: this.name, dtype: this.dtype, batchInputShape: this.batchInputShape, sparse: false };
  }
}

/** Arguments of input() (tfjs tf.input): shape (without the batch dimension) or batchShape. */
export interface InputConfig {
  /** Shape without the batch dimension. */
  shape?: Shape;
  /** Shape with the batch dimension. */
  batchShape?: Shape;
  batchSize?: number;
  name?: string;
  dtype?: DType;
}

/** A symbolic input of a functional model: input({shape: [28, 28, 1]}). */
export function input(config: InputConfig): SymbolicTensor {
  check(config && (config.shape || config.batchShape), 'input', '{shape} or {batchShape}', config);
  if (!config.batchShape) checkLayerShape(config.shape, 'input', 'shape');
  const layer = new InputLayer({
    batchInputShape: config.batchShape ?? [config.batchSize ?? null, ...config.shape!],
    name: config.name,
    dtype: config.dtype,
  });
  return layer.output;
}

// ---- shared helpers

/** The last dimension, which must be known. */
export function lastDim(s: Shape, layer: string): number {
  const d = s[s.length - 1];
  if (d === null || d === undefined)
    throw new InvalidArgumentError(`${layer}: expected an input with a known last dimension but received shape ${formatShape(s)}`);
  return d;
}

export function checkInputRank(s: Shape, rank: number, layer: string, op: string, layout = ''): void {
  if (s.length !== rank)
    throw new InvalidArgumentError(`${op}: expected input of rank ${rank}${layout ? ` (${layout})` : ''} but received shape [${s.map((d) => (d === null ? 'null' : d)).join(',')}] (layer '${layer}')`);
}

/** Applies a named activation, fusing nothing (for layers whose kernel cannot). */
export function applyActivation(x: Tensor, name: string, kwargs: CallArgs): Tensor {
  if (kwargs.skipActivation || name === 'linear') return x;
  return getActivation(name)(x);
}

/** The activation to fuse into a kernel, or 'linear' with the rest applied afterwards. */
export function splitActivation(name: string, kwargs: CallArgs): { fused: string; after: string } {
  if (kwargs.skipActivation) return { fused: 'linear', after: 'linear' };
  return FUSABLE.has(name) ? { fused: name, after: 'linear' } : { fused: 'linear', after: name };
}

// ---- Dense

/** Arguments of Dense / layers.dense() (tfjs layers.dense). */
export interface DenseLayerArgs extends LayerArgs {
  /** Output size (a positive integer). */
  units: number;
  /** Default 'linear' (none). */
  activation?: ActivationIdentifier | string;
  /** Default true. */
  useBias?: boolean;
  /** Default 'glorotUniform'. */
  kernelInitializer?: InitializerIdentifier;
  /** Default 'zeros'. */
  biasInitializer?: InitializerIdentifier;
}

/** Fully connected layer on the last axis: activation(x @ kernel + bias). */
export class Dense extends Layer {
  static className = 'Dense';
  readonly units: number;
  readonly activation: string;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  kernel: Variable | null = null;
  bias: Variable | null = null;

  constructor(args: DenseLayerArgs) {
    super(args);
    check(args && Number.isInteger(args.units) && args.units > 0, 'dense', 'units as a positive integer', args?.units);
    check(args.units <= MAX_ELEMENTS, 'dense', `units of at most ${MAX_ELEMENTS}`, args?.units);
    checkBoolean(args.useBias, 'dense', 'useBias', true);
    this.units = args.units;
    this.activation = activationName(args.activation, 'dense');
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = getInitializer(args.kernelInitializer, 'glorotUniform', 'dense');
    this.biasInitializer = getInitializer(args.biasInitializer, 'zeros', 'dense');
  }

  build(inputShape: Shape | Shape[]): void {
    const s = singleShape(inputShape, this.name);
    check(s.length >= 2, 'dense', `input of rank >= 2 (layer '${this.name}')`, s);
    const inDim = lastDim(s, 'dense');
    this.kernel = this.addWeight('kernel', [inDim, this.units], 'float32', this.kernelInitializer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], 'float32', this.biasInitializer);
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    check(s.length >= 2, 'dense', `input of rank >= 2 (layer '${this.name}')`, s);
    const inDim = lastDim(s, 'dense');
    if (this.kernel && this.kernel.shape[0] !== inDim)
      throw new InvalidArgumentError(`dense: expected input with last dimension ${this.kernel.shape[0]} but received shape ${formatShape(s)} (layer '${this.name}')`);
    return [...s.slice(0, -1), this.units];
  }

  call(inputs: Tensor | Tensor[], kwargs: CallArgs): Tensor {
    const x = singleInput(inputs, this.name);
    const { fused, after } = splitActivation(this.activation, kwargs);
    const flat = x.rank > 2 ? ops.reshape(x, [-1, x.shape[x.rank - 1]]) : x;
    let y = ops.fused.matMul({ a: flat, b: this.computeValue(this.kernel!), bias: this.bias ?? undefined, activation: fused as never });
    if (x.rank > 2) y = ops.reshape(y, [...x.shape.slice(0, -1), this.units]);
    return applyActivation(y, after, {});
  }
  skippableActivation(): string {
    return this.activation;
  }

  getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: this.activation,
      useBias: this.useBias,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
    };
  }
}

// ---- Dropout

/** Arguments of Dropout / layers.dropout() (tfjs layers.dropout). */
export interface DropoutLayerArgs extends LayerArgs {
  /** Fraction of inputs to drop, in [0, 1). */
  rate: number;
  /** Shape of the mask, broadcast over the input; null entries take the input's size. */
  noiseShape?: Shape;
  /** Seed of the masks (default: drawn from the global seed). */
  seed?: number;
}

/** Zeroes a fraction `rate` of inputs in training and scales the rest by 1 / (1 - rate). */
export class Dropout extends Layer {
  static className = 'Dropout';
  readonly rate: number;
  readonly noiseShape?: Shape;
  readonly seed?: number;
  private readonly baseSeed: number;
  private calls = 0;

  constructor(args: DropoutLayerArgs) {
    super(args);
    check(args && typeof args.rate === 'number' && args.rate >= 0 && args.rate < 1, 'dropout', 'rate in [0, 1)', args?.rate);
    this.rate = args.rate;
    this.noiseShape = args.noiseShape;
    this.seed = args.seed;
    this.baseSeed = args.seed ?? nextSeed();
  }

  computeOutputShape(s: Shape | Shape[]): Shape | Shape[] {
    return s;
  }

  call(inputs: Tensor | Tensor[], kwargs: CallArgs): Tensor {
    const x = singleInput(inputs, this.name);
    if (!kwargs.training || this.rate === 0) return x;
    // Note [dropout seeds]: each call (each traced plan, each eager call) gets its own seed;
    // inside a plan the kernel mixes in the run index, so every step draws a new mask.
    const seed = (this.baseSeed + 7919 * this.calls++) >>> 0;
    const noiseShape = this.noiseShape?.map((d, i) => d ?? x.shape[i]) as number[] | undefined;
    return ops.dropout(x, this.rate, noiseShape, seed);
  }

  getConfig(): Record<string, unknown> {
    const c: Record<string, unknown> = { ...super.getConfig(), rate: this.rate };
    if (this.noiseShape) c.noiseShape = this.noiseShape;
    if (this.seed !== undefined) c.seed = this.seed;
    return c;
  }
}

// ---- Flatten

/** Flattens every dimension but the batch: [b, h, w, c] -> [b, h*w*c]. */
export class Flatten extends Layer {
  static className = 'Flatten';
  constructor(args: LayerArgs = {}) {
    super(args);
  }
  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    check(s.length >= 1, 'flatten', `input of rank >= 1 (layer '${this.name}')`, s);
    const rest = s.slice(1);
    if (rest.some((d) => d === null))
      throw new InvalidArgumentError(`flatten: expected an input with known non-batch dimensions but received shape ${formatShape(s)} (layer '${this.name}')`);
    return [s[0], (rest as number[]).reduce((a, b) => a * b, 1)];
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = singleInput(inputs, this.name);
    return ops.reshape(x, [x.shape[0], x.shape.slice(1).reduce((a, b) => a * b, 1)]);
  }
}

// ---- Activation

/** Arguments of Activation / layers.activation(). */
export interface ActivationLayerArgs extends LayerArgs {
  /** Activation name, e.g. 'relu' ('hard_sigmoid' spellings are accepted). */
  activation: ActivationIdentifier | string;
}

/** Applies an activation function. */
export class Activation extends Layer {
  static className = 'Activation';
  readonly activation: string;
  constructor(args: ActivationLayerArgs) {
    super(args);
    this.activation = activationName(args?.activation, 'activation');
  }
  computeOutputShape(s: Shape | Shape[]): Shape | Shape[] {
    return s;
  }
  call(inputs: Tensor | Tensor[], kwargs: CallArgs): Tensor {
    return applyActivation(singleInput(inputs, this.name), this.activation, kwargs);
  }
  skippableActivation(): string {
    return this.activation;
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), activation: this.activation };
  }
}

// ---- Reshape

/** Arguments of Reshape / layers.reshape(). */
export interface ReshapeLayerArgs extends LayerArgs {
  /** Target shape without the batch dimension; one entry may be -1 (or null, as tfjs writes it). */
  targetShape: Array<number | null>;
}

/** Reshapes every sample to targetShape. */
export class Reshape extends Layer {
  static className = 'Reshape';
  readonly targetShape: number[];
  constructor(args: ReshapeLayerArgs) {
    super(args);
    check(args && Array.isArray(args.targetShape), 'reshape', 'targetShape as an array', args?.targetShape);
    // tfjs' getConfig() writes the unknown dimension as null: read it as -1.
    const t = (args.targetShape as Array<number | null>).map((d) => (d === null ? -1 : d));
    check(t.filter((d) => d === -1).length <= 1, 'reshape', 'at most one -1 in targetShape', args.targetShape);
    t.forEach((d) => check(d === -1 || (Number.isInteger(d) && d >= 0), 'reshape', 'targetShape of non-negative integers or -1', args.targetShape));
    this.targetShape = t;
  }
  private resolve(s: Shape): number[] {
    const rest = s.slice(1);
    if (rest.some((d) => d === null)) return this.targetShape;
    const size = (rest as number[]).reduce((a, b) => a * b, 1);
    const known = this.targetShape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const t = this.targetShape.map((d) => (d === -1 ? size / known : d));
    if (t.reduce((a, b) => a * b, 1) !== size || t.some((d) => !Number.isInteger(d)))
      throw new InvalidArgumentError(`reshape: expected a targetShape with ${size} elements per sample but received [${this.targetShape}] for input ${formatShape(s)} (layer '${this.name}')`);
    return t;
  }
  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    if (s.slice(1).some((d) => d === null)) return [s[0], ...this.targetShape.map((d) => (d === -1 ? null : d))];
    return [s[0], ...this.resolve(s)];
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = singleInput(inputs, this.name);
    return ops.reshape(x, [x.shape[0], ...this.resolve(x.shape)]);
  }
  getConfig(): Record<string, unknown> {
    // As tfjs' getConfig(): the unknown dimension is written as null.
    return { ...super.getConfig(), targetShape: this.targetShape.map((d) => (d === -1 ? null : d)) };
  }
}
