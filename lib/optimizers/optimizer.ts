// The Optimizer base class: slot variables per weight, the step counter, and in-place
// updates through the SGDUpdate / AdamUpdate / RMSPropUpdate kernels, so the same code
// runs eagerly and while a training step is being traced into a native plan by compile().
import { checkFunction } from '../validate.js';
import { ENGINE, keep, tidy } from '../engine.js';
import { InvalidArgumentError, check, describe } from '../errors.js';
import { backprop, recordTape } from '../gradients.js';
import { fill, onesLike, scalar, variable, zerosLike } from '../ops/basic.js';
import { Tensor, Variable, variablesByName } from '../tensor.js';

/** A weight and its gradient, as passed to applyGradients(). */
export interface GradientPair {
  variable: Variable;
  grad: Tensor;
}

/** A serialized optimizer: Keras class name plus getConfig(). */
export interface OptimizerSpec {
  className: string;
  config: Record<string, number | boolean>;
}

/** Runs fn with new tensors created on backend (the variables' backend, not the current one). */
function onBackend<T>(backend: string, fn: () => T): T {
  const prev = ENGINE.backend;
  ENGINE.backend = backend;
  try {
    return fn();
  } finally {
    ENGINE.backend = prev;
  }
}

function newVariable(shape: number[], backend: string, name: string, value = 0): Variable {
  return onBackend(backend, () => {
    const init = fill(shape, value);
    try {
      return variable(init, false, name);
    } finally {
      init.dispose();
    }
  });
}

let optimizerCount = 0;

/**
 * Base class of the optimizers. Updates are in place: `applyGradients()` runs one update
 * kernel per weight (no outputs), so a compiled plan that reads the weights sees the new
 * values at its next run.
 *
 * Note [slots before tracing]: slot variables (Adam's m and v, momentum velocity, ...) are
 * real buffers that a plan binds by reference, so they cannot be created while compile()
 * is tracing. The model calls `build(variables)` before compiling its train step; eagerly,
 * `applyGradients()` builds any missing slots itself.
 */
export abstract class Optimizer {
  /** The Keras class name ('SGD', 'Adam', 'Nadam', 'RMSprop'). */
  abstract readonly className: string;
  /** Slot names, in creation order (e.g. ['momentum', 'velocity'] for Adam). */
  protected abstract slotNames(): string[];
  /** Runs the update kernel for one weight (eagerly, or recorded while tracing). */
  protected abstract update(w: Variable, g: Tensor, slots: Variable[]): void;
  abstract getConfig(): Record<string, number | boolean>;

  /** Learning rate. A compiled plan keeps the value it was traced with; recompile to change it there. */
  learningRate: number;
  /** Unique name, the prefix of slot variable names. */
  readonly name: string;

  private iterationsVar: Variable | null = null;
  private one: Tensor | null = null;
  private readonly slots = new Map<number, { variable: Variable; slots: Variable[] }>();
  private disposed = false;

  constructor(learningRate: number, name: string) {
    check(typeof learningRate === 'number' && Number.isFinite(learningRate) && learningRate >= 0, name, 'learningRate >= 0', learningRate);
    this.learningRate = learningRate;
    this.name = `${name}${optimizerCount ? `_${optimizerCount}` : ''}`;
    optimizerCount++;
  }

  /** The float32 scalar step counter: the number of applyGradients() calls so far. */
  get iterations(): Variable {
    this.checkLive('iterations');
    if (!this.iterationsVar) this.buildCounter(ENGINE.backend);
    return this.iterationsVar!;
  }

  /** Creates the step counter and, for each variable, its slot variables (zeros, same
   * shape, same backend). Idempotent; call it before tracing a train step. */
  build(variables: Variable[]): void {
    this.checkLive('build');
    check(Array.isArray(variables), `${this.className}.build`, 'an array of variables', variables);
    for (const v of variables) {
      check(v instanceof Variable, `${this.className}.build`, 'Variables', v);
      if (this.slots.has(v.id)) continue;
      this.checkNotTracing('build');
      check(v.dtype === 'float32', `${this.className}.build`, `float32 variables (${v.name})`, v.dtype);
      const slots = this.slotNames().map((s) => newVariable(v.shape, v.backend, `${this.name}/${v.name}_${s}`));
      this.slots.set(v.id, { variable: v, slots });
    }
    this.buildCounter(variables.length ? variables[0].backend : this.iterationsVar?.backend ?? ENGINE.backend);
  }

