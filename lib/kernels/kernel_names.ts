// The kernel contract, declared once (as tfjs-core's kernel_names.ts): every native kernel's
// name, its inputs (in order; `?` marks an optional trailing input, `...` a variadic list)
// and its attributes with their types (`?` marks an optional one). ENGINE.runKernel is typed
// by this table, so a misspelled kernel or attribute, an attribute of the wrong type or a
// missing required attribute is a compile error; native/ops/kernel_schema.cc declares the
// same attributes for the native check at dispatch, and test/kernel-contract.test.ts keeps
// the two equal.
//
// Note [one kernel name]: the name here is the kernel's only name: the native registry
// (CN_REGISTER_KERNEL), the native error messages, the profiler and the plan description
// all use it. docs/architecture.md ("Kernels: one name per layer") has the naming chain.
import type { Tensor } from '../tensor.js';

/** An attribute's declared type; a trailing `?` makes it optional. */
export type AttrKind = 'number' | 'boolean' | 'string' | 'number[]';
/** A string attribute limited to the listed values. */
export interface OneOf<S extends string = string> {
  readonly oneOf: readonly S[];
  readonly optional?: boolean;
}
export type AttrDecl = AttrKind | `${AttrKind}?` | OneOf;

export interface KernelDecl {
  readonly inputs: readonly string[];
  readonly attrs: { readonly [name: string]: AttrDecl };
}

const oneOf = <S extends string>(...values: S[]): OneOf<S> => ({ oneOf: values });
const optionalOneOf = <S extends string>(...values: S[]): OneOf<S> & { optional: true } => ({ oneOf: values, optional: true });

const NONE = {} as const;
const unary = { inputs: ['x'], attrs: NONE } as const;
const unaryGrad = { inputs: ['dy', 'ref'], attrs: NONE } as const;
const binary = { inputs: ['a', 'b'], attrs: NONE } as const;
const reduce = { inputs: ['x'], attrs: { axes: 'number[]', 'keepDims': 'boolean?' } } as const;
const PAD = optionalOneOf('same', 'valid', 'explicit');
const convWindow = { strides: 'number[]?', dilations: 'number[]?', pad: PAD, pads: 'number[]?' } as const;
const pool = { poolSize: 'number[]', strides: 'number[]?', pad: optionalOneOf('same', 'valid') } as const;
const DTYPE = oneOf('float32', 'int32', 'bool', 'bfloat16', 'float16');

