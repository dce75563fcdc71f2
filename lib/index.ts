// The public API of cudnn-node, and nothing else.
export { Tensor, Variable, Rank } from './tensor.js';
export type { DType, NestedArray } from './tensor.js';
// The tfjs-style methods (t.add(2).reshape([...])) are installed on Tensor by this import.
import './tensor_methods.js';
export { OP_METHODS } from './tensor_methods.js';
export type { OpMethods, CustomMethods, OpMethodName } from './tensor_methods.js';
export type * from './types.js';
export { TensorBuffer, buffer } from './buffer.js';
export { tensor3d, tensor5d, tensor6d, range, linspace } from './creation.js';
export * as util from './util.js';
export * as serialization from './serialization.js';
export { tidy, keep, dispose, memory, getBackend, setBackend } from './engine.js';
export type { MemoryInfo } from './engine.js';
export { grad, grads, valueAndGrad, valueAndGrads, variableGrads, defineOp, defineOp1 } from './gradients.js';
export type { GradFn, OpOptions } from './gradients.js';
export { compile, CompiledFunction } from './compiler/compile.js';
export { profile } from './profile.js';
export type { ProfileInfo, KernelProfile, KernelSummary } from './profile.js';
export type { InputSpec } from './compiler/compile.js';
export * from './errors.js';
export * from './ops/index.js';
export { backends, doctor } from './backends.js';
export { getCudaOptions, setCudaOptions } from './cuda_options.js';
export type { CudaOptions, ConvApi } from './cuda_options.js';
export * as layers from './layers/index.js';
export * from './models/index.js';
export * as train from './optimizers/index.js';
export * as mixedPrecision from './mixed_precision/index.js';
/** The optimizer base class at the top level, as tfjs exports it (tf.Optimizer). */
export { Optimizer } from './optimizers/optimizer.js';
export * as losses from './losses/index.js';
export * as metrics from './metrics/index.js';
export * as data from './data/index.js';
export * as datasets from './datasets/index.js';
export * as plot from './plot/index.js';
export * as applications from './applications/index.js';
export * as node from './node/index.js';
