// Every op, under its tfjs name and signature. Op families live one per file.
export * from './basic.js';
export * from './activations.js';
export * from './conv.js';
export * from './pool.js';
export * from './norm.js';
export * from './lrn.js';
export * from './matmul.js';
export * from './transforms.js';
export * from './random.js';
export * from './loss_ops.js';
export * from './indexing.js';
export * from './math_extra.js';
export * as image from './image.js';
export * as fused from './fused.js';
export type { TensorLike, PadSpec } from './util.js';
