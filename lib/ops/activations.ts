// Elementwise activations and unary math (relu ... cos), leakyRelu, softmax and
// logSoftmax, each with its gradient. Native unary kernels work on float32 of any shape;
// the softmax kernels work on the last axis, so other axes are transposed there first.
import { ENGINE } from '../engine.js';
import { check } from '../errors.js';
import { defineOp1 } from '../gradients.js';
import type { UnaryGradKernel, UnaryKernel } from '../kernels/kernel_names.js';
import { Tensor } from '../tensor.js';
import { add, div, greater, less, mul, neg, sub, sum, unary, zerosLike } from './basic.js';
import { TensorLike, checkFloat, convertToTensor, inversePerm, normAxis, opScope } from './util.js';

function floatInput(x: TensorLike, op: string): Tensor {
  const $x = convertToTensor(x, 'x', op, 'float32');
  checkFloat($x, 'x', op);
  return $x;
}

type UnaryGrad = (dy: Tensor, x: Tensor, y: Tensor) => Tensor;

/**
 * A unary op with a gradient written in terms of (dy, x, y). `composed` is how that gradient
 * is differentiated: 'self' when grad already uses differentiable ops only, or a function
 * of differentiable ops that replaces grad's fused gradient kernel while a tape records the
 * backprop (a higher-order gradient, Note [higher-order gradients]).
 */
function unaryOp(kernel: UnaryKernel, op: string, grad: UnaryGrad, composed: 'self' | UnaryGrad) {
  return (x: TensorLike): Tensor =>
    opScope(() => {
      const $x = floatInput(x, op);
      const g: UnaryGrad = composed === 'self' ? grad : (dy, x, y) => (ENGINE.recording ? composed(dy, x, y) : grad(dy, x, y));
      return defineOp1([$x], () => unary(kernel, $x), (dy, y) => [g(dy, $x, y)], { differentiableGrad: true });
    });
}

/** Runs a native (dy, ref) gradient kernel. */
function gradKernel(kernel: UnaryGradKernel, dy: Tensor, ref: Tensor): Tensor {
  return ENGINE.runKernel(kernel, [dy, ref], undefined, [{ shape: ref.shape, dtype: 'float32' }])[0];
}

const zeroGrad = (dy: Tensor) => zerosLike(dy);

// selu's constants (TensorFlow's).
const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

