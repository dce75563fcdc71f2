// Batch normalization: batchNorm (tfjs' inference formula with given statistics, native
// BatchNormInfer when the statistics are per-channel vectors) and batchNormTraining
// (batch statistics, native BatchNormTrain / BatchNormGrad) for the layers.
import { ENGINE } from '../engine.js';
import { DTypeError, check, describe } from '../errors.js';
import { defineOp } from '../gradients.js';
import { Tensor } from '../tensor.js';
import { rsqrt } from './activations.js';
import { add, fill, mean, mul, neg, reduceToShape, sub, sum } from './basic.js';
import { TensorLike, broadcastShape, convertToTensor, floatArg, opScope } from './util.js';

/**
 * tf.batchNorm: (x - mean) * scale / sqrt(variance + varianceEpsilon) + offset, with mean,
 * variance, offset and scale broadcast against x (usually vectors over the last axis).
 */
export function batchNorm(
  x: TensorLike,
  mean: TensorLike,
  variance: TensorLike,
  offset?: TensorLike | null,
  scale?: TensorLike | null,
  varianceEpsilon = 0.001,
): Tensor {
  return opScope(() => {
    const op = 'batchNorm';
    const $x = floatArg(x, 'x', op);
    const $m = floatArg(mean, 'mean', op);
    const $v = floatArg(variance, 'variance', op);
    const $o = offset === undefined || offset === null ? null : floatArg(offset, 'offset', op);
    const $s = scale === undefined || scale === null ? null : floatArg(scale, 'scale', op);
    check($m.rank === $v.rank, op, `variance of mean's rank ${$m.rank}`, $v.shape);
    if ($o) check($o.rank === $m.rank, op, `offset of mean's rank ${$m.rank}`, $o.shape);
    if ($s) check($s.rank === $m.rank, op, `scale of mean's rank ${$m.rank}`, $s.shape);
    check(typeof varianceEpsilon === 'number' && varianceEpsilon >= 0, op, 'varianceEpsilon >= 0', varianceEpsilon);
    for (const [t, n] of [[$m, 'mean'], [$v, 'variance'], [$o, 'offset'], [$s, 'scale']] as Array<[Tensor | null, string]>)
      if (t) {
        const b = broadcastShape($x.shape, t.shape, op);
        check(b.length === $x.rank && b.every((d, i) => d === $x.shape[i]), op, `${n} that broadcasts to x's shape ${describe($x.shape)}`, t.shape);
      }
    const c = $x.rank ? $x.shape[$x.rank - 1] : 0;
    const isVec = (t: Tensor | null) => !t || (t.rank === 1 && t.shape[0] === c);
    if (!($x.rank >= 1 && [$m, $v, $o, $s].every(isVec))) {
      // General broadcasting: composed, so the gradient comes from the parts.
      let y = mul(sub($x, $m), rsqrt(add($v, varianceEpsilon)));
      if ($s) y = mul(y, $s);
      if ($o) y = add(y, $o);
      return y;
    }
    const inputs = [$x, $m, $v, ...($o ? [$o] : []), ...($s ? [$s] : [])];
    return defineOp(
      inputs,
      () => {
        const gamma = $s ?? fill([c], 1);
        const beta = $o ?? fill([c], 0);
        return ENGINE.runKernel('BatchNormInfer', [$x, gamma, beta, $m, $v], { epsilon: varianceEpsilon }, [{ shape: $x.shape, dtype: 'float32' }]);
      },
      ([dy]) => {
        // Note [batchNorm gradient]: as tfjs, with r = 1/sqrt(var + eps) and s = scale or 1:
        // dx = dy*r*s, dmean = -sum(dy*r*s), dvar = sum(dy*(x-mean)*s*(-r^3/2)),
        // doffset = sum(dy), dscale = sum(dy*(x-mean)*r), sums over all but the last axis.
        const r = rsqrt(add($v, varianceEpsilon));
        const rs = $s ? mul(r, $s) : r;
        const xm = sub($x, $m);
        const dx = mul(dy, rs);
        const grads: Array<Tensor | null> = [
          dx,
          reduceToShape(neg(dx), [c]),
          reduceToShape(mul(mul(dy, xm), mul(rs, mul(mul(r, r), -0.5))), [c]),
        ];
        if ($o) grads.push(reduceToShape(dy, [c]));
        if ($s) grads.push(reduceToShape(mul(mul(dy, xm), r), [c]));
        return grads;
      },
      { name: 'batchNorm', differentiableGrad: true },
    )[0];
  });
}

