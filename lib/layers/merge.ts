// Merge layers over a list of inputs: Add, Multiply, Average, Maximum, Concatenate.
import { InvalidArgumentError, check } from '../errors.js';
import * as ops from '../ops/index.js';
import { Tensor } from '../tensor.js';
import { Layer, LayerArgs, Shape, formatShape, isShapeList } from './base.js';

function shapeList(inputShape: Shape | Shape[], op: string, name: string): Shape[] {
  if (!isShapeList(inputShape) || inputShape.length < 2)
    throw new InvalidArgumentError(`${op}: expected a list of at least 2 inputs but received ${isShapeList(inputShape) ? inputShape.length : 1} (layer '${name}')`);
  return inputShape;
}

/** Broadcast of shapes with unknown (null) dimensions. */
function broadcast(shapes: Shape[], op: string, name: string): Shape {
  const r = Math.max(...shapes.map((s) => s.length));
  const out: Shape = [];
  for (let i = 0; i < r; i++) {
    let d: number | null = 1;
    for (const s of shapes) {
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
  return out;
}

abstract class Merge extends Layer {
  protected abstract readonly op: string;
  protected abstract merge(xs: Tensor[]): Tensor;
  constructor(args: LayerArgs = {}) {
    super(args);
  }
  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return broadcast(shapeList(inputShape, this.op, this.name), this.op, this.name);
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    check(xs.length >= 2, this.op, `at least 2 inputs (layer '${this.name}')`, `${xs.length}`);
    return this.merge(xs);
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
    return ops.div(xs.slice(1).reduce((a, b) => ops.add(a, b), xs[0]), xs.length);
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
