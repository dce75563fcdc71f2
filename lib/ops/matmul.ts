// Matrix products: matMul (rank 2 or batched rank >= 3; a rank-2 operand is broadcast over
// the other's batch), fused.matMul (bias + activation, bias and ReLU inside the native
// kernel) and dot, with gradients.
import { ENGINE } from '../engine.js';
import { InvalidArgumentError, check, describe } from '../errors.js';
import { defineOp } from '../gradients.js';
import { Tensor } from '../tensor.js';
import { Activation, applyActivation, checkActivation } from './activations.js';
import { add, greater, mul, reduceToShape, reshape } from './basic.js';
import { TensorLike, floatArg, sameShape, opScope } from './util.js';

/** The native product on rank-2/3 operands (one batch, or a rank-2 side broadcast). */
function matMulCore(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean, bias: Tensor | null, relu: boolean): Tensor {
  const ra = a.rank, rb = b.rank;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  const batch = ra === 3 ? a.shape[0] : rb === 3 ? b.shape[0] : 0;
  const out = ra === 3 || rb === 3 ? [batch, m, n] : [m, n];
  const inputs: [Tensor, Tensor] | [Tensor, Tensor, Tensor] = bias ? [a, b, bias] : [a, b];
  return defineOp(
    inputs,
    () => ENGINE.runKernel('MatMul', inputs, { transposeA, transposeB, relu }, [{ shape: out, dtype: 'float32' }]),
    ([dy], [y]) => {
      // While a tape records the backprop, relu's gradient as differentiable ops (Note [higher-order gradients]).
      const g = !relu ? dy : ENGINE.recording ? mul(dy, greater(y, 0)) : ENGINE.runKernel('ReluGrad', [dy, y], undefined, [{ shape: y.shape, dtype: 'float32' }])[0];
      let da: Tensor, db: Tensor;
      if (!transposeA && !transposeB) {
        da = matMulCore(g, b, false, true, null, false);
        db = matMulCore(a, g, true, false, null, false);
      } else if (!transposeA && transposeB) {
        da = matMulCore(g, b, false, false, null, false);
        db = matMulCore(g, a, true, false, null, false);
      } else if (transposeA && !transposeB) {
        da = matMulCore(b, g, false, true, null, false);
        db = matMulCore(a, g, false, false, null, false);
      } else {
        da = matMulCore(b, g, true, true, null, false);
        db = matMulCore(g, a, true, true, null, false);
      }
      // A broadcast rank-2 operand gets the sum over the batch.
      const grads = [reduceToShape(da, a.shape), reduceToShape(db, b.shape)];
      if (bias) grads.push(reduceToShape(g, bias.shape));
      return grads;
    },
    { differentiableGrad: true },
  )[0];
}

interface Prepared {
  a: Tensor;
  b: Tensor;
  outShape: number[];
}

/** Checks shapes and folds batch axes so that the core sees rank 2 or 3. */
function prepare(op: string, a: TensorLike, b: TensorLike, transposeA: boolean, transposeB: boolean): Prepared {
  const $a = floatArg(a, 'a', op);
  const $b = floatArg(b, 'b', op);
  check($a.rank >= 2, op, 'a of rank >= 2', $a.shape);
  check($b.rank >= 2, op, 'b of rank >= 2', $b.shape);
  check(typeof transposeA === 'boolean' && typeof transposeB === 'boolean', op, 'transposeA and transposeB as booleans', [transposeA, transposeB]);
  const ra = $a.rank, rb = $b.rank;
  const ka = transposeA ? $a.shape[ra - 2] : $a.shape[ra - 1];
  const kb = transposeB ? $b.shape[rb - 1] : $b.shape[rb - 2];
  if (ka !== kb)
    throw new InvalidArgumentError(
      `${op}: expected inner dimensions to match (a ${describe($a.shape)}${transposeA ? ' transposed' : ''}, b ${describe($b.shape)}${transposeB ? ' transposed' : ''}) but received ${ka} and ${kb}`,
    );
  const m = transposeA ? $a.shape[ra - 1] : $a.shape[ra - 2];
  const n = transposeB ? $b.shape[rb - 2] : $b.shape[rb - 1];
  const batchA = $a.shape.slice(0, -2), batchB = $b.shape.slice(0, -2);
  // Batch axes: equal, or one side without any (broadcast), or all-ones on one side.
  const sizeA = batchA.reduce((x, y) => x * y, 1), sizeB = batchB.reduce((x, y) => x * y, 1);
  let batch: number[];
  let fa = $a, fb = $b;
  if (batchA.length && batchB.length && !sameShape(batchA, batchB)) {
    if (sizeA === 1) { fa = reshape($a, $a.shape.slice(-2)); batch = batchB; }
    else if (sizeB === 1) { fb = reshape($b, $b.shape.slice(-2)); batch = batchA; }
    else throw new InvalidArgumentError(`${op}: expected batch dimensions that match or broadcast but received ${describe(batchA)} and ${describe(batchB)}`);
  } else batch = batchA.length ? batchA : batchB;
  if (fa.rank > 3) fa = reshape(fa, [sizeA, ...fa.shape.slice(-2)]);
  if (fb.rank > 3) fb = reshape(fb, [sizeB, ...fb.shape.slice(-2)]);
  return { a: fa, b: fb, outShape: [...batch, m, n] };
}

