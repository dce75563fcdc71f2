// tfjs math ops composed from existing kernels and ops: argMin, all, any, cumsum,
// logSigmoid, logSumExp, norm, step, isNaN, isInf and isFinite. Gradients come from the
// composition (or are zero where tfjs' are: step and the isNaN family).
import { isFloatDType } from '../dtypes.js';
import { ENGINE } from '../engine.js';
import { InvalidArgumentError, check, describe } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { checkBoolean, checkNumber } from '../validate.js';
import { abs, exp, log, softplus, sqrt, square } from './activations.js';
import { add, argMax, cast, max, min, mul, neg, onesLike, reshape, sub, sum, unary, zerosLike } from './basic.js';
import { pad, slice } from './transforms.js';
import { TensorLike, checkFloat, convertToTensor, makeTensor, normAxis, opScope, parseAxes } from './util.js';

function floatInput(x: TensorLike, op: string): Tensor {
  const $x = convertToTensor(x, 'x', op, 'float32');
  checkFloat($x, 'x', op);
  return $x;
}

/** x's shape with the reduced axes kept as 1 (keepDims) or removed. */
function reducedShape(shape: number[], axes: number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

// ---- argMin, all, any

/** tf.argMin(x, axis = 0): int32 indices of the minima along axis (the first of equal ones), that axis removed. */
export function argMin(x: TensorLike, axis = 0): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'argMin');
    check($x.rank >= 1, 'argMin', 'x of rank >= 1', $x.shape);
    check(typeof axis === 'number', 'argMin', 'axis as an integer', axis);
    const a = normAxis(axis, $x.rank, 'argMin');
    // argMax of -x: negation keeps the order of equal values, so the first minimum wins.
    // int32 goes through float32 (exact for |values| <= 2^24).
    return argMax(neg($x.dtype === 'float32' ? $x : cast($x, 'float32')), a);
  });
}

// Note [logical reductions]: tfjs' all / any take bool tensors only. Here, as comparisons
// return 1/0 in their operands' dtype (Note [comparison dtype] in basic.ts), they take any
// dtype, read non-zero as true, and return 1/0 in x's dtype, so any(greater(a, b)) works.
function logicalReduce(kernel: 'Min' | 'Max', op: string) {
  return (x: TensorLike, axis: number | number[] | null = null, keepDims = false): Tensor =>
    opScope(() => {
      const $x = convertToTensor(x, 'x', op);
      const axes = parseAxes(axis, $x.rank, op);
      checkBoolean(keepDims, op, 'keepDims');
      const f = $x.dtype === 'float32' ? $x : cast($x, 'float32');
      const truth = ENGINE.runKernel('NotEqual', [f, makeTensor(0, [], 'float32')], undefined, [{ shape: f.shape, dtype: 'float32' }])[0];
      const shape = reducedShape($x.shape, axes, keepDims);
      const r = axes.length ? ENGINE.runKernel(kernel, [truth], { axes, keepDims }, [{ shape, dtype: 'float32' }])[0] : truth;
      return $x.dtype === 'float32' ? r : cast(r, $x.dtype);
    });
}
/** tf.all(x, axis?, keepDims = false): 1 where every value along axis is non-zero (Note [logical reductions]). */
export const all = logicalReduce('Min', 'all');
/** tf.any(x, axis?, keepDims = false): 1 where some value along axis is non-zero (Note [logical reductions]). */
export const any = logicalReduce('Max', 'any');

// ---- cumsum

// Note [cumsum as a scan]: there is no cumulative-sum kernel. cumsum is the Hillis-Steele
// scan: y = x, then for d = 1, 2, 4, ... < n: y = y + (y shifted by d along the axis), each
// shift a slice and a zero pad. That is ceil(log2 n) rounds of three kernels, O(size log n)
// work, exact in the sense of a float sum in another order (the error of a pairwise-like
// sum), and differentiable through slice, pad and add: its gradient is the reverse scan, as
// tfjs' is. (A triangular-matrix matMul would cost O(size n) and mix Inf into zeros as NaN.)

/** t shifted by d along axis, zeros filling in: y[i] = t[i - d] (or t[i + d] when backward). */
function shift(t: Tensor, axis: number, d: number, backward: boolean): Tensor {
  const n = t.shape[axis];
  if (d >= n) return zerosLike(t);
  const kept = slice(t, t.shape.map((_, k) => (k === axis && backward ? d : 0)), t.shape.map((s, k) => (k === axis ? n - d : s)));
  return pad(kept, t.shape.map((_, k) => (k === axis ? (backward ? [0, d] : [d, 0]) : [0, 0])));
}

