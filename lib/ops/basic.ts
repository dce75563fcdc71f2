// Creation, casting, reshape, broadcasting arithmetic and reductions, with gradients.
// The other op families build on these.
import { isFloatDType, isReducedPrecision } from '../dtypes.js';
import { ENGINE } from '../engine.js';
import { DTypeError, check } from '../errors.js';
import { defineOp1 } from '../gradients.js';
import type { UnaryKernel } from '../kernels/kernel_names.js';
import * as native from '../native.js';
import { DType, NestedArray, Tensor, Variable } from '../tensor.js';
import { checkBoolean, checkDType, checkInt, checkNumber, checkOutputShape, checkShape, checkTensor } from '../validate.js';
import { TensorLike, broadcastShape, checkFloat, convertToTensor, makeTensor, opScope, parseAxes, sameShape, sizeOf } from './util.js';

/** Gradients written with differentiable ops only (Note [higher-order gradients]). */
const DIFF = { differentiableGrad: true };

// ---- creation

/** tf.tensor(values, shape?, dtype?) */
export function tensor(values: NestedArray | Float32Array | Int32Array | Uint8Array, shape?: number[], dtype?: DType): Tensor {
  const dt = checkDType(dtype, 'tensor', values instanceof Int32Array ? 'int32' : values instanceof Uint8Array ? 'bool' : 'float32');
  return makeTensor(values, shape, dt);
}
/** tf.scalar(value, dtype = 'float32'): a rank-0 tensor. */
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  check(typeof value === 'number' || typeof value === 'boolean', 'scalar', 'value as a number or a boolean', value);
  return makeTensor(value, [], checkDType(dtype, 'scalar'), 'scalar');
}
/** tf.tensor1d(values, dtype?): a rank-1 tensor. */
export function tensor1d(values: number[] | Float32Array | Int32Array, dtype?: DType): Tensor {
  return tensor(values as NestedArray, undefined, dtype);
}
/** tf.tensor2d(values, shape?, dtype?): a rank-2 tensor ([rows, cols]). */
export function tensor2d(values: NestedArray | Float32Array, shape?: [number, number], dtype?: DType): Tensor {
  return tensor(values, shape, dtype);
}
/** tf.tensor4d(values, shape?, dtype?): a rank-4 tensor (e.g. NHWC images). */
export function tensor4d(values: NestedArray | Float32Array, shape?: [number, number, number, number], dtype?: DType): Tensor {
  return tensor(values, shape, dtype);
}

/** A tensor of the given shape filled with value. */
export function fill(shape: number[], value: number, dtype: DType = 'float32', op = 'fill'): Tensor {
  shape = checkShape(shape, op);
  checkNumber(value, op, 'value', true);
  dtype = checkDType(dtype, op);
  return ENGINE.runKernel('Fill', [], { shape, value, dtype }, [{ shape: shape.slice(), dtype }])[0];
}
/** tf.zeros(shape, dtype = 'float32'): a tensor of zeros. */
export function zeros(shape: number[], dtype: DType = 'float32'): Tensor {
  return fill(shape, 0, dtype, 'zeros');
}
/** tf.ones(shape, dtype = 'float32'): a tensor of ones. */
export function ones(shape: number[], dtype: DType = 'float32'): Tensor {
  return fill(shape, 1, dtype, 'ones');
}
/** tf.zerosLike(x): zeros of x's shape and dtype. */
export function zerosLike(x: Tensor): Tensor {
  const $x = convertToTensor(x, 'x', 'zerosLike');
  return fill($x.shape, 0, $x.dtype, 'zerosLike');
}
/** tf.onesLike(x): ones of x's shape and dtype. */
export function onesLike(x: Tensor): Tensor {
  const $x = convertToTensor(x, 'x', 'onesLike');
  return fill($x.shape, 1, $x.dtype, 'onesLike');
}

/** A copy with its own buffer. */
export function clone(x: TensorLike): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'clone');
    return defineOp1([$x], () => ENGINE.runKernel('Copy', [$x], undefined, [{ shape: $x.shape, dtype: $x.dtype }])[0], (dy) => [dy], DIFF);
  });
}

