// Typed internal wrappers of the fused kernels that the plan fusion pass emits
// (lib/compiler/fusion.ts): batch norm with a ReLU and/or a residual, AddRelu and its
// gradient. Tests and benchmarks call these instead of spelling kernel attributes and output
// shapes by hand; the attributes themselves are typed by lib/kernels/kernel_names.ts.
// Not part of the public API: no gradients are recorded (they are single kernels, as the
// fused plan runs them).
import { ENGINE } from '../engine.js';
import type { Tensor } from '../tensor.js';

const f32 = (shape: number[]) => ({ shape: shape.slice(), dtype: 'float32' as const });
const channels = (x: Tensor) => [x.shape[x.shape.length - 1]];

/** Batch norm options: epsilon (default 1e-3), then y = relu?(normalized x + residual?). */
export interface BatchNormFusion {
  epsilon?: number;
  /** Apply a ReLU to the result (BatchNorm{relu}). */
  relu?: boolean;
  /** Added to the normalized x before the ReLU (x's shape; the residual join of a block). */
  residual?: Tensor;
}

/** BatchNormTrain(x, gamma, beta[, residual]){epsilon, relu}: [y, batchMean, batchVariance (biased)]. */
export function batchNormTrain(x: Tensor, gamma: Tensor, beta: Tensor, o: BatchNormFusion = {}): [Tensor, Tensor, Tensor] {
  const inputs: [Tensor, Tensor, Tensor, Tensor?] = o.residual ? [x, gamma, beta, o.residual] : [x, gamma, beta];
  const [y, mean, variance] = ENGINE.runKernel('BatchNormTrain', inputs, { epsilon: o.epsilon ?? 1e-3, relu: o.relu }, [f32(x.shape), f32(channels(x)), f32(channels(x))]);
  return [y, mean, variance];
}

/** BatchNormInfer(x, gamma, beta, mean, variance[, residual]){epsilon, relu}: y. */
export function batchNormInfer(x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, o: BatchNormFusion = {}): Tensor {
  const inputs: [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor?] = o.residual ? [x, gamma, beta, mean, variance, o.residual] : [x, gamma, beta, mean, variance];
  return ENGINE.runKernel('BatchNormInfer', inputs, { epsilon: o.epsilon ?? 1e-3, relu: o.relu }, [f32(x.shape)])[0];
}

/**
 * BatchNormGrad(dy, x, gamma, batchMean, batchVariance[, beta]){epsilon, relu}: [dx, dgamma,
 * dbeta]. With `reluBeta` the gradient goes through the ReLU of a fused BatchNormTrain{relu}
 * (its mask recomputed from x, which needs beta), so dy is the gradient of relu's output.
 */
export function batchNormGrad(
  dy: Tensor, x: Tensor, gamma: Tensor, batchMean: Tensor, batchVariance: Tensor, o: { epsilon?: number; reluBeta?: Tensor } = {},
): [Tensor, Tensor, Tensor] {
  const inputs: [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor?] = o.reluBeta ? [dy, x, gamma, batchMean, batchVariance, o.reluBeta] : [dy, x, gamma, batchMean, batchVariance];
  const [dx, dg, db] = ENGINE.runKernel('BatchNormGrad', inputs, { epsilon: o.epsilon ?? 1e-3, relu: !!o.reluBeta }, [f32(x.shape), f32(channels(x)), f32(channels(x))]);
  return [dx, dg, db];
}

/** AddRelu(a, b) = relu(a + b), same-shape float32 operands (a residual join). */
export function addRelu(a: Tensor, b: Tensor): Tensor {
  return ENGINE.runKernel('AddRelu', [a, b], undefined, [f32(a.shape)])[0];
}

/** AddReluGrad(g1, g2, r) = (g1 + g2) where r > 0, else 0: the gradient arriving at an AddRelu's output r. */
export function addReluGrad(g1: Tensor, g2: Tensor, r: Tensor): Tensor {
  return ENGINE.runKernel('AddReluGrad', [g1, g2, r], undefined, [f32(r.shape)])[0];
}
