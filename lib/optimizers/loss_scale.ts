// Dynamic loss scaling for float16 training (Keras' LossScaleOptimizer): the loss is
// multiplied by a scale before backprop so that small float16 gradients do not flush to
// zero; applyGradients() divides them back, and
//   - if any gradient is inf or NaN: skips the step (weights, slots and the inner step
//     counter unchanged) and halves the scale;
//   - else applies the inner optimizer, and after `dynamicGrowthSteps` finite steps in a
//     row doubles the scale.
//
// Note [loss scaling inside a plan]: a compiled train step cannot branch on a value, so the
// skip is data flow: the update runs on gradients zeroed where the step is skipped, and
// each weight, slot and the inner counter is then set to where(finite, updated, previous)
// from a copy taken before the update. The scale and the count of good steps are updated
// the same way. The same code runs eagerly and while a train step is traced, on any
// backend; the price is one copy and one select of the weights and slots per step.
import { ENGINE, tidy } from '../engine.js';
import { InvalidArgumentError, check } from '../errors.js';
import { add, div, fill, greaterEqual, mul, onesLike, sum, variable, zerosLike } from '../ops/basic.js';
import { isFinite } from '../ops/math_extra.js';
import { where } from '../ops/transforms.js';
import { Tensor, Variable, variablesByName } from '../tensor.js';
import { GradientPair, Optimizer } from './optimizer.js';

/** Options of lossScaleOptimizer() (Keras LossScaleOptimizer's arguments). */
export interface LossScaleOptions {
  /** The first scale; default 2 ** 15. */
  initialScale?: number;
  /** Finite steps in a row after which the scale doubles; default 2000. */
  dynamicGrowthSteps?: number;
}

function scalarVariable(value: number, name: string, backend: string): Variable {
  const prev = ENGINE.backend;
  ENGINE.backend = backend;
  try {
    const init = fill([], value);
    try {
      return variable(init, false, name);
    } finally {
      init.dispose();
    }
  } finally {
    ENGINE.backend = prev;
  }
}

/** An optimizer wrapped with dynamic loss scaling (see the file header). */
export class LossScaleOptimizer extends Optimizer {
  readonly className = 'LossScaleOptimizer';
  readonly initialScale: number;
  readonly dynamicGrowthSteps: number;
  private scaleVar: Variable | null = null;
  private goodSteps: Variable | null = null;

  constructor(
    /** The optimizer that updates the weights. */
    readonly inner: Optimizer,
    { initialScale = 2 ** 15, dynamicGrowthSteps = 2000 }: LossScaleOptions = {},
    /** @internal whether dispose() frees inner too (not when compile() wrapped the caller's optimizer). */
    private readonly ownsInner = true,
  ) {
    check(inner instanceof Optimizer && !(inner instanceof LossScaleOptimizer), 'lossScaleOptimizer', 'inner as an Optimizer (not a LossScaleOptimizer)', inner);
    super(inner.learningRate, 'LossScaleOptimizer');
    check(typeof initialScale === 'number' && Number.isFinite(initialScale) && initialScale > 0, 'lossScaleOptimizer', 'initialScale as a finite number > 0', initialScale);
    check(Number.isInteger(dynamicGrowthSteps) && dynamicGrowthSteps >= 1, 'lossScaleOptimizer', 'dynamicGrowthSteps as an integer >= 1', dynamicGrowthSteps);
    this.initialScale = initialScale;
    this.dynamicGrowthSteps = dynamicGrowthSteps;
    // The learning rate is the inner optimizer's (schedulers set it here).
    Object.defineProperty(this, 'learningRate', {
      get: () => inner.learningRate,
      set: (v: number) => (inner.learningRate = v),
      enumerable: true,
    });
  }

  protected slotNames(): string[] {
    return [];
  }
  protected update(): void {
    // Updates are the inner optimizer's (applyGradients is overridden).
  }

  /** The current loss scale (a float32 scalar variable). */
  get lossScale(): Variable {
    if (!this.scaleVar) this.build([]);
    return this.scaleVar!;
  }

  /** The inner optimizer's step counter: the number of steps applied (skipped ones excluded). */
  get iterations(): Variable {
    return this.inner.iterations;
  }