let variableCount = 0;
/** A mutable, trainable tensor initialized with a copy of initialValue. */
export function variable(initialValue: Tensor, trainable = true, name?: string, dtype?: DType): Variable {
  checkTensor(initialValue, 'variable', 'initialValue');
  checkBoolean(trainable, 'variable', 'trainable');
  check(name === undefined || typeof name === 'string', 'variable', 'name as a string', name);
  if (dtype !== undefined) checkDType(dtype, 'variable');
  const init = dtype && dtype !== initialValue.dtype ? cast(initialValue, dtype) : initialValue;
  const [copy] = ENGINE.runKernel('Copy', [init], undefined, [{ shape: init.shape, dtype: init.dtype }]);
  const v = new Variable(copy.shape, copy.dtype, copy.backend, copy.handle!, trainable, name ?? `variable_${variableCount++}`);
  // The copy's handle now belongs to the variable.
  copy.handle = undefined;
  copy.dispose();
  if (init !== initialValue) init.dispose();
  return v;
}

/**
 * tf.cast(x, dtype): converts to 'float32', 'int32', 'bool', 'bfloat16' or 'float16'. To bfloat16 /
 * float16 it rounds to nearest even, keeping NaN and infinities, as TensorFlow does. The
 * gradient flows between floating dtypes (cast back to x's dtype), not through int32 or bool.
 * Throws InvalidArgumentError for another dtype.
 */
export function cast(x: TensorLike, dtype: DType): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'cast');
    checkDType(dtype, 'cast');
    const floats = isFloatDType($x.dtype) && isFloatDType(dtype);
    // Note [cast to bool]: the Cast kernel truncates to a byte (0.5 -> 0, -1 -> 255); bool
    // means "non-zero" (TensorFlow's and tfjs' rule), so test against 0 first.
    // bfloat16 / float16 have no NotEqual kernel: they go through float32 (exact: a 2-byte
    // float is non-zero exactly when its float32 widening is).
    if (dtype === 'bool' && isReducedPrecision($x.dtype)) return cast(cast($x, 'float32'), 'bool');
    const src = dtype === 'bool' && $x.dtype !== 'bool' ? ENGINE.runKernel('NotEqual', [$x, makeTensor(0, [], $x.dtype)], undefined, [{ shape: $x.shape, dtype: $x.dtype }])[0] : $x;
    return defineOp1(
      [$x],
      () => ENGINE.runKernel('Cast', [src], { dtype }, [{ shape: $x.shape, dtype }])[0],
      (dy) => [floats ? (dy.dtype === $x.dtype ? dy : cast(dy, $x.dtype)) : null],
      DIFF,
    );
  });
}

// ---- shape

/** Reshape; one dimension may be -1. Shares the buffer (no copy). */
export function reshape(x: TensorLike, shape: number[]): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'reshape');
    const s = inferReshape(checkShape(shape, 'reshape', 'shape', true), $x.size, $x.shape);
    return defineOp1([$x], () => ENGINE.runKernel('Reshape', [$x], { shape: s }, [{ shape: s, dtype: $x.dtype }])[0], (dy) => [reshape(dy, $x.shape)], DIFF);
  });
}

function inferReshape(shape: number[], size: number, from: number[]): number[] {
  const s = shape.slice();
  const neg = s.indexOf(-1);
  if (neg >= 0) {
    const rest = s.reduce((a, b, i) => (i === neg ? a : a * b), 1);
    check(rest > 0 && size % rest === 0, 'reshape', `a shape compatible with ${size} elements`, shape);
    s[neg] = size / rest;
  }
  check(sizeOf(s) === size && s.every((d) => Number.isInteger(d) && d >= 0), 'reshape', `a shape with ${size} elements (from [${from}])`, shape);
  return s;
}

