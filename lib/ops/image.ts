// Image ops (exported as `image`): resizeBilinear with TensorFlow's semantics and its gradient,
// and transform (ImageProjectiveTransformV3, as tf.image.transform).
import { ENGINE } from '../engine.js';
import { check } from '../errors.js';
import { defineOp1 } from '../gradients.js';
import { Tensor } from '../tensor.js';
import { reshape } from './basic.js';
import { checkOutputShape } from '../validate.js';
import { TensorLike, floatArg, opScope } from './util.js';

/**
 * tf.image.resizeBilinear(images, [newHeight, newWidth], alignCorners = false,
 * halfPixelCenters = false): tfjs' defaults (TF 1 legacy sampling unless halfPixelCenters).
 * Accepts NHWC rank 4 or HWC rank 3 images.
 */
export function resizeBilinear(images: TensorLike, size: [number, number], alignCorners = false, halfPixelCenters = false): Tensor {
  return opScope(() => {
    const op = 'resizeBilinear';
    const $x = floatArg(images, 'images', op, [3, 4], 'NHWC');
    check(Array.isArray(size) && size.length === 2 && size.every((d) => Number.isInteger(d) && d >= 1), op, 'size [newHeight, newWidth] of positive integers', size);
    check(typeof alignCorners === 'boolean', op, 'alignCorners as a boolean', alignCorners);
    check(typeof halfPixelCenters === 'boolean', op, 'halfPixelCenters as a boolean', halfPixelCenters);
    check(!(alignCorners && halfPixelCenters), op, 'alignCorners false when halfPixelCenters is true', 'both true');
    const x4 = $x.rank === 4 ? $x : reshape($x, [1, ...$x.shape]);
    checkOutputShape([x4.shape[0], size[0], size[1], x4.shape[3]], op);
    const attrs: ResizeAttrs = { size: [size[0], size[1]], alignCorners, halfPixelCenters };
    const y = resizeCore(x4, attrs);
    return $x.rank === 4 ? y : reshape(y, y.shape.slice(1));
  });
}

type ResizeAttrs = { size: [number, number]; alignCorners: boolean; halfPixelCenters: boolean };

/** Bilinear resizing of rank-4 x4; it is linear in x4, and its gradient ResizeBilinearGrad is
 * its adjoint, so each is the other's gradient (differentiable to any order). */
function resizeCore(x4: Tensor, attrs: ResizeAttrs): Tensor {
  const out = [x4.shape[0], attrs.size[0], attrs.size[1], x4.shape[3]];
  return defineOp1(
    [x4],
    () => ENGINE.runKernel('ResizeBilinear', [x4], attrs, [{ shape: out, dtype: 'float32' }])[0],
    (dy) => [resizeGrad(dy, x4, attrs)],
    { differentiableGrad: true },
  );
}

/** ResizeBilinearGrad(dy) (x4 gives only the shape) as an op. */
function resizeGrad(dy: Tensor, x4: Tensor, attrs: ResizeAttrs): Tensor {
  return defineOp1(
    [dy],
    () => ENGINE.runKernel('ResizeBilinearGrad', [dy, x4], attrs, [{ shape: x4.shape, dtype: 'float32' }])[0],
    (g) => [resizeCore(g, attrs)],
    { differentiableGrad: true },
  );
}

/** How image.transform fills points that map outside the image. */
export type TransformFillMode = 'constant' | 'reflect' | 'wrap' | 'nearest';

/**
 * tf.image.transform(images, transforms, interpolation = 'nearest', fillMode = 'constant',
 * fillValue = 0, outputShape?): TensorFlow's ImageProjectiveTransformV3. Each transform row
 * [a0, a1, a2, b0, b1, b2, c0, c1] maps the output point (x, y) to the input point
 * ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k) with k = c0 x + c1 y + 1. images is NHWC
 * rank 4 (or HWC rank 3), transforms [batch, 8] or [1, 8] (one for every image). Like
 * TensorFlow's kernel it has no gradient (it is meant for augmentation of inputs).
 */
export function transform(
  images: TensorLike,
  transforms: TensorLike,
  interpolation: 'nearest' | 'bilinear' = 'nearest',
  fillMode: TransformFillMode = 'constant',
  fillValue = 0,
  outputShape?: [number, number],
): Tensor {
  return opScope(() => {
    const op = 'transform';
    const $x = floatArg(images, 'images', op, [3, 4], 'NHWC');
    const x4 = $x.rank === 4 ? $x : reshape($x, [1, ...$x.shape]);
    const $t = floatArg(transforms, 'transforms', op, [1, 2]);
    const t2 = $t.rank === 2 ? $t : reshape($t, [1, ...$t.shape]);
    check(t2.shape[1] === 8 && (t2.shape[0] === x4.shape[0] || t2.shape[0] === 1), op, `transforms of shape [${x4.shape[0]}, 8] or [1, 8]`, $t.shape);
    check(interpolation === 'nearest' || interpolation === 'bilinear', op, "interpolation 'nearest' or 'bilinear'", interpolation);
    check(['constant', 'reflect', 'wrap', 'nearest'].includes(fillMode), op, "fillMode 'constant', 'reflect', 'wrap' or 'nearest'", fillMode);
    check(typeof fillValue === 'number' && Number.isFinite(fillValue), op, 'fillValue as a finite number', fillValue);
    const size = outputShape ?? [x4.shape[1], x4.shape[2]];
    check(Array.isArray(size) && size.length === 2 && size.every((d) => Number.isInteger(d) && d >= 1), op, 'outputShape [height, width] of positive integers', outputShape);
    const out = [x4.shape[0], size[0], size[1], x4.shape[3]];
    checkOutputShape(out, op);
    const attrs = { interpolation, fillMode, fillValue, outputShape: [size[0], size[1]] };
    const y = ENGINE.runKernel('ImageProjectiveTransform', [x4, t2], attrs, [{ shape: out, dtype: 'float32' }])[0];
    return $x.rank === 4 ? y : reshape(y, out.slice(1));
  });
}
