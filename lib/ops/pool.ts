// 2D pooling over NHWC images: maxPool and avgPool ('same' | 'valid'; SAME average pooling
// divides by the number of real inputs, as TensorFlow does) with gradients through
// MaxPoolGrad / AvgPoolGrad(dy, x), themselves differentiable (MaxPoolGradGrad), and a
// global average pooling helper.
import { ENGINE } from '../engine.js';
import { defineOp1 } from '../gradients.js';
import { Tensor } from '../tensor.js';
import { mean, reshape } from './basic.js';
import { TensorLike, floatArg, pairOrNHWC, parsePad, windowOutputShape, opScope } from './util.js';

type Pair = number | [number, number];

function pool(kind: 'MaxPool' | 'AvgPool', op: string, x: TensorLike, filterSize: Pair, strides: Pair, pad: 'same' | 'valid'): Tensor {
  const $x = floatArg(x, 'x', op, [3, 4], 'NHWC');
  const size = pairOrNHWC(filterSize, 'filterSize', op);
  const st = pairOrNHWC(strides, 'strides', op);
  const p = parsePad(pad, op, false);
  const x4 = $x.rank === 4 ? $x : reshape($x, [1, ...$x.shape]);
  const out = windowOutputShape(x4.shape, size, x4.shape[3], st, [1, 1], p, op);
  const attrs: PoolAttrs = { poolSize: size, strides: st, pad: p.pad === 'same' ? 'same' : 'valid' }; // parsePad(.., false): never 'explicit'
  const y = poolCore(kind, x4, attrs, out);
  return $x.rank === 4 ? y : reshape(y, out.slice(1));
}

type PoolAttrs = { poolSize: [number, number]; strides: [number, number]; pad: 'same' | 'valid' };

/** The pooling op on rank-4 x4; its gradient is avgPoolGrad or maxPoolGrad, both
 * differentiable (Note [higher-order gradients]). */
function poolCore(kind: 'MaxPool' | 'AvgPool', x4: Tensor, attrs: PoolAttrs, out: number[]): Tensor {
  return defineOp1(
    [x4],
    () => ENGINE.runKernel(kind, [x4], attrs, [{ shape: out, dtype: 'float32' }])[0],
    (dy) => [kind === 'AvgPool' ? avgPoolGrad(dy, x4, attrs) : maxPoolGrad(dy, x4, attrs)],
    { differentiableGrad: true },
  );
}

/** MaxPoolGrad(dy, x4) as an op: linear in dy, and piecewise constant in x4 (the argmax only
 * moves where x4 has ties), so its gradient goes to dy alone: MaxPoolGradGrad, which picks
 * the incoming gradient at each window's first maximum (Note [max-pool gather]). */
function maxPoolGrad(dy: Tensor, x4: Tensor, attrs: PoolAttrs): Tensor {
  return defineOp1(
    [dy],
    () => ENGINE.runKernel('MaxPoolGrad', [dy, x4], attrs, [{ shape: x4.shape, dtype: 'float32' }])[0],
    (g) => [maxPoolGather(g, x4, attrs, dy.shape)],
    { differentiableGrad: true },
  );
}

/** MaxPoolGradGrad(src, x4): src at each window's first maximum of x4; its gradient is
 * MaxPoolGrad again (the two are adjoint in their first argument). */
function maxPoolGather(src: Tensor, x4: Tensor, attrs: PoolAttrs, out: number[]): Tensor {
  return defineOp1(
    [src],
    () => ENGINE.runKernel('MaxPoolGradGrad', [src, x4], attrs, [{ shape: out, dtype: 'float32' }])[0],
    (g) => [maxPoolGrad(g, x4, attrs)],
    { differentiableGrad: true },
  );
}

/** AvgPoolGrad(dy) (x4 gives only the shape) as an op: it is linear in dy and the adjoint of
 * average pooling, so its own gradient is the average pooling of the incoming gradient. */
function avgPoolGrad(dy: Tensor, x4: Tensor, attrs: PoolAttrs): Tensor {
  return defineOp1(
    [dy],
    () => ENGINE.runKernel('AvgPoolGrad', [dy, x4], attrs, [{ shape: x4.shape, dtype: 'float32' }])[0],
    (g) => [poolCore('AvgPool', g, attrs, dy.shape)],
    { differentiableGrad: true },
  );
}

/** tf.maxPool(x, filterSize, strides, pad): x NHWC of rank 3 or 4. */
export function maxPool(x: TensorLike, filterSize: Pair, strides: Pair, pad: 'same' | 'valid'): Tensor {
  return opScope(() => {
    return pool('MaxPool', 'maxPool', x, filterSize, strides, pad);
  });
}

/** tf.avgPool(x, filterSize, strides, pad): x NHWC of rank 3 or 4. */
export function avgPool(x: TensorLike, filterSize: Pair, strides: Pair, pad: 'same' | 'valid'): Tensor {
  return opScope(() => {
    return pool('AvgPool', 'avgPool', x, filterSize, strides, pad);
  });
}

/** Mean over the spatial axes: [N, H, W, C] -> [N, C] ([N, 1, 1, C] with keepDims). */
export function globalAvgPool(x: TensorLike, keepDims = false): Tensor {
  return opScope(() => {
    const $x = floatArg(x, 'x', 'globalAvgPool', 4, 'NHWC');
    return mean($x, [1, 2], keepDims);
  });
}
