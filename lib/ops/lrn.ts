// Local response normalization across channels: localResponseNormalization (tfjs' name and
// defaults, TensorFlow's LRN semantics) with its gradient through the native LRNGrad
// (as differentiable ops while a tape records the backprop).
import { ENGINE } from '../engine.js';
import { check } from '../errors.js';
import { defineOp1 } from '../gradients.js';
import { Tensor } from '../tensor.js';
import { square } from './activations.js';
import { add, mul, pow, reshape, sub } from './basic.js';
import { matMul } from './matmul.js';
import { TensorLike, floatArg, makeTensor, opScope } from './util.js';

/**
 * tf.localResponseNormalization(x, depthRadius = 5, bias = 1, alpha = 1, beta = 0.5): over
 * the last (channel) axis of NHWC x (rank 3 or 4),
 * y[..., d] = x[..., d] / (bias + alpha * sum(x[..., d - depthRadius .. d + depthRadius]^2))^beta,
 * the sum taken over the channels that exist (TensorFlow's tf.nn.local_response_normalization;
 * alpha is not divided by the window size).
 */
export function localResponseNormalization(x: TensorLike, depthRadius = 5, bias = 1, alpha = 1, beta = 0.5): Tensor {
  return opScope(() => {
    const op = 'localResponseNormalization';
    const $x = floatArg(x, 'x', op, [3, 4], 'NHWC');
    check(Number.isInteger(depthRadius) && depthRadius >= 0, op, 'depthRadius a non-negative integer', depthRadius);
    check(typeof bias === 'number' && bias > 0 && Number.isFinite(bias), op, 'bias > 0', bias);
    check(typeof alpha === 'number' && alpha >= 0 && Number.isFinite(alpha), op, 'alpha >= 0', alpha);
    check(typeof beta === 'number' && Number.isFinite(beta), op, 'beta a finite number', beta);
    const x4 = $x.rank === 4 ? $x : reshape($x, [1, ...$x.shape]);
    const attrs = { depthRadius, bias, alpha, beta };
    const y = defineOp1(
      [x4],
      () => ENGINE.runKernel('LRN', [x4], attrs, [{ shape: x4.shape, dtype: 'float32' }])[0],
      (dy, y4) => [
        ENGINE.recording ? lrnGradOps(dy, x4, attrs) : ENGINE.runKernel('LRNGrad', [dy, x4, y4], attrs, [{ shape: x4.shape, dtype: 'float32' }])[0],
      ],
      { differentiableGrad: true },
    );
    return $x.rank === 4 ? y : reshape(y, $x.shape);
  });
}

/**
 * LRNGrad as differentiable ops, for a tape recording the backprop (Note [higher-order
 * gradients]). With N = bias + alpha * (x^2 summed over each channel's window), written as a
 * product with the symmetric band matrix B (B[i][j] = 1 where |i - j| <= depthRadius):
 * dx = dy N^-beta - 2 alpha beta x ((dy x N^(-beta-1)) B).
 */
function lrnGradOps(dy: Tensor, x: Tensor, a: { depthRadius: number; bias: number; alpha: number; beta: number }): Tensor {
  const c = x.shape[x.rank - 1];
  const band = new Float32Array(c * c);
  for (let i = 0; i < c; i++)
    for (let j = Math.max(0, i - a.depthRadius); j <= Math.min(c - 1, i + a.depthRadius); j++) band[i * c + j] = 1;
  const b = makeTensor(band, [c, c], 'float32');
  const rows = (t: Tensor) => reshape(t, [-1, c]);
  const [x2, dy2] = [rows(x), rows(dy)];
  const n = add(mul(matMul(square(x2), b), a.alpha), a.bias);
  const inner = matMul(mul(mul(dy2, x2), pow(n, -a.beta - 1)), b);
  return reshape(sub(mul(dy2, pow(n, -a.beta)), mul(mul(x2, inner), 2 * a.alpha * a.beta)), x.shape);
}