/** tf.expandDims(x, axis = 0): inserts a dimension of size 1 at axis (negative counts from the end); no copy. */
export function expandDims(x: TensorLike, axis = 0): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'expandDims');
    checkInt(axis, 'expandDims', 'axis');
    const a = axis < 0 ? axis + $x.rank + 1 : axis;
    check(a >= 0 && a <= $x.rank, 'expandDims', `axis in [${-$x.rank - 1}, ${$x.rank}]`, axis);
    const s = $x.shape.slice();
    s.splice(a, 0, 1);
    return reshape($x, s);
  });
}

/** tf.squeeze(x, axis?): removes the size-1 dimensions (all of them, or those in axis); no copy. */
export function squeeze(x: TensorLike, axis?: number[]): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'squeeze');
    check(axis === undefined || axis === null || Array.isArray(axis), 'squeeze', 'axis as an array of integers', axis);
    const axes = axis ? parseAxes(axis, $x.rank, 'squeeze') : $x.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
    axes.forEach((a) => check($x.shape[a] === 1, 'squeeze', `size 1 on axis ${a}`, $x.shape));
    return reshape($x, $x.shape.filter((_, i) => !axes.includes(i)));
  });
}

// ---- broadcasting arithmetic

/** Sums a broadcast gradient back down to shape. */
export function reduceToShape(g: Tensor, shape: number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  const s = axes.length ? sum(g, axes) : g;
  return reshape(s, shape);
}

type BinaryName = 'Add' | 'Sub' | 'Mul' | 'Div' | 'Maximum' | 'Minimum' | 'Pow' | 'SquaredDifference' | 'FloorDiv' | 'Mod';
type CompareName = 'Equal' | 'NotEqual' | 'Greater' | 'GreaterEqual' | 'Less' | 'LessEqual';

function binaryArgs(a: TensorLike, b: TensorLike, op: string): [Tensor, Tensor, number[]] {
  let $a = a instanceof Tensor ? a : undefined;
  let $b = b instanceof Tensor ? b : undefined;
  // Plain numbers take the other operand's dtype, as in tfjs.
  if (!$a) $a = convertToTensor(a, 'a', op, $b?.dtype === 'int32' ? 'int32' : 'float32');
  if (!$b) $b = convertToTensor(b, 'b', op, $a.dtype === 'int32' ? 'int32' : 'float32');
  convertToTensor($a, 'a', op);
  convertToTensor($b, 'b', op);
  // A float32 operand may meet a bfloat16 / float16 one: the native primitive reads both and
  // writes the reduced dtype (Note [casts inside primitives] in native/cpu/bf16_backend.h).
  const mixedFloat = isFloatDType($a.dtype) && isFloatDType($b.dtype) && ($a.dtype === 'float32' || $b.dtype === 'float32');
  if ($a.dtype !== $b.dtype && !mixedFloat) throw new DTypeError(`${op}: expected b of a's dtype ${$a.dtype} but received ${$b.dtype}`);
  return [$a, $b, broadcastShape($a.shape, $b.shape, op)];
}

function binary(name: BinaryName, a: Tensor, b: Tensor, shape: number[]): Tensor {
  return ENGINE.runKernel(name, [a, b], undefined, [{ shape, dtype: a.dtype }])[0];
}

