// The public API of cudnn-node, and nothing else.
export { Tensor, Variable } from './tensor.js';
export type { DType, NestedArray } from './tensor.js';
export { tidy, keep, dispose, memory, getBackend, setBackend } from './engine.js';
export type { MemoryInfo } from './engine.js';
export { grad, grads, valueAndGrad, valueAndGrads, variableGrads, defineOp, defineOp1 } from './gradients.js';
export { compile, CompiledFunction } from './compile.js';
export type { InputSpec } from './compile.js';
export * from './errors.js';
export * from './ops/index.js';
export { backends, doctor } from './backends.js';
export * as layers from './layers/index.js';
export * from './models/index.js';
export * as train from './optimizers/index.js';
export * as losses from './losses/index.js';
export * as metrics from './metrics/index.js';
export * as data from './data/index.js';
export * as datasets from './datasets/index.js';
export * as plot from './plot/index.js';
