// tf.fused: ops with bias and activation folded into one native kernel where possible.
export { fusedConv2d as conv2d, fusedDepthwiseConv2d as depthwiseConv2d } from './conv.js';
export { fusedMatMul as matMul } from './matmul.js';
export type { FusedConv2DArgs } from './conv.js';
export type { FusedMatMulArgs } from './matmul.js';
export type { Activation } from './activations.js';
