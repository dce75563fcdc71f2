// GroupedConv2D: a convolution whose input and output channels split into `groups` independent
// halves (or thirds, ...), as AlexNet's layers 2, 4 and 5 ran on two GPUs. Built from one
// Conv2D per group on a channel slice of the input, concatenated along the channels.
import { CallArgs, Layer, LayerArgs, Shape, singleInput, singleShape } from '../layers/base.js';
import { Conv2D } from '../layers/convolutional.js';
import { registerLayer } from '../layers/serialization.js';
import { check } from '../errors.js';
import { Tensor } from '../tensor.js';
import * as ops from '../ops/index.js';

/** Options of GroupedConv2D: Conv2D's (filters, kernelSize, strides, padding, activation) and groups. */
export interface GroupedConv2DArgs extends LayerArgs {
  /** Output channels in all (divisible by groups). */
  filters: number;
  /** Square kernel size. */
  kernelSize: number;
  /** Stride (default 1). */
  strides?: number;
  /** 'valid' (default) or 'same'. */
  padding?: 'valid' | 'same';
  /** Activation of every group (default linear). */
  activation?: string;
  /** Number of groups (default 2); input channels must divide by it too. */
  groups?: number;
}

/** groups x Conv2D(filters / groups) over groups channel slices, outputs concatenated. */
export class GroupedConv2D extends Layer {
  static className = 'GroupedConv2D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: 'valid' | 'same';
  readonly activation: string;
  readonly groups: number;
  readonly convs: Conv2D[];

  constructor(args: GroupedConv2DArgs) {
    super(args);
    const op = 'groupedConv2d';
    this.groups = args?.groups ?? 2;
    check(Number.isInteger(this.groups) && this.groups >= 1, op, 'groups a positive integer', args?.groups);
    check(Number.isInteger(args?.filters) && args.filters > 0 && args.filters % this.groups === 0, op, `filters a positive multiple of groups (${this.groups})`, args?.filters);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.strides = args.strides ?? 1;
    this.padding = args.padding ?? 'valid';
    this.activation = args.activation ?? 'linear';
    this.convs = Array.from(
      { length: this.groups },
      (_, g) => new Conv2D({ filters: this.filters / this.groups, kernelSize: this.kernelSize, strides: this.strides, padding: this.padding, activation: this.activation, name: `${this.name}_g${g}` }),
    );
  }

  build(inputShape: Shape | Shape[]): void {
    const s = singleShape(inputShape, this.name);
    check(s.length === 4 && s[3] !== null && (s[3] as number) % this.groups === 0, 'groupedConv2d', `NHWC input with channels divisible by ${this.groups} (layer '${this.name}')`, s);
    const part: Shape = [s[0], s[1], s[2], (s[3] as number) / this.groups];
    for (const c of this.convs) {
      c.build(part);
      c.built = true;
    }
    this.built = true;
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    const o = this.convs[0].computeOutputShape([s[0], s[1], s[2], s[3] === null ? null : (s[3] as number) / this.groups]) as Shape;
    return [o[0], o[1], o[2], this.filters];
  }

  call(inputs: Tensor | Tensor[], kwargs: CallArgs): Tensor {
    const x = singleInput(inputs, this.name);
    if (this.groups === 1) return this.convs[0].apply(x, kwargs);
    const parts = ops.split(x, this.groups, 3);
    return ops.concat(parts.map((p, g) => this.convs[g].apply(p, kwargs)), 3);
  }

  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, padding: this.padding, activation: this.activation, groups: this.groups };
  }
}
registerLayer(GroupedConv2D as never);
