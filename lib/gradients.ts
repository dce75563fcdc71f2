// Reverse-mode autodiff over the engine's tape: defineOp() records an op with its
// gradient; grad/grads/valueAndGrad(s)/variableGrads run a function and backprop.
import { isFloatDType } from './dtypes.js';
import { ENGINE, tidy } from './engine.js';
import { InvalidArgumentError, NotSupportedError, check } from './errors.js';
import { Tensor, Variable } from './tensor.js';
import { add, onesLike, zerosLike } from './ops/basic.js';
import { checkFunction, checkTensor } from './validate.js';

/** Maps output gradients to input gradients; needed[i] false means input i's gradient is
 * not used, so the op may return null there and skip the work (e.g. conv's dx for the
 * first layer). */
export type GradFn = (dys: Tensor[], outputs: Tensor[], needed: boolean[]) => Array<Tensor | null>;

/** How a gradient of defineOp's gradient behaves. */
export interface OpOptions {
  /** The op's name in errors; default: the last kernel its forward ran. */
  name?: string;
  /**
   * True when grad computes with differentiable ops only (constants such as 0/1 masks, whose
   * derivative is zero, are fine), so a gradient of the gradient is exact. Default false: a
   * higher-order gradient that reaches the op throws NotSupportedError rather than treat
   * its gradient kernels as constants and return a wrong value.
   */
  differentiableGrad?: boolean;
}

/** Runs forward() and, when a gradient tape is active, records grad for its outputs. */
export function defineOp(inputs: Tensor[], forward: () => Tensor[], grad: GradFn, options: OpOptions = {}): Tensor[] {
  if (!Array.isArray(inputs) || typeof forward !== 'function' || typeof grad !== 'function' || options === null || typeof options !== 'object') {
    check(Array.isArray(inputs), 'defineOp', 'inputs as an array of tensors', inputs);
    checkFunction(forward, 'defineOp', 'forward');
    checkFunction(grad, 'defineOp', 'grad');
    check(false, 'defineOp', 'options as an object', options);
  }
  const outputs = forward();
  if (!Array.isArray(outputs)) check(false, options.name ?? 'defineOp', 'forward to return an array of tensors', outputs);
  if (ENGINE.recording)
    ENGINE.record(inputs, outputs, (dys, needed) => grad(dys, outputs, needed), options.name ?? ENGINE.lastKernel, options.differentiableGrad === true);
  return outputs;
}

/** Single-output form of defineOp. */
export function defineOp1(
  inputs: Tensor[],
  forward: () => Tensor,
  grad: (dy: Tensor, y: Tensor, needed: boolean[]) => Array<Tensor | null>,
  options: OpOptions = {},
): Tensor {
  if (typeof forward !== 'function') checkFunction(forward, 'defineOp1', 'forward');
  if (typeof grad !== 'function') checkFunction(grad, 'defineOp1', 'grad');
  return defineOp(inputs, () => [forward()], (dys, outs, needed) => grad(dys[0], outs[0], needed), options)[0];
}

interface Node {
  inputs: Tensor[];
  outputs: Tensor[];
  grad: (dys: Tensor[], needed: boolean[]) => Array<Tensor | null>;
  name: string;
  differentiableGrad: boolean;
}

/**
 * Note [higher-order gradients]: a grad() inside another grad()'s function runs its backprop
 * while the outer tape records, so the ops its gradient functions use are recorded too and
 * the outer backprop differentiates them (Note [tidy under a tape] keeps their tensors
 * alive). Ops whose fast gradient kernels have no gradient (relu's ReluGrad, conv's
 * backprop kernels, BatchNormGrad ...) switch to differentiable forms while a tape records
 * the backprop (ENGINE.recording); linear gradients (pooling, resizing, convolution) are ops
 * whose gradient is the forward again. A gradient function that calls kernels directly (a
 * custom op's that does not opt in) leaves
 * values the outer tape would see as constants; for such an op (differentiableGrad false)
 * this records a node over its input gradients whose own gradient throws, so the outer
 * gradient fails with a clear error when, and only when, it depends on them.
 */
function guardNonDifferentiable(n: Node, dys: Tensor[], dxs: Array<Tensor | null>): void {
  const known = new Set([...n.inputs, ...n.outputs, ...dys].map((t) => t.id));
  const made = dxs.filter((g): g is Tensor => g !== null && !known.has(g.id));
  if (!made.length) return;
  ENGINE.record([...n.inputs, ...dys], made, () => {
    throw new NotSupportedError(
      `grad: expected ops with differentiable gradients in a higher-order gradient but received ${n.name}, whose gradient kernels have no gradient of their own`,
    );
  }, `${n.name} gradient`, true);
}

