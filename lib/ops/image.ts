// Image ops (exported as `image`): resizeBilinear with TensorFlow's semantics and its gradient.
import { ENGINE } from '../engine.js';
import { check } from '../errors.js';
import { defineOp1 } from '../gradients.js';
import { Tensor } from '../tensor.js';
import { reshape } from './basic.js';
import { TensorLike, floatArg } from './util.js';

/**
 * tf.image.resizeBilinear(images, [newHeight, newWidth], alignCorners = false,
 * halfPixelCenters = false): tfjs' defaults (TF 1 legacy sampling unless halfPixelCenters).
 * Accepts NHWC rank 4 or HWC rank 3 images.
 */
export function resizeBilinear(images: TensorLike, size: [number, number], alignCorners = false, halfPixelCenters = false): Tensor {
  const op = 'resizeBilinear';
  const $x = floatArg(images, 'images', op, [3, 4], 'NHWC');
  check(Array.isArray(size) && size.length === 2 && size.every((d) => Number.isInteger(d) && d >= 1), op, 'size [newHeight, newWidth] of positive integers', size);
  check(typeof alignCorners === 'boolean', op, 'alignCorners as a boolean', alignCorners);
  check(typeof halfPixelCenters === 'boolean', op, 'halfPixelCenters as a boolean', halfPixelCenters);
  check(!(alignCorners && halfPixelCenters), op, 'alignCorners false when halfPixelCenters is true', 'both true');
  const x4 = $x.rank === 4 ? $x : reshape($x, [1, ...$x.shape]);
  const attrs = { size: [size[0], size[1]], alignCorners, halfPixelCenters };
  const out = [x4.shape[0], size[0], size[1], x4.shape[3]];
  const y = defineOp1(
    [x4],
    () => ENGINE.runKernel('ResizeBilinear', [x4], attrs, [{ shape: out, dtype: 'float32' }])[0],
    (dy) => [ENGINE.runKernel('ResizeBilinearGrad', [dy, x4], attrs, [{ shape: x4.shape, dtype: 'float32' }])[0]],
  );
  return $x.rank === 4 ? y : reshape(y, out.slice(1));
}