/**
 * tf.cumsum(x, axis = 0, exclusive = false, reverse = false): running sums along axis;
 * exclusive leaves each element out of its own sum, reverse sums from the end (Note [cumsum
 * as a scan]). int32 is summed in float32 (exact up to 2^24) and returned as int32.
 */
export function cumsum(x: TensorLike, axis = 0, exclusive = false, reverse = false): Tensor {
  return opScope(() => {
    const op = 'cumsum';
    const $x = convertToTensor(x, 'x', op);
    check($x.rank >= 1, op, 'x of rank >= 1', $x.shape);
    check(typeof axis === 'number', op, 'axis as an integer', axis);
    const a = normAxis(axis, $x.rank, op);
    checkBoolean(exclusive, op, 'exclusive');
    checkBoolean(reverse, op, 'reverse');
    let y = $x.dtype === 'float32' ? $x : cast($x, 'float32');
    if (exclusive) y = shift(y, a, 1, reverse);
    for (let d = 1; d < $x.shape[a]; d *= 2) y = add(y, shift(y, a, d, reverse));
    if ($x.dtype === 'float32') return y === $x ? reshape($x, $x.shape) : y;
    return cast(y, $x.dtype === 'bool' ? 'int32' : $x.dtype);
  });
}

// ---- logSigmoid, logSumExp, norm

/** tf.logSigmoid(x): log(sigmoid(x)) = -softplus(-x), stable for large |x|. */
export function logSigmoid(x: TensorLike): Tensor {
  return opScope(() => neg(softplus(neg(floatInput(x, 'logSigmoid')))));
}

/**
 * tf.logSumExp(x, axis?, keepDims = false): log(sum(exp(x))) over axis (default: every axis),
 * computed as m + log(sum(exp(x - m))) with m the maximum, so large values do not overflow.
 * m is a constant to the gradient (its terms cancel), which is softmax(x) along the axes.
 */
export function logSumExp(x: TensorLike, axis: number | number[] | null = null, keepDims = false): Tensor {
  return opScope(() => {
    const op = 'logSumExp';
    const x0 = floatInput(x, op);
    const axes = parseAxes(axis, x0.rank, op);
    checkBoolean(keepDims, op, 'keepDims');
    if (!axes.length) return reshape(x0, x0.shape);
    const $x = x0.dtype === 'float32' ? x0 : cast(x0, 'float32');
    const kept = reducedShape($x.shape, axes, true);
    // The raw Max kernel: not on the tape, so m is a constant (as tfjs' gradient is, after cancelling).
    const m = ENGINE.runKernel('Max', [$x], { axes, keepDims: true }, [{ shape: kept, dtype: 'float32' }])[0];
    const y = add(log(sum(exp(sub($x, m)), axes, true)), m);
    return keepDims ? y : reshape(y, reducedShape($x.shape, axes, false));
  });
}

const badOrd = (expected: string, ord: unknown) => new InvalidArgumentError(`norm: expected ${expected} but received ${describe(ord)}`);

/** The orders norm accepts (tfjs'): vector norms 'euclidean' (= 2), 1, Infinity, -Infinity;
 * matrix norms 'fro' (= 'euclidean'), 1, Infinity, -Infinity. */
export type NormOrder = 'euclidean' | 'fro' | number;

/**
 * tf.norm(x, ord = 'euclidean', axis = null, keepDims = false): a vector norm over all values
 * (axis null) or one axis, or a matrix norm over two axes, as tfjs computes them: 1 = sum of
 * |x| (matrix: largest column sum), Infinity = max |x| (matrix: largest row sum), -Infinity
 * the smallest, 'euclidean' / 2 = sqrt(sum(x^2)) and, for matrices, 'fro' the same. The
 * matrix 2-norm (largest singular value) is refused, as in tfjs.
 */
