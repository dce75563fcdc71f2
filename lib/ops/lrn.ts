// Local response normalization across channels: localResponseNormalization (tfjs' name and
// defaults, TensorFlow's LRN semantics) with its gradient through the native LRNGrad.
import { ENGINE } from '../engine.js';
import { check } from '../errors.js';
import { defineOp1 } from '../gradients.js';
import { Tensor } from '../tensor.js';
import { reshape } from './basic.js';
import { TensorLike, floatArg } from './util.js';

/**
 * tf.localResponseNormalization(x, depthRadius = 5, bias = 1, alpha = 1, beta = 0.5): over
 * the last (channel) axis of NHWC x (rank 3 or 4),
 * y[..., d] = x[..., d] / (bias + alpha * sum(x[..., d - depthRadius .. d + depthRadius]^2))^beta,
 * the sum taken over the channels that exist (TensorFlow's tf.nn.local_response_normalization;
 * alpha is not divided by the window size).
 */
export function localResponseNormalization(x: TensorLike, depthRadius = 5, bias = 1, alpha = 1, beta = 0.5): Tensor {
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
    (dy, y4) => [ENGINE.runKernel('LRNGrad', [dy, x4, y4], attrs, [{ shape: x4.shape, dtype: 'float32' }])[0]],
  );
  return $x.rank === 4 ? y : reshape(y, $x.shape);
}
