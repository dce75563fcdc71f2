// Merge layers over a list of inputs: Add, Subtract, Multiply, Average, Maximum, Minimum
// (elementwise, broadcasting as tfjs-layers does), Concatenate and Dot.
import { InvalidArgumentError, check } from '../errors.js';
import * as ops from '../ops/index.js';
import { Tensor } from '../tensor.js';
import { Layer, LayerArgs, Shape, formatShape, isShapeList } from './base.js';

function shapeList(inputShape: Shape | Shape[], op: string, name: string, exactly?: number): Shape[] {
  const n = isShapeList(inputShape) ? inputShape.length : 1;
  if (!isShapeList(inputShape) || n < 2 || (exactly !== undefined && n !== exactly))
    throw new InvalidArgumentError(`${op}: expected a list of ${exactly ?? 'at least 2'} inputs but received ${n} (layer '${name}')`);
  return inputShape;
}

/**
 * Output shape of an elementwise merge (tfjs-layers' Merge rule).
 * Note [merge broadcasting]: the batch axis stays first and the other axes broadcast aligned
 * on the right, so [N, 100] with [N, 1, 100] is [N, 1, 100] (tfjs inserts axes after the
 * batch axis: call() expands lower-rank inputs at axis 1), not numpy's [N, N, 100].
 */
function broadcast(shapes: Shape[], op: string, name: string): Shape {
  const rest = shapes.map((s) => s.slice(1));
  const r = Math.max(...rest.map((s) => s.length));
  const out: Shape = [];
  for (let i = 0; i < r; i++) {
    let d: number | null = 1;
    for (const s of rest) {
      const j = s.length - r + i;
      const x = j < 0 ? 1 : s[j];
      if (x === 1) continue;
      if (d === 1) d = x;
      else if (x !== null && d !== null && x !== d)
        throw new InvalidArgumentError(`${op}: expected inputs of compatible shapes but received ${shapes.map(formatShape).join(' and ')} (layer '${name}')`);
      else if (d === null) d = x;
    }
    out.push(d);
  }
  const batches = [...new Set(shapes.map((s) => s[0]).filter((b) => b !== null && b !== undefined))];
  if (batches.length > 1)
    throw new InvalidArgumentError(`${op}: expected inputs with one batch size but received ${shapes.map(formatShape).join(' and ')} (layer '${name}')`);
  return [batches.length === 1 ? batches[0] : null, ...out];
}

/** Expands lower-rank inputs at axis 1 until all have the same rank (tfjs' Merge.call). */
function expandToSameRank(xs: Tensor[]): Tensor[] {
  const r = Math.max(...xs.map((x) => x.rank));
  return xs.map((x) => (x.rank === r ? x : ops.reshape(x, [x.shape[0], ...new Array(r - x.rank).fill(1), ...x.shape.slice(1)])));
}

abstract class Merge extends Layer {
  protected abstract readonly op: string;
  protected abstract merge(xs: Tensor[]): Tensor;
  /** Number of inputs the layer requires (undefined: at least 2). */
  protected readonly arity?: number;
  constructor(args: LayerArgs = {}) {
    super(args);
  }
  build(inputShape: Shape | Shape[]): void {
    this.computeOutputShape(inputShape);
    super.build(inputShape);
  }
  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return broadcast(shapeList(inputShape, this.op, this.name, this.arity), this.op, this.name);
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    this.computeOutputShape(xs.map((x) => x.shape));
    return this.merge(expandToSameRank(xs));
  }
}

/** Elementwise sum of its inputs. */
export class Add extends Merge {
  static className = 'Add';
  protected readonly op = 'add';
  protected merge(xs: Tensor[]): Tensor {
    return xs.slice(1).reduce((a, b) => ops.add(a, b), xs[0]);
  }
}
/** Difference of exactly two inputs: inputs[0] - inputs[1] (Keras Subtract). */
export class Subtract extends Merge {
  static className = 'Subtract';
  protected readonly op = 'subtract';
  protected readonly arity = 2;
  protected merge(xs: Tensor[]): Tensor {
    return ops.sub(xs[0], xs[1]);
  }
}
/** Elementwise product of its inputs. */
export class Multiply extends Merge {
  static className = 'Multiply';
  protected readonly op = 'multiply';
  protected merge(xs: Tensor[]): Tensor {
    return xs.slice(1).reduce((a, b) => ops.mul(a, b), xs[0]);
  }
}
/** Elementwise mean of its inputs. */
export class Average extends Merge {
  static className = 'Average';
  protected readonly op = 'average';
  protected merge(xs: Tensor[]): Tensor {
    // tfjs: (1 / n) * sum, the same rounding.
    return ops.mul(xs.slice(1).reduce((a, b) => ops.add(a, b), xs[0]), 1 / xs.length);
  }
}
/** Elementwise maximum of its inputs. */
export class Maximum extends Merge {
  static className = 'Maximum';
  protected readonly op = 'maximum';
  protected merge(xs: Tensor[]): Tensor {
    return xs.slice(1).reduce((a, b) => ops.maximum(a, b), xs[0]);
  }
}
/** Elementwise minimum of its inputs. */
export class Minimum extends Merge {
  static className = 'Minimum';
  protected readonly op = 'minimum';
  protected merge(xs: Tensor[]): Tensor {
    return xs.slice(1).reduce((a, b) => ops.minimum(a, b), xs[0]);
  }
}

/** Arguments of Concatenate / layers.concatenate() (tfjs layers.concatenate). */
export interface ConcatenateLayerArgs extends LayerArgs {
  /** Axis to join on (default -1, channels). */
  axis?: number;
}

