// Cross-entropy ops on logits: sparseSoftmaxCrossEntropy (fused native kernel that also
// returns dlogits) and softmaxCrossEntropy (composed). Both return one loss per row
// (no reduction); lib/losses builds the reduced Keras losses on them.
import { ENGINE } from '../engine.js';
import { DTypeError, check, describe } from '../errors.js';
import { defineOp1 } from '../gradients.js';
import { Tensor } from '../tensor.js';
import { logSoftmax, softmax } from './activations.js';
import { mul, neg, oneHot, reshape, sub, sum } from './basic.js';
import { TensorLike, convertToTensor, floatArg, normAxis, sameShape, opScope } from './util.js';

/**
 * -log(softmax(logits)[labels]) per row: labels int32 of logits' shape without the last
 * axis, each in [0, classes). Out-of-range labels fail natively with ERR_INVALID_ARGUMENT.
 */
export function sparseSoftmaxCrossEntropy(labels: TensorLike, logits: TensorLike): Tensor {
  return opScope(() => {
    const op = 'sparseSoftmaxCrossEntropy';
    const $l = convertToTensor(labels, 'labels', op, 'int32');
    if ($l.dtype !== 'int32') throw new DTypeError(`${op}: expected labels of dtype int32 but received ${$l.dtype}`);
    const $z = floatArg(logits, 'logits', op);
    check($z.rank >= 1, op, 'logits of rank >= 1', $z.shape);
    const lead = $z.shape.slice(0, -1);
    check(sameShape($l.shape, lead), op, `labels of shape ${describe(lead)} (logits' shape without the class axis)`, $l.shape);
    let dlogits: Tensor | undefined;
    return defineOp1(
      [$z],
      () => {
        const [loss, d] = ENGINE.runKernel('SparseSoftmaxCrossEntropy', [$z, $l], undefined, [
          { shape: lead, dtype: 'float32' },
          { shape: $z.shape, dtype: 'float32' },
        ]);
        // dlogits (softmax - onehot) is only needed when a gradient will be taken.
        if (ENGINE.recording) dlogits = d;
        else d.dispose();
        return loss;
      },
      // While a tape records the backprop, dlogits = softmax - onehot as differentiable ops
      // (Note [higher-order gradients]).
      (dy) => [mul(ENGINE.recording ? sub(softmax($z), oneHot($l, $z.shape[$z.rank - 1])) : dlogits!, reshape(dy, [...lead, 1]))],
      { name: 'sparseSoftmaxCrossEntropy', differentiableGrad: true },
    );
  });
}

/** -sum(labels * logSoftmax(logits, dim), dim) per row; labels are probabilities (e.g.
 * one-hot) of logits' shape. */
export function softmaxCrossEntropy(labels: TensorLike, logits: TensorLike, dim = -1): Tensor {
  return opScope(() => {
    const op = 'softmaxCrossEntropy';
    const $z = floatArg(logits, 'logits', op);
    const $l = floatArg(labels, 'labels', op);
    check($z.rank >= 1, op, 'logits of rank >= 1', $z.shape);
    check(sameShape($l.shape, $z.shape), op, `labels of logits' shape ${describe($z.shape)}`, $l.shape);
    const axis = normAxis(dim, $z.rank, op, 'dim');
    return neg(sum(mul($l, logSoftmax($z, axis)), axis));
  });
}