/** max(x, 0) */
export const relu = unaryOp('Relu', 'relu', (dy, _x, y) => gradKernel('ReluGrad', dy, y), (dy, _x, y) => mul(dy, greater(y, 0)));
/** min(max(x, 0), 6) */
export const relu6 = unaryOp('Relu6', 'relu6', (dy, _x, y) => gradKernel('Relu6Grad', dy, y), (dy, _x, y) => mul(dy, mul(greater(y, 0), less(y, 6))));
/** x for x > 0, exp(x) - 1 otherwise. */
export const elu = unaryOp('Elu', 'elu', (dy, _x, y) => gradKernel('EluGrad', dy, y), (dy, _x, y) => {
  const m = greater(y, 0);
  return mul(dy, add(m, mul(sub(1, m), add(y, 1))));
});
/** Scaled elu (scale 1.0507..., alpha 1.6732...). */
export const selu = unaryOp('Selu', 'selu', (dy, _x, y) => gradKernel('SeluGrad', dy, y), (dy, _x, y) => {
  const m = greater(y, 0);
  return mul(dy, add(mul(m, SELU_SCALE), mul(sub(1, m), add(y, SELU_SCALE * SELU_ALPHA))));
});
/** 1 / (1 + exp(-x)), elementwise (tf.sigmoid). */
export const sigmoid = unaryOp('Sigmoid', 'sigmoid', (dy, _x, y) => gradKernel('SigmoidGrad', dy, y), (dy, _x, y) => mul(dy, mul(y, sub(1, y))));
/** Hyperbolic tangent, elementwise (tf.tanh). */
export const tanh = unaryOp('Tanh', 'tanh', (dy, _x, y) => gradKernel('TanhGrad', dy, y), (dy, _x, y) => mul(dy, sub(1, mul(y, y))));
/** log(1 + exp(x)) */
export const softplus = unaryOp('Softplus', 'softplus', (dy, x) => mul(dy, sigmoid(x)), 'self');
/** e^x, elementwise (tf.exp). */
export const exp = unaryOp('Exp', 'exp', (dy, _x, y) => mul(dy, y), 'self');
/** Natural logarithm, elementwise (tf.log). */
export const log = unaryOp('Log', 'log', (dy, x) => div(dy, x), 'self');
/** log(1 + x), elementwise (tf.log1p), accurate for small x. */
export const log1p = unaryOp('Log1p', 'log1p', (dy, x) => div(dy, add(x, 1)), 'self');
/** Square root, elementwise (tf.sqrt). */
export const sqrt = unaryOp('Sqrt', 'sqrt', (dy, _x, y) => div(dy, mul(y, 2)), 'self');
/** 1 / sqrt(x); gradient -0.5 * dy * y / x. */
export const rsqrt = unaryOp('Rsqrt', 'rsqrt', (dy, x, y) => mul(dy, div(mul(y, -0.5), x)), 'self');
/** x * x, elementwise (tf.square). */
export const square = unaryOp('Square', 'square', (dy, x) => mul(dy, mul(x, 2)), 'self');
/** |x|, elementwise (tf.abs); gradient dy * sign(x). */
export const abs = unaryOp('Abs', 'abs', (dy, x) => mul(dy, unary('Sign', x)), 'self');
/** -1, 0 or 1 by the sign of x, elementwise (tf.sign); zero gradient. */
export const sign = unaryOp('Sign', 'sign', zeroGrad, 'self');
/** Rounds down, elementwise (tf.floor); zero gradient. */
export const floor = unaryOp('Floor', 'floor', zeroGrad, 'self');
/** Rounds up, elementwise (tf.ceil); zero gradient. */
export const ceil = unaryOp('Ceil', 'ceil', zeroGrad, 'self');
/** Rounds half to even, as TensorFlow does. */
export const round = unaryOp('Round', 'round', zeroGrad, 'self');
/** 1 / x, elementwise (tf.reciprocal). */
export const reciprocal = unaryOp('Reciprocal', 'reciprocal', (dy, x) => neg(div(dy, mul(x, x))), 'self');
/** Sine (radians), elementwise (tf.sin). */
export const sin = unaryOp('Sin', 'sin', (dy, x) => mul(dy, cos(x)), 'self');
/** Cosine (radians), elementwise (tf.cos). */
export const cos = unaryOp('Cos', 'cos', (dy, x) => neg(mul(dy, sin(x))), 'self');

/** x for x > 0, alpha * x otherwise. Composed: x * (m + alpha * (1 - m)) with the 0/1
 * mask m = x > 0 as a constant, so the gradient is dy * (m + alpha * (1 - m)). */
export function leakyRelu(x: TensorLike, alpha = 0.2): Tensor {
  return opScope(() => {
    const $x = floatInput(x, 'leakyRelu');
    check(typeof alpha === 'number' && Number.isFinite(alpha), 'leakyRelu', 'alpha as a finite number', alpha);
    const m = greater($x, 0);
    return mul($x, add(m, mul(sub(1, m), alpha)));
  });
}

/** x for x > 0, alpha * x otherwise, with a (broadcast) tensor alpha. */
export function prelu(x: TensorLike, alpha: TensorLike): Tensor {
  return opScope(() => {
    const $x = floatInput(x, 'prelu');
    const $a = convertToTensor(alpha, 'alpha', 'prelu', 'float32');
    const m = greater($x, 0);
    // x * m + alpha * x * (1 - m): both x and alpha get their gradients from the parts.
    return add(mul($x, m), mul($a, mul($x, sub(1, m))));
  });
}

