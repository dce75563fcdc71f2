// Conv2DTranspose (NHWC): the transposed ("deconvolution") 2-D convolution layer, kernel
// [kh, kw, filters, inChannels] as tfjs and Keras, on the conv2dTranspose op.
import { InvalidArgumentError } from '../errors.js';
import * as ops from '../ops/index.js';
import { Tensor } from '../tensor.js';
import { CallArgs, Shape, formatShape, singleInput } from './base.js';
import { Conv2D, Conv2DLayerArgs } from './convolutional.js';
import { applyActivation } from './core.js';

/** Output size of one spatial dimension of a transposed convolution (tfjs' deconvLength). */
export function deconvLength(n: number | null, stride: number, k: number, padding: 'valid' | 'same'): number | null {
  if (n === null) return null;
  return padding === 'valid' ? n * stride + Math.max(k - stride, 0) : n * stride;
}

/** Arguments of Conv2DTranspose / layers.conv2dTranspose(): Conv2D's, without dilationRate. */
export type Conv2DTransposeLayerArgs = Omit<Conv2DLayerArgs, 'dilationRate'>;

/** Transposed 2-D convolution: [b, h, w, c] -> [b, h * sh (+ kernel overhang if 'valid'), w * sw (...), filters]. */
export class Conv2DTranspose extends Conv2D {
  static className = 'Conv2DTranspose';

  constructor(args: Conv2DTransposeLayerArgs) {
    super({ ...args, dilationRate: undefined } as Conv2DLayerArgs);
    const d = (args as { dilationRate?: number | number[] }).dilationRate;
    if (d !== undefined && d !== 1 && !(Array.isArray(d) && d.every((v) => v === 1)))
      throw new InvalidArgumentError(`conv2dTranspose: expected no dilationRate (1) but received ${JSON.stringify(d)}`);
  }

  build(inputShape: Shape | Shape[]): void {
    const s = this.inputShape4(inputShape);
    this.kernel = this.addWeight('kernel', [...this.kernelSize, this.filters, s[3] as number], 'float32', this.kernelInitializer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', this.biasInitializer);
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = this.inputShape4(inputShape);
    if (this.kernel && this.kernel.shape[3] !== s[3])
      throw new InvalidArgumentError(`conv2dTranspose: expected input with ${this.kernel.shape[3]} channels but received shape ${formatShape(s)} (layer '${this.name}')`);
    const [kh, kw] = this.kernelSize, [sh, sw] = this.strides;
    return [s[0], deconvLength(s[1], sh, kh, this.padding), deconvLength(s[2], sw, kw, this.padding), this.filters];
  }

  call(inputs: Tensor | Tensor[], kwargs: CallArgs): Tensor {
    const x = singleInput(inputs, this.name);
    const out = this.computeOutputShape(x.shape) as number[];
    let y = ops.conv2dTranspose(x, this.computeValue(this.kernel!), out, this.strides, this.padding);
    if (this.bias) y = ops.add(y, this.bias);
    return applyActivation(y, this.activation, kwargs);
  }

  getConfig(): Record<string, unknown> {
    const c = super.getConfig();
    delete c.dilationRate;
    return c;
  }
}