/**
 * tf.add(a, b): elementwise a + b with broadcasting. Plain numbers take the other operand's dtype;
 * throws DTypeError when the dtypes differ and InvalidArgumentError when the shapes don't broadcast.
 */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return opScope(() => {
    const [$a, $b, s] = binaryArgs(a, b, 'add');
    return defineOp1([$a, $b], () => binary('Add', $a, $b, s), (dy) => [reduceToShape(dy, $a.shape), reduceToShape(dy, $b.shape)], DIFF);
  });
}
/** tf.sub(a, b): elementwise a - b with broadcasting (dtypes must match, as in add). */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return opScope(() => {
    const [$a, $b, s] = binaryArgs(a, b, 'sub');
    return defineOp1([$a, $b], () => binary('Sub', $a, $b, s), (dy) => [reduceToShape(dy, $a.shape), reduceToShape(neg(dy), $b.shape)], DIFF);
  });
}
/** tf.mul(a, b): elementwise a * b with broadcasting (dtypes must match, as in add). */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return opScope(() => {
    const [$a, $b, s] = binaryArgs(a, b, 'mul');
    return defineOp1([$a, $b], () => binary('Mul', $a, $b, s), (dy) => [reduceToShape(mul(dy, $b), $a.shape), reduceToShape(mul(dy, $a), $b.shape)], DIFF);
  });
}
/** tf.div(a, b): elementwise a / b with broadcasting (dtypes must match, as in add). */
export function div(a: TensorLike, b: TensorLike): Tensor {
  return opScope(() => {
    const [$a, $b, s] = binaryArgs(a, b, 'div');
    return defineOp1([$a, $b], () => binary('Div', $a, $b, s), (dy) => [
      reduceToShape(div(dy, $b), $a.shape),
      reduceToShape(neg(div(mul(dy, $a), mul($b, $b))), $b.shape),
    ], DIFF);
  });
}
/** tf.maximum(a, b): elementwise max with broadcasting; on ties the gradient goes to a. */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return opScope(() => {
    const [$a, $b, s] = binaryArgs(a, b, 'maximum');
    return defineOp1([$a, $b], () => binary('Maximum', $a, $b, s), (dy) => {
      const m = compare('GreaterEqual', $a, $b, s);
      return [reduceToShape(mul(dy, m), $a.shape), reduceToShape(mul(dy, sub(1, m)), $b.shape)];
    }, DIFF);
  });
}
/** tf.minimum(a, b): elementwise min with broadcasting; on ties the gradient goes to a. */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return opScope(() => {
    const [$a, $b, s] = binaryArgs(a, b, 'minimum');
    return defineOp1([$a, $b], () => binary('Minimum', $a, $b, s), (dy) => {
      const m = compare('LessEqual', $a, $b, s);
      return [reduceToShape(mul(dy, m), $a.shape), reduceToShape(mul(dy, sub(1, m)), $b.shape)];
    }, DIFF);
  });
}
/** tf.pow(a, b): elementwise a^b with broadcasting. */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  return opScope(() => {
    const [$a, $b, s] = binaryArgs(a, b, 'pow');
    return defineOp1([$a, $b], () => binary('Pow', $a, $b, s), (dy, y) => [
      reduceToShape(mul(dy, mul($b, pow($a, sub($b, 1)))), $a.shape),
      reduceToShape(mul(dy, mul(y, logOf(maximum($a, 1e-30)))), $b.shape),
    ], DIFF);
  });
}
/** tf.squaredDifference(a, b): elementwise (a - b)^2 with broadcasting. */
export function squaredDifference(a: TensorLike, b: TensorLike): Tensor {
  return opScope(() => {
    const [$a, $b, s] = binaryArgs(a, b, 'squaredDifference');
    return defineOp1([$a, $b], () => binary('SquaredDifference', $a, $b, s), (dy) => {
      const d = mul(dy, mul(2, sub($a, $b)));
      return [reduceToShape(d, $a.shape), reduceToShape(neg(d), $b.shape)];
    }, DIFF);
  });
}
/** tf.floorDiv(a, b): elementwise floor(a / b) with broadcasting; no gradient. */
export function floorDiv(a: TensorLike, b: TensorLike): Tensor {
  return opScope(() => {
    const [$a, $b, s] = binaryArgs(a, b, 'floorDiv');
    return binary('FloorDiv', $a, $b, s);
  });
}
/** tf.mod(a, b): elementwise remainder with broadcasting; no gradient. */
export function mod(a: TensorLike, b: TensorLike): Tensor {
  return opScope(() => {
    const [$a, $b, s] = binaryArgs(a, b, 'mod');
    return binary('Mod', $a, $b, s);
  });
}