/** Backpropagates dy from y to xs through the recorded nodes. */
export function backprop(tape: Node[], xs: Tensor[], y: Tensor, dy: Tensor): Array<Tensor | null> {
  // Forward reachability from xs, so gradients are computed only where needed.
  const reach = new Set<number>(xs.map((x) => x.id));
  const useful: Node[] = [];
  for (const n of tape) {
    if (n.inputs.some((t) => reach.has(t.id))) {
      n.outputs.forEach((o) => reach.add(o.id));
      useful.push(n);
    }
  }
  const grads = new Map<number, Tensor>();
  grads.set(y.id, dy);
  for (let i = useful.length - 1; i >= 0; i--) {
    const n = useful[i];
    if (!n.outputs.some((o) => grads.has(o.id))) continue;
    const dys = n.outputs.map((o) => grads.get(o.id) ?? zerosLike(o));
    const dxs = n.grad(dys, n.inputs.map((t) => reach.has(t.id) && isFloatDType(t.dtype)));
    if (ENGINE.recording && !n.differentiableGrad) guardNonDifferentiable(n, dys, dxs);
    n.inputs.forEach((inp, j) => {
      const g = dxs[j];
      if (!g || !reach.has(inp.id) || !isFloatDType(inp.dtype)) return;
      check(
        g.shape.length === inp.shape.length && g.shape.every((d, k) => d === inp.shape[k]),
        'gradient',
        `gradient of shape [${inp.shape}]`,
        g.shape,
      );
      const prev = grads.get(inp.id);
      grads.set(inp.id, prev ? add(prev, g) : g);
    });
  }
  return xs.map((x) => grads.get(x.id) ?? null);
}

function runWithTape<T>(f: () => T): { value: T; tape: Node[] } {
  const tape = ENGINE.startTape();
  try {
    return { value: f(), tape };
  } finally {
    ENGINE.endTape();
  }
}

/** Gradients of f's scalar (or dy-weighted) output with respect to each of xs. */
export function valueAndGrads(f: (...xs: Tensor[]) => Tensor, op = 'valueAndGrads'): (xs: Tensor[], dy?: Tensor) => { value: Tensor; grads: Tensor[] } {
  checkFunction(f, op, 'f');
  return (xs, dy) => {
    check(Array.isArray(xs), op, 'xs as an array of tensors', xs);
    xs.forEach((x, i) => checkTensor(x, op, `xs[${i}]`));
    if (dy !== undefined) checkTensor(dy, op, 'dy');
    return tidy(() => {
      const { value, tape } = runWithTape(() => f(...xs));
      check(value instanceof Tensor, op, 'f to return a tensor', value);
      const seed = dy ?? onesLike(value);
      const gs = backprop(tape, xs, value, seed).map((g, i) => g ?? zerosLike(xs[i]));
      // tidy() keeps what it returns and hands it to the enclosing scope.
      return { value, grads: gs };
    });
  };
}

/**
 * tfjs grads(): returns a function (xs, dy?) computing the gradients of f's output with respect to
 * each of xs, weighted by dy (default ones); an input f does not use gets zeros. Like
 * valueAndGrads, but the value is disposed. Throws InvalidArgumentError when xs is not an array.
 */
export function grads(f: (...xs: Tensor[]) => Tensor, op = 'grads'): (xs: Tensor[], dy?: Tensor) => Tensor[] {
  checkFunction(f, op, 'f');
  const vg = valueAndGrads(f, op);
  return (xs, dy) => {
    const { value, grads: g } = vg(xs, dy);
    value.dispose();
    return g;
  };
}

/**
 * tfjs grad(): returns a function (x, dy?) computing the gradient of f(x) with respect to x, of x's
 * shape, weighted by dy (default ones).
 */
export function grad(f: (x: Tensor) => Tensor): (x: Tensor, dy?: Tensor) => Tensor {
  checkFunction(f, 'grad', 'f');
  const g = grads((x) => f(x), 'grad');
  return (x, dy) => g([x], dy)[0];
}

/**
 * tfjs valueAndGrad(): returns a function (x, dy?) giving both f(x) and its gradient with respect to
 * x, weighted by dy (default ones).
 */
export function valueAndGrad(f: (x: Tensor) => Tensor): (x: Tensor, dy?: Tensor) => { value: Tensor; grad: Tensor } {
  checkFunction(f, 'valueAndGrad', 'f');
  const vg = valueAndGrads((x) => f(x), 'valueAndGrad');
  return (x, dy) => {
    const r = vg([x], dy);
    return { value: r.value, grad: r.grads[0] };
  };
}

/** Gradients of f() with respect to the trainable variables it uses (or varList). */
export function variableGrads(f: () => Tensor, varList?: Variable[]): { value: Tensor; grads: Record<string, Tensor> } {
  checkFunction(f, 'variableGrads', 'f');
  check(varList === undefined || (Array.isArray(varList) && varList.every((v) => v instanceof Variable)), 'variableGrads', 'varList as an array of Variables', varList);
  varList?.forEach((v, i) => checkTensor(v, 'variableGrads', `varList[${i}]`));
  return tidy(() => {
    const { value, tape } = runWithTape(f);
    check(value instanceof Tensor, 'variableGrads', 'f to return a tensor', value);
    let vars = varList;
    if (!vars) {
      const seen = new Map<number, Variable>();
      for (const n of tape) for (const t of n.inputs) if (t instanceof Variable && t.trainable) seen.set(t.id, t);
      vars = [...seen.values()];
    }
    if (value.size !== 1) throw new InvalidArgumentError(`variableGrads: expected f to return a scalar but received shape [${value.shape}]`);
    const gs = backprop(tape, vars, value, onesLike(value));
    const out: Record<string, Tensor> = {};
    vars.forEach((v, i) => (out[v.name] = gs[i] ?? zerosLike(v)));
    return { value, grads: out };
  });
}

/** Records a tape while running f and returns it, for the model layer's train step. */
export function recordTape<T>(f: () => T): { value: T; tape: Node[] } {
  return runWithTape(f);
}