/** Activations the fused ops (fused.conv2d, fused.matMul, fused.depthwiseConv2d) accept (tf.fused's names). */
export type Activation = 'linear' | 'relu' | 'relu6' | 'elu' | 'selu' | 'sigmoid' | 'tanh' | 'leakyrelu' | 'prelu';
const ACTIVATIONS: Activation[] = ['linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'tanh', 'leakyrelu', 'prelu'];

/**
 * Returns activation when it is one of the fused ops' names, else throws InvalidArgumentError for op.
 * @internal
 */
export function checkActivation(activation: unknown, op: string): Activation {
  check(ACTIVATIONS.includes(activation as Activation), op, `activation one of ${ACTIVATIONS.map((a) => `'${a}'`).join(', ')}`, activation);
  return activation as Activation;
}

/**
 * Applies a fused op's activation to y by composition (prelu needs preluWeights; leakyrelu uses
 * leakyreluAlpha, default 0.2).
 * @internal
 */
export function applyActivation(y: Tensor, activation: Activation, preluWeights?: TensorLike, leakyreluAlpha = 0.2): Tensor {
  switch (activation) {
    case 'linear': return y;
    case 'relu': return relu(y);
    case 'relu6': return relu6(y);
    case 'elu': return elu(y);
    case 'selu': return selu(y);
    case 'sigmoid': return sigmoid(y);
    case 'tanh': return tanh(y);
    case 'leakyrelu': return leakyRelu(y, leakyreluAlpha);
    case 'prelu':
      check(preluWeights !== undefined, 'fused', 'preluActivationWeights for prelu', preluWeights);
      return prelu(y, preluWeights);
  }
}

/** Moves axis to the end (for last-axis kernels) and returns the permutation used. */
function lastAxisPerm(rank: number, axis: number): number[] | null {
  if (axis === rank - 1) return null;
  const perm = [...Array(rank).keys()].filter((i) => i !== axis);
  perm.push(axis);
  return perm;
}

function transposeRaw(x: Tensor, perm: number[]): Tensor {
  return ENGINE.runKernel('Transpose', [x], { perm }, [{ shape: perm.map((p) => x.shape[p]), dtype: x.dtype }])[0];
}

function softmaxFamily(kernel: 'Softmax' | 'LogSoftmax', op: string) {
  return (logits: TensorLike, dim = -1): Tensor =>
    opScope(() => {
      const $x = convertToTensor(logits, 'logits', op, 'float32');
      checkFloat($x, 'logits', op);
      check($x.rank >= 1, op, 'logits of rank >= 1', $x.shape);
      const axis = normAxis(dim, $x.rank, op, 'dim');
      const perm = lastAxisPerm($x.rank, axis);
      return defineOp1(
        [$x],
        () => {
          if (!perm) return unary(kernel, $x);
          const t = transposeRaw($x, perm);
          return transposeRaw(unary(kernel, t), inversePerm(perm));
        },
        (dy, y) => {
          // Differentiable form while a tape records (Note [higher-order gradients]):
          // softmax dx = y (dy - sum(dy y)), logSoftmax dx = dy - exp(y) sum(dy).
          if (ENGINE.recording)
            return [kernel === 'Softmax' ? mul(y, sub(dy, sum(mul(dy, y), axis, true))) : sub(dy, mul(exp(y), sum(dy, axis, true)))];
          if (!perm) return [gradKernel(`${kernel}Grad`, dy, y)];
          const g = gradKernel(`${kernel}Grad`, transposeRaw(dy, perm), transposeRaw(y, perm));
          return [transposeRaw(g, inversePerm(perm))];
        },
        { differentiableGrad: true },
      );
    });
}

/** exp(x) / sum(exp(x)) along dim (default the last axis). */
export const softmax = softmaxFamily('Softmax', 'softmax');
/** x - log(sum(exp(x))) along axis (default the last axis). */
export const logSoftmax = softmaxFamily('LogSoftmax', 'logSoftmax');
