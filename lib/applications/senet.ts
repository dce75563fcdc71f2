// Squeeze-and-excitation (Hu et al. 2018, "Squeeze-and-Excitation Networks"): the SEBlock
// layer (global average pooling, a dense reduction with ReLU, a dense expansion with sigmoid,
// channel-wise scaling of the input), usable on any NHWC feature map, and SE-ResNet-50 (an SE
// block on each bottleneck's residual branch before the addition, as the paper's Fig. 3).
import { CallArgs, Layer, LayerArgs, Shape, SymbolicTensor, singleInput, singleShape } from '../layers/base.js';
import { Dense } from '../layers/core.js';
import { registerLayer } from '../layers/serialization.js';
import { check } from '../errors.js';
import { LayersModel } from '../models/functional.js';
import { Tensor } from '../tensor.js';
import * as ops from '../ops/index.js';
import { ApplicationArgs } from './common.js';
import { resnetV1 } from './resnet.js';

/** Options of SEBlock: the reduction ratio r (default 16, the paper's choice). */
export interface SEBlockArgs extends LayerArgs {
  /** The excitation's bottleneck has max(1, floor(channels / ratio)) units (default 16). */
  ratio?: number;
}

/**
 * Squeeze-and-excitation on an NHWC input x of C channels: s = sigmoid(W2 relu(W1 mean_hw(x) +
 * b1) + b2), y = x * s per channel; W1 is C x C/r, W2 is C/r x C (2C^2/r + C/r + C parameters).
 */
export class SEBlock extends Layer {
  static className = 'SEBlock';
  readonly ratio: number;
  private squeeze?: Dense;
  private excite?: Dense;

  constructor(args: SEBlockArgs = {}) {
    super(args);
    this.ratio = args.ratio ?? 16;
    check(Number.isInteger(this.ratio) && this.ratio >= 1, 'seBlock', 'ratio a positive integer', args.ratio);
  }

  build(inputShape: Shape | Shape[]): void {
    const s = singleShape(inputShape, this.name);
    check(s.length === 4 && s[3] !== null, 'seBlock', `input of rank 4 (NHWC) with known channels (layer '${this.name}')`, s);
    const c = s[3] as number;
    const units = Math.max(1, Math.floor(c / this.ratio));
    this.squeeze = new Dense({ units, activation: 'relu', kernelInitializer: 'heNormal', name: `${this.name}_squeeze` });
    this.excite = new Dense({ units: c, activation: 'sigmoid', name: `${this.name}_excite` });
    this.squeeze.build([null, c]);
    this.squeeze.built = true;
    this.excite.build([null, units]);
    this.excite.built = true;
    this.built = true;
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape, this.name);
    check(s.length === 4, 'seBlock', `input of rank 4 (NHWC) (layer '${this.name}')`, s);
    return s;
  }

  call(inputs: Tensor | Tensor[], kwargs: CallArgs): Tensor {
    const x = singleInput(inputs, this.name);
    const z = ops.mean(x, [1, 2]);
    const s = this.excite!.apply(this.squeeze!.apply(z, kwargs), kwargs);
    return ops.mul(x, ops.reshape(s, [x.shape[0], 1, 1, x.shape[3]]));
  }

  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), ratio: this.ratio };
  }
}
registerLayer(SEBlock as never);

/** A new SEBlock layer: seBlock({ratio: 16}).apply(featureMap). */
export function seBlock(args: SEBlockArgs = {}): SEBlock {
  return new SEBlock(args);
}

/** Options of seResNet50: the application options plus the SE reduction ratio. */
export interface SEResNet50Args extends ApplicationArgs {
  /** Reduction ratio of every SE block (default 16). */
  ratio?: number;
}

/**
 * SE-ResNet-50 (Hu et al. 2018): keras.applications.ResNet50's layers (same names, so
 * resnet50 weights can seed it by name) with an SEBlock named `<block>_se` on each of the 16
 * bottleneck branches. The SE blocks add 2,530,992 parameters: with the top, 28,167,704 in
 * Keras' count (which has convolution biases and batch-norm moving statistics); the paper's
 * 28.09M is torchvision's ResNet-50 count (25,557,032) plus the same 2,530,992. No ImageNet
 * weights (weights: null or a file path).
 */
export function seResNet50(args: SEResNet50Args = {}): Promise<LayersModel> {
  const { ratio, ...rest } = args ?? {};
  const hook = (y: SymbolicTensor, name: string) => new SEBlock({ ratio, name: `${name}_se` }).apply(y);
  return resnetV1('se_resnet50', [3, 4, 6, 3], { name: 'se_resnet50', ...rest }, null, hook);
}