export function norm(x: TensorLike, ord: NormOrder = 'euclidean', axis: number | number[] | null = null, keepDims = false): Tensor {
  return opScope(() => {
    const op = 'norm';
    const $x = floatInput(x, op);
    check(
      ord === 'euclidean' || ord === 'fro' || ord === 1 || ord === 2 || ord === Infinity || ord === -Infinity,
      op,
      "ord 'euclidean', 'fro', 1, 2, Infinity or -Infinity",
      ord,
    );
    checkBoolean(keepDims, op, 'keepDims');
    check(axis === null || axis === undefined || typeof axis === 'number' || (Array.isArray(axis) && axis.length >= 1 && axis.length <= 2), op, 'axis as null, an integer or an array of one or two integers', axis);
    if ($x.rank === 0) return abs($x);
    const axes = parseAxes(axis, $x.rank, op);
    const given = axis === null || axis === undefined ? null : Array.isArray(axis) ? axis : [axis];
    check(given === null || axes.length === given.length, op, 'two different axes for a matrix norm', axis);
    let y: Tensor;
    if (given === null || given.length === 1) {
      const v = given === null ? reshape($x, [-1]) : $x;
      const a = given === null ? 0 : axes[0];
      if (ord === 1) y = sum(abs(v), a);
      else if (ord === Infinity) y = max(abs(v), a);
      else if (ord === -Infinity) y = min(abs(v), a);
      else if (ord === 'euclidean' || ord === 2) y = sqrt(sum(square(v), a));
      else throw badOrd("ord 'euclidean', 1, 2, Infinity or -Infinity for a vector norm (axis null or one axis)", ord);
    } else {
      const [a0, a1] = axes;
      if (ord === 1) y = max(sum(abs($x), a0), a1 - 1);
      else if (ord === Infinity) y = max(sum(abs($x), a1), a0);
      else if (ord === -Infinity) y = min(sum(abs($x), a1), a0);
      else if (ord === 'fro' || ord === 'euclidean') y = sqrt(sum(square($x), axes));
      else throw badOrd("ord 'fro', 'euclidean', 1, Infinity or -Infinity for a matrix norm (two axes; the 2-norm is not supported, as in tfjs)", ord);
    }
    return keepDims ? reshape(y, reducedShape($x.shape, axes, true)) : y;
  });
}

// ---- step and the float tests

/**
 * tf.step(x, alpha = 0): 1 where x > 0, alpha elsewhere, NaN for NaN. Its gradient is zero
 * (as tfjs'): the Step kernel's result is not on the tape.
 */
export function step(x: TensorLike, alpha = 0): Tensor {
  return opScope(() => {
    const $x = floatInput(x, 'step');
    checkNumber(alpha, 'step', 'alpha');
    const s = unary('Step', $x.dtype === 'float32' ? $x : cast($x, 'float32'));
    // s + (1 - s) alpha: exactly 1 and alpha (in float32), NaN kept.
    return alpha === 0 ? s : add(s, mul(sub(1, s), alpha));
  });
}

// Note [float tests]: isNaN, isInf and isFinite are comparison kernels on x (NaN != NaN;
// |x| == Inf; |x| < Inf, false for NaN), so, as comparisons, they return 1/0 as float32
// (Note [comparison dtype]); int32 and bool values are always finite and give 0s or 1s in
// their own dtype. The kernels are not on the tape: the gradient is zero, as tfjs'.
function floatTest(op: string, test: (f: Tensor) => Tensor, nonFloat: 0 | 1) {
  return (x: TensorLike): Tensor =>
    opScope(() => {
      const $x = convertToTensor(x, 'x', op);
      if (!isFloatDType($x.dtype)) return nonFloat ? onesLike($x) : zerosLike($x);
      return test($x.dtype === 'float32' ? $x : cast($x, 'float32'));
    });
}
const compareKernel = (name: 'NotEqual' | 'Equal' | 'Less', a: Tensor, b: Tensor) =>
  ENGINE.runKernel(name, [a, b], undefined, [{ shape: a.shape, dtype: 'float32' }])[0];
const INF = () => makeTensor(Infinity, [], 'float32');

/** tf.isNaN(x): 1 where x is NaN, else 0 (Note [float tests]). */
export const isNaN = floatTest('isNaN', (f) => compareKernel('NotEqual', f, f), 0);
/** tf.isInf(x): 1 where x is +Infinity or -Infinity, else 0 (Note [float tests]). */
export const isInf = floatTest('isInf', (f) => compareKernel('Equal', unary('Abs', f), INF()), 0);
/** tf.isFinite(x): 1 where x is neither NaN nor infinite, else 0 (Note [float tests]). */
export const isFinite = floatTest('isFinite', (f) => compareKernel('Less', unary('Abs', f), INF()), 1);
