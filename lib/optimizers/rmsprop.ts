// RMSprop, Keras 3 update rule (which differs from tf.train.rmsprop, see the tests):
//   ms = rho ms + (1 - rho) g^2
//   centered: mg = rho mg + (1 - rho) g; denom = ms - mg^2 + eps, else denom = ms + eps
//   inc = lr g / sqrt(denom); momentum > 0: mom = momentum mom + inc, w -= mom; else w -= inc
import { ENGINE } from '../engine.js';
import type { KernelInputs } from '../kernels/kernel_names.js';
import { Tensor, Variable } from '../tensor.js';
import { Optimizer, checkHyper } from './optimizer.js';

/** Arguments of RMSprop / train.rmsprop(). */
export interface RMSpropConfig {
  /** >= 0; default 0.001. */
  learningRate?: number;
  /** Decay of the mean square, in [0, 1]; default 0.9. */
  rho?: number;
  /** In [0, 1]; default 0. */
  momentum?: number;
  /** >= 0; default 1e-7. */
  epsilon?: number;
  /** Divide by the centered (variance) estimate; default false. */
  centered?: boolean;
}

/**
 * RMSprop, Keras 3 update rule and defaults (keras.optimizers.RMSprop; differs from
 * tf.train.rmsprop). Throws InvalidArgumentError for hyperparameters out of range.
 */
export class RMSprop extends Optimizer {
  readonly className = 'RMSprop';
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;

  constructor({ learningRate = 0.001, rho = 0.9, momentum = 0, epsilon = 1e-7, centered = false }: RMSpropConfig = {}) {
    super(learningRate, 'RMSprop');
    this.rho = checkHyper('rmsprop', 'rho', rho, 0, 1);
    this.momentum = checkHyper('rmsprop', 'momentum', momentum, 0, 1);
    this.epsilon = checkHyper('rmsprop', 'epsilon', epsilon, 0, Infinity);
    this.centered = !!centered;
  }

  protected slotNames(): string[] {
    return ['velocity', ...(this.momentum > 0 ? ['momentum'] : []), ...(this.centered ? ['average_gradient'] : [])];
  }

  protected update(w: Variable, g: Tensor, slots: Variable[]): void {
    const [ms] = slots;
    const mom = this.momentum > 0 ? slots[1] : undefined;
    const mg = this.centered ? slots[slots.length - 1] : undefined;
    // Note [rmsprop inputs]: the kernel takes (w, g, ms[, mom[, mg]]) and ignores mom when
    // momentum is 0, so centered-without-momentum passes ms in mom's place.
    const inputs: KernelInputs<'RMSPropUpdate'> = mg ? [w, g, ms, mom ?? ms, mg] : mom ? [w, g, ms, mom] : [w, g, ms];
    const attrs = { learningRate: this.learningRate, rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
    ENGINE.runKernel('RMSPropUpdate', inputs, attrs, []);
  }

  getConfig(): Record<string, number | boolean> {
    return { learningRate: this.learningRate, rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }
}
