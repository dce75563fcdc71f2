// Activation functions by Keras/tfjs name, for layers' `activation` option. Names that the
// fused conv/matmul kernels implement are applied inside them (see FUSABLE).
import { InvalidArgumentError } from '../errors.js';
import * as ops from '../ops/index.js';
import { Tensor } from '../tensor.js';

/** Activation names a layer's `activation` option accepts (Keras snake_case spellings too). */
export type ActivationIdentifier =
  | 'linear' | 'relu' | 'relu6' | 'elu' | 'selu' | 'sigmoid' | 'hardSigmoid' | 'tanh'
  | 'softmax' | 'logSoftmax' | 'softplus' | 'softsign' | 'swish' | 'silu' | 'leakyRelu';

const fns: Record<string, (x: Tensor) => Tensor> = {
  linear: (x) => x,
  relu: (x) => ops.relu(x),
  relu6: (x) => ops.relu6(x),
  elu: (x) => ops.elu(x),
  selu: (x) => ops.selu(x),
  sigmoid: (x) => ops.sigmoid(x),
  hardSigmoid: (x) => ops.div(ops.relu6(ops.add(x, 3)), 6),
  tanh: (x) => ops.tanh(x),
  softmax: (x) => ops.softmax(x),
  logSoftmax: (x) => ops.logSoftmax(x),
  softplus: (x) => ops.softplus(x),
  softsign: (x) => ops.div(x, ops.add(ops.abs(x), 1)),
  swish: (x) => ops.mul(x, ops.sigmoid(x)),
  silu: (x) => ops.mul(x, ops.sigmoid(x)),
  leakyRelu: (x) => ops.leakyRelu(x, 0.2),
};

/** Activations the fused conv2d / matMul ops apply in the same kernel. */
export const FUSABLE = new Set(['linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'tanh']);

/** Normalizes 'hard_sigmoid' / 'HardSigmoid' / undefined to the camelCase name. */
export function activationName(a: string | null | undefined, op = 'activation'): string {
  if (a === undefined || a === null) return 'linear';
  if (typeof a !== 'string') throw new InvalidArgumentError(`${op}: expected an activation name but received ${typeof a}`);
  const c = a.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
  const n = c.charAt(0).toLowerCase() + c.slice(1);
  if (!fns[n]) throw new InvalidArgumentError(`${op}: expected an activation (${Object.keys(fns).join(', ')}) but received '${a}'`);
  return n;
}

/** The activation function for a name. */
export function getActivation(name: string): (x: Tensor) => Tensor {
  return fns[activationName(name)];
}