/** Joins its inputs along axis. */
export class Concatenate extends Layer {
  static className = 'Concatenate';
  readonly axis: number;
  constructor(args: ConcatenateLayerArgs = {}) {
    super(args);
    this.axis = args.axis ?? -1;
    check(Number.isInteger(this.axis), 'concatenate', 'an integer axis', args.axis);
  }
  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shapes = shapeList(inputShape, 'concatenate', this.name);
    const r = shapes[0].length;
    const a = this.axis < 0 ? this.axis + r : this.axis;
    if (a < 0 || a >= r || a === 0) throw new InvalidArgumentError(`concatenate: expected axis in [1, ${r}) but received ${this.axis} (layer '${this.name}')`);
    const out = shapes[0].slice();
    for (const s of shapes.slice(1)) {
      if (s.length !== r || s.some((d, i) => i !== a && d !== null && out[i] !== null && d !== out[i]))
        throw new InvalidArgumentError(`concatenate: expected inputs that match except on axis ${this.axis} but received ${shapes.map(formatShape).join(' and ')} (layer '${this.name}')`);
      out[a] = out[a] === null || s[a] === null ? null : (out[a] as number) + (s[a] as number);
    }
    return out;
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    return ops.concat(xs, this.axis < 0 ? this.axis + xs[0].rank : this.axis);
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }
}

// ---- Dot

/** Arguments of Dot / layers.dot() (tfjs layers.dot). */
export interface DotLayerArgs extends LayerArgs {
  /** The axis of each input to contract: one for both, or [axis of input 0, axis of input 1]. */
  axes: number | [number, number];
  /** L2-normalize both inputs along their axes first, giving cosine proximity (default false). */
  normalize?: boolean;
}

/** x / sqrt(max(sum(x^2, axis), 1e-7)) (tfjs-layers' l2Normalize, epsilon 1e-7). */
function l2Normalize(x: Tensor, axis: number): Tensor {
  return ops.div(x, ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis, true), 1e-7)));
}

/** tfjs-layers' batchDot for ranks 2 and 3 (axes already non-negative). */
function batchDot(x: Tensor, y: Tensor, axes: [number, number]): Tensor {
  const xN = x.rank, yN = y.rank;
  const diff = Math.abs(xN - yN);
  if (xN > yN) y = ops.reshape(y, [...y.shape, ...new Array(diff).fill(1)]);
  else if (yN > xN) x = ops.reshape(x, [...x.shape, ...new Array(diff).fill(1)]);
  let out: Tensor;
  if (x.rank === 2 && y.rank === 2) {
    out = axes[0] === axes[1] ? ops.sum(ops.mul(x, y), axes[0]) : ops.sum(ops.mul(ops.transpose(x, [1, 0]), y), axes[1]);
  } else {
    out = ops.matMul(x, y, axes[0] !== x.rank - 1, axes[1] === y.rank - 1);
  }
  if (diff > 0) {
    const idx = xN > yN ? xN + yN - 3 : xN - 1;
    out = ops.squeeze(out, Array.from({ length: diff }, (_, i) => idx + i));
  }
  return out.rank === 1 ? ops.expandDims(out, 1) : out;
}

/** Dot product of two samples-by-samples inputs along the given axes (inputs of rank 2 or 3). */
export class Dot extends Layer {
  static className = 'Dot';
  readonly axes: number | [number, number];
  readonly normalize: boolean;
  constructor(args: DotLayerArgs) {
    super(args);
    const a = args?.axes;
    check(Number.isInteger(a) || (Array.isArray(a) && a.length === 2 && a.every((v) => Number.isInteger(v))), 'dot', 'axes as an integer or a pair of integers', a);
    check(args.normalize === undefined || typeof args.normalize === 'boolean', 'dot', 'normalize as a boolean', args.normalize);
    this.axes = Array.isArray(a) ? [a[0], a[1]] : (a as number);
    this.normalize = args.normalize ?? false;
  }

  private resolveAxes(r1: number, r2: number): [number, number] {
    const [a1, a2] = Array.isArray(this.axes) ? this.axes : [this.axes, this.axes];
    const n1 = a1 < 0 ? a1 + r1 : a1, n2 = a2 < 0 ? a2 + r2 : a2;
    if (n1 < 0 || n1 >= r1 || n2 < 0 || n2 >= r2)
      throw new InvalidArgumentError(`dot: expected axes within the inputs' ranks ${r1} and ${r2} but received ${JSON.stringify(this.axes)} (layer '${this.name}')`);
    return [n1, n2];
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [s1, s2] = shapeList(inputShape, 'dot', this.name, 2);
    if (s1.length < 2 || s1.length > 3 || s2.length < 2 || s2.length > 3)
      throw new InvalidArgumentError(`dot: expected inputs of rank 2 or 3 but received ${formatShape(s1)} and ${formatShape(s2)} (layer '${this.name}')`);
    const [a1, a2] = this.resolveAxes(s1.length, s2.length);
    if (s1[a1] !== null && s2[a2] !== null && s1[a1] !== s2[a2])
      throw new InvalidArgumentError(`dot: expected inputs of equal size on axes [${a1}, ${a2}] but received ${formatShape(s1)} and ${formatShape(s2)} (layer '${this.name}')`);
    const out = [...s1.filter((_, i) => i !== a1), ...s2.filter((_, i) => i !== a2).slice(1)];
    if (out.length === 1) out.push(1);
    return out;
  }

  call(inputs: Tensor | Tensor[]): Tensor {
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    this.computeOutputShape(xs.map((x) => x.shape));
    const axes = this.resolveAxes(xs[0].rank, xs[1].rank);
    let [x1, x2] = xs;
    if (this.normalize) {
      x1 = l2Normalize(x1, axes[0]);
      x2 = l2Normalize(x2, axes[1]);
    }
    return batchDot(x1, x2, axes);
  }

  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axes: this.axes, normalize: this.normalize };
  }
}
