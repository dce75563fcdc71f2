// tfjs' chained tensor methods (t.reshape([2, 3]).mul(2).sum()), installed on Tensor.prototype
// from one table of ops, so a method is always its op and the two cannot drift apart.
//
// Note [method table]: OP_METHODS names the ops whose method is the op of the same name with
// the tensor as its first argument; the TypeScript type of each method is derived from the
// op's signature (first parameter dropped), so a renamed or removed op is a compile error
// here, not a missing method at run time. Methods whose tfjs meaning is not "the op of the
// same name" (asType, toFloat, flatten, concat, where, ...) are written out in
// CUSTOM_METHODS below, each with its own declaration.
import { tidy } from './engine.js';
import { check } from './errors.js';
import * as ops from './ops/index.js';
import { Tensor, Variable } from './tensor.js';
import type { DType, Rank } from './tensor.js';
import { TensorBuffer } from './buffer.js';

/** Ops that are also tensor methods with the same name and arguments (after the tensor). */
export const OP_METHODS = [
  // arithmetic and comparison (broadcasting)
  'add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow', 'squaredDifference', 'floorDiv', 'mod',
  'equal', 'notEqual', 'greater', 'greaterEqual', 'less', 'lessEqual',
  // unary math and activations
  'neg', 'abs', 'sign', 'floor', 'ceil', 'round', 'reciprocal', 'square', 'sqrt', 'rsqrt',
  'exp', 'log', 'log1p', 'sin', 'cos', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'tanh',
  'softplus', 'leakyRelu', 'prelu', 'softmax', 'logSoftmax', 'logSigmoid', 'step', 'isNaN', 'isInf',
  'isFinite',
  // reductions and scans
  'sum', 'mean', 'max', 'min', 'prod', 'argMax', 'argMin', 'all', 'any', 'logSumExp', 'norm', 'cumsum',
  // shape and data movement
  'reshape', 'expandDims', 'squeeze', 'transpose', 'slice', 'pad', 'tile', 'broadcastTo', 'split',
  'unstack', 'clipByValue', 'cast', 'oneHot', 'zerosLike', 'onesLike', 'gather', 'reverse', 'mirrorPad',
  'topk', 'unique',
  // linear algebra, convolution, pooling, normalization
  'matMul', 'dot', 'conv2d', 'depthwiseConv2d', 'separableConv2d', 'conv2dTranspose', 'maxPool',
  'avgPool', 'batchNorm', 'localResponseNormalization',
] as const;

/** A method name from OP_METHODS. */
export type OpMethodName = (typeof OP_METHODS)[number];

type DropFirst<F> = F extends (x: never, ...rest: infer A) => infer R ? (...args: A) => R : never;

/** The methods OP_METHODS installs: op(this, ...args). */
export type OpMethods = { [K in OpMethodName]: DropFirst<(typeof ops)[K]> };

/** tfjs tensor methods that are not simply the op of the same name. */
export interface CustomMethods {
  /** tfjs t.asType(dtype): cast(t, dtype). */
  asType(dtype: DType): Tensor;
  /** tfjs t.toFloat(): cast(t, 'float32'). */
  toFloat(): Tensor;
  /** tfjs t.toInt(): cast(t, 'int32'). */
  toInt(): Tensor;
  /** tfjs t.toBool(): cast(t, 'bool'). */
  toBool(): Tensor;
  /** tfjs t.asScalar(): a rank-0 view of a one-element tensor. */
  asScalar(): Tensor;
  /** tfjs t.as1D(): reshape to [size]. */
  as1D(): Tensor;
  /** tfjs t.as2D(rows, columns). */
  as2D(rows: number, columns: number): Tensor;
  /** tfjs t.as3D(rows, columns, depth). */
  as3D(rows: number, columns: number, depth: number): Tensor;
  /** tfjs t.as4D(rows, columns, depth, depth2). */
  as4D(rows: number, columns: number, depth: number, depth2: number): Tensor;
  /** tfjs t.as5D(rows, columns, depth, depth2, depth3). */
  as5D(rows: number, columns: number, depth: number, depth2: number, depth3: number): Tensor;
  /** tfjs t.reshapeAs(x): reshape to x's shape. */
  reshapeAs(x: Tensor): Tensor;
  /**
   * tfjs t.flatten(): a rank-1 tensor of all the values. (The op flatten(x) keeps the first
   * axis, as the Flatten layer does; the method follows tfjs.)
   */
  flatten(): Tensor;
  /** tfjs t.concat(x, axis = 0): concat([t, ...x], axis) for a tensor or an array of them. */
  concat(x: ops.TensorLike | ops.TensorLike[], axis?: number): Tensor;
  /** tfjs t.stack(x, axis = 0): stack([t, ...x], axis) for a tensor or an array of them. */
  stack(x: Tensor | Tensor[], axis?: number): Tensor;
  /** tfjs t.where(condition, x): where(condition, t, x). */
  where(condition: ops.TensorLike, x: ops.TensorLike): Tensor;
  /** tfjs t.resizeBilinear(size, alignCorners, halfPixelCenters): image.resizeBilinear(t, ...). */
  resizeBilinear(size: [number, number], alignCorners?: boolean, halfPixelCenters?: boolean): Tensor;
  /** tfjs t.clone(): a copy with its own buffer. */
  clone(): Tensor;
  /** tfjs t.variable(trainable = true, name?, dtype?): a Variable initialized with a copy of t. */
  variable(trainable?: boolean, name?: string, dtype?: DType): Variable;
  /** tfjs t.bufferSync(): the values in a mutable TensorBuffer (a copy). */
  bufferSync(): TensorBuffer;
  /** tfjs t.buffer(): bufferSync() without blocking the event loop. */
  buffer(): Promise<TensorBuffer>;
}

