// Adam and Nadam with Keras 3 update rules (one AdamUpdate kernel, attr nadam). The
// kernel reads the step from `iterations`, incremented just before the update:
//   Adam:  m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
//          w -= m * lr sqrt(1 - b2^t) / (1 - b1^t) / (sqrt(v) + eps)
//   Nadam: u_t = b1 (1 - 0.5 * 0.96^(0.004 t)), u_prod_t = prod_{i<=t} u_i,
//          m_hat = u_{t+1} m / (1 - u_prod_t u_{t+1}) + (1 - u_t) g / (1 - u_prod_t),
//          w -= lr m_hat / (sqrt(v / (1 - b2^t)) + eps)
// Epsilon is added outside the square root (as in Keras and tf.train.adam).
import { ENGINE } from '../engine.js';
import { Tensor, Variable } from '../tensor.js';
import { Optimizer, checkHyper } from './optimizer.js';

/** Arguments of Adam and Nadam (train.adam(), train.nadam()). */
export interface AdamConfig {
  /** >= 0; default 0.001. */
  learningRate?: number;
  /** First-moment decay in [0, 1]; default 0.9. */
  beta1?: number;
  /** Second-moment decay in [0, 1]; default 0.999. */
  beta2?: number;
  /** Added outside the square root, >= 0; default 1e-7. */
  epsilon?: number;
}

/**
 * Adam, Keras 3 update rule and defaults (keras.optimizers.Adam). Throws InvalidArgumentError
 * for hyperparameters out of range.
 */
export class Adam extends Optimizer {
  readonly className: string = 'Adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  protected readonly nadam: boolean = false;

  constructor({ learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7 }: AdamConfig = {}, name = 'Adam') {
    super(learningRate, name);
    const op = name.toLowerCase();
    this.beta1 = checkHyper(op, 'beta1', beta1, 0, 1);
    this.beta2 = checkHyper(op, 'beta2', beta2, 0, 1);
    this.epsilon = checkHyper(op, 'epsilon', epsilon, 0, Infinity);
  }

  protected slotNames(): string[] {
    return ['momentum', 'velocity'];
  }

  protected update(w: Variable, g: Tensor, slots: Variable[]): void {
    const attrs = { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, nadam: this.nadam };
    ENGINE.runKernel('AdamUpdate', [w, g, slots[0], slots[1], this.iterations], attrs, []);
  }

  getConfig(): Record<string, number | boolean> {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/** Nadam (Adam with Nesterov momentum), Keras 3 update rule and defaults (keras.optimizers.Nadam). */
export class Nadam extends Adam {
  readonly className: string = 'Nadam';
  protected readonly nadam: boolean = true;
  constructor(config: AdamConfig = {}) {
    super(config, 'Nadam');
  }
}