/** tf.matMul(a, b, transposeA, transposeB): (batched) matrix product. */
export function matMul(a: TensorLike, b: TensorLike, transposeA = false, transposeB = false): Tensor {
  return opScope(() => {
    const p = prepare('matMul', a, b, transposeA, transposeB);
    const y = matMulCore(p.a, p.b, transposeA, transposeB, null, false);
    return sameShape(y.shape, p.outShape) ? y : reshape(y, p.outShape);
  });
}

/** Arguments of fused.matMul (tf.fused.matMul's object form). */
export interface FusedMatMulArgs {
  /** [..., m, k] (or [..., k, m] with transposeA). */
  a: TensorLike;
  /** [..., k, n] (or [..., n, k] with transposeB). */
  b: TensorLike;
  /** Default false. */
  transposeA?: boolean;
  /** Default false. */
  transposeB?: boolean;
  /** Added to the output; a [n] bias runs inside the kernel, others are broadcast. */
  bias?: TensorLike;
  /** Default 'linear'; 'relu' runs inside the kernel. */
  activation?: Activation;
  /** The alpha tensor for activation 'prelu'. */
  preluActivationWeights?: TensorLike;
  /** The slope for activation 'leakyrelu' (default 0.2). */
  leakyreluAlpha?: number;
}

/** tf.fused.matMul: matMul + bias + activation; a [n] bias and ReLU run in the kernel. */
export function fusedMatMul(args: FusedMatMulArgs): Tensor {
  return opScope(() => {
    const op = 'fused.matMul';
    check(args && typeof args === 'object', op, 'an object {a, b, transposeA?, transposeB?, bias?, activation?}', args);
    const activation = checkActivation(args.activation ?? 'linear', op);
    const tA = args.transposeA ?? false, tB = args.transposeB ?? false;
    const p = prepare(op, args.a, args.b, tA, tB);
    const n = p.outShape[p.outShape.length - 1];
    const $bias = args.bias === undefined || args.bias === null ? null : floatArg(args.bias, 'bias', op);
    const nativeBias = $bias && $bias.rank === 1 && $bias.shape[0] === n ? $bias : null;
    const fusedRelu = activation === 'relu';
    let y = matMulCore(p.a, p.b, tA, tB, nativeBias, fusedRelu);
    if (!sameShape(y.shape, p.outShape)) y = reshape(y, p.outShape);
    if ($bias && !nativeBias) y = add(y, $bias);
    return fusedRelu ? y : applyActivation(y, activation, args.preluActivationWeights, args.leakyreluAlpha);
  });
}

/** tf.dot: inner product of rank-1/2 tensors (vector . vector is a scalar). */
export function dot(t1: TensorLike, t2: TensorLike): Tensor {
  return opScope(() => {
    const $a = floatArg(t1, 't1', 'dot', [1, 2]);
    const $b = floatArg(t2, 't2', 'dot', [1, 2]);
    const ka = $a.shape[$a.rank - 1], kb = $b.shape[0];
    if (ka !== kb) throw new InvalidArgumentError(`dot: expected inner dimensions to match but received ${describe($a.shape)} and ${describe($b.shape)}`);
    const a2 = $a.rank === 1 ? reshape($a, [1, ka]) : $a;
    const b2 = $b.rank === 1 ? reshape($b, [kb, 1]) : $b;
    const y = matMulCore(a2, b2, false, false, null, false);
    if ($a.rank === 1 && $b.rank === 1) return reshape(y, []);
    if ($a.rank === 1) return reshape(y, [$b.shape[1]]);
    if ($b.rank === 1) return reshape(y, [$a.shape[0]]);
    return y;
  });
}