declare module './tensor.js' {
  // Note [method table]: the methods are declared by merging with the class.
  // eslint-disable-next-line @typescript-eslint/no-empty-interface
  interface Tensor<R extends Rank = Rank> extends OpMethods, CustomMethods {}
}

const asShape = (t: Tensor, shape: number[]) => ops.reshape(t, shape);
const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

/** The implementations of CustomMethods (this is the tensor). */
const CUSTOM_METHODS: { [K in keyof CustomMethods]: (this: Tensor, ...args: Parameters<CustomMethods[K]>) => ReturnType<CustomMethods[K]> } = {
  asType(dtype) {
    return ops.cast(this, dtype);
  },
  toFloat() {
    return ops.cast(this, 'float32');
  },
  toInt() {
    return ops.cast(this, 'int32');
  },
  toBool() {
    return ops.cast(this, 'bool');
  },
  asScalar() {
    check(this.size === 1, 'asScalar', 'a tensor of one element', this.shape);
    return asShape(this, []);
  },
  as1D() {
    return asShape(this, [this.size]);
  },
  as2D(rows, columns) {
    return asShape(this, [rows, columns]);
  },
  as3D(rows, columns, depth) {
    return asShape(this, [rows, columns, depth]);
  },
  as4D(rows, columns, depth, depth2) {
    return asShape(this, [rows, columns, depth, depth2]);
  },
  as5D(rows, columns, depth, depth2, depth3) {
    return asShape(this, [rows, columns, depth, depth2, depth3]);
  },
  reshapeAs(x) {
    check(x instanceof Tensor, 'reshapeAs', 'x to be a Tensor', x);
    return asShape(this, x.shape);
  },
  flatten() {
    return asShape(this, [this.size]);
  },
  concat(x, axis = 0) {
    // An array of plain numbers is one tensor's values, not a list of tensors.
    const others = Array.isArray(x) && x.some((v) => v instanceof Tensor || Array.isArray(v)) ? (x as ops.TensorLike[]) : [x as ops.TensorLike];
    return ops.concat([this, ...others], axis);
  },
  stack(x, axis = 0) {
    return ops.stack([this, ...list(x)], axis);
  },
  where(condition, x) {
    return ops.where(condition, this, x);
  },
  resizeBilinear(size, alignCorners, halfPixelCenters) {
    return ops.image.resizeBilinear(this, size, alignCorners, halfPixelCenters);
  },
  clone() {
    return ops.clone(this);
  },
  variable(trainable = true, name, dtype) {
    return tidy(() => ops.variable(this, trainable, name, dtype));
  },
  bufferSync() {
    return new TensorBuffer(this.shape, this.dtype, this.dataSync().slice());
  },
  async buffer() {
    return new TensorBuffer(this.shape, this.dtype, (await this.data()).slice());
  },
};

function install(): void {
  const proto = Tensor.prototype as unknown as Record<string, unknown>;
  const table = ops as unknown as Record<string, (x: Tensor, ...args: unknown[]) => unknown>;
  for (const name of OP_METHODS) {
    const op = table[name];
    if (typeof op !== 'function') throw new Error(`tensor methods: op '${name}' is missing`);
    Object.defineProperty(proto, name, {
      value: function (this: Tensor, ...args: unknown[]) {
        return op(this, ...args);
      },
      writable: true,
      configurable: true,
    });
  }
  for (const [name, fn] of Object.entries(CUSTOM_METHODS))
    Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true });
}

install();