/** What batchNormTraining returns. */
export interface BatchNormTrainingResult {
  /** The normalized, scaled and shifted x. */
  y: Tensor;
  /** Per-channel batch mean. */
  mean: Tensor;
  /** Per-channel biased batch variance. */
  variance: Tensor;
}

/**
 * For layers: batch normalization over all axes but the last with batch statistics:
 * y = (x - mean) / sqrt(variance + epsilon) * gamma + beta, epsilon default 0.001; gamma and beta
 * are [channels]. Gradients w.r.t. x, gamma and beta come from the native BatchNormGrad; mean and
 * variance are returned as statistics (for moving averages) and carry no gradient.
 * @internal
 */
export function batchNormTraining(x: TensorLike, gamma: TensorLike, beta: TensorLike, epsilon = 0.001): BatchNormTrainingResult {
  return opScope(() => {
    const op = 'batchNormTraining';
    const $x = floatArg(x, 'x', op);
    check($x.rank >= 2, op, 'x of rank >= 2', $x.shape);
    const c = $x.shape[$x.rank - 1];
    const $g = convertToTensor(gamma, 'gamma', op, 'float32');
    const $b = convertToTensor(beta, 'beta', op, 'float32');
    for (const [t, n] of [[$g, 'gamma'], [$b, 'beta']] as Array<[Tensor, string]>) {
      if (t.dtype !== 'float32') throw new DTypeError(`${op}: expected ${n} of dtype float32 but received ${t.dtype}`);
      check(t.rank === 1 && t.shape[0] === c, op, `${n} of shape [${c}] (x's last axis)`, t.shape);
    }
    check(typeof epsilon === 'number' && epsilon > 0, op, 'epsilon > 0', epsilon);
    const attrs = { epsilon };
    const [y, m, v] = defineOp(
      [$x, $g, $b],
      () =>
        ENGINE.runKernel('BatchNormTrain', [$x, $g, $b], attrs, [
          { shape: $x.shape, dtype: 'float32' },
          { shape: [c], dtype: 'float32' },
          { shape: [c], dtype: 'float32' },
        ]),
      ([dy], [, bm, bv]) => {
        if (ENGINE.recording) return batchNormTrainingGradOps(dy, $x, $g, epsilon);
        return ENGINE.runKernel('BatchNormGrad', [dy, $x, $g, bm, bv], attrs, [
          { shape: $x.shape, dtype: 'float32' },
          { shape: [c], dtype: 'float32' },
          { shape: [c], dtype: 'float32' },
        ]);
      },
      { name: 'BatchNormTrain', differentiableGrad: true },
    );
    return { y, mean: m, variance: v };
  });
}

/**
 * BatchNormGrad as differentiable ops, for a tape recording the backprop (Note [higher-order
 * gradients]); the statistics are recomputed from x so that their dependence on x is
 * recorded too. With xhat = (x - mean) r, r = 1/sqrt(var + eps), means over all but the
 * last axis: dx = gamma r (dy - mean(dy) - xhat mean(dy xhat)), dgamma = sum(dy xhat),
 * dbeta = sum(dy).
 */
function batchNormTrainingGradOps(dy: Tensor, x: Tensor, gamma: Tensor, epsilon: number): Tensor[] {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const xm = sub(x, mean(x, axes));
  const r = rsqrt(add(mean(mul(xm, xm), axes), epsilon));
  const xhat = mul(xm, r);
  const dyXhat = mul(dy, xhat);
  const dx = mul(mul(gamma, r), sub(sub(dy, mean(dy, axes)), mul(xhat, mean(dyXhat, axes))));
  return [dx, sum(dyXhat, axes), sum(dy, axes)];
}