  build(variables: Variable[]): void {
    this.inner.build(variables);
    const backend = variables.length ? variables[0].backend : this.inner.iterations.backend;
    if (!this.scaleVar) this.scaleVar = scalarVariable(this.initialScale, `${this.name}/loss_scale`, backend);
    if (!this.goodSteps) this.goodSteps = scalarVariable(0, `${this.name}/good_steps`, backend);
  }

  /** loss * scale: what backprop starts from (Keras' scale_loss). */
  scaleLoss(loss: Tensor): Tensor {
    return mul(loss, this.lossScale);
  }

  /**
   * Divides the gradients (of a scaled loss) by the scale and applies them with the inner
   * optimizer, or skips the step if one is inf or NaN; then updates the scale.
   */
  applyGradients(pairs: GradientPair[] | Record<string, Tensor>): void {
    check(pairs !== null && typeof pairs === 'object', `${this.className}.applyGradients`, 'an array of {variable, grad} pairs or a {name: grad} map', pairs);
    const list: GradientPair[] = Array.isArray(pairs) ? pairs : Object.entries(pairs).map(([name, grad]) => ({ variable: this.byName(name), grad }));
    if (!this.scaleVar || !this.goodSteps || ENGINE.trace === null) this.build(list.map((p) => p.variable).filter((v) => v instanceof Variable));
    const scale = this.scaleVar!;
    const good = this.goodSteps!;
    tidy(() => {
      // 0 when every gradient is finite, NaN otherwise.
      const probe = list.map((p) => sum(mul(p.grad, 0))).reduce((a, b) => add(a, b), fill([], 0));
      const finite = isFinite(probe);
      const unscaled = list.map((p) => ({ variable: p.variable, grad: where(finite, div(p.grad, scale), zerosLike(p.grad)) }));
      const state = [this.inner.iterations, ...list.flatMap((p) => [p.variable, ...(this.inner.getSlots(p.variable) ?? [])])];
      const before = state.map((v) => ENGINE.runKernel('Copy', [v], undefined, [{ shape: v.shape.slice(), dtype: v.dtype }])[0]);
      this.inner.applyGradients(unscaled);
      state.forEach((v, i) => ENGINE.runKernel('Assign', [v, where(finite, v, before[i])], undefined, []));
      const grown = add(good, 1);
      const grow = greaterEqual(grown, this.dynamicGrowthSteps);
      const nextScale = where(finite, where(grow, mul(scale, 2), scale), mul(scale, 0.5));
      const nextGood = where(finite, where(grow, zerosLike(good), grown), zerosLike(good));
      ENGINE.runKernel('Assign', [scale, nextScale], undefined, []);
      ENGINE.runKernel('Assign', [good, nextGood], undefined, []);
    });
  }

  /** Backprop starts from the scale: the gradients are those of the scaled loss. */
  lossGradientSeed(loss: Tensor): Tensor {
    return this.scaleLoss(onesLike(loss));
  }

  /** The live variable of a {name: grad} map's key (as Optimizer.applyGradients resolves it). */
  private byName(name: string): Variable {
    const v = variablesByName.get(name)?.deref();
    if (!v || v.isDisposed) throw new InvalidArgumentError(`${this.className}.applyGradients: expected the name of a live variable but received '${name}' (no variable has it)`);
    return v;
  }

  /** The inner optimizer's weights, then the scale and the good-step count. */
  getWeights(): Variable[] {
    return [...this.inner.getWeights(), this.lossScale, this.goodSteps!];
  }

  setWeights(values: Tensor[]): void {
    const n = this.inner.getWeights().length;
    check(Array.isArray(values) && values.length === n + 2, `${this.className}.setWeights`, `${n + 2} tensors`, values?.length);
    this.inner.setWeights(values.slice(0, n));
    this.lossScale.assign(values[n]);
    this.goodSteps!.assign(values[n + 1]);
  }

  getConfig(): Record<string, number | boolean> {
    return { initialScale: this.initialScale, dynamicGrowthSteps: this.dynamicGrowthSteps };
  }

  toSpec() {
    return { className: this.className, config: { ...this.getConfig(), inner: this.inner.toSpec() } as never };
  }

  /** @internal the inner optimizer's slots. */
  getSlots(v: Variable): Variable[] | undefined {
    return this.inner.getSlots(v);
  }

  dispose(): void {
    this.scaleVar?.dispose();
    this.goodSteps?.dispose();
    this.scaleVar = this.goodSteps = null;
    if (this.ownsInner) this.inner.dispose();
    super.dispose();
  }
}