// Note [comparison dtype]: comparisons return 1/0 in the operands' dtype (float32 for
// float inputs), not tfjs' 'bool', so their results feed arithmetic without a cast.
function compare(name: CompareName, a: Tensor, b: Tensor, shape: number[]): Tensor {
  return ENGINE.runKernel(name, [a, b], undefined, [{ shape, dtype: a.dtype }])[0];
}
const comparison = (name: CompareName, op: string) => (a: TensorLike, b: TensorLike): Tensor =>
  opScope(() => {
    const [$a, $b, s] = binaryArgs(a, b, op);
    return compare(name, $a, $b, s);
  });
/** tf.equal(a, b): 1 where a == b else 0, broadcast, in the operands' dtype (not tfjs' 'bool'). */
export const equal = comparison('Equal', 'equal');
/** tf.notEqual(a, b): 1 where a != b else 0, broadcast, in the operands' dtype. */
export const notEqual = comparison('NotEqual', 'notEqual');
/** tf.greater(a, b): 1 where a > b else 0, broadcast, in the operands' dtype. */
export const greater = comparison('Greater', 'greater');
/** tf.greaterEqual(a, b): 1 where a >= b else 0, broadcast, in the operands' dtype. */
export const greaterEqual = comparison('GreaterEqual', 'greaterEqual');
/** tf.less(a, b): 1 where a < b else 0, broadcast, in the operands' dtype. */
export const less = comparison('Less', 'less');
/** tf.lessEqual(a, b): 1 where a <= b else 0, broadcast, in the operands' dtype. */
export const lessEqual = comparison('LessEqual', 'lessEqual');

// ---- unary basics used by gradients

/**
 * Runs the named native unary kernel on x, with no gradient (for gradient code).
 * @internal
 */
export function unary(name: UnaryKernel, x: Tensor): Tensor {
  return ENGINE.runKernel(name, [x], undefined, [{ shape: x.shape, dtype: x.dtype }])[0];
}

/** Natural logarithm with its gradient, for pow's (activations.ts holds the public log). */
function logOf(x: Tensor): Tensor {
  return defineOp1([x], () => unary('Log', x), (dy) => [div(dy, x)], DIFF);
}

/** tf.neg(x): elementwise -x (float32). */
export function neg(x: TensorLike): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'neg', 'float32');
    return defineOp1([$x], () => unary('Neg', $x), (dy) => [neg(dy)], DIFF);
  });
}

// ---- reductions

type ReduceName = 'Sum' | 'Mean' | 'Max' | 'Min' | 'Prod';