/** Every native kernel. Keep in step with native/ops/kernel_schema.cc (the contract test checks). */
export const KERNELS = {
  // elementwise_kernels.cc
  Relu: unary,
  Sigmoid: unary,
  Tanh: unary,
  Exp: unary,
  Log: unary,
  Neg: unary,
  Sqrt: unary,
  Rsqrt: unary,
  Square: unary,
  Abs: unary,
  Reciprocal: unary,
  Sign: unary,
  Floor: unary,
  Ceil: unary,
  Round: unary,
  Log1p: unary,
  Softplus: unary,
  Elu: { inputs: ['x'], attrs: { alpha: 'number?' } },
  Selu: unary,
  Relu6: unary,
  Step: unary,
  Sin: unary,
  Cos: unary,
  ReluGrad: unaryGrad,
  SigmoidGrad: unaryGrad,
  TanhGrad: unaryGrad,
  EluGrad: { inputs: ['dy', 'y'], attrs: { alpha: 'number?' } },
  SeluGrad: unaryGrad,
  Relu6Grad: unaryGrad,
  AddRelu: { inputs: ['a', 'b'], attrs: NONE },
  AddReluGrad: { inputs: ['g1', 'g2', 'ref'], attrs: NONE },
  Add: binary,
  Sub: binary,
  Mul: binary,
  Div: binary,
  Maximum: binary,
  Minimum: binary,
  Pow: binary,
  SquaredDifference: binary,
  Equal: binary,
  NotEqual: binary,
  Greater: binary,
  GreaterEqual: binary,
  Less: binary,
  LessEqual: binary,
  FloorDiv: binary,
  Mod: binary,
  Select: { inputs: ['condition', 'a', 'b'], attrs: NONE },
  Cast: { inputs: ['x'], attrs: { dtype: DTYPE } },
  Copy: { inputs: ['x'], attrs: NONE },
  Fill: { inputs: [], attrs: { shape: 'number[]', value: 'number', dtype: { ...DTYPE, optional: true } } },
  Assign: { inputs: ['variable', 'value'], attrs: NONE },
  AssignAdd: { inputs: ['variable', 'value'], attrs: NONE },
  // conv_kernels.cc
  Conv2D: { inputs: ['x', 'filter', 'bias?'], attrs: { ...convWindow, relu: 'boolean?' } },
  Conv2DBackpropInput: { inputs: ['dy', 'filter'], attrs: { ...convWindow, inputShape: 'number[]' } },
  Conv2DBackpropFilter: { inputs: ['x', 'dy'], attrs: { ...convWindow, filterShape: 'number[]', bias: 'boolean?' } },
  DepthwiseConv2D: { inputs: ['x', 'filter', 'bias?'], attrs: { ...convWindow, relu: 'boolean?' } },
  DepthwiseConv2DBackpropInput: { inputs: ['dy', 'filter'], attrs: { ...convWindow, inputShape: 'number[]' } },
  DepthwiseConv2DBackpropFilter: { inputs: ['x', 'dy'], attrs: { ...convWindow, filterShape: 'number[]', bias: 'boolean?' } },
  // pool_kernels.cc
  MaxPool: { inputs: ['x'], attrs: pool },
  AvgPool: { inputs: ['x'], attrs: pool },
  MaxPoolGrad: { inputs: ['dy', 'x'], attrs: pool },
  AvgPoolGrad: { inputs: ['dy', 'x'], attrs: pool },
  MaxPoolGradGrad: { inputs: ['src', 'x'], attrs: pool },
  // batchnorm_kernels.cc
  BatchNormTrain: { inputs: ['x', 'gamma', 'beta', 'residual?'], attrs: { epsilon: 'number?', relu: 'boolean?' } },
  BatchNormInfer: { inputs: ['x', 'gamma', 'beta', 'mean', 'variance', 'residual?'], attrs: { epsilon: 'number?', relu: 'boolean?' } },
  BatchNormGrad: { inputs: ['dy', 'x', 'gamma', 'batchMean', 'batchVariance', 'beta?'], attrs: { epsilon: 'number?', relu: 'boolean?' } },
  // lrn_kernels.cc
  LRN: { inputs: ['x'], attrs: { depthRadius: 'number?', bias: 'number?', alpha: 'number?', beta: 'number?' } },
  LRNGrad: { inputs: ['dy', 'x', 'y'], attrs: { depthRadius: 'number?', bias: 'number?', alpha: 'number?', beta: 'number?' } },
  // matmul_kernels.cc
  MatMul: { inputs: ['a', 'b', 'bias?'], attrs: { transposeA: 'boolean?', transposeB: 'boolean?', relu: 'boolean?' } },
  // movement_kernels.cc
  Reshape: { inputs: ['x'], attrs: { shape: 'number[]' } },
  Transpose: { inputs: ['x'], attrs: { perm: 'number[]' } },
  Concat: { inputs: ['...values'], attrs: { axis: 'number' } },
  Slice: { inputs: ['x'], attrs: { begin: 'number[]', size: 'number[]' } },
  Pad: { inputs: ['x'], attrs: { before: 'number[]', after: 'number[]', value: 'number?' } },
  // optimizer_kernels.cc (in place, no outputs)
  MovingAverageUpdate: { inputs: ['variable', 'value'], attrs: { momentum: 'number' } },
  SGDUpdate: { inputs: ['w', 'g', 'velocity?'], attrs: { learningRate: 'number', momentum: 'number?', nesterov: 'boolean?' } },
  AdamUpdate: { inputs: ['w', 'g', 'm', 'v', 'step'], attrs: { learningRate: 'number', beta1: 'number', beta2: 'number', epsilon: 'number', nadam: 'boolean?' } },
  RMSPropUpdate: { inputs: ['w', 'g', 'ms', 'mom?', 'mg?'], attrs: { learningRate: 'number', rho: 'number', momentum: 'number?', epsilon: 'number', centered: 'boolean?' } },
  // random_kernels.cc
  DropoutMask: { inputs: ['x'], attrs: { shape: 'number[]', rate: 'number', seed: 'number' } },
  RandomUniform: { inputs: [], attrs: { shape: 'number[]', a: 'number', b: 'number', seed: 'number' } },
  RandomNormal: { inputs: [], attrs: { shape: 'number[]', a: 'number', b: 'number', seed: 'number' } },
  // reduce_kernels.cc
  Sum: reduce,
  Mean: reduce,
  Max: reduce,
  Min: reduce,
  Prod: reduce,
  ArgMax: { inputs: ['x'], attrs: { axis: 'number' } },
  OneHot: { inputs: ['indices'], attrs: { depth: 'number', onValue: 'number?', offValue: 'number?' } },
  // softmax_kernels.cc
  Softmax: { inputs: ['logits'], attrs: NONE },
  LogSoftmax: { inputs: ['logits'], attrs: NONE },
  SoftmaxGrad: { inputs: ['dy', 'y'], attrs: NONE },
  LogSoftmaxGrad: { inputs: ['dy', 'y'], attrs: NONE },
  SparseSoftmaxCrossEntropy: { inputs: ['logits', 'labels'], attrs: NONE },
  // image_kernels.cc
  ResizeBilinear: { inputs: ['images'], attrs: { size: 'number[]', alignCorners: 'boolean?', halfPixelCenters: 'boolean?' } },
  ResizeBilinearGrad: { inputs: ['dy', 'images'], attrs: { size: 'number[]', alignCorners: 'boolean?', halfPixelCenters: 'boolean?' } },
  ImageProjectiveTransform: {
    inputs: ['images', 'transforms'],
    attrs: { outputShape: 'number[]?', interpolation: optionalOneOf('nearest', 'bilinear'), fillMode: optionalOneOf('constant', 'reflect', 'wrap', 'nearest'), fillValue: 'number?' },
  },
} as const satisfies Record<string, KernelDecl>;