  /** The step counter and the constant 1 it is incremented by, on backend. */
  private buildCounter(backend: string): void {
    if (this.iterationsVar && this.iterationsVar.backend !== backend) {
      // Move the counter next to the weights (the update kernels read it there).
      this.checkNotTracing('build');
      const step = this.iterationsVar.dataSync()[0];
      this.iterationsVar.dispose();
      this.iterationsVar = newVariable([], backend, `${this.name}/iterations`, step);
    }
    if (this.one && this.one.backend !== backend) {
      this.one.dispose();
      this.one = null;
    }
    if (!this.iterationsVar) {
      this.checkNotTracing('build');
      this.iterationsVar = newVariable([], backend, `${this.name}/iterations`);
    }
    if (!this.one) {
      this.checkNotTracing('build');
      this.one = keep(onBackend(backend, () => scalar(1)));
    }
  }

  /**
   * Updates each variable in place from its gradient, after incrementing `iterations`.
   * Works eagerly and while compile() traces a train step (then every slot must already
   * exist: see build()).
   */
  applyGradients(pairs: GradientPair[] | Record<string, Tensor>): void {
    this.checkLive('applyGradients');
    const op = `${this.className}.applyGradients`;
    check(pairs !== null && typeof pairs === 'object', op, 'an array of {variable, grad} pairs or a {name: grad} map', pairs);
    const list = Array.isArray(pairs) ? pairs : this.pairsFromNames(pairs, op);
    for (const p of list) {
      check(p && p.variable instanceof Variable, op, '{variable: Variable, grad: Tensor} pairs', p?.variable);
      check(p.grad instanceof Tensor, op, `a gradient tensor for '${p.variable.name}'`, p.grad);
      if (p.grad.shape.length !== p.variable.shape.length || p.grad.shape.some((d, i) => d !== p.variable.shape[i]))
        throw new InvalidArgumentError(`${op}: expected the gradient of '${p.variable.name}' of shape ${describe(p.variable.shape)} but received ${describe(p.grad.shape)}`);
      check(p.grad.dtype === 'float32', op, `a float32 gradient for '${p.variable.name}'`, p.grad.dtype);
    }
    const missing = list.filter((p) => !this.slots.has(p.variable.id)).map((p) => p.variable);
    if (missing.length) {
      if (ENGINE.trace)
        throw new InvalidArgumentError(
          `${op}: expected slot variables for ${missing.map((v) => `'${v.name}'`).join(', ')} ` +
            'but received none (call optimizer.build(variables) before compiling the train step)',
        );
      this.build(missing);
    }
    if (!this.iterationsVar || !this.one) this.build([]);
    const iterations = this.iterationsVar!;
    const one = this.one!;
    tidy(() => {
      ENGINE.runKernel('AssignAdd', [iterations, one], undefined, []);
      for (const p of list) this.update(p.variable, p.grad, this.slots.get(p.variable.id)!.slots);
    });
  }

  /** The {variable, grad} pairs of a {name: grad} map (what variableGrads() returns, as in
   * tfjs): the names of the variables this optimizer updates, else of any live variable. */
  private pairsFromNames(grads: Record<string, Tensor>, op: string): GradientPair[] {
    const known = new Map<string, Variable>();
    for (const { variable } of this.slots.values()) known.set(variable.name, variable);
    return Object.entries(grads).map(([name, grad]) => {
      const v = known.get(name) ?? variablesByName.get(name)?.deref();
      if (!v || v.isDisposed)
        throw new InvalidArgumentError(`${op}: expected the name of a live variable but received '${name}' (no variable has it)`);
      return { variable: v, grad };
    });
  }