function reduceShape(shape: number[], axes: number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

function reduce(name: ReduceName, x: Tensor, axes: number[], keepDims: boolean): Tensor {
  return ENGINE.runKernel(name, [x], { axes, keepDims }, [{ shape: reduceShape(x.shape, axes, keepDims), dtype: 'float32' }])[0];
}

/** Broadcasts a reduced gradient back to x's shape. */
function expandGrad(dy: Tensor, x: Tensor, axes: number[]): Tensor {
  const kept = reshape(dy, reduceShape(x.shape, axes, true));
  return mul(kept, onesLike(x));
}

/**
 * tf.sum(x, axis?, keepDims = false): sum over axis (default: every axis), as float32 (int32 input is
 * cast). Throws InvalidArgumentError for an axis out of range.
 */
export function sum(x: TensorLike, axis?: number | number[] | null, keepDims = false): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'sum');
    const $f = $x.dtype === 'float32' ? $x : cast($x, 'float32');
    const axes = parseAxes(axis, $x.rank, 'sum');
    checkBoolean(keepDims, 'sum', 'keepDims');
    return defineOp1([$f], () => reduce('Sum', $f, axes, keepDims), (dy) => [expandGrad(dy, $f, axes)], DIFF);
  });
}
/** tf.mean(x, axis?, keepDims = false): mean over axis (default: every axis), as float32. */
export function mean(x: TensorLike, axis?: number | number[] | null, keepDims = false): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'mean');
    const $f = $x.dtype === 'float32' ? $x : cast($x, 'float32');
    const axes = parseAxes(axis, $x.rank, 'mean');
    checkBoolean(keepDims, 'mean', 'keepDims');
    const n = axes.reduce((a, i) => a * $x.shape[i], 1);
    return defineOp1([$f], () => reduce('Mean', $f, axes, keepDims), (dy) => [div(expandGrad(dy, $f, axes), n)], DIFF);
  });
}
function minMax(name: 'Max' | 'Min', op: string) {
  return (x: TensorLike, axis?: number | number[] | null, keepDims = false): Tensor =>
    opScope(() => {
      const $in = convertToTensor(x, 'x', op, 'float32');
      checkFloat($in, 'x', op);
      // bfloat16 / float16 through float32 (exact), as the other reductions.
      const $x = isReducedPrecision($in.dtype) ? cast($in, 'float32') : $in;
      const axes = parseAxes(axis, $x.rank, op);
      checkBoolean(keepDims, op, 'keepDims');
      return defineOp1([$x], () => reduce(name, $x, axes, keepDims), (dy, y) => {
        // Gradient flows to every position equal to the extreme value (as tfjs does).
        const yk = reshape(y, reduceShape($x.shape, axes, true));
        const m = equal($x, mul(yk, onesLike($x)));
        return [mul(expandGrad(dy, $x, axes), m)];
      }, DIFF);
    });
}
/** tf.max(x, axis?, keepDims = false): maximum over axis (default: every axis), float32; the gradient goes to every maximal element. */
export const max = minMax('Max', 'max');
/** tf.min(x, axis?, keepDims = false): minimum over axis (default: every axis), float32; the gradient goes to every minimal element. */
export const min = minMax('Min', 'min');
/** tf.prod(x, axis?, keepDims = false): product over axis (default: every axis), float32. */
export function prod(x: TensorLike, axis?: number | number[] | null, keepDims = false): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'prod', 'float32');
    const axes = parseAxes(axis, $x.rank, 'prod');
    checkBoolean(keepDims, 'prod', 'keepDims');
    return defineOp1([$x], () => reduce('Prod', $x, axes, keepDims), (dy, y) => [div(mul(expandGrad(dy, $x, axes), reshape(y, reduceShape($x.shape, axes, true))), $x)], DIFF);
  });
}

/** tf.argMax(x, axis = 0): int32 indices of the maxima along axis (float32 input), that axis removed. */
export function argMax(x: TensorLike, axis = 0): Tensor {
  return opScope(() => {
    const $x = convertToTensor(x, 'x', 'argMax', 'float32');
    check($x.rank >= 1, 'argMax', 'x of rank >= 1', $x.shape);
    check(typeof axis === 'number', 'argMax', 'axis as an integer', axis);
    const a = parseAxes(axis, $x.rank, 'argMax')[0];
    return ENGINE.runKernel('ArgMax', [$x], { axis: a }, [{ shape: $x.shape.filter((_, i) => i !== a), dtype: 'int32' }])[0];
  });
}

/**
 * tf.oneHot(indices, depth, onValue = 1, offValue = 0): float32 of shape [...indices.shape, depth]
 * from int32 indices. Throws InvalidArgumentError unless depth >= 1.
 */
export function oneHot(indices: TensorLike, depth: number, onValue = 1, offValue = 0): Tensor {
  return opScope(() => {
    const $i = convertToTensor(indices, 'indices', 'oneHot', 'int32');
    check(Number.isInteger(depth) && depth >= 1, 'oneHot', 'depth >= 1', depth);
    checkNumber(onValue, 'oneHot', 'onValue');
    checkNumber(offValue, 'oneHot', 'offValue');
    checkOutputShape([...$i.shape, depth], 'oneHot');
    return ENGINE.runKernel('OneHot', [$i], { depth, onValue, offValue }, [{ shape: [...$i.shape, depth], dtype: 'float32' }])[0];
  });
}

/** Backend name a tensor lives on. */
export function backendOf(t: Tensor): string {
  return native.backendOf(checkTensor(t, 'backendOf', 't').liveHandle('backendOf'));
}
