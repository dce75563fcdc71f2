// ResNet-34 as the reference notebook builds it (Géron, HOML ch. 14): a Sequential of
// Conv 64 7x7/2 + BN + ReLU, MaxPool 3/2, then residual units [64]*3 + [128]*4 + [256]*6 +
// [512]*3 (stride 2 where the width changes, with a 1x1 conv + BN shortcut), global average
// pooling, Flatten and a dense softmax. ResidualUnit is a plain Layer subclass with nested
// layers, the notebook's custom layer.
import { Layer, LayerArgs, Shape, CallArgs, singleInput, singleShape } from '../layers/base.js';
import { activationName, getActivation } from '../layers/activations.js';
import { Activation, Dense, Flatten } from '../layers/core.js';
import { Conv2D } from '../layers/convolutional.js';
import { BatchNormalization } from '../layers/normalization.js';
import { GlobalAveragePooling2D, MaxPooling2D } from '../layers/pooling.js';
import { registerLayer } from '../layers/serialization.js';
import { check } from '../errors.js';
import { Sequential } from '../models/sequential.js';
import { Tensor } from '../tensor.js';
import * as ops from '../ops/index.js';

/** The notebook's DefaultConv2D: 3x3, stride 1, 'same', He-normal kernels, no bias. */
function defaultConv(filters: number, extra: { kernelSize?: number; strides?: number; inputShape?: Shape } = {}): Conv2D {
  return new Conv2D({ filters, kernelSize: extra.kernelSize ?? 3, strides: extra.strides ?? 1, padding: 'same', kernelInitializer: 'heNormal', useBias: false, inputShape: extra.inputShape });
}

/** Options of ResidualUnit: filters, stride of the first conv, activation ('relu'). */
export interface ResidualUnitArgs extends LayerArgs {
  filters: number;
  strides?: number;
  activation?: string;
}

/** conv-BN-act-conv-BN plus the (projected when strided) input, then the activation. */
export class ResidualUnit extends Layer {
  static className = 'ResidualUnit';
  readonly filters: number;
  readonly strides: number;
  readonly activation: string;
  readonly mainLayers: Layer[];
  readonly skipLayers: Layer[];

  constructor(args: ResidualUnitArgs) {
    super(args);
    check(Number.isInteger(args?.filters) && args.filters > 0, 'residualUnit', 'filters as a positive integer', args?.filters);
    this.filters = args.filters;
    this.strides = args.strides ?? 1;
    this.activation = activationName(args.activation ?? 'relu', 'residualUnit');
    this.mainLayers = [
      defaultConv(this.filters, { strides: this.strides }),
      new BatchNormalization(),
      new Activation({ activation: this.activation }),
      defaultConv(this.filters),
      new BatchNormalization(),
    ];
    this.skipLayers = this.strides > 1 ? [defaultConv(this.filters, { kernelSize: 1, strides: this.strides }), new BatchNormalization()] : [];
  }

  /** Builds the nested layers in order, so weights exist (and count) before the first call. */
  build(inputShape: Shape | Shape[]): void {
    const s0 = singleShape(inputShape, this.name);
    for (const list of [this.mainLayers, this.skipLayers]) {
      let s: Shape = s0;
      for (const l of list) {
        if (!l.built) {
          l.build(s);
          l.built = true;
        }
        s = l.computeOutputShape(s) as Shape;
      }
    }
    this.built = true;
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    let s = singleShape(inputShape, this.name);
    for (const l of this.mainLayers) s = l.computeOutputShape(s) as Shape;
    return s;
  }

  call(inputs: Tensor | Tensor[], kwargs: CallArgs): Tensor {
    const x = singleInput(inputs, this.name);
    let z = x;
    for (const l of this.mainLayers) z = l.apply(z, { training: kwargs.training });
    let skip = x;
    for (const l of this.skipLayers) skip = l.apply(skip, { training: kwargs.training });
    return getActivation(this.activation)(ops.add(z, skip));
  }

  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), filters: this.filters, strides: this.strides, activation: this.activation };
  }
}
registerLayer(ResidualUnit as never);

/** Options of resnet34(). */
export interface ResNet34Args {
  /** Image shape (default [224, 224, 3]). */
  inputShape?: Shape;
  /** Output classes (default 10, as in the notebook). */
  classes?: number;
  name?: string;
}

/** Builds the notebook's Sequential ResNet with `counts` residual units per stage (64, 128, 256, 512 filters). */
function basicResNet(app: string, counts: [number, number, number, number], args: ResNet34Args): Sequential {
  check(args === undefined || (args !== null && typeof args === 'object'), app, 'an options object', args);
  const classes = args.classes ?? 10;
  check(Number.isInteger(classes) && classes > 0, app, 'classes as a positive integer', args.classes);
  const model = new Sequential({
    name: args.name,
    layers: [
      defaultConv(64, { kernelSize: 7, strides: 2, inputShape: args.inputShape ?? [224, 224, 3] }),
      new BatchNormalization(),
      new Activation({ activation: 'relu' }),
      new MaxPooling2D({ poolSize: 3, strides: 2, padding: 'same' }),
    ],
  });
  let prev = 64;
  const widths = [64, 128, 256, 512].flatMap((f, i) => Array<number>(counts[i]).fill(f));
  for (const filters of widths) {
    model.add(new ResidualUnit({ filters, strides: filters === prev ? 1 : 2 }));
    prev = filters;
  }
  model.add(new GlobalAveragePooling2D());
  model.add(new Flatten());
  model.add(new Dense({ units: classes, activation: 'softmax', dtype: 'float32' })); // Note [float32 heads] (pipelines.ts)
  return model;
}

/** The notebook's ResNet-34 (a Sequential; no pretrained weights): [3, 4, 6, 3] residual units. */
export function resnet34(args: ResNet34Args = {}): Sequential {
  return basicResNet('resnet34', [3, 4, 6, 3], args);
}

/**
 * ResNet-18 (He et al. 2015, Table 1: [2, 2, 2, 2] basic blocks of two 3x3 convolutions), built
 * as the notebook builds ResNet-34 (bias-free convolutions, batch norm, 1x1 conv + BN projection
 * where the width changes). With classes 1000: 11,689,512 trainable parameters (the paper's
 * 1.8 GFLOPs network; torchvision's resnet18 has the same count), plus 9,600 batch-norm moving
 * statistics that Keras counts as non-trainable.
 */
export function resnet18(args: ResNet34Args = {}): Sequential {
  return basicResNet('resnet18', [2, 2, 2, 2], args);
}