  /** Minimizes f() (a scalar) over varList (default: the trainable variables it uses), as
   * tf.train optimizers do. Eager only; a model compiles its own train step. */
  minimize(f: () => Tensor, returnCost = false, varList?: Variable[]): Tensor | null {
    const op = `${this.className}.minimize`;
    checkFunction(f, op, 'f');
    let vars: Variable[] = varList ?? [];
    const { value, grads } = tidy(() => {
      const { value, tape } = recordTape(f);
      check(value instanceof Tensor && value.size === 1, op, 'f to return a scalar', value);
      if (!varList) {
        const seen = new Map<number, Variable>();
        for (const n of tape) for (const t of n.inputs) if (t instanceof Variable && t.trainable) seen.set(t.id, t);
        vars = [...seen.values()];
      }
      const gs = backprop(tape, vars, value, this.lossGradientSeed(value));
      // Only tensors leave tidy(): variables must not be adopted by an outer scope.
      return { value: keep(value), grads: gs.map((g, i) => keep(g ?? zerosLike(vars[i]))) };
    });
    try {
      this.applyGradients(vars.map((v, i) => ({ variable: v, grad: grads[i] })));
    } finally {
      grads.forEach((g) => g.dispose());
    }
    if (returnCost) return value;
    value.dispose();
    return null;
  }

  /**
   * @internal the gradient backprop of a loss starts from: ones, or the loss scale under a
   * LossScaleOptimizer (loss_scale.ts). minimize() and the models' train steps use it.
   */
  lossGradientSeed(loss: Tensor): Tensor {
    return onesLike(loss);
  }

  /** The optimizer's variables in Keras order: iterations, then each weight's slots in build order. */
  getWeights(): Variable[] {
    this.checkLive('getWeights');
    const out: Variable[] = [this.iterations];
    for (const { slots } of this.slots.values()) out.push(...slots);
    return out;
  }

  /** Restores getWeights() values (same order and shapes); build() must have been called with the same variables. */
  setWeights(values: Tensor[]): void {
    const ws = this.getWeights();
    check(Array.isArray(values) && values.length === ws.length, `${this.className}.setWeights`, `${ws.length} tensors`, values?.length);
    ws.forEach((w, i) => {
      const v = values[i];
      if (v.shape.length !== w.shape.length || v.shape.some((d, k) => d !== w.shape[k]))
        throw new InvalidArgumentError(`${this.className}.setWeights: expected ${w.name} of shape ${describe(w.shape)} but received ${describe(v.shape)}`);
      w.assign(v);
    });
  }

  /** The serializable form {className, config}; getOptimizer() accepts it back. */
  toSpec(): OptimizerSpec {
    return { className: this.className, config: this.getConfig() };
  }

  /** Frees the step counter and every slot variable. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.iterationsVar?.dispose();
    this.one?.dispose();
    for (const { slots } of this.slots.values()) slots.forEach((s) => s.dispose());
    this.slots.clear();
    this.iterationsVar = null;
    this.one = null;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** @internal the slot variables of one weight (in slotNames() order), if built. */
  getSlots(v: Variable): Variable[] | undefined {
    return this.slots.get(v.id)?.slots;
  }

  private checkLive(op: string): void {
    if (this.disposed) throw new InvalidArgumentError(`${this.className}.${op}: expected a live optimizer but received a disposed one`);
  }

  private checkNotTracing(op: string): void {
    if (ENGINE.trace)
      throw new InvalidArgumentError(
        `${this.className}.${op}: expected optimizer variables to exist before compile() but received a request to create them while tracing (call optimizer.build(variables) first)`,
      );
  }
}

/** Checks a hyper-parameter is a finite number in [lo, hi] (or (lo, hi] when openLo). */
export function checkHyper(op: string, name: string, v: unknown, lo: number, hi: number, openLo = false): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (openLo ? v > lo : v >= lo) && v <= hi;
  check(ok, op, `${name} in ${openLo ? '(' : '['}${lo}, ${hi === Infinity ? 'Infinity)' : `${hi}]`}`, v);
  return v as number;
}
