// Optimizers (exported as `train`): tfjs-style factories with Keras 3 defaults, and
// getOptimizer() for compile({optimizer: 'adam'}).
import { InvalidArgumentError, describe } from '../errors.js';
import { Adam, AdamConfig, Nadam } from './adam.js';
import { Optimizer, OptimizerSpec } from './optimizer.js';
import { RMSprop, RMSpropConfig } from './rmsprop.js';
import { SGD, SGDConfig } from './sgd.js';
import { LossScaleOptimizer, LossScaleOptions } from './loss_scale.js';

export { Optimizer, SGD, Adam, Nadam, RMSprop, LossScaleOptimizer };
export type { LossScaleOptions };
export type { GradientPair, OptimizerSpec } from './optimizer.js';
export type { SGDConfig, AdamConfig, RMSpropConfig };

/** SGD, optionally with momentum: sgd(0.01) or sgd({learningRate, momentum, nesterov}). */
export function sgd(learningRate: number | SGDConfig = 0.01, momentum = 0, nesterov = false): SGD {
  return new SGD(typeof learningRate === 'object' ? learningRate : { learningRate, momentum, nesterov });
}

/** tf.train.momentum(learningRate, momentum, useNesterov): SGD with momentum. */
export function momentum(learningRate: number, momentum: number, useNesterov = false): SGD {
  return new SGD({ learningRate, momentum, nesterov: useNesterov });
}

/** Adam with Keras 3 defaults (learningRate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7). */
export function adam(learningRate: number | AdamConfig = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7): Adam {
  return new Adam(typeof learningRate === 'object' ? learningRate : { learningRate, beta1, beta2, epsilon });
}

/** Nadam (Keras 3 rule) with Keras defaults (learningRate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7). */
export function nadam(learningRate: number | AdamConfig = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7): Nadam {
  return new Nadam(typeof learningRate === 'object' ? learningRate : { learningRate, beta1, beta2, epsilon });
}

/** RMSprop (Keras 3 rule) with Keras defaults (learningRate 0.001, rho 0.9, momentum 0, epsilon 1e-7). */
export function rmsprop(learningRate: number | RMSpropConfig = 0.001, rho = 0.9, momentum = 0, epsilon = 1e-7, centered = false): RMSprop {
  return new RMSprop(typeof learningRate === 'object' ? learningRate : { learningRate, rho, momentum, epsilon, centered });
}

/**
 * inner wrapped with dynamic loss scaling for float16 training (Keras' LossScaleOptimizer):
 * gradients of the scaled loss are divided back; a step with an inf or NaN gradient is
 * skipped and halves the scale, `dynamicGrowthSteps` good steps in a row double it.
 * compile() wraps the optimizer by itself under the 'mixed_float16' policy.
 */
export function lossScaleOptimizer(inner: Optimizer | string, options: LossScaleOptions = {}): LossScaleOptimizer {
  return new LossScaleOptimizer(getOptimizer(inner), options);
}

const byName: Record<string, (config: Record<string, unknown>) => Optimizer> = {
  sgd: (c) => new SGD(c as SGDConfig),
  adam: (c) => new Adam(c as AdamConfig),
  nadam: (c) => new Nadam(c as AdamConfig),
  rmsprop: (c) => new RMSprop(c as RMSpropConfig),
};

/**
 * An optimizer from a name ('sgd', 'adam', 'nadam', 'rmsprop'; case-insensitive, Keras
 * defaults), a serialized {className, config} (Optimizer.toSpec()), or an instance
 * (returned as is).
 */
export function getOptimizer(identifier: string | Optimizer | OptimizerSpec): Optimizer {
  if (identifier instanceof Optimizer) return identifier;
  if (identifier && typeof identifier === 'object' && identifier.className === 'LossScaleOptimizer') {
    const { inner, ...options } = identifier.config as unknown as { inner: OptimizerSpec } & LossScaleOptions;
    return new LossScaleOptimizer(getOptimizer(inner), options);
  }
  const name = typeof identifier === 'string' ? identifier : identifier?.className;
  const make = typeof name === 'string' ? byName[name.toLowerCase()] : undefined;
  if (!make)
    throw new InvalidArgumentError(
      `getOptimizer: expected 'sgd', 'adam', 'nadam', 'rmsprop', an Optimizer or {className, config} but received ${describe(identifier)}`,
    );
  return make(typeof identifier === 'string' ? {} : { ...(identifier.config ?? {}) });
}