export type KernelName = keyof typeof KERNELS;
type Decl<K extends KernelName> = (typeof KERNELS)[K];

/** The TypeScript type of one declared attribute. */
type AttrType<D> = D extends 'number' | 'number?'
  ? number
  : D extends 'boolean' | 'boolean?'
    ? boolean
    : D extends 'number[]' | 'number[]?'
      ? readonly number[]
      : D extends 'string' | 'string?'
        ? string
        : D extends OneOf<infer S>
          ? S
          : never;
type IsOptional<D> = D extends `${string}?` ? true : D extends { optional: true } ? true : false;
type RequiredKeys<A> = { [K in keyof A]: IsOptional<A[K]> extends true ? never : K }[keyof A];
type Simplify<T> = { [K in keyof T]: T[K] };

/** A kernel's attributes object: required ones present, optional ones may be left out (none
 * at all for a kernel without attributes: `{}` would accept any object). */
export type KernelAttrs<K extends KernelName> = [keyof Decl<K>['attrs']] extends [never] ? Record<string, never> : Simplify<
  { [A in RequiredKeys<Decl<K>['attrs']>]: AttrType<Decl<K>['attrs'][A]> } & {
    [A in Exclude<keyof Decl<K>['attrs'], RequiredKeys<Decl<K>['attrs']>>]?: AttrType<Decl<K>['attrs'][A]>;
  }
>;

/** What runKernel takes for attrs: undefined is allowed when no attribute is required. */
export type KernelAttrsArg<K extends KernelName> = K extends KernelName
  ? [RequiredKeys<Decl<K>['attrs']>] extends [never]
    ? KernelAttrs<K> | undefined
    : KernelAttrs<K>
  : never;

type InputTuple<T extends readonly string[]> = T extends readonly []
  ? []
  : T extends readonly [`...${string}`]
    ? Tensor[]
    : T extends readonly [infer H, ...infer R extends readonly string[]]
      ? H extends `${string}?`
        ? [Tensor?, ...InputTuple<R>]
        : [Tensor, ...InputTuple<R>]
      : never;

/** A kernel's inputs, in the declared order. */
export type KernelInputs<K extends KernelName> = K extends KernelName ? InputTuple<Decl<K>['inputs']> : never;

/** Kernels of one input and no required attribute (unary(name, x) in ops/basic.ts). */
export type UnaryKernel = {
  [K in KernelName]: Decl<K>['inputs'] extends readonly [string] ? ([RequiredKeys<Decl<K>['attrs']>] extends [never] ? K : never) : never;
}[KernelName];
/** The (dy, ref) gradient kernels of the activations. */
export type UnaryGradKernel = 'ReluGrad' | 'SigmoidGrad' | 'TanhGrad' | 'EluGrad' | 'SeluGrad' | 'Relu6Grad' | 'SoftmaxGrad' | 'LogSoftmaxGrad';
