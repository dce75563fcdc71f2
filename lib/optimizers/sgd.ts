// SGD with optional (Nesterov) momentum, Keras 3 update rule:
//   momentum > 0: v = momentum * v - lr * g; w += nesterov ? momentum * v - lr * g : v
//   otherwise:    w -= lr * g
import { ENGINE } from '../engine.js';
import { Tensor, Variable } from '../tensor.js';
import { Optimizer, checkHyper } from './optimizer.js';

/** Arguments of SGD / train.sgd(). */
export interface SGDConfig {
  /** >= 0; default 0.01. */
  learningRate?: number;
  /** In [0, 1]; default 0 (plain SGD). */
  momentum?: number;
  /** Nesterov momentum; default false. */
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent with optional (Nesterov) momentum, Keras 3 update rule (keras.optimizers.SGD).
 * Throws InvalidArgumentError for a learningRate < 0 or a momentum outside [0, 1].
 */
export class SGD extends Optimizer {
  readonly className = 'SGD';
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor({ learningRate = 0.01, momentum = 0, nesterov = false }: SGDConfig = {}) {
    super(learningRate, 'SGD');
    this.momentum = checkHyper('sgd', 'momentum', momentum, 0, 1);
    this.nesterov = !!nesterov;
  }

  protected slotNames(): string[] {
    return this.momentum > 0 ? ['momentum'] : [];
  }

  protected update(w: Variable, g: Tensor, slots: Variable[]): void {
    const attrs = { learningRate: this.learningRate, momentum: this.momentum, nesterov: this.nesterov };
    ENGINE.runKernel('SGDUpdate', this.momentum > 0 ? [w, g, slots[0]] : [w, g], attrs, []);
  }

  getConfig(): Record<string, number | boolean> {
    return { learningRate: this.learningRate, momentum: this.momentum, nesterov: this.nesterov };
  }
}
